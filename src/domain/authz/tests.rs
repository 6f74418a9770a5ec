//! The authorization core's rules, case by case.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::policy::{Kind, Language, PolicyDocument};
use super::*;
use crate::domain::{ContextConstraint, GrantOperation, GranteeType, KeyId, KeyState};

const ACCOUNT_A: &str = "111111111111";
const ACCOUNT_B: &str = "222222222222";
const REGION: &str = "eu-de";

fn doc(value: Value) -> PolicyDocument {
    let language = if value["Version"] == "1.1" {
        Language::Huawei
    } else {
        Language::Aws
    };
    PolicyDocument::from_value(&value, language, Kind::Identity).unwrap()
}

fn aws_allow(actions: &[&str]) -> PolicyDocument {
    doc(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}),
    )
}

fn aws_deny(actions: &[&str]) -> PolicyDocument {
    doc(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": actions, "Resource": "*"}]}),
    )
}

fn caller(name: &str, domain: &str, project: &str, policies: Vec<PolicyDocument>) -> Caller {
    let account = if domain == "da" { ACCOUNT_A } else { ACCOUNT_B };
    Caller {
        user_id: format!("u{name}"),
        user_name: name.into(),
        domain_id: domain.into(),
        project_id: project.into(),
        region: "eu-de".into(),
        request_id: "r".into(),
        aws_arn: format!("arn:aws:iam::{account}:user/{name}"),
        aws_account: account.into(),
        policies: Arc::new(IdentityPolicies::new(policies)),
    }
}

fn key() -> Key {
    Key {
        key_id: KeyId::parse("0d0466b0-e727-4d9c-b35d-f84bb474a37f").unwrap(),
        project_id: "pa".into(),
        region: "eu-de".into(),
        domain_id: "da".into(),
        creator_user_id: "ualice".into(),
        key_alias: "k".into(),
        key_description: String::new(),
        key_spec: "AES_256".into(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        origin: "kms".into(),
        key_state: KeyState::Enabled,
        creation_date: 0,
        scheduled_deletion_date: None,
        wrapped_material: None,
        key_policy: None,
    }
}

fn grant(grantee: &Caller, ops: &[GrantOperation]) -> Grant {
    Grant {
        grant_id: GrantId::generate(),
        key_id: key().key_id,
        grantee_principal: grantee.user_id.clone(),
        grantee_principal_type: GranteeType::User,
        operations: ops.to_vec(),
        issuing_principal: "ualice".into(),
        retiring_principal: Some("ucarol".into()),
        retiring_principal_type: GranteeType::User,
        name: None,
        creation_date: 0,
        constraint: None,
        dialect: None,
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn key_policy(value: Value) -> KeyPolicy {
    KeyPolicy::Custom(PolicyDocument::from_value(&value, Language::Aws, Kind::Key).unwrap())
}

/// The decision for `caller` doing `action` on `key()` under `policy`, with `grants`
/// and encryption context `context`.
fn decide(
    caller: &Caller,
    action: Action,
    policy: &KeyPolicy,
    grants: &[Grant],
    context: Option<&BTreeMap<String, String>>,
) -> Result<Allowed, Denial> {
    let key = key();
    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT_A}:key/{}", key.key_id);
    let huawei = format!("KMS:{REGION}:da:KeyId:{}", key.key_id);
    authorize(&Request {
        caller,
        action,
        key: Some(KeyFacts {
            key: &key,
            arn: &arn,
            huawei_resource: &huawei,
            account: ACCOUNT_A,
            policy,
        }),
        grants,
        context,
        new_grant: None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    Allow,
    Deny,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyPolicyCase {
    AllowsCaller,
    Denies,
    Default,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GrantCase {
    Yes,
    No,
    /// An EncryptionContextEquals grant; the request carries the context it names.
    ConstrainedMatching,
    /// The same grant; the request carries another context.
    ConstrainedOther,
}

/// The documented rules, written as a table rather than as the code's steps: an explicit
/// deny anywhere refuses; a key policy naming the caller allows in its own account, and
/// with an IAM allow from another; the default policy lets the key's account's IAM decide;
/// a grant allows what it holds under its constraint.
fn expected(identity: Identity, kp: KeyPolicyCase, grant: GrantCase, same_account: bool) -> bool {
    if identity == Identity::Deny || kp == KeyPolicyCase::Denies {
        return false;
    }
    let by_policy = match kp {
        KeyPolicyCase::AllowsCaller => same_account || identity == Identity::Allow,
        KeyPolicyCase::Default => same_account && identity == Identity::Allow,
        KeyPolicyCase::Denies => false,
    };
    by_policy || matches!(grant, GrantCase::Yes | GrantCase::ConstrainedMatching)
}

#[test]
fn every_combination_of_policies_grants_and_accounts() {
    let context = map(&[("app", "payroll")]);
    let other_context = map(&[("app", "hr")]);
    for same_account in [true, false] {
        for identity in [Identity::Allow, Identity::Deny, Identity::None] {
            let policies = match identity {
                Identity::Allow => vec![aws_allow(&["kms:*"])],
                Identity::Deny => vec![aws_allow(&["kms:*"]), aws_deny(&["kms:Encrypt"])],
                Identity::None => vec![],
            };
            let who = if same_account {
                caller("bob", "da", "pa", policies)
            } else {
                caller("erin", "db", "pb", policies)
            };
            for kp in [
                KeyPolicyCase::AllowsCaller,
                KeyPolicyCase::Denies,
                KeyPolicyCase::Default,
            ] {
                let policy = match kp {
                    KeyPolicyCase::Default => KeyPolicy::Default,
                    KeyPolicyCase::AllowsCaller => key_policy(json!({"Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT_A}:root")}, "Action": "kms:*", "Resource": "*"},
                        {"Effect": "Allow", "Principal": {"AWS": who.aws_arn}, "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": "*"}]})),
                    KeyPolicyCase::Denies => key_policy(json!({"Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT_A}:root")}, "Action": "kms:*", "Resource": "*"},
                        {"Effect": "Allow", "Principal": {"AWS": who.aws_arn}, "Action": "kms:*", "Resource": "*"},
                        {"Effect": "Deny", "Principal": {"AWS": who.aws_arn}, "Action": "kms:Encrypt", "Resource": "*"}]})),
                };
                for grant_case in [
                    GrantCase::Yes,
                    GrantCase::No,
                    GrantCase::ConstrainedMatching,
                    GrantCase::ConstrainedOther,
                ] {
                    let mut grants = Vec::new();
                    let mut request_context = &context;
                    match grant_case {
                        GrantCase::No => {}
                        GrantCase::Yes => grants.push(grant(&who, &[GrantOperation::EncryptData])),
                        GrantCase::ConstrainedMatching | GrantCase::ConstrainedOther => {
                            let mut g = grant(&who, &[GrantOperation::EncryptData]);
                            g.constraint = Some(ContextConstraint::Equals(context.clone()));
                            grants.push(g);
                            if grant_case == GrantCase::ConstrainedOther {
                                request_context = &other_context;
                            }
                        }
                    }
                    let got = decide(
                        &who,
                        Action::EncryptData,
                        &policy,
                        &grants,
                        Some(request_context),
                    );
                    assert_eq!(
                        got.is_ok(),
                        expected(identity, kp, grant_case, same_account),
                        "identity {identity:?}, key policy {kp:?}, grant {grant_case:?}, same account {same_account}: {got:?}"
                    );
                    if let Err(denial) = got {
                        let scope = if same_account {
                            DenialScope::OwnKey
                        } else {
                            DenialScope::ForeignKey
                        };
                        assert_eq!(denial.scope, scope);
                    }
                }
            }
        }
    }
}

#[test]
fn denials_name_the_policy_that_refused() {
    let none = caller("bob", "da", "pa", vec![]);
    let denied = caller(
        "bob",
        "da",
        "pa",
        vec![aws_allow(&["kms:*"]), aws_deny(&["kms:Decrypt"])],
    );
    let basis = |who: &Caller, policy: &KeyPolicy| {
        decide(who, Action::DecryptData, policy, &[], None)
            .unwrap_err()
            .basis
    };
    assert_eq!(
        basis(&none, &KeyPolicy::Default),
        DenialBasis::NoIdentityAllow
    );
    assert_eq!(
        basis(&denied, &KeyPolicy::Default),
        DenialBasis::ExplicitIdentityDeny
    );
    let no_root = key_policy(json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:user/alice"}, "Action": "kms:*", "Resource": "*"}]}));
    assert_eq!(basis(&none, &no_root), DenialBasis::NoResourceAllow);
    let deny_all = key_policy(
        json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}),
    );
    assert_eq!(basis(&none, &deny_all), DenialBasis::ExplicitResourceDeny);
}

#[test]
fn an_explicit_deny_beats_a_grant() {
    let who = caller("bob", "da", "pa", vec![aws_deny(&["kms:Encrypt"])]);
    let grants = [grant(&who, &[GrantOperation::EncryptData])];
    let denial = decide(
        &who,
        Action::EncryptData,
        &KeyPolicy::Default,
        &grants,
        None,
    )
    .unwrap_err();
    assert_eq!(denial.basis, DenialBasis::ExplicitIdentityDeny);
    // Without the deny the grant alone allows it, with no IAM permission at all.
    let plain = caller("bob", "da", "pa", vec![]);
    let grants = [grant(&plain, &[GrantOperation::EncryptData])];
    assert_eq!(
        decide(
            &plain,
            Action::EncryptData,
            &KeyPolicy::Default,
            &grants,
            None
        ),
        Ok(Allowed::ByGrant)
    );
}

#[test]
fn grants_confer_only_their_operations_and_never_administration() {
    let who = caller("bob", "da", "pa", vec![]);
    let grants = [grant(
        &who,
        &[GrantOperation::DescribeKey, GrantOperation::EncryptData],
    )];
    for (action, allowed) in [
        (Action::DescribeKey, true),
        (Action::EncryptData, true),
        (Action::DecryptData, false),
        (Action::EncryptDatakey, false),
        (Action::DisableKey, false),
        (Action::ListGrants, false),
        (Action::RevokeGrant, false),
        (Action::PutKeyPolicy, false),
    ] {
        assert_eq!(
            decide(&who, action, &KeyPolicy::Default, &grants, None).is_ok(),
            allowed,
            "{action:?}"
        );
    }
    // A grant naming someone else does nothing for the caller.
    let other = caller("dave", "da", "pa", vec![]);
    assert!(
        decide(
            &other,
            Action::DescribeKey,
            &KeyPolicy::Default,
            &grants,
            None
        )
        .is_err()
    );
}

#[test]
fn a_domain_grant_covers_every_user_of_the_account() {
    let erin = caller("erin", "db", "pb", vec![]);
    let mut g = grant(&erin, &[GrantOperation::EncryptData]);
    g.grantee_principal = "db".into();
    g.grantee_principal_type = GranteeType::Domain;
    assert!(
        decide(
            &erin,
            Action::EncryptData,
            &KeyPolicy::Default,
            &[g.clone()],
            None
        )
        .is_ok()
    );
    // A user whose id equals an account id is not thereby that account.
    let mut confused = caller("x", "dx", "px", vec![]);
    confused.user_id = "db".into();
    assert!(
        decide(
            &confused,
            Action::EncryptData,
            &KeyPolicy::Default,
            &[g],
            None
        )
        .is_err()
    );
}

#[test]
fn another_account_cannot_be_given_key_administration() {
    let erin = caller("erin", "db", "pb", vec![aws_allow(&["kms:*"])]);
    let policy = key_policy(json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT_B}:root")}, "Action": "kms:*", "Resource": "*"}]}));
    assert!(decide(&erin, Action::EncryptData, &policy, &[], None).is_ok());
    assert!(decide(&erin, Action::ListGrants, &policy, &[], None).is_ok());
    for action in [
        Action::DisableKey,
        Action::ScheduleKeyDeletion,
        Action::PutKeyPolicy,
        Action::GetKeyPolicy,
    ] {
        let denial = decide(&erin, action, &policy, &[], None).unwrap_err();
        assert_eq!(denial.scope, DenialScope::ForeignKey, "{action:?}");
    }
}

#[test]
fn actions_on_no_key_are_decided_by_identity_policies_alone() {
    let keyless = |who: &Caller, action| {
        authorize(&Request {
            caller: who,
            action,
            key: None,
            grants: &[],
            context: None,
            new_grant: None,
        })
    };
    let admin = caller("alice", "da", "pa", vec![aws_allow(&["kms:*"])]);
    let reader = caller("dave", "da", "pa", vec![aws_allow(&["kms:List*"])]);
    let nobody = caller("bob", "da", "pa", vec![]);
    assert!(keyless(&admin, Action::CreateKey).is_ok());
    assert!(keyless(&reader, Action::ListKeys).is_ok());
    let denial = keyless(&reader, Action::CreateKey).unwrap_err();
    assert_eq!(
        (denial.scope, denial.basis),
        (DenialScope::NoKey, DenialBasis::NoIdentityAllow)
    );
    assert!(keyless(&nobody, Action::GenerateRandom).is_err());
    let scoped = caller(
        "carol",
        "da",
        "pa",
        vec![doc(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "arn:aws:kms:*:*:key/*"}]}))],
    );
    // CreateKey's resource is "*": a statement scoped to keys does not cover it.
    assert!(keyless(&scoped, Action::CreateKey).is_err());
}

#[test]
fn huawei_policies_decide_with_huawei_names_in_either_dialect() {
    let system = |name| super::system::by_name(name).unwrap();
    let admin = caller("alice", "da", "pa", vec![system("KMS Administrator")]);
    let reader = caller("dave", "da", "pa", vec![system("KMS CMKReadOnlyAccess")]);
    for action in Action::ALL.into_iter().filter(|a| a.on_key()) {
        assert!(
            decide(&admin, action, &KeyPolicy::Default, &[], None).is_ok(),
            "{action:?}"
        );
    }
    for (action, allowed) in [
        (Action::DescribeKey, true),
        (Action::ListGrants, true),
        (Action::GetKeyPolicy, true),
        (Action::EncryptData, false),
        (Action::CreateGrant, false),
        (Action::DisableKey, false),
    ] {
        assert_eq!(
            decide(&reader, action, &KeyPolicy::Default, &[], None).is_ok(),
            allowed,
            "{action:?}"
        );
    }
    let crypto_only = caller(
        "bob",
        "da",
        "pa",
        vec![doc(json!({"Version": "1.1", "Statement": [
        {"Effect": "Allow", "Action": ["kms:cmk:crypto"]},
        {"Effect": "Deny", "Action": ["kms:cmk:decryptData"], "Resource": ["KMS:*:*:KeyId:0d0466b0-*"]}]}))],
    );
    assert!(
        decide(
            &crypto_only,
            Action::EncryptData,
            &KeyPolicy::Default,
            &[],
            None
        )
        .is_ok()
    );
    let denial = decide(
        &crypto_only,
        Action::DecryptData,
        &KeyPolicy::Default,
        &[],
        None,
    )
    .unwrap_err();
    assert_eq!(denial.basis, DenialBasis::ExplicitIdentityDeny);
    assert!(
        decide(
            &crypto_only,
            Action::EncryptDatakey,
            &KeyPolicy::Default,
            &[],
            None
        )
        .is_err()
    );
}

#[test]
fn conditions_see_the_encryption_context_and_the_caller() {
    let scoped = caller(
        "bob",
        "da",
        "pa",
        vec![doc(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:App": "payroll", "kms:CallerAccount": ACCOUNT_A}}}]}))],
    );
    let payroll = map(&[("app", "payroll")]);
    let hr = map(&[("app", "hr")]);
    assert!(
        decide(
            &scoped,
            Action::DecryptData,
            &KeyPolicy::Default,
            &[],
            Some(&payroll)
        )
        .is_ok()
    );
    assert!(
        decide(
            &scoped,
            Action::DecryptData,
            &KeyPolicy::Default,
            &[],
            Some(&hr)
        )
        .is_err()
    );
    assert!(decide(&scoped, Action::DecryptData, &KeyPolicy::Default, &[], None).is_err());
    let keys_only = caller(
        "bob",
        "da",
        "pa",
        vec![doc(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["app", "env"]}}}]}))],
    );
    assert!(
        decide(
            &keys_only,
            Action::EncryptData,
            &KeyPolicy::Default,
            &[],
            Some(&payroll)
        )
        .is_ok()
    );
    let extra = map(&[("app", "x"), ("owner", "y")]);
    assert!(
        decide(
            &keys_only,
            Action::EncryptData,
            &KeyPolicy::Default,
            &[],
            Some(&extra)
        )
        .is_err()
    );
}

fn new_grant_facts(ops: &[GrantOperation], constraint: Option<ContextConstraint>) -> NewGrantFacts {
    NewGrantFacts {
        operations: ops.to_vec(),
        constraint,
        aws_operations: ops.iter().map(|op| op.aws_name().to_owned()).collect(),
        grantee_aws: "arn:aws:iam::111111111111:user/carol".into(),
        grantee_huawei: "ucarol".into(),
        grantee_type: "user",
        retiring_aws: None,
        retiring_huawei: None,
    }
}

fn create_grant(who: &Caller, grants: &[Grant], new: &NewGrantFacts) -> Result<Allowed, Denial> {
    let key = key();
    authorize(&Request {
        caller: who,
        action: Action::CreateGrant,
        key: Some(KeyFacts {
            key: &key,
            arn: "arn:aws:kms:eu-de:111111111111:key/k",
            huawei_resource: "KMS:eu-de:da:KeyId:k",
            account: ACCOUNT_A,
            policy: &KeyPolicy::Default,
        }),
        grants,
        context: None,
        new_grant: Some(new),
    })
}

#[test]
fn a_grantee_passes_on_no_more_than_one_grant_gives() {
    use GrantOperation::*;
    let bob = caller("bob", "da", "pa", vec![]);
    let mut parent = grant(&bob, &[CreateGrant, DecryptData]);
    parent.constraint = Some(ContextConstraint::Equals(map(&[("app", "payroll")])));
    let other = grant(&bob, &[CreateGrant, EncryptData]);
    let grants = [parent, other];
    let equals = |pairs: &[(&str, &str)]| Some(ContextConstraint::Equals(map(pairs)));
    // The constraint travels with the sub-grant.
    assert!(
        create_grant(
            &bob,
            &grants,
            &new_grant_facts(&[DecryptData], equals(&[("app", "payroll")]))
        )
        .is_ok()
    );
    assert!(create_grant(&bob, &grants, &new_grant_facts(&[DecryptData], None)).is_err());
    assert!(
        create_grant(
            &bob,
            &grants,
            &new_grant_facts(&[DecryptData], equals(&[("app", "hr")]))
        )
        .is_err()
    );
    // Operations of two grants are never combined.
    assert!(
        create_grant(
            &bob,
            &grants,
            &new_grant_facts(&[EncryptData, DecryptData], equals(&[("app", "payroll")]))
        )
        .is_err()
    );
    assert!(create_grant(&bob, &grants, &new_grant_facts(&[EncryptData], None)).is_ok());
    // Policy conditions on the new grant's properties.
    let limited = caller(
        "alice",
        "da",
        "pa",
        vec![doc(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt", "Decrypt"]},
                       "Bool": {"kms:GrantIsForAWSResource": false}}}]}))],
    );
    assert!(
        create_grant(
            &limited,
            &[],
            &new_grant_facts(&[EncryptData, EncryptDatakey], None)
        )
        .is_ok()
    );
    assert!(create_grant(&limited, &[], &new_grant_facts(&[DescribeKey], None)).is_err());
    let huawei_limited = caller(
        "alice",
        "da",
        "pa",
        vec![doc(json!({"Version": "1.1", "Statement": [
        {"Effect": "Allow", "Action": ["kms:grant:create"],
         "Condition": {"StringEquals": {"kms:GranteePrincipal": ["ucarol"]}}}]}))],
    );
    assert!(create_grant(&huawei_limited, &[], &new_grant_facts(&[EncryptData], None)).is_ok());
    let mut to_dave = new_grant_facts(&[EncryptData], None);
    to_dave.grantee_huawei = "udave".into();
    assert!(create_grant(&huawei_limited, &[], &to_dave).is_err());
}

fn deletion_request<'a>(
    who: &'a Caller,
    action: Action,
    key: &'a Key,
    policy: &'a KeyPolicy,
    g: &'a [Grant],
) -> Request<'a> {
    Request {
        caller: who,
        action,
        key: Some(KeyFacts {
            key,
            arn: "arn:aws:kms:eu-de:111111111111:key/k",
            huawei_resource: "KMS:eu-de:da:KeyId:k",
            account: ACCOUNT_A,
            policy,
        }),
        grants: g,
        context: None,
        new_grant: None,
    }
}

#[test]
fn huawei_revoke_is_for_the_keys_creator_with_the_permission() {
    let key = key();
    let admin = || vec![aws_allow(&["kms:*"])];
    let alice = caller("alice", "da", "pa", admin());
    let other_admin = caller("dave", "da", "pa", admin());
    let plain_alice = caller("alice", "da", "pa", vec![]);
    let bob = caller("bob", "da", "pa", vec![]);
    let g = [grant(
        &bob,
        &[GrantOperation::EncryptData, GrantOperation::RetireGrant],
    )];
    let revoke = |who: &Caller| {
        huawei::decide_revoke(
            &deletion_request(who, Action::RevokeGrant, &key, &KeyPolicy::Default, &g),
            &key,
        )
    };
    assert!(revoke(&alice).is_ok());
    assert_eq!(revoke(&other_admin).unwrap_err().basis, DenialBasis::Rule);
    assert_eq!(
        revoke(&plain_alice).unwrap_err().basis,
        DenialBasis::NoIdentityAllow
    );
    assert!(revoke(&bob).is_err());
}

#[test]
fn huawei_retire_is_for_the_grants_parties_only() {
    use GrantOperation::*;
    let key = key();
    let bob = caller("bob", "da", "pa", vec![]);
    let carol = caller("carol", "da", "pa", vec![]);
    let alice = caller("alice", "da", "pa", vec![]);
    let admin = caller("dave", "da", "pa", vec![aws_allow(&["kms:*"])]);
    let carol_denied = caller("carol", "da", "pa", vec![aws_deny(&["kms:RetireGrant"])]);
    let with = grant(&bob, &[EncryptData, RetireGrant]);
    let without = grant(&bob, &[EncryptData]);
    let retire = |who: &Caller, g: &Grant| {
        huawei::decide_retire(
            &deletion_request(
                who,
                Action::RetireGrant,
                &key,
                &KeyPolicy::Default,
                std::slice::from_ref(g),
            ),
            &key,
            g,
        )
    };
    for g in [&with, &without] {
        assert!(retire(&carol, g).is_ok(), "the retiring principal");
        assert!(retire(&alice, g).is_ok(), "the issuer");
        assert!(
            retire(&admin, g).is_err(),
            "an administrator who is not a party"
        );
        assert_eq!(
            retire(&carol_denied, g).unwrap_err().basis,
            DenialBasis::ExplicitIdentityDeny
        );
    }
    assert!(retire(&bob, &with).is_ok());
    assert!(retire(&bob, &without).is_err());
}

#[test]
fn aws_retire_adds_the_keys_account_with_iam_permission() {
    use GrantOperation::*;
    let key = key();
    let bob = caller("bob", "da", "pa", vec![]);
    let admin = caller("dave", "da", "pa", vec![aws_allow(&["kms:RetireGrant"])]);
    let foreign_admin = caller("erin", "db", "pb", vec![aws_allow(&["kms:*"])]);
    let alice = caller("alice", "da", "pa", vec![]);
    let g = grant(&bob, &[EncryptData]);
    let retire = |who: &Caller| {
        aws::decide_retire(
            &deletion_request(
                who,
                Action::RetireGrant,
                &key,
                &KeyPolicy::Default,
                std::slice::from_ref(&g),
            ),
            &key,
            &g,
        )
    };
    assert!(retire(&admin).is_ok());
    assert!(retire(&foreign_admin).is_err());
    // AWS does not list the issuer among those who may retire.
    assert!(retire(&alice).is_err());
    assert!(retire(&bob).is_err(), "a grantee without RetireGrant");
    let mut by_account = g.clone();
    by_account.retiring_principal = Some("db".into());
    by_account.retiring_principal_type = GranteeType::Domain;
    let frank = caller("frank", "db", "pb", vec![]);
    assert!(
        aws::decide_retire(
            &deletion_request(
                &frank,
                Action::RetireGrant,
                &key,
                &KeyPolicy::Default,
                std::slice::from_ref(&by_account)
            ),
            &key,
            &by_account
        )
        .is_ok()
    );
}

#[test]
fn who_sees_which_key() {
    let key = key();
    let id = key.key_id.clone();
    let locate_as = |who: &Caller,
                     naming: KeyNaming,
                     grants: &[Grant],
                     named: Option<&Grant>,
                     present: bool| {
        let found = present.then_some(&key);
        let key_ref = KeyRef {
            id: id.clone(),
            naming,
        };
        locate(
            who,
            Action::DescribeKey,
            &key_ref,
            found,
            &KeyPolicy::Default,
            grants,
            named,
        )
        .map(|_| ())
    };
    let in_project = caller("bob", "da", "pa", vec![]);
    let other_project = caller("bob", "da", "pz", vec![]);
    let stranger = caller("erin", "db", "pb", vec![]);
    let not_found = |r: Result<(), KmsError>| matches!(r, Err(KmsError::KeyNotFound(_)));
    let foreign = |r: Result<(), KmsError>| matches!(r, Err(KmsError::AccessDenied(ref d)) if d.scope == DenialScope::ForeignKey);
    // Huawei: the key's project sees it; others through a grant or as a party of the named grant.
    assert!(locate_as(&in_project, KeyNaming::InProject, &[], None, true).is_ok());
    assert!(not_found(locate_as(
        &other_project,
        KeyNaming::InProject,
        &[],
        None,
        true
    )));
    assert!(not_found(locate_as(
        &stranger,
        KeyNaming::InProject,
        &[],
        None,
        true
    )));
    let g = grant(&stranger, &[GrantOperation::DescribeKey]);
    assert!(
        locate_as(
            &stranger,
            KeyNaming::InProject,
            std::slice::from_ref(&g),
            None,
            true
        )
        .is_ok()
    );
    let mut retirable = grant(&in_project, &[GrantOperation::EncryptData]);
    retirable.retiring_principal = Some(stranger.user_id.clone());
    assert!(locate_as(&stranger, KeyNaming::InProject, &[], Some(&retirable), true).is_ok());
    assert!(not_found(locate_as(
        &in_project,
        KeyNaming::InProject,
        &[],
        None,
        false
    )));
    // AWS: a bare ID or an ARN of the caller's account: NotFound when missing.
    let own = KeyNaming::InAccount(Some("da".into()));
    assert!(locate_as(&in_project, own.clone(), &[], None, true).is_ok());
    assert!(not_found(locate_as(&in_project, own, &[], None, false)));
    // An ARN of another account: the same AccessDenied whether the key exists or not.
    let theirs = KeyNaming::InAccount(Some("da".into()));
    assert!(locate_as(&stranger, theirs.clone(), &[], None, true).is_ok());
    assert!(foreign(locate_as(&stranger, theirs, &[], None, false)));
    assert!(foreign(locate_as(
        &stranger,
        KeyNaming::InAccount(None),
        &[],
        None,
        false
    )));
    assert!(foreign(locate_as(
        &stranger,
        KeyNaming::InAccount(Some("dq".into())),
        &[],
        None,
        true
    )));
    // A ciphertext or token: its account, or those with a grant.
    assert!(locate_as(&other_project, KeyNaming::Issued, &[], None, true).is_ok());
    assert!(not_found(locate_as(
        &stranger,
        KeyNaming::Issued,
        &[],
        None,
        true
    )));
    assert!(
        locate_as(
            &stranger,
            KeyNaming::Issued,
            std::slice::from_ref(&g),
            None,
            true
        )
        .is_ok()
    );
}

#[test]
fn a_grant_of_another_key_is_named_only_to_those_who_could_see_it() {
    let key = key();
    let bob = caller("bob", "da", "pa", vec![]);
    let mut elsewhere = grant(&bob, &[GrantOperation::EncryptData]);
    elsewhere.key_id = KeyId::parse("bb6a3d22-dc93-47ac-b5bd-88df7ad35f1e").unwrap();
    let id = elsewhere.grant_id.clone();
    assert!(matches!(
        named_grant(&bob, &key, &id, Some(&elsewhere), Some("da")),
        Err(KmsError::GrantKeyMismatch { .. })
    ));
    assert!(matches!(
        named_grant(&bob, &key, &id, Some(&elsewhere), Some("db")),
        Err(KmsError::GrantNotFound(_))
    ));
    assert!(matches!(
        named_grant(&bob, &key, &id, None, None),
        Err(KmsError::GrantNotFound(_))
    ));
    let here = grant(&bob, &[GrantOperation::EncryptData]);
    assert!(named_grant(&bob, &key, &here.grant_id, Some(&here), None).is_ok());
}

#[test]
fn sub_grant_strictness() {
    use ContextConstraint::{Equals, Subset};
    let strict = grants::is_at_least_as_strict;
    let s = |pairs: &[(&str, &str)]| Subset(map(pairs));
    let e = |pairs: &[(&str, &str)]| Equals(map(pairs));
    assert!(strict(None, None));
    assert!(strict(Some(&s(&[("a", "1")])), None));
    assert!(!strict(None, Some(&s(&[("a", "1")]))));
    assert!(strict(
        Some(&s(&[("a", "1"), ("b", "2")])),
        Some(&s(&[("a", "1")]))
    ));
    assert!(strict(
        Some(&e(&[("a", "1"), ("b", "2")])),
        Some(&s(&[("a", "1")]))
    ));
    assert!(!strict(Some(&s(&[("a", "2")])), Some(&s(&[("a", "1")]))));
    assert!(strict(Some(&e(&[("a", "1")])), Some(&e(&[("a", "1")]))));
    assert!(!strict(
        Some(&e(&[("a", "1"), ("b", "2")])),
        Some(&e(&[("a", "1")]))
    ));
    assert!(!strict(Some(&s(&[("a", "1")])), Some(&e(&[("a", "1")]))));
}

#[test]
fn tracked_uses_are_the_cryptographic_actions_by_their_aws_names() {
    // botocore 1.44.8's KeyLastUsageTrackingOperation.
    const TRACKED: [&str; 14] = [
        "Decrypt",
        "DeriveSharedSecret",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateMac",
        "ReEncrypt",
        "Sign",
        "Verify",
        "VerifyMac",
        "Encapsulate",
        "Decapsulate",
    ];
    for action in Action::ALL {
        let cryptographic = action.grant_operation().is_some()
            && !matches!(
                action,
                Action::DescribeKey
                    | Action::CreateGrant
                    | Action::RetireGrant
                    | Action::GetPublicKey
            );
        match action.tracked_use() {
            Some(name) => {
                assert!(cryptographic, "{action:?} is not a cryptographic operation");
                assert!(TRACKED.contains(&name), "{name} is not a tracked operation");
            }
            None => assert!(!cryptographic, "{action:?} is not tracked"),
        }
    }
    let named: std::collections::BTreeSet<_> = Action::ALL
        .into_iter()
        .filter_map(Action::tracked_use)
        .collect();
    assert_eq!(
        named.len(),
        TRACKED.len(),
        "every tracked operation has an action"
    );
    assert_eq!(Action::EncryptDatakey.tracked_use(), Some("Encrypt"));
    assert_eq!(Action::ReEncryptTo.tracked_use(), Some("ReEncrypt"));
}
