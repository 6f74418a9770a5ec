//! A test harness that drives the service over HTTP, as a client would, on either backend.

pub mod aws;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use kms_emulator::{App, Config};
use serde_json::Value;
use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::oneshot;

/// Every POST action of the Huawei dialect with no parameter in its path.
pub const ALL_ACTIONS: [&str; 43] = [
    "create-key",
    "describe-key",
    "list-keys",
    "create-grant",
    "list-grants",
    "list-retirable-grants",
    "revoke-grant",
    "retire-grant",
    "enable-key",
    "disable-key",
    "schedule-key-deletion",
    "cancel-key-deletion",
    "encrypt-data",
    "decrypt-data",
    "create-datakey",
    "create-datakey-without-plaintext",
    "create-rsa-datakey-pair",
    "create-ec-datakey-pair",
    "derive-shared-secret",
    "encrypt-datakey",
    "decrypt-datakey",
    "gen-random",
    "sign",
    "verify",
    "get-publickey",
    "generate-mac",
    "verify-mac",
    "update-key-description",
    "enable-key-rotation",
    "disable-key-rotation",
    "update-key-rotation-interval",
    "get-key-rotation-status",
    "rotate-on-demand",
    "re-encrypt",
    "aliases",
    "alias/associate",
    "update-key-alias",
    "get-parameters-for-import",
    "import-key-material",
    "delete-imported-key-material",
    "key-policies",
    "datakey-capsule/create",
    "datakey-capsule/decrypt",
];

/// The Huawei paths with parameters (tags), by method, as the OpenAPI document names them.
pub const PATH_ACTIONS: [(&str, &str); 7] = [
    ("post", "{key_id}/tags"),
    ("get", "{key_id}/tags"),
    ("post", "{key_id}/tags/action"),
    ("delete", "{key_id}/tags/{key}"),
    ("post", "resource_instances/action"),
    ("get", "key-policies/{policy_id}"),
    ("delete", "key-policies/{policy_id}"),
];

pub const PROJECT: &str = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c";
pub const OTHER_PROJECT: &str = "7e1d2c3b4a5f4e6d8c9b0a1f2e3d4c5b";
pub const DOMAIN: &str = "b168fe00ff56492495a7d22974df2d0b";
pub const OTHER_DOMAIN: &str = "c279af11aa67403586b8e33085ae3e1c";

/// A demo identity (see `Identities::demo`).
#[derive(Debug, Clone, Copy)]
pub struct User {
    pub id: &'static str,
    pub token: &'static str,
    pub project: &'static str,
}

/// Creates keys; the key creator: an administrator ("KMS Administrator").
pub const ALICE: User = User {
    id: "a11ce000000000000000000000000001",
    token: "demo-token-alice",
    project: PROJECT,
};
/// The usual grantee: no KMS permission of its own.
pub const BOB: User = User {
    id: "b0b00000000000000000000000000002",
    token: "demo-token-bob",
    project: PROJECT,
};
/// The usual retiring principal: no KMS permission of its own.
pub const CAROL: User = User {
    id: "ca401000000000000000000000000003",
    token: "demo-token-carol",
    project: PROJECT,
};
/// Another user of alice's project, with no role in the grants: read-only.
pub const DAVE: User = User {
    id: "da7e0000000000000000000000000004",
    token: "demo-token-dave",
    project: PROJECT,
};
/// A user of another account and project: its administrator.
pub const ERIN: User = User {
    id: "e4140000000000000000000000000005",
    token: "demo-token-erin",
    project: OTHER_PROJECT,
};
/// Read-only in erin's account.
pub const FRANK: User = User {
    id: "f4a4c000000000000000000000000006",
    token: "demo-token-frank",
    project: OTHER_PROJECT,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// SQLite in the test process's memory (`sqlite:file:NAME?mode=memory&cache=shared`):
    /// the service and the test's own connections share it; another process cannot.
    Memory,
}

/// A database that lives as long as one test.
pub enum TestDb {
    /// A file in `dir`, or (`in_memory`) a database in this process's memory.
    Sqlite {
        dir: PathBuf,
        in_memory: bool,
    },
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite | Backend::Memory => {
                let dir = std::env::temp_dir()
                    .join(format!("kms-test-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).unwrap();
                Self::Sqlite {
                    dir,
                    in_memory: backend == Backend::Memory,
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("kms_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!(
                        "cannot reach PostgreSQL at {admin_url} ({e}). The Postgres half of the suite needs a server: \
                         start one with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
                         (or `docker compose up -d db` with its `ports:` line uncommented, and \
                         DATABASE_URL=postgres://kms:kms@127.0.0.1:5433/kms), \
                         or point DATABASE_URL at one."
                    )
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                Self::Postgres { admin_url, name }
            }
        }
    }

    pub fn url(&self) -> String {
        match self {
            Self::Sqlite {
                dir,
                in_memory: true,
            } => format!(
                "sqlite:file:{}?mode=memory&cache=shared",
                dir.file_name().unwrap().to_string_lossy()
            ),
            Self::Sqlite { dir, .. } => format!("sqlite://{}", dir.join("kms.db").display()),
            Self::Postgres { admin_url, name } => with_database(admin_url, name),
        }
    }

    pub async fn drop_database(&self) {
        match self {
            Self::Sqlite { dir, .. } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Postgres { admin_url, name } => {
                if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "drop database if exists {name} with (force)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            }
        }
    }
}

fn postgres_admin_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The same server URL with another database name.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A reply as a client sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub raw: String,
    pub request_id: Option<String>,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let raw = response.text().await.unwrap();
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Reply {
            status,
            body,
            raw,
            request_id,
        }
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(
            self.status, 200,
            "expected 200, got {}: {}",
            self.status, self.raw
        );
        &self.body
    }

    #[track_caller]
    pub fn error(&self, status: u16, code: &str) {
        assert_eq!(
            self.status, status,
            "expected {status} {code}, got {}: {}",
            self.status, self.raw
        );
        assert_eq!(self.body["error"]["error_code"], code, "{}", self.raw);
        let message = self.body["error"]["error_msg"].as_str().unwrap_or_default();
        assert!(
            message.len() > 10,
            "error message should explain the problem: {}",
            self.raw
        );
        let id = self
            .request_id
            .as_deref()
            .expect("errors carry X-Request-Id");
        assert_eq!(id.len(), 32, "request id {id}");
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            // The tests' logs are for reading while debugging; the writer lives as long as the process.
            std::mem::forget(kms_emulator::telemetry::init(
                kms_emulator::config::LogFormat::Pretty,
            ));
        }
        let db = TestDb::create(backend).await;
        let mut config = Config::with_database(db.url());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.db_max_connections = 8;
        adjust(&mut config);
        let (base, shutdown, server) = start(&config).await;
        Self {
            base,
            client: reqwest::Client::new(),
            db,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// Stops the server gracefully and starts a new one on the same database.
    pub async fn restart(&mut self) {
        self.restart_with(|_| {}).await;
    }

    /// Stops the server gracefully and starts a new one on the same database, configured
    /// by `adjust`.
    pub async fn restart_with(&mut self, adjust: impl FnOnce(&mut Config)) {
        self.stop().await;
        let mut config = Config::with_database(self.db.url());
        config.listen = "127.0.0.1:0".parse().unwrap();
        adjust(&mut config);
        let (base, shutdown, server) = start(&config).await;
        self.base = base;
        self.shutdown = Some(shutdown);
        self.server = Some(server);
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(10), server)
                .await
                .expect("server stops")
                .unwrap();
        }
    }

    pub async fn finish(mut self) {
        self.stop().await;
        self.db.drop_database().await;
    }

    /// `POST /_emulator/clock` with `body` (`{"advance_days": N}`, `{"advance_seconds": N}`,
    /// `{"reset": true}`): moves the emulator's clock, as rotation and expiry tests do.
    pub async fn move_clock(&self, body: serde_json::Value) -> Reply {
        self.raw(
            reqwest::Method::POST,
            "/_emulator/clock",
            &[("content-type", "application/json")],
            body.to_string().into_bytes(),
        )
        .await
    }

    /// Posts a raw body to an action with the given headers.
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::read(request.send().await.expect("the server answers")).await
    }

    pub async fn post(
        &self,
        project: &str,
        action: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Reply {
        let mut headers = vec![("content-type", "application/json;charset=utf-8")];
        if let Some(token) = token {
            headers.push(("x-auth-token", token));
        }
        self.raw(
            reqwest::Method::POST,
            &format!("/v1.0/{project}/kms/{action}"),
            &headers,
            body.to_string().into_bytes(),
        )
        .await
    }

    /// Calls an action as `user`, in the user's own project.
    pub async fn call(&self, user: User, action: &str, body: Value) -> Reply {
        self.post(user.project, action, Some(user.token), &body)
            .await
    }

    pub async fn create_key(&self, user: User, alias: &str) -> String {
        let reply = self
            .call(user, "create-key", serde_json::json!({"key_alias": alias}))
            .await;
        reply.ok()["key_info"]["key_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn create_grant(&self, user: User, body: Value) -> String {
        let reply = self.call(user, "create-grant", body).await;
        reply.ok()["grant_id"].as_str().unwrap().to_owned()
    }

    /// A key of alice's with a grant to bob (`operations`) that names carol as retiring principal.
    pub async fn key_with_grant(&self, operations: &[&str]) -> (String, String) {
        let key_id = self
            .create_key(ALICE, &format!("key-{}", uuid::Uuid::new_v4().simple()))
            .await;
        let grant_id = self
            .create_grant(
                ALICE,
                serde_json::json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": operations,
                                   "retiring_principal": CAROL.id}),
            )
            .await;
        (key_id, grant_id)
    }

    pub async fn grant_ids(&self, key_id: &str) -> Vec<String> {
        let reply = self
            .call(ALICE, "list-grants", serde_json::json!({"key_id": key_id}))
            .await;
        reply.ok()["grants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["grant_id"].as_str().unwrap().to_owned())
            .collect()
    }
}

async fn start(config: &Config) -> (String, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let app = App::build(config).await.expect("the app starts");
    let base = format!("http://{}", app.local_addr());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (base, tx, server)
}

/// The emulator as a separate OS process, as a second server sharing a database.
pub struct ServerProcess {
    pub base: String,
    child: tokio::process::Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ServerProcess {
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[]).await
    }

    /// Starts the binary with more command-line flags, e.g. `["--max-grants-per-key", "5"]`.
    pub async fn start_with(database_url: &str, flags: &[&str]) -> Self {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kms-emulator"));
        command.args(flags);
        Self::spawn(command, database_url).await
    }

    /// Starts the binary with at most `limit` open file descriptors (`ulimit -n`).
    pub async fn start_with_open_files_limit(
        database_url: &str,
        flags: &[&str],
        limit: u32,
    ) -> Self {
        let mut command = tokio::process::Command::new("sh");
        command
            .args(["-c", &format!("ulimit -n {limit} && exec \"$0\" \"$@\"")])
            .arg(env!("CARGO_BIN_EXE_kms-emulator"))
            .args(flags);
        Self::spawn(command, database_url).await
    }

    async fn spawn(mut command: tokio::process::Command, database_url: &str) -> Self {
        let mut child = command
            .args(["--listen", "127.0.0.1:0", "--database-url", database_url])
            .env("RUST_LOG", "warn")
            .env("KMS_LOG_FORMAT", "pretty")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        // Collect the log as it comes, so the child never blocks on a full pipe.
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut log_lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = log_lines.next_line().await {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the server prints its address")
            .unwrap()
            .unwrap_or_else(|| panic!("no banner; log: {}", stderr.lock().unwrap()));
        let base = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            base,
            child,
            stderr,
        }
    }

    /// What the process has logged so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running").to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("exits in time")
            .unwrap()
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// Runs each named `async fn name(app: &TestApp)` once per backend: SQLite file, PostgreSQL
/// and in-memory SQLite, each on a fresh database. With `with_config = |config| ...` first,
/// each server starts with that configuration. Tests that reach the database from another
/// process (the command line, a second server, a restart) use `on_both_backends!`.
#[macro_export]
macro_rules! on_every_backend {
    (with_config = $adjust:expr; $($name:ident),* $(,)?) => {
        $crate::on_both_backends!(with_config = $adjust; $($name),*);
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Memory, $adjust).await;
                    super::$name(&app).await;
                    app.finish().await;
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_every_backend!(with_config = |_| {}; $($name),*);
    };
}

/// Runs each named `async fn name(app: &TestApp)` on the two stores that live outside the
/// process, SQLite file and PostgreSQL, each on a fresh database.
/// With `with_config = |config| ...` first, each server starts with that configuration.
#[macro_export]
macro_rules! on_both_backends {
    (with_config = $adjust:expr; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Sqlite, $adjust).await;
                    super::$name(&app).await;
                    app.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Postgres, $adjust).await;
                    super::$name(&app).await;
                    app.finish().await;
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await;
                    super::$name(&app).await;
                    app.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await;
                    super::$name(&app).await;
                    app.finish().await;
                }
            )*
        }
    };
}

#[test]
fn database_names_are_swapped_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}

/// The audit records of one event on the app's database, oldest first, as
/// `kms-emulator audit --event E` prints them.
pub async fn audit_records(
    app: &TestApp,
    event: kms_emulator::domain::AuditEvent,
) -> Vec<serde_json::Value> {
    let config = Config::with_database(app.db.url());
    let args = kms_emulator::config::AuditArgs {
        action: None,
        key_id: None,
        grant_id: None,
        request_id: None,
        user_id: None,
        event: Some(event),
        limit: 100,
    };
    let mut out = Vec::new();
    kms_emulator::operator::print_audit(&config, &args, &mut out)
        .await
        .unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// A Huawei request with any method and path after `/v1.0/{project}/kms/`, as the user's
/// token client sends it (JSON body, or none).
pub async fn hw(
    app: &TestApp,
    user: User,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    app.raw(
        method,
        &format!("/v1.0/{}/kms/{path}", user.project),
        &[
            ("content-type", "application/json;charset=utf-8"),
            ("x-auth-token", user.token),
        ],
        body,
    )
    .await
}
