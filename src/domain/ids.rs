//! Identifiers with the formats the Huawei/OTC API documents.

use std::fmt;

use super::KmsError;

// The formats are checked byte by byte rather than with `regex`: ids are parsed for every
// row read back from the store (a list-grants page of 20 parses 40), and the regex engine
// cost about 800 instructions a call against about 100 here (callgrind, benchmark run).
// Every allowed character is ASCII, so byte counts equal the patterns' character counts.
// The tests check these against the patterns they replace.

/// `^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$`
fn is_key_id(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || c.is_ascii_lowercase(),
        })
}

/// `^[A-Fa-f0-9]{64}$`
fn is_grant_id(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|c| c.is_ascii_hexdigit())
}

/// `^[a-zA-Z0-9]{1,64}$`
fn is_principal_id(value: &str) -> bool {
    (1..=64).contains(&value.len()) && value.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// Shown in messages instead of an over-long value a client sent.
pub(crate) fn excerpt(value: &str) -> String {
    const MAX: usize = 80;
    let printable: String = value
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .take(MAX)
        .collect();
    if value.chars().count() > MAX {
        format!("{printable}…")
    } else {
        printable
    }
}

/// `^mrk-[0-9a-f]{32}$`: a multi-Region key's ID (AWS's form, 36 characters like a UUID).
fn is_multi_region_key_id(value: &str) -> bool {
    value.len() == 36
        && value.starts_with("mrk-")
        && value
            .bytes()
            .skip(4)
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// A customer master key ID: a lower-case UUID-shaped string of 36 characters, or a
/// multi-Region key's `mrk-` and 32 hexadecimal digits.
///
/// A multi-Region key and its replicas share their ID but are rows of their own, one per
/// region: the store names such a row `ID@REGION` (`stored`), and a client only ever sees
/// and sends `ID` (`as_str`, `Display`). A client's ID is placed in the region it is used
/// in with `in_region`, so the same ID names the primary in one region and a replica in
/// another. Material is wrapped, and ciphertexts framed, under the shared `ID`, so a
/// replica opens what its primary sealed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// A key ID a client sent (never the stored `ID@REGION` form).
    pub fn parse(value: &str) -> Result<Self, KmsError> {
        if is_key_id(value) || is_multi_region_key_id(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(KmsError::InvalidKeyId(format!(
                "'{}' must be 36 characters matching ^[0-9a-z]{{8}}-[0-9a-z]{{4}}-[0-9a-z]{{4}}-[0-9a-z]{{4}}-[0-9a-z]{{12}}$.",
                excerpt(value)
            )))
        }
    }

    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// A new multi-Region key's ID (`mrk-` and 32 hexadecimal digits), placed in `region`.
    pub fn generate_multi_region(region: &str) -> Self {
        let id = format!("mrk-{}", uuid::Uuid::new_v4().simple());
        Self(id).in_region(region)
    }

    /// A key ID as the store holds it: a client's ID, or a multi-Region key's `ID@REGION`.
    pub fn parse_stored(value: &str) -> Result<Self, KmsError> {
        match value.split_once('@') {
            Some((id, region))
                if is_multi_region_key_id(id) && super::region::is_region_name(region) =>
            {
                Ok(Self(value.to_owned()))
            }
            _ => Self::parse(value),
        }
    }

    /// The key this ID names in `region`: a multi-Region key's row of that region (whatever
    /// region the ID was placed in before); any other key is the same key everywhere (and
    /// seen only in its own region).
    pub fn in_region(&self, region: &str) -> Self {
        if self.is_multi_region() {
            Self(format!("{}@{region}", self.as_str()))
        } else {
            self.clone()
        }
    }

    /// Whether this is a multi-Region key's ID (`mrk-...`).
    pub fn is_multi_region(&self) -> bool {
        self.0.starts_with("mrk-")
    }

    /// The region a multi-Region key's stored ID places it in.
    pub fn placed_region(&self) -> Option<&str> {
        self.0.split_once('@').map(|(_, region)| region)
    }

    /// The ID clients see and send (a multi-Region key's ID without its region).
    pub fn as_str(&self) -> &str {
        match self.0.split_once('@') {
            Some((id, _)) => id,
            None => &self.0,
        }
    }

    /// The ID as the store holds it (see the type's documentation).
    pub fn stored(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A grant ID: 64 hexadecimal characters. Stored and compared in lower case, so a
/// client that upper-cases an ID still names the same grant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GrantId(String);

impl GrantId {
    pub fn parse(value: &str) -> Result<Self, KmsError> {
        if is_grant_id(value) {
            Ok(Self(value.to_ascii_lowercase()))
        } else {
            Err(KmsError::InvalidGrantId(format!(
                "'{}' must be 64 hexadecimal characters.",
                excerpt(value)
            )))
        }
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self(crate::hex::lower(&bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IAM user ID or account (domain) ID as used for grantee and retiring principals.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrincipalId(String);

impl PrincipalId {
    pub fn parse(field: &str, value: &str) -> Result<Self, KmsError> {
        if is_principal_id(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(KmsError::InvalidPrincipal(format!(
                "{field} '{}' must be 1 to 64 letters or digits.",
                excerpt(value)
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The optional `sequence` request serial number: exactly 36 bytes.
pub fn validate_sequence(value: &str) -> Result<(), KmsError> {
    if value.len() == 36 {
        Ok(())
    } else {
        Err(KmsError::InvalidSequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte checks accept exactly what the regexes they replaced accept.
    #[test]
    fn byte_checks_match_the_former_patterns() {
        let key =
            regex::Regex::new(r"^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$")
                .unwrap();
        let grant = regex::Regex::new(r"^[A-Fa-f0-9]{64}$").unwrap();
        let principal = regex::Regex::new(r"^[a-zA-Z0-9]{1,64}$").unwrap();
        let base = [
            "0d0466b0-e727-4d9c-b35d-f84bb474a37f".to_string(),
            "0D0466B0-e727-4d9c-b35d-f84bb474a37f".into(),
            "0d0466b0-e727-4d9c-b35d-f84bb474a37f\n".into(),
            "0d0466b0_e727-4d9c-b35d-f84bb474a37f".into(),
            "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz".into(),
            "é".repeat(18),
            "a".repeat(64),
            "A".repeat(64),
            "g".repeat(64),
            format!("{}\n", "a".repeat(63)),
            "a".repeat(65),
            "ab12".into(),
            String::new(),
            "x".repeat(36),
        ];
        // Every base value, plus each one-character variant at a few positions.
        let mut samples = base.to_vec();
        for s in &base {
            for at in [0, 1, 8, 13, 35, 63] {
                for c in ['-', 'a', 'F', '0', 'z', ' ', '\u{e9}', '\n'] {
                    let mut chars: Vec<char> = s.chars().collect();
                    if at < chars.len() {
                        chars[at] = c;
                        samples.push(chars.into_iter().collect());
                    }
                }
            }
        }
        for s in &samples {
            assert_eq!(is_key_id(s), key.is_match(s), "key id {s:?}");
            assert_eq!(is_grant_id(s), grant.is_match(s), "grant id {s:?}");
            assert_eq!(is_principal_id(s), principal.is_match(s), "principal {s:?}");
        }
    }

    #[test]
    fn key_id_accepts_documented_examples() {
        for id in [
            "0d0466b0-e727-4d9c-b35d-f84bb474a37f",
            "bb6a3d22-dc93-47ac-b5bd-88df7ad35f1e",
        ] {
            assert_eq!(KeyId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn key_id_rejects_wrong_shapes() {
        for id in [
            "",
            "0D0466B0-E727-4D9C-B35D-F84BB474A37F",
            "0d0466b0e7274d9cb35df84bb474a37f",
            "0d0466b0-e727-4d9c-b35d-f84bb474a37f0",
            " 0d0466b0-e727-4d9c-b35d-f84bb474a37f",
            "0d0466b0-e727-4d9c-b35d-f84bb474a37\n",
            "alias/my-key",
        ] {
            assert!(
                matches!(KeyId::parse(id), Err(KmsError::InvalidKeyId(_))),
                "{id:?}"
            );
        }
    }

    #[test]
    fn generated_key_ids_parse() {
        let id = KeyId::generate();
        assert_eq!(KeyId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn grant_id_is_case_insensitive_and_stored_lower_case() {
        let upper = "7C9A3286AF4FCCA5F0A385AD13E1D21A50E27B6DBCAB50F37F30F93B8939827D";
        let parsed = GrantId::parse(upper).unwrap();
        assert_eq!(parsed.as_str(), upper.to_ascii_lowercase());
    }

    #[test]
    fn grant_id_rejects_wrong_lengths_and_characters() {
        for id in ["", "00", &"a".repeat(63), &"a".repeat(65), &"g".repeat(64)] {
            assert!(
                matches!(GrantId::parse(id), Err(KmsError::InvalidGrantId(_))),
                "{id:?}"
            );
        }
    }

    #[test]
    fn generated_grant_ids_are_64_lower_hex_and_distinct() {
        let a = GrantId::generate();
        let b = GrantId::generate();
        assert_eq!(a.as_str().len(), 64);
        assert!(
            a.as_str()
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn principal_ids_follow_the_documented_pattern() {
        assert!(
            PrincipalId::parse("grantee_principal", "13gg44z4g2sglzk0egw0u726zoyzvrs8").is_ok()
        );
        assert!(PrincipalId::parse("grantee_principal", &"a".repeat(64)).is_ok());
        for bad in ["", "has space", "dash-ed", &"a".repeat(65), "ünï"] {
            assert!(matches!(
                PrincipalId::parse("grantee_principal", bad),
                Err(KmsError::InvalidPrincipal(_))
            ));
        }
    }

    #[test]
    fn sequence_must_be_36_bytes() {
        assert!(validate_sequence("919c82d4-8046-4722-9094-35c3c6524cff").is_ok());
        assert_eq!(validate_sequence("short"), Err(KmsError::InvalidSequence));
    }

    #[test]
    fn excerpt_truncates_and_hides_control_characters() {
        assert_eq!(excerpt("a\nb"), "a\u{fffd}b");
        assert!(excerpt(&"x".repeat(200)).ends_with('…'));
    }
}
