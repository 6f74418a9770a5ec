//! Identity, request IDs, and the errors every action shares.

use serde_json::json;

use crate::helpers::{ALICE, ALL_ACTIONS, Backend, ERIN, OTHER_PROJECT, PROJECT, TestApp};

async fn every_action_requires_a_valid_token(app: &TestApp) {
    for action in ALL_ACTIONS {
        app.post(PROJECT, action, None, &json!({}))
            .await
            .error(403, "KMS.0301");
        app.post(PROJECT, action, Some(""), &json!({}))
            .await
            .error(403, "KMS.0301");
        app.post(PROJECT, action, Some("forged-token"), &json!({}))
            .await
            .error(403, "KMS.0302");
        // alice's token is for her project only.
        app.post(OTHER_PROJECT, action, Some(ALICE.token), &json!({}))
            .await
            .error(403, "KMS.0321");
    }
    let reply = app.call(ALICE, "list-keys", json!({})).await;
    assert_eq!(
        reply.ok()["total"],
        0,
        "no unauthenticated request created anything"
    );
}

async fn every_response_carries_a_request_id(app: &TestApp) {
    let ok = app.call(ALICE, "list-keys", json!({})).await;
    let err = app.post(PROJECT, "list-keys", None, &json!({})).await;
    let unknown = app.raw(reqwest::Method::GET, "/nowhere", &[], vec![]).await;
    let mut ids = Vec::new();
    for reply in [&ok, &err, &unknown] {
        let id = reply.request_id.clone().expect("X-Request-Id");
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "each request gets its own ID");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["error_code"], "APIGW.0101");
    assert_eq!(
        unknown.body["request_id"],
        unknown.request_id.clone().unwrap().as_str()
    );
    // A sane client-supplied ID is kept for correlation.
    let mine = app
        .raw(
            reqwest::Method::POST,
            &format!("/v1.0/{PROJECT}/kms/list-keys"),
            &[
                ("x-auth-token", ALICE.token),
                ("x-request-id", "client-id-123"),
            ],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(mine.request_id.as_deref(), Some("client-id-123"));
}

async fn unknown_actions_methods_and_projects(app: &TestApp) {
    app.call(ALICE, "delete-everything", json!({}))
        .await
        .error(400, "KMS.0201");
    let reply = app
        .raw(
            reqwest::Method::GET,
            &format!("/v1.0/{PROJECT}/kms/list-grants"),
            &[("x-auth-token", ALICE.token)],
            vec![],
        )
        .await;
    reply.error(405, "KMS.0215");
    let reply = app
        .raw(
            reqwest::Method::DELETE,
            &format!("/v1.0/{PROJECT}/kms/revoke-grant"),
            &[("x-auth-token", ALICE.token)],
            vec![],
        )
        .await;
    reply.error(405, "KMS.0215");
    app.post("..%2F..%2Fetc", "list-keys", Some(ALICE.token), &json!({}))
        .await
        .error(400, "KMS.0201");
    app.post("p%00x", "list-keys", Some(ALICE.token), &json!({}))
        .await
        .error(400, "KMS.0201");
}

async fn oversized_bodies_are_refused(app: &TestApp) {
    let big = json!({"key_alias": "x".repeat(100 * 1024)});
    app.call(ALICE, "create-key", big)
        .await
        .error(400, "KMS.0203");
}

async fn empty_body_reads_as_an_empty_object(app: &TestApp) {
    let reply = app
        .raw(
            reqwest::Method::POST,
            &format!("/v1.0/{PROJECT}/kms/list-retirable-grants"),
            &[("x-auth-token", ALICE.token)],
            vec![],
        )
        .await;
    assert_eq!(reply.ok()["total"], 0);
    let reply = app
        .raw(
            reqwest::Method::POST,
            &format!("/v1.0/{PROJECT}/kms/revoke-grant"),
            &[("x-auth-token", ALICE.token)],
            vec![],
        )
        .await;
    reply.error(400, "KMS.0204");
}

async fn health_and_readiness(app: &TestApp) {
    let health = app.raw(reqwest::Method::GET, "/health", &[], vec![]).await;
    assert_eq!(health.status, 200);
    let ready = app.raw(reqwest::Method::GET, "/ready", &[], vec![]).await;
    assert_eq!(ready.status, 200);
    let empty = ready.body.clone();
    assert_eq!(empty["status"], "ready", "{}", ready.raw);
    assert_eq!(empty["store"]["reachable"], true);
    assert!(
        empty["store"]["schema_version"].as_i64().unwrap() >= 6,
        "{}",
        ready.raw
    );
    assert_eq!(empty["counts"]["keys"], 0);
    let actions = empty["dialects"]["huawei"]["actions"].as_array().unwrap();
    assert!(actions.contains(&json!("retire-grant")), "{}", ready.raw);
    let operations = empty["dialects"]["aws"]["operations"].as_array().unwrap();
    assert!(operations.contains(&json!("RetireGrant")), "{}", ready.raw);
    // The counts follow what the store holds.
    let (key_id, _) = app.key_with_grant(&["encrypt-data"]).await;
    app.call(ALICE, "disable-key", json!({"key_id": key_id}))
        .await
        .ok();
    app.create_key(ALICE, "second").await;
    let ready = app.raw(reqwest::Method::GET, "/ready", &[], vec![]).await;
    let counts = &ready.body["counts"];
    assert_eq!(counts["keys"], 2, "{}", ready.raw);
    assert_eq!(counts["keys_by_state"]["enabled"], 1, "{}", ready.raw);
    assert_eq!(counts["keys_by_state"]["disabled"], 1, "{}", ready.raw);
    assert_eq!(counts["grants"], 1, "{}", ready.raw);
    assert_eq!(counts["projects"], 1, "{}", ready.raw);
    let backend = match app.db {
        crate::helpers::TestDb::Sqlite { .. } => "sqlite",
        crate::helpers::TestDb::Postgres { .. } => "postgres",
    };
    assert_eq!(ready.body["store"]["backend"], backend, "{}", ready.raw);
    let versions = app.raw(reqwest::Method::GET, "/", &[], vec![]).await;
    assert_eq!(versions.body["versions"][0]["id"], "v1.0");
}

async fn other_accounts_keys_are_invisible(app: &TestApp) {
    let key_id = app.create_key(ERIN, "erins").await;
    for action in ["describe-key", "list-grants"] {
        app.call(ALICE, action, json!({"key_id": key_id}))
            .await
            .error(404, "KMS.0207");
    }
    app.call(
        ALICE,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": ALICE.id, "operations": ["encrypt-data"]}),
    )
    .await
    .error(404, "KMS.0207");
}

crate::on_every_backend!(
    every_action_requires_a_valid_token,
    every_response_carries_a_request_id,
    unknown_actions_methods_and_projects,
    oversized_bodies_are_refused,
    empty_body_reads_as_an_empty_object,
    health_and_readiness,
    other_accounts_keys_are_invisible,
);

const IDENTITIES: &str = r#"{
  "domains": [{"id": "d1", "name": "acct"}],
  "projects": [{"id": "p1", "name": "eu-de", "domain_id": "d1"}],
  "users": [{"id": "u1", "name": "ann", "domain_id": "d1", "projects": ["p1"],
             "policies": ["KMS CMKReadOnlyAccess"],
             "tokens": [{"token": "live", "project_id": "p1"}, {"token": "stale", "expires_at": "2020-01-01T00:00:00Z"}]}]
}"#;

#[tokio::test]
async fn an_identities_file_replaces_the_demo_users_and_tokens_expire() {
    let path = std::env::temp_dir().join(format!("kms-ids-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, IDENTITIES).unwrap();
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.identities = Some(path.clone())).await;
    app.post("p1", "list-keys", Some("live"), &json!({}))
        .await
        .ok();
    app.post("p1", "list-keys", Some("stale"), &json!({}))
        .await
        .error(403, "KMS.0303");
    app.post(PROJECT, "list-keys", Some(ALICE.token), &json!({}))
        .await
        .error(403, "KMS.0302");
    app.post(OTHER_PROJECT, "list-keys", Some(ERIN.token), &json!({}))
        .await
        .error(403, "KMS.0302");
    app.finish().await;
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    let mut config = kms_emulator::Config::with_database("postgres://nobody@127.0.0.1:1/none");
    config.listen = "127.0.0.1:0".parse().unwrap();
    let error = kms_emulator::App::build(&config)
        .await
        .err()
        .expect("no database, no app");
    assert!(
        error.contains("cannot open PostgreSQL database postgres://nobody@127.0.0.1:1/none"),
        "{error}"
    );
    assert!(!error.contains('\n'), "one line: {error}");
    let config = kms_emulator::Config::with_database("mysql://x");
    let error = kms_emulator::App::build(&config).await.err().unwrap();
    assert!(error.contains("unsupported database URL"), "{error}");
}
