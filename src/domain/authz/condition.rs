//! Policy conditions: `"Condition": {"<operator>": {"<key>": <value or values>}}`.
//!
//! One evaluator serves both clouds. AWS's operators (StringEquals, StringLike, Null,
//! Bool, Arn*, Numeric*, the `IfExists` suffix and the `ForAnyValue:` / `ForAllValues:`
//! set qualifiers) and Huawei's additions (StringStartWith, StringEndWith,
//! IsNullOrEmpty, Number*) behave as each cloud documents them:
//! - several keys under one operator, and several operators, must all hold (AND);
//! - several values for one key: any may match (OR); for a negated operator, none may;
//! - a key the request does not carry fails the condition, except with `IfExists`,
//!   `Null`, `IsNullOrEmpty`, `ForAllValues:` (vacuously true) and the negated operators
//!   (`StringNotEquals` and the like), which hold when there is nothing to compare.
//!
//! Condition key names are case-insensitive in both clouds; values compare as the
//! operator says (`StringEquals` exactly, `StringEqualsIgnoreCase` ignoring case).

use serde_json::Value;

use super::wildcard;

/// What a request says about the condition keys a policy may test.
pub trait ConditionFacts {
    /// The values of `key` (given in lower case), or `None` when the request does not
    /// carry the key at all. A multi-valued key (kms:EncryptionContextKeys,
    /// kms:GrantOperations) may carry several values, or none.
    fn values(&self, key: &str) -> Option<Vec<String>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    StringStartsWith,
    StringEndsWith,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    Bool,
    ArnEquals,
    ArnLike,
    /// `Null`: the condition value says whether the key must be absent.
    Null,
    /// Huawei `IsNullOrEmpty`: absent, or present with an empty value.
    NullOrEmpty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    AnyValue,
    AllValues,
}

/// One `"<operator>": {"<key>": [values]}` entry, for one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    comparison: Comparison,
    negated: bool,
    if_exists: bool,
    qualifier: Option<SetQualifier>,
    /// Lower case.
    key: String,
    values: Vec<String>,
}

/// Splits an operator name into its parts, or says why it is not one.
fn parse_operator(name: &str) -> Result<(Option<SetQualifier>, Comparison, bool, bool), String> {
    let (qualifier, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (Some(SetQualifier::AnyValue), rest)
    } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (Some(SetQualifier::AllValues), rest)
    } else {
        (None, name)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) if base != "Null" && !base.is_empty() => (base, true),
        _ => (rest, false),
    };
    use Comparison::*;
    let (comparison, negated) = match base {
        "StringEquals" => (StringEquals, false),
        "StringNotEquals" => (StringEquals, true),
        "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
        "StringLike" => (StringLike, false),
        "StringNotLike" => (StringLike, true),
        // Huawei's prefix and suffix operators.
        "StringStartWith" => (StringStartsWith, false),
        "StringNotStartWith" => (StringStartsWith, true),
        "StringEndWith" => (StringEndsWith, false),
        "StringNotEndWith" => (StringEndsWith, true),
        // AWS calls them Numeric*, Huawei Number*.
        "NumericEquals" | "NumberEquals" => (NumericEquals, false),
        "NumericNotEquals" | "NumberNotEquals" => (NumericEquals, true),
        "NumericLessThan" | "NumberLessThan" => (NumericLessThan, false),
        "NumericLessThanEquals" | "NumberLessThanEquals" => (NumericLessThanEquals, false),
        "NumericGreaterThan" | "NumberGreaterThan" => (NumericGreaterThan, false),
        "NumericGreaterThanEquals" | "NumberGreaterThanEquals" => (NumericGreaterThanEquals, false),
        "Bool" => (Bool, false),
        "ArnEquals" => (ArnEquals, false),
        "ArnNotEquals" => (ArnEquals, true),
        "ArnLike" => (ArnLike, false),
        "ArnNotLike" => (ArnLike, true),
        "Null" => (Null, false),
        "IsNullOrEmpty" => (NullOrEmpty, false),
        other => {
            return Err(format!(
                "the condition operator {} is not supported",
                crate::domain::ids::excerpt(other)
            ));
        }
    };
    if matches!(comparison, Null | NullOrEmpty) && (qualifier.is_some() || if_exists) {
        return Err(format!("the condition operator {name} is not valid"));
    }
    Ok((qualifier, comparison, negated, if_exists))
}

/// A condition value as the policy gives it: a string, number or boolean, or a list of them.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads a statement's `Condition` block.
pub fn parse_conditions(block: &Value) -> Result<Vec<Condition>, String> {
    let Value::Object(operators) = block else {
        return Err("Condition must be an object of operators".into());
    };
    let mut conditions = Vec::new();
    for (operator, keys) in operators {
        let (qualifier, comparison, negated, if_exists) = parse_operator(operator)?;
        let Value::Object(keys) = keys else {
            return Err(format!(
                "the condition operator {operator} must map condition keys to values"
            ));
        };
        if keys.is_empty() {
            return Err(format!(
                "the condition operator {operator} names no condition key"
            ));
        }
        for (key, values) in keys {
            let values = match values {
                Value::Array(items) => items.iter().map(scalar_text).collect::<Option<Vec<_>>>(),
                single => scalar_text(single).map(|v| vec![v]),
            }
            .filter(|values| !values.is_empty())
            .ok_or_else(|| {
                format!(
                    "the values of condition key {} must be strings, numbers or booleans",
                    crate::domain::ids::excerpt(key)
                )
            })?;
            if matches!(
                comparison,
                Comparison::Null | Comparison::NullOrEmpty | Comparison::Bool
            ) && values
                .iter()
                .any(|v| !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false"))
            {
                return Err(format!("{operator} takes \"true\" or \"false\""));
            }
            conditions.push(Condition {
                comparison,
                negated,
                if_exists,
                qualifier,
                key: key.to_ascii_lowercase(),
                values,
            });
        }
    }
    Ok(conditions)
}

fn is_true(text: &str) -> bool {
    text.eq_ignore_ascii_case("true")
}

impl Condition {
    /// Whether one request value matches one policy value (before negation).
    fn compare(&self, request: &str, policy: &str) -> bool {
        use Comparison::*;
        let number = |s: &str| s.trim().parse::<f64>().ok();
        match self.comparison {
            StringEquals | ArnEquals => request == policy,
            StringEqualsIgnoreCase => request.to_lowercase() == policy.to_lowercase(),
            StringLike | ArnLike => wildcard::matches(policy, request),
            StringStartsWith => request.starts_with(policy),
            StringEndsWith => request.ends_with(policy),
            NumericEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => match (number(request), number(policy)) {
                (Some(r), Some(p)) => match self.comparison {
                    NumericEquals => r == p,
                    NumericLessThan => r < p,
                    NumericLessThanEquals => r <= p,
                    NumericGreaterThan => r > p,
                    _ => r >= p,
                },
                _ => false,
            },
            Bool => request.eq_ignore_ascii_case(policy),
            Null | NullOrEmpty => false,
        }
    }

    /// Whether one request value satisfies the condition's value list.
    fn value_holds(&self, request: &str) -> bool {
        let any = self.values.iter().any(|p| self.compare(request, p));
        any != self.negated
    }

    pub fn holds(&self, facts: &dyn ConditionFacts) -> bool {
        let present = facts.values(&self.key);
        match self.comparison {
            Comparison::Null => {
                let must_be_absent = is_true(&self.values[0]);
                return present.is_none() == must_be_absent;
            }
            Comparison::NullOrEmpty => {
                let empty = present
                    .as_ref()
                    .is_none_or(|values| values.iter().all(String::is_empty));
                return empty == is_true(&self.values[0]);
            }
            _ => {}
        }
        let Some(values) = present else {
            return self.if_exists
                || self.negated
                || self.qualifier == Some(SetQualifier::AllValues);
        };
        match self.qualifier {
            Some(SetQualifier::AllValues) => values.iter().all(|v| self.value_holds(v)),
            Some(SetQualifier::AnyValue) => values.iter().any(|v| self.value_holds(v)),
            // A single-valued key: a negated operator must hold for every value given,
            // a positive one for some.
            None if self.negated => {
                !values.is_empty() && values.iter().all(|v| self.value_holds(v))
            }
            None => values.iter().any(|v| self.value_holds(v)),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

/// Whether every condition holds.
pub fn all_hold(conditions: &[Condition], facts: &dyn ConditionFacts) -> bool {
    conditions.iter().all(|c| c.holds(facts))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    struct Facts(BTreeMap<&'static str, Vec<&'static str>>);

    impl ConditionFacts for Facts {
        fn values(&self, key: &str) -> Option<Vec<String>> {
            self.0
                .get(key)
                .map(|vs| vs.iter().map(|v| v.to_string()).collect())
        }
    }

    fn facts(pairs: &[(&'static str, &[&'static str])]) -> Facts {
        Facts(pairs.iter().map(|(k, v)| (*k, v.to_vec())).collect())
    }

    fn holds(block: Value, facts: &Facts) -> bool {
        all_hold(&parse_conditions(&block).unwrap(), facts)
    }

    #[test]
    fn string_operators() {
        let f = facts(&[("kms:encryptioncontext:app", &["payroll"])]);
        assert!(holds(
            json!({"StringEquals": {"kms:EncryptionContext:app": "payroll"}}),
            &f
        ));
        assert!(holds(
            json!({"StringEquals": {"kms:EncryptionContext:app": ["hr", "payroll"]}}),
            &f
        ));
        assert!(!holds(
            json!({"StringEquals": {"kms:EncryptionContext:app": "Payroll"}}),
            &f
        ));
        assert!(holds(
            json!({"StringEqualsIgnoreCase": {"kms:EncryptionContext:app": "PAYROLL"}}),
            &f
        ));
        assert!(holds(
            json!({"StringLike": {"kms:EncryptionContext:app": "pay*"}}),
            &f
        ));
        assert!(!holds(
            json!({"StringNotLike": {"kms:EncryptionContext:app": "pay*"}}),
            &f
        ));
        assert!(holds(
            json!({"StringNotEquals": {"kms:EncryptionContext:app": ["hr", "ops"]}}),
            &f
        ));
        assert!(!holds(
            json!({"StringNotEquals": {"kms:EncryptionContext:app": ["hr", "payroll"]}}),
            &f
        ));
        assert!(holds(
            json!({"StringStartWith": {"kms:EncryptionContext:app": "pay"}}),
            &f
        ));
        assert!(holds(
            json!({"StringEndWith": {"kms:EncryptionContext:app": "roll"}}),
            &f
        ));
    }

    #[test]
    fn absent_keys() {
        let none = facts(&[]);
        assert!(!holds(
            json!({"StringEquals": {"kms:CallerAccount": "1"}}),
            &none
        ));
        assert!(holds(
            json!({"StringEqualsIfExists": {"kms:CallerAccount": "1"}}),
            &none
        ));
        assert!(holds(
            json!({"StringNotEquals": {"kms:CallerAccount": "1"}}),
            &none
        ));
        assert!(holds(json!({"Null": {"kms:CallerAccount": "true"}}), &none));
        assert!(!holds(
            json!({"Null": {"kms:CallerAccount": "false"}}),
            &none
        ));
        assert!(holds(
            json!({"ForAllValues:StringEquals": {"kms:GrantOperations": "Decrypt"}}),
            &none
        ));
        assert!(!holds(
            json!({"ForAnyValue:StringEquals": {"kms:GrantOperations": "Decrypt"}}),
            &none
        ));
        assert!(holds(
            json!({"IsNullOrEmpty": {"kms:CallerAccount": "true"}}),
            &none
        ));
        let present = facts(&[("kms:calleraccount", &["1"])]);
        assert!(holds(
            json!({"Null": {"kms:CallerAccount": "false"}}),
            &present
        ));
        assert!(holds(
            json!({"StringEqualsIfExists": {"kms:CallerAccount": "1"}}),
            &present
        ));
        assert!(!holds(
            json!({"StringEqualsIfExists": {"kms:CallerAccount": "2"}}),
            &present
        ));
    }

    #[test]
    fn set_qualifiers() {
        let f = facts(&[("kms:grantoperations", &["Encrypt", "Decrypt"])]);
        let all =
            |values: Value| json!({"ForAllValues:StringEquals": {"kms:GrantOperations": values}});
        let any =
            |values: Value| json!({"ForAnyValue:StringEquals": {"kms:GrantOperations": values}});
        assert!(holds(all(json!(["Encrypt", "Decrypt", "DescribeKey"])), &f));
        assert!(!holds(all(json!(["Encrypt"])), &f));
        assert!(holds(any(json!(["Encrypt"])), &f));
        assert!(!holds(any(json!(["Sign"])), &f));
        // Negated with a qualifier: every (any) request value must avoid the list.
        assert!(holds(
            json!({"ForAllValues:StringNotEquals": {"kms:GrantOperations": "Sign"}}),
            &f
        ));
        assert!(!holds(
            json!({"ForAllValues:StringNotEquals": {"kms:GrantOperations": "Decrypt"}}),
            &f
        ));
        assert!(holds(
            json!({"ForAnyValue:StringNotEquals": {"kms:GrantOperations": "Decrypt"}}),
            &f
        ));
    }

    #[test]
    fn several_conditions_must_all_hold() {
        let f = facts(&[("a", &["1"]), ("b", &["2"])]);
        assert!(holds(json!({"StringEquals": {"a": "1", "b": "2"}}), &f));
        assert!(!holds(json!({"StringEquals": {"a": "1", "b": "3"}}), &f));
        assert!(!holds(
            json!({"StringEquals": {"a": "1"}, "StringLike": {"b": "x*"}}),
            &f
        ));
    }

    #[test]
    fn numbers_and_booleans() {
        let f = facts(&[("n", &["10"]), ("flag", &["false"])]);
        assert!(holds(json!({"NumericLessThan": {"n": 11}}), &f));
        assert!(!holds(json!({"NumericGreaterThan": {"n": "10"}}), &f));
        assert!(holds(json!({"NumberGreaterThanEquals": {"n": "10"}}), &f));
        assert!(holds(json!({"Bool": {"flag": false}}), &f));
        assert!(!holds(json!({"Bool": {"flag": "true"}}), &f));
    }

    #[test]
    fn malformed_blocks_say_why() {
        for (block, expected) in [
            (json!([]), "object"),
            (json!({"StringSoundsLike": {"a": "b"}}), "not supported"),
            (json!({"StringEquals": "a"}), "map"),
            (json!({"StringEquals": {}}), "no condition key"),
            (json!({"StringEquals": {"a": {"b": 1}}}), "strings"),
            (json!({"StringEquals": {"a": []}}), "strings"),
            (json!({"Null": {"a": "maybe"}}), "true"),
            (json!({"ForAnyValue:Null": {"a": "true"}}), "not valid"),
        ] {
            let error = parse_conditions(&block).unwrap_err();
            assert!(
                error.contains(expected),
                "{error} should mention {expected}"
            );
        }
    }
}
