//! Key tags: key/value labels on a key, one rule set with each cloud's limits.
//!
//! Both dialects store tags in one table (`kms_tag`, migration 0010) and change them
//! through the same steps here: a change is applied to the key's current tag list and
//! checked against the limits of the cloud the request came through.
//!
//! Limits, by cloud:
//! - Huawei/OTC (TagItem in huaweicloudsdkkms; DEW user guide): a key holds at most 20
//!   tags; a tag key is 1–36 characters, a value 0–43, neither holding ASCII 0–31 or
//!   `* < > \ =`. Codes KMS.0401–0417 (OTC error table).
//! - AWS (botocore TagKeyType/TagValueType; KMS developer guide): at most 50 tags per
//!   key; a key is 1–128 characters, a value 0–256, of Unicode letters, digits,
//!   separators and `_ . : / = + - @`; keys starting with `aws:` are reserved.
//!   TagException for a bad tag, LimitExceededException for too many.

use std::sync::LazyLock;

use regex::Regex;

use super::ids::excerpt;
use super::key_spec::Cloud;

/// One tag of a key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// The limits of one cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagLimits {
    pub max_tags: usize,
    pub max_key_chars: usize,
    pub max_value_chars: usize,
}

pub const HUAWEI: TagLimits = TagLimits {
    max_tags: 20,
    max_key_chars: 36,
    max_value_chars: 43,
};

pub const AWS: TagLimits = TagLimits {
    max_tags: 50,
    max_key_chars: 128,
    max_value_chars: 256,
};

pub fn limits(cloud: Cloud) -> TagLimits {
    match cloud {
        Cloud::Huawei => HUAWEI,
        Cloud::Aws => AWS,
    }
}

/// Why a tag request cannot be carried out. Each dialect maps these to its codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// Huawei KMS.0401; AWS: a TagException.
    #[error("The tag list cannot be empty.")]
    EmptyList,
    /// Huawei KMS.0411 (length) / KMS.0406 (characters); AWS TagException.
    #[error("Invalid tag key {0:?}.")]
    InvalidKey(String, KeyProblem),
    /// Huawei KMS.0410 (length) / KMS.0405 (characters); AWS TagException.
    #[error("Invalid value for tag key {0:?}.")]
    InvalidValue(String, KeyProblem),
    /// A key named twice in one request (Huawei KMS.0406; AWS TagException).
    #[error("Tag key {0:?} appears more than once in the request.")]
    DuplicateKey(String),
    /// AWS: `aws:` keys are reserved (TagException).
    #[error("Tag keys starting with 'aws:' are reserved: {0:?}.")]
    Reserved(String),
    /// Huawei KMS.0409; AWS LimitExceededException.
    #[error("A key can hold at most {limit} tags; this request would leave {would_have}.")]
    TooMany { limit: usize, would_have: usize },
    /// Huawei KMS.0416 (404): deleting a tag the key does not have.
    #[error("The tag {0:?} does not exist on this key.")]
    NotFound(String),
    /// Huawei KMS.0412: a filter names more than [`MAX_FILTER_KEYS`] tag keys, or one twice.
    #[error("A filter names at most {MAX_FILTER_KEYS} tag keys, each once.")]
    FilterTooManyKeys,
    /// Huawei KMS.0413: a filter entry lists more than [`MAX_FILTER_VALUES`] values, or one twice.
    #[error("A filter entry lists at most {MAX_FILTER_VALUES} values, each once.")]
    FilterTooManyValues,
    /// Huawei KMS.0404: a batch or filter `action` that is not one of the documented ones.
    #[error("Invalid action {0:?}: {1}.")]
    InvalidAction(String, &'static str),
    /// Huawei KMS.0403 (the key) / KMS.0402 (the value) of a `matches` entry.
    #[error("Invalid match: {0}")]
    InvalidMatch(String, MatchPart),
    /// Huawei KMS.0417.
    #[error("offset must be an integer greater than or equal to 0: {0}")]
    InvalidOffset(String),
}

/// Which half of a `matches` entry is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchPart {
    Key,
    Value,
}

/// What is wrong with a tag key or value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    Length,
    Characters,
}

static AWS_CHARS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").unwrap());

fn chars_allowed(cloud: Cloud, text: &str) -> bool {
    match cloud {
        Cloud::Huawei => !text
            .chars()
            .any(|c| (c as u32) < 32 || matches!(c, '*' | '<' | '>' | '\\' | '=')),
        Cloud::Aws => AWS_CHARS.is_match(text),
    }
}

/// Checks a tag key a request names (to set or to remove).
pub fn check_key(cloud: Cloud, key: &str) -> Result<(), TagError> {
    let limits = limits(cloud);
    let chars = key.chars().count();
    if chars == 0 || chars > limits.max_key_chars {
        return Err(TagError::InvalidKey(excerpt(key), KeyProblem::Length));
    }
    if !chars_allowed(cloud, key) {
        return Err(TagError::InvalidKey(excerpt(key), KeyProblem::Characters));
    }
    Ok(())
}

/// Checks a key a request writes: also not reserved (AWS `aws:`, any case).
pub fn check_writable_key(cloud: Cloud, key: &str) -> Result<(), TagError> {
    check_key(cloud, key)?;
    if cloud == Cloud::Aws && key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Err(TagError::Reserved(excerpt(key)));
    }
    Ok(())
}

/// Checks a tag a request sets.
pub fn check_tag(cloud: Cloud, tag: &Tag) -> Result<(), TagError> {
    check_writable_key(cloud, &tag.key)?;
    if tag.value.chars().count() > limits(cloud).max_value_chars {
        return Err(TagError::InvalidValue(
            excerpt(&tag.key),
            KeyProblem::Length,
        ));
    }
    if !chars_allowed(cloud, &tag.value) {
        return Err(TagError::InvalidValue(
            excerpt(&tag.key),
            KeyProblem::Characters,
        ));
    }
    Ok(())
}

/// Checks the tags of one request: not empty, each valid, no key twice.
pub fn check_tags(cloud: Cloud, tags: &[Tag]) -> Result<(), TagError> {
    if tags.is_empty() {
        return Err(TagError::EmptyList);
    }
    for (i, tag) in tags.iter().enumerate() {
        check_tag(cloud, tag)?;
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(TagError::DuplicateKey(excerpt(&tag.key)));
        }
    }
    Ok(())
}

/// A change to a key's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagChange {
    /// Adds tags; a key the key already has gets the new value (both clouds).
    Set(Vec<Tag>),
    /// Removes tags by key; `missing_is_error` for Huawei's delete of one tag (KMS.0416),
    /// AWS UntagResource and Huawei's batch delete pass over missing keys.
    Remove {
        keys: Vec<String>,
        missing_is_error: bool,
    },
}

impl TagChange {
    /// Checks the change's own fields (before the key is read).
    pub fn check(&self, cloud: Cloud) -> Result<(), TagError> {
        match self {
            Self::Set(tags) => check_tags(cloud, tags),
            Self::Remove { keys, .. } => {
                if keys.is_empty() {
                    return Err(TagError::EmptyList);
                }
                keys.iter().try_for_each(|k| check_key(cloud, k))
            }
        }
    }

    /// The key's tags after the change, in the order they were first set.
    pub fn apply(&self, cloud: Cloud, current: &[Tag]) -> Result<Vec<Tag>, TagError> {
        self.check(cloud)?;
        let mut next = current.to_vec();
        match self {
            Self::Set(tags) => {
                for tag in tags {
                    match next.iter_mut().find(|t| t.key == tag.key) {
                        Some(existing) => existing.value = tag.value.clone(),
                        None => next.push(tag.clone()),
                    }
                }
                let limit = limits(cloud).max_tags;
                if next.len() > limit {
                    return Err(TagError::TooMany {
                        limit,
                        would_have: next.len(),
                    });
                }
            }
            Self::Remove {
                keys,
                missing_is_error,
            } => {
                for key in keys {
                    let before = next.len();
                    next.retain(|t| &t.key != key);
                    if *missing_is_error && next.len() == before {
                        return Err(TagError::NotFound(excerpt(key)));
                    }
                }
            }
        }
        Ok(next)
    }
}

/// Huawei resource_instances/action: which keys a tag filter selects. Keys of
/// different filter entries must all be present (AND); an entry's values are
/// alternatives (OR), and an entry without values matches any value of its key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagFilter {
    pub tags: Vec<(String, Vec<String>)>,
    /// `matches` with key `resource_name`: the key's alias contains this text.
    pub name_contains: Option<String>,
}

/// Huawei: a filter names at most 10 tag keys, each with at most 10 values
/// (ListKmsByTagsRequestBody; KMS.0412 / KMS.0413).
pub const MAX_FILTER_KEYS: usize = 10;
pub const MAX_FILTER_VALUES: usize = 10;

impl TagFilter {
    /// Checks the filter against Huawei's tag rules.
    pub fn check(&self) -> Result<(), TagError> {
        if self.tags.len() > MAX_FILTER_KEYS {
            return Err(TagError::FilterTooManyKeys);
        }
        for (i, (key, values)) in self.tags.iter().enumerate() {
            check_key(Cloud::Huawei, key)?;
            if self.tags[..i].iter().any(|(k, _)| k == key) {
                return Err(TagError::FilterTooManyKeys);
            }
            if values.len() > MAX_FILTER_VALUES {
                return Err(TagError::FilterTooManyValues);
            }
            for (j, value) in values.iter().enumerate() {
                check_tag(Cloud::Huawei, &Tag::new(key.clone(), value.clone()))?;
                if values[..j].contains(value) {
                    return Err(TagError::FilterTooManyValues);
                }
            }
        }
        Ok(())
    }

    /// Whether a key named `name` with `tags` is selected.
    pub fn selects(&self, name: &str, tags: &[Tag]) -> bool {
        self.name_contains
            .as_deref()
            .is_none_or(|text| name.contains(text))
            && self.tags.iter().all(|(key, values)| {
                tags.iter()
                    .any(|t| &t.key == key && (values.is_empty() || values.contains(&t.value)))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(n: usize) -> Vec<Tag> {
        (0..n).map(|i| Tag::new(format!("k{i}"), "v")).collect()
    }

    #[test]
    fn key_and_value_lengths_follow_each_cloud() {
        assert_eq!(
            check_tag(Cloud::Huawei, &Tag::new("a".repeat(36), "v".repeat(43))),
            Ok(())
        );
        assert!(matches!(
            check_tag(Cloud::Huawei, &Tag::new("a".repeat(37), "")),
            Err(TagError::InvalidKey(_, KeyProblem::Length))
        ));
        assert!(matches!(
            check_tag(Cloud::Huawei, &Tag::new("a", "v".repeat(44))),
            Err(TagError::InvalidValue(_, KeyProblem::Length))
        ));
        assert_eq!(
            check_tag(Cloud::Aws, &Tag::new("a".repeat(128), "v".repeat(256))),
            Ok(())
        );
        assert!(check_tag(Cloud::Aws, &Tag::new("a".repeat(129), "")).is_err());
        assert!(check_tag(Cloud::Aws, &Tag::new("a", "v".repeat(257))).is_err());
        // Characters count, not bytes.
        assert_eq!(
            check_tag(Cloud::Huawei, &Tag::new("é".repeat(36), "")),
            Ok(())
        );
        for cloud in [Cloud::Huawei, Cloud::Aws] {
            assert!(matches!(
                check_tag(cloud, &Tag::new("", "v")),
                Err(TagError::InvalidKey(_, KeyProblem::Length))
            ));
            assert_eq!(check_tag(cloud, &Tag::new("k", "")), Ok(()));
        }
    }

    #[test]
    fn characters_follow_each_cloud() {
        for bad in ["a*b", "a<b", "a>b", "a\\b", "a=b", "a\nb"] {
            assert!(
                matches!(
                    check_tag(Cloud::Huawei, &Tag::new(bad, "")),
                    Err(TagError::InvalidKey(_, KeyProblem::Characters))
                ),
                "{bad:?}"
            );
            assert!(matches!(
                check_tag(Cloud::Huawei, &Tag::new("k", bad)),
                Err(TagError::InvalidValue(_, KeyProblem::Characters))
            ));
        }
        // AWS allows `=` and spaces, refuses `*` and `#`.
        assert_eq!(check_tag(Cloud::Aws, &Tag::new("a=b c", "x+y@z")), Ok(()));
        assert_eq!(
            check_tag(Cloud::Aws, &Tag::new("Projekt-ä", "ü:/.")),
            Ok(())
        );
        for bad in ["a*b", "a#b", "a\nb"] {
            assert!(
                check_tag(Cloud::Aws, &Tag::new(bad, "")).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn aws_prefix_is_reserved_for_writes() {
        for key in ["aws:x", "AWS:x", "Aws:x"] {
            assert!(matches!(
                check_tag(Cloud::Aws, &Tag::new(key, "")),
                Err(TagError::Reserved(_))
            ));
        }
        assert_eq!(check_key(Cloud::Aws, "aws:x"), Ok(()));
        assert_eq!(check_tag(Cloud::Aws, &Tag::new("awsome", "")), Ok(()));
        assert_eq!(check_tag(Cloud::Huawei, &Tag::new("aws:x", "")), Ok(()));
    }

    #[test]
    fn set_overwrites_and_counts_against_the_limit() {
        let current = vec![Tag::new("a", "1"), Tag::new("b", "2")];
        let next = TagChange::Set(vec![Tag::new("b", "3"), Tag::new("c", "4")])
            .apply(Cloud::Aws, &current)
            .unwrap();
        assert_eq!(
            next,
            vec![Tag::new("a", "1"), Tag::new("b", "3"), Tag::new("c", "4")]
        );
        assert_eq!(
            TagChange::Set(tags(20))
                .apply(Cloud::Huawei, &[])
                .map(|t| t.len()),
            Ok(20)
        );
        assert_eq!(
            TagChange::Set(tags(21)).apply(Cloud::Huawei, &[]),
            Err(TagError::TooMany {
                limit: 20,
                would_have: 21
            })
        );
        assert_eq!(
            TagChange::Set(tags(50))
                .apply(Cloud::Aws, &[])
                .map(|t| t.len()),
            Ok(50)
        );
        assert_eq!(
            TagChange::Set(vec![Tag::new("new", "")]).apply(Cloud::Aws, &tags(50)),
            Err(TagError::TooMany {
                limit: 50,
                would_have: 51
            })
        );
        // Overwriting at the limit is no growth.
        assert!(
            TagChange::Set(vec![Tag::new("k0", "x")])
                .apply(Cloud::Aws, &tags(50))
                .is_ok()
        );
    }

    #[test]
    fn a_request_names_each_key_once_and_at_least_one() {
        assert_eq!(
            TagChange::Set(vec![]).apply(Cloud::Aws, &[]),
            Err(TagError::EmptyList)
        );
        assert!(matches!(
            TagChange::Set(vec![Tag::new("a", "1"), Tag::new("a", "2")]).apply(Cloud::Huawei, &[]),
            Err(TagError::DuplicateKey(_))
        ));
    }

    #[test]
    fn filters_and_keys_and_or_values() {
        let tags = vec![Tag::new("env", "prod"), Tag::new("team", "a")];
        let filter = |entries: &[(&str, &[&str])]| TagFilter {
            tags: entries
                .iter()
                .map(|(k, vs)| (k.to_string(), vs.iter().map(|v| v.to_string()).collect()))
                .collect(),
            name_contains: None,
        };
        assert!(filter(&[]).selects("k", &tags));
        assert!(filter(&[("env", &["dev", "prod"])]).selects("k", &tags));
        assert!(filter(&[("env", &[]), ("team", &["a"])]).selects("k", &tags));
        assert!(!filter(&[("env", &["prod"]), ("team", &["b"])]).selects("k", &tags));
        assert!(!filter(&[("owner", &[])]).selects("k", &tags));
        let named = TagFilter {
            name_contains: Some("web".into()),
            ..filter(&[])
        };
        assert!(named.selects("my-web-key", &[]));
        assert!(!named.selects("db", &tags));
        let too_many: Vec<(&str, &[&str])> = vec![("a", &[]); 2];
        assert_eq!(filter(&too_many).check(), Err(TagError::FilterTooManyKeys));
        assert_eq!(
            filter(&[("a", &["x", "x"])]).check(),
            Err(TagError::FilterTooManyValues)
        );
        assert!(matches!(
            filter(&[("a*", &[])]).check(),
            Err(TagError::InvalidKey(..))
        ));
        assert_eq!(filter(&[("env", &["prod"])]).check(), Ok(()));
    }

    #[test]
    fn remove_passes_over_missing_keys_unless_asked() {
        let current = vec![Tag::new("a", "1"), Tag::new("b", "2")];
        let lenient = TagChange::Remove {
            keys: vec!["a".into(), "zz".into()],
            missing_is_error: false,
        };
        assert_eq!(
            lenient.apply(Cloud::Aws, &current),
            Ok(vec![Tag::new("b", "2")])
        );
        let strict = TagChange::Remove {
            keys: vec!["zz".into()],
            missing_is_error: true,
        };
        assert!(matches!(
            strict.apply(Cloud::Huawei, &current),
            Err(TagError::NotFound(_))
        ));
        // Removing an `aws:` key is a read of the name, not refused as reserved.
        let aws = TagChange::Remove {
            keys: vec!["aws:x".into()],
            missing_is_error: false,
        };
        assert_eq!(aws.apply(Cloud::Aws, &current), Ok(current.clone()));
    }
}
