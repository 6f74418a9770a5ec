//! Hostile input to every AWS operation over HTTP: malformed fields and values of every
//! wrong JSON type always get a 400 with an AWS error type, never a 5xx.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::aws::create_key;
use crate::helpers::TestApp;
use crate::helpers::aws::{AWS_ALICE, AWS_ERIN, aws, aws_error, send, signed_headers};

/// Every operation with malformed fields: a 400 with an AWS error type, never a 500.
async fn malformed_input_gets_aws_errors_not_500s(app: &TestApp) {
    let key = create_key(app).await;
    let k = key["KeyId"].clone();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "CreateKey",
            json!({"KeyUsage": "SIGN_VERIFY"}),
            "ValidationException",
        ),
        (
            "CreateKey",
            json!({"Description": 5}),
            "SerializationException",
        ),
        ("DescribeKey", json!({}), "ValidationException"),
        ("DescribeKey", json!({"KeyId": ""}), "ValidationException"),
        (
            "DescribeKey",
            json!({"KeyId": ["x"]}),
            "SerializationException",
        ),
        ("ListKeys", json!({"Limit": 1001}), "ValidationException"),
        (
            "ListKeys",
            json!({"Marker": "-1"}),
            "InvalidMarkerException",
        ),
        (
            "CreateGrant",
            json!({"KeyId": k, "Operations": ["Encrypt"]}),
            "ValidationException",
        ),
        (
            "CreateGrant",
            json!({"KeyId": k, "GranteePrincipal": AWS_ERIN.arn}),
            "ValidationException",
        ),
        (
            "CreateGrant",
            json!({"KeyId": k, "GranteePrincipal": AWS_ERIN.arn, "Operations": "Encrypt"}),
            "SerializationException",
        ),
        (
            "CreateGrant",
            json!({"KeyId": k, "GranteePrincipal": AWS_ERIN.arn, "Operations": []}),
            "ValidationException",
        ),
        (
            "CreateGrant",
            json!({"KeyId": k, "GranteePrincipal": AWS_ERIN.arn, "Operations": ["DECRYPT"]}),
            "ValidationException",
        ),
        (
            "CreateGrant",
            json!({"KeyId": k, "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Encrypt"], "Name": "bad name"}),
            "ValidationException",
        ),
        (
            "CreateGrant",
            json!({"KeyId": k, "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Encrypt"], "GrantTokens": ["x"]}),
            "InvalidGrantTokenException",
        ),
        (
            "CreateGrant",
            json!({"KeyId": k, "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Encrypt"], "Constraints": {"EncryptionContextEquals": {"a": 1}}}),
            "SerializationException",
        ),
        (
            "CreateGrant",
            json!({"KeyId": k, "GranteePrincipal": "arn:aws:iam::999999999999:root", "Operations": ["Encrypt"]}),
            "InvalidArnException",
        ),
        (
            "ListGrants",
            json!({"KeyId": k, "Limit": 101}),
            "ValidationException",
        ),
        (
            "ListGrants",
            json!({"KeyId": k, "GrantId": "x"}),
            "InvalidGrantIdException",
        ),
        ("ListRetirableGrants", json!({}), "ValidationException"),
        ("RevokeGrant", json!({"KeyId": k}), "ValidationException"),
        ("RetireGrant", json!({}), "ValidationException"),
        (
            "RetireGrant",
            json!({"GrantToken": ""}),
            "ValidationException",
        ),
        ("Encrypt", json!({"KeyId": k}), "ValidationException"),
        (
            "Encrypt",
            json!({"KeyId": k, "Plaintext": "!!!"}),
            "SerializationException",
        ),
        (
            "Encrypt",
            json!({"KeyId": k, "Plaintext": "eA==", "EncryptionContext": "x"}),
            "SerializationException",
        ),
        (
            "Encrypt",
            // A key pair's algorithm on a symmetric key: the key's usage refuses it.
            json!({"KeyId": k, "Plaintext": "eA==", "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}),
            "InvalidKeyUsageException",
        ),
        ("Decrypt", json!({}), "ValidationException"),
        (
            "Decrypt",
            json!({"CiphertextBlob": "AAAA"}),
            "InvalidCiphertextException",
        ),
        (
            "GenerateDataKey",
            json!({"KeyId": k}),
            "ValidationException",
        ),
        (
            "GenerateDataKey",
            json!({"KeyId": k, "NumberOfBytes": 1025}),
            "ValidationException",
        ),
        (
            "GenerateDataKey",
            json!({"KeyId": k, "KeySpec": "AES_512"}),
            "ValidationException",
        ),
        (
            "GenerateDataKeyWithoutPlaintext",
            json!({"KeyId": k, "KeySpec": "AES_256", "NumberOfBytes": 32}),
            "ValidationException",
        ),
        (
            "ScheduleKeyDeletion",
            json!({"KeyId": k, "PendingWindowInDays": 31}),
            "ValidationException",
        ),
        (
            "EnableKey",
            json!({"KeyId": k, "DryRun": "no"}),
            "ValidationException",
        ),
    ];
    for (op, body, code) in cases {
        let reply = aws(app, AWS_ALICE, op, body.clone()).await;
        assert!(reply.status < 500, "{op} {body}: {}", reply.raw);
        // EnableKey ignores DryRun, which it does not have: it succeeds.
        if op == "EnableKey" {
            assert_eq!(reply.status, 200, "{}", reply.raw);
            continue;
        }
        assert_eq!(reply.body["__type"], code, "{op} {body}: {}", reply.raw);
    }
    // Larger than --max-body-bytes (64 KiB): refused before anything else is read.
    let big = format!("{{\"Description\": \"{}\"}}", "x".repeat(70_000)).into_bytes();
    let headers = signed_headers(app, AWS_ALICE, "CreateKey", &big, OffsetDateTime::now_utc());
    aws_error(&send(app, headers, big).await, "ValidationException");
    for raw in [&b"{"[..], b"[]", b"\"x\"", b"\xff\xfe"] {
        let headers = signed_headers(app, AWS_ALICE, "ListKeys", raw, OffsetDateTime::now_utc());
        aws_error(
            &send(app, headers, raw.to_vec()).await,
            "SerializationException",
        );
    }
}

/// Every operation, every field it reads, with values of every wrong JSON type and
/// out-of-range values: always a 400 with an AWS `__type`, never a 5xx.
async fn every_field_of_every_operation_survives_hostile_values(app: &TestApp) {
    let key = create_key(app).await;
    let fields: &[(&str, &[&str])] = &[
        (
            "CreateKey",
            &[
                "Description",
                "KeyUsage",
                "KeySpec",
                "CustomerMasterKeySpec",
                "Origin",
                "MultiRegion",
            ],
        ),
        ("DescribeKey", &["KeyId", "GrantTokens"]),
        (
            "ReplicateKey",
            &[
                "KeyId",
                "ReplicaRegion",
                "Description",
                "Policy",
                "BypassPolicyLockoutSafetyCheck",
                "Tags",
            ],
        ),
        ("UpdatePrimaryRegion", &["KeyId", "PrimaryRegion"]),
        ("ListKeys", &["Limit", "Marker"]),
        ("EnableKey", &["KeyId"]),
        ("DisableKey", &["KeyId"]),
        ("ScheduleKeyDeletion", &["KeyId", "PendingWindowInDays"]),
        ("CancelKeyDeletion", &["KeyId"]),
        (
            "CreateGrant",
            &[
                "KeyId",
                "GranteePrincipal",
                "RetiringPrincipal",
                "Operations",
                "Constraints",
                "GrantTokens",
                "Name",
                "DryRun",
            ],
        ),
        (
            "ListGrants",
            &["KeyId", "Limit", "Marker", "GrantId", "GranteePrincipal"],
        ),
        (
            "ListRetirableGrants",
            &["RetiringPrincipal", "Limit", "Marker"],
        ),
        ("RevokeGrant", &["KeyId", "GrantId", "DryRun"]),
        ("RetireGrant", &["GrantToken", "KeyId", "GrantId", "DryRun"]),
        (
            "Encrypt",
            &[
                "KeyId",
                "Plaintext",
                "EncryptionContext",
                "GrantTokens",
                "EncryptionAlgorithm",
                "DryRun",
            ],
        ),
        (
            "Decrypt",
            &[
                "CiphertextBlob",
                "KeyId",
                "EncryptionContext",
                "GrantTokens",
                "EncryptionAlgorithm",
                "DryRun",
            ],
        ),
        (
            "GenerateDataKey",
            &[
                "KeyId",
                "KeySpec",
                "NumberOfBytes",
                "EncryptionContext",
                "GrantTokens",
                "DryRun",
            ],
        ),
        (
            "GenerateDataKeyWithoutPlaintext",
            &[
                "KeyId",
                "KeySpec",
                "NumberOfBytes",
                "EncryptionContext",
                "GrantTokens",
                "DryRun",
            ],
        ),
    ];
    let hostile = [
        json!(""),
        json!("\u{0}'; drop table kms_grant; --"),
        json!("x".repeat(10_000)),
        json!(-1),
        json!(i64::MAX),
        json!(1.5),
        json!(true),
        json!([]),
        json!([1, {"a": [null]}]),
        json!({"EncryptionContextSubset": {"": "x"}}),
        json!({"a": {"b": {"c": {}}}}),
    ];
    for (op, names) in fields {
        for name in *names {
            for value in &hostile {
                let mut body = json!({
                    "KeyId": key["KeyId"], "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Encrypt"],
                    "Plaintext": "eA==", "CiphertextBlob": "eA==", "KeySpec": "AES_256",
                    "RetiringPrincipal": AWS_ALICE.arn, "GrantId": "a".repeat(64),
                });
                body[*name] = value.clone();
                let reply = aws(app, AWS_ALICE, op, body).await;
                assert!(reply.status < 500, "{op}.{name} = {value}: {}", reply.raw);
                if reply.status != 200 {
                    assert!(
                        reply.body["__type"].is_string(),
                        "{op}.{name}: {}",
                        reply.raw
                    );
                }
            }
        }
    }
}

crate::on_every_backend!(
    every_field_of_every_operation_survives_hostile_values,
    malformed_input_gets_aws_errors_not_500s,
);
