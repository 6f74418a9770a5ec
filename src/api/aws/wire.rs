//! AWS names for the shared domain: grant operations, key states, principals and ARNs.
//!
//! Mapping choices (also in the README, "AWS dialect"):
//! - An AWS account is a Huawei domain; its 12-digit ID comes from the identities file
//!   (`aws_account_id`, default derived from the domain ID).
//! - A grantee or retiring principal `arn:aws:iam::ACCOUNT:user/NAME` (or a role ARN
//!   given in the identities file) is stored as that user's ID, and
//!   `arn:aws:iam::ACCOUNT:root` or a bare account ID as the domain ID with grantee type
//!   `domain`: exactly what a Huawei grant stores, so grants made in either dialect are
//!   enforced in both.
//! - AWS `Encrypt` and `Decrypt` cover data and data keys alike, so they are stored as
//!   both Huawei operations (`encrypt-data` + `encrypt-datakey`, `decrypt-data` +
//!   `decrypt-datakey`); `GenerateDataKey*` are `create-datakey*`.

use serde_json::{Value, json};

use super::error::AwsError;
use crate::auth::Identities;
use crate::domain::ids::excerpt;
use crate::domain::key_spec::{Cloud, KeySpec, KeyUsage};
use crate::domain::{Grant, GrantOperation, GranteeType, Key, KeyState};

/// Every value of AWS's `GrantOperation` enum (botocore 1.44), in the model's order.
pub const AWS_GRANT_OPERATIONS: [&str; 19] = [
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
];

/// The stored operations an AWS grant operation stands for (see
/// [`GrantOperation::of_aws_name`]).
pub fn stored_operations(aws: &str) -> Option<&'static [GrantOperation]> {
    GrantOperation::of_aws_name(aws)
}

/// Validates AWS `Operations` and turns them into stored operations (duplicates dropped).
pub fn parse_operations(values: &[&str]) -> Result<Vec<GrantOperation>, AwsError> {
    if values.is_empty() {
        return Err(super::body::constraint_failed(
            "Operations",
            "[]",
            "Member must have length greater than or equal to 1",
        ));
    }
    if let Some(unknown) = values.iter().find(|v| !AWS_GRANT_OPERATIONS.contains(v)) {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '[{}]' at 'operations' failed to satisfy constraint: \
             Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
            excerpt(unknown),
            AWS_GRANT_OPERATIONS.join(", ")
        )));
    }
    use crate::domain::grant::{AwsOperationsError, parse_aws_operations};
    parse_aws_operations(values.iter().copied()).map_err(|error| match error {
        // Unreachable past the length check above; answered as that check answers.
        AwsOperationsError::Empty => super::body::constraint_failed(
            "Operations",
            "[]",
            "Member must have length greater than or equal to 1",
        ),
        AwsOperationsError::Unserved(value) => AwsError::validation(format!(
            "Operation {value} is not supported by this emulator."
        )),
        AwsOperationsError::OnlyCreateGrant => {
            AwsError::validation("Grants must not contain only the CreateGrant operation.")
        }
    })
}

pub fn aws_operations(ops: &[GrantOperation]) -> Vec<&'static str> {
    let mut names = Vec::new();
    for op in ops {
        let name = op.aws_name();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

pub fn key_state_name(state: KeyState) -> &'static str {
    match state {
        KeyState::Enabled => "Enabled",
        KeyState::Disabled | KeyState::PendingActivation => "Disabled",
        KeyState::PendingDeletion => "PendingDeletion",
        KeyState::PendingImport => "PendingImport",
    }
}

pub(super) fn seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// A multi-Region key's `MultiRegionConfiguration` as `key` (one of its rows) sees it: its
/// role, its primary and its replicas, each as `{Arn, Region}` (botocore's MultiRegionKey).
pub fn multi_region_configuration(
    identities: &Identities,
    key: &Key,
    rows: &crate::domain::multi_region::MultiRegionKey,
) -> Option<Value> {
    let role = rows.in_region(&key.region)?.role;
    let account = identities.account_of(&key.domain_id);
    let member = |m: &crate::domain::multi_region::Member| {
        json!({
            "Arn": format!("arn:aws:kms:{}:{account}:key/{}", m.region, m.key_id),
            "Region": m.region,
        })
    };
    let mut configuration = json!({
        "MultiRegionKeyType": role.name(),
        "ReplicaKeys": rows.replicas().into_iter().map(member).collect::<Vec<_>>(),
    });
    if let Some(primary) = rows.primary() {
        configuration["PrimaryKey"] = member(primary);
    }
    Some(configuration)
}

pub fn key_metadata(identities: &Identities, region: &str, key: &Key) -> Value {
    // A key whose stored spec is unknown (never written by this build) reads as the
    // symmetric default it was before key types existed.
    let (spec, usage) = key
        .spec_and_usage()
        .unwrap_or((KeySpec::Aes256, KeyUsage::EncryptDecrypt));
    let mut metadata = json!({
        "AWSAccountId": identities.account_of(&key.domain_id),
        "KeyId": key.key_id.as_str(),
        "Arn": identities.key_arn(region, key),
        "CreationDate": seconds(key.creation_date),
        "Enabled": key.key_state == KeyState::Enabled,
        "Description": key.key_description,
        "KeyUsage": usage.name(),
        "KeyState": key_state_name(key.key_state),
        "Origin": if key.origin == "external" { "EXTERNAL" } else { "AWS_KMS" },
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": spec.name(Cloud::Aws),
        "KeySpec": spec.name(Cloud::Aws),
        "MultiRegion": key.key_id.is_multi_region(),
    });
    // AWS lists only the algorithm families the key has.
    let names = |list: Vec<&'static str>| (!list.is_empty()).then(|| json!(list));
    let fields = [
        (
            "EncryptionAlgorithms",
            names(
                spec.encryption_algorithms(usage)
                    .iter()
                    .map(|a| a.name(Cloud::Aws))
                    .collect(),
            ),
        ),
        (
            "SigningAlgorithms",
            names(
                spec.signing_algorithms(usage)
                    .iter()
                    .map(|a| a.name(Cloud::Aws))
                    .collect(),
            ),
        ),
        (
            "MacAlgorithms",
            names(
                spec.mac_algorithms(usage)
                    .iter()
                    .map(|a| a.name())
                    .collect(),
            ),
        ),
        (
            "KeyAgreementAlgorithms",
            names(
                spec.key_agreement_algorithms(usage)
                    .iter()
                    .map(|a| a.name())
                    .collect(),
            ),
        ),
        (
            "EncapsulationAlgorithms",
            names(
                spec.encapsulation_algorithms(usage)
                    .iter()
                    .map(|a| a.name())
                    .collect(),
            ),
        ),
    ];
    for (field, value) in fields {
        if let Some(value) = value {
            metadata[field] = value;
        }
    }
    if let Some(deletion) = key.scheduled_deletion_date {
        metadata["DeletionDate"] = json!(seconds(deletion));
    }
    metadata
}

/// A principal of a request (`GranteePrincipal`, `RetiringPrincipal`) as stored.
pub fn resolve_principal(
    identities: &Identities,
    field: &str,
    value: &str,
) -> Result<(String, GranteeType), AwsError> {
    let valid = !value.is_empty()
        && value.chars().count() <= 256
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@:/-".contains(c));
    if !valid {
        return Err(super::body::constraint_failed(
            field,
            value,
            "Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$",
        ));
    }
    let account = value
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.strip_suffix(":root"))
        .unwrap_or(value);
    if let Some(domain) = identities.domain_by_aws_account(account) {
        return Ok((domain.id.clone(), GranteeType::Domain));
    }
    if let Some(user) = identities.user_by_aws_arn(value) {
        return Ok((user.id.clone(), GranteeType::User));
    }
    Err(AwsError::new(
        "InvalidArnException",
        format!(
            "{field} {} is not a valid principal: no such user, role or account is configured.",
            excerpt(value)
        ),
    ))
}

/// A stored principal as AWS shows it: a user's ARN, an account's root ARN, or the
/// stored value itself when it names no one configured (as AWS shows a unique ID for a
/// deleted principal).
pub fn principal_arn(identities: &Identities, stored: &str, kind: GranteeType) -> String {
    match kind {
        GranteeType::User => identities
            .user_by_id(stored)
            .map(|u| u.aws_arn.clone())
            .unwrap_or_else(|| stored.to_owned()),
        GranteeType::Domain => identities
            .domain_by_id(stored)
            .map(|d| format!("arn:aws:iam::{}:root", identities.account_of(&d.id)))
            .unwrap_or_else(|| stored.to_owned()),
    }
}

pub fn grant_entry(identities: &Identities, region: &str, key: &Key, grant: &Grant) -> Value {
    let mut entry = json!({
        "KeyId": identities.key_arn(region, key),
        "GrantId": grant.grant_id.as_str(),
        "CreationDate": seconds(grant.creation_date),
        "GranteePrincipal": principal_arn(identities, &grant.grantee_principal, grant.grantee_principal_type),
        "IssuingAccount": format!("arn:aws:iam::{}:root", identities.account_of(&key.domain_id)),
        "Operations": aws_operations(&grant.operations),
    });
    if let Some(name) = &grant.name {
        entry["Name"] = json!(name);
    }
    if let Some(retiring) = &grant.retiring_principal {
        entry["RetiringPrincipal"] = json!(principal_arn(
            identities,
            retiring,
            grant.retiring_principal_type
        ));
    }
    if let Some(constraint) = &grant.constraint {
        entry["Constraints"] = serde_json::from_str(&constraint.to_stored()).unwrap_or(Value::Null);
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_follow_the_aws_enum_and_round_trip() {
        let ops = parse_operations(&["Encrypt", "Decrypt", "GenerateDataKey", "Encrypt"]).unwrap();
        assert_eq!(
            aws_operations(&ops),
            ["Encrypt", "Decrypt", "GenerateDataKey"]
        );
        for name in AWS_GRANT_OPERATIONS {
            match stored_operations(name) {
                Some(stored) => assert_eq!(aws_operations(stored), [name]),
                None => assert_eq!(
                    parse_operations(&[name]).unwrap_err().code,
                    "ValidationException"
                ),
            }
        }
        for bad in ["DECRYPT", "CreateKey", "encrypt-data"] {
            let err = parse_operations(&[bad]).unwrap_err();
            assert!(err.message.contains("enum value set"), "{}", err.message);
        }
        assert!(
            parse_operations(&["CreateGrant"])
                .unwrap_err()
                .message
                .contains("only the CreateGrant")
        );
        assert!(parse_operations(&[]).is_err());
    }

    #[test]
    fn principals_map_to_stored_users_and_accounts_and_back() {
        let ids = Identities::demo();
        let (bob, kind) = resolve_principal(
            &ids,
            "GranteePrincipal",
            "arn:aws:iam::111122223333:user/bob",
        )
        .unwrap();
        assert_eq!(
            (bob.as_str(), kind),
            ("b0b00000000000000000000000000002", GranteeType::User)
        );
        assert_eq!(
            principal_arn(&ids, &bob, kind),
            "arn:aws:iam::111122223333:user/bob"
        );
        for account in ["arn:aws:iam::444455556666:root", "444455556666"] {
            let (domain, kind) = resolve_principal(&ids, "GranteePrincipal", account).unwrap();
            assert_eq!(
                (domain.as_str(), kind),
                ("c279af11aa67403586b8e33085ae3e1c", GranteeType::Domain)
            );
            assert_eq!(
                principal_arn(&ids, &domain, kind),
                "arn:aws:iam::444455556666:root"
            );
        }
        assert_eq!(
            resolve_principal(
                &ids,
                "GranteePrincipal",
                "arn:aws:iam::111122223333:user/nobody"
            )
            .unwrap_err()
            .code,
            "InvalidArnException"
        );
        assert_eq!(
            resolve_principal(&ids, "GranteePrincipal", "has space")
                .unwrap_err()
                .code,
            "ValidationException"
        );
    }
}
