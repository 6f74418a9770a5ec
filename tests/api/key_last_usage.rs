//! AWS GetKeyLastUsage over HTTP (issue 13): the last successful cryptographic use of a
//! key, recorded by either dialect, in the emulator's clock; failures, dry runs and
//! non-cryptographic operations leave it alone; the key's readers may ask, others not.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::helpers::aws::{AWS_ALICE, AWS_BOB, AWS_DAVE, AWS_ERIN, aws, aws_error, aws_refused};
use crate::helpers::{ALICE, TestApp};

async fn new_key(app: &TestApp) -> Value {
    aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"].clone()
}

async fn last_usage(app: &TestApp, key_id: &str) -> Value {
    aws(app, AWS_ALICE, "GetKeyLastUsage", json!({"KeyId": key_id}))
        .await
        .ok()
        .clone()
}

fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

async fn unused_key_reports_its_creation_and_an_empty_usage(app: &TestApp) {
    let key = new_key(app).await;
    let key_id = key["KeyId"].as_str().unwrap();
    let reply = last_usage(app, key_id).await;
    assert_eq!(reply["KeyId"], key_id);
    assert_eq!(reply["KeyLastUsage"], json!({}));
    assert_eq!(reply["KeyCreationDate"], key["CreationDate"]);
    assert_eq!(reply["TrackingStartDate"], key["CreationDate"]);
    // Describing, tagging or reading the public key is not a cryptographic use.
    aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": key_id}))
        .await
        .ok();
    aws(
        app,
        AWS_ALICE,
        "TagResource",
        json!({"KeyId": key_id, "Tags": [{"TagKey": "a", "TagValue": "b"}]}),
    )
    .await
    .ok();
    assert_eq!(last_usage(app, key_id).await["KeyLastUsage"], json!({}));
}

async fn each_successful_use_replaces_the_last(app: &TestApp) {
    let key_id = new_key(app).await["KeyId"].as_str().unwrap().to_owned();
    let encrypt = aws(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key_id, "Plaintext": BASE64.encode("x"), "EncryptionContext": {"k": "v"}}),
    )
    .await;
    let ciphertext = encrypt.ok()["CiphertextBlob"].as_str().unwrap().to_owned();
    let usage = last_usage(app, &key_id).await["KeyLastUsage"].clone();
    assert_eq!(usage["Operation"], "Encrypt", "{usage}");
    assert_eq!(
        usage["KmsRequestId"].as_str(),
        encrypt.request_id.as_deref(),
        "the request that used the key"
    );
    let at = usage["Timestamp"].as_f64().unwrap();
    assert!((at - now_seconds()).abs() < 60.0, "{at}");
    assert!(
        usage.get("CloudTrailEventId").is_none(),
        "no CloudTrail here"
    );

    // A failed decryption (wrong context) and a dry run are not successful uses.
    let wrong = aws(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"CiphertextBlob": ciphertext, "EncryptionContext": {"k": "other"}}),
    )
    .await;
    aws_error(&wrong, "InvalidCiphertextException");
    let dry = aws(
        app,
        AWS_ALICE,
        "GenerateDataKey",
        json!({"KeyId": key_id, "KeySpec": "AES_256", "DryRun": true}),
    )
    .await;
    aws_error(&dry, "DryRunOperationException");
    assert_eq!(
        last_usage(app, &key_id).await["KeyLastUsage"]["Operation"],
        "Encrypt"
    );

    // The Huawei dialect uses the same keys: its decrypt-data is a Decrypt.
    let cipher = app
        .call(
            ALICE,
            "encrypt-data",
            json!({"key_id": key_id, "plain_text": "hello"}),
        )
        .await
        .ok()["cipher_text"]
        .as_str()
        .unwrap()
        .to_owned();
    app.call(ALICE, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .ok();
    assert_eq!(
        last_usage(app, &key_id).await["KeyLastUsage"]["Operation"],
        "Decrypt"
    );

    aws(
        app,
        AWS_ALICE,
        "GenerateDataKey",
        json!({"KeyId": key_id, "KeySpec": "AES_256"}),
    )
    .await
    .ok();
    assert_eq!(
        last_usage(app, &key_id).await["KeyLastUsage"]["Operation"],
        "GenerateDataKey"
    );

    // ReEncrypt uses both keys.
    let other = new_key(app).await["KeyId"].as_str().unwrap().to_owned();
    aws(
        app,
        AWS_ALICE,
        "ReEncrypt",
        json!({"CiphertextBlob": ciphertext, "SourceEncryptionContext": {"k": "v"}, "DestinationKeyId": other}),
    )
    .await
    .ok();
    for key in [&key_id, &other] {
        assert_eq!(
            last_usage(app, key).await["KeyLastUsage"]["Operation"],
            "ReEncrypt"
        );
    }
}

async fn uses_are_stamped_with_the_emulators_clock(app: &TestApp) {
    let key_id = new_key(app).await["KeyId"].as_str().unwrap().to_owned();
    let moved = app.move_clock(json!({"advance_days": 30})).await;
    assert_eq!(moved.status, 200, "{}", moved.raw);
    let mac_key = aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    )
    .await;
    let mac_key = mac_key.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    aws(
        app,
        AWS_ALICE,
        "GenerateMac",
        json!({"KeyId": mac_key, "Message": BASE64.encode("m"), "MacAlgorithm": "HMAC_SHA_256"}),
    )
    .await
    .ok();
    let usage = last_usage(app, &mac_key).await["KeyLastUsage"].clone();
    assert_eq!(usage["Operation"], "GenerateMac");
    let ahead = usage["Timestamp"].as_f64().unwrap() - now_seconds();
    assert!(
        (29.0 * 86_400.0..31.0 * 86_400.0).contains(&ahead),
        "{ahead}"
    );
    // The key used before the move stays unused.
    assert_eq!(last_usage(app, &key_id).await["KeyLastUsage"], json!({}));
}

async fn readers_may_ask_others_may_not(app: &TestApp) {
    let key = new_key(app).await;
    let key_id = key["KeyId"].as_str().unwrap();
    let arn = key["Arn"].as_str().unwrap();
    // dave holds ReadOnlyAccess (kms:Get*); the ARN names the key as well as the ID.
    let read = aws(app, AWS_DAVE, "GetKeyLastUsage", json!({"KeyId": arn})).await;
    assert_eq!(read.ok()["KeyId"], key_id);
    aws_refused(
        app,
        AWS_BOB,
        "GetKeyLastUsage",
        json!({"KeyId": key_id}),
        "AccessDeniedException",
    )
    .await;
    // Not across accounts (AWS: "Cross-account use: No").
    let stranger = aws(app, AWS_ERIN, "GetKeyLastUsage", json!({"KeyId": arn})).await;
    assert_eq!(stranger.status, 400, "{}", stranger.raw);
    assert_ne!(
        stranger.body["__type"], "ValidationException",
        "{}",
        stranger.raw
    );
    // Alias names are not supported here, as in AWS.
    aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/last-usage", "TargetKeyId": key_id}),
    )
    .await
    .ok();
    let by_alias = aws(
        app,
        AWS_ALICE,
        "GetKeyLastUsage",
        json!({"KeyId": "alias/last-usage"}),
    )
    .await;
    assert_eq!(by_alias.status, 400, "{}", by_alias.raw);
    aws_refused(
        app,
        AWS_ALICE,
        "GetKeyLastUsage",
        json!({"KeyId": "00000000-0000-4000-8000-000000000000"}),
        "NotFoundException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "GetKeyLastUsage",
        json!({}),
        "ValidationException",
    )
    .await;
}

crate::on_every_backend!(
    unused_key_reports_its_creation_and_an_empty_usage,
    each_successful_use_replaces_the_last,
    uses_are_stamped_with_the_emulators_clock,
    readers_may_ask_others_may_not,
);
