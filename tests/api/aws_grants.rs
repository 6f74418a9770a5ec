//! Grants through the AWS dialect over HTTP: enforced across both dialects, encryption
//! context constraints, dry runs, Name idempotency, who retires and revokes, concurrent
//! retries and the per-key grant quota.

use serde_json::{Value, json};

use crate::aws::create_key;
use crate::helpers::aws::{AWS_ALICE, AWS_ERIN, AWS_FRANK, Aws, aws, aws_error, aws_refused};
use crate::helpers::{ALICE, Backend, ERIN, TestApp};

async fn grant(app: &TestApp, key: &Value, grantee: Aws, ops: &[&str], extra: Value) -> Value {
    let mut body =
        json!({"KeyId": key["KeyId"], "GranteePrincipal": grantee.arn, "Operations": ops});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    aws(app, AWS_ALICE, "CreateGrant", body).await.ok().clone()
}

pub(crate) async fn grant_count(app: &TestApp, key: &Value) -> usize {
    aws(app, AWS_ALICE, "ListGrants", json!({"KeyId": key["KeyId"]}))
        .await
        .ok()["Grants"]
        .as_array()
        .unwrap()
        .len()
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
    aws_refused(
        app,
        AWS_FRANK,
        "Encrypt",
        json!({"KeyId": key["Arn"], "Plaintext": "eA=="}),
        "AccessDeniedException",
    )
    .await;
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
    aws_refused(
        app,
        AWS_ERIN,
        "Encrypt",
        with(json!({"app": "y"})),
        "AccessDeniedException",
    )
    .await;
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
    aws_refused(
        app,
        AWS_ALICE,
        "RevokeGrant",
        revoke.clone(),
        "DryRunOperationException",
    )
    .await;
    // Not allowed: the dry run says so instead of DryRunOperationException.
    aws_refused(
        app,
        AWS_ERIN,
        "RevokeGrant",
        json!({"KeyId": key["Arn"], "GrantId": g["GrantId"], "DryRun": true}),
        "AccessDeniedException",
    )
    .await;
    aws_refused(
        app,
        AWS_ERIN,
        "RetireGrant",
        json!({"GrantToken": g["GrantToken"], "DryRun": true}),
        "DryRunOperationException",
    )
    .await;
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
    aws_refused(
        app,
        AWS_ERIN,
        "RetireGrant",
        by_ids(&plain),
        "AccessDeniedException",
    )
    .await;
    // Not a party, in another account: the answer says nothing about the key.
    aws_refused(
        app,
        AWS_FRANK,
        "RetireGrant",
        by_ids(&plain),
        "AccessDeniedException",
    )
    .await;
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
    aws_refused(
        app,
        AWS_ALICE,
        "RetireGrant",
        by_ids(&retirable),
        "NotFoundException",
    )
    .await;
    aws_refused(
        app,
        AWS_ERIN,
        "RevokeGrant",
        by_ids(&plain),
        "AccessDeniedException",
    )
    .await;
    aws(app, AWS_ALICE, "RevokeGrant", by_ids(&plain))
        .await
        .ok();
    // A key of another account without a grant: AccessDenied, as AWS answers it, whether
    // or not the key exists.
    aws_refused(
        app,
        AWS_ERIN,
        "Encrypt",
        json!({"KeyId": key["Arn"], "Plaintext": "eA=="}),
        "AccessDeniedException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "RetireGrant",
        json!({"GrantToken": "bm90IGEgdG9rZW4"}),
        "InvalidGrantTokenException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "RevokeGrant",
        json!({"KeyId": key["KeyId"], "GrantId": "zz"}),
        "InvalidGrantIdException",
    )
    .await;
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
    concurrent_named_retries_make_one_grant,
    grants_made_in_one_dialect_are_enforced_in_the_other,
    constraints_apply_in_both_dialects,
    dry_runs_check_everything_and_change_nothing,
    name_idempotency_matches_all_properties,
    retire_and_revoke_roles,
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
