//! Races settle in the database: of many simultaneous deletes of one grant, exactly
//! one succeeds, also when two server processes share the database.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::{ALICE, Backend, CAROL, ServerProcess, TestApp, TestDb, User};

const RACERS: usize = 50;

/// Sends `RACERS` copies of one request, spread over `bases`, and returns the statuses and codes.
async fn race(
    bases: &[String],
    user: User,
    action: &str,
    key_id: &str,
    grant_id: &str,
) -> Vec<(u16, String)> {
    let client = reqwest::Client::new();
    let body = json!({"key_id": key_id, "grant_id": grant_id}).to_string();
    let requests = (0..RACERS).map(|i| {
        let url = format!(
            "{}/v1.0/{}/kms/{action}",
            bases[i % bases.len()],
            user.project
        );
        let request = client
            .post(url)
            .header("x-auth-token", user.token)
            .header("content-type", "application/json")
            .body(body.clone());
        async move {
            let response = request.send().await.expect("answered");
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            (
                status,
                body["error"]["error_code"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        }
    });
    join_all(requests).await
}

#[track_caller]
fn exactly_one_winner(outcomes: &[(u16, String)]) {
    let winners = outcomes.iter().filter(|(s, _)| *s == 200).count();
    let losers = outcomes
        .iter()
        .filter(|(s, c)| *s == 400 && c == "KMS.2501")
        .count();
    assert_eq!(winners, 1, "{outcomes:?}");
    assert_eq!(losers, RACERS - 1, "{outcomes:?}");
}

async fn fifty_simultaneous_revokes_have_one_winner(app: &TestApp) {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data"]).await;
    let (bystander_key, bystander) = app.key_with_grant(&["encrypt-data"]).await;
    exactly_one_winner(
        &race(
            std::slice::from_ref(&app.base),
            ALICE,
            "revoke-grant",
            &key_id,
            &grant_id,
        )
        .await,
    );
    assert!(app.grant_ids(&key_id).await.is_empty());
    assert_eq!(
        app.grant_ids(&bystander_key).await,
        vec![bystander],
        "other grants untouched"
    );
}

async fn fifty_simultaneous_retires_have_one_winner(app: &TestApp) {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data"]).await;
    exactly_one_winner(
        &race(
            std::slice::from_ref(&app.base),
            CAROL,
            "retire-grant",
            &key_id,
            &grant_id,
        )
        .await,
    );
    assert!(app.grant_ids(&key_id).await.is_empty());
}

crate::on_every_backend!(
    fifty_simultaneous_revokes_have_one_winner,
    fifty_simultaneous_retires_have_one_winner
);

/// Two emulator processes on one database, requests alternating between them.
async fn two_processes_share_one_database(backend: Backend) {
    let db = TestDb::create(backend).await;
    let first = ServerProcess::start(&db.url()).await;
    let second = ServerProcess::start(&db.url()).await;
    let bases = vec![first.base.clone(), second.base.clone()];
    let client = reqwest::Client::new();
    let call = |base: &str, user: User, action: &str, body: serde_json::Value| {
        client
            .post(format!("{base}/v1.0/{}/kms/{action}", user.project))
            .header("x-auth-token", user.token)
            .body(body.to_string())
            .send()
    };
    let key: serde_json::Value = call(
        &bases[0],
        ALICE,
        "create-key",
        json!({"key_alias": "shared"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let key_id = key["key_info"]["key_id"].as_str().unwrap().to_owned();
    for action_user in [(ALICE, "revoke-grant"), (CAROL, "retire-grant")] {
        let grant: serde_json::Value = call(
            &bases[1],
            ALICE,
            "create-grant",
            json!({"key_id": key_id, "grantee_principal": "b0b00000000000000000000000000002", "operations": ["encrypt-data"],
                   "retiring_principal": CAROL.id}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let grant_id = grant["grant_id"].as_str().unwrap().to_owned();
        exactly_one_winner(&race(&bases, action_user.0, action_user.1, &key_id, &grant_id).await);
    }
    for base in &bases {
        let list: serde_json::Value = call(base, ALICE, "list-grants", json!({"key_id": key_id}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["total"], 0);
    }
    first.stop().await;
    second.stop().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_processes_share_one_database() {
    two_processes_share_one_database(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_processes_share_one_database() {
    two_processes_share_one_database(Backend::Sqlite).await;
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let db = TestDb::create(Backend::Sqlite).await;
    let server = ServerProcess::start(&db.url()).await;
    let reply = reqwest::get(format!("{}/ready", server.base))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let status = server.terminate().await;
    assert!(status.success(), "{status:?}");
    db.drop_database().await;
}
