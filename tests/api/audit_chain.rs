//! The audit trail's hash chain (issue 15, finding 7): `kms-emulator audit verify` names the
//! first record altered, inserted or deleted behind the service's back, even by its own
//! database role with the triggers dropped; `kms-emulator audit` lists what it can read.

use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{ALICE, DAVE, ERIN, TestApp, TestDb};

const MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// Runs `kms-emulator --database-url URL [FLAGS] audit ARGS` and returns its exit code and stdout.
fn run_audit(app: &TestApp, flags: &[&str], args: &[&str]) -> (i32, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kms-emulator"))
        .args(["--database-url", &app.db.url()])
        .args(flags)
        .arg("audit")
        .args(args)
        .env_remove("KMS_MASTER_KEY")
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// `audit verify`: its exit code and its JSON report.
fn verify(app: &TestApp, flags: &[&str]) -> (i32, Value) {
    let (code, stdout) = run_audit(app, flags, &["verify"]);
    let report = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout:?}"));
    (code, report)
}

#[track_caller]
fn assert_finding(result: (i32, Value), kind: &str, seq: i64) {
    let (code, report) = result;
    assert_eq!(code, 1, "verify must fail: {report}");
    assert_eq!(report["verified"], false, "{report}");
    assert_eq!(report["finding"], kind, "{report}");
    assert_eq!(report["seq"], seq, "{report}");
}

/// Runs one statement on the test database, as the service's own role.
pub(crate) async fn exec(app: &TestApp, statement: &str) -> u64 {
    let statement = sqlx::AssertSqlSafe(statement.to_owned());
    match &app.db {
        TestDb::Sqlite { .. } => {
            let mut conn = sqlx::SqliteConnection::connect(&app.db.url())
                .await
                .unwrap();
            sqlx::query(statement)
                .execute(&mut conn)
                .await
                .unwrap()
                .rows_affected()
        }
        TestDb::Postgres { .. } => {
            let mut conn = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
            sqlx::query(statement)
                .execute(&mut conn)
                .await
                .unwrap()
                .rows_affected()
        }
    }
}

async fn scalar(app: &TestApp, statement: &str) -> i64 {
    let statement = sqlx::AssertSqlSafe(statement.to_owned());
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

/// What an attacker with the service's database role does first.
async fn drop_append_only_triggers(app: &TestApp) {
    match &app.db {
        TestDb::Sqlite { .. } => {
            exec(app, "drop trigger kms_audit_no_update").await;
            exec(app, "drop trigger kms_audit_no_delete").await;
        }
        TestDb::Postgres { .. } => {
            exec(app, "drop trigger kms_audit_append_only on kms_audit").await;
        }
    }
}

/// Five more records: two grants created, one revoked, a denied revoke and a denied use.
/// Returns the seq of every record in the trail.
async fn some_history(app: &TestApp) -> Vec<i64> {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data"]).await;
    app.call(
        DAVE,
        "revoke-grant",
        json!({"key_id": key_id, "grant_id": grant_id}),
    )
    .await
    .error(403, "KMS.0306");
    app.call(
        ERIN,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "x"}),
    )
    .await
    .error(404, "KMS.0207");
    app.call(
        ALICE,
        "revoke-grant",
        json!({"key_id": key_id, "grant_id": grant_id}),
    )
    .await
    .ok();
    let (_, _) = app.key_with_grant(&["decrypt-data"]).await;
    let count = scalar(app, "select count(*) from kms_audit").await;
    assert_eq!(
        scalar(app, "select max(seq) from kms_audit").await,
        count,
        "no gaps"
    );
    (1..=count).collect()
}

async fn an_untouched_trail_verifies(app: &TestApp) {
    let (code, report) = verify(app, &[]);
    assert_eq!(code, 0, "an empty trail verifies: {report}");
    let seqs = some_history(app).await;
    let (code, report) = verify(app, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["verified"], true);
    assert_eq!(report["chained_records"], seqs.len());
    assert_eq!(report["unchained_prefix"], 0);
    assert_eq!(report["head"]["seq"], *seqs.last().unwrap());
    assert!(
        report["key"].as_str().unwrap().starts_with("sha256"),
        "{report}"
    );
}

async fn an_altered_record_is_named(app: &TestApp) {
    let seqs = some_history(app).await;
    drop_append_only_triggers(app).await;
    let target = seqs[2];
    assert_eq!(
        exec(
            app,
            &format!("update kms_audit set detail = 'nothing happened' where seq = {target}")
        )
        .await,
        1
    );
    assert_finding(verify(app, &[]), "altered", target);
}

async fn a_deleted_record_is_named(app: &TestApp) {
    let seqs = some_history(app).await;
    drop_append_only_triggers(app).await;
    let last = *seqs.last().unwrap();
    exec(app, &format!("delete from kms_audit where seq = {last}")).await;
    assert_finding(verify(app, &[]), "missing", last);
    // A later record, written after the deletion, does not paper over it.
    app.key_with_grant(&["encrypt-data"]).await;
    assert_finding(verify(app, &[]), "missing", last);
    let middle = seqs[1];
    exec(app, &format!("delete from kms_audit where seq = {middle}")).await;
    assert_finding(verify(app, &[]), "missing", middle);
}

/// A row forged with the canonical fields of a real event, at the end and in the middle.
async fn an_inserted_record_is_named(app: &TestApp) {
    let seqs = some_history(app).await;
    let forged = *seqs.last().unwrap() + 1;
    exec(
        app,
        &format!(
            "insert into kms_audit (seq, event, occurred_at, request_id, actor_user_id, actor_project_id, key_id, grant_id, detail, chain) \
             select {forged}, event, occurred_at, 'forged-request', actor_user_id, actor_project_id, key_id, grant_id, detail, chain \
             from kms_audit where seq = 1"
        ),
    )
    .await;
    assert_finding(verify(app, &[]), "inserted", forged);
    // The service writes on after it; the forged row stays named.
    app.key_with_grant(&["encrypt-data"]).await;
    assert!(scalar(app, "select max(seq) from kms_audit").await > forged);
    assert_finding(verify(app, &[]), "inserted", forged);
}

/// A row with an event this service does not know: listed as unreadable, the rest as usual.
async fn a_foreign_row_is_listed_as_unreadable(app: &TestApp) {
    let seqs = some_history(app).await;
    let foreign = *seqs.last().unwrap() + 1;
    exec(
        app,
        &format!(
            "insert into kms_audit (seq, event, occurred_at, request_id, actor_user_id, actor_project_id, key_id, detail) \
             values ({foreign}, 'grant-deleted', 0, 'r', 'mallory', 'p', 'k', 'not ours')"
        ),
    )
    .await;
    app.key_with_grant(&["encrypt-data"]).await;
    let (code, stdout) = run_audit(app, &[], &[]);
    assert_eq!(code, 0, "audit lists what it can read: {stdout}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), seqs.len() + 2, "{stdout}");
    let unreadable: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("unreadable").is_some())
        .collect();
    assert_eq!(unreadable.len(), 1, "{stdout}");
    assert_eq!(unreadable[0]["seq"], foreign);
    assert!(
        unreadable[0]["unreadable"]
            .as_str()
            .unwrap()
            .contains("unknown event"),
        "{stdout}"
    );
    assert_eq!(unreadable[0]["row"]["detail"], "not ours");
    assert_eq!(lines.last().unwrap()["event"], "grant-created");
    assert_finding(verify(app, &[]), "inserted", foreign);
}

/// Retention deletes old records and leaves a checkpoint; the rest still verifies.
async fn retention_keeps_the_trail_verifiable(app: &TestApp) {
    let seqs = some_history(app).await;
    let mut config = kms_emulator::Config::with_database(app.db.url());
    config.audit_retention_days = 1;
    let store = kms_emulator::store::connect(&app.db.url(), 2, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    store.set_audit_key(kms_emulator::app::audit_chain_key(None));
    // Two days from now, every record so far is older than a day.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    let pruned = kms_emulator::maintenance::Maintenance::of(&config)
        .round(store.as_ref(), later)
        .await
        .unwrap();
    assert_eq!(pruned.audit_records, seqs.len() as u64);
    assert_eq!(scalar(app, "select count(*) from kms_audit").await, 0);
    let (code, report) = verify(app, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["checkpoint"]["seq"], *seqs.last().unwrap());
    assert_eq!(report["checkpoint"]["pruned_records"], seqs.len());
    app.key_with_grant(&["encrypt-data"]).await;
    let (code, report) = verify(app, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["chained_records"], 1);
    // Rows the checkpoint does not cover are still refused to plain deletes.
    let refused = match &app.db {
        TestDb::Sqlite { .. } => {
            let mut conn = sqlx::SqliteConnection::connect(&app.db.url())
                .await
                .unwrap();
            sqlx::query("delete from kms_audit")
                .execute(&mut conn)
                .await
                .map(|_| ())
        }
        TestDb::Postgres { .. } => {
            let mut conn = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
            sqlx::query("delete from kms_audit")
                .execute(&mut conn)
                .await
                .map(|_| ())
        }
    };
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    // A tampered record is not pruned away: retention refuses and deletes nothing.
    let before = scalar(app, "select count(*) from kms_audit").await;
    drop_append_only_triggers(app).await;
    exec(app, "update kms_audit set detail = 'hidden'").await;
    let result = kms_emulator::maintenance::Maintenance::of(&config)
        .round(store.as_ref(), later + time::Duration::days(1))
        .await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(scalar(app, "select count(*) from kms_audit").await, before);
    store.close().await;
}

/// A database migrated with records already in it: they are the unchained prefix (as
/// migration 0007 leaves them), counted by verify; the chain starts after them.
async fn records_older_than_the_chain_are_counted_not_verified(app: &TestApp) {
    exec(
        app,
        "insert into kms_audit (seq, event, occurred_at, request_id, actor_user_id, actor_project_id, key_id, detail) \
         values (1, 'grant-created', 1, 'r1', 'u', 'p', 'k', 'before the chain'), \
                (2, 'grant-revoked', 2, 'r2', 'u', 'p', 'k', 'before the chain')",
    )
    .await;
    exec(
        app,
        "update kms_audit_chain set start_seq = 2, head_seq = 2",
    )
    .await;
    let seqs = some_history(app).await;
    let (code, report) = verify(app, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["unchained_prefix"], 2);
    assert_eq!(report["chained_records"], seqs.len() - 2);
    assert_eq!(run_audit(app, &[], &[]).1.lines().count(), seqs.len());
}

crate::on_both_backends!(
    records_older_than_the_chain_are_counted_not_verified,
    an_untouched_trail_verifies,
    an_altered_record_is_named,
    a_deleted_record_is_named,
    an_inserted_record_is_named,
    a_foreign_row_is_listed_as_unreadable,
    retention_keeps_the_trail_verifiable,
);

/// With a configured master key the chain is an HMAC: a row forged with a recomputed plain
/// SHA-256 chain (and a matching head) is still caught, and verify needs the key.
mod keyed {
    use super::*;

    async fn a_recomputed_forgery_is_caught_under_the_master_key(app: &TestApp) {
        let seqs = some_history(app).await;
        let (code, report) = verify(app, &["--master-key", MASTER_KEY]);
        assert_eq!(code, 0, "{report}");
        assert!(
            report["key"].as_str().unwrap().starts_with("hmac-sha256"),
            "{report}"
        );
        let (code, report) = verify(app, &[]);
        assert_eq!(code, 1, "without the key nothing verifies");
        assert!(
            report["hint"].as_str().unwrap().contains("--master-key"),
            "{report}"
        );

        // The attacker recomputes a chain value and the head as the plain mode would.
        drop_append_only_triggers(app).await;
        let last = *seqs.last().unwrap();
        let head_chain = {
            let (code, report) = verify(app, &["--master-key", MASTER_KEY]);
            assert_eq!(code, 0);
            report["head"]["chain"].as_str().unwrap().to_owned()
        };
        let forged = kms_emulator::domain::RawAuditRow {
            seq: last + 1,
            event: Some("grant-revoked".into()),
            occurred_at: Some("1".into()),
            request_id: Some("forged".into()),
            actor_user_id: Some(ALICE.id.into()),
            actor_project_id: Some(ALICE.project.into()),
            key_id: Some("k".into()),
            grant_id: None,
            detail: Some("forged".into()),
            chain: None,
        };
        let plain = kms_emulator::domain::ChainKey::Plain;
        let chain = plain.link(&head_chain, &forged);
        exec(
            app,
            &format!(
                "insert into kms_audit (seq, event, occurred_at, request_id, actor_user_id, actor_project_id, key_id, detail, chain) \
                 values ({}, 'grant-revoked', 1, 'forged', '{}', '{}', 'k', 'forged', '{chain}')",
                last + 1,
                ALICE.id,
                ALICE.project
            ),
        )
        .await;
        exec(
            app,
            &format!(
                "update kms_audit_chain set head_seq = {}, head_chain = '{chain}', head_mac = '{}'",
                last + 1,
                plain.head_mac(last + 1, &chain)
            ),
        )
        .await;
        // The head is forged too, so nothing authentic says where the chain ended: the row is
        // named as not verifying (altered or inserted).
        assert_finding(
            verify(app, &["--master-key", MASTER_KEY]),
            "broken",
            last + 1,
        );
    }

    crate::on_both_backends!(
        with_config = |config| config.master_key = Some(crate::audit_chain::MASTER_KEY.into());
        a_recomputed_forgery_is_caught_under_the_master_key,
    );
}
