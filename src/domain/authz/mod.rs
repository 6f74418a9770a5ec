//! Who may do what: the authorization core both dialects share, as pure functions.
//!
//! - `policy`, `condition`, `wildcard`: the policy language of both clouds.
//! - `action`: the core's actions, with each cloud's IAM names.
//! - `evaluate`: the one decision (identity policies, key policy, grants).
//! - `grants`: grants as a path to a key, and what a grantee may pass on.
//! - `huawei`, `aws`: each cloud's documented extra rules, on top of the decision.
//! - this module: which keys a caller can see at all (404 / NotFound otherwise).
//!
//! The store runs the grant decisions inside the transaction that holds the rows
//! locked, so a decision and the write it permits are never separated.

pub mod action;
pub mod aws;
pub mod condition;
pub mod evaluate;
pub mod grants;
pub mod huawei;
pub mod policy;
pub mod system;
pub mod wildcard;

#[cfg(test)]
mod tests;

pub use action::Action;
pub use evaluate::{
    Allowed, Denial, DenialBasis, DenialScope, IdentityPolicies, KeyFacts, KeyPolicy,
    NewGrantFacts, Request, authorize,
};

use crate::domain::{Caller, Grant, GrantId, Key, KeyRef, KmsError, region};

/// How a request names its key, which decides who can see that it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyNaming {
    /// Huawei: a key ID, in the project of the request's URL. The key is seen by users
    /// of its project, and elsewhere only by those a grant or the key policy names.
    InProject,
    /// AWS: a key ID or key ARN, resolved to the account (domain ID) it names: a bare
    /// ID names the caller's own account; `None` is an account this emulator does not
    /// know. A key of another account is not that key.
    InAccount(Option<String>),
    /// A ciphertext or grant token this service issued, which names its key fully: the
    /// key is seen by its account and by those a grant or the key policy names.
    Issued,
}

/// Whether the caller has some standing with the key: a grant naming it as grantee, the
/// named grant naming it in any role, or the key policy naming it or its account.
fn has_standing(
    caller: &Caller,
    key: &Key,
    policy: &KeyPolicy,
    grants: &[Grant],
    named_grant: Option<&Grant>,
) -> bool {
    grants::held(caller, key, grants).next().is_some()
        || named_grant.is_some_and(|g| g.key_id == key.key_id && grants::is_party(caller, g))
        || match policy {
            KeyPolicy::Default => false,
            KeyPolicy::Custom(document) => document.named_principals().any(|p| {
                p == caller.aws_arn
                    || p == caller.aws_account
                    || p == format!("arn:aws:iam::{}:root", caller.aws_account)
            }),
        }
}

/// The key a request names, if the caller may know it exists; otherwise the same
/// answer a missing key gets, so IDs reveal nothing to strangers: "does not exist", or
/// (AWS, a key ARN of another account) the AccessDenied that says neither.
pub fn locate<'k>(
    caller: &Caller,
    action: Action,
    key_ref: &KeyRef,
    key: Option<&'k Key>,
    policy: &KeyPolicy,
    grants: &[Grant],
    named_grant: Option<&Grant>,
) -> Result<&'k Key, KmsError> {
    let (key_id, naming) = (&key_ref.id, &key_ref.naming);
    let not_found = || KmsError::KeyNotFound(format!("no key {key_id} is visible to you."));
    // A key of another region is missing from this one, whoever asks and however named.
    let key = key.filter(|key| region::key_visible_in(&key.region, &caller.region));
    if let KeyNaming::InAccount(account) = naming
        && account.as_deref() != Some(caller.domain_id.as_str())
    {
        return match key {
            Some(key) if account.as_deref() == Some(key.domain_id.as_str()) => Ok(key),
            _ => Err(KmsError::AccessDenied(Denial::foreign(action, key_id))),
        };
    }
    let key = key.ok_or_else(not_found)?;
    let visible = match naming {
        KeyNaming::InProject => {
            key.project_id == caller.project_id
                || has_standing(caller, key, policy, grants, named_grant)
        }
        KeyNaming::InAccount(domain_id) => domain_id.as_deref() == Some(key.domain_id.as_str()),
        KeyNaming::Issued => {
            key.domain_id == caller.domain_id
                || has_standing(caller, key, policy, grants, named_grant)
        }
    };
    if visible { Ok(key) } else { Err(not_found()) }
}

/// The answer for a grant a revoke or retire names that is missing, or that belongs to
/// another key: "grant of another key" only when the caller could see that key's grant
/// anyway (same account); to anyone else it is the unknown grant it would otherwise be.
pub fn named_grant<'g>(
    caller: &Caller,
    key: &Key,
    grant_id: &GrantId,
    grant: Option<&'g Grant>,
    grant_key_domain: Option<&str>,
) -> Result<&'g Grant, KmsError> {
    match grant {
        Some(grant) if grant.key_id == key.key_id => Ok(grant),
        Some(grant) if grant_key_domain == Some(caller.domain_id.as_str()) => {
            Err(KmsError::GrantKeyMismatch {
                grant_id: grant.grant_id.to_string(),
                key_id: key.key_id.to_string(),
            })
        }
        _ => Err(KmsError::GrantNotFound(grant_id.to_string())),
    }
}
