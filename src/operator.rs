//! Operator commands: they read the database directly, print, and exit. Whoever can run
//! them already holds the database URL, so they need no API credentials.

use std::io::Write;
use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{AuditArgs, Config};
use crate::domain::AuditQuery;
use crate::store::{self, AuditEntry};

const AUDIT_PAGE: u32 = 1000;

/// `kms-emulator audit`: the matching audit records as JSON lines, oldest first.
/// Returns how many were printed.
pub async fn print_audit(
    config: &Config,
    args: &AuditArgs,
    out: &mut impl Write,
) -> Result<u64, String> {
    let store = store::connect(
        &config.database_url,
        2,
        Duration::from_secs(config.db_connect_retry_secs),
    )
    .await?;
    let query = AuditQuery {
        key_id: args.key_id.clone(),
        grant_id: args.grant_id.clone(),
        request_id: args.request_id.clone(),
        actor_user_id: args.user_id.clone(),
        event: args.event,
    };
    let mut printed = 0;
    let mut after = 0;
    let result = loop {
        let want = (args.limit - printed).min(u64::from(AUDIT_PAGE)) as u32;
        if want == 0 {
            break Ok(printed);
        }
        let page = match store.list_audit(&query, after, want).await {
            Ok(page) => page,
            Err(error) => break Err(format!("cannot read the audit trail: {error}")),
        };
        for entry in &page.items {
            writeln!(out, "{}", audit_line(entry)).map_err(|e| e.to_string())?;
        }
        printed += page.items.len() as u64;
        match page.next_after {
            Some(next) => after = next,
            None => break Ok(printed),
        }
    };
    store.close().await;
    result
}

fn audit_line(entry: &AuditEntry) -> serde_json::Value {
    let record = &entry.record;
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(record.occurred_at) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    json!({
        "seq": entry.seq,
        "event": record.event.as_str(),
        "occurred_at": at,
        "occurred_at_ms": record.occurred_at,
        "request_id": record.request_id,
        "user_id": record.actor_user_id,
        "project_id": record.actor_project_id,
        "key_id": record.key_id,
        "grant_id": record.grant_id,
        "detail": record.detail,
    })
}
