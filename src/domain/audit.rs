//! Audit records of the grant lifecycle: who did what to which grant, when, in which request.
//!
//! The records are append-only (the database refuses updates and deletes of them) and
//! are written in the same transaction as the change they describe, so a record exists
//! exactly when its change happened. Denials are written after the refused request's
//! transaction rolled back. A denial is a refusal by the authorization rules, including
//! the "key not found" that hides a key from a stranger; a revoke or retire of a grant
//! that no longer exists (the loser of a race) is not a denial and leaves no record.

use super::{Caller, GrantId, KeyId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditEvent {
    GrantCreated,
    GrantRevoked,
    GrantRetired,
    /// create-grant refused by the authorization rules.
    CreateGrantDenied,
    /// revoke-grant refused by the authorization rules.
    RevokeDenied,
    /// retire-grant refused by the authorization rules.
    RetireDenied,
    /// A key operation (encrypt, decrypt, describe...) refused by the authorization core.
    KeyUseDenied,
    /// Any other action refused by the authorization core (key administration, key
    /// policies, listings, creating keys, random bytes).
    AccessDenied,
}

impl AuditEvent {
    pub const ALL: [Self; 8] = [
        Self::GrantCreated,
        Self::GrantRevoked,
        Self::GrantRetired,
        Self::CreateGrantDenied,
        Self::RevokeDenied,
        Self::RetireDenied,
        Self::KeyUseDenied,
        Self::AccessDenied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GrantCreated => "grant-created",
            Self::GrantRevoked => "grant-revoked",
            Self::GrantRetired => "grant-retired",
            Self::CreateGrantDenied => "create-grant-denied",
            Self::RevokeDenied => "revoke-grant-denied",
            Self::RetireDenied => "retire-grant-denied",
            Self::KeyUseDenied => "key-use-denied",
            Self::AccessDenied => "access-denied",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == name)
    }
}

/// One audit record as written. `detail` says what was granted or why it was refused;
/// it never holds a secret (tokens, keys and plaintext are not audit material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub event: AuditEvent,
    /// Milliseconds since the Unix epoch.
    pub occurred_at: i64,
    pub request_id: String,
    pub actor_user_id: String,
    pub actor_project_id: String,
    pub key_id: String,
    pub grant_id: Option<String>,
    pub detail: String,
}

impl AuditRecord {
    pub fn new(
        event: AuditEvent,
        occurred_at: i64,
        caller: &Caller,
        key_id: Option<&KeyId>,
        grant_id: Option<&GrantId>,
        detail: String,
    ) -> Self {
        Self {
            event,
            occurred_at,
            request_id: caller.request_id.clone(),
            actor_user_id: caller.user_id.clone(),
            actor_project_id: caller.project_id.clone(),
            // Actions on no key (CreateKey, ListKeys, ...) record an empty key ID.
            key_id: key_id.map(KeyId::to_string).unwrap_or_default(),
            grant_id: grant_id.map(GrantId::to_string),
            // Details quote request material (refusal messages, constraints): control
            // characters are replaced, so none can fail a PostgreSQL write (U+0000) or
            // forge lines in the trail.
            detail: match super::text::printable(&detail) {
                std::borrow::Cow::Borrowed(_) => detail,
                std::borrow::Cow::Owned(clean) => clean,
            },
        }
    }
}

/// What an operator asks the audit trail for; every field set narrows the answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub request_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub event: Option<AuditEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_name_parses_back_to_its_event() {
        for event in AuditEvent::ALL {
            assert_eq!(AuditEvent::parse(event.as_str()), Some(event));
        }
        assert_eq!(AuditEvent::parse("grant-deleted"), None);
        assert_eq!(AuditEvent::parse(""), None);
    }

    #[test]
    fn details_never_carry_control_characters() {
        let caller = crate::domain::Caller {
            user_id: "u".into(),
            user_name: "n".into(),
            domain_id: "d".into(),
            project_id: "p".into(),
            request_id: "r".into(),
            aws_arn: "arn".into(),
            aws_account: "111122223333".into(),
            policies: Default::default(),
        };
        let record = AuditRecord::new(
            AuditEvent::ALL[0],
            0,
            &caller,
            None,
            None,
            "context {\"k\":\"a\0b\"}\nforged".into(),
        );
        assert_eq!(
            record.detail,
            "context {\"k\":\"a\u{fffd}b\"}\u{fffd}forged"
        );
    }

    #[test]
    fn event_names_are_distinct() {
        let names: std::collections::HashSet<_> =
            AuditEvent::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(names.len(), AuditEvent::ALL.len());
    }
}
