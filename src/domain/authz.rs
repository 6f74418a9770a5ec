//! Who may do what with a key and its grants: pure functions over stored state.
//!
//! The store calls these inside the transaction that holds the rows locked, so a
//! decision and the write it permits can never be separated by a concurrent change.
//!
//! Choices where the Huawei/OTC documentation is silent (spec §15), made so a real
//! client is least surprised:
//! - The *owner side* of a key is every user of the project that holds it: they may
//!   describe it, list and create its grants and use it. Only the key's creator may
//!   revoke its grants (the documented rule for revoke-grant).
//! - Anyone else reaches a key only through a live grant that names them (as grantee,
//!   by user ID or by account ID for `domain` grants). To everyone else the key does
//!   not exist (404 KMS.0207), so IDs in other projects reveal nothing.
//! - A grantee holding `create-grant` may grant only operations it holds itself.
//! - A grant can be retired by its issuer, its retiring principal, or its grantee when
//!   the grant includes `retire-grant`; those parties see the key for that purpose
//!   even from another project.

use std::collections::BTreeMap;

use super::{Caller, ContextConstraint, Grant, GrantOperation, GranteeType, Key, KeyId, KmsError};

pub fn is_owner_side(caller: &Caller, key: &Key) -> bool {
    key.project_id == caller.project_id
}

pub fn is_key_creator(caller: &Caller, key: &Key) -> bool {
    key.creator_user_id == caller.user_id && key.domain_id == caller.domain_id
}

pub fn is_grantee(caller: &Caller, grant: &Grant) -> bool {
    match grant.grantee_principal_type {
        GranteeType::User => grant.grantee_principal == caller.user_id,
        GranteeType::Domain => grant.grantee_principal == caller.domain_id,
    }
}

pub fn is_retiring_principal(caller: &Caller, grant: &Grant) -> bool {
    grant.retiring_principal.as_deref() == Some(caller.user_id.as_str())
}

pub fn is_issuer(caller: &Caller, grant: &Grant) -> bool {
    grant.issuing_principal == caller.user_id
}

fn may_retire(caller: &Caller, grant: &Grant) -> bool {
    is_issuer(caller, grant)
        || is_retiring_principal(caller, grant)
        || (is_grantee(caller, grant) && grant.allows(GrantOperation::RetireGrant))
}

fn is_party(caller: &Caller, grant: &Grant) -> bool {
    is_issuer(caller, grant) || is_retiring_principal(caller, grant) || is_grantee(caller, grant)
}

fn key_not_found(key_id: &KeyId) -> KmsError {
    KmsError::KeyNotFound(format!(
        "no key {key_id} is visible to you in this project."
    ))
}

fn grant_not_found(grant_id: &str) -> KmsError {
    KmsError::GrantNotFound(grant_id.to_owned())
}

/// The key that a request names, if the caller may see it at all.
fn visible_key<'k>(
    caller: &Caller,
    key_id: &KeyId,
    key: Option<&'k Key>,
) -> Result<&'k Key, KmsError> {
    match key {
        Some(key) if is_owner_side(caller, key) => Ok(key),
        _ => Err(key_not_found(key_id)),
    }
}

/// revoke-grant: only the user who created the key.
pub fn decide_revoke(
    caller: &Caller,
    key_id: &KeyId,
    grant_id: &str,
    key: Option<&Key>,
    grant: Option<&Grant>,
) -> Result<(), KmsError> {
    let key = visible_key(caller, key_id, key)?;
    let grant = grant.ok_or_else(|| grant_not_found(grant_id))?;
    if grant.key_id != key.key_id {
        return Err(KmsError::GrantKeyMismatch {
            grant_id: grant.grant_id.to_string(),
            key_id: key.key_id.to_string(),
        });
    }
    if !is_key_creator(caller, key) {
        return Err(KmsError::AccessDenied(format!(
            "only the user who created key {} may revoke its grants; a retiring principal or grantee may use retire-grant instead.",
            key.key_id
        )));
    }
    Ok(())
}

/// retire-grant: the issuer, the retiring principal, or a grantee holding `retire-grant`.
pub fn decide_retire(
    caller: &Caller,
    key_id: &KeyId,
    grant_id: &str,
    key: Option<&Key>,
    grant: Option<&Grant>,
) -> Result<(), KmsError> {
    let Some(key) = key else {
        return Err(key_not_found(key_id));
    };
    let grant_on_key = grant.filter(|g| g.key_id == key.key_id);
    let caller_is_party = grant_on_key.is_some_and(|g| is_party(caller, g));
    if !is_owner_side(caller, key) && !caller_is_party {
        return Err(key_not_found(key_id));
    }
    let grant = grant.ok_or_else(|| grant_not_found(grant_id))?;
    if grant.key_id != key.key_id {
        return Err(KmsError::GrantKeyMismatch {
            grant_id: grant.grant_id.to_string(),
            key_id: key.key_id.to_string(),
        });
    }
    if !may_retire(caller, grant) {
        let why = if is_grantee(caller, grant) {
            "the grant does not include the retire-grant operation, so its grantee may not retire it"
        } else {
            "only the grant's issuer, its retiring principal, or a grantee holding retire-grant may retire it; the key's creator may revoke it instead"
        };
        return Err(KmsError::AccessDenied(format!(
            "{why} (grant {}).",
            grant.grant_id
        )));
    }
    Ok(())
}

/// Lifecycle changes (enable, disable, schedule and cancel deletion): the owner side.
/// Grants never confer them.
pub fn decide_key_admin(
    caller: &Caller,
    key_id: &KeyId,
    key: Option<&Key>,
) -> Result<(), KmsError> {
    visible_key(caller, key_id, key).map(|_| ())
}

/// list-grants: the owner side of the key.
pub fn decide_list_grants(
    caller: &Caller,
    key_id: &KeyId,
    key: Option<&Key>,
) -> Result<(), KmsError> {
    visible_key(caller, key_id, key).map(|_| ())
}

/// Using a key for `operation` (describe-key and, with the cryptography, the data
/// operations): the owner side, or a grantee through a live grant holding it.
/// `callers_grants` are the grants on this key that name the caller as grantee.
/// Grants with an AWS encryption-context constraint never match here: use
/// `decide_key_use_in_context` where the request's context is known.
pub fn decide_key_use(
    caller: &Caller,
    key_id: &KeyId,
    key: Option<&Key>,
    callers_grants: &[Grant],
    operation: GrantOperation,
) -> Result<(), KmsError> {
    decide_key_use_in_context(caller, key_id, key, callers_grants, operation, None)
}

/// As `decide_key_use`, for a request whose encryption context is `context` (string
/// pairs; `None` when there is none in that form). A grant allows the use only when it
/// holds `operation` and its constraint, if any, accepts the context, so a grant made
/// in either dialect is enforced in both.
pub fn decide_key_use_in_context(
    caller: &Caller,
    key_id: &KeyId,
    key: Option<&Key>,
    callers_grants: &[Grant],
    operation: GrantOperation,
    context: Option<&BTreeMap<String, String>>,
) -> Result<(), KmsError> {
    let Some(key) = key else {
        return Err(key_not_found(key_id));
    };
    if is_owner_side(caller, key) {
        return Ok(());
    }
    let mine: Vec<&Grant> = callers_grants
        .iter()
        .filter(|g| g.key_id == key.key_id && is_grantee(caller, g))
        .collect();
    if mine.is_empty() {
        return Err(key_not_found(key_id));
    }
    if mine
        .iter()
        .any(|g| g.allows_with_context(operation, context))
    {
        Ok(())
    } else if mine.iter().any(|g| g.allows(operation)) {
        Err(KmsError::AccessDenied(format!(
            "your grants on key {} allow {operation} only with another encryption context.",
            key.key_id
        )))
    } else {
        Err(KmsError::AccessDenied(format!(
            "none of your grants on key {} allows {operation}.",
            key.key_id
        )))
    }
}

/// AWS RevokeGrant: any principal of the key's account (here: the owner side of the
/// key), since this emulator has no IAM policies and AWS's default key policy gives
/// the account full access. A grantee from elsewhere learns that it may not; anyone
/// else is told the key does not exist.
pub fn decide_revoke_aws(
    caller: &Caller,
    key_id: &KeyId,
    grant_id: &str,
    key: Option<&Key>,
    grant: Option<&Grant>,
) -> Result<(), KmsError> {
    let Some(key) = key else {
        return Err(key_not_found(key_id));
    };
    let grant_on_key = grant.filter(|g| g.key_id == key.key_id);
    if !is_owner_side(caller, key) {
        return if grant_on_key.is_some_and(|g| is_party_aws(caller, g)) {
            Err(KmsError::AccessDenied(format!(
                "only principals of the account that owns key {} may revoke its grants; a retiring principal or grantee holding RetireGrant may retire the grant instead.",
                key.key_id
            )))
        } else {
            Err(key_not_found(key_id))
        };
    }
    grant_on_key.ok_or_else(|| grant_not_found(grant_id))?;
    Ok(())
}

/// The retiring principal in the AWS dialect may also be a whole account (stored as
/// its domain ID, from `arn:aws:iam::ACCOUNT:root`).
fn is_retiring_principal_aws(caller: &Caller, grant: &Grant) -> bool {
    is_retiring_principal(caller, grant)
        || grant.retiring_principal.as_deref() == Some(caller.domain_id.as_str())
}

fn is_party_aws(caller: &Caller, grant: &Grant) -> bool {
    is_retiring_principal_aws(caller, grant) || is_grantee(caller, grant)
}

/// AWS RetireGrant: the retiring principal, the grantee when the grant includes
/// RetireGrant, or a principal of the key's account.
pub fn decide_retire_aws(
    caller: &Caller,
    key_id: &KeyId,
    grant_id: &str,
    key: Option<&Key>,
    grant: Option<&Grant>,
) -> Result<(), KmsError> {
    let Some(key) = key else {
        return Err(key_not_found(key_id));
    };
    let grant_on_key = grant.filter(|g| g.key_id == key.key_id);
    let owner = is_owner_side(caller, key);
    if !owner && !grant_on_key.is_some_and(|g| is_party_aws(caller, g)) {
        return Err(key_not_found(key_id));
    }
    let grant = grant_on_key.ok_or_else(|| grant_not_found(grant_id))?;
    if owner
        || is_retiring_principal_aws(caller, grant)
        || (is_grantee(caller, grant) && grant.allows(GrantOperation::RetireGrant))
    {
        Ok(())
    } else {
        Err(KmsError::AccessDenied(format!(
            "the grant does not include the RetireGrant operation, so its grantee may not retire it (grant {}).",
            grant.grant_id
        )))
    }
}

/// Whether a grant with constraint `child` allows no more than one with `parent`:
/// AWS lets a grantee narrow a Subset to a larger Subset or to an Equals containing
/// it, keep an Equals as it is, and never drop a constraint.
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

/// AWS CreateGrant: the key's account, or a grantee through one grant that holds
/// CreateGrant and every requested operation, whose constraint the new grant's is at
/// least as strict as (AWS: a grantee may only pass on what one grant gives it).
/// New grants need an enabled key.
pub fn decide_create_grant_aws(
    caller: &Caller,
    key_id: &KeyId,
    key: Option<&Key>,
    callers_grants: &[Grant],
    requested: &[GrantOperation],
    constraint: Option<&ContextConstraint>,
) -> Result<(), KmsError> {
    decide_key_use(
        caller,
        key_id,
        key,
        callers_grants,
        GrantOperation::CreateGrant,
    )?;
    let key = key.expect("decide_key_use found the key");
    if !is_owner_side(caller, key) {
        let parent = callers_grants.iter().find(|g| {
            g.key_id == key.key_id
                && is_grantee(caller, g)
                && g.allows(GrantOperation::CreateGrant)
                && requested.iter().all(|op| g.allows(*op))
                && is_at_least_as_strict(constraint, g.constraint.as_ref())
        });
        if parent.is_none() {
            return Err(KmsError::AccessDenied(format!(
                "no single grant of yours on key {} holds CreateGrant and every requested operation with constraints no stricter than the new grant's.",
                key.key_id
            )));
        }
    }
    key.key_state.ensure_usable()
}

/// create-grant: the owner side, or a grantee holding `create-grant` and every
/// requested operation. New grants need an enabled key.
pub fn decide_create_grant(
    caller: &Caller,
    key_id: &KeyId,
    key: Option<&Key>,
    callers_grants: &[Grant],
    requested: &[GrantOperation],
) -> Result<(), KmsError> {
    decide_key_use(
        caller,
        key_id,
        key,
        callers_grants,
        GrantOperation::CreateGrant,
    )?;
    let key = key.expect("decide_key_use found the key");
    if !is_owner_side(caller, key) {
        let held: Vec<GrantOperation> = callers_grants
            .iter()
            .filter(|g| g.key_id == key.key_id && is_grantee(caller, g))
            .flat_map(|g| g.operations.iter().copied())
            .collect();
        if let Some(missing) = requested.iter().find(|op| !held.contains(op)) {
            return Err(KmsError::AccessDenied(format!(
                "you may grant only operations your own grants on key {} allow; {missing} is not among them.",
                key.key_id
            )));
        }
    }
    key.key_state.ensure_usable()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{GrantId, KeyState};

    const PROJECT: &str = "p1";
    const OTHER_PROJECT: &str = "p2";

    fn caller(user: &str, project: &str) -> Caller {
        Caller {
            user_id: user.into(),
            user_name: user.into(),
            domain_id: if project == PROJECT {
                "d1".into()
            } else {
                "d2".into()
            },
            project_id: project.into(),
            request_id: "req-1".into(),
        }
    }

    fn key() -> Key {
        Key {
            key_id: KeyId::parse("0d0466b0-e727-4d9c-b35d-f84bb474a37f").unwrap(),
            project_id: PROJECT.into(),
            domain_id: "d1".into(),
            creator_user_id: "creator".into(),
            key_alias: "k".into(),
            key_description: String::new(),
            key_spec: "AES_256".into(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            origin: "kms".into(),
            key_state: KeyState::Enabled,
            creation_date: 0,
            scheduled_deletion_date: None,
            wrapped_material: None,
        }
    }

    fn other_key_id() -> KeyId {
        KeyId::parse("bb6a3d22-dc93-47ac-b5bd-88df7ad35f1e").unwrap()
    }

    fn grant(ops: &[GrantOperation]) -> Grant {
        Grant {
            grant_id: GrantId::parse(&"a".repeat(64)).unwrap(),
            key_id: key().key_id,
            grantee_principal: "grantee".into(),
            grantee_principal_type: GranteeType::User,
            operations: ops.to_vec(),
            issuing_principal: "issuer".into(),
            retiring_principal: Some("retirer".into()),
            name: None,
            creation_date: 0,
            constraint: None,
        }
    }

    use GrantOperation::*;

    fn revoke(who: &Caller, g: &Grant) -> Result<(), KmsError> {
        let k = key();
        decide_revoke(who, &k.key_id, g.grant_id.as_str(), Some(&k), Some(g))
    }

    fn retire(who: &Caller, g: &Grant) -> Result<(), KmsError> {
        let k = key();
        decide_retire(who, &k.key_id, g.grant_id.as_str(), Some(&k), Some(g))
    }

    fn denied(r: Result<(), KmsError>) -> bool {
        matches!(r, Err(KmsError::AccessDenied(_)))
    }

    fn not_found(r: Result<(), KmsError>) -> bool {
        matches!(r, Err(KmsError::KeyNotFound(_)))
    }

    // The authorization matrix, one row per role, for revoke and for retire.

    #[test]
    fn key_creator_may_revoke_but_retires_only_as_a_party() {
        let g = grant(&[EncryptData]);
        assert_eq!(revoke(&caller("creator", PROJECT), &g), Ok(()));
        assert!(denied(retire(&caller("creator", PROJECT), &g)));
    }

    #[test]
    fn issuer_may_retire_but_not_revoke() {
        let g = grant(&[EncryptData]);
        assert!(denied(revoke(&caller("issuer", PROJECT), &g)));
        assert_eq!(retire(&caller("issuer", PROJECT), &g), Ok(()));
    }

    #[test]
    fn retiring_principal_may_retire_but_not_revoke() {
        let g = grant(&[EncryptData]);
        assert!(denied(revoke(&caller("retirer", PROJECT), &g)));
        assert_eq!(retire(&caller("retirer", PROJECT), &g), Ok(()));
    }

    #[test]
    fn retiring_principal_in_another_project_may_retire() {
        let g = grant(&[EncryptData]);
        assert_eq!(retire(&caller("retirer", OTHER_PROJECT), &g), Ok(()));
        assert!(not_found(revoke(&caller("retirer", OTHER_PROJECT), &g)));
    }

    #[test]
    fn grantee_may_retire_only_with_retire_grant() {
        let without = grant(&[EncryptData]);
        let with = grant(&[EncryptData, RetireGrant]);
        assert!(denied(retire(&caller("grantee", PROJECT), &without)));
        assert_eq!(retire(&caller("grantee", PROJECT), &with), Ok(()));
        assert!(denied(revoke(&caller("grantee", PROJECT), &with)));
    }

    #[test]
    fn grantee_in_another_project_sees_the_key_through_its_grant() {
        let without = grant(&[EncryptData]);
        let with = grant(&[EncryptData, RetireGrant]);
        assert!(denied(retire(&caller("grantee", OTHER_PROJECT), &without)));
        assert_eq!(retire(&caller("grantee", OTHER_PROJECT), &with), Ok(()));
    }

    #[test]
    fn domain_grantee_matches_every_user_of_the_account() {
        let mut g = grant(&[RetireGrant]);
        g.grantee_principal = "d2".into();
        g.grantee_principal_type = GranteeType::Domain;
        assert_eq!(retire(&caller("anyone", OTHER_PROJECT), &g), Ok(()));
        // A user whose ID equals the account ID of a domain grant is not thereby the grantee.
        g.grantee_principal = "grantee".into();
        assert!(not_found(retire(&caller("grantee", OTHER_PROJECT), &g)));
    }

    #[test]
    fn another_user_of_the_same_project_may_do_neither() {
        let g = grant(&[EncryptData, RetireGrant]);
        assert!(denied(revoke(&caller("someone", PROJECT), &g)));
        assert!(denied(retire(&caller("someone", PROJECT), &g)));
    }

    #[test]
    fn a_user_of_another_project_does_not_see_the_key() {
        let g = grant(&[EncryptData, RetireGrant]);
        assert!(not_found(revoke(&caller("someone", OTHER_PROJECT), &g)));
        assert!(not_found(retire(&caller("someone", OTHER_PROJECT), &g)));
        // Even the key's creator, when calling from another project scope.
        assert!(not_found(revoke(&caller("creator", OTHER_PROJECT), &g)));
    }

    #[test]
    fn unknown_key_is_not_found_for_everyone() {
        let k = key();
        for who in ["creator", "issuer", "retirer", "grantee"] {
            let c = caller(who, PROJECT);
            assert!(not_found(decide_revoke(&c, &k.key_id, "g", None, None)));
            assert!(not_found(decide_retire(
                &c,
                &k.key_id,
                "g",
                None,
                Some(&grant(&[RetireGrant]))
            )));
        }
    }

    #[test]
    fn unknown_grant_on_a_visible_key_is_grant_not_found() {
        let k = key();
        let c = caller("creator", PROJECT);
        assert_eq!(
            decide_revoke(&c, &k.key_id, "abc", Some(&k), None),
            Err(KmsError::GrantNotFound("abc".into()))
        );
        assert_eq!(
            decide_retire(&c, &k.key_id, "abc", Some(&k), None),
            Err(KmsError::GrantNotFound("abc".into()))
        );
        // From another project an unknown grant does not reveal that the key exists.
        let stranger = caller("retirer", OTHER_PROJECT);
        assert!(not_found(decide_retire(
            &stranger,
            &k.key_id,
            "abc",
            Some(&k),
            None
        )));
    }

    #[test]
    fn grant_of_another_key_is_a_mismatch_for_the_owner_side() {
        let k = key();
        let mut g = grant(&[RetireGrant]);
        g.key_id = other_key_id();
        let c = caller("creator", PROJECT);
        assert!(matches!(
            decide_revoke(&c, &k.key_id, g.grant_id.as_str(), Some(&k), Some(&g)),
            Err(KmsError::GrantKeyMismatch { .. })
        ));
        assert!(matches!(
            decide_retire(
                &caller("issuer", PROJECT),
                &k.key_id,
                g.grant_id.as_str(),
                Some(&k),
                Some(&g)
            ),
            Err(KmsError::GrantKeyMismatch { .. })
        ));
        // A party calling from another project, naming the wrong key, sees no key.
        assert!(not_found(decide_retire(
            &caller("retirer", OTHER_PROJECT),
            &k.key_id,
            g.grant_id.as_str(),
            Some(&k),
            Some(&g)
        )));
    }

    #[test]
    fn key_state_never_blocks_revoke_or_retire() {
        for state in [
            KeyState::Disabled,
            KeyState::PendingDeletion,
            KeyState::PendingImport,
        ] {
            let mut k = key();
            k.key_state = state;
            let g = grant(&[RetireGrant]);
            assert_eq!(
                decide_revoke(
                    &caller("creator", PROJECT),
                    &k.key_id,
                    "g",
                    Some(&k),
                    Some(&g)
                ),
                Ok(())
            );
            assert_eq!(
                decide_retire(
                    &caller("retirer", PROJECT),
                    &k.key_id,
                    "g",
                    Some(&k),
                    Some(&g)
                ),
                Ok(())
            );
        }
    }

    #[test]
    fn key_administration_is_for_the_owner_side_only() {
        let k = key();
        assert_eq!(
            decide_key_admin(&caller("someone", PROJECT), &k.key_id, Some(&k)),
            Ok(())
        );
        assert!(not_found(decide_key_admin(
            &caller("grantee", OTHER_PROJECT),
            &k.key_id,
            Some(&k)
        )));
    }

    #[test]
    fn list_grants_is_for_the_owner_side_only() {
        let k = key();
        assert_eq!(
            decide_list_grants(&caller("someone", PROJECT), &k.key_id, Some(&k)),
            Ok(())
        );
        assert!(not_found(decide_list_grants(
            &caller("grantee", OTHER_PROJECT),
            &k.key_id,
            Some(&k)
        )));
        assert!(not_found(decide_list_grants(
            &caller("creator", PROJECT),
            &k.key_id,
            None
        )));
    }

    #[test]
    fn key_use_by_owner_side_or_by_a_grant_holding_the_operation() {
        let k = key();
        let g = grant(&[DescribeKey]);
        let grantee = caller("grantee", OTHER_PROJECT);
        assert_eq!(
            decide_key_use(
                &caller("someone", PROJECT),
                &k.key_id,
                Some(&k),
                &[],
                EncryptData
            ),
            Ok(())
        );
        assert_eq!(
            decide_key_use(
                &grantee,
                &k.key_id,
                Some(&k),
                std::slice::from_ref(&g),
                DescribeKey
            ),
            Ok(())
        );
        assert!(denied(decide_key_use(
            &grantee,
            &k.key_id,
            Some(&k),
            std::slice::from_ref(&g),
            EncryptData
        )));
        assert!(not_found(decide_key_use(
            &grantee,
            &k.key_id,
            Some(&k),
            &[],
            DescribeKey
        )));
        // Grants naming somebody else do not count.
        assert!(not_found(decide_key_use(
            &caller("other", OTHER_PROJECT),
            &k.key_id,
            Some(&k),
            &[g],
            DescribeKey
        )));
    }

    #[test]
    fn key_use_takes_the_union_of_the_callers_grants() {
        let k = key();
        let grantee = caller("grantee", OTHER_PROJECT);
        let grants = [grant(&[EncryptData]), grant(&[DecryptData])];
        assert_eq!(
            decide_key_use(&grantee, &k.key_id, Some(&k), &grants, DecryptData),
            Ok(())
        );
    }

    #[test]
    fn create_grant_by_owner_side_requires_an_enabled_key() {
        let mut k = key();
        let owner = caller("someone", PROJECT);
        assert_eq!(
            decide_create_grant(&owner, &k.key_id, Some(&k), &[], &[EncryptData]),
            Ok(())
        );
        k.key_state = KeyState::Disabled;
        assert_eq!(
            decide_create_grant(&owner, &k.key_id, Some(&k), &[], &[EncryptData]),
            Err(KmsError::KeyDisabled)
        );
        k.key_state = KeyState::PendingDeletion;
        assert_eq!(
            decide_create_grant(&owner, &k.key_id, Some(&k), &[], &[EncryptData]),
            Err(KmsError::KeyPendingDeletion)
        );
    }

    #[test]
    fn create_grant_by_a_grantee_needs_create_grant_and_a_subset() {
        let k = key();
        let grantee = caller("grantee", OTHER_PROJECT);
        let holder = [grant(&[CreateGrant, EncryptData])];
        assert_eq!(
            decide_create_grant(&grantee, &k.key_id, Some(&k), &holder, &[EncryptData]),
            Ok(())
        );
        assert!(denied(decide_create_grant(
            &grantee,
            &k.key_id,
            Some(&k),
            &holder,
            &[DecryptData]
        )));
        let no_create = [grant(&[EncryptData])];
        assert!(denied(decide_create_grant(
            &grantee,
            &k.key_id,
            Some(&k),
            &no_create,
            &[EncryptData]
        )));
        assert!(not_found(decide_create_grant(
            &grantee,
            &k.key_id,
            Some(&k),
            &[],
            &[EncryptData]
        )));
    }

    #[test]
    fn state_is_not_revealed_to_callers_without_access() {
        let mut k = key();
        k.key_state = KeyState::Disabled;
        let stranger = caller("someone", OTHER_PROJECT);
        assert!(not_found(decide_create_grant(
            &stranger,
            &k.key_id,
            Some(&k),
            &[],
            &[EncryptData]
        )));
    }

    fn revoke_aws(who: &Caller, g: &Grant) -> Result<(), KmsError> {
        let k = key();
        decide_revoke_aws(who, &k.key_id, g.grant_id.as_str(), Some(&k), Some(g))
    }

    fn retire_aws(who: &Caller, g: &Grant) -> Result<(), KmsError> {
        let k = key();
        decide_retire_aws(who, &k.key_id, g.grant_id.as_str(), Some(&k), Some(g))
    }

    #[test]
    fn aws_revoke_is_for_the_keys_account_only() {
        let g = grant(&[EncryptData, RetireGrant]);
        assert!(revoke_aws(&caller("anyone-in-account", PROJECT), &g).is_ok());
        assert!(denied(revoke_aws(&caller("grantee", OTHER_PROJECT), &g)));
        assert!(denied(revoke_aws(&caller("retirer", OTHER_PROJECT), &g)));
        assert!(not_found(revoke_aws(
            &caller("stranger", OTHER_PROJECT),
            &g
        )));
        let k = key();
        assert!(matches!(
            decide_revoke_aws(&caller("x", PROJECT), &k.key_id, "g", Some(&k), None),
            Err(KmsError::GrantNotFound(_))
        ));
        let mut elsewhere = g.clone();
        elsewhere.key_id = other_key_id();
        assert!(matches!(
            revoke_aws(&caller("x", PROJECT), &elsewhere),
            Err(KmsError::GrantNotFound(_))
        ));
        assert!(not_found(decide_revoke_aws(
            &caller("x", PROJECT),
            &k.key_id,
            "g",
            None,
            Some(&g)
        )));
    }

    #[test]
    fn aws_retire_follows_the_documented_roles() {
        let with_retire = grant(&[EncryptData, RetireGrant]);
        let without_retire = grant(&[EncryptData]);
        let account = caller("anyone-in-account", PROJECT);
        let grantee = caller("grantee", OTHER_PROJECT);
        let retirer = caller("retirer", OTHER_PROJECT);
        let stranger = caller("stranger", OTHER_PROJECT);
        for g in [&with_retire, &without_retire] {
            assert!(retire_aws(&account, g).is_ok());
            assert!(retire_aws(&retirer, g).is_ok());
            assert!(not_found(retire_aws(&stranger, g)));
        }
        assert!(retire_aws(&grantee, &with_retire).is_ok());
        assert!(denied(retire_aws(&grantee, &without_retire)));
        // A whole account as retiring principal: any principal of it.
        let mut by_account = without_retire.clone();
        by_account.retiring_principal = Some("d2".into());
        assert!(retire_aws(&caller("someone-in-d2", OTHER_PROJECT), &by_account).is_ok());
    }

    #[test]
    fn constrained_grants_need_a_matching_context() {
        use crate::domain::ContextConstraint;
        let k = key();
        let grantee = caller("grantee", OTHER_PROJECT);
        let mut g = grant(&[EncryptData, DescribeKey]);
        let required: BTreeMap<String, String> = [("app".to_string(), "x".to_string())].into();
        g.constraint = Some(ContextConstraint::Equals(required.clone()));
        let grants = [g];
        let use_with = |op, ctx: Option<&BTreeMap<String, String>>| {
            decide_key_use_in_context(&grantee, &k.key_id, Some(&k), &grants, op, ctx)
        };
        assert!(use_with(EncryptData, Some(&required)).is_ok());
        assert!(denied(use_with(EncryptData, Some(&BTreeMap::new()))));
        assert!(denied(use_with(EncryptData, None)));
        // Constraints do not apply to DescribeKey.
        assert!(use_with(DescribeKey, None).is_ok());
        assert!(denied(decide_key_use(
            &grantee,
            &k.key_id,
            Some(&k),
            &grants,
            EncryptData
        )));
    }

    #[test]
    fn aws_sub_grants_pass_on_no_more_than_one_grant_gives() {
        use crate::domain::ContextConstraint::{Equals, Subset};
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let k = key();
        let grantee = caller("grantee", OTHER_PROJECT);
        let mut parent = grant(&[CreateGrant, EncryptData, EncryptDatakey]);
        parent.constraint = Some(Subset(map(&[("app", "x")])));
        let other = grant(&[DecryptData, CreateGrant]);
        let grants = [parent, other];
        let create = |ops: &[GrantOperation], c: Option<ContextConstraint>| {
            decide_create_grant_aws(&grantee, &k.key_id, Some(&k), &grants, ops, c.as_ref())
        };
        let stricter = Some(Subset(map(&[("app", "x"), ("env", "prod")])));
        assert!(create(&[EncryptData], stricter.clone()).is_ok());
        assert!(create(&[EncryptData], Some(Equals(map(&[("app", "x")])))).is_ok());
        assert!(denied(create(&[EncryptData], None)));
        assert!(denied(create(
            &[EncryptData],
            Some(Subset(map(&[("app", "y")])))
        )));
        // Operations from two different grants cannot be combined into one.
        assert!(denied(create(&[EncryptData, DecryptData], stricter)));
        assert!(create(&[DecryptData], None).is_ok());
        // The owner side needs no grant.
        assert!(
            decide_create_grant_aws(
                &caller("x", PROJECT),
                &k.key_id,
                Some(&k),
                &[],
                &[EncryptData],
                None
            )
            .is_ok()
        );
        let eq = Some(Equals(map(&[("a", "1")])));
        assert!(is_at_least_as_strict(eq.as_ref(), eq.as_ref()));
        assert!(!is_at_least_as_strict(
            Some(&Subset(map(&[("a", "1")]))),
            eq.as_ref()
        ));
        assert!(!is_at_least_as_strict(
            Some(&Equals(map(&[("a", "1"), ("b", "2")]))),
            eq.as_ref()
        ));
    }
}
