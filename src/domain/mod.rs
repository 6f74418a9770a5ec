//! The KMS domain: identifiers, keys, grants and the authorization rules.
//!
//! Everything here is pure: no I/O, no clock reads, no randomness except where an
//! identifier is minted. Both API dialects and both stores build on these types, so
//! the rules live in exactly one place.

pub mod alias;
pub mod audit;
pub mod authz;
pub mod error;
pub mod grant;
pub mod ids;
pub mod import;
pub mod key;
pub mod key_spec;
pub mod keyspace;
pub mod listing;
pub mod multi_region;
pub mod region;
pub mod reset;
pub mod rotation;
pub mod seed;
pub mod tag;
pub mod text;

use std::sync::Arc;

pub use alias::Alias;
pub use audit::{
    AuditEvent, AuditOutcome, AuditQuery, AuditRecord, ChainKey, ChainState, RawAuditRow,
};
pub use error::KmsError;
pub use grant::{ContextConstraint, Grant, GrantOperation, GranteeType};
pub use ids::{GrantId, KeyId, PrincipalId};
pub use key::{Key, KeyLastUse, KeyState, StateChange};
pub use listing::{GrantFilter, Page};
pub use reset::{ResetCounts, ResetScope};
pub use tag::Tag;

/// Who is calling, as established by the auth layer, and in which request.
///
/// `project_id` is the project the request is scoped to (the `{project_id}` of the
/// URL, already checked against the credential). `request_id` is the exchange's
/// `X-Request-Id`, carried so that audit records name the request they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub user_id: String,
    pub user_name: String,
    pub domain_id: String,
    pub project_id: String,
    /// The region the request is made in: the project's (Huawei) or the SigV4 scope's
    /// (AWS). Keys of other regions are not visible to it (`region::key_visible_in`).
    pub region: String,
    pub request_id: String,
    /// The caller as AWS names it: `arn:aws:iam::ACCOUNT:user/NAME` (or a role ARN).
    pub aws_arn: String,
    /// The 12-digit AWS account ID of the caller's account (domain).
    pub aws_account: String,
    /// The identity policies attached to the caller and its account, in either language.
    pub policies: Arc<authz::IdentityPolicies>,
}

/// The API a request came through. The authorization core is the same for both; each
/// cloud's documented extra rules (who revokes, who retires, idempotent state changes,
/// grant quotas) apply in its own dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Huawei,
    Aws,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Huawei => "huawei",
            Self::Aws => "aws",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "huawei" => Some(Self::Huawei),
            "aws" => Some(Self::Aws),
            _ => None,
        }
    }
}

/// A key as a request names it: its ID, and how the name was given (which decides who
/// may learn that it exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub id: KeyId,
    pub naming: authz::KeyNaming,
}

impl KeyRef {
    /// A key ID in the project of a Huawei request's URL, which is in `region` (a
    /// multi-Region key's ID names its row of that region).
    pub fn in_project(id: KeyId, region: &str) -> Self {
        Self {
            id: id.in_region(region),
            naming: authz::KeyNaming::InProject,
        }
    }
}
