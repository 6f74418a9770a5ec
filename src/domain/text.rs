//! Free text from requests: each cloud's documented length and pattern for the fields
//! that are stored, checked in this one place for both dialects.
//!
//! Lengths count characters (Unicode scalar values), as both clouds' limits do. Control
//! characters (Unicode `Cc`: U+0000–U+001F and U+007F–U+009F) are refused in every field
//! here: PostgreSQL cannot store U+0000 in `text` at all (`invalid byte sequence for
//! encoding "UTF8": 0x00`) while SQLite can, so letting one through would make the two
//! stores answer differently, and the others are refused with it so the rule is one
//! rule. Huawei documents `key_description` as 0–255 characters and AWS `Description`
//! as 0–8192 with no pattern; refusing control characters in them is this emulator's
//! choice (printable text only), documented in the README.
//!
//! Encryption contexts are not checked here: AWS allows any Unicode in them, and they
//! reach the database only as JSON text (`ContextConstraint::to_stored`), where a U+0000
//! is the six characters `\u0000`.

/// What a field may contain besides its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// Any character but a control character.
    Printable,
    /// Printable text on several lines: tab, line feed and carriage return allowed,
    /// every other control character refused. For descriptions, which people write
    /// (Terraform heredocs, console text areas) and both clouds store as given.
    Multiline,
    /// `[a-zA-Z0-9:/_-]`, the key alias and grant name pattern of both clouds.
    AliasChars,
}

/// One field's documented limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    pub min: usize,
    pub max: usize,
    pub charset: Charset,
}

/// Huawei/OTC `key_alias`: `^[a-zA-Z0-9:/_-]{1,255}$`.
pub const HUAWEI_KEY_ALIAS: TextRule = TextRule {
    min: 1,
    max: 255,
    charset: Charset::AliasChars,
};
/// Huawei/OTC `key_description`: 0–255 characters.
pub const HUAWEI_KEY_DESCRIPTION: TextRule = TextRule {
    min: 0,
    max: 255,
    charset: Charset::Multiline,
};
/// Huawei/OTC grant `name`: `^[a-zA-Z0-9:/_-]{1,255}$`.
pub const HUAWEI_GRANT_NAME: TextRule = TextRule {
    min: 1,
    max: 255,
    charset: Charset::AliasChars,
};
/// AWS `Description` (botocore `DescriptionType`: min 0, max 8192, no pattern).
pub const AWS_DESCRIPTION: TextRule = TextRule {
    min: 0,
    max: 8192,
    charset: Charset::Multiline,
};
/// AWS grant `Name` (botocore `GrantNameType`: 1–256, `^[a-zA-Z0-9:/_-]+$`).
pub const AWS_GRANT_NAME: TextRule = TextRule {
    min: 1,
    max: 256,
    charset: Charset::AliasChars,
};

/// Why a value broke its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    /// A control character, and its position (in characters, from 0).
    ControlCharacter {
        at: usize,
        code: u32,
    },
    /// A character outside `[a-zA-Z0-9:/_-]`.
    NotAliasChars,
}

impl Violation {
    /// The rule in AWS's ValidationException words ("Member must ...").
    pub fn aws_constraint(&self) -> String {
        match self {
            Self::TooShort { min } => {
                format!("Member must have length greater than or equal to {min}")
            }
            Self::TooLong { max } => format!("Member must have length less than or equal to {max}"),
            Self::ControlCharacter { at, code } => format!(
                "Member must not contain control characters (U+{code:04X} at position {at})"
            ),
            Self::NotAliasChars => {
                "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$".to_owned()
            }
        }
    }

    /// The rule in a Huawei error message, about `field` under `rule`.
    pub fn huawei_message(&self, field: &str, rule: &TextRule) -> String {
        let (min, max) = (rule.min, rule.max);
        match self {
            Self::TooShort { .. } | Self::TooLong { .. } | Self::NotAliasChars => {
                match rule.charset {
                    Charset::AliasChars => format!(
                        "{field} must be {min} to {max} characters from a-z, A-Z, 0-9, ':', '/', '_' and '-'."
                    ),
                    Charset::Printable | Charset::Multiline => {
                        format!("{field} must be {min} to {max} characters.")
                    }
                }
            }
            Self::ControlCharacter { at, code } => format!(
                "{field} must not contain control characters (U+{code:04X} at position {at})."
            ),
        }
    }
}

fn alias_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-')
}

/// The first control character of `value` and its position, if any.
pub fn first_control(value: &str) -> Option<(usize, char)> {
    value.chars().enumerate().find(|(_, c)| c.is_control())
}

/// Checks `value` against `rule`: length first, then characters.
pub fn check(rule: &TextRule, value: &str) -> Result<(), Violation> {
    let length = value.chars().count();
    if length < rule.min {
        return Err(Violation::TooShort { min: rule.min });
    }
    if length > rule.max {
        return Err(Violation::TooLong { max: rule.max });
    }
    let refused = |c: &char| {
        c.is_control() && !(rule.charset == Charset::Multiline && matches!(c, '\t' | '\n' | '\r'))
    };
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| refused(c)) {
        return Err(Violation::ControlCharacter {
            at,
            code: u32::from(c),
        });
    }
    if rule.charset == Charset::AliasChars && !value.chars().all(alias_char) {
        return Err(Violation::NotAliasChars);
    }
    Ok(())
}

/// Text the service writes itself from request material (audit details, messages):
/// control characters become U+FFFD, so a value that slipped past a parser can neither
/// fail a PostgreSQL write nor forge lines in what an operator reads.
pub fn printable(value: &str) -> std::borrow::Cow<'_, str> {
    if first_control(value).is_none() {
        std::borrow::Cow::Borrowed(value)
    } else {
        std::borrow::Cow::Owned(
            value
                .chars()
                .map(|c| if c.is_control() { '\u{fffd}' } else { c })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters_and_bounds_are_inclusive() {
        assert_eq!(check(&HUAWEI_KEY_DESCRIPTION, ""), Ok(()));
        assert_eq!(check(&HUAWEI_KEY_DESCRIPTION, &"é".repeat(255)), Ok(()));
        assert_eq!(
            check(&HUAWEI_KEY_DESCRIPTION, &"é".repeat(256)),
            Err(Violation::TooLong { max: 255 })
        );
        assert_eq!(check(&AWS_DESCRIPTION, &"𝄞".repeat(8192)), Ok(()));
        assert_eq!(
            check(&AWS_DESCRIPTION, &"d".repeat(8193)),
            Err(Violation::TooLong { max: 8192 })
        );
        assert_eq!(check(&HUAWEI_KEY_ALIAS, &"k".repeat(255)), Ok(()));
        assert_eq!(
            check(&HUAWEI_KEY_ALIAS, &"k".repeat(256)),
            Err(Violation::TooLong { max: 255 })
        );
        assert_eq!(
            check(&HUAWEI_KEY_ALIAS, ""),
            Err(Violation::TooShort { min: 1 })
        );
        assert_eq!(check(&AWS_GRANT_NAME, &"n".repeat(256)), Ok(()));
        assert_eq!(
            check(&AWS_GRANT_NAME, &"n".repeat(257)),
            Err(Violation::TooLong { max: 256 })
        );
        assert_eq!(check(&HUAWEI_GRANT_NAME, &"n".repeat(255)), Ok(()));
        assert_eq!(
            check(&HUAWEI_GRANT_NAME, &"n".repeat(256)),
            Err(Violation::TooLong { max: 255 })
        );
    }

    #[test]
    fn control_characters_are_refused_in_every_rule() {
        for rule in [
            HUAWEI_KEY_ALIAS,
            HUAWEI_KEY_DESCRIPTION,
            HUAWEI_GRANT_NAME,
            AWS_DESCRIPTION,
            AWS_GRANT_NAME,
        ] {
            for c in [
                '\0', '\u{1}', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}',
            ] {
                if rule.charset == Charset::Multiline && matches!(c, '\t' | '\n' | '\r') {
                    assert_eq!(check(&rule, &format!("ab{c}cd")), Ok(()), "{rule:?} {c:?}");
                    continue;
                }
                let value = format!("ab{c}cd");
                assert_eq!(
                    check(&rule, &value),
                    Err(Violation::ControlCharacter {
                        at: 2,
                        code: u32::from(c)
                    }),
                    "{rule:?} {c:?}"
                );
            }
        }
        // Printable text beyond ASCII, including format characters and spaces, is text.
        for fine in ["a b", "ü€𝄞", "\u{a0}", "\u{200b}", "日本語の説明"] {
            assert_eq!(check(&HUAWEI_KEY_DESCRIPTION, fine), Ok(()), "{fine:?}");
            assert_eq!(check(&AWS_DESCRIPTION, fine), Ok(()), "{fine:?}");
        }
    }

    #[test]
    fn alias_charset_follows_the_documented_pattern() {
        for good in ["kms_test", "app/db-key", "a:b/c_d-e", "Z9"] {
            assert_eq!(check(&HUAWEI_KEY_ALIAS, good), Ok(()));
            assert_eq!(check(&AWS_GRANT_NAME, good), Ok(()));
        }
        for bad in ["a b", "é", "a.b", "a*", "a\u{200b}"] {
            assert_eq!(
                check(&HUAWEI_GRANT_NAME, bad),
                Err(Violation::NotAliasChars),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn messages_name_the_rule() {
        let v = check(&AWS_DESCRIPTION, "a\0").unwrap_err();
        assert_eq!(
            v.aws_constraint(),
            "Member must not contain control characters (U+0000 at position 1)"
        );
        assert_eq!(
            Violation::TooLong { max: 8192 }.aws_constraint(),
            "Member must have length less than or equal to 8192"
        );
        assert_eq!(
            v.huawei_message("key_description", &HUAWEI_KEY_DESCRIPTION),
            "key_description must not contain control characters (U+0000 at position 1)."
        );
        assert_eq!(
            Violation::TooLong { max: 255 }
                .huawei_message("key_description", &HUAWEI_KEY_DESCRIPTION),
            "key_description must be 0 to 255 characters."
        );
    }

    #[test]
    fn printable_replaces_control_characters_only() {
        assert!(matches!(
            printable("plain ü"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(printable("a\0b\nc\u{85}"), "a\u{fffd}b\u{fffd}c\u{fffd}");
    }
}
