//! Key policies of Huawei's trusted key spaces (`key-policies`) and the data-key capsules
//! bound to them (`datakey-capsule/create`, `datakey-capsule/decrypt`): the pure rules.
//!
//! A key policy is a stored resource of a project and region. Its `policy` field is a JSON
//! string (Huawei: "转义后的JSON字符串") of the shape the SDK reads back:
//! `{"version", "validity_period": {"start_time", "end_time"}, "allowed_access_point": [..],
//! "allowed_data_security_zone": [..]}`. Huawei documents no time format for the validity
//! period; like Huawei's other KMS times (creation_date, ...) it is taken as milliseconds
//! since the epoch in a string (a JSON number is taken too), or an RFC 3339 time.
//!
//! Key spaces themselves are not served by this emulator (no dedicated key stores or
//! access-point objects): any well-formed `keyspace_id` (a UUID, Huawei's documented pattern)
//! is accepted, and it only groups policies for `ListKeyPolicy`.
//!
//! The emulator cannot verify an ECS/CCE attestation. Its documented rule instead
//! (README "Trusted key spaces"): the decrypt request's `attestation_document.service_token`
//! names the access point (or data security zone) the caller runs in; it must be listed
//! in the policy's `allowed_access_point` (or `allowed_data_security_zone`) unless both
//! lists are empty (no restriction); `expire_time`, when given, must not have passed on
//! the emulator's clock; and the policy's validity period must contain the emulator's now.
//! The answer's `instance_id` is that access point or zone.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::ids::excerpt;

/// Huawei's policy_name pattern.
static POLICY_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9:/_-]{1,255}$").unwrap());
/// Huawei's keyspace_id / policy_id / marker pattern.
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
        .unwrap()
});

/// The longest `policy` text accepted (Huawei documents none; AWS's key policy limit).
pub const MAX_POLICY_TEXT: usize = 32 * 1024;
/// The longest description (Huawei documents none; the key description's limit).
pub const MAX_DESCRIPTION: usize = 255;
/// The most entries in each allowed list (Huawei documents none).
pub const MAX_ALLOWED: usize = 100;

/// A stored key policy of a trusted key space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyspacePolicy {
    pub policy_id: String,
    pub project_id: String,
    pub region: String,
    pub keyspace_id: String,
    pub policy_name: String,
    /// The policy document, normalized (`PolicyDocument::to_text`).
    pub policy: String,
    pub description: String,
    pub created_by: String,
    /// ms since the epoch (the emulator's clock).
    pub create_time: i64,
    pub last_modify_time: i64,
    /// The last capsule made or opened under the policy; `None`: never.
    pub last_access_time: Option<i64>,
}

/// A time of the validity period: as given (echoed back) and in ms since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyTime {
    pub text: String,
    pub ms: i64,
}

/// A parsed, checked policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub version: String,
    pub start: Option<PolicyTime>,
    pub end: Option<PolicyTime>,
    pub allowed_access_point: Vec<String>,
    pub allowed_data_security_zone: Vec<String>,
}

/// Why a capsule does not open for a caller under its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapsuleDenial {
    NotYetValid,
    Expired,
    AttestationExpired,
    AccessPointNotAllowed(String),
}

impl std::fmt::Display for CapsuleDenial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotYetValid => f.write_str("the key policy's validity period has not started"),
            Self::Expired => f.write_str("the key policy's validity period has ended"),
            Self::AttestationExpired => f.write_str("the attestation document has expired"),
            Self::AccessPointNotAllowed(point) => write!(
                f,
                "'{}' is neither an allowed access point nor an allowed data security zone of the key policy",
                excerpt(point)
            ),
        }
    }
}

pub fn is_uuid(text: &str) -> bool {
    UUID.is_match(text)
}

pub fn check_policy_name(name: &str) -> Result<(), String> {
    if POLICY_NAME.is_match(name) {
        Ok(())
    } else {
        Err(format!(
            "policy_name '{}' must match ^[a-zA-Z0-9:/_-]{{1,255}}$.",
            excerpt(name)
        ))
    }
}

pub fn check_description(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_DESCRIPTION {
        Err(format!(
            "description is at most {MAX_DESCRIPTION} characters."
        ))
    } else {
        Ok(())
    }
}

/// A time of the document: ms since the epoch (string of digits or JSON integer) or RFC 3339.
pub fn parse_time(value: &Value, field: &str) -> Result<PolicyTime, String> {
    let bad =
        || format!("validity_period.{field} is milliseconds since the epoch or an RFC 3339 time.");
    let (text, ms) = match value {
        Value::Number(n) => {
            let ms = n.as_i64().filter(|ms| *ms >= 0).ok_or_else(bad)?;
            (ms.to_string(), ms)
        }
        Value::String(s)
            if !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (s.clone(), s.parse::<i64>().map_err(|_| bad())?)
        }
        Value::String(s) => {
            let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map_err(|_| bad())?;
            let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| bad())?;
            (s.clone(), ms)
        }
        _ => return Err(bad()),
    };
    Ok(PolicyTime { text, ms })
}

fn string_list(object: &Map<String, Value>, field: &str) -> Result<Vec<String>, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() <= MAX_ALLOWED => items
            .iter()
            .map(|item| match item {
                Value::String(s) if !s.is_empty() && s.len() <= 128 => Ok(s.clone()),
                _ => Err(format!(
                    "{field} holds non-empty strings of at most 128 characters."
                )),
            })
            .collect(),
        Some(_) => Err(format!("{field} is a list of at most {MAX_ALLOWED} IDs.")),
    }
}

impl PolicyDocument {
    /// Parses the `policy` string of a request: JSON of the documented shape, nothing else.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > MAX_POLICY_TEXT {
            return Err(format!("policy is at most {MAX_POLICY_TEXT} bytes."));
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("policy is not JSON: {e}."))?;
        Self::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<Self, String> {
        let Value::Object(object) = value else {
            return Err("policy is a JSON object.".into());
        };
        const FIELDS: [&str; 4] = [
            "version",
            "validity_period",
            "allowed_access_point",
            "allowed_data_security_zone",
        ];
        if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!(
                "policy has no field '{}'; its fields are {}.",
                excerpt(unknown),
                FIELDS.join(", ")
            ));
        }
        let version = match object.get("version") {
            None | Some(Value::Null) => "1.0".to_owned(),
            Some(Value::String(v)) if !v.is_empty() && v.len() <= 16 => v.clone(),
            Some(_) => return Err("policy.version is a short string, e.g. \"1.0\".".into()),
        };
        let (start, end) = match object.get("validity_period") {
            None | Some(Value::Null) => (None, None),
            Some(Value::Object(period)) => {
                if let Some(unknown) = period
                    .keys()
                    .find(|k| *k != "start_time" && *k != "end_time")
                {
                    return Err(format!(
                        "validity_period has no field '{}'.",
                        excerpt(unknown)
                    ));
                }
                let time = |field: &str| {
                    period
                        .get(field)
                        .filter(|v| !v.is_null())
                        .map(|v| parse_time(v, field))
                        .transpose()
                };
                (time("start_time")?, time("end_time")?)
            }
            Some(_) => return Err("validity_period is an object {start_time, end_time}.".into()),
        };
        if let (Some(s), Some(e)) = (&start, &end)
            && s.ms > e.ms
        {
            return Err("validity_period.start_time is after its end_time.".into());
        }
        Ok(Self {
            version,
            start,
            end,
            allowed_access_point: string_list(object, "allowed_access_point")?,
            allowed_data_security_zone: string_list(object, "allowed_data_security_zone")?,
        })
    }

    /// The document as the API answers it (the SDK's `policy` object).
    pub fn to_value(&self) -> Value {
        let mut period = Map::new();
        if let Some(s) = &self.start {
            period.insert("start_time".into(), json!(s.text));
        }
        if let Some(e) = &self.end {
            period.insert("end_time".into(), json!(e.text));
        }
        json!({
            "version": self.version,
            "validity_period": Value::Object(period),
            "allowed_access_point": self.allowed_access_point,
            "allowed_data_security_zone": self.allowed_data_security_zone,
        })
    }

    /// The normalized text that is stored and bound into capsules.
    pub fn to_text(&self) -> String {
        self.to_value().to_string()
    }

    /// Whether a capsule opens under this policy at `now_ms` (emulator clock) for the
    /// access point or zone `service_token` names, with the attestation's `expire_time`.
    /// Returns the instance the capsule is opened for.
    pub fn admit(
        &self,
        now_ms: i64,
        service_token: &str,
        attestation_expires: Option<i64>,
    ) -> Result<String, CapsuleDenial> {
        if let Some(start) = &self.start
            && now_ms < start.ms
        {
            return Err(CapsuleDenial::NotYetValid);
        }
        if let Some(end) = &self.end
            && now_ms > end.ms
        {
            return Err(CapsuleDenial::Expired);
        }
        if let Some(expires) = attestation_expires
            && now_ms > expires
        {
            return Err(CapsuleDenial::AttestationExpired);
        }
        let unrestricted =
            self.allowed_access_point.is_empty() && self.allowed_data_security_zone.is_empty();
        let listed = self
            .allowed_access_point
            .iter()
            .chain(&self.allowed_data_security_zone)
            .any(|allowed| allowed == service_token);
        if unrestricted || listed {
            Ok(service_token.to_owned())
        } else {
            Err(CapsuleDenial::AccessPointNotAllowed(
                service_token.to_owned(),
            ))
        }
    }
}

/// What a capsule binds besides the data key and the CMK (which its ciphertext frame binds):
/// the stored policy by ID, or an inline policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapsuleBinding {
    PolicyId(String),
    Inline(String),
}

const CAPSULE_MAGIC: &[u8; 4] = b"KDC1";
const CAPSULE_CONTEXT: &[u8] = b"kms-emulator datakey-capsule v1\0";

impl CapsuleBinding {
    fn header(&self) -> Vec<u8> {
        let value = match self {
            Self::PolicyId(id) => json!({ "policy_id": id }),
            Self::Inline(text) => json!({ "key_policy": text }),
        };
        value.to_string().into_bytes()
    }

    /// The additional data the capsule's frame is sealed with: a fixed label and the
    /// header, so that a changed binding does not open.
    pub fn additional_data(&self) -> Vec<u8> {
        [CAPSULE_CONTEXT, &self.header()].concat()
    }

    /// The capsule: `KDC1`, the header's length (u32 BE), the header (JSON), the frame.
    pub fn seal(&self, frame: &[u8]) -> Vec<u8> {
        let header = self.header();
        let mut out = Vec::with_capacity(8 + header.len() + frame.len());
        out.extend_from_slice(CAPSULE_MAGIC);
        out.extend_from_slice(&(header.len() as u32).to_be_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(frame);
        out
    }

    /// The binding and the frame of a capsule, or `None` when it is not one.
    pub fn open(capsule: &[u8]) -> Option<(Self, &[u8])> {
        let rest = capsule.strip_prefix(CAPSULE_MAGIC)?;
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let header = rest.get(4..4usize.checked_add(len)?)?;
        let frame = &rest[4 + len..];
        let value: Value = serde_json::from_slice(header).ok()?;
        let object = value.as_object()?;
        let binding = match (object.get("policy_id"), object.get("key_policy")) {
            (Some(Value::String(id)), None) => Self::PolicyId(id.clone()),
            (None, Some(Value::String(text))) => Self::Inline(text.clone()),
            _ => return None,
        };
        (!frame.is_empty()).then_some((binding, frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_parse_normalize_and_reject_wrong_shapes() {
        let doc = PolicyDocument::parse(
            r#"{"version":"1.0","validity_period":{"start_time":"1000","end_time":"2000"},
                "allowed_access_point":["ap-1"],"allowed_data_security_zone":[]}"#,
        )
        .unwrap();
        assert_eq!(doc.start.as_ref().unwrap().ms, 1000);
        assert_eq!(doc.end.as_ref().unwrap().ms, 2000);
        assert_eq!(PolicyDocument::parse(&doc.to_text()).unwrap(), doc);
        let rfc =
            PolicyDocument::parse(r#"{"validity_period":{"end_time":"1970-01-01T00:00:01Z"}}"#)
                .unwrap();
        assert_eq!(rfc.end.unwrap().ms, 1000);
        assert_eq!(rfc.version, "1.0");
        for bad in [
            "not json",
            "[]",
            r#"{"extra":1}"#,
            r#"{"validity_period":"x"}"#,
            r#"{"validity_period":{"start_time":"yesterday"}}"#,
            r#"{"validity_period":{"start_time":"5","end_time":"4"}}"#,
            r#"{"allowed_access_point":"ap"}"#,
            r#"{"allowed_access_point":[1]}"#,
            r#"{"version":7}"#,
        ] {
            assert!(PolicyDocument::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn admission_checks_the_period_the_attestation_and_the_access_point() {
        let doc = PolicyDocument::parse(
            r#"{"validity_period":{"start_time":"1000","end_time":"2000"},
                "allowed_access_point":["ap-1"],"allowed_data_security_zone":["zone-1"]}"#,
        )
        .unwrap();
        assert_eq!(doc.admit(1500, "ap-1", None), Ok("ap-1".into()));
        assert_eq!(doc.admit(1500, "zone-1", Some(1500)), Ok("zone-1".into()));
        assert_eq!(
            doc.admit(999, "ap-1", None),
            Err(CapsuleDenial::NotYetValid)
        );
        assert_eq!(doc.admit(2001, "ap-1", None), Err(CapsuleDenial::Expired));
        assert_eq!(
            doc.admit(1500, "ap-1", Some(1499)),
            Err(CapsuleDenial::AttestationExpired)
        );
        assert_eq!(
            doc.admit(1500, "ap-2", None),
            Err(CapsuleDenial::AccessPointNotAllowed("ap-2".into()))
        );
        let open = PolicyDocument::parse("{}").unwrap();
        assert_eq!(open.admit(0, "anything", None), Ok("anything".into()));
    }

    #[test]
    fn capsules_round_trip_and_reject_garbage() {
        for binding in [
            CapsuleBinding::PolicyId("p".into()),
            CapsuleBinding::Inline("{}".into()),
        ] {
            let capsule = binding.seal(b"frame");
            assert_eq!(
                CapsuleBinding::open(&capsule),
                Some((binding.clone(), &b"frame"[..]))
            );
            assert!(CapsuleBinding::open(&capsule[..capsule.len() - 5]).is_none());
        }
        assert!(CapsuleBinding::open(b"KDC1\xff\xff\xff\xff").is_none());
        assert!(CapsuleBinding::open(b"").is_none());
        assert_ne!(
            CapsuleBinding::PolicyId("a".into()).additional_data(),
            CapsuleBinding::PolicyId("b".into()).additional_data()
        );
    }

    #[test]
    fn names_and_ids_follow_the_documented_patterns() {
        assert!(check_policy_name("app/policy:1_a-b").is_ok());
        assert!(check_policy_name("").is_err());
        assert!(check_policy_name("a b").is_err());
        assert!(check_policy_name(&"a".repeat(256)).is_err());
        assert!(is_uuid("0d0466b0-e727-4d9c-b35d-f84bb474a37f"));
        assert!(!is_uuid("0d0466b0"));
    }
}
