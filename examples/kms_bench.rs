//! The performance benchmark of issue 6. A benchmark, not a test: it prints a table, writes a
//! JSON report and reports each target as met or not; it fails (exit 1) only when a request
//! fails or the setup breaks.
//!
//! ```sh
//! cargo build --release --bin kms-emulator
//! cargo run --release --example kms_bench -- --size tiny --backend all --json bench/report.json
//! ```
//! or `bench/run.sh [args]`, which also installs moto into `bench/.venv`.
//!
//! It starts the real release binary as a child process on a fresh database per backend,
//! seeds keys and grants through the API (and, for the 1-million-grant scale case, directly
//! with SQL), and drives it over HTTP on loopback, one keep-alive connection per worker.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::process::{Child, Command};

const PROJECT: &str = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c";
const DOMAIN: &str = "b168fe00ff56492495a7d22974df2d0b";
const ALICE_ID: &str = "a11ce000000000000000000000000001";
const BOB_ID: &str = "b0b00000000000000000000000000002";
const CAROL_ID: &str = "ca401000000000000000000000000003";
const DAVE_ID: &str = "da7e0000000000000000000000000004";
/// The demo identities' roles: alice administers KMS (creates keys and grants, revokes);
/// carol holds no KMS permission and retires the grants that name her, which needs none;
/// dave is read-only, which lets him list the grants he may retire.
const ALICE: &str = "demo-token-alice";
const CAROL: &str = "demo-token-carol";
const DAVE: &str = "demo-token-dave";
const CONCURRENCY: [usize; 3] = [1, 16, 64];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Size {
    Tiny,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    /// The in-memory store (`sqlite::memory:`).
    Memory,
    /// SQLite and PostgreSQL.
    Both,
    /// SQLite, the in-memory store and PostgreSQL.
    All,
}

/// Benchmark of kms-emulator against PostgreSQL's own limit (pgbench) and against moto.
#[derive(Parser, Debug)]
struct Args {
    #[arg(long, value_enum, default_value = "tiny")]
    size: Size,
    #[arg(long, value_enum, default_value = "both")]
    backend: BackendArg,
    /// Where to write the JSON report.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The kms-emulator binary; default: $CARGO_TARGET_DIR/release/kms-emulator, else target/release.
    #[arg(long)]
    bin: Option<PathBuf>,
    /// PostgreSQL server to create the benchmark databases on.
    #[arg(
        long,
        env = "BENCH_PG_ADMIN_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg_admin_url: String,
    /// The pgbench script of the revoke transaction.
    #[arg(long, default_value = "bench/revoke.pgbench")]
    pgbench_script: PathBuf,
    /// Python with moto installed (bench/run.sh makes bench/.venv).
    #[arg(long, default_value = "bench/.venv/bin/python")]
    moto_python: PathBuf,
    /// Skip the moto comparison.
    #[arg(long)]
    no_moto: bool,
}

/// The numbers each size uses.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Operations per phase at 1 connection and at 16/64 connections.
    ops_c1: usize,
    ops_cn: usize,
    /// Grants in the store for the two scale points (Postgres).
    scale_small: i64,
    scale_large: i64,
    /// Revokes / list-grants measured at each scale point.
    scale_ops: usize,
    pgbench_secs: u64,
    moto_ops_c1: usize,
    moto_ops_cn: usize,
}

impl Plan {
    fn of(size: Size) -> Self {
        match size {
            Size::Tiny => Self {
                ops_c1: 100,
                ops_cn: 400,
                scale_small: 1_000,
                scale_large: 5_000,
                scale_ops: 200,
                pgbench_secs: 3,
                moto_ops_c1: 50,
                moto_ops_cn: 200,
            },
            Size::Full => Self {
                ops_c1: 2_000,
                ops_cn: 10_000,
                scale_small: 10_000,
                scale_large: 1_000_000,
                scale_ops: 2_000,
                pgbench_secs: 20,
                moto_ops_c1: 300,
                moto_ops_cn: 2_000,
            },
        }
    }

    fn ops(&self, conns: usize) -> usize {
        if conns == 1 { self.ops_c1 } else { self.ops_cn }
    }

    fn moto_ops(&self, conns: usize) -> usize {
        if conns == 1 {
            self.moto_ops_c1
        } else {
            self.moto_ops_cn
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

// ---------------------------------------------------------------- measurement

/// One prepared HTTP call.
#[derive(Clone)]
struct Call {
    url: Arc<str>,
    headers: Arc<[(&'static str, String)]>,
    body: String,
}

#[derive(Debug, Clone, Default)]
struct Stats {
    ops: usize,
    errors: usize,
    error_samples: Vec<String>,
    wall: Duration,
    /// Latencies of successful calls, microseconds, sorted.
    lat_us: Vec<u64>,
}

impl Stats {
    fn throughput(&self) -> f64 {
        (self.ops - self.errors) as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    fn pct_ms(&self, p: f64) -> f64 {
        if self.lat_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.lat_us.len() as f64).ceil() as usize;
        self.lat_us[rank.clamp(1, self.lat_us.len()) - 1] as f64 / 1000.0
    }

    fn to_json(&self) -> Value {
        json!({
            "ops": self.ops,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "wall_secs": self.wall.as_secs_f64(),
            "throughput_per_sec": round2(self.throughput()),
            "p50_ms": round3(self.pct_ms(50.0)),
            "p99_ms": round3(self.pct_ms(99.0)),
            "p999_ms": round3(self.pct_ms(99.9)),
        })
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("reqwest client")
}

/// Runs `calls` on `conns` workers, each with its own keep-alive connection. Returns the
/// statistics and, when `keep` is set, every successful response body by call index.
async fn run_phase(calls: Vec<Call>, conns: usize, keep: bool) -> (Stats, Vec<Option<String>>) {
    let n = calls.len();
    let calls = Arc::new(calls);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..conns.min(n.max(1)) {
        let calls = calls.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let client = client();
            let mut lat = Vec::new();
            let mut errors = Vec::new();
            let mut bodies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= calls.len() {
                    break;
                }
                let call = &calls[i];
                let mut req = client.post(&*call.url).body(call.body.clone());
                for (k, v) in call.headers.iter() {
                    req = req.header(*k, v);
                }
                let t = Instant::now();
                REQUESTS.fetch_add(1, Ordering::Relaxed);
                let outcome = match req.send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        match resp.text().await {
                            Ok(text) if status.is_success() => Ok(text),
                            Ok(text) => Err(format!("HTTP {status}: {}", truncate(&text, 300))),
                            Err(e) => Err(format!("reading body: {e}")),
                        }
                    }
                    Err(e) => Err(format!("transport: {e}")),
                };
                let us = t.elapsed().as_micros() as u64;
                match outcome {
                    Ok(text) => {
                        lat.push(us);
                        if keep {
                            bodies.push((i, text));
                        }
                    }
                    Err(e) => errors.push(e),
                }
            }
            (lat, errors, bodies)
        }));
    }
    let mut stats = Stats {
        ops: n,
        ..Stats::default()
    };
    let mut out = vec![None; if keep { n } else { 0 }];
    for w in workers {
        let (lat, errors, bodies) = w.await.expect("worker panicked");
        stats.lat_us.extend(lat);
        stats.errors += errors.len();
        for e in errors {
            if stats.error_samples.len() < 5 {
                stats.error_samples.push(e);
            }
        }
        for (i, b) in bodies {
            out[i] = Some(b);
        }
    }
    stats.wall = started.elapsed();
    stats.lat_us.sort_unstable();
    (stats, out)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

// ---------------------------------------------------------------- processes

/// A free loopback port: from `KMS_PORT_RANGE` ("LOW-HIGH", for machines where each session
/// owns a range of ports) when it is set, else one the system picks.
fn free_port() -> u16 {
    let range = std::env::var("KMS_PORT_RANGE").ok().and_then(|r| {
        let (low, high) = r.split_once('-')?;
        Some(low.trim().parse::<u16>().ok()?..=high.trim().parse::<u16>().ok()?)
    });
    let candidates: Vec<u16> = match range {
        // Start at a point that differs between calls and processes, so two servers started
        // one after the other do not race for the same port.
        Some(range) => {
            let ports: Vec<u16> = range.collect();
            let start = (std::process::id() as usize
                + NEXT_PORT.fetch_add(1, Ordering::Relaxed) * 7)
                % ports.len().max(1);
            ports[start..]
                .iter()
                .chain(&ports[..start])
                .copied()
                .collect()
        }
        None => vec![0],
    };
    candidates
        .into_iter()
        .find_map(|port| {
            std::net::TcpListener::bind(("127.0.0.1", port))
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .ok()
        })
        .expect("a free loopback port (KMS_PORT_RANGE full?)")
}

static NEXT_PORT: AtomicUsize = AtomicUsize::new(0);

/// Requests sent to our server so far (all phases, seeding included): the denominator of
/// the server's CPU time per request.
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// User + system CPU time of a process (/proc/<pid>/stat, clock ticks of 10 ms). Less
/// noisy than throughput on a shared machine, and it counts the kernel time of thread
/// hand-offs and socket calls that instruction counts of user code miss.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

struct Server {
    child: Child,
    pid: u32,
    base: String,
    peak_rss_kb: Arc<AtomicU64>,
    sampling: Arc<AtomicBool>,
}

impl Server {
    /// Starts the binary and returns once a list-keys, the first KMS request, succeeded,
    /// with the time that took from just before the spawn.
    async fn start(bin: &Path, database_url: &str, log: &Path) -> Result<(Self, Duration)> {
        let port = free_port();
        let log_file = std::fs::File::create(log)?;
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .args(["--max-keys-per-project", "1000000"])
            .args(["--region", REGION])
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id().ok_or("no pid")?;
        let base = format!("http://127.0.0.1:{port}");
        let client = client();
        let list_keys = format!("{base}/v1.0/{PROJECT}/kms/list-keys");
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(format!(
                    "kms-emulator exited with {status} during start-up; see {}",
                    log.display()
                )
                .into());
            }
            // Not /ready first: its body counts every key and grant, which on a database of a
            // million grants is itself tens of milliseconds (measured apart, `ready_ms`).
            let ok = client
                .post(&list_keys)
                .header("X-Auth-Token", ALICE)
                .header("Content-Type", "application/json")
                .body("{}")
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err("kms-emulator not ready after 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let startup = started.elapsed();
        let peak = Arc::new(AtomicU64::new(0));
        let sampling = Arc::new(AtomicBool::new(true));
        {
            let (peak, sampling) = (peak.clone(), sampling.clone());
            tokio::spawn(async move {
                while sampling.load(Ordering::Relaxed) {
                    if let Some(kb) = rss_kb(pid) {
                        peak.fetch_max(kb, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            });
        }
        Ok((
            Self {
                child,
                pid,
                base,
                peak_rss_kb: peak,
                sampling,
            },
            startup,
        ))
    }

    fn call(&self, action: &str, token: &str, body: Value) -> Call {
        Call {
            url: format!("{}/v1.0/{PROJECT}/kms/{action}", self.base).into(),
            headers: vec![
                ("X-Auth-Token", token.to_string()),
                ("Content-Type", "application/json".to_string()),
            ]
            .into(),
            body: body.to_string(),
        }
    }

    async fn stop(mut self) {
        self.sampling.store(false, Ordering::Relaxed);
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

// ---------------------------------------------------------------- the matrix

/// One "dialect" to drive: our Huawei one, or AWS JSON 1.1 (ours or moto's).
trait Dialect {
    fn create_key(&self, i: usize) -> Call;
    fn key_id_of(&self, body: &str) -> Result<String>;
    fn create_grant(&self, key: &str) -> Call;
    fn grant_id_of(&self, body: &str) -> Result<String>;
    fn revoke(&self, key: &str, grant: &str) -> Call;
    fn retire(&self, key: &str, grant: &str) -> Call;
    fn list(&self, key: &str) -> Call;
}

struct Huawei<'a>(&'a Server);

impl Dialect for Huawei<'_> {
    fn create_key(&self, i: usize) -> Call {
        let alias = format!("bench-{i}-{}", uuid::Uuid::new_v4().simple());
        self.0
            .call("create-key", ALICE, json!({ "key_alias": alias }))
    }
    fn key_id_of(&self, body: &str) -> Result<String> {
        let v: Value = serde_json::from_str(body)?;
        Ok(v["key_info"]["key_id"]
            .as_str()
            .ok_or("no key_id")?
            .to_string())
    }
    fn create_grant(&self, key: &str) -> Call {
        self.0.call(
            "create-grant",
            ALICE,
            json!({"key_id": key, "grantee_principal": BOB_ID,
                   "operations": ["encrypt-data", "decrypt-data"],
                   "retiring_principal": CAROL_ID, "name": "bench"}),
        )
    }
    fn grant_id_of(&self, body: &str) -> Result<String> {
        let v: Value = serde_json::from_str(body)?;
        Ok(v["grant_id"].as_str().ok_or("no grant_id")?.to_string())
    }
    fn revoke(&self, key: &str, grant: &str) -> Call {
        self.0.call(
            "revoke-grant",
            ALICE,
            json!({"key_id": key, "grant_id": grant}),
        )
    }
    fn retire(&self, key: &str, grant: &str) -> Call {
        self.0.call(
            "retire-grant",
            CAROL,
            json!({"key_id": key, "grant_id": grant}),
        )
    }
    fn list(&self, key: &str) -> Call {
        self.0
            .call("list-grants", ALICE, json!({"key_id": key, "limit": 20}))
    }
}

/// The AWS JSON 1.1 dialect (`POST /`, `X-Amz-Target: TrentService.<Op>`), sent either to
/// moto or to our own server. Both get the same operations with the same bodies, so the moto
/// ratio compares like with like; only the signature differs. Ours verifies SigV4, so each
/// request is signed for its own body by the library's signer (while the calls are prepared,
/// before the clock of a phase starts); moto checks no signature and gets a fixed one.
struct AwsJson {
    url: Arc<str>,
    /// `host:port` as reqwest sends it in `Host` (part of the signature).
    host: String,
    /// Sign with the demo identities for this region; `None` for moto.
    region: Option<&'static str>,
    /// Numbers the grants' names: AWS CreateGrant is idempotent (a request equal to an
    /// existing grant's returns that grant), and ours implements that, so equal names would
    /// collapse the grants of a key into one.
    grants: AtomicUsize,
}

/// A demo principal's AWS credentials (the built-in identities of src/auth/identities.rs).
#[derive(Clone, Copy)]
struct AwsUser {
    access_key: &'static str,
    secret_key: &'static str,
}

const AWS_ALICE: AwsUser = AwsUser {
    access_key: "DEMOALICEACCESSKEY01",
    secret_key: "demo-alice-secret-key-0000000000000001",
};
const AWS_CAROL: AwsUser = AwsUser {
    access_key: "DEMOCAROLACCESSKEY03",
    secret_key: "demo-carol-secret-key-000000000000003",
};
/// The grantee (another account, as a cross-account grant would be) and the retiring
/// principal, who retires the grants with her own key.
const AWS_GRANTEE_ARN: &str = "arn:aws:iam::444455556666:user/erin";
const AWS_CAROL_ARN: &str = "arn:aws:iam::111122223333:user/carol";
/// The region our server runs with (`--region`); the signatures' scope must match it.
const REGION: &str = "eu-de";

impl AwsJson {
    fn new(base: &str, region: Option<&'static str>) -> Self {
        Self {
            url: format!("{base}/").into(),
            host: base.trim_start_matches("http://").to_string(),
            region,
            grants: AtomicUsize::new(0),
        }
    }

    fn call(&self, who: AwsUser, target: &str, body: Value) -> Call {
        use kms_emulator::auth::sigv4;
        let body = body.to_string();
        let target = format!("TrentService.{target}");
        let content_type = "application/x-amz-json-1.1";
        let mut headers = vec![
            ("X-Amz-Target", target.clone()),
            ("Content-Type", content_type.to_string()),
        ];
        match self.region {
            Some(region) => {
                use axum::http::{HeaderMap, HeaderValue};
                let amz_date = sigv4::format_amz_date(time::OffsetDateTime::now_utc());
                let mut signed = HeaderMap::new();
                let value = |v: &str| HeaderValue::from_str(v).expect("header value");
                signed.insert("content-type", value(content_type));
                signed.insert("x-amz-target", value(&target));
                signed.insert("x-amz-date", value(&amz_date));
                signed.insert("host", value(&self.host));
                let parts = sigv4::RequestParts {
                    method: "POST",
                    path: "/",
                    query: None,
                    headers: &signed,
                    body: body.as_bytes(),
                };
                let authorization =
                    sigv4::authorization_for(who.access_key, who.secret_key, region, &parts)
                        .expect("signing");
                headers.push(("X-Amz-Date", amz_date));
                headers.push(("Authorization", authorization));
            }
            None => headers.push((
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/kms/aws4_request, \
                 SignedHeaders=host, Signature=0"
                    .to_string(),
            )),
        }
        Call {
            url: self.url.clone(),
            headers: headers.into(),
            body,
        }
    }
}

impl Dialect for AwsJson {
    fn create_key(&self, i: usize) -> Call {
        self.call(
            AWS_ALICE,
            "CreateKey",
            json!({ "Description": format!("bench-{i}") }),
        )
    }
    fn key_id_of(&self, body: &str) -> Result<String> {
        let v: Value = serde_json::from_str(body)?;
        Ok(v["KeyMetadata"]["KeyId"]
            .as_str()
            .ok_or("no KeyId")?
            .to_string())
    }
    fn create_grant(&self, key: &str) -> Call {
        self.call(
            AWS_ALICE,
            "CreateGrant",
            json!({"KeyId": key, "GranteePrincipal": AWS_GRANTEE_ARN,
                   "Operations": ["Encrypt", "Decrypt"],
                   "RetiringPrincipal": AWS_CAROL_ARN,
                   "Name": format!("bench-{}", self.grants.fetch_add(1, Ordering::Relaxed))}),
        )
    }
    fn grant_id_of(&self, body: &str) -> Result<String> {
        let v: Value = serde_json::from_str(body)?;
        Ok(v["GrantId"].as_str().ok_or("no GrantId")?.to_string())
    }
    fn revoke(&self, key: &str, grant: &str) -> Call {
        self.call(
            AWS_ALICE,
            "RevokeGrant",
            json!({"KeyId": key, "GrantId": grant}),
        )
    }
    fn retire(&self, key: &str, grant: &str) -> Call {
        self.call(
            AWS_CAROL,
            "RetireGrant",
            json!({"KeyId": key, "GrantId": grant}),
        )
    }
    fn list(&self, key: &str) -> Call {
        self.call(AWS_ALICE, "ListGrants", json!({"KeyId": key, "Limit": 20}))
    }
}

/// A row of the results table.
#[derive(Debug, Clone)]
struct Row {
    system: String,
    op: String,
    conns: usize,
    stats: Stats,
}

impl Row {
    fn to_json(&self) -> Value {
        let mut v = self.stats.to_json();
        v["system"] = json!(self.system);
        v["op"] = json!(self.op);
        v["conns"] = json!(self.conns);
        v
    }
}

async fn create_keys(d: &dyn Dialect, n: usize, conns: usize) -> Result<Vec<String>> {
    let calls = (0..n).map(|i| d.create_key(i)).collect();
    let (stats, bodies) = run_phase(calls, conns, true).await;
    if stats.errors > 0 {
        return Err(format!("create-key failed: {:?}", stats.error_samples).into());
    }
    bodies
        .iter()
        .map(|b| d.key_id_of(b.as_deref().unwrap_or("")))
        .collect()
}

/// create-grant, list-grants, revoke-grant and retire-grant at each concurrency. Per level:
/// fresh keys (at most 100 grants each, ≥ 2 keys per worker), `2 × ops` grants created
/// (the create-grant figure), `ops` list-grants (limit 20), then half of the new grants
/// revoked by the key's creator and the other half retired by their retiring principal.
async fn matrix(
    system: &str,
    d: &dyn Dialect,
    ops_for: impl Fn(usize) -> usize,
    rows: &mut Vec<Row>,
) -> Result<()> {
    for conns in CONCURRENCY {
        let ops = ops_for(conns);
        let grants = 2 * ops;
        let nkeys = grants.div_ceil(100).max(2 * conns);
        let keys = create_keys(d, nkeys, 16).await?;
        let calls = (0..grants)
            .map(|j| d.create_grant(&keys[j % nkeys]))
            .collect();
        let (stats, bodies) = run_phase(calls, conns, true).await;
        let mut made = Vec::new();
        for (j, b) in bodies.iter().enumerate() {
            if let Some(b) = b {
                made.push((keys[j % nkeys].clone(), d.grant_id_of(b)?));
            }
        }
        push(rows, system, "create-grant", conns, stats);

        let calls = (0..ops).map(|j| d.list(&keys[j % nkeys])).collect();
        push(
            rows,
            system,
            "list-grants",
            conns,
            run_phase(calls, conns, false).await.0,
        );

        let half = made.len() / 2;
        let calls = made[..half].iter().map(|(k, g)| d.revoke(k, g)).collect();
        push(
            rows,
            system,
            "revoke-grant",
            conns,
            run_phase(calls, conns, false).await.0,
        );
        let calls = made[half..].iter().map(|(k, g)| d.retire(k, g)).collect();
        push(
            rows,
            system,
            "retire-grant",
            conns,
            run_phase(calls, conns, false).await.0,
        );
    }
    Ok(())
}

fn push(rows: &mut Vec<Row>, system: &str, op: &str, conns: usize, stats: Stats) {
    let row = Row {
        system: system.to_string(),
        op: op.to_string(),
        conns,
        stats,
    };
    print_row(&row);
    rows.push(row);
}

fn print_header() {
    println!(
        "{:<13} {:<22} {:>5} {:>7} {:>6} {:>10} {:>9} {:>9} {:>9}",
        "system", "operation", "conns", "ops", "errors", "req/s", "p50 ms", "p99 ms", "p99.9 ms"
    );
}

fn print_row(r: &Row) {
    let s = &r.stats;
    println!(
        "{:<13} {:<22} {:>5} {:>7} {:>6} {:>10.0} {:>9.2} {:>9.2} {:>9.2}",
        r.system,
        r.op,
        r.conns,
        s.ops,
        s.errors,
        s.throughput(),
        s.pct_ms(50.0),
        s.pct_ms(99.0),
        s.pct_ms(99.9)
    );
    for e in &s.error_samples {
        println!("    error: {e}");
    }
}

/// list-grants (no limit: the whole page) on a key holding the maximum of 100 grants.
async fn list_full_key(
    system: &str,
    server: &Server,
    plan: &Plan,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let d = Huawei(server);
    let key = create_keys(&d, 1, 1).await?.remove(0);
    let calls = (0..100).map(|_| d.create_grant(&key)).collect();
    let (stats, _) = run_phase(calls, 4, false).await;
    if stats.errors > 0 {
        return Err(format!("seeding the full key: {:?}", stats.error_samples).into());
    }
    for conns in [1, 16] {
        let calls = (0..plan.ops(conns) / 2)
            .map(|_| server.call("list-grants", ALICE, json!({ "key_id": key })))
            .collect();
        push(
            rows,
            system,
            "list-grants@100/key",
            conns,
            run_phase(calls, conns, false).await.0,
        );
    }
    Ok(())
}

// ---------------------------------------------------------------- Postgres scale and pgbench

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

/// A connection to the server's database from outside the server, for the scale points: the
/// benchmark seeds grants with SQL behind the server's back (a million through the API would
/// take longer than the rest of the run).
enum ScaleDb {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

impl ScaleDb {
    /// Adds grants `from..=to` on keys `i / 100`, so every key holds 100 grants. On PostgreSQL
    /// the ids are derived from the number as bench/revoke.pgbench expects.
    async fn seed(&self, from: i64, to: i64) -> Result<()> {
        let now = 1_700_000_000_000_i64;
        // The same values for both backends' statements, which differ only in how they make
        // ids: $1 project, $2 domain, $3 creator, $4 date, $5..$6 key numbers, $7 region.
        macro_rules! seed_keys {
            ($sql:expr) => {
                sqlx::query($sql)
                    .bind(PROJECT)
                    .bind(DOMAIN)
                    .bind(ALICE_ID)
                    .bind(now)
                    .bind(from / 100)
                    .bind(to / 100)
                    // The server's region: keys seeded behind its back are placed there, as it
                    // places its own.
                    .bind(REGION)
            };
        }
        // $1 grantee, $2 issuer, $3 retiring principal, $4 date, $5..$6 grant numbers.
        macro_rules! seed_grants {
            ($sql:expr) => {
                sqlx::query($sql)
                    .bind(BOB_ID)
                    .bind(ALICE_ID)
                    .bind(DAVE_ID)
                    .bind(now)
                    .bind(from)
                    .bind(to)
            };
        }
        match self {
            Self::Postgres(pool) => {
                seed_keys!(
                    "insert into kms_key (key_id, project_id, domain_id, region, creator_user_id, key_alias, \
                     key_description, key_spec, key_usage, origin, key_state, creation_date, key_material) \
                     select md5('k' || k)::uuid::text, $1, $2, $7, $3, 'scale-' || k, '', 'AES_256', \
                     'ENCRYPT_DECRYPT', 'kms', 2, $4, \
                     (select key_material from kms_key where key_material is not null limit 1) \
                     from generate_series($5::bigint, $6::bigint) k on conflict do nothing"
                )
                .execute(pool)
                .await?;
                seed_grants!(
                    "insert into kms_grant (grant_id, key_id, grantee_principal, grantee_principal_type, \
                     operations, issuing_principal, retiring_principal, name, creation_date) \
                     select md5('g' || i) || md5('h' || i), md5('k' || (i / 100))::uuid::text, $1, 'user', \
                     'encrypt-data,decrypt-data', $2, $3, 'scale', $4 \
                     from generate_series($5::bigint, $6::bigint) i"
                )
                .execute(pool)
                .await?;
                sqlx::query("analyze kms_grant").execute(pool).await?;
                sqlx::query("analyze kms_key").execute(pool).await?;
            }
            Self::Sqlite(pool) => {
                // SQLite has no md5(): ids are the number in hexadecimal, in the same formats.
                // One transaction, so the server's writer waits for it once, not per row.
                let mut tx = pool.begin().await?;
                seed_keys!(
                    "with recursive k(i) as (select $5 union all select i + 1 from k where i < $6) \
                     insert into kms_key (key_id, project_id, domain_id, region, creator_user_id, key_alias, \
                     key_description, key_spec, key_usage, origin, key_state, creation_date, key_material) \
                     select printf('%08x-0000-4000-8000-%012x', i, i), $1, $2, $7, $3, 'scale-' || i, '', \
                     'AES_256', 'ENCRYPT_DECRYPT', 'kms', 2, $4, \
                     (select key_material from kms_key where key_material is not null limit 1) \
                     from k where true on conflict do nothing"
                )
                .execute(&mut *tx)
                .await?;
                seed_grants!(
                    "with recursive g(i) as (select $5 union all select i + 1 from g where i < $6) \
                     insert into kms_grant (grant_id, key_id, grantee_principal, grantee_principal_type, \
                     operations, issuing_principal, retiring_principal, name, creation_date) \
                     select printf('%064x', i), printf('%08x-0000-4000-8000-%012x', i / 100, i / 100), \
                     $1, 'user', 'encrypt-data,decrypt-data', $2, $3, 'scale', $4 from g"
                )
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                sqlx::query("analyze").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Writes out what the bulk insert left dirty, so it is not written during a measurement.
    async fn checkpoint(&self) -> Result<()> {
        match self {
            Self::Postgres(pool) => sqlx::query("checkpoint").execute(pool).await.map(drop)?,
            Self::Sqlite(pool) => sqlx::query("pragma wal_checkpoint(truncate)")
                .execute(pool)
                .await
                .map(drop)?,
        }
        Ok(())
    }

    /// `n` seeded grants, (key, grant), in random order.
    async fn sample(&self, n: usize) -> Result<Vec<(String, String)>> {
        let query = "select key_id, grant_id from kms_grant where name = 'scale' order by random() limit $1";
        Ok(match self {
            Self::Postgres(pool) => sqlx::query_as(query).bind(n as i64).fetch_all(pool).await?,
            Self::Sqlite(pool) => sqlx::query_as(query).bind(n as i64).fetch_all(pool).await?,
        })
    }

    async fn close(self) {
        match self {
            Self::Postgres(pool) => pool.close().await,
            Self::Sqlite(pool) => pool.close().await,
        }
    }
}

/// Revoke (1 and 16 connections) and list-grants (1 connection) with `total` grants in the store.
async fn scale_point(
    server: &Server,
    db: &ScaleDb,
    system: &str,
    plan: &Plan,
    rows: &mut Vec<Row>,
) -> Result<()> {
    // Both points start alike: after the bulk insert is checkpointed (its dirty pages would
    // otherwise be written during the measurement) and after a warm-up of revokes.
    db.checkpoint().await?;
    let warmup = plan.scale_ops / 4;
    let targets = db.sample(2 * plan.scale_ops + warmup).await?;
    let (warm, targets) = targets.split_at(warmup.min(targets.len()));
    let calls = warm
        .iter()
        .map(|(k, g)| server.call("revoke-grant", ALICE, json!({"key_id": k, "grant_id": g})))
        .collect();
    let (stats, _) = run_phase(calls, 4, false).await;
    if stats.errors > 0 {
        return Err(format!("warm-up revokes failed: {:?}", stats.error_samples).into());
    }
    let (one, sixteen) = targets.split_at(targets.len() / 2);
    for (conns, set) in [(1, one), (16, sixteen)] {
        let calls = set
            .iter()
            .map(|(k, g)| server.call("revoke-grant", ALICE, json!({"key_id": k, "grant_id": g})))
            .collect();
        push(
            rows,
            system,
            "revoke-grant",
            conns,
            run_phase(calls, conns, false).await.0,
        );
    }
    let calls = one
        .iter()
        .map(|(k, _)| server.call("list-grants", ALICE, json!({"key_id": k, "limit": 20})))
        .collect();
    push(
        rows,
        system,
        "list-grants",
        1,
        run_phase(calls, 1, false).await.0,
    );
    // Information only: dave is the retiring principal of every grant seeded by SQL (carol,
    // that of the grants made through the API, may retire but not list: no KMS permission).
    let calls = (0..20)
        .map(|_| server.call("list-retirable-grants", DAVE, json!({"limit": 20})))
        .collect();
    push(
        rows,
        system,
        "list-retirable-grants",
        1,
        run_phase(calls, 1, false).await.0,
    );
    Ok(())
}

#[derive(Debug, Default)]
struct PgbenchResult {
    tps: f64,
    latency_ms: f64,
    failed: u64,
    output: String,
}

fn pgbench(db_url: &str, script: &Path, secs: u64, grants: i64) -> Result<PgbenchResult> {
    let out = std::process::Command::new("pgbench")
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            "16",
            "-j",
            "2",
            "-T",
            &secs.to_string(),
        ])
        .args(["-D", &format!("n={grants}")])
        .arg("-f")
        .arg(script)
        .arg(db_url)
        .output()
        .map_err(|e| format!("cannot run pgbench: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("pgbench failed: {text}").into());
    }
    let num_after = |prefix: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split('=').nth(1))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    Ok(PgbenchResult {
        tps: num_after("tps").ok_or("no tps in pgbench output")?,
        latency_ms: num_after("latency average").unwrap_or(f64::NAN),
        failed: text
            .lines()
            .find(|l| l.starts_with("number of failed transactions"))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        output: text,
    })
}

/// The revoke transaction straight against SQLite, with the service's durability setting
/// (bench/sqlite_revoke.py: Python's sqlite3, one connection, a fresh file in `work`).
fn sqlite_reference(work: &Path, secs: u64, grants: i64) -> Result<Value> {
    let out = std::process::Command::new("python3")
        .arg("bench/sqlite_revoke.py")
        .arg("--db")
        .arg(work.join("sqlite-reference.db"))
        .args([
            "--secs",
            &secs.to_string(),
            "--grants",
            &grants.min(200_000).to_string(),
        ])
        .args(["--synchronous", "NORMAL"])
        .output()
        .map_err(|e| format!("cannot run python3 bench/sqlite_revoke.py: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "bench/sqlite_revoke.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

// ---------------------------------------------------------------- per backend

#[derive(Debug, Default)]
struct BackendReport {
    /// PostgreSQL's setting on connections made with the benchmark's URL.
    synchronous_commit: Option<String>,
    /// The server's CPU time and the requests it served, start to the end of the load.
    cpu: Duration,
    requests: u64,
    startup_fresh: Duration,
    startup_restart: Duration,
    /// One GET /ready just after the restart on the existing database.
    ready_after_restart: Duration,
    idle_rss_kb: u64,
    load_rss_kb: u64,
    pgbench: Option<PgbenchResult>,
    /// SQLite's own limit for the revoke transaction (bench/sqlite_revoke.py), as JSON.
    sqlite_reference: Option<Value>,
    /// Grants in the store at the two scale points.
    scale: Option<(i64, i64)>,
}

impl BackendReport {
    fn cpu_us_per_request(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.requests.max(1) as f64
    }
}

async fn run_backend(
    name: &str,
    args: &Args,
    plan: &Plan,
    bin: &Path,
    work: &Path,
    rows: &mut Vec<Row>,
) -> Result<BackendReport> {
    let mut report = BackendReport::default();
    let (url, pg) = match name {
        "sqlite" => (
            format!("sqlite://{}", work.join("bench.db").display()),
            None,
        ),
        // The in-memory store: nothing outside the server's process reaches it, so it has no
        // scale points and no reference row.
        "memory" => ("sqlite::memory:".to_string(), None),
        _ => {
            let db = format!("kms_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&args.pg_admin_url)
                .await
                .map_err(|e| format!("PostgreSQL at {} ({e})", args.pg_admin_url))?;
            sqlx::query(sqlx::AssertSqlSafe(format!("create database {db}")))
                .execute(&mut admin)
                .await?;
            (with_database(&args.pg_admin_url, &db), Some(db))
        }
    };
    let result = async {
        let log = work.join(format!("server-{name}.log"));
        let requests_before = REQUESTS.load(Ordering::Relaxed);
        let (server, startup) = Server::start(bin, &url, &log).await?;
        report.startup_fresh = startup;
        tokio::time::sleep(Duration::from_millis(200)).await;
        report.idle_rss_kb = rss_kb(server.pid).unwrap_or(0);
        println!(
            "\n[{name}] start-up to first served request (fresh database): {:.1} ms, idle RSS {:.1} MB",
            startup.as_secs_f64() * 1e3,
            report.idle_rss_kb as f64 / 1024.0
        );
        print_header();
        matrix(name, &Huawei(&server), |c| plan.ops(c), rows).await?;
        // The AWS dialect with moto's operation counts: the rows the moto ratio is taken from.
        let aws = AwsJson::new(&server.base, Some(REGION));
        matrix(&format!("{name} aws"), &aws, |c| plan.moto_ops(c), rows).await?;
        list_full_key(name, &server, plan, rows).await?;
        let scale_db = match name {
            "postgres" => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .connect(&url)
                    .await?;
                // The server's connections get the same URL: options in it, e.g.
                // ?options=-c%20synchronous_commit%3Doff, apply to them, to pgbench and to this one.
                let (sync_commit,): (String,) = sqlx::query_as("show synchronous_commit")
                    .fetch_one(&pool)
                    .await?;
                println!("  (PostgreSQL synchronous_commit = {sync_commit} on the benchmark's connections)");
                report.synchronous_commit = Some(sync_commit);
                Some(ScaleDb::Postgres(pool))
            }
            "sqlite" => Some(ScaleDb::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(
                        url.parse::<sqlx::sqlite::SqliteConnectOptions>()?
                            .busy_timeout(Duration::from_secs(60)),
                    )
                    .await?,
            )),
            _ => None,
        };
        if let Some(db) = scale_db {
            let small = plan.scale_small;
            let large = plan.scale_large;
            let t = Instant::now();
            db.seed(1, small).await?;
            println!("  (seeded {small} grants by SQL in {:.1} s)", t.elapsed().as_secs_f64());
            scale_point(&server, &db, &format!("{name} {}", short(small)), plan, rows).await?;
            let t = Instant::now();
            db.seed(small + 1, large).await?;
            println!(
                "  (seeded up to {large} grants by SQL in {:.1} s)",
                t.elapsed().as_secs_f64()
            );
            scale_point(&server, &db, &format!("{name} {}", short(large)), plan, rows).await?;
            report.scale = Some((small, large));
            db.close().await;
        }
        report.load_rss_kb = server.peak_rss_kb.load(Ordering::Relaxed);
        report.cpu = cpu_time(server.pid).unwrap_or_default();
        report.requests = REQUESTS.load(Ordering::Relaxed) - requests_before;
        server.stop().await;
        match name {
            "postgres" => {
                let large = plan.scale_large;
                let pb = pgbench(&url, &args.pgbench_script, plan.pgbench_secs, large)?;
                println!(
                    "pgbench revoke transaction, 16 clients, {} s on {large} grants: {:.0} tps, latency avg {:.2} ms, {} failed",
                    plan.pgbench_secs, pb.tps, pb.latency_ms, pb.failed
                );
                report.pgbench = Some(pb);
            }
            "sqlite" => {
                let reference = sqlite_reference(work, plan.pgbench_secs, plan.scale_large)?;
                println!(
                    "sqlite3 revoke transaction, 1 connection, {} s on {} grants (synchronous=NORMAL, WAL, {}): {} tps",
                    plan.pgbench_secs, plan.scale_large, reference["driver"].as_str().unwrap_or("?"), reference["tps"]
                );
                report.sqlite_reference = Some(reference);
            }
            _ => {}
        }
        let (server, startup) =
            Server::start(bin, &url, &work.join(format!("server-{name}-2.log"))).await?;
        report.startup_restart = startup;
        let t = Instant::now();
        let ready = client()
            .get(format!("{}/ready", server.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        report.ready_after_restart = t.elapsed();
        if !ready {
            return Err("GET /ready failed after the restart".into());
        }
        server.stop().await;
        println!(
            "[{name}] peak RSS under load {:.1} MB; start-up on the existing database {:.1} ms; \
             server CPU {:.1} s for {} requests ({:.0} us per request)",
            report.load_rss_kb as f64 / 1024.0,
            startup.as_secs_f64() * 1e3,
            report.cpu.as_secs_f64(),
            report.requests,
            report.cpu_us_per_request()
        );
        Ok::<_, BoxError>(())
    }
    .await;
    if let Some(db) = pg
        && let Ok(mut admin) = sqlx::PgConnection::connect(&args.pg_admin_url).await
    {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop database if exists {db} with (force)"
        )))
        .execute(&mut admin)
        .await;
    }
    result.map(|()| report)
}

fn short(n: i64) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

// ---------------------------------------------------------------- moto

async fn run_moto(args: &Args, plan: &Plan, work: &Path, rows: &mut Vec<Row>) -> Result<()> {
    if !args.moto_python.exists() {
        return Err(format!(
            "{} not found (bench/run.sh installs moto into bench/.venv)",
            args.moto_python.display()
        )
        .into());
    }
    let port = free_port();
    let log = std::fs::File::create(work.join("moto.log"))?;
    let mut child = Command::new(&args.moto_python)
        .args(["-m", "moto.server", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()?;
    let moto = AwsJson::new(&format!("http://127.0.0.1:{port}"), None);
    let started = Instant::now();
    let probe = client();
    loop {
        // A cheap call that proves the KMS backend answers.
        let mut req = probe.post(&*moto.url).body("{}");
        for (k, v) in moto.call(AWS_ALICE, "ListKeys", json!({})).headers.iter() {
            req = req.header(*k, v);
        }
        if req.send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("moto exited with {status}").into());
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err("moto not ready after 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "\n[moto] server up in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    print_header();
    let result = matrix("moto", &moto, |c| plan.moto_ops(c), rows).await;
    let _ = child.kill().await;
    result
}

// ---------------------------------------------------------------- targets and report

fn find(rows: &[Row], system: &str, op: &str, conns: usize) -> Option<Stats> {
    rows.iter()
        .find(|r| r.system == system && r.op == op && r.conns == conns)
        .map(|r| r.stats.clone())
}

struct Target {
    name: String,
    met: Option<bool>,
    figure: String,
}

/// The grant operations every per-operation target covers.
const GRANT_OPS: [&str; 4] = [
    "create-grant",
    "list-grants",
    "revoke-grant",
    "retire-grant",
];

/// Issue 14's targets (and issue 6's that still stand), per backend: `Some(met)` where the
/// issue sets a bound for that backend, `None` (information) where it does not.
fn targets(rows: &[Row], backends: &BTreeMap<String, BackendReport>) -> Vec<Target> {
    let mut out = Vec::new();
    let mut add =
        |name: String, met: Option<bool>, figure: String| out.push(Target { name, met, figure });
    for (name, b) in backends {
        let name = name.as_str();
        let bounded = |bound: Option<f64>, value: f64, below: bool| {
            bound.map(|bound| {
                if below {
                    value <= bound
                } else {
                    value >= bound
                }
            })
        };
        let bound_text = |bound: Option<f64>, unit: &str| {
            bound.map_or(" (information)".to_string(), |v| {
                format!(" (target {v}{unit})")
            })
        };
        if let (Some(pb), Some(ours)) = (&b.pgbench, find(rows, name, "revoke-grant", 16)) {
            let ratio = ours.throughput() / pb.tps;
            add(
                format!("{name}: revoke at 16 connections >= 60% of pgbench"),
                Some(ratio >= 0.6),
                format!(
                    "{:.0}% ({:.0} / {:.0} tps)",
                    ratio * 100.0,
                    ours.throughput(),
                    pb.tps
                ),
            );
        }
        if let (Some(reference), Some(ours)) = (
            b.sqlite_reference.as_ref(),
            find(rows, name, "revoke-grant", 16),
        ) {
            let tps = reference["tps"].as_f64().unwrap_or(f64::NAN);
            let ratio = ours.throughput() / tps;
            add(
                format!("{name}: revoke at 16 connections >= 70% of SQLite's own limit"),
                Some(ratio >= 0.7),
                format!(
                    "{:.0}% ({:.0} req/s / {tps:.0} tx/s)",
                    ratio * 100.0,
                    ours.throughput()
                ),
            );
        }
        if name != "postgres" {
            for op in GRANT_OPS {
                if let (Some(one), Some(c16), Some(c64)) = (
                    find(rows, name, op, 1),
                    find(rows, name, op, 16),
                    find(rows, name, op, 64),
                ) {
                    let base = one.throughput();
                    add(
                        format!("{name}: {op} at 16 and 64 connections >= at 1"),
                        (name == "sqlite")
                            .then_some(c16.throughput() >= base && c64.throughput() >= base),
                        format!(
                            "{:.0} / {:.0} / {:.0} req/s at 1 / 16 / 64",
                            base,
                            c16.throughput(),
                            c64.throughput()
                        ),
                    );
                }
            }
        }
        let p99_bound = match name {
            "sqlite" => Some(5.0),
            "postgres" => Some(10.0),
            _ => None,
        };
        let mut worst: Option<(&str, f64)> = None;
        for op in GRANT_OPS {
            if let Some(s) = find(rows, name, op, 16) {
                let p99 = s.pct_ms(99.0);
                if worst.is_none_or(|(_, w)| p99 > w) {
                    worst = Some((op, p99));
                }
            }
        }
        if let Some((op, p99)) = worst {
            add(
                format!("{name}: p99 at 16 connections, every grant operation"),
                bounded(p99_bound, p99, true),
                format!("worst {p99:.2} ms ({op}){}", bound_text(p99_bound, " ms")),
            );
        }
        let cpu_bound = match name {
            "sqlite" => Some(150.0),
            "postgres" => Some(120.0),
            _ => None,
        };
        let cpu = b.cpu_us_per_request();
        add(
            format!("{name}: server CPU per request, whole run"),
            bounded(cpu_bound, cpu, true),
            format!(
                "{cpu:.0} us ({:.1} s for {} requests){}",
                b.cpu.as_secs_f64(),
                b.requests,
                bound_text(cpu_bound, " us")
            ),
        );
        if rows.iter().any(|r| r.system == "moto") {
            let moto_bound = match name {
                "sqlite" => Some(10.0),
                "memory" => Some(20.0),
                _ => None,
            };
            let mut lowest: Option<(String, f64)> = None;
            for op in GRANT_OPS {
                for c in CONCURRENCY {
                    let ours = find(rows, &format!("{name} aws"), op, c);
                    if let (Some(o), Some(m)) = (ours, find(rows, "moto", op, c)) {
                        let r = o.throughput() / m.throughput();
                        if lowest.as_ref().is_none_or(|(_, l)| r < *l) {
                            lowest = Some((format!("{op} at {c}"), r));
                        }
                    }
                }
            }
            if let Some((at, r)) = lowest {
                add(
                    format!("{name}: moto's throughput times, AWS dialect, lowest"),
                    bounded(moto_bound, r, false),
                    format!("{r:.1}x ({at}){}", bound_text(moto_bound, "x")),
                );
            }
        }
        if let Some((small, large)) = b.scale {
            for (op, conns) in [
                ("revoke-grant", 1),
                ("list-grants", 1),
                ("revoke-grant", 16),
            ] {
                let s = find(rows, &format!("{name} {}", short(small)), op, conns);
                let l = find(rows, &format!("{name} {}", short(large)), op, conns);
                if let (Some(s), Some(l)) = (s, l) {
                    let ratio = l.pct_ms(50.0) / s.pct_ms(50.0);
                    add(
                        format!(
                            "{name}: {op} p50 at {} grants within 1.3x of {} ({conns} conn)",
                            short(large),
                            short(small)
                        ),
                        (conns == 1).then_some(ratio <= 1.3),
                        format!(
                            "{ratio:.2}x ({:.2} vs {:.2} ms; p99 {:.2} vs {:.2} ms; {:.0} vs {:.0} req/s)",
                            l.pct_ms(50.0),
                            s.pct_ms(50.0),
                            l.pct_ms(99.0),
                            s.pct_ms(99.0),
                            l.throughput(),
                            s.throughput()
                        ),
                    );
                }
            }
        }
        let fresh = b.startup_fresh.as_secs_f64() * 1e3;
        let existing = b.startup_restart.as_secs_f64() * 1e3;
        add(
            format!("{name}: start-up to the first served request, existing database"),
            (name == "sqlite").then_some(existing <= 20.0),
            format!(
                "{existing:.1} ms ({fresh:.1} ms on a fresh one){}",
                bound_text((name == "sqlite").then_some(20.0), " ms")
            ),
        );
        add(
            format!("{name}: GET /ready just after that start (counts the whole store)"),
            None,
            format!("{:.1} ms", b.ready_after_restart.as_secs_f64() * 1e3),
        );
        let idle = b.idle_rss_kb as f64 / 1024.0;
        let load = b.load_rss_kb as f64 / 1024.0;
        add(
            format!("{name}: idle RSS <= 20 MB"),
            Some(idle <= 20.0),
            format!("{idle:.1} MB"),
        );
        add(
            format!("{name}: RSS under load <= 64 MB"),
            (name != "memory").then_some(load <= 64.0),
            format!("{load:.1} MB peak"),
        );
    }
    out
}

/// ours / moto throughput per system, operation and connection count.
fn moto_ratios(rows: &[Row], names: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for system in names
        .iter()
        .flat_map(|n| [format!("{n} aws"), n.to_string()])
    {
        let mut per_op = serde_json::Map::new();
        for op in [
            "create-grant",
            "list-grants",
            "revoke-grant",
            "retire-grant",
        ] {
            let by_conns: serde_json::Map<_, _> = CONCURRENCY
                .iter()
                .filter_map(|&c| {
                    let (o, m) = (find(rows, &system, op, c)?, find(rows, "moto", op, c)?);
                    Some((
                        c.to_string(),
                        json!(round2(o.throughput() / m.throughput())),
                    ))
                })
                .collect();
            if !by_conns.is_empty() {
                per_op.insert(op.to_string(), Value::Object(by_conns));
            }
        }
        if !per_op.is_empty() {
            out.insert(system, Value::Object(per_op));
        }
    }
    Value::Object(out)
}

/// $CARGO_TARGET_DIR/release/kms-emulator, else the one next to this example's own
/// directory (<target>/release/examples/..), else target/release/kms-emulator.
fn default_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("release").join("kms-emulator");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("kms-emulator")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("target/release/kms-emulator"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("kms_bench: some requests failed (see the errors column)");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("kms_bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<bool> {
    let plan = Plan::of(args.size);
    let bin = args.bin.clone().unwrap_or_else(default_bin);
    if !bin.exists() {
        return Err(format!(
            "{} not found: build it with `cargo build --release --bin kms-emulator` (or pass --bin)",
            bin.display()
        )
        .into());
    }
    let work = std::env::temp_dir().join(format!("kms-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work)?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "kms_bench: size {:?}, binary {}, {} CPUs, load average {}",
        args.size,
        bin.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let names: &[&str] = match args.backend {
        BackendArg::Sqlite => &["sqlite"],
        BackendArg::Postgres => &["postgres"],
        BackendArg::Memory => &["memory"],
        BackendArg::Both => &["sqlite", "postgres"],
        BackendArg::All => &["sqlite", "memory", "postgres"],
    };
    let mut rows = Vec::new();
    let mut backends = BTreeMap::new();
    for name in names {
        let report = run_backend(name, &args, &plan, &bin, &work, &mut rows).await?;
        backends.insert(name.to_string(), report);
    }
    let moto_note = if args.no_moto {
        Some("skipped (--no-moto)".to_string())
    } else {
        match run_moto(&args, &plan, &work, &mut rows).await {
            Ok(()) => None,
            Err(e) => {
                println!("\n[moto] not measured: {e}");
                Some(e.to_string())
            }
        }
    };

    println!("\n== all results (latencies over HTTP on loopback, client on the same machine)");
    print_header();
    for r in &rows {
        print_row(r);
    }
    if rows.iter().any(|r| r.system == "moto") {
        println!(
            "\n== throughput ratio to moto (ours / moto, same operation and connections; \
             \"aws\": our AWS dialect with moto's operation counts, the like-for-like figure)"
        );
        let systems = names
            .iter()
            .flat_map(|n| [format!("{n} aws"), n.to_string()]);
        for name in systems {
            let name = name.as_str();
            for op in [
                "create-grant",
                "list-grants",
                "revoke-grant",
                "retire-grant",
            ] {
                let ratios: Vec<String> = CONCURRENCY
                    .iter()
                    .filter_map(|&c| {
                        let (o, m) = (find(&rows, name, op, c)?, find(&rows, "moto", op, c)?);
                        Some(format!("{c}: {:.1}x", o.throughput() / m.throughput()))
                    })
                    .collect();
                println!("{name:<13} {op:<14} {}", ratios.join("  "));
            }
        }
    }
    let targets = targets(&rows, &backends);
    println!("\n== targets");
    for t in &targets {
        let verdict = match t.met {
            Some(true) => "MET    ",
            Some(false) => "MISSED ",
            None => "info   ",
        };
        println!("{verdict} {:<62} {}", t.name, t.figure);
    }
    let errors: usize = rows.iter().map(|r| r.stats.errors).sum();
    println!("\nerrors: {errors}");

    if let Some(path) = &args.json {
        let report = json!({
            "size": format!("{:?}", args.size).to_lowercase(),
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "load_average_at_start": load.trim(),
            "errors": errors,
            "results": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "backends": backends.iter().map(|(name, b)| (name.clone(), json!({
                "startup_fresh_ms": round3(b.startup_fresh.as_secs_f64() * 1e3),
                "startup_existing_ms": round3(b.startup_restart.as_secs_f64() * 1e3),
                "ready_after_restart_ms": round3(b.ready_after_restart.as_secs_f64() * 1e3),
                "idle_rss_mb": round2(b.idle_rss_kb as f64 / 1024.0),
                "peak_rss_under_load_mb": round2(b.load_rss_kb as f64 / 1024.0),
                "server_cpu_secs": round3(b.cpu.as_secs_f64()),
                "requests": b.requests,
                "server_cpu_us_per_request": round2(b.cpu_us_per_request()),
                "scale_grants": b.scale.map(|(s, l)| json!([s, l])),
                "synchronous_commit": b.synchronous_commit,
                "sqlite_reference": b.sqlite_reference,
                "pgbench": b.pgbench.as_ref().map(|p| json!({
                    "command": format!("pgbench -n -M prepared -c 16 -j 2 -T {} -D n={} -f {}",
                        plan.pgbench_secs, b.scale.map_or(0, |s| s.1), args.pgbench_script.display()),
                    "tps": p.tps, "latency_avg_ms": p.latency_ms, "failed": p.failed,
                })),
            }))).collect::<serde_json::Map<_, _>>(),
            "moto": moto_note.map_or(json!("measured"), |n| json!(n)),
            "moto_throughput_ratios": moto_ratios(&rows, names),
            "targets": targets.iter().map(|t| json!({
                "target": t.name, "met": t.met, "figure": t.figure,
            })).collect::<Vec<_>>(),
        });
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")?;
        println!("report written to {}", path.display());
    }
    if let Some(pb) = backends.values().find_map(|b| b.pgbench.as_ref())
        && pb.failed > 0
    {
        println!("pgbench output:\n{}", pb.output);
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(errors == 0)
}
