//! Reading AWS JSON 1.1 request fields: a wrong JSON type is a SerializationException,
//! a value outside its constraints a ValidationException worded like AWS's
//! ("1 validation error detected: Value '...' at '...' failed to satisfy constraint: ...").

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::error::AwsError;
use crate::domain::ids::excerpt;
use crate::domain::text::{self, TextRule};

pub struct Body(Map<String, Value>);

/// AWS names a member in lower camel case in validation messages (`keyId`).
fn member(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

pub fn constraint_failed(name: &str, value: &str, constraint: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {constraint}",
        excerpt(value),
        member(name)
    ))
}

fn wrong_type(name: &str, expected: &str) -> AwsError {
    AwsError::serialization(format!("{name} must be {expected}."))
}

impl Body {
    /// An empty body reads as `{}`; anything else must be a JSON object.
    pub fn parse(bytes: &[u8]) -> Result<Self, AwsError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(AwsError::serialization(
                "The request body must be a JSON object.",
            )),
            Err(e) => Err(AwsError::serialization(format!(
                "The request body is not valid JSON: {e}."
            ))),
        }
    }

    /// A field's value unless absent or `null` (AWS SDKs never send `null`).
    pub(super) fn given(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub fn optional_str(&self, name: &str) -> Result<Option<&str>, AwsError> {
        match self.given(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(name, "a string")),
        }
    }

    /// A string with AWS's length constraint.
    /// A free-text member under its documented rule (`domain::text`).
    pub fn optional_text(&self, name: &str, rule: &TextRule) -> Result<Option<&str>, AwsError> {
        let Some(value) = self.optional_str(name)? else {
            return Ok(None);
        };
        text::check(rule, value)
            .map_err(|violation| constraint_failed(name, value, &violation.aws_constraint()))?;
        Ok(Some(value))
    }

    pub fn optional_bounded_str(
        &self,
        name: &str,
        min: usize,
        max: usize,
    ) -> Result<Option<&str>, AwsError> {
        let Some(value) = self.optional_str(name)? else {
            return Ok(None);
        };
        let length = value.chars().count();
        if length < min {
            return Err(constraint_failed(
                name,
                value,
                &format!("Member must have length greater than or equal to {min}"),
            ));
        }
        if length > max {
            return Err(constraint_failed(
                name,
                value,
                &format!("Member must have length less than or equal to {max}"),
            ));
        }
        Ok(Some(value))
    }

    pub fn required_bounded_str(
        &self,
        name: &str,
        min: usize,
        max: usize,
    ) -> Result<&str, AwsError> {
        self.optional_bounded_str(name, min, max)?
            .ok_or_else(|| missing(name))
    }

    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, AwsError> {
        match self.given(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(name, "a boolean")),
        }
    }

    pub fn dry_run(&self) -> Result<bool, AwsError> {
        Ok(self.optional_bool("DryRun")?.unwrap_or(false))
    }

    /// An integer within `min..=max`.
    pub fn optional_int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, AwsError> {
        let value = match self.given(name) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| wrong_type(name, "an integer"))?,
            Some(_) => return Err(wrong_type(name, "an integer")),
        };
        if value < min {
            return Err(constraint_failed(
                name,
                &value.to_string(),
                &format!("Member must have value greater than or equal to {min}"),
            ));
        }
        if value > max {
            return Err(constraint_failed(
                name,
                &value.to_string(),
                &format!("Member must have value less than or equal to {max}"),
            ));
        }
        Ok(Some(value))
    }

    /// A list of strings (`Operations`, `GrantTokens`).
    pub fn optional_str_list(&self, name: &str) -> Result<Option<Vec<&str>>, AwsError> {
        match self.given(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .ok_or_else(|| wrong_type(name, "a list of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(wrong_type(name, "a list of strings")),
        }
    }

    /// A blob: Base64 in JSON, `min..=max` bytes once decoded.
    pub fn optional_blob(
        &self,
        name: &str,
        min: usize,
        max: usize,
    ) -> Result<Option<Vec<u8>>, AwsError> {
        let Some(text) = self.optional_str(name)? else {
            return Ok(None);
        };
        let bytes = BASE64
            .decode(text)
            .map_err(|_| AwsError::serialization(format!("{name} is not valid Base64.")))?;
        if bytes.len() < min {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length greater than or equal to {min}",
                member(name)
            )));
        }
        if bytes.len() > max {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length less than or equal to {max}",
                member(name)
            )));
        }
        Ok(Some(bytes))
    }

    /// A map of strings (`EncryptionContext`, a constraint's pairs).
    pub fn optional_string_map(
        &self,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, AwsError> {
        match self.given(name) {
            None => Ok(None),
            Some(value) => string_map(name, value).map(Some),
        }
    }

    /// An object-valued field, as a nested body.
    pub fn optional_object(&self, name: &str) -> Result<Option<Body>, AwsError> {
        match self.given(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Body(map.clone()))),
            Some(_) => Err(wrong_type(name, "an object")),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.given(name).is_some()
    }

    /// Names of the fields that are set, for checks such as "not both".
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k.as_str())
    }
}

pub fn string_map(name: &str, value: &Value) -> Result<BTreeMap<String, String>, AwsError> {
    let Value::Object(map) = value else {
        return Err(wrong_type(name, "a map of strings"));
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            _ => Err(wrong_type(name, "a map of strings")),
        })
        .collect()
}

pub fn missing(name: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
        member(name)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_are_serialization_errors_and_bounds_are_validation_errors() {
        let body =
            Body::parse(br#"{"KeyId": 5, "Limit": 0, "Name": "", "DryRun": "yes"}"#).unwrap();
        assert_eq!(
            body.optional_str("KeyId").unwrap_err().code,
            "SerializationException"
        );
        let limit = body.optional_int("Limit", 1, 100).unwrap_err();
        assert_eq!(limit.code, "ValidationException");
        assert!(limit.message.contains("at 'limit'"), "{}", limit.message);
        assert_eq!(
            body.optional_bounded_str("Name", 1, 256).unwrap_err().code,
            "ValidationException"
        );
        assert_eq!(body.dry_run().unwrap_err().code, "SerializationException");
        assert_eq!(missing("KeyId").code, "ValidationException");
        assert_eq!(
            Body::parse(b"[1]").err().unwrap().code,
            "SerializationException"
        );
        assert_eq!(
            Body::parse(b"{").err().unwrap().code,
            "SerializationException"
        );
        assert!(Body::parse(b"").is_ok());
    }
}
