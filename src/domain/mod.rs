//! The KMS domain: identifiers, keys, grants and the authorization rules.
//!
//! Everything here is pure: no I/O, no clock reads, no randomness except where an
//! identifier is minted. Both API dialects and both stores build on these types, so
//! the rules live in exactly one place.

pub mod audit;
pub mod authz;
pub mod error;
pub mod grant;
pub mod ids;
pub mod key;

pub use audit::{AuditEvent, AuditQuery, AuditRecord};
pub use error::KmsError;
pub use grant::{ContextConstraint, Grant, GrantOperation, GranteeType};
pub use ids::{GrantId, KeyId, PrincipalId};
pub use key::{Key, KeyState, StateChange};

/// Who is calling, as established by the auth layer, and in which request.
///
/// `project_id` is the project the request is scoped to (the `{project_id}` of the
/// URL, already checked against the credential). `request_id` is the exchange's
/// `X-Request-Id`, carried so that audit records name the request they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub user_name: String,
    pub domain_id: String,
    pub project_id: String,
    pub request_id: String,
}
