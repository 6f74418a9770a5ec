//! Huawei Cloud / OTC's documented rules beyond the shared decision.
//!
//! - revoke-grant: "Only the user who created the CMK can revoke a grant" (seed 000),
//!   on top of the permission (`kms:grant:revoke`) the decision checks.
//! - retire-grant: only the grant's issuer, its retiring principal, or its grantee when
//!   the grant holds `retire-grant` (seeds 001, 003). These are rights the grant itself
//!   gives, so they need no IAM permission; an explicit deny still refuses them.

use super::evaluate::{Denial, DenialBasis, DenialScope, Request, authorize};
use super::grants;
use crate::domain::{Caller, Grant, GrantOperation, Key};

pub fn is_key_creator(caller: &Caller, key: &Key) -> bool {
    key.creator_user_id == caller.user_id && key.domain_id == caller.domain_id
}

/// revoke-grant: the decision must allow it, and the caller must have created the key.
pub fn decide_revoke(request: &Request<'_>, key: &Key) -> Result<(), Denial> {
    authorize(request)?;
    if is_key_creator(request.caller, key) {
        Ok(())
    } else {
        Err(Denial::rule(
            DenialScope::of(request.caller, key),
            format!(
                "only the user who created key {} may revoke its grants; a retiring principal or grantee may use retire-grant instead.",
                key.key_id
            ),
        ))
    }
}

/// retire-grant: one of the grant's parties with the right to retire it.
pub fn decide_retire(request: &Request<'_>, key: &Key, grant: &Grant) -> Result<(), Denial> {
    if let Err(denial) = authorize(request)
        && matches!(
            denial.basis,
            DenialBasis::ExplicitIdentityDeny | DenialBasis::ExplicitResourceDeny
        )
    {
        return Err(denial);
    }
    let caller = request.caller;
    if grants::is_issuer(caller, grant)
        || grants::is_retiring_principal(caller, grant)
        || (grants::is_grantee(caller, grant) && grant.allows(GrantOperation::RetireGrant))
    {
        return Ok(());
    }
    let why = if grants::is_grantee(caller, grant) {
        "the grant does not include the retire-grant operation, so its grantee may not retire it"
    } else {
        "only the grant's issuer, its retiring principal, or a grantee holding retire-grant may retire it; the key's creator may revoke it instead"
    };
    Err(Denial::rule(
        DenialScope::of(request.caller, key),
        format!("{why} (grant {}).", grant.grant_id),
    ))
}
