//! Issue 15, finding 9: issued IAM tokens are pruned once expired, and password guessing on
//! `POST /v3/auth/tokens` locks the user name (IAM's login protection), for every process
//! sharing the database, without telling which users exist.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{PROJECT, Reply, ServerProcess, TestApp, TestDb};

fn login(user: &str, password: &str) -> Value {
    json!({"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": user, "password": password, "domain": {"name": "demo-account"}}}},
        "scope": {"project": {"id": PROJECT}},
    }})
}

async fn post_login(app: &TestApp, base: &str, body: &Value) -> Reply {
    let response = app
        .client
        .post(format!("{base}/v3/auth/tokens?nocatalog=true"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    Reply::read(response).await
}

async fn token_rows(app: &TestApp) -> i64 {
    let statement = "select count(*) from iam_token";
    match &app.db {
        TestDb::Sqlite { .. } => {
            let mut conn = sqlx::SqliteConnection::connect(&app.db.url())
                .await
                .unwrap();
            sqlx::query_as::<_, (i64,)>(statement)
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .0
        }
        TestDb::Postgres { .. } => {
            let mut conn = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
            sqlx::query_as::<_, (i64,)>(statement)
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .0
        }
    }
}

/// A token that expired is deleted by the next maintenance round, with no new login needed.
async fn expired_tokens_are_pruned_by_maintenance(app: &TestApp) {
    let issued = post_login(app, &app.base, &login("alice", "alice-password")).await;
    assert_eq!(issued.status, 201, "{}", issued.raw);
    assert_eq!(token_rows(app).await, 1);
    // Lifetime 1 s, a round every second: gone within a few seconds.
    let started = std::time::Instant::now();
    while token_rows(app).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the expired token is still stored"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const WRONG: &str = "{\"error\":{\"code\":401,\"message\":\"The username or password is wrong.\",\"title\":\"Unauthorized\"}}";
const LOCKED: &str =
    "{\"error\":{\"code\":401,\"message\":\"The account is locked.\",\"title\":\"Unauthorized\"}}";

#[track_caller]
fn assert_body(reply: &Reply, body: &str) {
    assert_eq!(reply.status, 401, "{}", reply.raw);
    assert_eq!(
        serde_json::from_str::<Value>(&reply.raw).unwrap(),
        serde_json::from_str::<Value>(body).unwrap()
    );
}

/// Three wrong passwords within the window lock the user: the right password is refused
/// with IAM's locked answer until the window has passed, then works. Failures sent to two
/// processes sharing the database count together; an unknown name locks the same way.
async fn failed_logins_lock_the_user_for_the_window(app: &TestApp) {
    let other = ServerProcess::start_with(
        &app.db.url(),
        &[
            "--login-lockout-failures",
            "3",
            "--login-lockout-minutes",
            "0.1",
        ],
    )
    .await;
    for base in [&app.base, &other.base, &app.base] {
        assert_body(
            &post_login(app, base, &login("alice", "guess")).await,
            WRONG,
        );
    }
    for base in [&app.base, &other.base] {
        assert_body(
            &post_login(app, base, &login("alice", "alice-password")).await,
            LOCKED,
        );
    }
    // Another user is not affected.
    assert_eq!(
        post_login(app, &app.base, &login("bob", "bob-password"))
            .await
            .status,
        201
    );
    // A name that is no user gets exactly the same answers.
    for _ in 0..3 {
        assert_body(
            &post_login(app, &other.base, &login("mallory", "guess")).await,
            WRONG,
        );
    }
    assert_body(
        &post_login(app, &app.base, &login("mallory", "guess")).await,
        LOCKED,
    );

    tokio::time::sleep(Duration::from_millis(6_300)).await;
    let after = post_login(app, &other.base, &login("alice", "alice-password")).await;
    assert_eq!(after.status, 201, "{}", after.raw);
    // The success forgot the failures: two more do not lock.
    for _ in 0..2 {
        assert_body(
            &post_login(app, &app.base, &login("alice", "guess")).await,
            WRONG,
        );
    }
    assert_eq!(
        post_login(app, &app.base, &login("alice", "alice-password"))
            .await
            .status,
        201
    );
    other.stop().await;
}

mod pruning {
    use super::*;
    crate::on_both_backends!(
        with_config = |config| {
            config.token_lifetime_secs = 1;
            config.maintenance_interval_secs = 1;
        };
        expired_tokens_are_pruned_by_maintenance,
    );
}

mod lockout {
    use super::*;
    crate::on_both_backends!(
        with_config = |config| {
            config.login_lockout_failures = 3;
            config.login_lockout_minutes = 0.1;
        };
        failed_logins_lock_the_user_for_the_window,
    );
}
