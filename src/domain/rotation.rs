//! Key rotation: which keys rotate, the documented periods, and what each rotation
//! operation (or the passing of time) does to a key's settings and material versions.
//!
//! Pure: the store reads the key, its settings and versions and the emulator's clock in
//! one transaction, [`plan`] decides, and the store writes the plan in the same transaction.
//!
//! - Both clouds rotate symmetric encryption keys only (AWS: "asymmetric and HMAC KMS keys
//!   cannot be rotated", UnsupportedOperationException; Huawei KMS.0324 "RSA keys cannot be
//!   rotated", and its EnableKeyRotation page: keys of imported material do not rotate,
//!   KMS.0312). This emulator refuses imported (external) keys in both dialects.
//! - A rotation adds a new version of the key's material; every version stays, so every
//!   ciphertext still decrypts, and new ciphertexts use the newest version.
//! - A scheduled rotation happens when the emulator's clock (system time plus the offset
//!   `POST /_emulator/clock` moves) passes the key's next rotation date, at the next request
//!   that reads or uses the key's rotation. Time that passed while the key was not Enabled
//!   catches up as if it had been (each missed period is one rotation, at most
//!   [`MAX_CATCH_UP`] at once).

use std::ops::RangeInclusive;

use super::{Dialect, Key, KeyState, KmsError};

pub const DAY_MS: i64 = 86_400_000;
/// AWS: RotationPeriodInDays is 90–2560, 365 by default.
pub const AWS_PERIOD_DAYS: RangeInclusive<i64> = 90..=2560;
/// Huawei: rotation_interval is 30–365 days; enable-key-rotation's default is 365.
pub const HUAWEI_INTERVAL_DAYS: RangeInclusive<i64> = 30..=365;
pub const DEFAULT_PERIOD_DAYS: i64 = 365;
/// AWS: "You can perform on-demand rotation a maximum of 10 times per KMS key"
/// (LimitExceededException). The same limit holds for Huawei's rotate-on-demand here.
pub const MAX_ON_DEMAND_ROTATIONS: i64 = 10;
/// The most scheduled rotations one request applies after the clock jumped far ahead.
pub const MAX_CATCH_UP: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationType {
    Automatic,
    OnDemand,
}

impl RotationType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Automatic => "AUTOMATIC",
            Self::OnDemand => "ON_DEMAND",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "AUTOMATIC" => Some(Self::Automatic),
            "ON_DEMAND" => Some(Self::OnDemand),
            _ => None,
        }
    }
}

/// A key's automatic rotation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationSettings {
    pub enabled: bool,
    pub period_days: i64,
    /// On the emulator's clock, ms since the epoch; `None` while disabled.
    pub next_rotation_date: Option<i64>,
}

/// One rotation: the version of material it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRotation {
    pub version: u32,
    pub rotation_date: i64,
    pub rotation_type: RotationType,
}

/// What the store holds about a key's rotation, read with the key in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationState {
    /// `None`: rotation was never enabled.
    pub settings: Option<RotationSettings>,
    /// The newest material version (0: never rotated).
    pub latest_version: u32,
    pub on_demand_rotations: i64,
    pub last_rotation_date: Option<i64>,
    /// The emulator's clock when it was read (system time plus the stored offset).
    pub now_ms: i64,
}

impl RotationState {
    pub fn enabled(&self) -> bool {
        self.settings.as_ref().is_some_and(|s| s.enabled)
    }

    pub fn period_days(&self) -> i64 {
        self.settings
            .as_ref()
            .map_or(DEFAULT_PERIOD_DAYS, |s| s.period_days)
    }

    /// Whether a scheduled rotation is due: the next request that settles it rotates.
    pub fn due(&self, key: &Key) -> bool {
        key.key_state == KeyState::Enabled
            && self.settings.as_ref().is_some_and(|s| {
                s.enabled && s.next_rotation_date.is_some_and(|next| next <= self.now_ms)
            })
    }
}

/// A change of a key's rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationChange {
    /// Apply the scheduled rotations that are due, and nothing else.
    Settle,
    /// Enable automatic rotation (AWS EnableKeyRotation, Huawei enable-key-rotation).
    /// `period_days: None` keeps the key's period (365 days for a key never rotated).
    Enable {
        period_days: Option<i64>,
    },
    Disable,
    /// Huawei update-key-rotation-interval: only while rotation is enabled (KMS.0313).
    SetInterval {
        period_days: i64,
    },
    RotateOnDemand,
}

/// What to write: the settings (when they change) and the rotations to add, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RotationPlan {
    pub settings: Option<RotationSettings>,
    pub rotations: Vec<(i64, RotationType)>,
}

/// Checks a rotation period against the dialect's documented range.
pub fn check_period(dialect: Dialect, days: i64) -> Result<(), KmsError> {
    let (range, field) = match dialect {
        Dialect::Aws => (AWS_PERIOD_DAYS, "RotationPeriodInDays"),
        Dialect::Huawei => (HUAWEI_INTERVAL_DAYS, "rotation_interval"),
    };
    if range.contains(&days) {
        Ok(())
    } else {
        Err(KmsError::InvalidParameter(format!(
            "{field} must be between {} and {} days; {days} is not.",
            range.start(),
            range.end()
        )))
    }
}

/// Whether the key's type and origin let it rotate.
pub fn check_rotatable(key: &Key) -> Result<(), KmsError> {
    let (spec, _) = key.spec_and_usage()?;
    if !spec.supports_rotation() {
        return Err(KmsError::RotationUnsupportedKeyType(format!(
            "{} keys cannot be rotated: only symmetric encryption keys rotate.",
            key.key_spec
        )));
    }
    if key.origin == "external" {
        return Err(KmsError::RotationUnsupportedOrigin(
            "keys with imported (external) key material cannot be rotated.".into(),
        ));
    }
    Ok(())
}

/// The writes `change` makes to the key whose rotation state is `state`.
pub fn plan(
    key: &Key,
    state: &RotationState,
    change: RotationChange,
) -> Result<RotationPlan, KmsError> {
    let now = state.now_ms;
    let mut out = RotationPlan::default();
    if change != RotationChange::Settle {
        check_rotatable(key)?;
        key.key_state.ensure_usable()?;
    }
    // Due scheduled rotations first, so a change applies to the schedule as it stands now.
    let mut settings = state.settings.clone();
    if state.due(key)
        && let Some(current) = settings.as_mut()
    {
        let period = current.period_days.max(1) * DAY_MS;
        let mut next = current.next_rotation_date.unwrap_or(now);
        while next <= now && out.rotations.len() < MAX_CATCH_UP {
            out.rotations.push((next, RotationType::Automatic));
            next += period;
        }
        if next <= now {
            next = now + period;
        }
        current.next_rotation_date = Some(next);
        out.settings = Some(current.clone());
    }
    match change {
        RotationChange::Settle => {}
        RotationChange::Enable { period_days } => {
            let period_days = period_days.unwrap_or_else(|| state.period_days());
            let already = settings
                .as_ref()
                .filter(|s| s.enabled && s.period_days == period_days);
            let next = match already {
                Some(s) => s.next_rotation_date,
                None => Some(now + period_days * DAY_MS),
            };
            out.settings = Some(RotationSettings {
                enabled: true,
                period_days,
                next_rotation_date: next,
            });
        }
        RotationChange::Disable => {
            out.settings = Some(RotationSettings {
                enabled: false,
                period_days: state.period_days(),
                next_rotation_date: None,
            });
        }
        RotationChange::SetInterval { period_days } => {
            if !settings.as_ref().is_some_and(|s| s.enabled) {
                return Err(KmsError::RotationNotEnabled);
            }
            out.settings = Some(RotationSettings {
                enabled: true,
                period_days,
                next_rotation_date: Some(now + period_days * DAY_MS),
            });
        }
        RotationChange::RotateOnDemand => {
            if state.on_demand_rotations >= MAX_ON_DEMAND_ROTATIONS {
                return Err(KmsError::RotationLimitExceeded(format!(
                    "the key has been rotated on demand {MAX_ON_DEMAND_ROTATIONS} times, the most allowed."
                )));
            }
            out.rotations.push((now, RotationType::OnDemand));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::KeyId;

    fn key(spec: &str, usage: &str, origin: &str, state: KeyState) -> Key {
        Key {
            key_id: KeyId::generate(),
            project_id: "p".into(),
            region: "eu-de".into(),
            domain_id: "d".into(),
            creator_user_id: "u".into(),
            key_alias: "a".into(),
            key_description: String::new(),
            key_spec: spec.into(),
            key_usage: usage.into(),
            origin: origin.into(),
            key_state: state,
            creation_date: 0,
            scheduled_deletion_date: None,
            wrapped_material: None,
            key_policy: None,
        }
    }

    fn aes() -> Key {
        key("AES_256", "ENCRYPT_DECRYPT", "kms", KeyState::Enabled)
    }

    fn state(settings: Option<RotationSettings>, now_ms: i64) -> RotationState {
        RotationState {
            settings,
            latest_version: 0,
            on_demand_rotations: 0,
            last_rotation_date: None,
            now_ms,
        }
    }

    #[test]
    fn only_symmetric_keys_of_this_service_rotate() {
        assert!(check_rotatable(&aes()).is_ok());
        assert!(matches!(
            check_rotatable(&key("RSA_2048", "SIGN_VERIFY", "kms", KeyState::Enabled)),
            Err(KmsError::RotationUnsupportedKeyType(_))
        ));
        assert!(matches!(
            check_rotatable(&key(
                "HMAC_256",
                "GENERATE_VERIFY_MAC",
                "kms",
                KeyState::Enabled
            )),
            Err(KmsError::RotationUnsupportedKeyType(_))
        ));
        assert!(matches!(
            check_rotatable(&key(
                "AES_256",
                "ENCRYPT_DECRYPT",
                "external",
                KeyState::Enabled
            )),
            Err(KmsError::RotationUnsupportedOrigin(_))
        ));
    }

    #[test]
    fn periods_follow_each_cloud() {
        assert!(check_period(Dialect::Aws, 90).is_ok());
        assert!(check_period(Dialect::Aws, 2560).is_ok());
        assert!(check_period(Dialect::Aws, 89).is_err());
        assert!(check_period(Dialect::Aws, 2561).is_err());
        assert!(check_period(Dialect::Huawei, 30).is_ok());
        assert!(check_period(Dialect::Huawei, 365).is_ok());
        assert!(check_period(Dialect::Huawei, 29).is_err());
        assert!(check_period(Dialect::Huawei, 366).is_err());
    }

    #[test]
    fn enabling_schedules_and_due_rotations_catch_up() {
        let plan1 = plan(
            &aes(),
            &state(None, 1000),
            RotationChange::Enable { period_days: None },
        )
        .unwrap();
        let settings = plan1.settings.unwrap();
        assert_eq!(settings.next_rotation_date, Some(1000 + 365 * DAY_MS));
        assert!(plan1.rotations.is_empty());
        // Two and a half periods later: two rotations, at their scheduled dates.
        let later = 1000 + 365 * DAY_MS * 5 / 2;
        let settled = plan(
            &aes(),
            &state(Some(settings), later),
            RotationChange::Settle,
        )
        .unwrap();
        assert_eq!(
            settled.rotations,
            vec![
                (1000 + 365 * DAY_MS, RotationType::Automatic),
                (1000 + 730 * DAY_MS, RotationType::Automatic)
            ]
        );
        assert_eq!(
            settled.settings.unwrap().next_rotation_date,
            Some(1000 + 1095 * DAY_MS)
        );
    }

    #[test]
    fn disabled_keys_do_not_rotate_and_refuse_changes() {
        let settings = RotationSettings {
            enabled: true,
            period_days: 90,
            next_rotation_date: Some(0),
        };
        let disabled = key("AES_256", "ENCRYPT_DECRYPT", "kms", KeyState::Disabled);
        let s = state(Some(settings), 10 * DAY_MS);
        assert!(!s.due(&disabled));
        assert_eq!(
            plan(&disabled, &s, RotationChange::Settle).unwrap(),
            RotationPlan::default()
        );
        assert_eq!(
            plan(&disabled, &s, RotationChange::RotateOnDemand),
            Err(KmsError::KeyDisabled)
        );
        let pending = key(
            "AES_256",
            "ENCRYPT_DECRYPT",
            "kms",
            KeyState::PendingDeletion,
        );
        assert_eq!(
            plan(&pending, &s, RotationChange::Disable),
            Err(KmsError::KeyPendingDeletion)
        );
    }

    #[test]
    fn interval_needs_rotation_enabled_and_on_demand_is_limited() {
        assert_eq!(
            plan(
                &aes(),
                &state(None, 0),
                RotationChange::SetInterval { period_days: 30 }
            ),
            Err(KmsError::RotationNotEnabled)
        );
        let mut s = state(None, 5);
        let once = plan(&aes(), &s, RotationChange::RotateOnDemand).unwrap();
        assert_eq!(once.rotations, vec![(5, RotationType::OnDemand)]);
        assert_eq!(once.settings, None);
        s.on_demand_rotations = MAX_ON_DEMAND_ROTATIONS;
        assert!(matches!(
            plan(&aes(), &s, RotationChange::RotateOnDemand),
            Err(KmsError::RotationLimitExceeded(_))
        ));
    }
}
