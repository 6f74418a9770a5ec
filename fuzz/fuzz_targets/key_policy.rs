//! Policy documents, which PutKeyPolicy and CreateKey take from any caller with the
//! permission: `PolicyDocument::parse` of the input as an AWS key policy, an AWS identity
//! policy and a Huawei identity policy, then, for what parses, the verdict on every
//! action of the core for a fixed caller, key and encryption context (the conditions,
//! principals and wildcards run on attacker-written patterns). Nothing may panic or hang
//! (libFuzzer's timeout), and a key policy's verdict must be consistent with how it
//! names the caller.
#![no_main]

use kms_emulator::domain::authz::Action;
use kms_emulator::domain::authz::condition::ConditionFacts;
use kms_emulator::domain::authz::policy::{
    Kind, Language, PolicyDocument, PrincipalFacts, PrincipalMatch, Query, Verdict,
};
use kms_emulator::domain::authz::wildcard;
use libfuzzer_sys::fuzz_target;

const KEY_ARN: &str = "arn:aws:kms:eu-de:111122223333:key/6f2b9e52-0000-4000-8000-000000000000";
const HUAWEI_KEY: &str =
    "KMS:eu-de:b168fe00ff56492495a7d22974df2d0b:KeyId:6f2b9e52-0000-4000-8000-000000000000";

/// A request with an encryption context and a grant being made, so every condition key
/// the core knows has values to compare.
struct Facts;

impl ConditionFacts for Facts {
    fn values(&self, key: &str) -> Option<Vec<String>> {
        let one = |v: &str| Some(vec![v.to_owned()]);
        match key {
            "kms:encryptioncontext:app" => one("payroll"),
            "kms:encryptioncontextkeys" => Some(vec!["app".into(), "env".into()]),
            "kms:calleraccount" | "aws:principalaccount" => one("111122223333"),
            "aws:principalarn" => one("arn:aws:iam::111122223333:user/bob"),
            "aws:username" => one("bob"),
            "kms:grantoperations" => Some(vec!["Encrypt".into(), "Decrypt".into()]),
            "kms:granteeprincipal" => one("arn:aws:iam::444455556666:user/erin"),
            "kms:grantisforawsresource" => one("false"),
            _ => None,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let who = PrincipalFacts {
        arn: "arn:aws:iam::111122223333:user/bob",
        account: "111122223333",
    };
    if let Ok(policy) = PolicyDocument::parse(text, Language::Aws, Kind::Key) {
        let _ = policy.named_principals().count();
        let _ = policy.statement_ids().count();
        for action in Action::ALL {
            let query = Query {
                action_names: action.aws_names(),
                resource: KEY_ARN,
                facts: &Facts,
            };
            let (verdict, named) = policy.key_verdict(&query, &who);
            // An allow names the caller somehow; a deny or silence reports no name.
            assert_eq!(
                verdict == Verdict::Allow,
                named != PrincipalMatch::No,
                "{action:?}"
            );
        }
    }
    for (language, resource) in [(Language::Aws, KEY_ARN), (Language::Huawei, HUAWEI_KEY)] {
        if let Ok(policy) = PolicyDocument::parse(text, language, Kind::Identity) {
            for action in Action::ALL {
                let names = match language {
                    Language::Aws => action.aws_names(),
                    Language::Huawei => action.huawei_names(),
                };
                let resource = if action.on_key() { resource } else { "*" };
                let _ = policy.verdict(&Query {
                    action_names: names,
                    resource,
                    facts: &Facts,
                });
            }
        }
    }
    // The wildcard matcher on the input as pattern and value: a text without wildcards
    // matches itself, and `*` matches everything.
    let (pattern, value) = text.split_once('\n').unwrap_or((text, text));
    let _ = wildcard::matches(pattern, value);
    let _ = wildcard::matches_ignore_case(pattern, value);
    if !value.contains(['*', '?']) {
        assert!(wildcard::matches(value, value));
    }
    assert!(wildcard::matches("*", value));
});
