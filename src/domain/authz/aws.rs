//! AWS's documented rules beyond the shared decision.
//!
//! RetireGrant ("Retiring and revoking grants"): the grant's retiring principal, its
//! grantee when the grant includes RetireGrant, and principals of the account in which
//! the grant was created (the key's account) whose IAM policies allow kms:RetireGrant.
//! A key policy cannot give kms:RetireGrant, and a Deny of it refuses retirement.
//! RevokeGrant is the shared decision alone (grants never confer it).

use super::evaluate::{Allowed, Denial, DenialBasis, DenialScope, Request, authorize};
use super::grants;
use crate::domain::{Grant, GrantOperation, Key};

pub fn decide_retire(request: &Request<'_>, key: &Key, grant: &Grant) -> Result<(), Denial> {
    let decision = authorize(request);
    if let Err(denial) = &decision
        && matches!(
            denial.basis,
            DenialBasis::ExplicitIdentityDeny | DenialBasis::ExplicitResourceDeny
        )
    {
        return Err(denial.clone());
    }
    let caller = request.caller;
    if grants::is_retiring_principal(caller, grant)
        || (grants::is_grantee(caller, grant) && grant.allows(GrantOperation::RetireGrant))
    {
        return Ok(());
    }
    let delegated = caller.domain_id == key.domain_id
        && decision == Ok(Allowed::ByPolicy)
        && super::evaluate::identity_allows(request);
    if delegated {
        return Ok(());
    }
    let why = if grants::is_grantee(caller, grant) {
        "the grant does not include the RetireGrant operation, so its grantee may not retire it"
    } else {
        "only the grant's retiring principal, its grantee when the grant includes RetireGrant, or a principal of the key's account allowed kms:RetireGrant by an IAM policy may retire it"
    };
    Err(Denial::rule(
        DenialScope::of(request.caller, key),
        format!("{why} (grant {}).", grant.grant_id),
    ))
}
