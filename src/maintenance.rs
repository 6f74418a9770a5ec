//! Periodic upkeep of the database, run by every server process (a round every
//! `--maintenance-interval-secs`, and one at start): expired IAM tokens, failed-login counts
//! whose window is over, and, with `--audit-retention-days`, the oldest audit records. Each
//! step is one statement or transaction, so rounds of several processes sharing a database
//! do not conflict.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::store::{Store, StoreError};

/// What a round cleans up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Maintenance {
    /// Audit records older than this are deleted; `None` keeps them forever.
    pub audit_retention: Option<Duration>,
    /// The failed-login window: counts older than this (and not locked) are forgotten.
    pub login_window_ms: i64,
}

/// What one round deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub tokens: u64,
    pub login_counts: u64,
    pub audit_records: u64,
}

impl Maintenance {
    pub fn of(config: &crate::Config) -> Self {
        Self {
            audit_retention: (config.audit_retention_days > 0)
                .then(|| Duration::from_secs(u64::from(config.audit_retention_days) * 86_400)),
            login_window_ms: config.login_lockout().map_or(0, |l| l.window_ms),
        }
    }

    /// One round at `now`.
    pub async fn round(
        &self,
        store: &dyn Store,
        now: OffsetDateTime,
    ) -> Result<Pruned, StoreError> {
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let mut pruned = Pruned {
            tokens: store.prune_tokens(now_ms).await?,
            login_counts: store
                .prune_login_guard(now_ms, self.login_window_ms)
                .await?,
            audit_records: 0,
        };
        if let Some(retention) = self.audit_retention {
            let cutoff = now_ms.saturating_sub(retention.as_millis() as i64);
            pruned.audit_records = store.prune_audit(cutoff, now_ms).await?;
        }
        Ok(pruned)
    }

    /// Runs a round now and then every `interval`, until the task is aborted. A failed round
    /// is logged and the next one tries again.
    pub fn spawn(self, store: Arc<dyn Store>, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match self.round(store.as_ref(), OffsetDateTime::now_utc()).await {
                    Ok(pruned) if pruned != Pruned::default() => {
                        tracing::info!(
                            tokens = pruned.tokens,
                            login_counts = pruned.login_counts,
                            audit_records = pruned.audit_records,
                            "maintenance: pruned"
                        );
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "maintenance round failed"),
                }
            }
        })
    }
}
