//! The AWS JSON 1.1 dialect over HTTP: SigV4 and AWS's error types, key metadata and
//! states, encryption and data keys, identities files and timeouts. Requests are signed
//! with the library's own SigV4 signer, which a unit test checks against botocore's.
//! Grants are in `aws_grants`, hostile input in `aws_input`.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::aws_grants::grant_count;
use crate::helpers::aws::{
    AWS_ALICE, AWS_DAVE, AWS_ERIN, Aws, aws, aws_error, aws_refused, send, signed_headers,
};
use crate::helpers::{ALICE, Backend, TestApp};

pub(crate) async fn create_key(app: &TestApp) -> Value {
    aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"].clone()
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
    aws_refused(
        app,
        wrong_secret,
        "ListKeys",
        json!({}),
        "InvalidSignatureException",
    )
    .await;
    let unknown = Aws {
        access_key: "AKIANOSUCHKEY0000000",
        ..AWS_ALICE
    };
    aws_refused(
        app,
        unknown,
        "ListKeys",
        json!({}),
        "UnrecognizedClientException",
    )
    .await;
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
    aws_refused(
        app,
        AWS_ALICE,
        "NoSuchOperation",
        json!({}),
        "UnknownOperationException",
    )
    .await;
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
        aws_refused(
            app,
            AWS_ALICE,
            "DescribeKey",
            json!({"KeyId": bad}),
            "NotFoundException",
        )
        .await;
    }
    // Another account's ARN for this key ID is not this key; and as AWS answers for any
    // key of another account, the answer does not say whether it exists.
    let foreign = format!("arn:aws:kms:eu-de:444455556666:key/{id}");
    aws_refused(
        app,
        AWS_ALICE,
        "DescribeKey",
        json!({"KeyId": foreign}),
        "AccessDeniedException",
    )
    .await;
    // The same key through the Huawei dialect.
    let huawei = app.call(ALICE, "describe-key", json!({"key_id": id})).await;
    assert_eq!(huawei.ok()["key_info"]["key_id"], id);
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
    aws_refused(
        app,
        AWS_ALICE,
        "Encrypt",
        encrypt.clone(),
        "KMSInvalidStateException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "EnableKey",
        id.clone(),
        "KMSInvalidStateException",
    )
    .await;
    aws(app, AWS_ALICE, "CancelKeyDeletion", id.clone())
        .await
        .ok();
    aws_refused(
        app,
        AWS_ALICE,
        "CancelKeyDeletion",
        id.clone(),
        "KMSInvalidStateException",
    )
    .await;
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
    aws_refused(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"CiphertextBlob": data_key["CiphertextBlob"]}),
        "InvalidCiphertextException",
    )
    .await;
    let other = create_key(app).await;
    aws_refused(app,
            AWS_ALICE,
            "Decrypt",
            json!({"CiphertextBlob": data_key["CiphertextBlob"], "EncryptionContext": {"a": "b"}, "KeyId": other["KeyId"]}), "IncorrectKeyException").await;
}

crate::on_every_backend!(
    signatures_are_verified_with_aws_error_types,
    huawei_routes_still_answer_next_to_post_root,
    keys_have_aws_metadata_and_arns,
    key_state_operations_follow_aws,
    data_keys_and_encryption_round_trip,
);

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
