//! Key rotation, the emulator's clock and re-encryption over HTTP (issue 12), in both
//! dialects: material versions, scheduled rotation on a clock tests move, status fields,
//! ListKeyRotations paging, ReEncrypt authorized on both keys, state and type refusals,
//! and snapshots that keep versions.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::helpers::aws::{AWS_ALICE, AWS_BOB, AWS_DAVE, aws, aws_error, aws_refused};
use crate::helpers::{ALICE, BOB, CAROL, DAVE, TestApp};

const DAY_MS: f64 = 86_400_000.0;

fn key_arn(key_id: &str) -> String {
    format!("arn:aws:kms:eu-de:111122223333:key/{key_id}")
}

/// The material version a ciphertext's frame names (the 4 bytes before the checksum).
fn frame_version(cipher_b64: &str) -> u32 {
    let frame = BASE64.decode(cipher_b64).unwrap();
    let at = frame.len() - 32 - 4;
    u32::from_be_bytes(frame[at..at + 4].try_into().unwrap())
}

async fn advance_days(app: &TestApp, days: i64) {
    let moved = app.move_clock(json!({"advance_days": days})).await;
    assert_eq!(moved.status, 200, "{}", moved.raw);
}

async fn aws_key(app: &TestApp) -> String {
    aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn huawei_encrypt(app: &TestApp, key_id: &str, text: &str) -> String {
    app.call(
        ALICE,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": text}),
    )
    .await
    .ok()["cipher_text"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn huawei_decrypt(app: &TestApp, cipher: &str) -> String {
    app.call(ALICE, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .ok()["plain_text"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn aws_encrypt(app: &TestApp, key_id: &str, context: Value) -> String {
    aws(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key_id, "Plaintext": BASE64.encode("secret"), "EncryptionContext": context}),
    )
    .await
    .ok()["CiphertextBlob"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn rotations(app: &TestApp, key_id: &str) -> Vec<Value> {
    aws(app, AWS_ALICE, "ListKeyRotations", json!({"KeyId": key_id}))
        .await
        .ok()["Rotations"]
        .as_array()
        .unwrap()
        .clone()
}

/// A rotation adds material: new ciphertexts use it, every old one still decrypts.
async fn rotated_keys_decrypt_old_and_new_ciphertexts(app: &TestApp) {
    let key_id = app.create_key(ALICE, "rotating").await;
    let old = huawei_encrypt(app, &key_id, "before").await;
    assert_eq!(frame_version(&old), 0);
    let rotated = app
        .call(ALICE, "rotate-on-demand", json!({"key_id": key_id}))
        .await;
    assert_eq!(rotated.ok()["key_id"], key_id.as_str());
    let new = huawei_encrypt(app, &key_id, "after").await;
    assert_eq!(frame_version(&new), 1);
    app.call(ALICE, "rotate-on-demand", json!({"key_id": key_id}))
        .await
        .ok();
    let newest = huawei_encrypt(app, &key_id, "latest").await;
    assert_eq!(frame_version(&newest), 2);
    assert_eq!(huawei_decrypt(app, &old).await, "before");
    assert_eq!(huawei_decrypt(app, &new).await, "after");
    assert_eq!(huawei_decrypt(app, &newest).await, "latest");
    // Data keys too, through the AWS dialect.
    let data_key = aws(
        app,
        AWS_ALICE,
        "GenerateDataKey",
        json!({"KeyId": key_id, "KeySpec": "AES_256"}),
    )
    .await;
    let blob = data_key.ok()["CiphertextBlob"].as_str().unwrap();
    assert_eq!(frame_version(blob), 2);
    let opened = aws(app, AWS_ALICE, "Decrypt", json!({"CiphertextBlob": blob})).await;
    assert_eq!(opened.ok()["Plaintext"], data_key.body["Plaintext"]);
    // A frame naming a version the key does not have is a bad ciphertext, not a 500.
    let mut forged = BASE64.decode(&newest).unwrap();
    let at = forged.len() - 36;
    forged[at..at + 4].copy_from_slice(&9u32.to_be_bytes());
    let body_len = forged.len() - 32;
    let digest = sha2_digest(&forged[..body_len]);
    forged[body_len..].copy_from_slice(&digest);
    app.call(
        ALICE,
        "decrypt-data",
        json!({"cipher_text": BASE64.encode(&forged)}),
    )
    .await
    .error(400, "KMS.2201");

    let status = app
        .call(ALICE, "get-key-rotation-status", json!({"key_id": key_id}))
        .await;
    let status = status.ok();
    assert_eq!(status["number_of_rotations"], 2);
    assert_eq!(status["key_rotation_enabled"], false);
    assert!(!status["last_rotation_time"].as_str().unwrap().is_empty());
    let listed = rotations(app, &key_id).await;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|r| r["RotationType"] == "ON_DEMAND"));
    assert!(listed.iter().all(|r| r["KeyId"] == key_id.as_str()));
}

fn sha2_digest(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// Enabled rotation happens when the emulator's clock passes the due date, at the next
/// request that reads or uses the key; the clock lives in the database.
async fn scheduled_rotation_follows_the_clock(app: &TestApp) {
    let key_id = aws_key(app).await;
    let enabled = aws(
        app,
        AWS_ALICE,
        "EnableKeyRotation",
        json!({"KeyId": key_id, "RotationPeriodInDays": 90}),
    )
    .await;
    assert_eq!(enabled.status, 200, "{}", enabled.raw);
    let status = aws(
        app,
        AWS_ALICE,
        "GetKeyRotationStatus",
        json!({"KeyId": key_id}),
    )
    .await;
    let status = status.ok().clone();
    assert_eq!(status["KeyRotationEnabled"], true);
    assert_eq!(status["RotationPeriodInDays"], 90);
    assert_eq!(status["KeyId"], key_arn(&key_id));
    let next = status["NextRotationDate"].as_f64().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    assert!((next - now - 90.0 * 86_400.0).abs() < 120.0, "{next} {now}");
    let before = aws_encrypt(app, &key_id, json!({})).await;
    assert!(rotations(app, &key_id).await.is_empty());

    // The Huawei dialect reports the truth.
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(described.ok()["key_info"]["key_rotation_enabled"], "true");
    let listed = app.call(ALICE, "list-keys", json!({})).await;
    let details = listed.ok()["key_details"].as_array().unwrap().clone();
    let mine = details
        .iter()
        .find(|d| d["key_id"] == key_id.as_str())
        .unwrap();
    assert_eq!(mine["key_rotation_enabled"], "true");
    let huawei = app
        .call(ALICE, "get-key-rotation-status", json!({"key_id": key_id}))
        .await;
    assert_eq!(huawei.ok()["rotation_interval"], 90);
    assert_eq!(huawei.body["key_rotation_enabled"], true);
    assert_eq!(huawei.body["number_of_rotations"], 0);

    advance_days(app, 89).await;
    assert!(rotations(app, &key_id).await.is_empty(), "not due yet");
    let shown = app
        .raw(reqwest::Method::GET, "/_emulator/clock", &[], Vec::new())
        .await;
    assert_eq!(shown.ok()["offset_ms"].as_f64().unwrap(), 89.0 * DAY_MS);

    advance_days(app, 2).await;
    let after = aws_encrypt(app, &key_id, json!({})).await;
    assert_eq!(
        frame_version(&after),
        1,
        "the encryption applied the due rotation first"
    );
    let listed = rotations(app, &key_id).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["RotationType"], "AUTOMATIC");
    assert!((listed[0]["RotationDate"].as_f64().unwrap() - next).abs() < 0.01);
    let status = aws(
        app,
        AWS_ALICE,
        "GetKeyRotationStatus",
        json!({"KeyId": key_id}),
    )
    .await;
    let next2 = status.ok()["NextRotationDate"].as_f64().unwrap();
    assert!((next2 - next - 90.0 * 86_400.0).abs() < 0.01);

    // Three periods later: three more rotations, each at its date; read, not used.
    advance_days(app, 270).await;
    let huawei = app
        .call(ALICE, "get-key-rotation-status", json!({"key_id": key_id}))
        .await;
    assert_eq!(huawei.ok()["number_of_rotations"], 4);
    let listed = rotations(app, &key_id).await;
    assert_eq!(listed.len(), 4);
    assert!(listed.iter().all(|r| r["RotationType"] == "AUTOMATIC"));
    for text in [&before, &after] {
        let opened = aws(app, AWS_ALICE, "Decrypt", json!({"CiphertextBlob": text})).await;
        assert_eq!(opened.ok()["Plaintext"], BASE64.encode("secret"));
    }

    // A disabled key does not rotate; re-enabled, it catches up.
    aws(app, AWS_ALICE, "DisableKey", json!({"KeyId": key_id}))
        .await
        .ok();
    advance_days(app, 100).await;
    assert_eq!(rotations(app, &key_id).await.len(), 4);
    aws(app, AWS_ALICE, "EnableKey", json!({"KeyId": key_id}))
        .await
        .ok();
    assert_eq!(rotations(app, &key_id).await.len(), 5);

    // Disabling rotation stops it.
    aws(
        app,
        AWS_ALICE,
        "DisableKeyRotation",
        json!({"KeyId": key_id}),
    )
    .await
    .ok();
    advance_days(app, 400).await;
    assert_eq!(rotations(app, &key_id).await.len(), 5);
    let status = aws(
        app,
        AWS_ALICE,
        "GetKeyRotationStatus",
        json!({"KeyId": key_id}),
    )
    .await;
    assert_eq!(status.ok()["KeyRotationEnabled"], false);
    assert!(status.body.get("NextRotationDate").is_none());
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(described.ok()["key_info"]["key_rotation_enabled"], "false");

    // The clock moves forward only, and can go back to system time.
    assert_eq!(
        app.move_clock(json!({"advance_days": -1})).await.status,
        400
    );
    assert_eq!(
        app.move_clock(json!({"advance_hours": 1})).await.status,
        400
    );
    assert_eq!(app.move_clock(json!({})).await.status, 400);
    let reset = app.move_clock(json!({"reset": true})).await;
    assert_eq!(reset.ok()["offset_ms"], 0);
    let moved = app.move_clock(json!({"advance_seconds": 30})).await;
    assert_eq!(moved.ok()["offset_ms"], 30_000);
}

/// Huawei's status fields, interval rules and refusals.
async fn huawei_rotation_settings(app: &TestApp) {
    let key_id = app.create_key(ALICE, "settings").await;
    let show = || app.call(ALICE, "get-key-rotation-status", json!({"key_id": key_id}));
    let fresh = show().await;
    assert_eq!(
        fresh.ok().clone(),
        json!({"key_rotation_enabled": false, "rotation_interval": 365,
               "last_rotation_time": "", "number_of_rotations": 0})
    );
    app.call(
        ALICE,
        "update-key-rotation-interval",
        json!({"key_id": key_id, "rotation_interval": 60}),
    )
    .await
    .error(400, "KMS.0313");
    let enabled = app
        .call(ALICE, "enable-key-rotation", json!({"key_id": key_id}))
        .await;
    assert_eq!(enabled.ok(), &json!({}));
    assert_eq!(show().await.ok()["key_rotation_enabled"], true);
    for bad in [29, 366] {
        app.call(
            ALICE,
            "update-key-rotation-interval",
            json!({"key_id": key_id, "rotation_interval": bad}),
        )
        .await
        .error(400, "KMS.0308");
    }
    app.call(
        ALICE,
        "update-key-rotation-interval",
        json!({"key_id": key_id}),
    )
    .await
    .error(400, "KMS.0204");
    app.call(
        ALICE,
        "update-key-rotation-interval",
        json!({"key_id": key_id, "rotation_interval": 30}),
    )
    .await
    .ok();
    assert_eq!(show().await.ok()["rotation_interval"], 30);
    advance_days(app, 31).await;
    let rotated = show().await;
    assert_eq!(rotated.ok()["number_of_rotations"], 1);
    assert!(
        !rotated.body["last_rotation_time"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    app.call(ALICE, "disable-key-rotation", json!({"key_id": key_id}))
        .await
        .ok();
    let disabled = show().await;
    assert_eq!(disabled.ok()["key_rotation_enabled"], false);
    assert_eq!(
        disabled.body["rotation_interval"], 30,
        "the interval is kept"
    );

    // Who may: bob and carol nothing, dave (read-only) reads.
    for user in [BOB, CAROL] {
        app.call(user, "enable-key-rotation", json!({"key_id": key_id}))
            .await
            .error(403, "KMS.0306");
        app.call(user, "get-key-rotation-status", json!({"key_id": key_id}))
            .await
            .error(403, "KMS.0306");
    }
    app.call(DAVE, "get-key-rotation-status", json!({"key_id": key_id}))
        .await
        .ok();
    app.call(DAVE, "rotate-on-demand", json!({"key_id": key_id}))
        .await
        .error(403, "KMS.0306");

    // Key types and states.
    let rsa = app
        .call(
            ALICE,
            "create-key",
            json!({"key_alias": "rsa", "key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"}),
        )
        .await;
    let rsa_id = rsa.ok()["key_info"]["key_id"].as_str().unwrap().to_owned();
    for action in [
        "enable-key-rotation",
        "rotate-on-demand",
        "get-key-rotation-status",
    ] {
        app.call(ALICE, action, json!({"key_id": rsa_id}))
            .await
            .error(400, "KMS.0324");
    }
    app.call(ALICE, "disable-key", json!({"key_id": key_id}))
        .await
        .ok();
    app.call(ALICE, "enable-key-rotation", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.0209");
    app.call(ALICE, "rotate-on-demand", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.0209");
    app.call(
        ALICE,
        "schedule-key-deletion",
        json!({"key_id": key_id, "pending_days": "7"}),
    )
    .await
    .ok();
    app.call(ALICE, "rotate-on-demand", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.0210");
}

/// AWS: on-demand limit, ListKeyRotations paging, refusals by type, state and authority.
async fn aws_rotation_limits_paging_and_refusals(app: &TestApp) {
    let key_id = aws_key(app).await;
    for _ in 0..10 {
        let rotated = aws(
            app,
            AWS_ALICE,
            "RotateKeyOnDemand",
            json!({"KeyId": key_id}),
        )
        .await;
        assert_eq!(rotated.ok()["KeyId"], key_id.as_str());
    }
    aws_refused(
        app,
        AWS_ALICE,
        "RotateKeyOnDemand",
        json!({"KeyId": key_id}),
        "LimitExceededException",
    )
    .await;
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"KeyId": key_arn(&key_id), "Limit": 4});
        if let Some(marker) = &marker {
            body["Marker"] = json!(marker);
        }
        let page = aws(app, AWS_ALICE, "ListKeyRotations", body).await;
        let page = page.ok().clone();
        pages += 1;
        seen.extend(page["Rotations"].as_array().unwrap().iter().cloned());
        if page["Truncated"] == true {
            marker = Some(page["NextMarker"].as_str().unwrap().to_owned());
        } else {
            assert!(page.get("NextMarker").is_none());
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 10);
    let dates: Vec<f64> = seen
        .iter()
        .map(|r| r["RotationDate"].as_f64().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    aws_refused(
        app,
        AWS_ALICE,
        "ListKeyRotations",
        json!({"KeyId": key_id, "Marker": "x"}),
        "InvalidMarkerException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "ListKeyRotations",
        json!({"KeyId": key_id, "Limit": 0}),
        "ValidationException",
    )
    .await;

    // Periods.
    for bad in [89, 2561] {
        aws_refused(
            app,
            AWS_ALICE,
            "EnableKeyRotation",
            json!({"KeyId": key_id, "RotationPeriodInDays": bad}),
            "ValidationException",
        )
        .await;
    }
    let status = aws(
        app,
        AWS_ALICE,
        "GetKeyRotationStatus",
        json!({"KeyId": key_id}),
    )
    .await;
    assert_eq!(status.ok()["KeyRotationEnabled"], false);
    aws(
        app,
        AWS_ALICE,
        "EnableKeyRotation",
        json!({"KeyId": key_id}),
    )
    .await
    .ok();
    let status = aws(
        app,
        AWS_ALICE,
        "GetKeyRotationStatus",
        json!({"KeyId": key_id}),
    )
    .await;
    assert_eq!(status.ok()["RotationPeriodInDays"], 365);

    // Authority: bob none, dave reads only.
    for target in [
        "EnableKeyRotation",
        "DisableKeyRotation",
        "RotateKeyOnDemand",
        "GetKeyRotationStatus",
        "ListKeyRotations",
    ] {
        aws_refused(
            app,
            AWS_BOB,
            target,
            json!({"KeyId": key_id}),
            "AccessDeniedException",
        )
        .await;
    }
    aws(
        app,
        AWS_DAVE,
        "GetKeyRotationStatus",
        json!({"KeyId": key_id}),
    )
    .await
    .ok();
    aws(app, AWS_DAVE, "ListKeyRotations", json!({"KeyId": key_id}))
        .await
        .ok();
    aws_refused(
        app,
        AWS_DAVE,
        "DisableKeyRotation",
        json!({"KeyId": key_id}),
        "AccessDeniedException",
    )
    .await;

    // Types.
    let hmac = aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    )
    .await;
    let hmac_id = hmac.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    for target in [
        "EnableKeyRotation",
        "RotateKeyOnDemand",
        "GetKeyRotationStatus",
        "ListKeyRotations",
    ] {
        aws_refused(
            app,
            AWS_ALICE,
            target,
            json!({"KeyId": hmac_id}),
            "UnsupportedOperationException",
        )
        .await;
    }
    let external = aws(app, AWS_ALICE, "CreateKey", json!({"Origin": "EXTERNAL"})).await;
    if external.status == 200 {
        let external_id = external.body["KeyMetadata"]["KeyId"]
            .as_str()
            .unwrap()
            .to_owned();
        aws_refused(
            app,
            AWS_ALICE,
            "EnableKeyRotation",
            json!({"KeyId": external_id}),
            "UnsupportedOperationException",
        )
        .await;
    }

    // States: disabled keys, keys pending deletion.
    aws(app, AWS_ALICE, "DisableKey", json!({"KeyId": key_id}))
        .await
        .ok();
    for target in ["EnableKeyRotation", "DisableKeyRotation"] {
        aws_refused(
            app,
            AWS_ALICE,
            target,
            json!({"KeyId": key_id}),
            "DisabledException",
        )
        .await;
    }
    aws(
        app,
        AWS_ALICE,
        "ScheduleKeyDeletion",
        json!({"KeyId": key_id, "PendingWindowInDays": 7}),
    )
    .await
    .ok();
    aws_refused(
        app,
        AWS_ALICE,
        "EnableKeyRotation",
        json!({"KeyId": key_id}),
        "KMSInvalidStateException",
    )
    .await;
    let status = aws(
        app,
        AWS_ALICE,
        "GetKeyRotationStatus",
        json!({"KeyId": key_id}),
    )
    .await;
    assert_eq!(
        status.ok()["KeyRotationEnabled"],
        false,
        "a key pending deletion shows rotation disabled"
    );
}

/// ReEncrypt decides ReEncryptFrom on the source and ReEncryptTo on the destination.
async fn re_encrypt_is_authorized_on_both_keys(app: &TestApp) {
    let source = aws_key(app).await;
    let destination = aws_key(app).await;
    let context = json!({"purpose": "orders"});
    let blob = aws_encrypt(app, &source, context.clone()).await;
    let request = |blob: &str| {
        json!({"CiphertextBlob": blob, "SourceEncryptionContext": {"purpose": "orders"},
               "DestinationKeyId": destination, "DestinationEncryptionContext": {"to": "b"}})
    };
    let moved = aws(app, AWS_ALICE, "ReEncrypt", request(&blob)).await;
    let moved = moved.ok().clone();
    assert_eq!(moved["KeyId"], key_arn(&destination));
    assert_eq!(moved["SourceKeyId"], key_arn(&source));
    assert_eq!(moved["SourceEncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    let new_blob = moved["CiphertextBlob"].as_str().unwrap().to_owned();
    let opened = aws(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"CiphertextBlob": new_blob, "EncryptionContext": {"to": "b"}}),
    )
    .await;
    assert_eq!(opened.ok()["Plaintext"], BASE64.encode("secret"));
    assert_eq!(opened.body["KeyId"], key_arn(&destination));
    // The wrong source context, a wrong SourceKeyId, DryRun.
    let mut wrong = request(&blob);
    wrong["SourceEncryptionContext"] = json!({"purpose": "other"});
    aws_refused(
        app,
        AWS_ALICE,
        "ReEncrypt",
        wrong,
        "InvalidCiphertextException",
    )
    .await;
    let mut wrong = request(&blob);
    wrong["SourceKeyId"] = json!(destination);
    aws_refused(app, AWS_ALICE, "ReEncrypt", wrong, "IncorrectKeyException").await;
    let mut dry = request(&blob);
    dry["DryRun"] = json!(true);
    aws_refused(app, AWS_ALICE, "ReEncrypt", dry, "DryRunOperationException").await;

    // Bob needs a grant on each key.
    aws_refused(
        app,
        AWS_BOB,
        "ReEncrypt",
        request(&blob),
        "AccessDeniedException",
    )
    .await;
    aws(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": source, "GranteePrincipal": AWS_BOB.arn, "Operations": ["ReEncryptFrom"]}),
    )
    .await
    .ok();
    let half = aws(app, AWS_BOB, "ReEncrypt", request(&blob)).await;
    aws_error(&half, "AccessDeniedException");
    assert!(half.raw.contains("ReEncryptTo"), "{}", half.raw);
    aws(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": destination, "GranteePrincipal": AWS_BOB.arn, "Operations": ["ReEncryptTo"]}),
    )
    .await
    .ok();
    let by_bob = aws(app, AWS_BOB, "ReEncrypt", request(&blob)).await;
    assert_eq!(by_bob.ok()["KeyId"], key_arn(&destination));
    // The grants allow re-encryption, not decryption.
    aws_refused(
        app,
        AWS_BOB,
        "Decrypt",
        json!({"CiphertextBlob": blob, "EncryptionContext": context}),
        "AccessDeniedException",
    )
    .await;
    // Dave reads keys but does not use them.
    aws_refused(
        app,
        AWS_DAVE,
        "ReEncrypt",
        request(&blob),
        "AccessDeniedException",
    )
    .await;

    // The Huawei dialect: the same ciphertexts and grants; contexts as encryption_context objects.
    let huawei = app
        .call(
            BOB,
            "re-encrypt",
            json!({"cipher_text": blob, "source_encryption_context": {"purpose": "orders"},
                   "destination_key_id": destination,
                   "destination_encryption_context": {"to": "b"}}),
        )
        .await;
    let huawei = huawei.ok().clone();
    assert_eq!(huawei["key_id"], destination.as_str());
    assert_eq!(huawei["source_key_id"], source.as_str());
    let opened = app
        .call(
            ALICE,
            "decrypt-data",
            json!({"cipher_text": huawei["cipher_text"], "encryption_context": {"to": "b"}}),
        )
        .await;
    assert_eq!(opened.ok()["plain_text"], "secret");
    app.call(
        CAROL,
        "re-encrypt",
        json!({"cipher_text": blob, "source_encryption_context": {"purpose": "orders"},
               "destination_key_id": destination}),
    )
    .await
    .error(403, "KMS.0306");
    // Huawei additional_authenticated_data, into a rotated key, then back.
    let plain = app.create_key(ALICE, "aad-source").await;
    let cipher = app
        .call(
            ALICE,
            "encrypt-data",
            json!({"key_id": plain, "plain_text": "aad", "additional_authenticated_data": "v1"}),
        )
        .await
        .ok()["cipher_text"]
        .as_str()
        .unwrap()
        .to_owned();
    aws(
        app,
        AWS_ALICE,
        "RotateKeyOnDemand",
        json!({"KeyId": destination}),
    )
    .await
    .ok();
    let moved = app
        .call(
            ALICE,
            "re-encrypt",
            json!({"cipher_text": cipher, "source_additional_authenticated_data": "v1",
                   "destination_key_id": destination}),
        )
        .await;
    let moved_cipher = moved.ok()["cipher_text"].as_str().unwrap().to_owned();
    assert_eq!(
        frame_version(&moved_cipher),
        1,
        "the destination's newest material"
    );
    assert_eq!(huawei_decrypt(app, &moved_cipher).await, "aad");
    app.call(
        ALICE,
        "re-encrypt",
        json!({"cipher_text": cipher, "destination_key_id": destination}),
    )
    .await
    .error(400, "KMS.2201");
    app.call(
        ALICE,
        "re-encrypt",
        json!({"cipher_text": cipher, "destination_key_id": destination,
               "destination_encryption_algorithm": "RSAES_OAEP_SHA_256"}),
    )
    .await
    .error(400, "KMS.0308");

    // A disabled destination refuses as for other operations.
    aws(app, AWS_ALICE, "DisableKey", json!({"KeyId": destination}))
        .await
        .ok();
    aws_refused(
        app,
        AWS_ALICE,
        "ReEncrypt",
        request(&blob),
        "DisabledException",
    )
    .await;
    app.call(
        ALICE,
        "re-encrypt",
        json!({"cipher_text": cipher, "source_additional_authenticated_data": "v1",
               "destination_key_id": destination}),
    )
    .await
    .error(400, "KMS.0209");
}

/// A snapshot keeps versions and rotation settings: an import restores what decrypts.
async fn snapshots_keep_versions_and_settings(app: &TestApp) {
    let key_id = aws_key(app).await;
    let old = aws_encrypt(app, &key_id, json!({})).await;
    aws(
        app,
        AWS_ALICE,
        "RotateKeyOnDemand",
        json!({"KeyId": key_id}),
    )
    .await
    .ok();
    aws(
        app,
        AWS_ALICE,
        "EnableKeyRotation",
        json!({"KeyId": key_id, "RotationPeriodInDays": 100}),
    )
    .await
    .ok();
    let new = aws_encrypt(app, &key_id, json!({})).await;
    let exported = app
        .raw(reqwest::Method::GET, "/_emulator/snapshot", &[], Vec::new())
        .await;
    let snapshot = exported.ok().clone();
    assert_eq!(snapshot["key_versions"].as_array().unwrap().len(), 1);
    assert_eq!(snapshot["key_rotations"][0]["period_days"], 100);
    let reset = app
        .raw(
            reqwest::Method::POST,
            "/_emulator/reset",
            &[("content-type", "application/json")],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.raw);
    aws_refused(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"CiphertextBlob": new}),
        "InvalidCiphertextException",
    )
    .await;
    let imported = app
        .raw(
            reqwest::Method::POST,
            "/_emulator/snapshot",
            &[("content-type", "application/json")],
            snapshot.to_string().into_bytes(),
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.raw);
    for blob in [&old, &new] {
        let opened = aws(app, AWS_ALICE, "Decrypt", json!({"CiphertextBlob": blob})).await;
        assert_eq!(opened.ok()["Plaintext"], BASE64.encode("secret"));
    }
    let status = aws(
        app,
        AWS_ALICE,
        "GetKeyRotationStatus",
        json!({"KeyId": key_id}),
    )
    .await;
    assert_eq!(status.ok()["RotationPeriodInDays"], 100);
    assert_eq!(rotations(app, &key_id).await.len(), 1);
    // A version of a key the snapshot does not hold is refused.
    let mut broken = snapshot.clone();
    broken["key_versions"][0]["key_id"] = json!("00000000-0000-4000-8000-000000000000");
    let refused = app
        .raw(
            reqwest::Method::POST,
            "/_emulator/snapshot",
            &[("content-type", "application/json")],
            broken.to_string().into_bytes(),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.raw);
}

/// Races resolve in the database: concurrent requests after a due date apply the rotation
/// once, and concurrent on-demand rotations stop at the limit with one version each.
async fn concurrent_rotations_resolve_in_the_database(app: &TestApp) {
    let key_id = aws_key(app).await;
    aws(
        app,
        AWS_ALICE,
        "EnableKeyRotation",
        json!({"KeyId": key_id, "RotationPeriodInDays": 90}),
    )
    .await
    .ok();
    advance_days(app, 91).await;
    let encryptions = (0..8).map(|_| aws_encrypt(app, &key_id, json!({})));
    let blobs = futures::future::join_all(encryptions).await;
    assert!(
        blobs.iter().all(|b| frame_version(b) == 1),
        "one rotation, used by all"
    );
    assert_eq!(rotations(app, &key_id).await.len(), 1);

    let other = aws_key(app).await;
    let attempts =
        (0..14).map(|_| aws(app, AWS_ALICE, "RotateKeyOnDemand", json!({"KeyId": other})));
    let replies = futures::future::join_all(attempts).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        10,
        "{:?}",
        replies.iter().map(|r| &r.raw).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.status != 200) {
        aws_error(reply, "LimitExceededException");
    }
    let listed = rotations(app, &other).await;
    assert_eq!(listed.len(), 10);
}

crate::on_both_backends!(
    rotated_keys_decrypt_old_and_new_ciphertexts,
    scheduled_rotation_follows_the_clock,
    huawei_rotation_settings,
    aws_rotation_limits_paging_and_refusals,
    re_encrypt_is_authorized_on_both_keys,
    snapshots_keep_versions_and_settings,
    concurrent_rotations_resolve_in_the_database,
);
