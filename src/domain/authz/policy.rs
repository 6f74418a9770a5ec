//! The policy language of both clouds: documents of `Allow` and `Deny` statements over
//! actions, resources, principals (key policies only) and conditions.
//!
//! - **AWS** identity policies and key policies (`"Version": "2012-10-17"`): `Action` /
//!   `NotAction`, `Resource` / `NotResource` (required), `Principal` / `NotPrincipal`
//!   (required in key policies, refused in identity policies), `Condition`.
//! - **Huawei/OTC** custom identity policies (`"Version": "1.1"`): `Action` patterns over
//!   the names of spec §12 (`kms:cmk:crypto`, `kms:grant:create`, their newer
//!   `kms:cmk:createGrant`-style aliases, `kms:*:*`), an optional `Resource`
//!   (`KMS:<region>:<account>:KeyId:<key id>`, wildcards allowed; absent means every
//!   resource) and `Condition`.
//!
//! Parsing checks the whole document, so a malformed policy is refused when it is
//! loaded or put (identities file, PutKeyPolicy), never silently half-applied.

use serde_json::{Map, Value};

use super::condition::{self, Condition, ConditionFacts};
use super::wildcard;
use crate::domain::ids::excerpt;

/// Which cloud's language a document is written in, which decides the action names
/// its statements match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Aws,
    Huawei,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A list of patterns, or (`NotAction`, `NotResource`) everything but them.
#[derive(Debug, Clone, PartialEq)]
struct Patterns {
    negated: bool,
    values: Vec<String>,
}

impl Patterns {
    fn matches_any(&self, candidates: &[&str], ignore_case: bool) -> bool {
        let hit = self.values.iter().any(|pattern| {
            candidates.iter().any(|candidate| {
                if ignore_case {
                    wildcard::matches_ignore_case(pattern, candidate)
                } else {
                    wildcard::matches(pattern, candidate)
                }
            })
        });
        hit != self.negated
    }
}

/// Who a key-policy statement is about.
#[derive(Debug, Clone, PartialEq)]
struct Principals {
    negated: bool,
    /// `"*"` or `{"AWS": "*"}`.
    anyone: bool,
    /// AWS principal ARNs and bare account IDs.
    aws: Vec<String>,
}

/// How a key-policy statement's principals name a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalMatch {
    /// The statement does not name the caller.
    No,
    /// It names the caller's account (`arn:aws:iam::ACCOUNT:root` or `ACCOUNT`), which
    /// lets the account's IAM policies decide.
    Account,
    /// It names the caller itself (its ARN), or everyone.
    Direct,
}

/// The caller as key-policy principals and identity-policy condition keys see it.
pub struct PrincipalFacts<'a> {
    /// `arn:aws:iam::ACCOUNT:user/NAME` (or the role ARN the identities file gives).
    pub arn: &'a str,
    /// The 12-digit AWS account ID of the caller's account.
    pub account: &'a str,
}

impl Principals {
    fn naming(&self, who: &PrincipalFacts<'_>) -> PrincipalMatch {
        let root = format!("arn:aws:iam::{}:root", who.account);
        let found = if self.anyone || self.aws.iter().any(|p| p == who.arn) {
            PrincipalMatch::Direct
        } else if self.aws.iter().any(|p| *p == root || p == who.account) {
            PrincipalMatch::Account
        } else {
            PrincipalMatch::No
        };
        match (self.negated, found) {
            // NotPrincipal: applies to everyone it does not name.
            (true, PrincipalMatch::No) => PrincipalMatch::Direct,
            (true, _) => PrincipalMatch::No,
            (false, found) => found,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    actions: Patterns,
    /// `None`: the statement names no resource (Huawei: every resource).
    resources: Option<Patterns>,
    /// Key policies only.
    principals: Option<Principals>,
    conditions: Vec<Condition>,
}

/// What a request asks, as the statements of one document need to see it.
pub struct Query<'a> {
    /// The names of the action in the document's language.
    pub action_names: &'a [&'a str],
    /// The resource in the document's language (`*` for actions on no key).
    pub resource: &'a str,
    pub facts: &'a dyn ConditionFacts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    language: Language,
    statements: Vec<Statement>,
}

/// A document's verdict on a request: an explicit deny wins over any allow; without
/// either, the document says nothing (an implicit deny, unless something else allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Deny,
    Allow,
    Silent,
}

/// What kind of document is being read: the two kinds differ in which fields they take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Identity,
    Key,
}

/// AWS: a key policy may be at most 32 KB.
pub const MAX_KEY_POLICY_BYTES: usize = 32 * 1024;

fn string_list(value: &Value, field: &str) -> Result<Vec<String>, String> {
    let values = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{field} must be a string or a list of strings"))?,
        _ => return Err(format!("{field} must be a string or a list of strings")),
    };
    if values.is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    Ok(values)
}

/// The one of `positive` and `negative` a statement gives, as patterns.
fn either(
    statement: &Map<String, Value>,
    positive: &str,
    negative: &str,
) -> Result<Option<Patterns>, String> {
    match (statement.get(positive), statement.get(negative)) {
        (Some(_), Some(_)) => Err(format!(
            "a statement may have {positive} or {negative}, not both"
        )),
        (Some(v), None) => Ok(Some(Patterns {
            negated: false,
            values: string_list(v, positive)?,
        })),
        (None, Some(v)) => Ok(Some(Patterns {
            negated: true,
            values: string_list(v, negative)?,
        })),
        (None, None) => Ok(None),
    }
}

fn parse_principals(value: &Value, negated: bool, field: &str) -> Result<Principals, String> {
    let mut principals = Principals {
        negated,
        anyone: false,
        aws: Vec::new(),
    };
    match value {
        Value::String(s) if s == "*" => principals.anyone = true,
        Value::Object(kinds) => {
            for (kind, names) in kinds {
                let names = string_list(names, &format!("{field}.{kind}"))?;
                match kind.as_str() {
                    "AWS" => {
                        for name in names {
                            if name == "*" {
                                principals.anyone = true;
                            } else {
                                principals.aws.push(name);
                            }
                        }
                    }
                    // This emulator has no service or federated principals: such a
                    // statement is valid, and names nobody who can call it.
                    "Service" | "Federated" | "CanonicalUser" => {}
                    other => {
                        return Err(format!(
                            "{field} has an unknown principal type {}",
                            excerpt(other)
                        ));
                    }
                }
            }
        }
        _ => {
            return Err(format!(
                "{field} must be \"*\" or an object such as {{\"AWS\": ...}}"
            ));
        }
    }
    Ok(principals)
}

fn parse_statement(value: &Value, language: Language, kind: Kind) -> Result<Statement, String> {
    let Value::Object(fields) = value else {
        return Err("each statement must be an object".into());
    };
    const KNOWN: [&str; 9] = [
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    ];
    if let Some(unknown) = fields.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!(
            "a statement has an unknown field {}",
            excerpt(unknown)
        ));
    }
    let sid = match fields.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("Sid must be a string".into()),
    };
    let effect = match fields.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => {
            return Err(format!("Effect {} must be Allow or Deny", excerpt(other)));
        }
        None => return Err("every statement needs an Effect".into()),
    };
    let actions = either(fields, "Action", "NotAction")?
        .ok_or("every statement needs an Action or a NotAction")?;
    let resources = either(fields, "Resource", "NotResource")?;
    if resources.is_none() && language == Language::Aws {
        return Err("every statement needs a Resource or a NotResource".into());
    }
    let principals = match (fields.get("Principal"), fields.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err("a statement may have Principal or NotPrincipal, not both".into());
        }
        (Some(v), None) => Some(parse_principals(v, false, "Principal")?),
        (None, Some(v)) => Some(parse_principals(v, true, "NotPrincipal")?),
        (None, None) => None,
    };
    match (kind, &principals) {
        (Kind::Key, None) => return Err("every key policy statement needs a Principal".into()),
        (Kind::Identity, Some(_)) => {
            return Err("an identity policy statement must not have a Principal".into());
        }
        _ => {}
    }
    let conditions = match fields.get("Condition") {
        None => Vec::new(),
        Some(block) => condition::parse_conditions(block)?,
    };
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        principals,
        conditions,
    })
}

impl PolicyDocument {
    /// Reads a policy document from its JSON text.
    pub fn parse(text: &str, language: Language, kind: Kind) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("the policy is not valid JSON: {e}"))?;
        Self::from_value(&value, language, kind)
    }

    pub fn from_value(value: &Value, language: Language, kind: Kind) -> Result<Self, String> {
        let Value::Object(fields) = value else {
            return Err("a policy must be a JSON object".into());
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement"))
        {
            return Err(format!(
                "the policy has an unknown field {}",
                excerpt(unknown)
            ));
        }
        let accepted: &[&str] = match language {
            Language::Aws => &["2012-10-17", "2008-10-17"],
            // 1.0: role-era documents; 1.1: fine-grained policies; 5.0: identity policies.
            Language::Huawei => &["1.1", "1.0", "5.0"],
        };
        match fields.get("Version") {
            None if language == Language::Aws => {}
            Some(Value::String(v)) if accepted.contains(&v.as_str()) => {}
            _ => {
                return Err(format!(
                    "Version must be {}",
                    accepted
                        .iter()
                        .map(|v| format!("\"{v}\""))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ));
            }
        }
        let statements = match fields.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|s| parse_statement(s, language, kind))
                .collect::<Result<Vec<_>, _>>()?,
            Some(single @ Value::Object(_)) if language == Language::Aws => {
                vec![parse_statement(single, language, kind)?]
            }
            _ => return Err("Statement must be a non-empty list of statements".into()),
        };
        Ok(Self {
            language,
            statements,
        })
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// The verdict of the document's statements that apply to `query` and whose
    /// principals `principal_ok` accepts (identity policies: all).
    fn verdict_where(
        &self,
        query: &Query<'_>,
        principal_ok: impl Fn(&Statement) -> bool,
    ) -> Verdict {
        let mut verdict = Verdict::Silent;
        for statement in &self.statements {
            if !principal_ok(statement) || !statement.applies(query) {
                continue;
            }
            match statement.effect {
                Effect::Deny => return Verdict::Deny,
                Effect::Allow => verdict = Verdict::Allow,
            }
        }
        verdict
    }

    /// An identity policy's verdict.
    pub fn verdict(&self, query: &Query<'_>) -> Verdict {
        self.verdict_where(query, |_| true)
    }

    /// A key policy's verdict for a caller: `(verdict, how the allowing statements name
    /// the caller)`. A deny applies however the caller is named; an allow names the
    /// caller directly or through its account (which then needs an IAM allow too).
    pub fn key_verdict(
        &self,
        query: &Query<'_>,
        who: &PrincipalFacts<'_>,
    ) -> (Verdict, PrincipalMatch) {
        let names = |s: &Statement| {
            s.principals
                .as_ref()
                .map_or(PrincipalMatch::No, |p| p.naming(who))
        };
        if self.verdict_where(query, |s| {
            s.effect == Effect::Deny && names(s) != PrincipalMatch::No
        }) == Verdict::Deny
        {
            return (Verdict::Deny, PrincipalMatch::No);
        }
        let best = self
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow && s.applies(query))
            .map(names)
            .max()
            .unwrap_or(PrincipalMatch::No);
        if best == PrincipalMatch::No {
            (Verdict::Silent, best)
        } else {
            (Verdict::Allow, best)
        }
    }

    /// Every AWS principal the document names (ARNs and account IDs), for checking that
    /// they exist when the policy is put.
    pub fn named_principals(&self) -> impl Iterator<Item = &str> {
        self.statements
            .iter()
            .filter_map(|s| s.principals.as_ref())
            .flat_map(|p| p.aws.iter().map(String::as_str))
    }

    pub fn statement_ids(&self) -> impl Iterator<Item = Option<&str>> {
        self.statements.iter().map(|s| s.sid.as_deref())
    }
}

impl Statement {
    fn applies(&self, query: &Query<'_>) -> bool {
        // Action names are case-insensitive in both clouds; AWS ARNs are not.
        self.actions.matches_any(query.action_names, true)
            && self.resources.as_ref().is_none_or(|r| {
                r.matches_any(&[query.resource], self_is_huawei_resource(query.resource))
            })
            && condition::all_hold(&self.conditions, query.facts)
    }
}

/// Huawei resource names (`KMS:...`) compare without case, as Huawei's console writes
/// the service in capitals and users often do not; AWS ARNs compare exactly.
fn self_is_huawei_resource(resource: &str) -> bool {
    resource.len() > 4 && resource[..4].eq_ignore_ascii_case("kms:")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct NoFacts;
    impl ConditionFacts for NoFacts {
        fn values(&self, _: &str) -> Option<Vec<String>> {
            None
        }
    }

    fn aws_identity(value: Value) -> PolicyDocument {
        PolicyDocument::from_value(&value, Language::Aws, Kind::Identity).unwrap()
    }

    fn query<'a>(names: &'a [&'a str], resource: &'a str) -> Query<'a> {
        Query {
            action_names: names,
            resource,
            facts: &NoFacts,
        }
    }

    const KEY_ARN: &str = "arn:aws:kms:eu-de:111122223333:key/0d0466b0-e727-4d9c-b35d-f84bb474a37f";

    #[test]
    fn actions_match_with_wildcards_and_without_case() {
        let doc = aws_identity(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kms:encrypt", "kms:Describe*"], "Resource": "*"}]}));
        assert_eq!(
            doc.verdict(&query(&["kms:Encrypt"], KEY_ARN)),
            Verdict::Allow
        );
        assert_eq!(
            doc.verdict(&query(&["kms:DescribeKey"], KEY_ARN)),
            Verdict::Allow
        );
        assert_eq!(
            doc.verdict(&query(&["kms:Decrypt"], KEY_ARN)),
            Verdict::Silent
        );
    }

    #[test]
    fn deny_wins_within_a_document() {
        let doc = aws_identity(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]}));
        assert_eq!(
            doc.verdict(&query(&["kms:Encrypt"], KEY_ARN)),
            Verdict::Allow
        );
        assert_eq!(
            doc.verdict(&query(&["kms:Decrypt"], KEY_ARN)),
            Verdict::Deny
        );
    }

    #[test]
    fn not_action_and_resources() {
        let doc = aws_identity(json!({"Statement": {
            "Effect": "Allow", "NotAction": "kms:Schedule*",
            "Resource": "arn:aws:kms:*:111122223333:key/*"}}));
        assert_eq!(
            doc.verdict(&query(&["kms:Encrypt"], KEY_ARN)),
            Verdict::Allow
        );
        assert_eq!(
            doc.verdict(&query(&["kms:ScheduleKeyDeletion"], KEY_ARN)),
            Verdict::Silent
        );
        assert_eq!(doc.verdict(&query(&["kms:Encrypt"], "*")), Verdict::Silent);
        let other_account = KEY_ARN.replace("111122223333", "444455556666");
        assert_eq!(
            doc.verdict(&query(&["kms:Encrypt"], &other_account)),
            Verdict::Silent
        );
        let anything_but = aws_identity(json!({"Statement": {
            "Effect": "Deny", "Action": "kms:*", "NotResource": KEY_ARN}}));
        assert_eq!(
            anything_but.verdict(&query(&["kms:Encrypt"], KEY_ARN)),
            Verdict::Silent
        );
        assert_eq!(
            anything_but.verdict(&query(&["kms:Encrypt"], "*")),
            Verdict::Deny
        );
    }

    #[test]
    fn huawei_documents_match_any_of_the_action_names() {
        let doc = PolicyDocument::from_value(
            &json!({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["kms:cmk:*"]}]}),
            Language::Huawei,
            Kind::Identity,
        )
        .unwrap();
        let huawei_resource = "KMS:eu-de:d1:KeyId:k";
        assert_eq!(
            doc.verdict(&query(
                &["kms:cmk:crypto", "kms:cmk:encryptData"],
                huawei_resource
            )),
            Verdict::Allow
        );
        assert_eq!(
            doc.verdict(&query(&["kms:grant:create"], huawei_resource)),
            Verdict::Silent
        );
        let scoped = PolicyDocument::from_value(
            &json!({"Version": "1.1", "Statement": [{"Effect": "Deny", "Action": ["kms:*:*"],
                    "Resource": ["kms:*:*:keyid:k"]}]}),
            Language::Huawei,
            Kind::Identity,
        )
        .unwrap();
        assert_eq!(
            scoped.verdict(&query(&["kms:cmk:get"], huawei_resource)),
            Verdict::Deny
        );
        assert_eq!(
            scoped.verdict(&query(&["kms:cmk:get"], "KMS:eu-de:d1:KeyId:other")),
            Verdict::Silent
        );
    }

    #[test]
    fn key_policies_name_principals() {
        let doc = PolicyDocument::from_value(
            &json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
                {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:user/erin"]}, "Action": "kms:Encrypt", "Resource": "*"},
                {"Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}]}),
            Language::Aws,
            Kind::Key,
        )
        .unwrap();
        let bob = PrincipalFacts {
            arn: "arn:aws:iam::111122223333:user/bob",
            account: "111122223333",
        };
        let erin = PrincipalFacts {
            arn: "arn:aws:iam::444455556666:user/erin",
            account: "444455556666",
        };
        let frank = PrincipalFacts {
            arn: "arn:aws:iam::444455556666:user/frank",
            account: "444455556666",
        };
        let q = |name| query(std::slice::from_ref(name), KEY_ARN);
        assert_eq!(
            doc.key_verdict(&q(&"kms:Encrypt"), &bob),
            (Verdict::Allow, PrincipalMatch::Account)
        );
        assert_eq!(
            doc.key_verdict(&q(&"kms:Encrypt"), &erin),
            (Verdict::Allow, PrincipalMatch::Direct)
        );
        assert_eq!(
            doc.key_verdict(&q(&"kms:Decrypt"), &erin),
            (Verdict::Silent, PrincipalMatch::No)
        );
        assert_eq!(
            doc.key_verdict(&q(&"kms:Encrypt"), &frank),
            (Verdict::Silent, PrincipalMatch::No)
        );
        assert_eq!(
            doc.key_verdict(&q(&"kms:ScheduleKeyDeletion"), &bob).0,
            Verdict::Deny
        );
        let named: Vec<&str> = doc.named_principals().collect();
        assert_eq!(
            named,
            [
                "arn:aws:iam::111122223333:root",
                "arn:aws:iam::444455556666:user/erin"
            ]
        );
    }

    #[test]
    fn not_principal_applies_to_everyone_else() {
        let doc = PolicyDocument::from_value(
            &json!({"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
                     "Action": "kms:PutKeyPolicy", "Resource": "*"}]}),
            Language::Aws,
            Kind::Key,
        )
        .unwrap();
        let alice = PrincipalFacts {
            arn: "arn:aws:iam::111122223333:user/alice",
            account: "111122223333",
        };
        let bob = PrincipalFacts {
            arn: "arn:aws:iam::111122223333:user/bob",
            account: "111122223333",
        };
        let q = query(&["kms:PutKeyPolicy"], KEY_ARN);
        assert_eq!(doc.key_verdict(&q, &alice).0, Verdict::Silent);
        assert_eq!(doc.key_verdict(&q, &bob).0, Verdict::Deny);
    }

    #[test]
    fn malformed_documents_say_why() {
        let cases: [(Value, Language, Kind, &str); 11] = [
            (json!([]), Language::Aws, Kind::Identity, "JSON object"),
            (
                json!({"Version": "2020-01-01", "Statement": []}),
                Language::Aws,
                Kind::Identity,
                "Version",
            ),
            (
                json!({"Version": "1.1"}),
                Language::Huawei,
                Kind::Identity,
                "Statement",
            ),
            (
                json!({"Statement": [{"Action": "kms:*", "Resource": "*"}]}),
                Language::Aws,
                Kind::Identity,
                "Effect",
            ),
            (
                json!({"Statement": [{"Effect": "Permit", "Action": "kms:*", "Resource": "*"}]}),
                Language::Aws,
                Kind::Identity,
                "Allow or Deny",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}),
                Language::Aws,
                Kind::Identity,
                "Action",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "kms:*"}]}),
                Language::Aws,
                Kind::Identity,
                "Resource",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}),
                Language::Aws,
                Kind::Key,
                "Principal",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}),
                Language::Aws,
                Kind::Identity,
                "must not have a Principal",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Extra": 1}]}),
                Language::Aws,
                Kind::Identity,
                "unknown field",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}),
                Language::Aws,
                Kind::Identity,
                "empty",
            ),
        ];
        for (value, language, kind, expected) in cases {
            let error = PolicyDocument::from_value(&value, language, kind).unwrap_err();
            assert!(
                error.contains(expected),
                "{error} should mention {expected}"
            );
        }
        assert!(
            PolicyDocument::parse("{", Language::Aws, Kind::Key)
                .unwrap_err()
                .contains("JSON")
        );
    }
}
