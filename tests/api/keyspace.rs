//! Trusted key spaces over HTTP: key policies (`key-policies` create, list with paging,
//! show, update, delete) and data-key capsules (`datakey-capsule/create`, `/decrypt`): the
//! round trip by policy ID and inline, with an RSA `public_key`, and the refusals (validity
//! period on the emulator's clock, access point, tampering, another key, a disabled key,
//! a deleted policy), with Huawei's codes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::helpers::{ALICE, BOB, ERIN, Reply, TestApp, User, hw};
use kms_emulator::crypto::{asymmetric_encryption, key_material};
use kms_emulator::domain::key_spec::{EncryptionAlgorithm, KeySpec};

const SPACE: &str = "6f1c2e3d-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
const OTHER_SPACE: &str = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A policy document as the `policy` string of a request.
fn document(points: &[&str], from: i64, to: i64) -> String {
    json!({
        "version": "1.0",
        "validity_period": {"start_time": from.to_string(), "end_time": to.to_string()},
        "allowed_access_point": points,
        "allowed_data_security_zone": ["zone-1"],
    })
    .to_string()
}

async fn create_policy(app: &TestApp, user: User, space: &str, name: &str, policy: &str) -> Reply {
    hw(
        app,
        user,
        reqwest::Method::POST,
        "key-policies",
        Some(json!({"keyspace_id": space, "policy_name": name, "policy": policy, "description": "for tests"})),
    )
    .await
}

async fn new_policy(app: &TestApp, name: &str, policy: &str) -> String {
    let reply = create_policy(app, ALICE, SPACE, name, policy).await;
    assert_eq!(reply.status, 201, "{}", reply.raw);
    reply.body["policy_id"].as_str().unwrap().to_owned()
}

async fn key_policies_crud_and_paging(app: &TestApp) {
    let now = now_ms();
    let text = document(&["ap-1"], now - 1000, now + 3_600_000);
    let id = new_policy(app, "app/policy-1", &text).await;
    assert_eq!(id.len(), 36, "{id}");
    let shown = hw(
        app,
        ALICE,
        reqwest::Method::GET,
        &format!("key-policies/{id}"),
        None,
    )
    .await;
    let shown = shown.ok();
    assert_eq!(shown["policy_id"], json!(id));
    assert_eq!(shown["policy_name"], json!("app/policy-1"));
    assert_eq!(shown["keyspace_id"], json!(SPACE));
    assert_eq!(shown["description"], json!("for tests"));
    assert_eq!(shown["created_by"], json!(ALICE.id));
    assert_eq!(shown["policy"]["version"], json!("1.0"));
    assert_eq!(shown["policy"]["allowed_access_point"], json!(["ap-1"]));
    assert_eq!(
        shown["policy"]["allowed_data_security_zone"],
        json!(["zone-1"])
    );
    assert_eq!(
        shown["policy"]["validity_period"]["end_time"],
        json!((now + 3_600_000).to_string())
    );
    assert!(
        shown["create_time"].as_str().unwrap().contains('T'),
        "{shown}"
    );
    assert_eq!(shown["last_access_time"], json!(""));

    let updated = hw(
        app,
        ALICE,
        reqwest::Method::PUT,
        &format!("key-policies/{id}"),
        Some(json!({"policy": document(&["ap-2"], now - 1000, now + 1000), "description": "changed"})),
    )
    .await;
    let updated = updated.ok();
    assert_eq!(updated["policy_id"], json!(id));
    assert_eq!(updated["description"], json!("changed"));
    assert_eq!(updated["policy"]["allowed_access_point"], json!(["ap-2"]));
    assert!(updated["last_modify_time"].as_str().unwrap().contains('T'));
    // Only the description: the policy stays.
    let described = hw(
        app,
        ALICE,
        reqwest::Method::PUT,
        &format!("key-policies/{id}"),
        Some(json!({"description": "again"})),
    )
    .await;
    assert_eq!(
        described.ok()["policy"]["allowed_access_point"],
        json!(["ap-2"])
    );

    // Paging: five policies in the key space, by policy ID, two a page.
    let mut ids = vec![id.clone()];
    for n in 2..=5 {
        ids.push(new_policy(app, &format!("policy-{n}"), "{}").await);
    }
    new_policy_in(app, OTHER_SPACE).await;
    ids.sort();
    let mut seen = Vec::new();
    let mut marker = String::new();
    loop {
        let query = if marker.is_empty() {
            format!("key-policies?keyspace_id={SPACE}&limit=2")
        } else {
            format!("key-policies?keyspace_id={SPACE}&limit=2&marker={marker}")
        };
        let page = hw(app, ALICE, reqwest::Method::GET, &query, None).await;
        let page = page.ok().clone();
        let items = page["keyspace_policies"].as_array().unwrap();
        assert_eq!(page["page_info"]["current_count"], json!(items.len()));
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|p| p["policy_id"].as_str().unwrap().to_owned()),
        );
        marker = page["page_info"]["next_marker"]
            .as_str()
            .unwrap()
            .to_owned();
        if marker.is_empty() {
            break;
        }
        assert_eq!(&marker, seen.last().unwrap());
    }
    assert_eq!(seen, ids);
    let all = hw(
        app,
        ALICE,
        reqwest::Method::GET,
        &format!("key-policies?keyspace_id={SPACE}"),
        None,
    )
    .await;
    assert_eq!(all.ok()["keyspace_policies"].as_array().unwrap().len(), 5);

    // Another project sees none of them.
    hw(
        app,
        ERIN,
        reqwest::Method::GET,
        &format!("key-policies/{id}"),
        None,
    )
    .await
    .error(404, "KMS.0207");
    let theirs = hw(
        app,
        ERIN,
        reqwest::Method::GET,
        &format!("key-policies?keyspace_id={SPACE}"),
        None,
    )
    .await;
    assert_eq!(theirs.ok()["keyspace_policies"], json!([]));

    let deleted = hw(
        app,
        ALICE,
        reqwest::Method::DELETE,
        &format!("key-policies/{id}"),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204, "{}", deleted.raw);
    hw(
        app,
        ALICE,
        reqwest::Method::GET,
        &format!("key-policies/{id}"),
        None,
    )
    .await
    .error(404, "KMS.0207");
    hw(
        app,
        ALICE,
        reqwest::Method::DELETE,
        &format!("key-policies/{id}"),
        None,
    )
    .await
    .error(404, "KMS.0207");
    hw(
        app,
        ALICE,
        reqwest::Method::PUT,
        &format!("key-policies/{id}"),
        Some(json!({"description": "x"})),
    )
    .await
    .error(404, "KMS.0207");
}

async fn new_policy_in(app: &TestApp, space: &str) {
    let reply = create_policy(app, ALICE, space, "elsewhere", "{}").await;
    assert_eq!(reply.status, 201, "{}", reply.raw);
}

async fn key_policy_errors(app: &TestApp) {
    for (space, name, policy) in [
        (SPACE, "p", "not json"),
        (SPACE, "p", "[]"),
        (SPACE, "p", r#"{"allowed_access_point": "ap-1"}"#),
        (SPACE, "p", r#"{"validity_period": {"start_time": "soon"}}"#),
        (
            SPACE,
            "p",
            r#"{"validity_period": {"start_time": "9", "end_time": "8"}}"#,
        ),
        (SPACE, "p", r#"{"statement": []}"#),
        (SPACE, "has space", "{}"),
        ("not-a-uuid", "p", "{}"),
    ] {
        create_policy(app, ALICE, space, name, policy)
            .await
            .error(400, "KMS.0202");
    }
    hw(
        app,
        ALICE,
        reqwest::Method::POST,
        "key-policies",
        Some(json!({"keyspace_id": SPACE, "policy_name": "p"})),
    )
    .await
    .error(400, "KMS.0204");
    for (query, code) in [
        ("key-policies", "KMS.0204"),
        ("key-policies?keyspace_id=x", "KMS.0202"),
        (
            &format!("key-policies?keyspace_id={SPACE}&limit=0") as &str,
            "KMS.1601",
        ),
        (
            &format!("key-policies?keyspace_id={SPACE}&limit=101"),
            "KMS.1601",
        ),
        (
            &format!("key-policies?keyspace_id={SPACE}&marker=zzz"),
            "KMS.1602",
        ),
    ] {
        hw(app, ALICE, reqwest::Method::GET, query, None)
            .await
            .error(400, code);
    }
    hw(
        app,
        ALICE,
        reqwest::Method::GET,
        "key-policies/not-a-policy",
        None,
    )
    .await
    .error(404, "KMS.0207");
    hw(
        app,
        ALICE,
        reqwest::Method::POST,
        "key-policies/00000000-0000-4000-8000-000000000000",
        None,
    )
    .await
    .error(405, "KMS.0215");
    // No KMS permission: kms:policy:* is refused like any action on no key.
    create_policy(app, BOB, SPACE, "p", "{}")
        .await
        .error(403, "KMS.0307");
    hw(
        app,
        BOB,
        reqwest::Method::GET,
        &format!("key-policies?keyspace_id={SPACE}"),
        None,
    )
    .await
    .error(403, "KMS.0307");
}

async fn create_capsule(app: &TestApp, body: Value) -> Reply {
    app.call(ALICE, "datakey-capsule/create", body).await
}

async fn decrypt_capsule(app: &TestApp, key: &str, capsule: &str, token: &str) -> Reply {
    app.call(
        ALICE,
        "datakey-capsule/decrypt",
        json!({"key_id": key, "datakey_capsule": capsule,
               "attestation_document": {"service_token": token, "ecs_signature": "c2ln"}}),
    )
    .await
}

async fn capsules_round_trip_and_refuse(app: &TestApp) {
    let key = app.create_key(ALICE, "capsules").await;
    let now = now_ms();
    let policy = new_policy(
        app,
        "capsule",
        &document(&["ap-1"], now - 60_000, now + 3_600_000),
    )
    .await;

    let made = create_capsule(
        app,
        json!({"key_id": key, "datakey_length": "256", "policy_id": policy}),
    )
    .await;
    let made = made.ok().clone();
    assert_eq!(made["key_id"], json!(key));
    let datakey = made["datakey"].as_str().unwrap().to_owned();
    assert_eq!(datakey.len(), 64, "{made}");
    assert!(made.get("datakey_cipher").is_none());
    let capsule = made["datakey_capsule"].as_str().unwrap().to_owned();

    let opened = decrypt_capsule(app, &key, &capsule, "ap-1").await;
    assert_eq!(opened.ok()["datakey"], json!(datakey));
    assert_eq!(opened.ok()["instance_id"], json!("ap-1"));
    assert_eq!(opened.ok()["key_id"], json!(key));
    // The data security zones of the policy are admitted too.
    let zone = decrypt_capsule(app, &key, &capsule, "zone-1").await;
    assert_eq!(zone.ok()["instance_id"], json!("zone-1"));
    // The policy records its use.
    let shown = hw(
        app,
        ALICE,
        reqwest::Method::GET,
        &format!("key-policies/{policy}"),
        None,
    )
    .await;
    assert!(
        shown.ok()["last_access_time"]
            .as_str()
            .unwrap()
            .contains('T')
    );

    // Another access point; an expired attestation.
    let other = decrypt_capsule(app, &key, &capsule, "ap-2").await;
    other.error(403, "KMS.0306");
    assert!(other.raw.contains("ap-2"), "{}", other.raw);
    app.call(
        ALICE,
        "datakey-capsule/decrypt",
        json!({"key_id": key, "datakey_capsule": capsule,
               "attestation_document": {"service_token": "ap-1", "expire_time": (now - 1000).to_string()}}),
    )
    .await
    .error(403, "KMS.0306");
    app.call(
        ALICE,
        "datakey-capsule/decrypt",
        json!({"key_id": key, "datakey_capsule": capsule}),
    )
    .await
    .error(400, "KMS.0204");

    // Tampering anywhere: the header (the binding) or the ciphertext.
    let bytes = BASE64.decode(&capsule).unwrap();
    for at in [10, bytes.len() - 1] {
        let mut altered = bytes.clone();
        altered[at] ^= 1;
        decrypt_capsule(app, &key, &BASE64.encode(&altered), "ap-1")
            .await
            .error(400, "KMS.2201");
    }
    decrypt_capsule(app, &key, "AAAA", "ap-1")
        .await
        .error(400, "KMS.2201");
    // Another key of the caller does not open it.
    let other_key = app.create_key(ALICE, "capsules-2").await;
    decrypt_capsule(app, &other_key, &capsule, "ap-1")
        .await
        .error(400, "KMS.2201");

    // An inline policy binds the capsule just as well.
    let inline = create_capsule(
        app,
        json!({"key_id": key, "datakey_length": 128, "key_policy": document(&["ap-9"], now - 1000, now + 3_600_000)}),
    )
    .await;
    let inline = inline.ok().clone();
    assert_eq!(inline["datakey"].as_str().unwrap().len(), 32);
    let inline_capsule = inline["datakey_capsule"].as_str().unwrap();
    let opened = decrypt_capsule(app, &key, inline_capsule, "ap-9").await;
    assert_eq!(opened.ok()["datakey"], inline["datakey"]);
    decrypt_capsule(app, &key, inline_capsule, "ap-1")
        .await
        .error(403, "KMS.0306");

    // The validity period is read on the emulator's clock.
    app.move_clock(json!({"advance_seconds": 7200})).await.ok();
    let late = decrypt_capsule(app, &key, &capsule, "ap-1").await;
    late.error(403, "KMS.0306");
    assert!(late.raw.contains("ended"), "{}", late.raw);
    app.move_clock(json!({"reset": true})).await.ok();
    decrypt_capsule(app, &key, &capsule, "ap-1").await.ok();

    // A disabled key neither makes nor opens capsules.
    app.call(ALICE, "disable-key", json!({"key_id": key}))
        .await
        .ok();
    decrypt_capsule(app, &key, &capsule, "ap-1")
        .await
        .error(400, "KMS.0209");
    create_capsule(
        app,
        json!({"key_id": key, "datakey_length": "256", "policy_id": policy}),
    )
    .await
    .error(400, "KMS.0209");
    app.call(ALICE, "enable-key", json!({"key_id": key}))
        .await
        .ok();

    // A deleted policy opens nothing bound to it.
    hw(
        app,
        ALICE,
        reqwest::Method::DELETE,
        &format!("key-policies/{policy}"),
        None,
    )
    .await;
    decrypt_capsule(app, &key, &capsule, "ap-1")
        .await
        .error(404, "KMS.0207");
    create_capsule(
        app,
        json!({"key_id": key, "datakey_length": "256", "policy_id": policy}),
    )
    .await
    .error(404, "KMS.0207");

    // Request errors.
    for (body, status, code) in [
        (
            json!({"key_id": key, "datakey_length": "512", "key_policy": "{}"}),
            400,
            "KMS.1901",
        ),
        (json!({"key_id": key, "key_policy": "{}"}), 400, "KMS.0204"),
        (
            json!({"key_id": key, "datakey_length": "256"}),
            400,
            "KMS.0204",
        ),
        (
            json!({"key_id": key, "datakey_length": "256", "key_policy": "nope"}),
            400,
            "KMS.0202",
        ),
        (
            json!({"key_id": key, "datakey_length": "256", "key_policy": "{}", "policy_id": SPACE}),
            400,
            "KMS.0308",
        ),
        (
            json!({"key_id": key, "datakey_length": "256", "key_policy": "{}", "public_key": "AAAA"}),
            400,
            "KMS.0308",
        ),
    ] {
        create_capsule(app, body).await.error(status, code);
    }
    // Someone with no KMS permission may not use the key.
    app.call(
        BOB,
        "datakey-capsule/create",
        json!({"key_id": key, "datakey_length": "256", "key_policy": "{}"}),
    )
    .await
    .error(403, "KMS.0306");
}

async fn capsules_with_a_public_key(app: &TestApp) {
    let key = app.create_key(ALICE, "capsules-rsa").await;
    let private = key_material::generate_material(KeySpec::Rsa2048);
    let public = key_material::public_key_der(KeySpec::Rsa2048, &private).unwrap();
    let open = |cipher: &str| {
        asymmetric_encryption::decrypt(
            KeySpec::Rsa2048,
            &private,
            EncryptionAlgorithm::RsaesOaepSha256,
            &BASE64.decode(cipher).unwrap(),
        )
        .unwrap()
    };
    let made = create_capsule(
        app,
        json!({"key_id": key, "datakey_length": "256", "key_policy": "{}", "public_key": BASE64.encode(&public)}),
    )
    .await;
    let made = made.ok().clone();
    assert!(made.get("datakey").is_none(), "{made}");
    let datakey = open(made["datakey_cipher"].as_str().unwrap());
    assert_eq!(datakey.len(), 32);
    let capsule = made["datakey_capsule"].as_str().unwrap();
    // Without a public key the data key comes back in hex.
    let plain = decrypt_capsule(app, &key, capsule, "anywhere").await;
    assert_eq!(
        plain.ok()["datakey"].as_str().unwrap(),
        kms_emulator::hex::upper(&datakey)
    );
    // With one, encrypted to it again.
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        BASE64.encode(&public)
    );
    let opened = app
        .call(
            ALICE,
            "datakey-capsule/decrypt",
            json!({"key_id": key, "datakey_capsule": capsule, "public_key": pem,
                   "attestation_document": {"service_token": "anywhere"}}),
        )
        .await;
    let opened = opened.ok();
    assert!(opened.get("datakey").is_none(), "{opened}");
    assert_eq!(open(opened["datakey_cipher"].as_str().unwrap()), datakey);
    assert_eq!(opened["instance_id"], json!("anywhere"));
}

crate::on_every_backend!(
    key_policies_crud_and_paging,
    key_policy_errors,
    capsules_round_trip_and_refuse,
    capsules_with_a_public_key,
);
