//! Reading request fields the way Huawei/OTC clients send them.
//!
//! Conventions (spec §4, §14): numeric fields may arrive as JSON strings or numbers;
//! an empty string or `null` means the field was not given; unknown fields are ignored.

use serde_json::{Map, Value};

use crate::domain::KmsError;
use crate::domain::ids::validate_sequence;

pub struct Body(Map<String, Value>);

impl Body {
    /// An empty body reads as `{}`; anything else must be a JSON object.
    pub fn parse(bytes: &[u8]) -> Result<Self, KmsError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(KmsError::MalformedJson(
                "the body must be a JSON object.".into(),
            )),
            Err(e) => Err(KmsError::MalformedJson(format!("{e}."))),
        }
    }

    /// A field's value, unless it is absent, `null` or `""`.
    pub fn given(&self, name: &str) -> Option<&Value> {
        match self.0.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(value) => Some(value),
        }
    }

    /// An optional string field; `wrong_type` builds the error for a non-string value.
    pub fn optional_str(
        &self,
        name: &str,
        wrong_type: impl FnOnce(String) -> KmsError,
    ) -> Result<Option<&str>, KmsError> {
        match self.given(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(format!(
                "{name} must be a string, not {}.",
                type_name(other)
            ))),
        }
    }

    pub fn required_str(
        &self,
        name: &'static str,
        wrong_type: impl FnOnce(String) -> KmsError,
    ) -> Result<&str, KmsError> {
        self.optional_str(name, wrong_type)?
            .ok_or(KmsError::MissingParameter(name))
    }

    /// An optional integer sent as a JSON number or a decimal string.
    pub fn optional_integer(
        &self,
        name: &str,
        invalid: impl FnOnce(String) -> KmsError,
    ) -> Result<Option<i64>, KmsError> {
        let parsed = match self.given(name) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        parsed.map(Some).ok_or_else(|| {
            invalid(format!(
                "{name} must be an integer, given as a number or a string of digits."
            ))
        })
    }

    /// A required array of strings.
    pub fn required_str_array(
        &self,
        name: &'static str,
        wrong_type: impl Fn(String) -> KmsError,
    ) -> Result<Vec<&str>, KmsError> {
        match self.given(name) {
            None => Err(KmsError::MissingParameter(name)),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.as_str()),
                    other => Err(wrong_type(format!(
                        "{name} must contain only strings, not {}.",
                        type_name(other)
                    ))),
                })
                .collect(),
            Some(other) => Err(wrong_type(format!(
                "{name} must be an array of strings, not {}.",
                type_name(other)
            ))),
        }
    }

    /// The optional `sequence` every request may carry.
    pub fn check_sequence(&self) -> Result<(), KmsError> {
        match self.optional_str("sequence", |_| KmsError::InvalidSequence)? {
            Some(sequence) => validate_sequence(sequence),
            None => Ok(()),
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Body {
        Body::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn empty_bodies_read_as_empty_objects_and_others_must_be_objects() {
        assert!(Body::parse(b"").is_ok());
        assert!(Body::parse(b"  \n").is_ok());
        for bad in [
            &b"[]"[..],
            b"\"x\"",
            b"{",
            b"{\"a\":1,}",
            b"\xff\xfe",
            b"null",
        ] {
            assert!(
                matches!(Body::parse(bad), Err(KmsError::MalformedJson(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn deeply_nested_json_is_rejected_not_overflowed() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            Body::parse(deep.as_bytes()),
            Err(KmsError::MalformedJson(_))
        ));
    }

    #[test]
    fn empty_strings_and_nulls_mean_absent() {
        let b = body(r#"{"limit": "", "marker": null}"#);
        assert_eq!(
            b.optional_integer("limit", KmsError::InvalidLimit).unwrap(),
            None
        );
        assert_eq!(
            b.optional_integer("marker", KmsError::InvalidMarker)
                .unwrap(),
            None
        );
        assert_eq!(
            b.required_str("key_id", KmsError::InvalidKeyId),
            Err(KmsError::MissingParameter("key_id"))
        );
    }

    #[test]
    fn integers_arrive_as_numbers_or_strings() {
        let b = body(
            r#"{"a": 100, "b": "25", "c": 1.5, "d": "x", "e": true, "f": 99999999999999999999}"#,
        );
        assert_eq!(
            b.optional_integer("a", KmsError::InvalidLimit).unwrap(),
            Some(100)
        );
        assert_eq!(
            b.optional_integer("b", KmsError::InvalidLimit).unwrap(),
            Some(25)
        );
        for name in ["c", "d", "e", "f"] {
            assert!(matches!(
                b.optional_integer(name, KmsError::InvalidLimit),
                Err(KmsError::InvalidLimit(_))
            ));
        }
    }

    #[test]
    fn wrongly_typed_strings_use_the_callers_error() {
        let b = body(r#"{"key_id": 5}"#);
        assert!(matches!(
            b.required_str("key_id", KmsError::InvalidKeyId),
            Err(KmsError::InvalidKeyId(_))
        ));
    }

    #[test]
    fn string_arrays_reject_other_shapes() {
        let b = body(r#"{"ok": ["a", "b"], "mixed": ["a", 1], "flat": "a", "empty": []}"#);
        assert_eq!(
            b.required_str_array("ok", KmsError::InvalidParameter)
                .unwrap(),
            vec!["a", "b"]
        );
        assert!(
            b.required_str_array("mixed", KmsError::InvalidParameter)
                .is_err()
        );
        assert!(
            b.required_str_array("flat", KmsError::InvalidParameter)
                .is_err()
        );
        assert_eq!(
            b.required_str_array("empty", KmsError::InvalidParameter)
                .unwrap(),
            Vec::<&str>::new()
        );
        assert_eq!(
            b.required_str_array("absent", KmsError::InvalidParameter),
            Err(KmsError::MissingParameter("absent"))
        );
    }

    #[test]
    fn sequence_is_checked_when_present() {
        assert!(
            body(r#"{"sequence": "919c82d4-8046-4722-9094-35c3c6524cff"}"#)
                .check_sequence()
                .is_ok()
        );
        assert_eq!(
            body(r#"{"sequence": "1"}"#).check_sequence(),
            Err(KmsError::InvalidSequence)
        );
        assert_eq!(
            body(r#"{"sequence": 1}"#).check_sequence(),
            Err(KmsError::InvalidSequence)
        );
        assert!(body("{}").check_sequence().is_ok());
    }
}
