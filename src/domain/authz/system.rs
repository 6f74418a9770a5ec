//! Policies that exist by name: Huawei Cloud's system policies for KMS and a few AWS
//! managed policies, so an identities file can attach them as a console user would.

use serde_json::{Value, json};

use super::policy::{Kind, Language, PolicyDocument};

/// The document of a system or managed policy, by the name a user attaches it with.
pub fn by_name(name: &str) -> Option<PolicyDocument> {
    let (language, value) = document(name)?;
    Some(
        PolicyDocument::from_value(&value, language, Kind::Identity)
            .expect("built-in policies are valid"),
    )
}

/// Every name `by_name` knows, for messages and the README.
pub const NAMES: [&str; 7] = [
    "KMS Administrator",
    "KMS CMKFullAccess",
    "KMS CMK Admin",
    "KMS CMKReadOnlyAccess",
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
];

fn huawei(actions: &[&str]) -> Value {
    json!({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": actions}]})
}

fn aws(actions: &[&str]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
}

/// The names are Huawei's and OTC's (their DEW permission table); their documents are
/// not published, so the contents follow the descriptions ("all permissions for the
/// encryption keys", "read-only permission for encryption keys"): this emulator's choice.
fn document(name: &str) -> Option<(Language, Value)> {
    Some(match name {
        "KMS Administrator" | "KMS CMKFullAccess" | "KMS CMK Admin" => {
            (Language::Huawei, huawei(&["kms:*:*"]))
        }
        // Looking, never using or changing: describe and list keys, their grants,
        // policies, rotation, tags, aliases, quotas and instance counts.
        "KMS CMKReadOnlyAccess" => (
            Language::Huawei,
            huawei(&[
                "kms:cmk:get",
                "kms:cmk:list",
                "kms:cmk:getRotation",
                "kms:cmk:getInstance",
                "kms:cmk:getQuota",
                "kms:cmk:getKeyPolicy",
                "kms:cmk:listKeyPolicies",
                "kms:cmkTag:list",
                "kms:cmkTag:listInstance",
                "kms:grant:list",
                "kms:alias:list",
            ]),
        ),
        "arn:aws:iam::aws:policy/AdministratorAccess" => (Language::Aws, aws(&["*"])),
        // AWS's managed policy: everything but using keys, deleting them and changing
        // their policies or grants' retirement.
        "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser" => (
            Language::Aws,
            aws(&[
                "kms:CreateAlias",
                "kms:CreateKey",
                "kms:DeleteAlias",
                "kms:Describe*",
                "kms:GenerateRandom",
                "kms:Get*",
                "kms:List*",
                "kms:TagResource",
                "kms:UntagResource",
            ]),
        ),
        "arn:aws:iam::aws:policy/ReadOnlyAccess" => (
            Language::Aws,
            aws(&["kms:Describe*", "kms:Get*", "kms:List*"]),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_policy_parses() {
        for name in NAMES {
            assert!(by_name(name).is_some(), "{name}");
        }
        assert!(by_name("KMS Superuser").is_none());
    }
}
