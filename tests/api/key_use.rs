//! Grants that matter: key states, real cryptography, and key use authorized by grants.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{ALICE, Backend, CAROL, DAVE, ERIN, ServerProcess, TestApp, TestDb};

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

async fn encrypt(
    app: &TestApp,
    user: crate::helpers::User,
    key_id: &str,
    text: &str,
) -> crate::helpers::Reply {
    app.call(
        user,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": text}),
    )
    .await
}

async fn the_grant_story_alice_bob_carol(app: &TestApp) {
    // A creates a key and grants B (erin, another account) encrypt-data and decrypt-data, C (carol) retiring.
    let key_id = app.create_key(ALICE, "story").await;
    let grant = app
        .create_grant(ALICE, json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["encrypt-data", "decrypt-data"],
                                    "retiring_principal": CAROL.id}))
        .await;
    let reply = encrypt(app, ERIN, &key_id, "attack at dawn").await;
    let cipher = reply.ok()["cipher_text"].as_str().unwrap().to_owned();
    assert_eq!(reply.body["key_id"], key_id.as_str());
    let reply = app
        .call(ERIN, "decrypt-data", json!({"cipher_text": cipher}))
        .await;
    assert_eq!(reply.ok()["plain_text"], "attack at dawn");
    assert_eq!(reply.body["key_id"], key_id.as_str());
    // The grant allows nothing else.
    app.call(ERIN, "create-datakey", json!({"key_id": key_id}))
        .await
        .error(403, "KMS.0306");
    // Her grant shows her the key, but key administration never crosses accounts.
    app.call(ERIN, "disable-key", json!({"key_id": key_id}))
        .await
        .error(403, "KMS.0306");

    // C retires; B is refused at once.
    app.call(
        CAROL,
        "retire-grant",
        json!({"key_id": key_id, "grant_id": grant}),
    )
    .await
    .ok();
    encrypt(app, ERIN, &key_id, "again")
        .await
        .error(404, "KMS.0207");
    // A ciphertext naming a key she can no longer see is answered like any bad
    // ciphertext: frames reveal nothing about keys.
    app.call(ERIN, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .error(400, "KMS.2201");

    // A grants again; B works; A revokes; B is refused.
    let grant = app
        .create_grant(
            ALICE,
            json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["decrypt-data"]}),
        )
        .await;
    app.call(ERIN, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .ok();
    encrypt(app, ERIN, &key_id, "no encrypt-data in this grant")
        .await
        .error(403, "KMS.0306");
    app.call(
        ALICE,
        "revoke-grant",
        json!({"key_id": key_id, "grant_id": grant}),
    )
    .await
    .ok();
    app.call(ERIN, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .error(400, "KMS.2201");
    // The key's administrator still decrypts; a read-only user of its project may not.
    app.call(ALICE, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .ok();
    app.call(DAVE, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .error(403, "KMS.0306");
}

async fn domain_grants_cover_every_user_of_the_account(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    app.create_grant(
        ALICE,
        json!({"key_id": key_id, "grantee_principal": crate::helpers::OTHER_DOMAIN, "grantee_principal_type": "domain",
               "operations": ["encrypt-data"]}),
    )
    .await;
    encrypt(app, ERIN, &key_id, "hi").await.ok();
}

async fn key_states_govern_use(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    let grant = app
        .create_grant(
            ALICE,
            json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["encrypt-data"]}),
        )
        .await;
    let cipher = encrypt(app, ALICE, &key_id, "x").await.ok()["cipher_text"]
        .as_str()
        .unwrap()
        .to_owned();

    let reply = app
        .call(ALICE, "enable-key", json!({"key_id": key_id}))
        .await;
    reply.error(400, "KMS.1201");
    let reply = app
        .call(ALICE, "disable-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(
        reply.ok(),
        &json!({"key_info": {"key_id": key_id, "key_state": "3"}})
    );
    app.call(ALICE, "disable-key", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.1301");
    encrypt(app, ALICE, &key_id, "x")
        .await
        .error(400, "KMS.0209");
    encrypt(app, ERIN, &key_id, "x")
        .await
        .error(400, "KMS.0209");
    app.call(ALICE, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .error(400, "KMS.0209");
    app.call(ALICE, "create-datakey", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.0209");
    app.call(
        ALICE,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["encrypt-data"]}),
    )
    .await
    .error(400, "KMS.0209");
    let reply = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(reply.ok()["key_info"]["key_state"], "3");
    app.call(ALICE, "list-grants", json!({"key_id": key_id}))
        .await
        .ok();

    let reply = app
        .call(ALICE, "enable-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(reply.ok()["key_info"]["key_state"], "2");
    encrypt(app, ERIN, &key_id, "x").await.ok();

    for days in [json!("6"), json!(1097), json!("x")] {
        app.call(
            ALICE,
            "schedule-key-deletion",
            json!({"key_id": key_id, "pending_days": days}),
        )
        .await
        .error(400, "KMS.1401");
    }
    app.call(ALICE, "schedule-key-deletion", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.0204");
    app.call(ALICE, "cancel-key-deletion", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.1501");
    let reply = app
        .call(
            ALICE,
            "schedule-key-deletion",
            json!({"key_id": key_id, "pending_days": "7"}),
        )
        .await;
    assert_eq!(reply.ok(), &json!({"key_id": key_id, "key_state": "4"}));
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    let deletion: i64 = described.ok()["key_info"]["scheduled_deletion_date"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let created: i64 = described.body["key_info"]["creation_date"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(deletion >= created + 7 * 86_400_000);
    app.call(
        ALICE,
        "schedule-key-deletion",
        json!({"key_id": key_id, "pending_days": 30}),
    )
    .await
    .error(400, "KMS.1402");
    encrypt(app, ERIN, &key_id, "x")
        .await
        .error(400, "KMS.0210");
    app.call(ALICE, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .error(400, "KMS.0210");
    app.call(
        ALICE,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["encrypt-data"]}),
    )
    .await
    .error(400, "KMS.0210");
    app.call(ALICE, "enable-key", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.1201");
    app.call(ALICE, "disable-key", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.1301");
    // Grants can still be retired and revoked on a key pending deletion.
    app.call(
        ALICE,
        "revoke-grant",
        json!({"key_id": key_id, "grant_id": grant}),
    )
    .await
    .ok();

    let reply = app
        .call(ALICE, "cancel-key-deletion", json!({"key_id": key_id}))
        .await;
    assert_eq!(reply.ok(), &json!({"key_id": key_id, "key_state": "3"}));
    let reply = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(reply.ok()["key_info"]["scheduled_deletion_date"], "");
    app.call(ALICE, "enable-key", json!({"key_id": key_id}))
        .await
        .ok();
    app.call(ALICE, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .ok();

    // Lifecycle changes need the permission: grants never give it. Erin's grant is
    // revoked, so to her the key does not exist.
    app.call(ERIN, "disable-key", json!({"key_id": key_id}))
        .await
        .error(404, "KMS.0207");
    app.call(DAVE, "disable-key", json!({"key_id": key_id}))
        .await
        .error(403, "KMS.0306");
    app.call(ALICE, "disable-key", json!({"key_id": key_id}))
        .await
        .ok();
}

async fn tampered_ciphertexts_and_wrong_additional_data_fail_cleanly(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    let other_key = app.create_key(ALICE, "other").await;
    let reply = app
        .call(ALICE, "encrypt-data", json!({"key_id": key_id, "plain_text": "secret", "additional_authenticated_data": "order-42"}))
        .await;
    let cipher = reply.ok()["cipher_text"].as_str().unwrap().to_owned();
    let ok = app
        .call(
            ALICE,
            "decrypt-data",
            json!({"cipher_text": cipher, "additional_authenticated_data": "order-42"}),
        )
        .await;
    assert_eq!(ok.ok()["plain_text"], "secret");
    assert_eq!(ok.body["plain_text_base64"], "c2VjcmV0");
    app.call(
        ALICE,
        "decrypt-data",
        json!({"cipher_text": cipher, "additional_authenticated_data": "order-43"}),
    )
    .await
    .error(400, "KMS.2201");
    app.call(ALICE, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .error(400, "KMS.2201");

    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes = engine.decode(&cipher).unwrap();
    for position in [5, 20, bytes.len() / 2] {
        let mut bad = bytes.clone();
        bad[position] ^= 0x40;
        app.call(ALICE, "decrypt-data", json!({"cipher_text": engine.encode(&bad), "additional_authenticated_data": "order-42"}))
            .await
            .error(400, "KMS.2201");
    }
    // A frame re-labelled with another key of the same owner does not open either.
    let mut relabelled = bytes.clone();
    let at = relabelled.len() - 72;
    relabelled[at..at + 36].copy_from_slice(other_key.as_bytes());
    app.call(ALICE, "decrypt-data", json!({"cipher_text": engine.encode(&relabelled), "additional_authenticated_data": "order-42"}))
        .await
        .error(400, "KMS.2201");
    for garbage in [
        json!("short"),
        json!("!".repeat(200)),
        json!("A".repeat(129)),
        json!(5),
    ] {
        app.call(ALICE, "decrypt-data", json!({"cipher_text": garbage}))
            .await
            .error(400, "KMS.2201");
    }
    // OTC's encryption_context object, compared regardless of key order.
    let reply = app
        .call(ALICE, "encrypt-data", json!({"key_id": key_id, "plain_text": "p", "encryption_context": {"a": "1", "b": "2"}}))
        .await;
    let cipher = reply.ok()["cipher_text"].as_str().unwrap().to_owned();
    let same: Value = serde_json::from_str(r#"{"b": "2", "a": "1"}"#).unwrap();
    app.call(
        ALICE,
        "decrypt-data",
        json!({"cipher_text": cipher, "encryption_context": same}),
    )
    .await
    .ok();
    app.call(
        ALICE,
        "decrypt-data",
        json!({"cipher_text": cipher, "encryption_context": {"a": "1"}}),
    )
    .await
    .error(400, "KMS.2201");
    app.call(
        ALICE,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "p", "encryption_context": "a=1"}),
    )
    .await
    .error(400, "KMS.0208");
    app.call(ALICE, "encrypt-data", json!({"key_id": key_id, "plain_text": "p", "additional_authenticated_data": "x".repeat(129)}))
        .await
        .error(400, "KMS.0208");
    app.call(
        ALICE,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "x".repeat(4097)}),
    )
    .await
    .error(400, "KMS.2101");
    app.call(ALICE, "encrypt-data", json!({"key_id": key_id}))
        .await
        .error(400, "KMS.0204");
    // The biggest plaintext fits the biggest documented ciphertext.
    let reply = app
        .call(
            ALICE,
            "encrypt-data",
            json!({"key_id": key_id, "plain_text": "x".repeat(4096)}),
        )
        .await;
    let cipher = reply.ok()["cipher_text"].as_str().unwrap().to_owned();
    assert!(cipher.len() <= 5648, "{}", cipher.len());
    app.call(ALICE, "decrypt-data", json!({"cipher_text": cipher}))
        .await
        .ok();
}

async fn data_keys_round_trip_with_documented_encodings(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    let reply = app
        .call(
            ALICE,
            "create-datakey",
            json!({"key_id": key_id, "datakey_length": "512"}),
        )
        .await;
    let body = reply.ok().clone();
    let plain = body["plain_text"].as_str().unwrap().to_owned();
    let cipher = body["cipher_text"].as_str().unwrap().to_owned();
    assert_eq!(plain.len(), 128);
    assert!(
        plain
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
        "upper-case hex"
    );
    let reply = app
        .call(
            ALICE,
            "decrypt-datakey",
            json!({"key_id": key_id, "cipher_text": cipher, "datakey_cipher_length": "64"}),
        )
        .await;
    assert_eq!(reply.ok()["data_key"], plain.as_str());
    assert_eq!(reply.body["datakey_length"], "64");
    let dek: Vec<u8> = (0..plain.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&plain[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(
        reply.body["datakey_dgst"],
        hex_upper(&Sha256::digest(&dek)).as_str()
    );
    app.call(
        ALICE,
        "decrypt-datakey",
        json!({"key_id": key_id, "cipher_text": cipher, "datakey_cipher_length": "32"}),
    )
    .await
    .error(400, "KMS.2204");

    let default = app
        .call(ALICE, "create-datakey", json!({"key_id": key_id}))
        .await;
    assert_eq!(
        default.ok()["plain_text"].as_str().unwrap().len(),
        64,
        "256 bits by default"
    );
    let aes128 = app
        .call(
            ALICE,
            "create-datakey",
            json!({"key_id": key_id, "key_spec": "AES_128"}),
        )
        .await;
    assert_eq!(aes128.ok()["plain_text"].as_str().unwrap().len(), 32);
    let without = app
        .call(
            ALICE,
            "create-datakey-without-plaintext",
            json!({"key_id": key_id}),
        )
        .await;
    assert!(without.ok().get("plain_text").is_none());
    let cipher = without.body["cipher_text"].as_str().unwrap();
    app.call(
        ALICE,
        "decrypt-datakey",
        json!({"key_id": key_id, "cipher_text": cipher, "datakey_cipher_length": 32}),
    )
    .await
    .ok();

    // encrypt-datakey takes the data key followed by its SHA-256 (the OTC example: 64 zero bytes).
    let zeros = [0u8; 64];
    let mut with_digest = zeros.to_vec();
    with_digest.extend_from_slice(&Sha256::digest(zeros));
    let reply = app
        .call(ALICE, "encrypt-datakey", json!({"key_id": key_id, "plain_text": hex_upper(&with_digest), "datakey_plain_length": "64"}))
        .await;
    assert_eq!(reply.ok()["datakey_length"], "64");
    let cipher = reply.body["cipher_text"].as_str().unwrap();
    let reply = app
        .call(
            ALICE,
            "decrypt-datakey",
            json!({"key_id": key_id, "cipher_text": cipher, "datakey_cipher_length": "64"}),
        )
        .await;
    assert_eq!(
        reply.ok()["datakey_dgst"],
        "F5A5FD42D16A20302798EF6ED309979B43003D2320D9F0E8EA9831A92759FB4B"
    );
    let mut wrong_digest = with_digest.clone();
    wrong_digest[70] ^= 1;
    let cases = [
        (
            json!({"key_id": key_id, "plain_text": hex_upper(&wrong_digest), "datakey_plain_length": "64"}),
            "KMS.2103",
        ),
        (
            json!({"key_id": key_id, "plain_text": hex_upper(&with_digest), "datakey_plain_length": "32"}),
            "KMS.2104",
        ),
        (
            json!({"key_id": key_id, "plain_text": "XYZ", "datakey_plain_length": "64"}),
            "KMS.2101",
        ),
        (
            json!({"key_id": key_id, "plain_text": hex_upper(&with_digest), "datakey_plain_length": "0"}),
            "KMS.2102",
        ),
        (
            json!({"key_id": key_id, "plain_text": hex_upper(&with_digest)}),
            "KMS.0204",
        ),
    ];
    for (body, code) in cases {
        app.call(ALICE, "encrypt-datakey", body)
            .await
            .error(400, code);
    }
    // A data key ciphertext of one key does not open under another.
    let other = app.create_key(ALICE, "other").await;
    app.call(
        ALICE,
        "decrypt-datakey",
        json!({"key_id": other, "cipher_text": cipher, "datakey_cipher_length": "64"}),
    )
    .await
    .error(400, "KMS.2201");
    app.call(
        ALICE,
        "decrypt-datakey",
        json!({"key_id": key_id, "cipher_text": "ABC", "datakey_cipher_length": "64"}),
    )
    .await
    .error(400, "KMS.2201");
    for (length, code) in [("7", "KMS.1901"), ("8200", "KMS.1901"), ("12", "KMS.1903")] {
        app.call(
            ALICE,
            "create-datakey",
            json!({"key_id": key_id, "datakey_length": length}),
        )
        .await
        .error(400, code);
    }
    app.call(
        ALICE,
        "create-datakey",
        json!({"key_id": key_id, "key_spec": "RSA_2048"}),
    )
    .await
    .error(400, "KMS.1902");
}

async fn gen_random_gives_the_requested_bits(app: &TestApp) {
    let reply = app
        .call(ALICE, "gen-random", json!({"random_data_length": "512"}))
        .await;
    let a = reply.ok()["random_data"].as_str().unwrap().to_owned();
    assert_eq!(a.len(), 128);
    let b = app
        .call(ALICE, "gen-random", json!({"random_data_length": 512}))
        .await
        .ok()["random_data"]
        .clone();
    assert_ne!(json!(a), b);
    app.call(ALICE, "gen-random", json!({"random_data_length": "12"}))
        .await
        .error(400, "KMS.1802");
    app.call(ALICE, "gen-random", json!({"random_data_length": "0"}))
        .await
        .error(400, "KMS.1801");
    app.call(ALICE, "gen-random", json!({}))
        .await
        .error(400, "KMS.0204");
}

async fn each_operation_needs_its_own_grant(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    let owner_cipher = app
        .call(ALICE, "create-datakey", json!({"key_id": key_id}))
        .await
        .ok()["cipher_text"]
        .clone();
    let calls: Vec<(&str, Value)> = vec![
        ("describe-key", json!({"key_id": key_id})),
        ("encrypt-data", json!({"key_id": key_id, "plain_text": "p"})),
        ("create-datakey", json!({"key_id": key_id})),
        (
            "create-datakey-without-plaintext",
            json!({"key_id": key_id}),
        ),
        (
            "decrypt-datakey",
            json!({"key_id": key_id, "cipher_text": owner_cipher, "datakey_cipher_length": "32"}),
        ),
    ];
    for (operation, body) in &calls {
        let grant = app
            .create_grant(
                ALICE,
                json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": [operation]}),
            )
            .await;
        for (other, other_body) in &calls {
            let reply = app.call(ERIN, other, other_body.clone()).await;
            if other == operation {
                reply.ok();
            } else {
                reply.error(403, "KMS.0306");
            }
        }
        app.call(
            ALICE,
            "revoke-grant",
            json!({"key_id": key_id, "grant_id": grant}),
        )
        .await
        .ok();
        app.call(ERIN, operation, body.clone())
            .await
            .error(404, "KMS.0207");
    }
}

crate::on_every_backend!(
    the_grant_story_alice_bob_carol,
    domain_grants_cover_every_user_of_the_account,
    key_states_govern_use,
    tampered_ciphertexts_and_wrong_additional_data_fail_cleanly,
    data_keys_round_trip_with_documented_encodings,
    gen_random_gives_the_requested_bits,
    each_operation_needs_its_own_grant,
);

/// Revoked on one process, refused on the other at the very next call: nothing caches grants.
async fn revocation_reaches_every_process(backend: Backend) {
    let db = TestDb::create(backend).await;
    let first = ServerProcess::start(&db.url()).await;
    let second = ServerProcess::start(&db.url()).await;
    let client = reqwest::Client::new();
    let call = |base: &str, user: crate::helpers::User, action: &str, body: Value| {
        let request = client
            .post(format!("{base}/v1.0/{}/kms/{action}", user.project))
            .header("x-auth-token", user.token)
            .body(body.to_string());
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (_, key) = call(
        &first.base,
        ALICE,
        "create-key",
        json!({"key_alias": "shared"}),
    )
    .await;
    let key_id = key["key_info"]["key_id"].as_str().unwrap().to_owned();
    for round in 0..5 {
        let (_, grant) = call(&first.base, ALICE, "create-grant",
            json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["encrypt-data"], "retiring_principal": CAROL.id})).await;
        let grant_id = grant["grant_id"].as_str().unwrap().to_owned();
        let (status, _) = call(
            &second.base,
            ERIN,
            "encrypt-data",
            json!({"key_id": key_id, "plain_text": "x"}),
        )
        .await;
        assert_eq!(
            status, 200,
            "round {round}: the grant works on the other process"
        );
        let (action, user) = if round % 2 == 0 {
            ("revoke-grant", ALICE)
        } else {
            ("retire-grant", CAROL)
        };
        let (status, _) = call(
            &first.base,
            user,
            action,
            json!({"key_id": key_id, "grant_id": grant_id}),
        )
        .await;
        assert_eq!(status, 200);
        let (status, body) = call(
            &second.base,
            ERIN,
            "encrypt-data",
            json!({"key_id": key_id, "plain_text": "x"}),
        )
        .await;
        assert_eq!(
            (status, body["error"]["error_code"].as_str()),
            (404, Some("KMS.0207")),
            "round {round}"
        );
    }
    first.stop().await;
    second.stop().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_revocation_reaches_every_process() {
    revocation_reaches_every_process(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_revocation_reaches_every_process() {
    revocation_reaches_every_process(Backend::Sqlite).await;
}
