//! Issue 15, findings 5 and 6: a caller learns nothing about keys and grants it cannot
//! see, and principals are typed so that a user can never stand in for an account.

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::aws::{AWS_ALICE, AWS_ERIN, aws};
use crate::helpers::{ALICE, BOB, ERIN, Reply, TestApp};

const BASE64: base64::engine::general_purpose::GeneralPurpose =
    base64::engine::general_purpose::STANDARD;

/// A well-formed frame (magic, length, checksum all right) naming `key_id`, whose sealed
/// part is random: what a prober can build without any key material.
fn forged_frame(key_id: &str) -> String {
    let sealed = [0x5a_u8; 12 + 16 + 8];
    let mut frame = vec![0x02, 0x00];
    let length = (4 + sealed.len() + key_id.len()) as u16;
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&sealed);
    frame.extend_from_slice(key_id.as_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    let digest = Sha256::digest(&frame);
    frame.extend_from_slice(&digest);
    BASE64.encode(frame)
}

/// The part of a reply a prober can observe, with `id` blanked out of the message.
fn observed(reply: &Reply, id: &str) -> (u16, Value) {
    let mut body = reply.body.clone();
    if let Some(object) = body.as_object_mut() {
        for value in object.values_mut() {
            if let Some(text) = value.as_str() {
                *value = json!(text.replace(id, "<id>"));
            }
            if let Some(inner) = value.as_object_mut() {
                for inner_value in inner.values_mut() {
                    if let Some(text) = inner_value.as_str() {
                        *inner_value = json!(text.replace(id, "<id>"));
                    }
                }
            }
        }
    }
    (reply.status, body)
}

/// AWS Decrypt without KeyId: a forged frame naming another account's key, one naming
/// no key at all and plain garbage get one answer, so key ids and owners cannot be probed.
async fn forged_frames_do_not_reveal_keys_through_aws(app: &TestApp) {
    let foreign = aws(app, AWS_ERIN, "CreateKey", json!({})).await.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let nowhere = uuid::Uuid::new_v4().to_string();
    let garbage = BASE64.encode([7_u8; 120]);
    let decrypt = |blob: String| {
        let body = json!({"CiphertextBlob": blob});
        async move { aws(app, AWS_ALICE, "Decrypt", body).await }
    };
    let for_foreign = decrypt(forged_frame(&foreign)).await;
    let for_nowhere = decrypt(forged_frame(&nowhere)).await;
    let for_garbage = decrypt(garbage).await;
    assert_eq!(for_foreign.status, 400, "{}", for_foreign.raw);
    assert_eq!(
        for_foreign.body["__type"], "InvalidCiphertextException",
        "{}",
        for_foreign.raw
    );
    assert_eq!(
        observed(&for_foreign, &foreign),
        observed(&for_nowhere, &nowhere)
    );
    assert_eq!(
        observed(&for_foreign, &foreign),
        observed(&for_garbage, "-")
    );
    assert!(!for_foreign.raw.contains(&foreign), "{}", for_foreign.raw);
}

/// The same in the Huawei dialect: decrypt-data names the key only inside the frame.
async fn forged_frames_do_not_reveal_keys_through_huawei(app: &TestApp) {
    let foreign = app.create_key(ERIN, "erins").await;
    let nowhere = uuid::Uuid::new_v4().to_string();
    let decrypt = |cipher: String| {
        let body = json!({"cipher_text": cipher});
        async move { app.call(ALICE, "decrypt-data", body).await }
    };
    let for_foreign = decrypt(forged_frame(&foreign)).await;
    let for_nowhere = decrypt(forged_frame(&nowhere)).await;
    let for_garbage = decrypt(BASE64.encode([7_u8; 120])).await;
    for_foreign.error(400, "KMS.2201");
    assert_eq!(
        observed(&for_foreign, &foreign),
        observed(&for_nowhere, &nowhere)
    );
    assert_eq!(
        observed(&for_foreign, &foreign),
        observed(&for_garbage, "-")
    );
    assert!(!for_foreign.raw.contains(&foreign), "{}", for_foreign.raw);
}

/// Huawei revoke-grant and retire-grant naming another account's grant id answer exactly
/// as for an unknown grant id (KMS.2501), never "grant of another key" (KMS.2502).
async fn another_accounts_grant_ids_cannot_be_probed(app: &TestApp) {
    let erins_key = app.create_key(ERIN, "erins").await;
    let foreign_grant = app
        .create_grant(
            ERIN,
            json!({"key_id": erins_key, "grantee_principal": BOB.id, "operations": ["encrypt-data", "retire-grant"]}),
        )
        .await;
    let unknown_grant = "f".repeat(64);
    let own_key = app.create_key(ALICE, "alices").await;
    for action in ["revoke-grant", "retire-grant"] {
        let foreign = app
            .call(
                ALICE,
                action,
                json!({"key_id": own_key, "grant_id": foreign_grant}),
            )
            .await;
        let unknown = app
            .call(
                ALICE,
                action,
                json!({"key_id": own_key, "grant_id": unknown_grant}),
            )
            .await;
        foreign.error(400, "KMS.2501");
        assert_eq!(
            observed(&foreign, &foreign_grant),
            observed(&unknown, &unknown_grant),
            "{action}"
        );
    }
    // Inside one account the caller may see the other key's grants, so the precise
    // answer stays.
    let second_key = app.create_key(ALICE, "second").await;
    let own_grant = app
        .create_grant(
            ALICE,
            json!({"key_id": second_key, "grantee_principal": BOB.id, "operations": ["encrypt-data"]}),
        )
        .await;
    app.call(
        ALICE,
        "revoke-grant",
        json!({"key_id": own_key, "grant_id": own_grant}),
    )
    .await
    .error(400, "KMS.2502");
    // Erin's grant is untouched by the probes.
    app.call(ALICE, "list-grants", json!({"key_id": erins_key}))
        .await
        .error(404, "KMS.0207");
    let listed = app
        .call(ERIN, "list-grants", json!({"key_id": erins_key}))
        .await;
    assert_eq!(
        listed.ok()["grants"].as_array().unwrap().len(),
        1,
        "{}",
        listed.raw
    );
}

crate::on_every_backend!(
    forged_frames_do_not_reveal_keys_through_aws,
    forged_frames_do_not_reveal_keys_through_huawei,
    another_accounts_grant_ids_cannot_be_probed,
);

/// An identities file in which a user's id is also a domain id would let that user
/// pass for the whole account wherever an id is compared: it is refused at start.
#[tokio::test]
async fn a_user_id_equal_to_a_domain_id_is_refused() {
    let identities = r#"{
  "domains": [{"id": "d1", "name": "one"}, {"id": "d2", "name": "two"}],
  "projects": [{"id": "p1", "name": "eu-de", "domain_id": "d1"}],
  "users": [{"id": "d2", "name": "ann", "domain_id": "d1", "projects": ["p1"],
             "tokens": [{"token": "live", "project_id": "p1"}]}]
}"#;
    let path = std::env::temp_dir().join(format!("kms-ids-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, identities).unwrap();
    let mut config = kms_emulator::Config::with_database("sqlite::memory:");
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.identities = Some(path.clone());
    let error = kms_emulator::App::build(&config)
        .await
        .err()
        .expect("the identities file is refused");
    let _ = std::fs::remove_file(path);
    assert!(error.contains("is also a domain id"), "{error}");
}
