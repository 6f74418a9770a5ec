//! Snapshots for test suites (issue 16, item 1): `GET /_emulator/snapshot` and
//! `kms-emulator snapshot export` write every key (material still wrapped) and grant as one
//! JSON document; `POST /_emulator/snapshot` and `snapshot import FILE` replace every key and
//! grant with one, in one transaction recorded in the audit trail, so ciphertexts made before
//! still decrypt.

use kms_emulator::Config;
use serde_json::{Value, json};

use crate::helpers::{ALICE, BOB, ERIN, Reply, TestApp};

async fn operator(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    app.raw(method, path, &[("content-type", "application/json")], body)
        .await
}

/// Two keys of alice's (one with a grant to bob), one of erin's, and a ciphertext under
/// alice's first key. Returns (alice's key, the ciphertext).
async fn populate(app: &TestApp) -> (String, String) {
    let key_id = app.create_key(ALICE, "snap-a1").await;
    app.create_key(ALICE, "snap-a2").await;
    app.create_key(ERIN, "snap-e1").await;
    app.create_grant(
        ALICE,
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["decrypt-data"]}),
    )
    .await;
    let reply = app
        .call(
            ALICE,
            "encrypt-data",
            json!({"key_id": key_id, "plain_text": "fixture"}),
        )
        .await;
    let cipher = reply.ok()["cipher_text"].as_str().unwrap().to_owned();
    (key_id, cipher)
}

/// After a restore: bob decrypts the old ciphertext through the restored grant, the aliases
/// are taken again, and the trail verifies.
async fn assert_restored(app: &TestApp, cipher: &str) {
    let reply = app
        .call(BOB, "decrypt-data", json!({"cipher_text": cipher}))
        .await;
    assert_eq!(reply.ok()["plain_text"], "fixture", "{}", reply.raw);
    app.call(ALICE, "create-key", json!({"key_alias": "snap-a2"}))
        .await
        .error(400, "KMS.1104");
    let mut out = Vec::new();
    let verified =
        kms_emulator::operator::verify_audit(&Config::with_database(app.db.url()), &mut out)
            .await
            .unwrap();
    assert!(verified, "{}", String::from_utf8_lossy(&out));
}

async fn a_snapshot_restores_keys_grants_and_ciphertexts(app: &TestApp) {
    let (key_id, cipher) = populate(app).await;
    let snapshot = operator(app, reqwest::Method::GET, "/_emulator/snapshot", None).await;
    let snapshot = snapshot.ok().clone();
    assert_eq!(snapshot["format"], 1);
    assert_eq!(snapshot["keys"].as_array().unwrap().len(), 3);
    assert_eq!(snapshot["grants"].as_array().unwrap().len(), 1);
    assert_eq!(snapshot["keys"][0]["key_id"], key_id.as_str());
    assert!(snapshot["keys"][0]["key_material"].as_str().unwrap().len() > 32);
    operator(app, reqwest::Method::POST, "/_emulator/reset", None)
        .await
        .ok();
    let listed = app.call(ALICE, "list-keys", json!({})).await;
    assert_eq!(listed.ok()["keys"], json!([]), "the keys are gone");
    let reply = operator(
        app,
        reqwest::Method::POST,
        "/_emulator/snapshot",
        Some(&snapshot),
    )
    .await;
    assert_eq!(
        reply.ok(),
        &json!({"imported": {"keys": 3, "grants": 1}, "deleted": {"keys": 0, "grants": 0}})
    );
    assert_restored(app, &cipher).await;
    // Importing over the state replaces it (not twice the keys), and the export is the same.
    let reply = operator(
        app,
        reqwest::Method::POST,
        "/_emulator/snapshot",
        Some(&snapshot),
    )
    .await;
    assert_eq!(reply.ok()["deleted"], json!({"keys": 3, "grants": 1}));
    let again = operator(app, reqwest::Method::GET, "/_emulator/snapshot", None).await;
    assert_eq!(again.ok(), &snapshot);
    assert_restored(app, &cipher).await;
}

async fn bad_snapshots_change_nothing(app: &TestApp) {
    let (key_id, _) = populate(app).await;
    let good = operator(app, reqwest::Method::GET, "/_emulator/snapshot", None)
        .await
        .ok()
        .clone();
    let mut bad = Vec::new();
    let mut v = good.clone();
    v["format"] = json!(2);
    bad.push(v);
    let mut v = good.clone();
    v["grants"][0]["key_id"] = json!("6b1d9c4e-0000-4000-8000-000000000000");
    bad.push(v);
    let mut v = good.clone();
    let first = v["keys"][0].clone();
    v["keys"].as_array_mut().unwrap().push(first);
    bad.push(v);
    let mut v = good.clone();
    v["keys"][0]["key_state"] = json!(99);
    bad.push(v);
    let mut v = good.clone();
    v["keys"][0]["key_material"] = json!("not hex");
    bad.push(v);
    let mut v = good.clone();
    v["extra"] = json!(1);
    bad.push(v);
    let mut v = good.clone();
    v["keys"][1]["key_description"] = json!("nul \u{0} inside");
    bad.push(v);
    bad.push(json!([]));
    for body in &bad {
        operator(
            app,
            reqwest::Method::POST,
            "/_emulator/snapshot",
            Some(body),
        )
        .await
        .error(400, "EMULATOR.0400");
    }
    assert_eq!(app.grant_ids(&key_id).await.len(), 1);
    let after = operator(app, reqwest::Method::GET, "/_emulator/snapshot", None).await;
    assert_eq!(after.ok(), &good);
}

/// `kms-emulator snapshot export` to a file, a reset, `snapshot import FILE`.
async fn the_command_line_exports_and_imports(app: &TestApp) {
    let (_, cipher) = populate(app).await;
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_kms-emulator"))
            .args(["--database-url", &app.db.url()])
            .arg("snapshot")
            .args(args)
            .env_remove("KMS_MASTER_KEY")
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(output.status.success(), "{stderr}");
        String::from_utf8(output.stdout).unwrap()
    };
    let exported = run(&["export"]);
    let file = std::env::temp_dir().join(format!(
        "kms-snapshot-{}.json",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&file, &exported).unwrap();
    operator(app, reqwest::Method::POST, "/_emulator/reset", None)
        .await
        .ok();
    let report: Value =
        serde_json::from_str(run(&["import", file.to_str().unwrap()]).trim()).unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_eq!(
        report["imported"],
        json!({"keys": 3, "grants": 1}),
        "{report}"
    );
    assert_restored(app, &cipher).await;
}

crate::on_both_backends!(
    a_snapshot_restores_keys_grants_and_ciphertexts,
    bad_snapshots_change_nothing,
    the_command_line_exports_and_imports,
);

const MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// A snapshot of one database loads into a fresh one (same master key): the ciphertext made
/// on the first decrypts on the second.
async fn a_snapshot_moves_to_a_fresh_database(backend: crate::helpers::Backend) {
    let with_key = |config: &mut Config| config.master_key = Some(MASTER_KEY.to_owned());
    let first = TestApp::spawn_with(backend, with_key).await;
    let (_, cipher) = populate(&first).await;
    let snapshot = operator(&first, reqwest::Method::GET, "/_emulator/snapshot", None)
        .await
        .ok()
        .clone();
    first.finish().await;
    let second = TestApp::spawn_with(backend, with_key).await;
    operator(
        &second,
        reqwest::Method::POST,
        "/_emulator/snapshot",
        Some(&snapshot),
    )
    .await
    .ok();
    let reply = second
        .call(BOB, "decrypt-data", json!({"cipher_text": cipher}))
        .await;
    assert_eq!(reply.ok()["plain_text"], "fixture", "{}", reply.raw);
    let mut config = Config::with_database(second.db.url());
    config.master_key = Some(MASTER_KEY.to_owned());
    let mut out = Vec::new();
    assert!(
        kms_emulator::operator::verify_audit(&config, &mut out)
            .await
            .unwrap(),
        "{}",
        String::from_utf8_lossy(&out)
    );
    second.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_moves_to_a_fresh_sqlite_database() {
    a_snapshot_moves_to_a_fresh_database(crate::helpers::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_moves_to_a_fresh_postgres_database() {
    a_snapshot_moves_to_a_fresh_database(crate::helpers::Backend::Postgres).await;
}
