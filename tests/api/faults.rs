//! Regression tests for what the fault driver (scripts/faults) found: each failed before
//! its fix. The driver itself restarts PostgreSQL and kills the service under load; these
//! pin the behaviours down cheaply, on the binary, without touching the shared server.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{ALICE, BOB, Backend, ServerProcess, TestDb};

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// With the database down for the whole retry window, the process exits non-zero in about
/// that window, having logged each retry, with the real cause in its last words (it used to
/// retry silently inside the pool for 5 s and then say only "pool timed out").
#[tokio::test]
async fn start_with_the_database_down_retries_then_says_why() {
    let url = format!("postgres://postgres@127.0.0.1:{}/kms", closed_port());
    let started = Instant::now();
    let output = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_kms-emulator"))
            .args(["--listen", "127.0.0.1:0", "--database-url", &url])
            .args(["--db-connect-retry-secs", "2"])
            .env("RUST_LOG", "kms_emulator=warn")
            .output(),
    )
    .await
    .expect("the process gives up")
    .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        took < Duration::from_secs(4),
        "a 2 s retry window took {took:?}"
    );
    let retries = stderr.matches("PostgreSQL is not reachable yet").count();
    assert!(retries >= 2, "retries with backoff are logged: {stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("cannot open PostgreSQL database") && last.contains("Connection refused"),
        "the last line says why: {stderr}"
    );
}

/// Holds an exclusive lock on `kms_grant` until dropped (rolled back), so grant writes block.
async fn lock_grant_table(db: &TestDb) -> sqlx::PgConnection {
    let mut conn = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    sqlx::query("begin").execute(&mut conn).await.unwrap();
    sqlx::query("lock table kms_grant in access exclusive mode")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

async fn post(base: &str, token: &str, action: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{base}/v1.0/{}/kms/{action}",
            crate::helpers::PROJECT
        ))
        .header("x-auth-token", token)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn new_key(base: &str) -> String {
    let key: Value = post(
        base,
        ALICE.token,
        "create-key",
        json!({"key_alias": "faults"}),
    )
    .await
    .json()
    .await
    .unwrap();
    key["key_info"]["key_id"].as_str().unwrap().to_owned()
}

/// A request stuck past --request-timeout-secs is answered with a KMS error, not an empty
/// 503, and what it was doing does not happen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_request_gets_a_kms_error_and_takes_no_effect() {
    let db = TestDb::create(Backend::Postgres).await;
    let server = ServerProcess::start_with(&db.url(), &["--request-timeout-secs", "1"]).await;
    let key_id = new_key(&server.base).await;
    let lock = lock_grant_table(&db).await;
    let response = post(
        &server.base,
        ALICE.token,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"]}),
    )
    .await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["error"]["error_code"], "KMS.0104", "{body}");
    assert!(
        body["error"]["error_msg"]
            .as_str()
            .unwrap()
            .contains("did not complete within 1 s"),
        "{body}"
    );
    lock.close().await.unwrap();
    let list: Value = post(
        &server.base,
        ALICE.token,
        "list-grants",
        json!({"key_id": key_id}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        list["total"], 0,
        "the abandoned create did not happen: {list}"
    );
    server.stop().await;
    db.drop_database().await;
}

/// SIGTERM with a request blocked in the database: the process exits at the shutdown
/// deadline (it used to wait for the pool to close, i.e. for the stuck request).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_deadline_holds_with_a_request_stuck_in_the_database() {
    let db = TestDb::create(Backend::Postgres).await;
    let server = ServerProcess::start_with(&db.url(), &["--shutdown-timeout-secs", "1"]).await;
    let key_id = new_key(&server.base).await;
    let lock = lock_grant_table(&db).await;
    let base = server.base.clone();
    let stuck = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{base}/v1.0/{}/kms/create-grant", ALICE.project))
            .header("x-auth-token", ALICE.token)
            .body(json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"]}).to_string())
            .send()
            .await
    });
    // The request is in flight once its transaction waits for the lock.
    let mut admin = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (waiting,): (i64,) = sqlx::query_as(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the request never blocked");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let signalled = Instant::now();
    let status = server.terminate().await;
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(3),
        "exited {took:?} after SIGTERM; the deadline is 1 s"
    );
    assert!(
        stuck.await.unwrap().is_err(),
        "the stuck request is cut off, not answered"
    );
    lock.close().await.unwrap();
    let (grants,): (i64,) = sqlx::query_as("select count(*) from kms_grant")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(grants, 0, "the cut-off create did not happen");
    admin.close().await.unwrap();
    db.drop_database().await;
}
