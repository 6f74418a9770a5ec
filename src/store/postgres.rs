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

    fn pool_uses(&self) -> Vec<crate::store::PoolUse> {
        vec![crate::store::PoolUse::of("main", &self.pool)]
    }

    async fn close_pools(&self) {
        self.pool.close().await;
    }
}

type WriteTx = sqlx::Transaction<'static, sqlx::Postgres>;

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
