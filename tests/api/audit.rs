//! The audit trail: every grant lifecycle event and every denial, with the request ID
//! the client saw, read back through the operator command `kms-emulator audit`.

use serde_json::{Value, json};

use crate::helpers::{ALICE, BOB, CAROL, DAVE, ERIN, TestApp, TestDb};

/// Runs `kms-emulator --database-url URL audit ARGS...` and parses its JSON lines.
fn audit(app: &TestApp, args: &[&str]) -> Vec<Value> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kms-emulator"))
        .args(["--database-url", &app.db.url(), "audit"])
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "audit failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        !stdout.contains("demo-token"),
        "no token in the audit trail: {stdout}"
    );
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

fn events(records: &[Value]) -> Vec<(&str, &str)> {
    records
        .iter()
        .map(|r| {
            (
                r["event"].as_str().unwrap(),
                r["request_id"].as_str().unwrap(),
            )
        })
        .collect()
}

async fn every_lifecycle_event_is_recorded_with_its_request_id(app: &TestApp) {
    let key_id = app.create_key(ALICE, "audited").await;
    let create = app
        .call(
            ALICE,
            "create-grant",
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"],
                   "retiring_principal": CAROL.id}),
        )
        .await;
    let first_grant = create.ok()["grant_id"].as_str().unwrap().to_owned();
    let refused_revoke = app
        .call(
            DAVE,
            "revoke-grant",
            json!({"key_id": key_id, "grant_id": first_grant}),
        )
        .await;
    refused_revoke.error(403, "KMS.0306");
    let refused_use = app
        .call(
            ERIN,
            "encrypt-data",
            json!({"key_id": key_id, "plain_text": "aGVsbG8="}),
        )
        .await;
    refused_use.error(404, "KMS.0207");
    let retire = app
        .call(
            CAROL,
            "retire-grant",
            json!({"key_id": key_id, "grant_id": first_grant}),
        )
        .await;
    retire.ok();
    let second_create = app
        .call(
            ALICE,
            "create-grant",
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["decrypt-data"]}),
        )
        .await;
    let second_grant = second_create.ok()["grant_id"].as_str().unwrap().to_owned();
    let revoke = app
        .call(
            ALICE,
            "revoke-grant",
            json!({"key_id": key_id, "grant_id": second_grant}),
        )
        .await;
    revoke.ok();
    // The loser of a race, or a repeat, finds no grant: not a denial, no record.
    app.call(
        ALICE,
        "revoke-grant",
        json!({"key_id": key_id, "grant_id": second_grant}),
    )
    .await
    .error(400, "KMS.2501");

    let id = |reply: &crate::helpers::Reply| reply.request_id.clone().unwrap();
    let trail = audit(app, &["--key-id", &key_id]);
    let (r1, r2, r3, r4, r5, r6) = (
        id(&create),
        id(&refused_revoke),
        id(&refused_use),
        id(&retire),
        id(&second_create),
        id(&revoke),
    );
    assert_eq!(
        events(&trail),
        vec![
            ("grant-created", r1.as_str()),
            ("revoke-grant-denied", r2.as_str()),
            ("key-use-denied", r3.as_str()),
            ("grant-retired", r4.as_str()),
            ("grant-created", r5.as_str()),
            ("grant-revoked", r6.as_str()),
        ]
    );
    let who: Vec<_> = trail
        .iter()
        .map(|r| r["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        who,
        [ALICE.id, DAVE.id, ERIN.id, CAROL.id, ALICE.id, ALICE.id]
    );
    let grants: Vec<_> = trail.iter().map(|r| r["grant_id"].as_str()).collect();
    assert_eq!(
        grants,
        [
            Some(first_grant.as_str()),
            Some(first_grant.as_str()),
            None,
            Some(first_grant.as_str()),
            Some(second_grant.as_str()),
            Some(second_grant.as_str())
        ]
    );
    assert!(
        trail[0]["detail"].as_str().unwrap().contains(&format!(
            "user {}; operations encrypt-data; retiring principal {}",
            BOB.id, CAROL.id
        )),
        "{}",
        trail[0]
    );
    assert!(
        trail[2]["detail"]
            .as_str()
            .unwrap()
            .starts_with("kms:Encrypt: ")
    );
    for record in &trail {
        assert_eq!(record["key_id"], key_id.as_str());
        assert!(record["occurred_at"].as_str().unwrap().ends_with('Z'));
        assert!(record["seq"].as_i64().unwrap() > 0);
    }

    // Each filter narrows the answer.
    assert_eq!(events(&audit(app, &["--grant-id", &second_grant])).len(), 2);
    assert_eq!(
        events(&audit(app, &["--request-id", &r4])),
        vec![("grant-retired", r4.as_str())]
    );
    assert_eq!(
        events(&audit(
            app,
            &["--event", "key-use-denied", "--key-id", &key_id]
        )),
        vec![("key-use-denied", r3.as_str())]
    );
    assert_eq!(audit(app, &["--user-id", DAVE.id]).len(), 1);
    assert_eq!(audit(app, &["--key-id", &key_id, "--limit", "4"]).len(), 4);
}

async fn the_trail_is_paged_past_one_database_page(app: &TestApp) {
    let key_id = app.create_key(ALICE, "busy").await;
    // Denied uses are cheap to make in bulk; the operator command reads in pages of 1000.
    for _ in 0..(1005 / 15) {
        let batch = (0..15).map(|_| {
            app.call(
                ERIN,
                "encrypt-data",
                json!({"key_id": key_id, "plain_text": "aGVsbG8="}),
            )
        });
        for reply in futures::future::join_all(batch).await {
            reply.error(404, "KMS.0207");
        }
    }
    let trail = audit(app, &["--key-id", &key_id]);
    assert_eq!(trail.len(), 1005);
    let seqs: Vec<i64> = trail.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "oldest first, no repeats"
    );
}

async fn the_database_refuses_to_change_or_delete_audit_records(app: &TestApp) {
    let (_, _) = app.key_with_grant(&["encrypt-data"]).await;
    let statements = [
        "update kms_audit set detail = 'rewritten'",
        "delete from kms_audit",
    ];
    for statement in statements {
        let refused = match &app.db {
            TestDb::Sqlite { .. } => {
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect(&app.db.url())
                    .await
                    .unwrap();
                sqlx::query(statement).execute(&mut conn).await.map(|_| ())
            }
            TestDb::Postgres { .. } => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
                sqlx::query(statement).execute(&mut conn).await.map(|_| ())
            }
        };
        let error = refused.expect_err(statement).to_string();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    let trail = audit(app, &[]);
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0]["event"], "grant-created");
    assert!(
        trail[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("grantee user ")
    );
}

/// The AWS dialect writes the same trail: a Name retry and a DryRun change nothing and
/// leave no record; a refused Encrypt and a retire by grant token do.
async fn the_aws_dialect_is_audited_too(app: &TestApp) {
    use crate::aws::create_key;
    use crate::helpers::aws::{AWS_ALICE, AWS_ERIN, AWS_FRANK, aws};
    let key = create_key(app).await;
    let key_id = key["KeyId"].as_str().unwrap().to_owned();
    let body = json!({"KeyId": key_id, "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Encrypt", "RetireGrant"],
                      "Name": "nightly"});
    let created = aws(app, AWS_ALICE, "CreateGrant", body.clone()).await;
    let token = created.ok()["GrantToken"].as_str().unwrap().to_owned();
    let retried = aws(app, AWS_ALICE, "CreateGrant", body.clone()).await;
    assert_eq!(retried.ok()["GrantId"], created.body["GrantId"]);
    let mut dry = body.clone();
    dry["Name"] = json!("dry");
    dry["DryRun"] = json!(true);
    assert_eq!(
        aws(app, AWS_ALICE, "CreateGrant", dry).await.body["__type"],
        "DryRunOperationException"
    );
    let refused = aws(
        app,
        AWS_FRANK,
        "Encrypt",
        json!({"KeyId": key["Arn"], "Plaintext": "eA=="}),
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.raw);
    let retired = aws(app, AWS_ERIN, "RetireGrant", json!({"GrantToken": token})).await;
    retired.ok();

    let trail = audit(app, &["--key-id", &key_id]);
    let id = |reply: &crate::helpers::Reply| reply.request_id.clone().unwrap();
    let (r1, r2, r3) = (id(&created), id(&refused), id(&retired));
    assert_eq!(
        events(&trail),
        vec![
            ("grant-created", r1.as_str()),
            ("key-use-denied", r2.as_str()),
            ("grant-retired", r3.as_str()),
        ]
    );
    assert_eq!(trail[0]["user_id"], ALICE.id);
    assert_eq!(trail[2]["user_id"], ERIN.id);
    assert_eq!(trail[0]["grant_id"], created.body["GrantId"]);
}

crate::on_both_backends!(
    the_aws_dialect_is_audited_too,
    every_lifecycle_event_is_recorded_with_its_request_id,
    the_trail_is_paged_past_one_database_page,
    the_database_refuses_to_change_or_delete_audit_records,
);
