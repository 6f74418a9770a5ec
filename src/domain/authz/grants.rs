//! Grants as a path to a key: who a grant names, what it allows, and what a grantee
//! may pass on. The same rules for grants made through either dialect.

use std::collections::BTreeMap;

use super::Action;
use crate::domain::{Caller, ContextConstraint, Grant, GrantOperation, GranteeType, Key};

/// Whether `caller` is the grant's grantee: the user it names, or any user of the
/// account it names (`domain` grants). A user ID is never compared with an account ID.
pub fn is_grantee(caller: &Caller, grant: &Grant) -> bool {
    match grant.grantee_principal_type {
        GranteeType::User => grant.grantee_principal == caller.user_id,
        GranteeType::Domain => grant.grantee_principal == caller.domain_id,
    }
}

/// Whether `caller` is the grant's retiring principal (the user it names, or any user of
/// the account it names).
pub fn is_retiring_principal(caller: &Caller, grant: &Grant) -> bool {
    match (&grant.retiring_principal, grant.retiring_principal_type) {
        (Some(id), GranteeType::User) => *id == caller.user_id,
        (Some(id), GranteeType::Domain) => *id == caller.domain_id,
        (None, _) => false,
    }
}

pub fn is_issuer(caller: &Caller, grant: &Grant) -> bool {
    grant.issuing_principal == caller.user_id
}

/// Whether the caller appears in the grant in any role.
pub fn is_party(caller: &Caller, grant: &Grant) -> bool {
    is_issuer(caller, grant) || is_retiring_principal(caller, grant) || is_grantee(caller, grant)
}

/// The caller's live grants on `key`, as grantee.
pub fn held<'g>(
    caller: &Caller,
    key: &Key,
    grants: &'g [Grant],
) -> impl Iterator<Item = &'g Grant> {
    grants
        .iter()
        .filter(move |g| g.key_id == key.key_id && is_grantee(caller, g))
}

/// A grant's answer for one use of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantAnswer {
    Allows,
    /// A grant holds the operation, but its constraint refuses the request's context.
    WrongContext,
    /// No grant of the caller holds the operation.
    LacksOperation,
    /// The caller holds no grant on the key.
    None,
}

/// Whether the caller's grants on `key` allow `action` for a request whose encryption
/// context is `context` (string pairs; `None` when the request carries none in that
/// form, which no constraint accepts).
pub fn grant_answer(
    caller: &Caller,
    key: &Key,
    grants: &[Grant],
    action: Action,
    context: Option<&BTreeMap<String, String>>,
) -> GrantAnswer {
    let mine: Vec<&Grant> = held(caller, key, grants).collect();
    if mine.is_empty() {
        return GrantAnswer::None;
    }
    let Some(operation) = action.grant_operation() else {
        return GrantAnswer::LacksOperation;
    };
    if mine
        .iter()
        .any(|g| g.allows_with_context(operation, context))
    {
        GrantAnswer::Allows
    } else if mine.iter().any(|g| g.allows(operation)) {
        GrantAnswer::WrongContext
    } else {
        GrantAnswer::LacksOperation
    }
}

/// Whether a grant with constraint `child` allows no more than one with `parent`:
/// a Subset may narrow to a larger Subset or to an Equals containing it, an Equals stays
/// as it is, and a constraint is never dropped.
pub fn is_at_least_as_strict(
    child: Option<&ContextConstraint>,
    parent: Option<&ContextConstraint>,
) -> bool {
    use ContextConstraint::{Equals, Subset};
    let contains = |larger: &BTreeMap<String, String>, smaller: &BTreeMap<String, String>| {
        smaller.iter().all(|(k, v)| larger.get(k) == Some(v))
    };
    match (child, parent) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(Subset(c) | Equals(c)), Some(Subset(p))) => contains(c, p),
        (Some(Equals(c)), Some(Equals(p))) => c == p,
        (Some(Subset(_)), Some(Equals(_))) => false,
    }
}

/// The grant through which a grantee may create a sub-grant: one grant of the caller's
/// on the key that holds CreateGrant and every requested operation, with a constraint
/// the new grant's is at least as strict as. Operations of several grants are never
/// combined, and a constraint travels with every sub-grant, whichever API made either.
pub fn parent_for_sub_grant<'g>(
    caller: &Caller,
    key: &Key,
    grants: &'g [Grant],
    requested: &[GrantOperation],
    constraint: Option<&ContextConstraint>,
) -> Option<&'g Grant> {
    held(caller, key, grants).find(|g| {
        g.allows(GrantOperation::CreateGrant)
            && requested.iter().all(|op| g.allows(*op))
            && is_at_least_as_strict(constraint, g.constraint.as_ref())
    })
}
