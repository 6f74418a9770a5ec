//! Customer master keys and their lifecycle states.

use std::sync::LazyLock;

use regex::Regex;

use super::ids::excerpt;
use super::{KeyId, KmsError};

static KEY_ALIAS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9:/_-]{1,255}$").unwrap());

/// The documented `key_state` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    PendingActivation,
    Enabled,
    Disabled,
    PendingDeletion,
    PendingImport,
}

impl KeyState {
    pub fn code(self) -> i64 {
        match self {
            Self::PendingActivation => 1,
            Self::Enabled => 2,
            Self::Disabled => 3,
            Self::PendingDeletion => 4,
            Self::PendingImport => 5,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::PendingActivation),
            2 => Some(Self::Enabled),
            3 => Some(Self::Disabled),
            4 => Some(Self::PendingDeletion),
            5 => Some(Self::PendingImport),
            _ => None,
        }
    }

    /// Whether the key may be used for cryptography or new grants in this state,
    /// and the documented error when it may not.
    pub fn ensure_usable(self) -> Result<(), KmsError> {
        match self {
            Self::Enabled => Ok(()),
            Self::Disabled | Self::PendingActivation => Err(KmsError::KeyDisabled),
            Self::PendingDeletion => Err(KmsError::KeyPendingDeletion),
            Self::PendingImport => Err(KmsError::KeyPendingImport),
        }
    }
}

/// Validates a key alias: the documented pattern, and never a service default key's
/// `*/default` alias, which users cannot create.
pub fn validate_key_alias(value: &str) -> Result<(), KmsError> {
    if !KEY_ALIAS.is_match(value) {
        return Err(KmsError::InvalidKeyAlias(format!(
            "'{}' must be 1 to 255 characters from a-z, A-Z, 0-9, ':', '/', '_' and '-'.",
            excerpt(value)
        )));
    }
    if value.ends_with("/default") {
        return Err(KmsError::InvalidKeyAlias(format!(
            "'{}' ends with /default, which is reserved for default master keys.",
            excerpt(value)
        )));
    }
    Ok(())
}

pub fn validate_key_description(value: &str) -> Result<(), KmsError> {
    if value.chars().count() <= 255 {
        Ok(())
    } else {
        Err(KmsError::InvalidKeyDescription)
    }
}

/// A stored key. Key material arrives with the cryptography; what grants need is here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub key_id: KeyId,
    pub project_id: String,
    pub domain_id: String,
    /// The IAM user who created the key: the only one who may revoke its grants.
    pub creator_user_id: String,
    pub key_alias: String,
    pub key_description: String,
    pub key_spec: String,
    pub key_usage: String,
    pub origin: String,
    pub key_state: KeyState,
    /// Milliseconds since the Unix epoch.
    pub creation_date: i64,
    pub scheduled_deletion_date: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_codes_round_trip() {
        for code in 1..=5 {
            assert_eq!(KeyState::from_code(code).unwrap().code(), code);
        }
        assert_eq!(KeyState::from_code(0), None);
        assert_eq!(KeyState::from_code(6), None);
    }

    #[test]
    fn only_enabled_keys_are_usable() {
        assert_eq!(KeyState::Enabled.ensure_usable(), Ok(()));
        assert_eq!(
            KeyState::Disabled.ensure_usable(),
            Err(KmsError::KeyDisabled)
        );
        assert_eq!(
            KeyState::PendingDeletion.ensure_usable(),
            Err(KmsError::KeyPendingDeletion)
        );
        assert_eq!(
            KeyState::PendingImport.ensure_usable(),
            Err(KmsError::KeyPendingImport)
        );
        assert_eq!(
            KeyState::PendingActivation.ensure_usable(),
            Err(KmsError::KeyDisabled)
        );
    }

    #[test]
    fn aliases_follow_the_pattern_and_exclude_default_keys() {
        assert!(validate_key_alias("kms_test").is_ok());
        assert!(validate_key_alias("app/db-key").is_ok());
        assert!(matches!(
            validate_key_alias("obs/default"),
            Err(KmsError::InvalidKeyAlias(_))
        ));
        assert!(matches!(
            validate_key_alias(""),
            Err(KmsError::InvalidKeyAlias(_))
        ));
        assert!(matches!(
            validate_key_alias("a b"),
            Err(KmsError::InvalidKeyAlias(_))
        ));
        assert!(matches!(
            validate_key_alias(&"k".repeat(256)),
            Err(KmsError::InvalidKeyAlias(_))
        ));
    }

    #[test]
    fn descriptions_are_limited_to_255_characters() {
        assert!(validate_key_description(&"é".repeat(255)).is_ok());
        assert_eq!(
            validate_key_description(&"d".repeat(256)),
            Err(KmsError::InvalidKeyDescription)
        );
    }
}
