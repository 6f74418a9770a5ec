//! Command-line and environment configuration.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::store::redact_url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A KMS-compatible HTTP service (Huawei Cloud / OTC KMS API) with a real grant lifecycle.
#[derive(Clone, Parser)]
#[command(name = "kms-emulator", version, about)]
pub struct Config {
    /// Without a command the service runs.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on.
    #[arg(long, env = "KMS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// postgres://user@host:port/db for PostgreSQL, or sqlite://file.db for the embedded store.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://kms-emulator.db")]
    pub database_url: String,

    /// JSON file of domains, projects, users and credentials; built-in demo identities when absent.
    #[arg(long, env = "KMS_IDENTITIES")]
    pub identities: Option<PathBuf>,

    /// JSON file of fixtures (keys with fixed IDs and material, AWS aliases, grants), inserted
    /// when missing at start and after every reset; see examples/seed.json.
    #[arg(long, env = "KMS_SEED")]
    pub seed: Option<PathBuf>,

    /// The default region: of projects that name none, of keys stored before regions, and
    /// the first of --regions.
    #[arg(long, env = "KMS_REGION", default_value = "eu-de")]
    pub region: String,

    /// Regions served besides --region, comma-separated (e.g. eu-nl,eu-ch2). A Huawei project
    /// belongs to one of them; an AWS request is served in the region its SigV4 scope names,
    /// and one signed for a region not served is refused.
    #[arg(long, env = "KMS_REGIONS", value_delimiter = ',')]
    pub regions: Vec<String>,

    #[arg(long, env = "KMS_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,

    /// Largest request body accepted; larger ones get KMS.0203.
    #[arg(long, env = "KMS_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// Grants one key may hold (Huawei/OTC: 100).
    #[arg(long, env = "KMS_MAX_GRANTS_PER_KEY", default_value_t = 100)]
    pub max_grants_per_key: u32,

    /// Grants one key may hold when created through the AWS dialect (AWS: 50,000).
    #[arg(long, env = "KMS_AWS_MAX_GRANTS_PER_KEY", default_value_t = 50_000)]
    pub aws_max_grants_per_key: u32,

    /// Keys one project may hold (Huawei/OTC: 100).
    #[arg(long, env = "KMS_MAX_KEYS_PER_PROJECT", default_value_t = 100)]
    pub max_keys_per_project: u32,

    /// Database connections in the pool.
    #[arg(long, env = "KMS_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// Seconds to keep retrying, with backoff, a PostgreSQL server that does not answer at start.
    #[arg(long, env = "KMS_DB_CONNECT_RETRY_SECS", default_value_t = 30)]
    pub db_connect_retry_secs: u64,

    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "KMS_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,

    /// 64 hex characters wrapping every key's material. Without it (or --master-key-file) a
    /// master key is generated once and kept in the database, in plain text (fine for tests,
    /// not for secrets that matter).
    #[arg(long, env = "KMS_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// File holding the master key, as --master-key takes it (64 hex characters; a trailing
    /// newline is fine), e.g. a container secret. Keeps the key off the command line and the
    /// environment.
    #[arg(long, env = "KMS_MASTER_KEY_FILE", conflicts_with = "master_key")]
    pub master_key_file: Option<PathBuf>,

    /// Seconds a client has to send a complete request head, from connecting or from the first
    /// byte of a later request on the connection; then the connection is closed.
    #[arg(long, env = "KMS_HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_secs: u64,

    /// Seconds a keep-alive connection may wait for its next request before it is closed.
    #[arg(long, env = "KMS_IDLE_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub idle_timeout_secs: u64,

    /// Connections served at once. Past it, 32 more answer only /health and /ready (others
    /// get 503) and further ones are closed. Keep it, plus 32, plus the database pool, below
    /// the open-files limit (`ulimit -n`).
    #[arg(long, env = "KMS_MAX_CONNECTIONS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// Seconds a request may take before it is answered with 503.
    #[arg(long, env = "KMS_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Seconds an IAM token from POST /v3/auth/tokens stays valid (IAM: 24 hours).
    #[arg(long, env = "KMS_TOKEN_LIFETIME_SECS", default_value_t = 86400,
          value_parser = clap::value_parser!(u64).range(1..=10 * 365 * 86400))]
    pub token_lifetime_secs: u64,

    /// Makes every user of the identities an administrator of KMS in both clouds' policy
    /// languages ("KMS Administrator" and AWS AdministratorAccess), for test setups that do
    /// not care about permissions. Grants, key policies and each cloud's grant rules still apply.
    #[arg(long, env = "KMS_EVERYONE_ADMIN", default_value_t = false)]
    pub everyone_admin: bool,

    /// Days audit records are kept; older ones are deleted by the maintenance task, which
    /// leaves a checkpoint so `audit verify` still verifies the rest. 0 keeps them forever.
    #[arg(long, env = "KMS_AUDIT_RETENTION_DAYS", default_value_t = 0)]
    pub audit_retention_days: u32,

    /// Seconds between maintenance rounds (expired IAM tokens, old failed-login counts, audit
    /// retention); one round also runs at start.
    #[arg(long, env = "KMS_MAINTENANCE_INTERVAL_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub maintenance_interval_secs: u64,

    /// Failed logins (POST /v3/auth/tokens) of one user within --login-lockout-minutes that
    /// lock it for that long (IAM's login protection). 0 turns the lockout off.
    #[arg(long, env = "KMS_LOGIN_LOCKOUT_FAILURES", default_value_t = 5)]
    pub login_lockout_failures: u32,

    /// The window failed logins are counted in, and how long a user stays locked (IAM: 15).
    /// Fractions are allowed (0.05 is 3 seconds).
    #[arg(long, env = "KMS_LOGIN_LOCKOUT_MINUTES", default_value_t = 15.0, value_parser = parse_minutes)]
    pub login_lockout_minutes: f64,

    /// Answers the operator API (`POST /_emulator/reset`) from any peer address. Without it
    /// only loopback peers (127.0.0.0/8, ::1) may call it: behind a container's port mapping
    /// or a proxy the peer is not loopback, so test setups there turn this on.
    #[arg(long, env = "KMS_OPERATOR_API", default_value_t = false)]
    pub operator_api: bool,
}

fn parse_minutes(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(minutes) if (0.0..=1440.0).contains(&minutes) => Ok(minutes),
        _ => Err("minutes between 0 and 1440 (fractions allowed)".into()),
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Print the audit trail of the grant lifecycle (create, revoke, retire, denials) from
    /// the database as JSON lines, oldest first, then exit; `audit verify` checks its chain.
    Audit(AuditArgs),
    /// Delete keys and grants (all, or one project's, domain's or AWS account's) in one
    /// transaction, record the reset in the audit trail, print the counts as JSON and exit.
    /// Identities, IAM tokens and the audit trail stay. Give the service's --master-key (or
    /// --master-key-file) when it runs with one, so the audit record chains under its key.
    Reset(ResetArgs),
    /// Export every key (with its wrapped material) and grant as one JSON document, or
    /// replace them all with one, as `GET`/`POST /_emulator/snapshot` do.
    #[command(subcommand)]
    Snapshot(SnapshotAction),
}

#[derive(Debug, Clone, Subcommand)]
pub enum SnapshotAction {
    /// Print the snapshot (JSON) on standard output.
    Export,
    /// Replace every key and grant with the snapshot in FILE, in one transaction (recorded
    /// in the audit trail as a reset). Give the service's --master-key when it runs with one.
    Import {
        /// The snapshot file, as `snapshot export` writes it.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
#[group(multiple = false)]
pub struct ResetArgs {
    /// Only the keys of this project (and the grants on them).
    #[arg(long)]
    pub project_id: Option<String>,
    /// Only the keys of this domain (account).
    #[arg(long)]
    pub domain_id: Option<String>,
    /// Only the keys of the domain with this 12-digit AWS account ID (per --identities).
    #[arg(long)]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AuditAction {
    /// Check the audit trail's hash chain: names the first record altered, inserted or
    /// missing and exits 1, or prints what was verified and exits 0. Give the service's
    /// --master-key (or KMS_MASTER_KEY) when it runs with one.
    Verify,
}

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub action: Option<AuditAction>,
    /// Only records about this key.
    #[arg(long)]
    pub key_id: Option<String>,
    /// Only records about this grant.
    #[arg(long)]
    pub grant_id: Option<String>,
    /// Only records of this request (its X-Request-Id).
    #[arg(long)]
    pub request_id: Option<String>,
    /// Only records of this acting user ID.
    #[arg(long)]
    pub user_id: Option<String>,
    /// Only records of this event: grant-created, grant-revoked, grant-retired,
    /// create-grant-denied, revoke-grant-denied, retire-grant-denied, key-use-denied,
    /// access-denied, reset.
    #[arg(long, value_parser = parse_audit_event)]
    pub event: Option<crate::domain::AuditEvent>,
    /// Print at most this many records (the oldest matching ones).
    #[arg(long, default_value_t = 10_000)]
    pub limit: u64,
}

fn parse_audit_event(name: &str) -> Result<crate::domain::AuditEvent, String> {
    crate::domain::AuditEvent::parse(name).ok_or_else(|| {
        let names: Vec<_> = crate::domain::AuditEvent::ALL
            .iter()
            .map(|e| e.as_str())
            .collect();
        format!("not an audit event; one of: {}", names.join(", "))
    })
}

impl Config {
    /// The defaults, as `kms-emulator` with no arguments and no environment would use.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        let mut config = Self::parse_from(["kms-emulator"]);
        config.database_url = database_url.into();
        config
    }

    /// The served regions, --region first.
    pub fn served_regions(&self) -> Result<crate::domain::region::Regions, String> {
        crate::domain::region::Regions::new(&self.region, self.regions.iter().map(String::as_str))
            .map_err(|e| format!("--region/--regions (KMS_REGION/KMS_REGIONS): {e}"))
    }

    /// The failed-login lockout, or `None` when turned off (either setting 0).
    pub fn login_lockout(&self) -> Option<crate::auth::iam::LoginLockout> {
        let window_ms = (self.login_lockout_minutes * 60_000.0).round() as i64;
        (self.login_lockout_failures > 0 && window_ms > 0).then_some(
            crate::auth::iam::LoginLockout {
                max_failures: self.login_lockout_failures,
                window_ms,
            },
        )
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("command", &self.command)
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("identities", &self.identities)
            .field("seed", &self.seed)
            .field("region", &self.region)
            .field("regions", &self.regions)
            .field("log_format", &self.log_format)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_grants_per_key", &self.max_grants_per_key)
            .field("aws_max_grants_per_key", &self.aws_max_grants_per_key)
            .field("max_keys_per_project", &self.max_keys_per_project)
            .field("db_max_connections", &self.db_max_connections)
            .field("db_connect_retry_secs", &self.db_connect_retry_secs)
            .field("shutdown_timeout_secs", &self.shutdown_timeout_secs)
            .field("master_key", &self.master_key.as_ref().map(|_| "***"))
            .field("master_key_file", &self.master_key_file)
            .field("header_read_timeout_secs", &self.header_read_timeout_secs)
            .field("idle_timeout_secs", &self.idle_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("token_lifetime_secs", &self.token_lifetime_secs)
            .field("everyone_admin", &self.everyone_admin)
            .field("audit_retention_days", &self.audit_retention_days)
            .field("maintenance_interval_secs", &self.maintenance_interval_secs)
            .field("login_lockout_failures", &self.login_lockout_failures)
            .field("login_lockout_minutes", &self.login_lockout_minutes)
            .field("operator_api", &self.operator_api)
            .finish()
    }
}
