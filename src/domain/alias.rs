//! AWS aliases: friendly names of keys, per account (`alias/<name>`).

use super::KeyId;
use super::ids::excerpt;

/// An alias as stored: its full name (`alias/...`), account (domain ID) and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub domain_id: String,
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

#[cfg(test)]
mod tests {
    use super::*;

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
