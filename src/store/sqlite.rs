//! The embedded SQLite store: the zero-setup default, one file that survives restarts; or,
//! with `sqlite::memory:`, a database in the process's memory that a test suite throws away.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    audit_key: std::sync::OnceLock<crate::domain::ChainKey>,
    /// One connection for write transactions. SQLite admits one writer at a time; with
    /// writers on every pooled connection they contend for the write lock, and SQLite's busy
    /// handler sleeps up to 100 ms between retries (p99 of 180+ ms at 16 clients). Here
    /// writers wait their turn in the pool's queue instead; reads keep the whole pool (WAL).
    writer: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        let in_memory = is_in_memory(url);
        let (url, synchronous) =
            durability_of(url).map_err(|e| sqlx::Error::Configuration(e.into()))?;
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // In memory there is no journal file to put in WAL mode (SQLite keeps the journal in
        // memory), and nothing to sync.
        let options = if in_memory {
            options
        } else {
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let mut writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(15));
        if in_memory {
            // An in-memory database lives as long as one connection to it is open: the writer's
            // one connection is opened now and never closed for being idle or old, so the
            // database lasts as long as the process.
            writer = writer
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let writer = writer.connect_with(options).await?;
        Ok(Self {
            pool,
            writer,
            audit_key: std::sync::OnceLock::new(),
        })
    }

    /// SQLite has no row locks: `BEGIN IMMEDIATE` takes the database's write lock
    /// up front, so a decision and its write run with no writer in between.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    fn pools(&self) -> Vec<(&'static str, &SqlitePool)> {
        vec![("main", &self.pool), ("writer", &self.writer)]
    }

    async fn close_pools(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// The durability a `sqlite:` URL asks for with `synchronous=normal|full` (this service's
/// parameter, taken out of the URL before sqlx reads it), and the URL without it.
///
/// `normal` (the default) with WAL: every acknowledged write survives the process being
/// killed (kill -9, a crash: the fault tests check it), because the WAL is in the OS's page
/// cache; an OS crash or power loss may lose the last transactions acknowledged before it
/// (never corrupting the file). `full` syncs the WAL at every commit, so those survive too,
/// at a few milliseconds per write on most disks.
pub fn durability_of(url: &str) -> Result<(String, SqliteSynchronous), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), SqliteSynchronous::Normal));
    };
    let mut synchronous = SqliteSynchronous::Normal;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("synchronous", value)) => {
                synchronous = match value.to_ascii_lowercase().as_str() {
                    "normal" => SqliteSynchronous::Normal,
                    "full" => SqliteSynchronous::Full,
                    _ => {
                        return Err(format!(
                            "synchronous={value} in the SQLite URL: use normal (the default) or full"
                        ));
                    }
                }
            }
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, synchronous))
}

/// Whether a `sqlite:` URL names an in-memory database: `sqlite::memory:`, or a
/// `file:NAME?mode=memory&cache=shared` URI (each process its own database; the
/// connections of one process share it).
pub fn is_in_memory(url: &str) -> bool {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest == ":memory:"
        || rest
            .split_once('?')
            .is_some_and(|(_, query)| query.split('&').any(|pair| pair == "mode=memory"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn durability_comes_from_the_url() {
        use sqlx::sqlite::SqliteSynchronous::{Full, Normal};
        let cases = [
            ("sqlite://kms.db", "sqlite://kms.db", Normal),
            ("sqlite://kms.db?synchronous=full", "sqlite://kms.db", Full),
            (
                "sqlite://kms.db?mode=rwc&synchronous=FULL",
                "sqlite://kms.db?mode=rwc",
                Full,
            ),
            (
                "sqlite://kms.db?synchronous=normal&mode=rwc",
                "sqlite://kms.db?mode=rwc",
                Normal,
            ),
        ];
        for (url, rest, expected) in cases {
            let (left, synchronous) = super::durability_of(url).unwrap();
            assert_eq!(left, rest, "{url}");
            assert_eq!(format!("{synchronous:?}"), format!("{expected:?}"), "{url}");
        }
        let error = super::durability_of("sqlite://kms.db?synchronous=off").unwrap_err();
        assert!(error.contains("normal (the default) or full"), "{error}");
    }

    #[test]
    fn in_memory_urls_are_told_from_files() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite:file:kms?mode=memory&cache=shared",
            "sqlite://file:kms?cache=shared&mode=memory",
        ] {
            assert!(super::is_in_memory(url), "{url}");
        }
        for url in [
            "sqlite://kms-emulator.db",
            "sqlite:memory.db",
            "sqlite://kms.db?mode=rwc",
        ] {
            assert!(!super::is_in_memory(url), "{url}");
        }
    }
}

impl_sql_store!(
    SqliteStore,
    sqlx::Sqlite,
    backend = "sqlite",
    lock = "",
    lock_grant = ""
);

impl_rotation_store!(SqliteStore, sqlx::Sqlite, lock = "");
impl_import_store!(SqliteStore, sqlx::Sqlite, lock = "");
impl_keyspace_store!(SqliteStore);
impl_multi_region_store!(SqliteStore, sqlx::Sqlite, lock = "");
