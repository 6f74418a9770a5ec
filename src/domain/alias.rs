//! AWS aliases: friendly names of keys, per account (`alias/<name>`).

use super::ids::excerpt;
use super::key_spec::KeyFamily;
use super::{Key, KeyId, KmsError};

/// An alias as stored: its full name (`alias/...`), account (domain ID) and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub domain_id: String,
    /// Aliases are per account and region, as in AWS; the key is in the same region.
    pub region: String,
    pub alias_name: String,
    pub key_id: KeyId,
    /// Milliseconds since the epoch.
    pub creation_date: i64,
    pub last_updated_date: i64,
}

/// AWS's AliasNameType: 1–256 characters of `[a-zA-Z0-9:/_-]`.
pub const MAX_ALIAS_NAME: usize = 256;
const PREFIX: &str = "alias/";
/// Reserved for AWS managed keys: no user may create, change or delete such an alias.
const RESERVED_PREFIX: &str = "alias/aws/";

/// Why an alias name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasNameError {
    /// Breaks AliasNameType's length or pattern (AWS: ValidationException).
    Malformed(String),
    /// Does not start with `alias/`, or is just `alias/` (AWS: InvalidAliasNameException).
    Invalid(String),
    /// Starts with `alias/aws/` (AWS: NotAuthorizedException for CreateAlias,
    /// UpdateAlias and DeleteAlias).
    Reserved(String),
}

/// Whether `name` fits AliasNameType (the wire shape, before the alias rules).
pub fn well_formed(name: &str) -> bool {
    (1..=MAX_ALIAS_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'))
}

/// Huawei aliases (POST aliases, alias/associate) share this table and its rules: one
/// namespace per account, as both clouds document ("an alias of an account in the same
/// region must be unique"), so an alias made through one API names the key in the other.
/// Huawei writes names without AWS's prefix (`kms-1234`); they are stored in AWS's form
/// (`alias/kms-1234`) and shown without the prefix again. A Huawei name already written
/// `alias/...` (OTC accepts `alias/xxx` as a key_id) is the same alias.
pub fn from_huawei(name: &str) -> String {
    if name.starts_with(PREFIX) {
        name.to_owned()
    } else {
        format!("{PREFIX}{name}")
    }
}

/// A stored name as Huawei shows it: without the `alias/` prefix.
pub fn to_huawei(stored: &str) -> &str {
    stored.strip_prefix(PREFIX).unwrap_or(stored)
}

/// Checks a name a request reads or names an existing alias by (DeleteAlias, a `KeyId`).
pub fn check_name(name: &str) -> Result<(), AliasNameError> {
    if !well_formed(name) {
        return Err(AliasNameError::Malformed(format!(
            "Value '{}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$ and have length between 1 and {MAX_ALIAS_NAME}",
            excerpt(name)
        )));
    }
    if !name.starts_with(PREFIX) || name.len() == PREFIX.len() {
        return Err(AliasNameError::Invalid(format!(
            "Alias must start with the prefix \"alias/\" followed by a name: {}",
            excerpt(name)
        )));
    }
    Ok(())
}

/// Checks a name a request creates, re-targets or deletes: also not reserved for AWS.
pub fn check_writable_name(name: &str) -> Result<(), AliasNameError> {
    check_name(name)?;
    if name.starts_with(RESERVED_PREFIX) {
        return Err(AliasNameError::Reserved(format!(
            "{} is reserved for AWS managed keys: aliases starting with alias/aws/ cannot be created, updated or deleted.",
            excerpt(name)
        )));
    }
    Ok(())
}

/// AWS UpdateAlias: the key an alias names and the key it is moved to must be of one type
/// (symmetric, asymmetric or HMAC) and have one key usage, so code using the alias keeps
/// working.
pub fn may_move(from: &Key, to: &Key) -> Result<(), KmsError> {
    let kind = |key: &Key| {
        key.spec_and_usage().map(|(spec, usage)| {
            let family = match spec.family() {
                KeyFamily::Symmetric => "symmetric",
                KeyFamily::Rsa | KeyFamily::EllipticCurve | KeyFamily::MlKem => "asymmetric",
                KeyFamily::Hmac => "HMAC",
            };
            (family, usage)
        })
    };
    let (from_kind, to_kind) = (kind(from)?, kind(to)?);
    if from_kind != to_kind {
        return Err(KmsError::InvalidParameter(format!(
            "UpdateAlias cannot move an alias from a {} key with usage {:?} to a {} key with usage {:?}: \
             the keys must be of one type and key usage (delete the alias and create it again instead).",
            from_kind.0, from_kind.1, to_kind.0, to_kind.1
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::KeyState;

    fn key(spec: &str, usage: &str) -> Key {
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
            origin: "kms".into(),
            key_state: KeyState::Enabled,
            creation_date: 0,
            scheduled_deletion_date: None,
            wrapped_material: None,
            key_policy: None,
        }
    }

    #[test]
    fn aliases_move_between_keys_of_one_type_and_usage() {
        let aes = key("AES_256", "ENCRYPT_DECRYPT");
        assert_eq!(may_move(&aes, &key("AES_256", "ENCRYPT_DECRYPT")), Ok(()));
        assert_eq!(
            may_move(
                &key("RSA_2048", "SIGN_VERIFY"),
                &key("EC_P256", "SIGN_VERIFY")
            ),
            Ok(())
        );
        for other in [
            key("HMAC_256", "GENERATE_VERIFY_MAC"),
            key("RSA_2048", "SIGN_VERIFY"),
        ] {
            assert!(matches!(
                may_move(&aes, &other),
                Err(KmsError::InvalidParameter(_))
            ));
        }
    }

    #[test]
    fn names_follow_the_pattern_and_prefix() {
        assert_eq!(check_writable_name("alias/my-key_1:x/y"), Ok(()));
        assert_eq!(check_name(&format!("alias/{}", "a".repeat(250))), Ok(()));
        for malformed in ["", "alias/a b", "alias/é", "alias/a.b", &"a".repeat(257)] {
            assert!(
                matches!(check_name(malformed), Err(AliasNameError::Malformed(_))),
                "{malformed:?}"
            );
        }
        for invalid in ["alias/", "key/x", "aliasx", "Alias/x", "x/alias/y"] {
            assert!(
                matches!(check_name(invalid), Err(AliasNameError::Invalid(_))),
                "{invalid:?}"
            );
        }
    }

    #[test]
    fn huawei_names_are_stored_in_aws_form() {
        assert_eq!(from_huawei("kms-1234"), "alias/kms-1234");
        assert_eq!(from_huawei("alias/kms-1234"), "alias/kms-1234");
        assert_eq!(to_huawei("alias/kms-1234"), "kms-1234");
        assert_eq!(check_writable_name(&from_huawei("a/b:c_d-1")), Ok(()));
        // The AWS-managed namespace stays reserved through the Huawei API too.
        assert!(check_writable_name(&from_huawei("aws/s3")).is_err());
    }

    #[test]
    fn aws_prefix_is_reserved_for_writes_only() {
        assert_eq!(check_name("alias/aws/s3"), Ok(()));
        assert!(matches!(
            check_writable_name("alias/aws/s3"),
            Err(AliasNameError::Reserved(_))
        ));
        // Only the `aws/` path segment is reserved.
        assert_eq!(check_writable_name("alias/awsome"), Ok(()));
    }
}
