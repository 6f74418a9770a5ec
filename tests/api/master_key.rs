//! The master key (issue 15, finding 8): `--master-key-file`, conflicting settings refused, and
//! a loud warning when a generated key is kept in PostgreSQL. On the binary, as operators run it.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{ALICE, Backend, ServerProcess, TestDb};

const KEY_A: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const KEY_B: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

/// A file in a fresh temporary directory.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kms-key-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

async fn call(base: &str, action: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/v1.0/{}/kms/{action}", ALICE.project))
        .header("x-auth-token", ALICE.token)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn stored_master_keys(db: &TestDb) -> i64 {
    let (count,): (i64,) = match backend_of(db) {
        Backend::Sqlite | Backend::Memory => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url()).await.unwrap();
            sqlx::query_as("select count(*) from kms_setting where name = 'master_key'")
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url()).await.unwrap();
            sqlx::query_as("select count(*) from kms_setting where name = 'master_key'")
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    };
    count
}

fn backend_of(db: &TestDb) -> Backend {
    match db {
        TestDb::Sqlite { .. } => Backend::Sqlite,
        TestDb::Postgres { .. } => Backend::Postgres,
    }
}

/// A ciphertext made under a key file decrypts after a restart with the same file (written
/// with a trailing newline, as `echo` and editors leave it), fails cleanly with another key,
/// and the key is never written to the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_master_key_file_is_used_and_not_stored() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDb::create(backend).await;
        let key_a = temp_file("master-key", &format!("{KEY_A}\n"));
        let key_b = temp_file("master-key", &format!("{KEY_B}\r\n"));
        let flags_a = ["--master-key-file", key_a.to_str().unwrap()];

        let server = ServerProcess::start_with(&db.url(), &flags_a).await;
        let (status, created) = call(&server.base, "create-key", json!({"key_alias": "k"})).await;
        assert_eq!(status, 200, "{created}");
        let key_id = created["key_info"]["key_id"].as_str().unwrap().to_owned();
        let (status, sealed) = call(
            &server.base,
            "encrypt-data",
            json!({"key_id": key_id, "plain_text": "attack at dawn"}),
        )
        .await;
        assert_eq!(status, 200, "{sealed}");
        let cipher = sealed["cipher_text"].as_str().unwrap().to_owned();
        assert!(server.terminate().await.success());
        assert_eq!(
            stored_master_keys(&db).await,
            0,
            "{backend:?}: a configured master key is not kept in the database"
        );

        let server = ServerProcess::start_with(&db.url(), &flags_a).await;
        let (status, opened) =
            call(&server.base, "decrypt-data", json!({"cipher_text": cipher})).await;
        assert_eq!(status, 200, "{opened}");
        assert_eq!(opened["plain_text"], "attack at dawn");
        assert!(server.terminate().await.success());

        let server =
            ServerProcess::start_with(&db.url(), &["--master-key-file", key_b.to_str().unwrap()])
                .await;
        let (status, refused) =
            call(&server.base, "decrypt-data", json!({"cipher_text": cipher})).await;
        assert_eq!(status, 500, "{backend:?}: {refused}");
        assert_eq!(refused["error"]["error_code"], "KMS.0103", "{refused}");
        assert!(!refused.to_string().contains("attack at dawn"), "{refused}");
        assert!(
            logs(&server, "does not open under the configured master key").await,
            "the operator is told why: {}",
            server.log()
        );
        assert!(server.terminate().await.success());
        db.drop_database().await;
    }
}

/// Runs the binary to completion (it should refuse to start), with at most 20 s.
async fn run_refused(flags: &[&str], env: &[(&str, &str)]) -> (Output, String) {
    let db_dir = std::env::temp_dir().join(format!("kms-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&db_dir).unwrap();
    let url = format!("sqlite://{}", db_dir.join("kms.db").display());
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kms-emulator"));
    command
        .args(["--listen", "127.0.0.1:0", "--database-url", &url])
        .args(flags)
        .env_remove("KMS_MASTER_KEY")
        .env_remove("KMS_MASTER_KEY_FILE")
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(20), command.output())
        .await
        .unwrap_or_else(|_| panic!("{flags:?} {env:?}: the process should refuse to start"))
        .unwrap();
    let _ = std::fs::remove_dir_all(db_dir);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{flags:?} {env:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (output, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_or_bad_master_key_settings_are_refused() {
    let key_file = temp_file("master-key", KEY_A);
    let key_file = key_file.to_str().unwrap();

    let (_, stderr) =
        run_refused(&["--master-key", KEY_A, "--master-key-file", key_file], &[]).await;
    assert!(
        stderr.contains("--master-key-file") && stderr.contains("cannot be used with"),
        "{stderr}"
    );
    let (_, stderr) = run_refused(
        &[],
        &[("KMS_MASTER_KEY", KEY_A), ("KMS_MASTER_KEY_FILE", key_file)],
    )
    .await;
    assert!(
        stderr.contains("KMS_MASTER_KEY_FILE") || stderr.contains("--master-key-file"),
        "{stderr}"
    );

    let missing = std::env::temp_dir().join("kms-no-such-dir/master-key");
    let (_, stderr) = run_refused(&["--master-key-file", missing.to_str().unwrap()], &[]).await;
    assert!(
        stderr.contains("cannot read the master key file") && stderr.contains("kms-no-such-dir"),
        "{stderr}"
    );

    let short = temp_file("master-key", "0011223344\n");
    let (_, stderr) = run_refused(&["--master-key-file", short.to_str().unwrap()], &[]).await;
    assert!(
        stderr.contains("master key file") && stderr.contains("64 hexadecimal characters"),
        "{stderr}"
    );
}

/// Whether the log says `needle` within a few seconds (the log is written by a background thread).
async fn logs(server: &ServerProcess, needle: &str) -> bool {
    for _ in 0..30 {
        if server.log().contains(needle) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

const REMAINS: &str = "a generated master key is still stored in plain text in table kms_setting";

const WARNING: &str = "generated one is kept in plain text in the PostgreSQL table kms_setting";

/// A generated master key kept in PostgreSQL is warned about, with what to do; a key from a
/// file is not, and neither is the embedded SQLite store's (the file is the whole database).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_master_key_in_postgres_is_warned_about() {
    let db = TestDb::create(Backend::Postgres).await;
    let server = ServerProcess::start(&db.url()).await;
    assert!(logs(&server, WARNING).await, "{}", server.log());
    let log = server.log();
    assert!(
        log.contains("--master-key-file") && log.contains("WARN"),
        "{log}"
    );
    assert_eq!(stored_master_keys(&db).await, 1);
    server.stop().await;

    // Configuring a key afterwards: the generated one left in the table is pointed out, and
    // whether it is the configured one.
    let key_file = temp_file("master-key", KEY_A);
    let server = ServerProcess::start_with(
        &db.url(),
        &["--master-key-file", key_file.to_str().unwrap()],
    )
    .await;
    assert!(logs(&server, REMAINS).await, "{}", server.log());
    assert!(
        server.log().contains("It differs from the configured one"),
        "{}",
        server.log()
    );
    assert!(!server.log().contains(WARNING), "{}", server.log());
    server.stop().await;

    let mut conn = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    let (stored,): (String,) =
        sqlx::query_as("select value from kms_setting where name = 'master_key'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let moved = temp_file("master-key", &format!("{stored}\n"));
    let server =
        ServerProcess::start_with(&db.url(), &["--master-key-file", moved.to_str().unwrap()]).await;
    assert!(
        logs(&server, "It is the configured one: delete the row").await,
        "{}",
        server.log()
    );
    server.stop().await;
    sqlx::query("delete from kms_setting where name = 'master_key'")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let server =
        ServerProcess::start_with(&db.url(), &["--master-key-file", moved.to_str().unwrap()]).await;
    assert!(!logs(&server, REMAINS).await, "{}", server.log());
    server.stop().await;
    db.drop_database().await;

    let db = TestDb::create(Backend::Sqlite).await;
    let server = ServerProcess::start(&db.url()).await;
    assert!(!logs(&server, WARNING).await, "{}", server.log());
    server.stop().await;
    db.drop_database().await;
}
