//! The AWS JSON 1.1 dialect over HTTP: SigV4, the operations, AWS's error types, and
//! grants enforced across both dialects. Requests are signed with the library's own
//! SigV4 signer, which a unit test checks against botocore's.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::helpers::aws::{
    AWS_ALICE, AWS_DAVE, AWS_ERIN, AWS_FRANK, Aws, aws, aws_error, send, signed_headers,
};
use crate::helpers::{ALICE, Backend, ERIN, TestApp};

pub(crate) async fn create_key(app: &TestApp) -> Value {
    aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"].clone()
}

async fn grant(app: &TestApp, key: &Value, grantee: Aws, ops: &[&str], extra: Value) -> Value {
    let mut body =
        json!({"KeyId": key["KeyId"], "GranteePrincipal": grantee.arn, "Operations": ops});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    aws(app, AWS_ALICE, "CreateGrant", body).await.ok().clone()
}

async fn grant_count(app: &TestApp, key: &Value) -> usize {
    aws(app, AWS_ALICE, "ListGrants", json!({"KeyId": key["KeyId"]}))
        .await
        .ok()["Grants"]
        .as_array()
        .unwrap()
        .len()
}

async fn signatures_are_verified_with_aws_error_types(app: &TestApp) {
    let body = b"{}".to_vec();
    let now = OffsetDateTime::now_utc();
    let good = signed_headers(app, AWS_ALICE, "ListKeys", &body, now);
    assert_eq!(send(app, good.clone(), body.clone()).await.status, 200);
    // The body is covered by the signature.
    aws_error(
        &send(app, good.clone(), b"{\"Limit\":1}".to_vec()).await,
        "InvalidSignatureException",
    );
    let wrong_secret = Aws {
        secret_key: "wrong",
        ..AWS_ALICE
    };
    aws_error(
        &aws(app, wrong_secret, "ListKeys", json!({})).await,
        "InvalidSignatureException",
    );
    let unknown = Aws {
        access_key: "AKIANOSUCHKEY0000000",
        ..AWS_ALICE
    };
    aws_error(
        &aws(app, unknown, "ListKeys", json!({})).await,
        "UnrecognizedClientException",
    );
    let stale = signed_headers(
        app,
        AWS_ALICE,
        "ListKeys",
        &body,
        now - time::Duration::minutes(16),
    );
    let reply = send(app, stale, body.clone()).await;
    aws_error(&reply, "InvalidSignatureException");
    assert!(reply.raw.contains("Signature expired"), "{}", reply.raw);
    let unsigned: Vec<(String, String)> = good
        .iter()
        .filter(|(n, _)| n != "authorization")
        .cloned()
        .collect();
    aws_error(
        &send(app, unsigned, body.clone()).await,
        "MissingAuthenticationTokenException",
    );
    let mut truncated = good.clone();
    truncated.last_mut().unwrap().1 = "AWS4-HMAC-SHA256 Credential=DEMOALICEACCESSKEY01".into();
    aws_error(
        &send(app, truncated, body.clone()).await,
        "IncompleteSignatureException",
    );
    aws_error(
        &aws(app, AWS_ALICE, "NoSuchOperation", json!({})).await,
        "UnknownOperationException",
    );
    // Multi-Region keys are out of scope (regions are served, replicas are not).
    aws_error(
        &aws(app, AWS_ALICE, "ReplicateKey", json!({})).await,
        "UnsupportedOperationException",
    );
    // Custom key stores are out of scope, and say so.
    let store = aws(app, AWS_ALICE, "DescribeCustomKeyStores", json!({})).await;
    aws_error(&store, "UnsupportedOperationException");
    assert!(store.raw.contains("custom key stores"), "{}", store.raw);
}

async fn huawei_routes_still_answer_next_to_post_root(app: &TestApp) {
    let versions = app.raw(reqwest::Method::GET, "/", &[], Vec::new()).await;
    assert_eq!(versions.ok()["versions"][0]["id"], "v1.0");
    let unknown = app
        .raw(reqwest::Method::GET, "/no/such/path", &[], Vec::new())
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["error_code"], "APIGW.0101");
}

async fn keys_have_aws_metadata_and_arns(app: &TestApp) {
    let key = create_key(app).await;
    let id = key["KeyId"].as_str().unwrap();
    assert_eq!(
        key["Arn"],
        format!("arn:aws:kms:eu-de:111122223333:key/{id}")
    );
    assert_eq!(key["KeyState"], "Enabled");
    assert_eq!(key["AWSAccountId"], "111122223333");
    let by_arn = aws(app, AWS_DAVE, "DescribeKey", json!({"KeyId": key["Arn"]})).await;
    assert_eq!(by_arn.ok()["KeyMetadata"]["KeyId"], id);
    for bad in [
        "fake-key-id",
        "alias/nope",
        "arn:aws:kms:us-east-1:111122223333:key/6f2b9e52-0000-4000-8000-000000000000",
        "6f2b9e52-0000-4000-8000-000000000000",
    ] {
        aws_error(
            &aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": bad})).await,
            "NotFoundException",
        );
    }
    // Another account's ARN for this key ID is not this key; and as AWS answers for any
    // key of another account, the answer does not say whether it exists.
    let foreign = format!("arn:aws:kms:eu-de:444455556666:key/{id}");
    aws_error(
        &aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": foreign})).await,
        "AccessDeniedException",
    );
    // The same key through the Huawei dialect.
    let huawei = app.call(ALICE, "describe-key", json!({"key_id": id})).await;
    assert_eq!(huawei.ok()["key_info"]["key_id"], id);
}

async fn grants_made_in_one_dialect_are_enforced_in_the_other(app: &TestApp) {
    let key = create_key(app).await;
    let id = key["KeyId"].as_str().unwrap();
    // AWS grant to erin (another account): erin's Huawei token may now encrypt.
    grant(app, &key, AWS_ERIN, &["Encrypt"], json!({})).await;
    let encrypted = app
        .call(
            ERIN,
            "encrypt-data",
            json!({"key_id": id, "plain_text": "hello"}),
        )
        .await;
    let cipher = encrypted.ok()["cipher_text"].as_str().unwrap().to_owned();
    // ... but not decrypt.
    app.call(ERIN, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .error(403, "KMS.0306");
    // What Huawei encrypted, AWS decrypts for the owner.
    let plain = aws(app, AWS_ALICE, "Decrypt", json!({"CiphertextBlob": cipher})).await;
    assert_eq!(plain.ok()["Plaintext"], "aGVsbG8=");
    // A Huawei grant shows in the AWS listing with AWS names.
    app.call(
        ALICE,
        "create-grant",
        json!({"key_id": id, "grantee_principal": "f4a4c000000000000000000000000006",
               "operations": ["decrypt-data", "describe-key"]}),
    )
    .await
    .ok();
    let listed = aws(
        app,
        AWS_ALICE,
        "ListGrants",
        json!({"KeyId": id, "GranteePrincipal": AWS_FRANK.arn}),
    )
    .await;
    let entries = listed.ok()["Grants"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["Operations"], json!(["Decrypt", "DescribeKey"]));
    assert_eq!(entries[0]["KeyId"], key["Arn"]);
    // ... and is enforced for frank in the AWS dialect.
    let blob = aws(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": id, "Plaintext": "eA=="}),
    )
    .await
    .ok()["CiphertextBlob"]
        .clone();
    assert_eq!(
        aws(app, AWS_FRANK, "Decrypt", json!({"CiphertextBlob": blob}))
            .await
            .ok()["Plaintext"],
        "eA=="
    );
    aws_error(
        &aws(
            app,
            AWS_FRANK,
            "Encrypt",
            json!({"KeyId": key["Arn"], "Plaintext": "eA=="}),
        )
        .await,
        "AccessDeniedException",
    );
}

async fn constraints_apply_in_both_dialects(app: &TestApp) {
    let key = create_key(app).await;
    let id = key["KeyId"].as_str().unwrap();
    grant(
        app,
        &key,
        AWS_ERIN,
        &["Encrypt"],
        json!({"Constraints": {"EncryptionContextSubset": {"app": "x"}}}),
    )
    .await;
    let with =
        |ctx: Value| json!({"KeyId": key["Arn"], "Plaintext": "eA==", "EncryptionContext": ctx});
    aws(
        app,
        AWS_ERIN,
        "Encrypt",
        with(json!({"app": "x", "more": "y"})),
    )
    .await
    .ok();
    aws_error(
        &aws(app, AWS_ERIN, "Encrypt", with(json!({"app": "y"}))).await,
        "AccessDeniedException",
    );
    // A grantee may pass its grant on only as constrained as it is.
    grant(
        app,
        &key,
        AWS_ERIN,
        &["Encrypt", "CreateGrant"],
        json!({"Constraints": {"EncryptionContextSubset": {"app": "x"}}}),
    )
    .await;
    let sub_grant = |constraints: Value| {
        let mut body = json!({"KeyId": key["Arn"], "GranteePrincipal": AWS_FRANK.arn, "Operations": ["Encrypt"]});
        if !constraints.is_null() {
            body["Constraints"] = constraints;
        }
        aws(app, AWS_ERIN, "CreateGrant", body)
    };
    aws_error(&sub_grant(Value::Null).await, "AccessDeniedException");
    aws_error(
        &sub_grant(json!({"EncryptionContextSubset": {"app": "y"}})).await,
        "AccessDeniedException",
    );
    sub_grant(json!({"EncryptionContextEquals": {"app": "x", "env": "prod"}}))
        .await
        .ok();
    // The Huawei dialect's encryption_context object is the same context.
    app.call(
        ERIN,
        "encrypt-data",
        json!({"key_id": id, "plain_text": "x", "encryption_context": {"app": "x"}}),
    )
    .await
    .ok();
    app.call(
        ERIN,
        "encrypt-data",
        json!({"key_id": id, "plain_text": "x"}),
    )
    .await
    .error(403, "KMS.0306");
}

async fn dry_runs_check_everything_and_change_nothing(app: &TestApp) {
    let key = create_key(app).await;
    let reply = aws(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": key["KeyId"], "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Encrypt"], "DryRun": true}),
    )
    .await;
    aws_error(&reply, "DryRunOperationException");
    assert_eq!(
        reply.body["message"],
        "The request would have succeeded, but the DryRun option is set."
    );
    assert_eq!(grant_count(app, &key).await, 0);
    let g = grant(app, &key, AWS_ERIN, &["Encrypt", "RetireGrant"], json!({})).await;
    let revoke = json!({"KeyId": key["KeyId"], "GrantId": g["GrantId"], "DryRun": true});
    aws_error(
        &aws(app, AWS_ALICE, "RevokeGrant", revoke.clone()).await,
        "DryRunOperationException",
    );
    // Not allowed: the dry run says so instead of DryRunOperationException.
    aws_error(
        &aws(
            app,
            AWS_ERIN,
            "RevokeGrant",
            json!({"KeyId": key["Arn"], "GrantId": g["GrantId"], "DryRun": true}),
        )
        .await,
        "AccessDeniedException",
    );
    aws_error(
        &aws(
            app,
            AWS_ERIN,
            "RetireGrant",
            json!({"GrantToken": g["GrantToken"], "DryRun": true}),
        )
        .await,
        "DryRunOperationException",
    );
    for op in [
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
    ] {
        let mut body = json!({"KeyId": key["Arn"], "DryRun": true});
        if op == "Encrypt" {
            body["Plaintext"] = json!("eA==");
        } else {
            body["KeySpec"] = json!("AES_256");
        }
        let expected = if op == "Encrypt" {
            "DryRunOperationException"
        } else {
            "AccessDeniedException"
        };
        aws_error(&aws(app, AWS_ERIN, op, body).await, expected);
    }
    assert_eq!(grant_count(app, &key).await, 1);
}

async fn name_idempotency_matches_all_properties(app: &TestApp) {
    let key = create_key(app).await;
    let first = grant(app, &key, AWS_ERIN, &["Encrypt"], json!({"Name": "n"})).await;
    let retry = grant(app, &key, AWS_ERIN, &["Encrypt"], json!({"Name": "n"})).await;
    assert_eq!(first["GrantId"], retry["GrantId"]);
    assert_ne!(first["GrantToken"], retry["GrantToken"]);
    let other_ops = grant(app, &key, AWS_ERIN, &["Decrypt"], json!({"Name": "n"})).await;
    let other_grantee = grant(app, &key, AWS_FRANK, &["Encrypt"], json!({"Name": "n"})).await;
    let unnamed = grant(app, &key, AWS_ERIN, &["Encrypt"], json!({})).await;
    let unnamed_again = grant(app, &key, AWS_ERIN, &["Encrypt"], json!({})).await;
    let ids = [&first, &other_ops, &other_grantee, &unnamed, &unnamed_again]
        .map(|g| g["GrantId"].as_str().unwrap().to_owned());
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 5);
    assert_eq!(grant_count(app, &key).await, 5);
}

async fn retire_and_revoke_roles(app: &TestApp) {
    let key = create_key(app).await;
    let plain = grant(app, &key, AWS_ERIN, &["Encrypt"], json!({})).await;
    let by_ids = |g: &Value| json!({"KeyId": key["Arn"], "GrantId": g["GrantId"]});
    aws_error(
        &aws(app, AWS_ERIN, "RetireGrant", by_ids(&plain)).await,
        "AccessDeniedException",
    );
    // Not a party, in another account: the answer says nothing about the key.
    aws_error(
        &aws(app, AWS_FRANK, "RetireGrant", by_ids(&plain)).await,
        "AccessDeniedException",
    );
    let retirable = grant(
        app,
        &key,
        AWS_ERIN,
        &["Encrypt"],
        json!({"RetiringPrincipal": AWS_FRANK.arn}),
    )
    .await;
    let listed = aws(
        app,
        AWS_FRANK,
        "ListRetirableGrants",
        json!({"RetiringPrincipal": AWS_FRANK.arn}),
    )
    .await;
    assert_eq!(
        listed.ok()["Grants"][0]["GrantId"],
        retirable["GrantId"],
        "{}",
        listed.raw
    );
    let retired = aws(
        app,
        AWS_FRANK,
        "RetireGrant",
        json!({"GrantToken": retirable["GrantToken"]}),
    )
    .await;
    assert_eq!(retired.ok(), &Value::Null, "empty body: {}", retired.raw);
    assert_eq!(retired.raw, "");
    // Retired means gone at once: a second retire finds nothing.
    aws_error(
        &aws(app, AWS_ALICE, "RetireGrant", by_ids(&retirable)).await,
        "NotFoundException",
    );
    aws_error(
        &aws(app, AWS_ERIN, "RevokeGrant", by_ids(&plain)).await,
        "AccessDeniedException",
    );
    aws(app, AWS_ALICE, "RevokeGrant", by_ids(&plain))
        .await
        .ok();
    // A key of another account without a grant: AccessDenied, as AWS answers it, whether
    // or not the key exists.
    aws_error(
        &aws(
            app,
            AWS_ERIN,
            "Encrypt",
            json!({"KeyId": key["Arn"], "Plaintext": "eA=="}),
        )
        .await,
        "AccessDeniedException",
    );
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "RetireGrant",
            json!({"GrantToken": "bm90IGEgdG9rZW4"}),
        )
        .await,
        "InvalidGrantTokenException",
    );
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "RevokeGrant",
            json!({"KeyId": key["KeyId"], "GrantId": "zz"}),
        )
        .await,
        "InvalidGrantIdException",
    );
}

async fn key_state_operations_follow_aws(app: &TestApp) {
    let key = create_key(app).await;
    let id = json!({"KeyId": key["KeyId"]});
    let disabled = aws(app, AWS_ALICE, "DisableKey", id.clone()).await;
    assert_eq!(disabled.status, 200);
    assert_eq!(disabled.raw, "");
    aws(app, AWS_ALICE, "DisableKey", id.clone()).await.ok();
    let encrypt = json!({"KeyId": key["KeyId"], "Plaintext": "eA=="});
    let reply = aws(app, AWS_ALICE, "Encrypt", encrypt.clone()).await;
    aws_error(&reply, "DisabledException");
    assert_eq!(
        reply.body["message"],
        format!("{} is disabled.", key["Arn"].as_str().unwrap())
    );
    aws(app, AWS_ALICE, "EnableKey", id.clone()).await.ok();
    aws(app, AWS_ALICE, "EnableKey", id.clone()).await.ok();
    let scheduled = aws(
        app,
        AWS_ALICE,
        "ScheduleKeyDeletion",
        json!({"KeyId": key["KeyId"], "PendingWindowInDays": 7}),
    )
    .await;
    assert_eq!(scheduled.ok()["KeyState"], "PendingDeletion");
    aws_error(
        &aws(app, AWS_ALICE, "Encrypt", encrypt.clone()).await,
        "KMSInvalidStateException",
    );
    aws_error(
        &aws(app, AWS_ALICE, "EnableKey", id.clone()).await,
        "KMSInvalidStateException",
    );
    aws(app, AWS_ALICE, "CancelKeyDeletion", id.clone())
        .await
        .ok();
    aws_error(
        &aws(app, AWS_ALICE, "CancelKeyDeletion", id.clone()).await,
        "KMSInvalidStateException",
    );
    let state = aws(app, AWS_ALICE, "DescribeKey", id).await;
    assert_eq!(state.ok()["KeyMetadata"]["KeyState"], "Disabled");
}

async fn data_keys_and_encryption_round_trip(app: &TestApp) {
    let key = create_key(app).await;
    let data_key = aws(
        app,
        AWS_ALICE,
        "GenerateDataKey",
        json!({"KeyId": key["KeyId"], "NumberOfBytes": 24, "EncryptionContext": {"a": "b"}}),
    )
    .await;
    let data_key = data_key.ok().clone();
    let without = aws(
        app,
        AWS_ALICE,
        "GenerateDataKeyWithoutPlaintext",
        json!({"KeyId": key["KeyId"], "KeySpec": "AES_128"}),
    )
    .await;
    assert!(without.ok().get("Plaintext").is_none());
    let opened = aws(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"CiphertextBlob": data_key["CiphertextBlob"], "EncryptionContext": {"a": "b"}, "KeyId": key["Arn"]}),
    )
    .await;
    assert_eq!(opened.ok()["Plaintext"], data_key["Plaintext"]);
    assert_eq!(opened.ok()["KeyId"], key["Arn"]);
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "Decrypt",
            json!({"CiphertextBlob": data_key["CiphertextBlob"]}),
        )
        .await,
        "InvalidCiphertextException",
    );
    let other = create_key(app).await;
    aws_error(
        &aws(
            app,
            AWS_ALICE,
            "Decrypt",
            json!({"CiphertextBlob": data_key["CiphertextBlob"], "EncryptionContext": {"a": "b"}, "KeyId": other["KeyId"]}),
        )
        .await,
        "IncorrectKeyException",
    );
}

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

/// Concurrent retries of one named CreateGrant make one grant (the key row is locked).
async fn concurrent_named_retries_make_one_grant(app: &TestApp) {
    let key = create_key(app).await;
    let body = json!({"KeyId": key["KeyId"], "GranteePrincipal": AWS_ERIN.arn,
                      "Operations": ["Encrypt"], "Name": "once"});
    let replies = futures::future::join_all(
        (0..12).map(|_| aws(app, AWS_ALICE, "CreateGrant", body.clone())),
    )
    .await;
    let ids: std::collections::HashSet<String> = replies
        .iter()
        .map(|r| r.ok()["GrantId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(grant_count(app, &key).await, 1);
}

crate::on_every_backend!(
    every_field_of_every_operation_survives_hostile_values,
    concurrent_named_retries_make_one_grant,
    signatures_are_verified_with_aws_error_types,
    huawei_routes_still_answer_next_to_post_root,
    keys_have_aws_metadata_and_arns,
    grants_made_in_one_dialect_are_enforced_in_the_other,
    constraints_apply_in_both_dialects,
    dry_runs_check_everything_and_change_nothing,
    name_idempotency_matches_all_properties,
    retire_and_revoke_roles,
    key_state_operations_follow_aws,
    data_keys_and_encryption_round_trip,
    malformed_input_gets_aws_errors_not_500s,
);

/// The AWS quota (50,000 by default) is configurable, so the limit is tested small.
async fn grant_limit_is_limit_exceeded(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.aws_max_grants_per_key = 2).await;
    let key = create_key(&app).await;
    grant(&app, &key, AWS_ERIN, &["Encrypt"], json!({})).await;
    let second = grant(&app, &key, AWS_ERIN, &["Encrypt"], json!({"Name": "again"})).await;
    let reply = aws(
        &app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": key["KeyId"], "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Decrypt"]}),
    )
    .await;
    aws_error(&reply, "LimitExceededException");
    // A retry of an existing named grant is not a new grant, so it still succeeds.
    let retry = grant(&app, &key, AWS_ERIN, &["Encrypt"], json!({"Name": "again"})).await;
    assert_eq!(retry["GrantId"], second["GrantId"]);
    // Revoking one makes room again.
    aws(
        &app,
        AWS_ALICE,
        "RevokeGrant",
        json!({"KeyId": key["KeyId"], "GrantId": second["GrantId"]}),
    )
    .await
    .ok();
    grant(&app, &key, AWS_ERIN, &["Decrypt"], json!({})).await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_limit_is_limit_exceeded_sqlite() {
    grant_limit_is_limit_exceeded(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_limit_is_limit_exceeded_postgres() {
    grant_limit_is_limit_exceeded(Backend::Postgres).await;
}

/// An identities file with explicit AWS fields: a role ARN for one user, an account ID
/// for each domain, and a domain without one (its ID derived from the domain ID).
/// Identity mapping does not depend on the store, so SQLite alone is enough here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_file_maps_access_keys_to_role_arns_and_accounts() {
    let dir = std::env::temp_dir().join(format!("kms-aws-ids-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("identities.json");
    std::fs::write(
        &file,
        r#"{
      "domains": [{"id": "d1", "name": "owner", "aws_account_id": "123456789012",
                   "policies": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
                  {"id": "d2", "name": "partner"}],
      "projects": [{"id": "p1", "name": "eu-de", "domain_id": "d1"},
                   {"id": "p2", "name": "eu-de", "domain_id": "d2"}],
      "users": [
        {"id": "u1", "name": "deployer", "domain_id": "d1", "projects": ["p1"],
         "aws_arn": "arn:aws:iam::123456789012:role/deployer",
         "access_keys": [{"access_key": "AKIADEPLOYER0000001", "secret_key": "deployer-secret"}]},
        {"id": "u2", "name": "app", "domain_id": "d2", "projects": ["p2"],
         "access_keys": [{"access_key": "AKIAPARTNERAPP00002", "secret_key": "app-secret"}]}
      ]
    }"#,
    )
    .unwrap();
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.identities = Some(file.clone())
    })
    .await;
    let deployer = Aws {
        access_key: "AKIADEPLOYER0000001",
        secret_key: "deployer-secret",
        arn: "arn:aws:iam::123456789012:role/deployer",
    };
    let partner_account = kms_emulator::auth::identities::default_aws_account_id("d2");
    let partner_arn = format!("arn:aws:iam::{partner_account}:user/app");
    let partner = Aws {
        access_key: "AKIAPARTNERAPP00002",
        secret_key: "app-secret",
        arn: "unused",
    };
    let key = aws(&app, deployer, "CreateKey", json!({})).await.ok()["KeyMetadata"].clone();
    assert_eq!(key["AWSAccountId"], "123456789012");
    aws(
        &app,
        deployer,
        "CreateGrant",
        json!({"KeyId": key["KeyId"], "GranteePrincipal": partner_arn, "Operations": ["Encrypt"],
               "RetiringPrincipal": deployer.arn}),
    )
    .await
    .ok();
    let listed = aws(&app, deployer, "ListGrants", json!({"KeyId": key["KeyId"]})).await;
    let entry = &listed.ok()["Grants"][0];
    assert_eq!(entry["GranteePrincipal"], partner_arn.as_str());
    assert_eq!(entry["RetiringPrincipal"], deployer.arn);
    assert_eq!(entry["IssuingAccount"], "arn:aws:iam::123456789012:root");
    aws(
        &app,
        partner,
        "Encrypt",
        json!({"KeyId": key["Arn"], "Plaintext": "eA=="}),
    )
    .await
    .ok();
    app.finish().await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// A request stuck past --request-timeout-secs gets AWS's retryable error in AWS's format
/// (boto3 retries DependencyTimeoutException), and what it was doing does not happen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_request_gets_an_aws_error_and_takes_no_effect() {
    use sqlx::Connection;
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        config.request_timeout_secs = 1;
    })
    .await;
    let key = create_key(&app).await;
    let mut lock = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
    sqlx::query("begin").execute(&mut lock).await.unwrap();
    sqlx::query("lock table kms_grant in access exclusive mode")
        .execute(&mut lock)
        .await
        .unwrap();
    let reply = aws(
        &app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": key["KeyId"], "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Encrypt"]}),
    )
    .await;
    assert_eq!(reply.status, 503, "{}", reply.raw);
    assert_eq!(
        reply.body["__type"], "DependencyTimeoutException",
        "{}",
        reply.raw
    );
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("did not complete within 1 s"),
        "{}",
        reply.raw
    );
    lock.close().await.unwrap();
    assert_eq!(
        grant_count(&app, &key).await,
        0,
        "the abandoned create did not happen"
    );
    app.finish().await;
}
