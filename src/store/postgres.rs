//! The PostgreSQL store: the production backend, safe to share between processes.

use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

pub struct PgStore {
    pool: PgPool,
    audit_key: std::sync::OnceLock<crate::domain::ChainKey>,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        // One plain connection first: with the server down it fails at once with the real cause
        // (e.g. "Connection refused"), where the pool would retry silently for its whole acquire
        // timeout and then report only "pool timed out". The caller retries with backoff and logs.
        PgConnection::connect(url).await?.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            audit_key: std::sync::OnceLock::new(),
        })
    }

    /// Postgres locks the rows a decision reads (`for update`), so a plain
    /// read-committed transaction is enough.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// A connection for reads outside a write transaction, as `&self.pool` would take one.
    async fn read(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, sqlx::Error> {
        self.pool.acquire().await
    }

    fn pool_uses(&self) -> Vec<crate::store::PoolUse> {
        vec![crate::store::PoolUse::of("main", &self.pool)]
    }

    async fn close_pools(&self) {
        self.pool.close().await;
    }
}

type WriteTx = sqlx::Transaction<'static, sqlx::Postgres>;

/// The audit chain's head (seq and chain value) and the highest seq stored, for the record
/// `audit_and_commit` appends: the head row is locked first, so appends of every process
/// sharing the database form one chain; the highest seq is read by its own statement after
/// the lock is granted (a subquery of the locking select would still see the snapshot taken
/// before the wait).
async fn chain_head(tx: &mut WriteTx) -> Result<(i64, String, i64), crate::store::StoreError> {
    let (head_seq, head_chain): (i64, String) =
        sqlx::query_as("select head_seq, head_chain from kms_audit_chain where id = 1 for update")
            .fetch_one(&mut **tx)
            .await?;
    let (max_seq,): (i64,) = sqlx::query_as("select coalesce(max(seq), 0) from kms_audit")
        .fetch_one(&mut **tx)
        .await?;
    Ok((head_seq, head_chain, max_seq))
}

/// The transaction's last write, the audit record's insert and the chain head's move as one
/// statement (a data-modifying `with`), then the commit, read back through `probe` if its
/// outcome was lost with the connection.
async fn append_audit_and_commit(
    mut tx: WriteTx,
    pool: &PgPool,
    link: &crate::store::sql::AuditLink<'_>,
    probe: Option<crate::store::sql::CommitProbe<'_>>,
) -> Result<(), crate::store::StoreError> {
    use crate::store::sql::LastWrite;
    let sql = match link.last_write {
        LastWrite::Done => concat!(
            "with appended as (",
            audit_insert_sql!(),
            ") ",
            chain_head_update_sql!()
        ),
        LastWrite::DeleteGrant(_) => concat!(
            "with gone as (",
            delete_grant_sql!(),
            "), appended as (",
            audit_insert_sql!(),
            ") ",
            chain_head_update_sql!()
        ),
        LastWrite::InsertGrant(_) => concat!(
            "with granted as (",
            insert_grant_sql!(),
            "), appended as (",
            audit_insert_sql!(),
            ") ",
            chain_head_update_sql!()
        ),
    };
    audit_statement(sql, link).execute(&mut *tx).await?;
    match probe {
        Some(probe) => commit_or_resolve(tx, pool, probe.sql, probe.id, probe.present).await,
        None => Ok(tx.commit().await?),
    }
}

impl_sql_store!(
    PgStore,
    sqlx::Postgres,
    backend = "postgres",
    lock = " for update",
    lock_grant = " for update of g"
);

impl_rotation_store!(PgStore, sqlx::Postgres, lock = " for update");
impl_import_store!(PgStore, sqlx::Postgres, lock = " for update");
impl_keyspace_store!(PgStore);
impl_multi_region_store!(PgStore, sqlx::Postgres, lock = " for update");
