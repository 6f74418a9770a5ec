//! IAM wildcards: `*` matches any run of characters (also none), `?` exactly one.
//! Both clouds' policy languages use them in actions, resources and `*Like` conditions.

/// Whether `value` matches `pattern`, comparing characters exactly.
pub fn matches(pattern: &str, value: &str) -> bool {
    matches_with(pattern, value, |a, b| a == b)
}

/// As `matches`, ignoring ASCII case (action names: `kms:encrypt` is `kms:Encrypt`).
pub fn matches_ignore_case(pattern: &str, value: &str) -> bool {
    matches_with(pattern, value, |a, b| a.eq_ignore_ascii_case(&b))
}

/// The usual two-pointer glob match: linear in practice, and it backtracks only to the
/// last `*`, so a hostile pattern of many stars cannot make it exponential.
fn matches_with(pattern: &str, value: &str, same: impl Fn(char, char) -> bool) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let value: Vec<char> = value.chars().collect();
    let (mut p, mut v) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, v));
            p += 1;
        } else if p < pattern.len() && (pattern[p] == '?' || same(pattern[p], value[v])) {
            p += 1;
            v += 1;
        } else if let Some((star_p, star_v)) = star {
            p = star_p + 1;
            v = star_v + 1;
            star = Some((star_p, star_v + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("kms:*", "kms:Encrypt", true),
            ("kms:Encrypt", "kms:Encrypt", true),
            ("kms:Encrypt", "kms:Encrypt2", false),
            ("kms:Encrypt*", "kms:Encrypt", true),
            ("kms:*crypt", "kms:Decrypt", true),
            ("kms:*crypt", "kms:DecryptData", false),
            ("kms:?ncrypt", "kms:Encrypt", true),
            ("kms:?ncrypt", "kms:ncrypt", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("", "", true),
            ("", "x", false),
            ("**", "x", true),
            (
                "arn:aws:kms:*:111122223333:key/*",
                "arn:aws:kms:eu-de:111122223333:key/k",
                true,
            ),
            (
                "arn:aws:kms:*:111122223333:key/*",
                "arn:aws:kms:eu-de:444455556666:key/k",
                false,
            ),
        ];
        for (pattern, value, expected) in cases {
            assert_eq!(matches(pattern, value), expected, "{pattern} ~ {value}");
        }
    }

    #[test]
    fn case_folding_only_where_asked() {
        assert!(!matches("kms:encrypt", "kms:Encrypt"));
        assert!(matches_ignore_case("kms:encrypt", "kms:Encrypt"));
        assert!(matches_ignore_case("KMS:*", "kms:Decrypt"));
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = "*a".repeat(200);
        let value = "a".repeat(5000) + "b";
        assert!(!matches(&pattern, &value));
    }
}
