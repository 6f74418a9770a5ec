//! Fixtures at start (issue 16, item 2): `--seed FILE` inserts keys with fixed IDs and
//! material, AWS aliases and grants when missing, at start and after every reset, so a
//! ciphertext committed to a test fixture decrypts on every run and every database.

use std::path::PathBuf;

use kms_emulator::Config;
use kms_emulator::domain::AuditEvent;
use serde_json::{Value, json};

use crate::helpers::aws::{AWS_ALICE, aws};
use crate::helpers::{ALICE, BOB, Backend, CAROL, ERIN, TestApp};

const ORDERS_KEY: &str = "5eed0000-0000-4000-8000-0000000000a1";
const MAC_KEY: &str = "5eed0000-0000-4000-8000-0000000000a2";
const ERINS_KEY: &str = "5eed0000-0000-4000-8000-0000000000e1";

/// `encrypt-data` of "fixture" under examples/seed.json's orders key, made once on another
/// database and committed here: it must open on every fresh database the seed loads into.
const FIXTURE_CIPHERTEXT: &str = "AgAAS2s+3Rx5G1qZ0Gvie26f/eaDtSFpG0bWbD9tVnucNASdWBajNWVlZDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMGExAAAAAOqFhogiwBeds6AED03ihzI8cLmcfu2yWODyLrrcUWyj";

fn example_seed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/seed.json")
}

fn seeded(config: &mut Config) {
    config.seed = Some(example_seed());
}

fn temp_seed(contents: &Value) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kms-seed-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("seed.json");
    std::fs::write(&path, contents.to_string()).unwrap();
    path
}

async fn reset(app: &TestApp) -> Value {
    let reply = app
        .raw(reqwest::Method::POST, "/_emulator/reset", &[], Vec::new())
        .await;
    reply.ok().clone()
}

async fn seed_records(app: &TestApp) -> Vec<Value> {
    crate::helpers::audit_records(app, AuditEvent::SeedLoaded).await
}

/// Everything the example seed holds is there, as each dialect shows it, and works.
async fn the_seed_is_there_and_works(app: &TestApp) {
    let key = app
        .call(ALICE, "describe-key", json!({"key_id": ORDERS_KEY}))
        .await;
    let info = &key.ok()["key_info"];
    assert_eq!(info["key_alias"], "seed-orders-db");
    assert_eq!(
        info["key_description"],
        "Seeded: encrypts the orders database fixtures"
    );
    assert_eq!(info["key_state"], "2");
    // The fixture ciphertext opens, for the grantee the seed names.
    let plain = app
        .call(
            BOB,
            "decrypt-data",
            json!({"cipher_text": FIXTURE_CIPHERTEXT}),
        )
        .await;
    assert_eq!(plain.ok()["plain_text"], "fixture");
    let grants = app
        .call(ALICE, "list-grants", json!({"key_id": ORDERS_KEY}))
        .await;
    let grant = &grants.ok()["grants"][0];
    assert_eq!(grant["grantee_principal"], BOB.id);
    assert_eq!(grant["retiring_principal"], CAROL.id);
    assert_eq!(grant["issuing_principal"], ALICE.id);
    assert_eq!(grant["name"], "seed-orders-app");
    assert_eq!(
        grant["operations"],
        json!(["describe-key", "encrypt-data", "decrypt-data"])
    );
    // The AWS alias names the key, and the HMAC key's fixed material gives a known MAC.
    let described = aws(
        app,
        AWS_ALICE,
        "DescribeKey",
        json!({"KeyId": "alias/seed-orders"}),
    )
    .await;
    assert_eq!(described.ok()["KeyMetadata"]["KeyId"], ORDERS_KEY);
    let tags = aws(
        app,
        AWS_ALICE,
        "ListResourceTags",
        json!({"KeyId": ORDERS_KEY}),
    )
    .await;
    assert_eq!(
        tags.ok()["Tags"],
        json!([{"TagKey": "team", "TagValue": "orders"}, {"TagKey": "env", "TagValue": "test"}])
    );
    let mac = aws(
        app,
        AWS_ALICE,
        "GenerateMac",
        json!({"KeyId": MAC_KEY, "Message": "aGVsbG8=", "MacAlgorithm": "HMAC_SHA_256"}),
    )
    .await;
    // HMAC-SHA-256 of "hello" under b"seeded HMAC key: not a secret!!!" (Python's hmac module).
    assert_eq!(
        mac.ok()["Mac"],
        "bX/w/o1ptnNUwxxhYOjB6ct+wP2aOMe4GXSdhamSCuc="
    );
    // Erin's key is in her account, disabled as the seed says; alice does not see it.
    let erins = app
        .call(ERIN, "describe-key", json!({"key_id": ERINS_KEY}))
        .await;
    assert_eq!(erins.ok()["key_info"]["key_state"], "3");
    let hidden = app
        .call(ALICE, "describe-key", json!({"key_id": ERINS_KEY}))
        .await;
    assert_eq!(hidden.status, 404, "{}", hidden.raw);
    assert_eq!(seed_records(app).await.len(), 1);
}

/// A reset deletes what tests made and changed, and the seed comes back as written.
async fn a_reset_brings_the_seed_back(app: &TestApp) {
    let extra = app.create_key(ALICE, "made-by-a-test").await;
    app.call(ALICE, "disable-key", json!({"key_id": ORDERS_KEY}))
        .await
        .ok();
    let grant_id = app.grant_ids(ORDERS_KEY).await.remove(0);
    app.call(
        ALICE,
        "revoke-grant",
        json!({"key_id": ORDERS_KEY, "grant_id": grant_id}),
    )
    .await
    .ok();
    let report = reset(app).await;
    assert_eq!(
        report["deleted"],
        json!({"keys": 4, "grants": 0}),
        "{report}"
    );
    assert_eq!(
        report["seeded"],
        json!({"keys": 3, "grants": 1, "aliases": 1}),
        "{report}"
    );
    let gone = app
        .call(ALICE, "describe-key", json!({"key_id": extra}))
        .await;
    assert_eq!(gone.status, 404, "{}", gone.raw);
    let key = app
        .call(ALICE, "describe-key", json!({"key_id": ORDERS_KEY}))
        .await;
    assert_eq!(key.ok()["key_info"]["key_state"], "2");
    assert_eq!(app.grant_ids(ORDERS_KEY).await, vec![grant_id]);
    let plain = app
        .call(
            BOB,
            "decrypt-data",
            json!({"cipher_text": FIXTURE_CIPHERTEXT}),
        )
        .await;
    assert_eq!(plain.ok()["plain_text"], "fixture");
    // A reset of another account brings back only what it deleted.
    let report = app
        .raw(
            reqwest::Method::POST,
            "/_emulator/reset",
            &[("content-type", "application/json")],
            json!({"account": "444455556666"}).to_string().into_bytes(),
        )
        .await;
    assert_eq!(
        report.ok()["seeded"],
        json!({"keys": 1, "grants": 0, "aliases": 0})
    );
    let records = seed_records(app).await;
    assert_eq!(records.len(), 3, "{records:?}");
    assert!(
        records[2]["detail"]
            .as_str()
            .unwrap()
            .contains("inserted 1 keys, 0 grants and 0 aliases"),
        "{records:?}"
    );
}

/// Loading again changes nothing: what a test changed stays until a reset, nothing is
/// doubled, and a load that inserts nothing leaves no audit record.
async fn loading_again_never_overwrites(app: &mut TestApp) {
    app.call(ALICE, "disable-key", json!({"key_id": ORDERS_KEY}))
        .await
        .ok();
    app.call(
        ALICE,
        "update-key-description",
        json!({"key_id": MAC_KEY, "key_description": "changed by a test"}),
    )
    .await
    .ok();
    app.restart_with(seeded).await;
    let key = app
        .call(ALICE, "describe-key", json!({"key_id": ORDERS_KEY}))
        .await;
    assert_eq!(key.ok()["key_info"]["key_state"], "3");
    let mac = app
        .call(ALICE, "describe-key", json!({"key_id": MAC_KEY}))
        .await;
    assert_eq!(mac.ok()["key_info"]["key_description"], "changed by a test");
    assert_eq!(app.grant_ids(ORDERS_KEY).await.len(), 1);
    assert_eq!(seed_records(app).await.len(), 1);
}

/// A ciphertext made on one database opens on another the same seed loaded into (each with
/// its own generated master key).
async fn a_ciphertext_travels_between_databases(backend: Backend) {
    let first = TestApp::spawn_with(backend, seeded).await;
    let second = TestApp::spawn_with(backend, seeded).await;
    let sealed = first
        .call(
            ALICE,
            "encrypt-data",
            json!({"key_id": ORDERS_KEY, "plain_text": "travels"}),
        )
        .await;
    let cipher_text = sealed.ok()["cipher_text"].clone();
    let opened = second
        .call(ALICE, "decrypt-data", json!({"cipher_text": cipher_text}))
        .await;
    assert_eq!(opened.ok()["plain_text"], "travels");
    first.finish().await;
    second.finish().await;
}

/// A seed that cannot load stops the start with a message naming the entry; one that would
/// overwrite what is stored does too, and the database keeps what it had.
async fn bad_seeds_stop_the_start(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let existing = app.create_key(ALICE, "seed-orders-db").await;
    let try_start = |seed: PathBuf, url: String| async move {
        let mut config = Config::with_database(url);
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.seed = Some(seed);
        kms_emulator::app::App::build(&config).await.err()
    };
    let error = try_start(example_seed(), app.db.url())
        .await
        .expect("refused");
    assert!(
        error.contains("key alias \"seed-orders-db\" is held by another key"),
        "{error}"
    );
    let cases = [
        (
            json!({"keys": [{"key_id": ORDERS_KEY, "owner": "zed"}]}),
            "seed key #1 (5eed0000-0000-4000-8000-0000000000a1): no user named \"zed\"",
        ),
        (
            json!({"keys": [{"key_id": ORDERS_KEY, "owner": "alice", "alias": "x",
                             "material_hex": "0011"}]}),
            "material",
        ),
        (
            json!({"keys": [{"key_id": ORDERS_KEY, "owner": "alice", "alias": "x",
                             "key_spec": "RSA_2048", "material_base64": "AAAA"}]}),
            "material",
        ),
        (
            json!({"keys": [{"key_id": ORDERS_KEY, "owner": "alice", "alias": "x",
                             "policy": {"Statement": "nope"}}]}),
            "seed key 5eed0000-0000-4000-8000-0000000000a1",
        ),
        (json!({"kees": []}), "unknown field"),
    ];
    for (seed, expected) in cases {
        let error = try_start(temp_seed(&seed), app.db.url())
            .await
            .expect("refused");
        assert!(error.contains(expected), "{seed}: {error}");
    }
    let missing = try_start(PathBuf::from("/nonexistent/seed.json"), app.db.url())
        .await
        .expect("refused");
    assert!(missing.contains("cannot read the seed file"), "{missing}");
    // Nothing of the refused seeds went in.
    app.restart().await;
    let keys = app.call(ALICE, "list-keys", json!({})).await;
    assert_eq!(keys.ok()["keys"], json!([existing]));
    app.finish().await;
}

/// `kms-emulator reset --seed FILE` on the command line loads the seed again too.
async fn the_command_line_reset_reseeds(app: &TestApp) {
    app.create_key(ALICE, "made-by-a-test").await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kms-emulator"))
        .args(["--database-url", &app.db.url()])
        .arg("--seed")
        .arg(example_seed())
        .arg("reset")
        .env_remove("KMS_MASTER_KEY")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["deleted"]["keys"], 4, "{report}");
    assert_eq!(report["seeded"]["keys"], 3, "{report}");
    let plain = app
        .call(
            BOB,
            "decrypt-data",
            json!({"cipher_text": FIXTURE_CIPHERTEXT}),
        )
        .await;
    assert_eq!(plain.ok()["plain_text"], "fixture");
}

crate::on_both_backends!(
    with_config = super::seeded;
    the_seed_is_there_and_works,
    a_reset_brings_the_seed_back,
    the_command_line_reset_reseeds,
);

mod restart {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_loading_again_never_overwrites() {
        let mut app = TestApp::spawn_with(Backend::Sqlite, seeded).await;
        loading_again_never_overwrites(&mut app).await;
        app.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_loading_again_never_overwrites() {
        let mut app = TestApp::spawn_with(Backend::Postgres, seeded).await;
        loading_again_never_overwrites(&mut app).await;
        app.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_a_ciphertext_travels_between_databases() {
        a_ciphertext_travels_between_databases(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_a_ciphertext_travels_between_databases() {
        a_ciphertext_travels_between_databases(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_bad_seeds_stop_the_start() {
        bad_seeds_stop_the_start(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_bad_seeds_stop_the_start() {
        bad_seeds_stop_the_start(Backend::Postgres).await;
    }
}
