//! Building and running the service: configuration in, a bound listener out.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::api::{self, AppState};
use crate::auth::Identities;
use crate::config::Config;
use crate::crypto::MasterKey;
use crate::server;
use crate::service::{Kms, Settings};
use crate::store::{self, Store};

/// How long, once the shutdown deadline has passed, the store gets to close its connections.
const CLOSE_AFTER_DEADLINE: Duration = Duration::from_millis(500);

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    overflow_router: axum::Router,
    limits: server::Limits,
    store: Arc<dyn Store>,
    banner: String,
    shutdown_timeout: Duration,
    maintenance: crate::maintenance::Maintenance,
    maintenance_interval: Duration,
}

impl App {
    /// Loads identities, opens the store (applying migrations) and binds the listener.
    pub async fn build(config: &Config) -> Result<Self, String> {
        let (identities, demo) = match &config.identities {
            Some(path) => (Identities::load(path)?, false),
            None => (Identities::demo(), true),
        };
        let regions = config.served_regions()?;
        let identities = identities.with_regions(&regions)?;
        let identities = Arc::new(if config.everyone_admin {
            identities.with_everyone_admin()
        } else {
            identities
        });
        let configured_key = configured_master_key(config)?;
        let key_is_configured = configured_key.is_some();
        let store = store::connect(
            &config.database_url,
            config.db_max_connections,
            Duration::from_secs(config.db_connect_retry_secs),
        )
        .await?;
        let master_key = match configured_key {
            Some(key) => {
                warn_if_a_generated_key_remains(store.as_ref(), &key).await;
                key
            }
            None => {
                let stored = store
                    .setting_or_insert("master_key", &MasterKey::generate().to_hex())
                    .await
                    .map_err(|e| format!("cannot read or store the master key: {e}"))?;
                if store.backend() == "postgres" {
                    tracing::warn!(
                        "no master key configured: the generated one is kept in plain text in the \
                         PostgreSQL table kms_setting, so anyone who can read that table can decrypt \
                         every key. Copy it into a file only this service can read (psql -Atc \
                         \"select value from kms_setting where name = 'master_key'\" > master-key), \
                         start with --master-key-file (KMS_MASTER_KEY_FILE) naming that file, then \
                         delete the row"
                    );
                }
                MasterKey::from_hex(&stored)?
            }
        };
        // The audit chain is keyed only by a master key given from outside: a generated one is
        // kept in the same database, so a chain keyed with it would prove nothing to its readers.
        store.set_audit_key(audit_chain_key(key_is_configured.then_some(&master_key)));
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let local_addr = listener.local_addr().map_err(|e| e.to_string())?;
        let settings = settings_of(config)?;
        // Rows stored before regions existed belong to the default region (see migration 0012).
        let (keys, aliases) = store
            .fill_default_region(regions.default_region())
            .await
            .map_err(|e| format!("cannot give stored keys the default region: {e}"))?;
        if keys + aliases > 0 {
            tracing::info!(
                keys,
                aliases,
                region = regions.default_region(),
                "keys and aliases stored before regions were placed in the default region"
            );
        }
        let kms = Arc::new(
            Kms::new(store.clone(), settings, master_key, identities.clone())
                .with_seed(read_seed(config)?),
        );
        kms.load_seed("operator:start", &uuid::Uuid::new_v4().simple().to_string())
            .await
            .map_err(|e| format!("cannot load the seed: {e}"))?;
        let state = AppState {
            kms: kms.clone(),
            identities,
            tokens: store.clone(),
            max_body_bytes: config.max_body_bytes,
            token_lifetime: time::Duration::seconds(config.token_lifetime_secs as i64),
            login_lockout: config.login_lockout(),
            operator_api: config.operator_api,
            metrics: Default::default(),
        };
        let mut banner = format!(
            "kms-emulator listening on http://{local_addr} (store: {} {})\n",
            store.backend(),
            store::redact_url(&config.database_url)
        );
        if demo {
            banner.push_str(&state.identities.demo_usage(&format!("http://{local_addr}")));
        }
        let request_timeout = Duration::from_secs(config.request_timeout_secs);
        let router = api::router(state.clone(), request_timeout);
        let overflow_router = api::overflow_router(state, request_timeout);
        let limits = server::Limits {
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs),
            max_connections: usize::try_from(config.max_connections).unwrap_or(usize::MAX),
        };
        warn_if_short_of_file_descriptors(config);
        Ok(Self {
            listener,
            router,
            overflow_router,
            limits,
            store,
            banner,
            shutdown_timeout: Duration::from_secs(config.shutdown_timeout_secs),
            maintenance: crate::maintenance::Maintenance::of(config),
            maintenance_interval: Duration::from_secs(config.maintenance_interval_secs),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// What to tell the person who started the service.
    pub fn banner(&self) -> &str {
        &self.banner
    }

    /// Serves until `shutdown` completes, then gives in-flight requests the shutdown
    /// timeout to finish before closing the store.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let maintenance = self
            .maintenance
            .spawn(self.store.clone(), self.maintenance_interval);
        let stopping = Arc::new(tokio::sync::Notify::new());
        let signal_stopping = stopping.clone();
        let serve = server::serve(
            self.listener,
            self.router,
            self.overflow_router,
            self.limits,
            async move {
                shutdown.await;
                tracing::info!("shutdown requested; finishing requests in flight");
                signal_stopping.notify_one();
            },
        );
        let deadline = async {
            stopping.notified().await;
            tokio::time::sleep(self.shutdown_timeout).await;
        };
        let (result, in_time) = tokio::select! {
            result = serve => (result, true),
            () = deadline => {
                tracing::warn!(timeout_secs = self.shutdown_timeout.as_secs(), "requests still in flight at the shutdown deadline; exiting");
                (Ok(()), false)
            }
        };
        tracing::info!("shutting down");
        maintenance.abort();
        if in_time {
            self.store.close().await;
        } else {
            // Closing the pool waits for every checked-out connection, and the requests still
            // in flight (their tasks outlive `serve`) hold theirs, maybe blocked on a lock: an
            // unbounded close would overrun the deadline. Their transactions never commit; the
            // database rolls them back when the process exits and their sockets close.
            let _ = tokio::time::timeout(CLOSE_AFTER_DEADLINE, self.store.close()).await;
        }
        result
    }
}

/// The key the audit trail is chained with: derived from the master key when one is
/// configured, plain SHA-256 otherwise. The service and `audit verify` both use this.
pub(crate) fn settings_of(config: &Config) -> Result<Settings, String> {
    Ok(Settings {
        regions: config.served_regions()?,
        max_grants_per_key: config.max_grants_per_key,
        aws_max_grants_per_key: config.aws_max_grants_per_key,
        max_keys_per_project: config.max_keys_per_project,
    })
}

/// The `--seed` file, read and parsed (its entries are checked when it is loaded).
pub(crate) fn read_seed(
    config: &Config,
) -> Result<Option<Arc<crate::domain::seed::SeedFile>>, String> {
    let Some(path) = &config.seed else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the seed file {}: {e}", path.display()))?;
    crate::domain::seed::parse(&text)
        .map(|file| Some(Arc::new(file)))
        .map_err(|e| format!("{}: {e}", path.display()))
}

pub fn audit_chain_key(configured: Option<&MasterKey>) -> crate::domain::ChainKey {
    configured.map_or(crate::domain::ChainKey::Plain, MasterKey::audit_chain_key)
}

/// The master key given by --master-key or --master-key-file, if any.
pub(crate) fn configured_master_key(config: &Config) -> Result<Option<MasterKey>, String> {
    match (&config.master_key, &config.master_key_file) {
        (Some(_), Some(_)) => Err(
            "both --master-key (KMS_MASTER_KEY) and --master-key-file (KMS_MASTER_KEY_FILE) are \
             set; give only one"
                .to_owned(),
        ),
        (Some(hex), None) => MasterKey::from_hex(hex).map(Some),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the master key file {}: {e}", path.display()))?;
            MasterKey::from_hex(&text)
                .map(Some)
                .map_err(|e| format!("master key file {}: {e}", path.display()))
        }
        (None, None) => Ok(None),
    }
}

/// A master key generated by an earlier start without one stays readable in the database, so
/// configuring a key does not protect what it wrapped until that row is gone.
async fn warn_if_a_generated_key_remains(store: &dyn Store, configured: &MasterKey) {
    let Ok(Some(stored)) = store.setting("master_key").await else {
        return;
    };
    let same =
        MasterKey::from_hex(&stored).is_ok_and(|stored| stored.to_hex() == configured.to_hex());
    tracing::warn!(
        same_as_configured = same,
        "a generated master key is still stored in plain text in table kms_setting; anyone who can \
         read that table can decrypt what it wrapped. {}",
        if same {
            "It is the configured one: delete the row (delete from kms_setting where name = 'master_key')"
        } else {
            "It differs from the configured one, so keys created under it will not open: configure \
             that key instead, or delete the row if those keys are not needed"
        }
    );
}

/// Connections past the process's open-files limit fail at accept, probes included.
fn warn_if_short_of_file_descriptors(config: &Config) {
    // The listener, log and database files, and some slack.
    const OTHER_FILES: u64 = 32;
    let needed = config.max_connections
        + server::OVERFLOW_CONNECTIONS as u64
        + u64::from(config.db_max_connections)
        + OTHER_FILES;
    if let Some(limit) = server::open_files_limit()
        && limit < needed
    {
        tracing::warn!(
            open_files_limit = limit,
            max_connections = config.max_connections,
            "the open-files limit is below what --max-connections needs ({needed}): raise it \
             (ulimit -n) or lower --max-connections, or a full server cannot answer /health"
        );
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    // The handlers are installed now, not when the future is first polled: the accept loop
    // may serve a first request before it polls the shutdown future, and a SIGTERM sent
    // right after that answer would otherwise meet the default action and kill the process.
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (terminate, interrupt) = signals;
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(terminate) => {},
                () = wait(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
