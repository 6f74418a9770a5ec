//! Races between different writes, settled by the database, on two emulator processes
//! sharing one database (PostgreSQL, and SQLite's file): revoke against retire of one
//! grant, create-grant against the revoke of the grant that authorizes it, and the
//! per-key grant limit under concurrent create-grant. The assertions are invariants
//! that hold whatever the interleaving, so a run either proves them or fails.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{ALICE, BOB, Backend, CAROL, ERIN, ServerProcess, TestDb, User};

/// Two processes on one fresh database, and a client.
struct Pair {
    db: TestDb,
    servers: Vec<ServerProcess>,
    bases: Vec<String>,
    client: reqwest::Client,
}

impl Pair {
    async fn start(backend: Backend, flags: &[&str]) -> Self {
        let db = TestDb::create(backend).await;
        let first = ServerProcess::start_with(&db.url(), flags).await;
        let second = ServerProcess::start_with(&db.url(), flags).await;
        let bases = vec![first.base.clone(), second.base.clone()];
        Self {
            db,
            servers: vec![first, second],
            bases,
            client: reqwest::Client::new(),
        }
    }

    /// One call on server `which % 2`: the status and the error code ("" on success) and body.
    async fn call(&self, which: usize, user: User, action: &str, body: Value) -> Outcome {
        let base = &self.bases[which % self.bases.len()];
        let response = self
            .client
            .post(format!("{base}/v1.0/{}/kms/{action}", user.project))
            .header("x-auth-token", user.token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let raw = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
        let code = body["error"]["error_code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Outcome { status, code, body }
    }

    async fn create_key(&self) -> String {
        let reply = self
            .call(
                0,
                ALICE,
                "create-key",
                json!({"key_alias": format!("race-{}", uuid::Uuid::new_v4().simple())}),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body["key_info"]["key_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn create_grant(&self, which: usize, user: User, body: Value) -> String {
        let reply = self.call(which, user, "create-grant", body).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body["grant_id"].as_str().unwrap().to_owned()
    }

    /// The stored grants of a key, as each server lists them (they must agree).
    async fn stored_grants(&self, key_id: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        for which in 0..self.bases.len() {
            let reply = self
                .call(
                    which,
                    ALICE,
                    "list-grants",
                    json!({"key_id": key_id, "limit": 100}),
                )
                .await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            let grants = reply.body["grants"].as_array().unwrap().clone();
            assert_eq!(reply.body["total"], grants.len(), "{:?}", reply.body);
            seen.push(grants);
        }
        assert_eq!(seen[0], seen[1], "both processes read the same database");
        seen.remove(0)
    }

    async fn finish(self) {
        for server in self.servers {
            server.stop().await;
        }
        self.db.drop_database().await;
    }
}

#[derive(Debug, Clone)]
struct Outcome {
    status: u16,
    code: String,
    body: Value,
}

const ROUNDS: usize = 8;

/// Revoke (the key's creator) and retire (the retiring principal) of one grant, four of
/// each at once over both processes: exactly one request deletes it, every other one is
/// told the grant does not exist (400 KMS.2501), and the grant is gone.
async fn revoke_and_retire_of_one_grant(backend: Backend) {
    let pair = Pair::start(backend, &[]).await;
    let key_id = pair.create_key().await;
    let mut won = [0usize; 2];
    for round in 0..ROUNDS {
        let grant_id = pair
            .create_grant(
                round,
                ALICE,
                json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"],
                       "retiring_principal": CAROL.id}),
            )
            .await;
        let body = json!({"key_id": key_id, "grant_id": grant_id});
        let racers = (0..8).map(|i| {
            // Interleaved: revoke, retire, revoke, ... each pair on both servers.
            let (user, action) = if i % 2 == 0 {
                (ALICE, "revoke-grant")
            } else {
                (CAROL, "retire-grant")
            };
            let pair = &pair;
            let body = body.clone();
            async move { (action, pair.call(i / 2 + round, user, action, body).await) }
        });
        let outcomes = join_all(racers).await;
        let winners: Vec<_> = outcomes.iter().filter(|(_, o)| o.status == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        won[usize::from(winners[0].0 == "retire-grant")] += 1;
        for (action, outcome) in &outcomes {
            assert!(
                outcome.status == 200 || (outcome.status == 400 && outcome.code == "KMS.2501"),
                "round {round}: {action} answered {outcome:?}"
            );
        }
        assert!(
            pair.stored_grants(&key_id).await.is_empty(),
            "round {round}"
        );
    }
    eprintln!(
        "{backend:?}: revoke won {} rounds, retire won {} of {ROUNDS}",
        won[0], won[1]
    );
    pair.finish().await;
}

/// Erin, of another account, holds a grant allowing create-grant on alice's key (users of
/// the key's own project need none); she creates grants (to bob) on both servers while
/// alice revokes hers. Every create either succeeds and is stored, or finds the key out of
/// her reach (404 KMS.0207) and is not; none sent after the revoke was acknowledged succeeds.
async fn create_grant_racing_revoke(backend: Backend) {
    let pair = Pair::start(backend, &[]).await;
    let (mut created, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        // A key per round keeps each well under the grant limit and the listing to one page.
        let key_id = pair.create_key().await;
        let mut expected: BTreeSet<String> = BTreeSet::new();
        let authority = pair
            .create_grant(
                round,
                ALICE,
                json!({"key_id": key_id, "grantee_principal": ERIN.id,
                       "operations": ["create-grant", "encrypt-data"]}),
            )
            .await;
        let start = Instant::now();
        // Creates are spread over ~45 ms and the revoke sent at ~15 ms, so some creates
        // overlap it and some are sent only after it was answered.
        let creates = (0..16).map(|i| {
            let pair = &pair;
            let key_id = key_id.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(3 * i as u64)).await;
                let sent = start.elapsed();
                let outcome = pair
                    .call(
                        i,
                        ERIN,
                        "create-grant",
                        json!({"key_id": key_id, "grantee_principal": BOB.id,
                               "operations": ["encrypt-data"], "name": format!("r{round}-{i}")}),
                    )
                    .await;
                (sent, outcome)
            }
        });
        let revoke = async {
            tokio::time::sleep(Duration::from_millis(15)).await;
            let outcome = pair
                .call(
                    round + 1,
                    ALICE,
                    "revoke-grant",
                    json!({"key_id": key_id, "grant_id": authority}),
                )
                .await;
            (start.elapsed(), outcome)
        };
        let (outcomes, (revoked_at, revoke)) = tokio::join!(join_all(creates), revoke);
        assert_eq!(revoke.status, 200, "round {round}: revoke {revoke:?}");
        for (sent, outcome) in &outcomes {
            match (outcome.status, outcome.code.as_str()) {
                (200, _) => {
                    assert!(
                        *sent < revoked_at,
                        "round {round}: a create sent {sent:?} after the revoke was acknowledged \
                         ({revoked_at:?}) succeeded: {outcome:?}"
                    );
                    created += 1;
                    expected.insert(outcome.body["grant_id"].as_str().unwrap().to_owned());
                }
                (404, "KMS.0207") => refused += 1,
                _ => panic!("round {round}: create-grant answered {outcome:?}"),
            }
        }
        let stored: BTreeSet<String> = pair
            .stored_grants(&key_id)
            .await
            .iter()
            .map(|g| g["grant_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            stored, expected,
            "round {round}: stored grants are exactly the acknowledged creates (the revoked one is gone)"
        );
    }
    eprintln!(
        "{backend:?}: {created} creates won against the revoke, {refused} were refused (KMS.0207)"
    );
    pair.finish().await;
}

const LIMIT: usize = 5;

/// With `--max-grants-per-key 5`, 40 simultaneous create-grants over both processes store
/// exactly 5 grants; the other 35 get 400 KMS.2404. Then 2 revokes race 20 more creates:
/// the key never holds more than 5, and what it holds is exactly what was acknowledged.
async fn grant_limit_under_concurrent_creates(backend: Backend) {
    let limit = LIMIT.to_string();
    let pair = Pair::start(backend, &["--max-grants-per-key", &limit]).await;
    let key_id = pair.create_key().await;
    let create = |i: usize| {
        let pair = &pair;
        let key_id = key_id.clone();
        async move {
            pair.call(
                i,
                ALICE,
                "create-grant",
                json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"]}),
            )
            .await
        }
    };
    let outcomes = join_all((0..40).map(create)).await;
    let acknowledged: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status == 200)
        .map(|o| o.body["grant_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(acknowledged.len(), LIMIT, "{outcomes:?}");
    for outcome in outcomes.iter().filter(|o| o.status != 200) {
        assert_eq!(
            (outcome.status, outcome.code.as_str()),
            (400, "KMS.2404"),
            "{outcome:?}"
        );
    }
    let stored = pair.stored_grants(&key_id).await;
    assert_eq!(stored.len(), LIMIT);

    // Two revokes against twenty creates.
    let revokes = acknowledged[..2].iter().enumerate().map(|(i, grant_id)| {
        let pair = &pair;
        let body = json!({"key_id": key_id, "grant_id": grant_id});
        async move { pair.call(i, ALICE, "revoke-grant", body).await }
    });
    let (revoked, created) = tokio::join!(join_all(revokes), join_all((0..20).map(create)));
    for outcome in &revoked {
        assert_eq!(outcome.status, 200, "{outcome:?}");
    }
    let won: BTreeSet<String> = created
        .iter()
        .filter(|o| o.status == 200)
        .map(|o| o.body["grant_id"].as_str().unwrap().to_owned())
        .collect();
    for outcome in created.iter().filter(|o| o.status != 200) {
        assert_eq!(
            (outcome.status, outcome.code.as_str()),
            (400, "KMS.2404"),
            "{outcome:?}"
        );
    }
    let stored: BTreeSet<String> = pair
        .stored_grants(&key_id)
        .await
        .iter()
        .map(|g| g["grant_id"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = acknowledged[2..]
        .iter()
        .cloned()
        .chain(won.clone())
        .collect();
    assert!(won.len() <= 2, "{} creates won two free places", won.len());
    assert!(
        stored.len() <= LIMIT,
        "the key holds {} grants",
        stored.len()
    );
    assert_eq!(stored, expected);
    eprintln!(
        "{backend:?}: 5 of 40 creates stored at the limit; then {} of 20 creates took the 2 places freed by revokes",
        won.len()
    );
    pair.finish().await;
}

macro_rules! on_two_processes {
    ($($name:ident),* $(,)?) => {
        mod postgres_two_processes {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
        mod sqlite_two_processes {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
    };
}

on_two_processes!(
    revoke_and_retire_of_one_grant,
    create_grant_racing_revoke,
    grant_limit_under_concurrent_creates,
);
