//! Reset for test suites (issue 16, item 1): `POST /_emulator/reset` and `kms-emulator reset`
//! delete keys and grants, all or one project's, domain's or AWS account's, in one
//! transaction, keep identities, tokens and the audit trail, and record the reset there.

use kms_emulator::Config;
use kms_emulator::domain::AuditEvent;
use serde_json::{Value, json};

use crate::helpers::aws::{AWS_ALICE, AWS_ERIN, aws};
use crate::helpers::{ALICE, BOB, DOMAIN, ERIN, FRANK, OTHER_PROJECT, PROJECT, Reply, TestApp};

async fn reset(app: &TestApp, body: Option<Value>) -> Reply {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    app.raw(
        reqwest::Method::POST,
        "/_emulator/reset",
        &[("content-type", "application/json")],
        body,
    )
    .await
}

/// Keys and grants in both demo accounts (two Huawei keys with a grant each in alice's
/// project, one in erin's; one AWS key in each account). Returns alice's and erin's key IDs.
async fn populate(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let mut alices = Vec::new();
    for alias in ["reset-a1", "reset-a2"] {
        let key_id = app.create_key(ALICE, alias).await;
        app.create_grant(
            ALICE,
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["describe-key"]}),
        )
        .await;
        alices.push(key_id);
    }
    let erins_key = app.create_key(ERIN, "reset-e1").await;
    app.create_grant(
        ERIN,
        json!({"key_id": erins_key, "grantee_principal": FRANK.id, "operations": ["describe-key"]}),
    )
    .await;
    let aws_alice = aws(app, AWS_ALICE, "CreateKey", json!({})).await;
    alices.push(
        aws_alice.ok()["KeyMetadata"]["KeyId"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let aws_erin = aws(app, AWS_ERIN, "CreateKey", json!({})).await;
    let erins = vec![
        erins_key,
        aws_erin.ok()["KeyMetadata"]["KeyId"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    (alices, erins)
}

async fn key_ids(app: &TestApp, user: crate::helpers::User) -> Vec<String> {
    let reply = app.call(user, "list-keys", json!({})).await;
    let mut ids: Vec<String> = reply.ok()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The trail verifies (through the library's `audit verify`) and its reset records.
async fn verified_resets(app: &TestApp) -> Vec<Value> {
    let config = Config::with_database(app.db.url());
    let mut out = Vec::new();
    let verified = kms_emulator::operator::verify_audit(&config, &mut out)
        .await
        .unwrap();
    assert!(verified, "{}", String::from_utf8_lossy(&out));
    crate::helpers::audit_records(app, AuditEvent::Reset).await
}

async fn resetting_a_project_leaves_other_accounts(app: &TestApp) {
    let (_, erins) = populate(app).await;
    let erins_with_grant = erins[0].clone();
    let mut erins = erins;
    erins.sort();
    let erins_before = key_ids(app, ERIN).await;
    let reply = reset(app, Some(json!({"project_id": PROJECT}))).await;
    let answer = reply.ok();
    // Alice's two Huawei keys and her AWS key (AWS keys live in the account's first project).
    assert_eq!(
        answer["deleted"],
        json!({"keys": 3, "grants": 2}),
        "{answer}"
    );
    assert_eq!(key_ids(app, ALICE).await, Vec::<String>::new());
    assert_eq!(key_ids(app, ERIN).await, erins_before);
    assert_eq!(erins_before, erins);
    let grants = app
        .call(ERIN, "list-grants", json!({"key_id": erins_with_grant}))
        .await;
    assert_eq!(grants.ok()["total"], 1, "{}", grants.raw);
    let listed = aws(app, AWS_ALICE, "ListKeys", json!({})).await;
    assert_eq!(listed.ok()["Keys"], json!([]), "{}", listed.raw);

    let resets = verified_resets(app).await;
    assert_eq!(resets.len(), 1, "{resets:?}");
    assert_eq!(resets[0]["event"], "reset");
    assert_eq!(resets[0]["project_id"], PROJECT);
    assert_eq!(resets[0]["request_id"], reply.request_id.unwrap());
    let detail = resets[0]["detail"].as_str().unwrap();
    assert!(detail.contains("deleted 3 keys and 2 grants"), "{detail}");
    assert!(
        resets[0]["user_id"]
            .as_str()
            .unwrap()
            .starts_with("operator:http 127.0.0.1"),
        "{}",
        resets[0]
    );
}

async fn resetting_an_account_or_domain(app: &TestApp) {
    populate(app).await;
    // Erin's AWS account: the Huawei key with its grant and the AWS key.
    let reply = reset(app, Some(json!({"account": "444455556666"}))).await;
    assert_eq!(
        reply.ok()["deleted"],
        json!({"keys": 2, "grants": 1}),
        "{}",
        reply.raw
    );
    assert_eq!(key_ids(app, ERIN).await, Vec::<String>::new());
    assert_eq!(key_ids(app, ALICE).await.len(), 3);
    let reply = reset(app, Some(json!({"domain_id": DOMAIN}))).await;
    assert_eq!(
        reply.ok()["deleted"],
        json!({"keys": 3, "grants": 2}),
        "{}",
        reply.raw
    );
    assert_eq!(key_ids(app, ALICE).await, Vec::<String>::new());
    assert_eq!(verified_resets(app).await.len(), 2);
}

async fn a_full_reset_keeps_identities_and_frees_aliases(app: &TestApp) {
    let token = crate::identity::alice_token(app, &app.base).await;
    populate(app).await;
    let reply = reset(app, None).await;
    assert_eq!(
        reply.ok()["deleted"],
        json!({"keys": 5, "grants": 3}),
        "{}",
        reply.raw
    );
    assert_eq!(reply.body["reset"], "all");
    for user in [ALICE, ERIN] {
        assert_eq!(key_ids(app, user).await, Vec::<String>::new());
    }
    for who in [AWS_ALICE, AWS_ERIN] {
        let listed = aws(app, who, "ListKeys", json!({})).await;
        assert_eq!(listed.ok()["Keys"], json!([]), "{}", listed.raw);
    }
    // The IAM token issued before the reset still works, and so do AK/SK and demo tokens;
    // the aliases used before are free again: a test suite can run again.
    let listed = app
        .post(PROJECT, "list-keys", Some(&token), &json!({}))
        .await;
    assert_eq!(listed.ok()["keys"], json!([]));
    app.create_key(ALICE, "reset-a1").await;
    app.create_key(ERIN, "reset-e1").await;
    aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok();
    // `{}` is a full reset too.
    let reply = reset(app, Some(json!({}))).await;
    assert_eq!(reply.ok()["deleted"], json!({"keys": 3, "grants": 0}));
    let resets = verified_resets(app).await;
    assert_eq!(resets.len(), 2);
    assert_eq!(resets[0]["project_id"], "");
}

async fn bad_reset_requests_are_refused(app: &TestApp) {
    let key_id = app.create_key(ALICE, "kept").await;
    for body in [
        json!({"project_id": PROJECT, "domain_id": DOMAIN}),
        json!({"project": PROJECT}),
        json!({"account": "999999999999"}),
        json!({"project_id": ""}),
        json!({"project_id": 7}),
        json!([]),
    ] {
        reset(app, Some(body)).await.error(400, "EMULATOR.0400");
    }
    let reply = app
        .raw(
            reqwest::Method::POST,
            "/_emulator/reset",
            &[],
            b"{not json".to_vec(),
        )
        .await;
    reply.error(400, "EMULATOR.0400");
    let reply = app
        .raw(reqwest::Method::GET, "/_emulator/reset", &[], Vec::new())
        .await;
    assert_eq!(reply.status, 405, "{}", reply.raw);
    assert_eq!(key_ids(app, ALICE).await, vec![key_id]);
    assert_eq!(verified_resets(app).await.len(), 0);
}

/// `kms-emulator reset --project-id X` against the service's database, while it runs.
async fn the_command_line_resets_too(app: &TestApp) {
    populate(app).await;
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_kms-emulator"))
            .args(["--database-url", &app.db.url()])
            .arg("reset")
            .args(args)
            .env_remove("KMS_MASTER_KEY")
            .output()
            .expect("the binary runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (code, stdout, stderr) = run(&["--project-id", OTHER_PROJECT]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        report["deleted"],
        json!({"keys": 2, "grants": 1}),
        "{report}"
    );
    assert_eq!(key_ids(app, ERIN).await, Vec::<String>::new());
    assert_eq!(key_ids(app, ALICE).await.len(), 3);
    let (code, _, stderr) = run(&["--project-id", PROJECT, "--domain-id", DOMAIN]);
    assert_eq!(code, 2, "clap refuses two scopes: {stderr}");
    let (code, stdout, stderr) = run(&[]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        report["deleted"],
        json!({"keys": 3, "grants": 2}),
        "{report}"
    );
    let resets = verified_resets(app).await;
    assert_eq!(resets.len(), 2);
    assert_eq!(resets[0]["user_id"], "operator:cli");
}

crate::on_both_backends!(
    resetting_a_project_leaves_other_accounts,
    resetting_an_account_or_domain,
    a_full_reset_keeps_identities_and_frees_aliases,
    bad_reset_requests_are_refused,
    the_command_line_resets_too,
    resets_race_other_writes,
);

/// Resets racing grant creation, revocation and key creation: each write lands before or
/// after the reset (never a 5xx), and the audit trail still verifies.
async fn resets_race_other_writes(app: &TestApp) {
    let mut keys = Vec::new();
    for i in 0..4 {
        keys.push(app.create_key(ALICE, &format!("race-{i}")).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, key_id) in keys.iter().enumerate() {
        let (base, key_id) = (app.base.clone(), key_id.clone());
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            let mut statuses = Vec::new();
            for j in 0..6 {
                let (action, body) = if j % 3 == 2 {
                    (
                        "create-key",
                        json!({"key_alias": format!("race-new-{i}-{j}")}),
                    )
                } else {
                    (
                        "create-grant",
                        json!({"key_id": key_id, "grantee_principal": BOB.id,
                               "operations": ["describe-key"]}),
                    )
                };
                let response = client
                    .post(format!("{base}/v1.0/{PROJECT}/kms/{action}"))
                    .header("x-auth-token", ALICE.token)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap();
                statuses.push(response.status().as_u16());
            }
            statuses
        });
    }
    for _ in 0..3 {
        let reply = reset(app, Some(json!({"project_id": PROJECT}))).await;
        reply.ok();
    }
    while let Some(statuses) = tasks.join_next().await {
        for status in statuses.unwrap() {
            assert!(status < 500, "a write racing a reset answered {status}");
        }
    }
    reset(app, None).await.ok();
    assert_eq!(key_ids(app, ALICE).await, Vec::<String>::new());
    assert_eq!(verified_resets(app).await.len(), 4);
}

/// This machine's address on the interface of its default route, if it has one that is not
/// loopback (no packet is sent).
fn non_loopback_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// A reset over a non-loopback address: refused (403) without `--operator-api`, answered with
/// it. Skipped on a machine with no non-loopback address (the decision itself is unit-tested
/// in `domain::reset`).
async fn remote_peers_need_the_operator_flag(operator_api: bool) {
    let Some(ip) = non_loopback_address() else {
        eprintln!("no non-loopback address: skipped");
        return;
    };
    for backend in [
        crate::helpers::Backend::Sqlite,
        crate::helpers::Backend::Postgres,
    ] {
        let mut remote = TestApp::spawn_with(backend, |config| {
            config.listen = "0.0.0.0:0".parse().unwrap();
            config.operator_api = operator_api;
        })
        .await;
        let port = remote.base.rsplit(':').next().unwrap().to_owned();
        remote.base = format!("http://{ip}:{port}");
        remote.create_key(ALICE, "remote").await;
        let snapshot = remote
            .raw(reqwest::Method::GET, "/_emulator/snapshot", &[], Vec::new())
            .await;
        if operator_api {
            snapshot.ok();
        } else {
            snapshot.error(403, "EMULATOR.0403");
        }
        let reply = reset(&remote, None).await;
        if operator_api {
            assert_eq!(reply.ok()["deleted"]["keys"], 1, "{}", reply.raw);
        } else {
            reply.error(403, "EMULATOR.0403");
            assert_eq!(key_ids(&remote, ALICE).await.len(), 1);
        }
        remote.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_peers_are_refused_without_the_operator_flag() {
    remote_peers_need_the_operator_flag(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_peers_are_answered_with_the_operator_flag() {
    remote_peers_need_the_operator_flag(true).await;
}
