//! The embedded SQLite store: the zero-setup default, one file that survives restarts; or,
//! with `sqlite::memory:`, a database in the process's memory that a test suite throws away.

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a request waits for a held connection (the writer, or a reader when all are busy)
/// before it is answered "unavailable", as a pool's acquire timeout would.
const CONNECTION_WAIT: Duration = Duration::from_secs(15);

/// How often the background checkpointer looks for written WAL frames to copy back into the
/// database file (`spawn_checkpointer`).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// How many times a SQLite connection's thread was found ended (`WorkerCrashed`: it panicked)
/// in this process. sqlx runs each connection's statements on a thread of its own, and once
/// that thread is gone every later statement on the connection fails the same way; a pool
/// would drop such a connection, so the connections this store holds are opened again
/// instead (`HeldConnection::connected`). Which connection's thread ended is not known where
/// the error is seen, so every held connection opened before it is replaced at its next use:
/// a few extra opens after a rare event, instead of a connection that fails forever.
static ENDED_THREADS: AtomicU64 = AtomicU64::new(0);

/// Called where a `WorkerCrashed` error is turned into a store error.
pub fn connection_thread_ended() {
    ENDED_THREADS.fetch_add(1, Ordering::Relaxed);
}

pub struct SqliteStore {
    pool: SqlitePool,
    audit_key: std::sync::OnceLock<crate::domain::ChainKey>,
    /// One connection for write transactions. SQLite admits one writer at a time; with
    /// writers on every pooled connection they contend for the write lock, and SQLite's busy
    /// handler sleeps up to 100 ms between retries (p99 of 180+ ms at 16 clients). Here
    /// writers wait their turn in the mutex's queue (first come, first served) instead; reads
    /// keep connections of their own (WAL). The connection is held rather than in a
    /// one-connection pool because sqlx's pool pings a connection on every release (and, by
    /// default, every acquire): two extra hand-offs to the connection's thread inside the one
    /// writer's turn, which perf showed as the largest cost of a write (futex wake-ups and
    /// context switches).
    writer: HeldConnection,
    /// The connections reads use, each opened at its first use and then held, for the same
    /// reason: a pooled connection is pinged on every release.
    readers: Vec<HeldConnection>,
    next_reader: AtomicUsize,
    closed: Arc<AtomicBool>,
    /// Set by every write transaction, cleared by the checkpointer when it runs.
    wrote: Arc<AtomicBool>,
    /// The checkpointer's connection; closed with the others, so the last connection to close
    /// checkpoints and removes the WAL (a WAL left behind is read whole at the next start).
    checkpointer: HeldConnection,
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
        // No ping before each acquire: a local connection does not go stale the way a network
        // one does, and the ping is a round trip to the connection's thread per read.
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(CONNECTION_WAIT)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let closed = Arc::new(AtomicBool::new(false));
        let wrote = Arc::new(AtomicBool::new(false));
        // The write that fills the WAL past 1,000 pages would copy them back into the database
        // file and sync both, inside its own commit: a few milliseconds on the request path
        // (the p99 of single-connection writes in the benchmark). The checkpointer does it
        // beside the writer instead.
        let writer_options = if in_memory {
            options.clone()
        } else {
            options.clone().pragma("wal_autocheckpoint", "0")
        };
        let writer = HeldConnection::new(writer_options, closed.clone());
        // Opened now and kept for the life of the store: an in-memory database lives as long
        // as one connection to it is open, so it lasts as long as the process.
        writer.lock(CONNECTION_WAIT).await?.connected().await?;
        let checkpointer = HeldConnection::new(options.clone(), closed.clone());
        if !in_memory {
            spawn_checkpointer(checkpointer.clone(), wrote.clone());
        }
        Ok(Self {
            pool,
            writer,
            readers: (0..max_connections.max(1))
                .map(|_| HeldConnection::new(options.clone(), closed.clone()))
                .collect(),
            next_reader: AtomicUsize::new(0),
            closed,
            wrote,
            checkpointer,
            audit_key: std::sync::OnceLock::new(),
        })
    }

    /// A connection for reads outside a write transaction (`&mut *self.read().await?`): the
    /// first free one, so connections are opened only as concurrency needs them and the busiest
    /// keep their page caches warm (each SQLite connection has its own); when all are busy, it
    /// queues behind one, chosen in turn.
    async fn read(&self) -> Result<HeldGuard, sqlx::Error> {
        let free = self.readers.iter().find_map(HeldConnection::try_lock);
        let mut reader = match free {
            Some(reader) => reader,
            None => {
                let turn = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
                self.readers[turn].lock(CONNECTION_WAIT).await?
            }
        };
        reader.connected().await?;
        Ok(reader)
    }

    /// SQLite has no row locks: `BEGIN IMMEDIATE` takes the database's write lock
    /// up front, so a decision and its write run with no writer in between. The audit
    /// chain's head is read in the same batch (one hand-off to the connection's thread, not
    /// two): under the write lock nothing changes it before the transaction appends its
    /// record, which is the transaction's last write (`audit_and_commit`).
    async fn begin_write(&self) -> Result<SqliteWriteTx, sqlx::Error> {
        const BEGIN: &str = "BEGIN IMMEDIATE; select head_seq, head_chain, \
                             (select coalesce(max(seq), 0) from kms_audit) from kms_audit_chain where id = 1";
        self.wrote.store(true, Ordering::Relaxed);
        let mut writer = self.writer.lock(CONNECTION_WAIT).await?;
        writer.connected().await?;
        // Made before the batch runs, so an error after the BEGIN rolls back (on drop).
        let mut tx = SqliteWriteTx {
            conn: Some(writer),
            chain_head: (0, String::new(), 0),
        };
        tx.chain_head = match sqlx::query_as(BEGIN).fetch_one(&mut *tx).await {
            Ok(head) => head,
            // Found here rather than at a later statement when the thread ended after the
            // writer's last transaction: a new connection at once, not one failed request.
            Err(sqlx::Error::WorkerCrashed) => {
                connection_thread_ended();
                tracing::warn!("the SQLite writer connection's thread ended; reconnecting");
                let writer = tx.conn.as_mut().expect("held until commit or drop");
                sqlx::query_as(BEGIN)
                    .fetch_one(writer.connected().await?)
                    .await?
            }
            Err(error) => return Err(error),
        };
        Ok(tx)
    }

    fn pool_uses(&self) -> Vec<crate::store::PoolUse> {
        let (mut open, mut idle) = (0, 0);
        for reader in &self.readers {
            match reader.state() {
                HeldState::Idle => {
                    open += 1;
                    idle += 1;
                }
                HeldState::InUse => open += 1,
                HeldState::NotOpen => {}
            }
        }
        vec![
            crate::store::PoolUse::of("main", &self.pool),
            crate::store::PoolUse {
                pool: "readers",
                size: open,
                idle,
                max: self.readers.len() as u32,
            },
            crate::store::PoolUse {
                pool: "writer",
                size: 1,
                idle: u32::from(self.writer.state() == HeldState::Idle),
                max: 1,
            },
        ]
    }

    async fn close_pools(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.writer.close().await;
        for reader in &self.readers {
            reader.close().await;
        }
        self.checkpointer.close().await;
        self.pool.close().await;
    }
}

/// A connection the store holds itself instead of taking it from a pool (whose release pings
/// cost a hand-off each): opened at its first use, opened again when its thread has ended
/// (`ENDED_THREADS`), and never opened once the store is closed.
#[derive(Clone)]
struct HeldConnection {
    slot: Arc<Mutex<Option<Opened>>>,
    options: Arc<SqliteConnectOptions>,
    closed: Arc<AtomicBool>,
}

struct Opened {
    conn: SqliteConnection,
    /// `ENDED_THREADS` when it was opened.
    ended_threads: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum HeldState {
    NotOpen,
    Idle,
    InUse,
}

impl HeldConnection {
    fn new(options: SqliteConnectOptions, closed: Arc<AtomicBool>) -> Self {
        Self {
            slot: Arc::new(Mutex::new(None)),
            options: Arc::new(options),
            closed,
        }
    }

    /// The connection, when no one else has it.
    fn try_lock(&self) -> Option<HeldGuard> {
        let slot = self.slot.clone().try_lock_owned().ok()?;
        Some(HeldGuard {
            slot,
            held: self.clone(),
        })
    }

    /// The connection, waiting in turn (first come, first served) up to `wait`.
    async fn lock(&self, wait: Duration) -> Result<HeldGuard, sqlx::Error> {
        let slot = tokio::time::timeout(wait, self.slot.clone().lock_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?;
        Ok(HeldGuard {
            slot,
            held: self.clone(),
        })
    }

    fn state(&self) -> HeldState {
        match self.slot.try_lock() {
            Ok(slot) if slot.is_some() => HeldState::Idle,
            Ok(_) => HeldState::NotOpen,
            Err(_) => HeldState::InUse,
        }
    }

    /// Closes the connection (after any statement running on it); `closed` is set first, so
    /// it is not opened again.
    async fn close(&self) {
        if let Some(opened) = self.slot.lock().await.take() {
            let _ = opened.conn.close().await;
        }
    }
}

/// A held connection, locked until dropped (`&mut *guard` is the connection once
/// `connected` has opened it).
pub struct HeldGuard {
    slot: OwnedMutexGuard<Option<Opened>>,
    held: HeldConnection,
}

impl HeldGuard {
    /// The connection: opened now if it is not yet, or if a connection thread has ended since
    /// it was opened; refused once the store is closed (checked under the lock, which
    /// `close` takes after setting `closed`, so nothing is opened after the close).
    async fn connected(&mut self) -> Result<&mut SqliteConnection, sqlx::Error> {
        if self.held.closed.load(Ordering::Relaxed) {
            return Err(sqlx::Error::PoolClosed);
        }
        let ended_threads = ENDED_THREADS.load(Ordering::Relaxed);
        let current = self
            .slot
            .as_ref()
            .is_some_and(|opened| opened.ended_threads == ended_threads);
        if !current {
            let conn = SqliteConnection::connect_with(&self.held.options).await?;
            // Opened before the old one is dropped (not closed: closing is a command to a
            // thread that may be gone), so an in-memory database always has a connection.
            *self.slot = Some(Opened {
                conn,
                ended_threads,
            });
        }
        Ok(&mut self.slot.as_mut().expect("opened above").conn)
    }

    /// Drops the connection, so the next use opens a new one (after an error that leaves its
    /// state unknown).
    fn discard(&mut self) {
        *self.slot = None;
    }
}

impl Deref for HeldGuard {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self
            .slot
            .as_ref()
            .expect("a held connection is opened before it is handed out")
            .conn
    }
}

impl DerefMut for HeldGuard {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self
            .slot
            .as_mut()
            .expect("a held connection is opened before it is handed out")
            .conn
    }
}

/// Copies the WAL back into the database file every `CHECKPOINT_EVERY` in which something was
/// written, on a connection of its own (opened at the first such moment), with a PASSIVE
/// checkpoint: it waits for no reader or writer and they do not wait for it, so the file's
/// syncs happen beside the requests instead of inside one. Other processes sharing the file
/// run their own; SQLite lets one checkpoint at a time and the others skip (busy). The last
/// connection to close still checkpoints and removes the WAL, as before.
fn spawn_checkpointer(connection: HeldConnection, wrote: Arc<AtomicBool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if connection.closed.load(Ordering::Relaxed) {
                return;
            }
            if !wrote.swap(false, Ordering::Relaxed) {
                continue;
            }
            let Ok(mut guard) = connection.lock(CONNECTION_WAIT).await else {
                wrote.store(true, Ordering::Relaxed);
                continue;
            };
            let checkpoint = match guard.connected().await {
                Ok(conn) => sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(conn)
                    .await
                    .map(drop),
                Err(sqlx::Error::PoolClosed) => return,
                Err(error) => Err(error),
            };
            if let Err(error) = checkpoint {
                tracing::warn!(%error, "WAL checkpoint failed; retrying on a new connection");
                guard.discard();
                wrote.store(true, Ordering::Relaxed);
            }
        }
    });
}

/// A write transaction on the writer connection, which it holds until it commits or is
/// dropped; used like `sqlx::Transaction` (`&mut *tx` is the connection).
pub struct SqliteWriteTx {
    conn: Option<HeldGuard>,
    /// The audit chain's head seq and chain value and the highest seq stored, read by the
    /// `BEGIN` (`begin_write`).
    chain_head: (i64, String, i64),
}

impl SqliteWriteTx {
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("COMMIT").execute(&mut *self).await?;
        self.committed();
        Ok(())
    }

    /// Releases the writer after a statement batch that ended with `COMMIT` succeeded. (On an
    /// error the transaction is dropped instead, and the drop rolls back first.)
    fn committed(mut self) {
        self.conn = None;
    }
}

/// The audit chain's head and the highest seq, as the transaction's `BEGIN` read them.
async fn chain_head(
    tx: &mut SqliteWriteTx,
) -> Result<(i64, String, i64), crate::store::StoreError> {
    Ok(std::mem::take(&mut tx.chain_head))
}

/// The transaction's last write, the audit record's insert, the chain head's move and the
/// `COMMIT`, as one statement batch: one hand-off to the connection's thread instead of four. Should a statement fail, the
/// batch stops there and the transaction is rolled back by the drop, as after any error.
/// `probe` is not needed here: the connection is in this process, so a commit's error is
/// SQLite's own answer, and a commit that fails is rolled back, never half done.
async fn append_audit_and_commit(
    mut tx: SqliteWriteTx,
    _pool: &SqlitePool,
    link: &crate::store::sql::AuditLink<'_>,
    _probe: Option<crate::store::sql::CommitProbe<'_>>,
) -> Result<(), crate::store::StoreError> {
    use crate::store::sql::LastWrite;
    let sql = match link.last_write {
        LastWrite::Done => concat!(
            audit_insert_sql!(),
            "; ",
            chain_head_update_sql!(),
            "; COMMIT"
        ),
        LastWrite::DeleteGrant(_) => concat!(
            delete_grant_sql!(),
            "; ",
            audit_insert_sql!(),
            "; ",
            chain_head_update_sql!(),
            "; COMMIT"
        ),
        LastWrite::InsertGrant(_) => concat!(
            insert_grant_sql!(),
            "; ",
            audit_insert_sql!(),
            "; ",
            chain_head_update_sql!(),
            "; COMMIT"
        ),
    };
    audit_statement(sql, link).execute(&mut *tx).await?;
    tx.committed();
    Ok(())
}

impl Deref for SqliteWriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.conn
            .as_deref()
            .expect("an open write transaction holds the writer")
    }
}

impl DerefMut for SqliteWriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_deref_mut()
            .expect("an open write transaction holds the writer")
    }
}

impl Drop for SqliteWriteTx {
    /// Dropped before its commit (an error returned early, or the request was cancelled): the
    /// rollback runs before the next writer gets the connection, because the guard goes with
    /// it. It is queued behind any statement still running on the connection's thread.
    fn drop(&mut self) {
        let Some(mut writer) = self.conn.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            if let Err(error) = sqlx::query("ROLLBACK").execute(&mut *writer).await {
                // "no transaction is active": SQLite already rolled it back (or the commit
                // went through before the request was cancelled).
                tracing::debug!(%error, "rollback of an unfinished write transaction");
            }
        });
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

    /// One test, not several: `ENDED_THREADS` is the process's, and a test that moved it would
    /// make another's connection be replaced under it.
    #[tokio::test]
    async fn a_held_connection_is_opened_once_kept_and_replaced_after_a_thread_ended() {
        use super::{CONNECTION_WAIT, HeldConnection, HeldState};
        use std::str::FromStr;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let options = sqlx::sqlite::SqliteConnectOptions::from_str("sqlite::memory:").unwrap();
        let closed = Arc::new(AtomicBool::new(false));
        let held = HeldConnection::new(options, closed.clone());
        assert_eq!(held.state(), HeldState::NotOpen);
        // A temporary table lives on its connection only: it tells the same connection from
        // a new one (the in-memory database itself is shared by all of them).
        let mut guard = held.lock(CONNECTION_WAIT).await.unwrap();
        sqlx::query("create temp table marker (x)")
            .execute(guard.connected().await.unwrap())
            .await
            .unwrap();
        assert_eq!(held.state(), HeldState::InUse);
        assert!(held.try_lock().is_none(), "locked while the guard lives");
        drop(guard);
        assert_eq!(held.state(), HeldState::Idle);

        async fn has_marker(held: &HeldConnection) -> bool {
            let mut guard = held.try_lock().expect("free");
            sqlx::query("select count(*) from marker")
                .execute(guard.connected().await.unwrap())
                .await
                .is_ok()
        }
        assert!(has_marker(&held).await, "kept between uses");
        super::connection_thread_ended();
        assert!(
            !has_marker(&held).await,
            "a connection opened before a thread ended is replaced"
        );

        closed.store(true, Ordering::Relaxed);
        held.close().await;
        assert_eq!(held.state(), HeldState::NotOpen);
        let mut guard = held.lock(CONNECTION_WAIT).await.unwrap();
        assert!(matches!(
            guard.connected().await,
            Err(sqlx::Error::PoolClosed)
        ));
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

type WriteTx = SqliteWriteTx;

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
