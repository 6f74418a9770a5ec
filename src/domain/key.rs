//! Customer master keys and their lifecycle states.

use super::ids::excerpt;
use super::key_spec::{KeySpec, KeyUsage};
use super::text::{self, HUAWEI_KEY_ALIAS, HUAWEI_KEY_DESCRIPTION};
use super::{KeyId, KmsError};

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
    if let Err(violation) = text::check(&HUAWEI_KEY_ALIAS, value) {
        return Err(KmsError::InvalidKeyAlias(format!(
            "'{}': {}",
            excerpt(value),
            violation.huawei_message("key_alias", &HUAWEI_KEY_ALIAS)
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

/// Validates a key description (either dialect's stored description comes through
/// its own rule in `text`; this is Huawei's).
pub fn validate_key_description(value: &str) -> Result<(), KmsError> {
    text::check(&HUAWEI_KEY_DESCRIPTION, value).map_err(|violation| {
        KmsError::InvalidKeyDescription(
            violation.huawei_message("key_description", &HUAWEI_KEY_DESCRIPTION),
        )
    })
}

/// A key's last successful cryptographic operation (AWS GetKeyLastUsage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLastUse {
    /// The AWS name of the operation (`Action::tracked_use`).
    pub operation: String,
    /// When, in the emulator's clock, ms since the Unix epoch.
    pub used_at: i64,
    /// The request that used the key (its `X-Request-Id` / `x-amzn-RequestId`).
    pub request_id: String,
}

/// A stored key. Key material arrives with the cryptography; what grants need is here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub key_id: KeyId,
    pub project_id: String,
    pub domain_id: String,
    /// The region the key lives in (its ARN's); requests made in other regions do not see it.
    pub region: String,
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
    /// AES-256 material wrapped under the master key; `None` for an external key
    /// whose material was never imported.
    pub wrapped_material: Option<Vec<u8>>,
    /// The key policy a user put (JSON text); `None` for the default policy, which lets
    /// the key's account decide with its IAM policies.
    pub key_policy: Option<String>,
}

/// A change of lifecycle state a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    Enable,
    Disable,
    ScheduleDeletion { pending_days: i64 },
    CancelDeletion,
}

pub const MIN_PENDING_DAYS: i64 = 7;
pub const MAX_PENDING_DAYS: i64 = 1096;
const DAY_MILLIS: i64 = 86_400_000;

pub fn validate_pending_days(days: i64) -> Result<(), KmsError> {
    if (MIN_PENDING_DAYS..=MAX_PENDING_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(KmsError::InvalidPendingDays(format!(
            "pending_days is {days}."
        )))
    }
}

impl Key {
    /// The key's spec and usage. A stored name this build does not know is damage in
    /// the store, never the caller's fault.
    pub fn spec_and_usage(&self) -> Result<(KeySpec, KeyUsage), KmsError> {
        let spec = KeySpec::from_stored(&self.key_spec);
        let usage = KeyUsage::from_stored(&self.key_usage);
        match (spec, usage) {
            (Some(spec), Some(usage)) => Ok((spec, usage)),
            _ => Err(KmsError::Internal),
        }
    }

    /// The key after `change` at `now_millis`, or the documented refusal (spec §10.2).
    /// AWS's EnableKey and DisableKey succeed on a key already in that state; Huawei's
    /// answer KMS.1201 / KMS.1301.
    pub fn after(
        &self,
        change: StateChange,
        now_millis: i64,
        dialect: super::Dialect,
    ) -> Result<Key, KmsError> {
        let mut next = self.clone();
        if dialect == super::Dialect::Aws
            && matches!(
                (change, self.key_state),
                (StateChange::Enable, KeyState::Enabled)
                    | (StateChange::Disable, KeyState::Disabled)
            )
        {
            return Ok(next);
        }
        match (change, self.key_state) {
            (StateChange::Enable, KeyState::Disabled) => next.key_state = KeyState::Enabled,
            (StateChange::Enable, _) => return Err(KmsError::KeyNotDisabled),
            (StateChange::Disable, KeyState::Enabled) => next.key_state = KeyState::Disabled,
            (StateChange::Disable, _) => return Err(KmsError::KeyNotEnabled),
            (StateChange::ScheduleDeletion { .. }, KeyState::PendingDeletion) => {
                return Err(KmsError::KeyAlreadyPendingDeletion);
            }
            (StateChange::ScheduleDeletion { pending_days }, _) => {
                validate_pending_days(pending_days)?;
                next.key_state = KeyState::PendingDeletion;
                next.scheduled_deletion_date = Some(now_millis + pending_days * DAY_MILLIS);
            }
            (StateChange::CancelDeletion, KeyState::PendingDeletion) => {
                next.key_state = if self.wrapped_material.is_some() {
                    KeyState::Disabled
                } else {
                    KeyState::PendingImport
                };
                next.scheduled_deletion_date = None;
            }
            (StateChange::CancelDeletion, _) => return Err(KmsError::KeyNotPendingDeletion),
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Dialect;

    fn key(state: KeyState) -> Key {
        Key {
            key_id: KeyId::parse("0d0466b0-e727-4d9c-b35d-f84bb474a37f").unwrap(),
            project_id: "p".into(),
            region: "eu-de".into(),
            domain_id: "d".into(),
            creator_user_id: "u".into(),
            key_alias: "a".into(),
            key_description: String::new(),
            key_spec: "AES_256".into(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            origin: "kms".into(),
            key_state: state,
            creation_date: 0,
            scheduled_deletion_date: None,
            wrapped_material: Some(vec![1]),
            key_policy: None,
        }
    }

    #[test]
    fn aws_enable_and_disable_are_idempotent_huawei_ones_are_not() {
        let enabled = key(KeyState::Enabled);
        assert_eq!(
            enabled
                .after(StateChange::Enable, 0, Dialect::Aws)
                .unwrap()
                .key_state,
            KeyState::Enabled
        );
        assert_eq!(
            enabled.after(StateChange::Enable, 0, Dialect::Huawei),
            Err(KmsError::KeyNotDisabled)
        );
        let disabled = key(KeyState::Disabled);
        assert!(
            disabled
                .after(StateChange::Disable, 0, Dialect::Aws)
                .is_ok()
        );
        assert_eq!(
            disabled.after(StateChange::Disable, 0, Dialect::Huawei),
            Err(KmsError::KeyNotEnabled)
        );
        // Other states are refused in both dialects.
        let pending = key(KeyState::PendingDeletion);
        assert!(pending.after(StateChange::Enable, 0, Dialect::Aws).is_err());
    }

    #[test]
    fn the_state_matrix_of_the_lifecycle_operations() {
        use KeyState::*;
        use StateChange::*;
        let schedule = ScheduleDeletion { pending_days: 7 };
        let cases = [
            (Enable, Enabled, Err(KmsError::KeyNotDisabled)),
            (Enable, Disabled, Ok(Enabled)),
            (Enable, PendingDeletion, Err(KmsError::KeyNotDisabled)),
            (Enable, PendingImport, Err(KmsError::KeyNotDisabled)),
            (Disable, Enabled, Ok(Disabled)),
            (Disable, Disabled, Err(KmsError::KeyNotEnabled)),
            (Disable, PendingDeletion, Err(KmsError::KeyNotEnabled)),
            (Disable, PendingImport, Err(KmsError::KeyNotEnabled)),
            (schedule, Enabled, Ok(PendingDeletion)),
            (schedule, Disabled, Ok(PendingDeletion)),
            (
                schedule,
                PendingDeletion,
                Err(KmsError::KeyAlreadyPendingDeletion),
            ),
            (schedule, PendingImport, Ok(PendingDeletion)),
            (
                CancelDeletion,
                Enabled,
                Err(KmsError::KeyNotPendingDeletion),
            ),
            (
                CancelDeletion,
                Disabled,
                Err(KmsError::KeyNotPendingDeletion),
            ),
            (CancelDeletion, PendingDeletion, Ok(Disabled)),
            (
                CancelDeletion,
                PendingImport,
                Err(KmsError::KeyNotPendingDeletion),
            ),
        ];
        for (change, from, expected) in cases {
            let result = key(from)
                .after(change, 1_000, Dialect::Huawei)
                .map(|k| k.key_state);
            assert_eq!(result, expected, "{change:?} from {from:?}");
        }
    }

    #[test]
    fn scheduling_sets_and_cancelling_clears_the_deletion_date() {
        let scheduled = key(KeyState::Enabled)
            .after(
                StateChange::ScheduleDeletion { pending_days: 7 },
                1_000,
                Dialect::Huawei,
            )
            .unwrap();
        assert_eq!(
            scheduled.scheduled_deletion_date,
            Some(1_000 + 7 * 86_400_000)
        );
        let cancelled = scheduled
            .after(StateChange::CancelDeletion, 2_000, Dialect::Huawei)
            .unwrap();
        assert_eq!(cancelled.scheduled_deletion_date, None);
    }

    #[test]
    fn pending_days_range_is_7_to_1096() {
        for days in [6, 1097, 0, -1] {
            let result = key(KeyState::Enabled).after(
                StateChange::ScheduleDeletion { pending_days: days },
                0,
                Dialect::Huawei,
            );
            assert!(
                matches!(result, Err(KmsError::InvalidPendingDays(_))),
                "{days}"
            );
        }
        assert!(
            key(KeyState::Enabled)
                .after(
                    StateChange::ScheduleDeletion { pending_days: 1096 },
                    0,
                    Dialect::Huawei
                )
                .is_ok()
        );
    }

    #[test]
    fn cancelling_deletion_of_an_external_key_without_material_returns_to_pending_import() {
        let mut external = key(KeyState::PendingDeletion);
        external.wrapped_material = None;
        assert_eq!(
            external
                .after(StateChange::CancelDeletion, 0, Dialect::Huawei)
                .unwrap()
                .key_state,
            KeyState::PendingImport
        );
    }

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
    fn descriptions_are_limited_to_255_printable_characters() {
        assert!(validate_key_description(&"é".repeat(255)).is_ok());
        assert!(validate_key_description("line\nbreak\tand\r\n").is_ok());
        for bad in [
            "d".repeat(256),
            "a\0b".to_owned(),
            "esc\u{1b}ape".to_owned(),
        ] {
            assert!(
                matches!(
                    validate_key_description(&bad),
                    Err(KmsError::InvalidKeyDescription(_))
                ),
                "{bad:?}"
            );
        }
    }
}
