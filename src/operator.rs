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
        ..AuditQuery::default()
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
    let record = match &entry.record {
        Ok(record) => record,
        // Not a row this service wrote (or one it cannot read): shown as stored, marked.
        Err(reason) => {
            return json!({"seq": entry.seq, "unreadable": reason, "row": entry.raw});
        }
    };
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

/// `kms-emulator audit verify`: walks the whole trail through its hash chain and prints one
/// JSON object: what was verified, or the first record found altered, inserted or missing.
/// Returns whether the trail verified.
pub async fn verify_audit(config: &Config, out: &mut impl Write) -> Result<bool, String> {
    let master_key = crate::app::configured_master_key(config)?;
    let key = crate::app::audit_chain_key(master_key.as_ref());
    let store = store::connect(
        &config.database_url,
        2,
        Duration::from_secs(config.db_connect_retry_secs),
    )
    .await?;
    let result = verify_with(store.as_ref(), &key).await;
    store.close().await;
    let (verified, report) = result?;
    writeln!(out, "{report}").map_err(|e| e.to_string())?;
    Ok(verified)
}

async fn verify_with(
    store: &dyn store::Store,
    key: &crate::domain::ChainKey,
) -> Result<(bool, serde_json::Value), String> {
    use crate::domain::audit::ChainVerifier;
    let read = |e: store::StoreError| format!("cannot read the audit trail: {e}");
    let state = store.audit_chain().await.map_err(read)?;
    // A head that does not verify under this key usually means the wrong key, not tampering.
    let head_verifies = state
        .head_mac
        .as_deref()
        .is_none_or(|mac| mac == key.head_mac(state.head_seq, &state.head_chain));
    let checkpoint = (state.checkpoint_seq > 0).then(|| {
        json!({"seq": state.checkpoint_seq, "pruned_records": state.pruned_records,
               "pruned_at_ms": state.pruned_at})
    });
    let mut known_head = state.head_seq;
    let mut verifier = ChainVerifier::new(key, state);
    let mut after = 0;
    let head = loop {
        let page = store
            .list_audit(&AuditQuery::default(), after, AUDIT_PAGE)
            .await
            .map_err(read)?;
        for entry in &page.items {
            after = entry.seq;
            if !verifier.feed(&entry.raw) {
                break;
            }
        }
        if verifier.finding().is_some() {
            break None;
        }
        if page.next_after.is_some() {
            continue;
        }
        // The head is read after the last row: records appended while the trail was read
        // lie past it, and are read before the head is compared.
        let state = store.audit_chain().await.map_err(read)?;
        // Read on only while the head moves past what was read (appends meanwhile); a head
        // beyond the last row otherwise means records missing at the end.
        if state.head_seq <= after || state.head_seq == known_head {
            let head = json!({"seq": state.head_seq, "chain": state.head_chain});
            verifier.set_head(&state);
            break Some(head);
        }
        known_head = state.head_seq;
    };
    Ok(match verifier.finish() {
        Ok(verified) => (
            true,
            json!({"verified": true, "chained_records": verified.chained,
                   "unchained_prefix": verified.unchained_prefix, "checkpoint": checkpoint,
                   "head": head, "key": key.describe()}),
        ),
        Err(finding) => {
            let mut report = json!({"verified": false, "finding": finding.kind(), "seq": finding.seq(),
                   "message": finding.to_string(), "checkpoint": checkpoint, "key": key.describe()});
            if !head_verifies {
                report["hint"] = json!(
                    "the chain head does not verify under this key either: give audit verify the \
                     service's --master-key (or none, if the service runs without one)"
                );
            }
            (false, report)
        }
    })
}

/// The scope a reset request names: nothing (everything), or one of a project ID, a domain
/// ID or an AWS account ID (resolved to its domain through `identities`).
pub fn reset_scope(
    identities: &crate::auth::Identities,
    project_id: Option<&str>,
    domain_id: Option<&str>,
    account: Option<&str>,
) -> Result<crate::domain::ResetScope, String> {
    use crate::domain::ResetScope;
    let named = [project_id, domain_id, account]
        .iter()
        .filter(|v| v.is_some())
        .count();
    if named > 1 {
        return Err("name at most one of project_id, domain_id and account".into());
    }
    let non_empty = |what: &str, value: &str| {
        if value.is_empty() || value.len() > 128 || value.chars().any(char::is_control) {
            Err(format!("{what} must be 1 to 128 printable characters"))
        } else {
            Ok(value.to_owned())
        }
    };
    match (project_id, domain_id, account) {
        (Some(project), _, _) => Ok(ResetScope::Project(non_empty("project_id", project)?)),
        (_, Some(domain), _) => Ok(ResetScope::Domain(non_empty("domain_id", domain)?)),
        (_, _, Some(account)) => identities
            .domain_by_aws_account(account)
            .map(|domain| ResetScope::Domain(domain.id.clone()))
            .ok_or_else(|| {
                format!(
                    "no domain of the identities has the AWS account ID {:?}",
                    crate::domain::text::printable(account)
                )
            }),
        _ => Ok(ResetScope::All),
    }
}

/// `kms-emulator reset`: resets as `POST /_emulator/reset` does, prints the counts as one
/// JSON object.
pub async fn reset(
    config: &Config,
    args: &crate::config::ResetArgs,
    out: &mut impl Write,
) -> Result<crate::domain::ResetCounts, String> {
    let identities = match &config.identities {
        Some(path) => crate::auth::Identities::load(path)?,
        None => crate::auth::Identities::demo(),
    }
    .with_regions(&config.served_regions()?)?;
    let scope = reset_scope(
        &identities,
        args.project_id.as_deref(),
        args.domain_id.as_deref(),
        args.account.as_deref(),
    )?;
    let master_key = crate::app::configured_master_key(config)?;
    let store = store::connect(
        &config.database_url,
        2,
        Duration::from_secs(config.db_connect_retry_secs),
    )
    .await?;
    store.set_audit_key(crate::app::audit_chain_key(master_key.as_ref()));
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let result = reset_and_seed(
        config,
        store.clone(),
        identities,
        master_key,
        &scope,
        &request_id,
    )
    .await;
    store.close().await;
    let (counts, seeded) = result?;
    writeln!(out, "{}", reset_report(&scope, &counts, seeded.as_ref()))
        .map_err(|e| e.to_string())?;
    Ok(counts)
}

/// Resets, then loads `--seed` again when one is configured; the seed needs the master key
/// the keys are wrapped under: the configured one, else the one the service stored.
async fn reset_and_seed(
    config: &Config,
    store: std::sync::Arc<dyn store::Store>,
    identities: crate::auth::Identities,
    master_key: Option<crate::crypto::MasterKey>,
    scope: &crate::domain::ResetScope,
    request_id: &str,
) -> Result<
    (
        crate::domain::ResetCounts,
        Option<crate::domain::seed::SeedCounts>,
    ),
    String,
> {
    let seed = crate::app::read_seed(config)?;
    if seed.is_none() {
        let counts = crate::service::reset(store.as_ref(), scope, "operator:cli", request_id)
            .await
            .map_err(|e| format!("cannot reset: {e}"))?;
        return Ok((counts, None));
    }
    let master_key = match master_key {
        Some(key) => key,
        None => {
            let stored = store
                .setting("master_key")
                .await
                .map_err(|e| format!("cannot read the master key: {e}"))?
                .ok_or("no master key is configured or stored: start the service once, or give --master-key-file")?;
            crate::crypto::MasterKey::from_hex(&stored)?
        }
    };
    let kms = crate::service::Kms::new(
        store,
        crate::app::settings_of(config)?,
        master_key,
        std::sync::Arc::new(identities),
    )
    .with_seed(seed);
    kms.reset(scope, "operator:cli", request_id)
        .await
        .map_err(|e| format!("cannot reset: {e}"))
}

/// What a reset answers (HTTP) or prints (command line): what it deleted, and what the seed
/// inserted again when the service has one.
pub fn reset_report(
    scope: &crate::domain::ResetScope,
    counts: &crate::domain::ResetCounts,
    seeded: Option<&crate::domain::seed::SeedCounts>,
) -> serde_json::Value {
    let mut report = json!({"reset": scope.describe(), "deleted": {"keys": counts.keys, "grants": counts.grants}});
    if let Some(seeded) = seeded {
        report["seeded"] = json!(seeded);
    }
    report
}

/// `kms-emulator snapshot export` / `import FILE`: prints the snapshot, or what an import
/// deleted and loaded, as JSON.
pub async fn snapshot(
    config: &Config,
    action: &crate::config::SnapshotAction,
    out: &mut impl Write,
) -> Result<(), String> {
    use crate::config::SnapshotAction;
    let snapshot = match action {
        SnapshotAction::Export => None,
        SnapshotAction::Import { file } => {
            let text =
                std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let snapshot: store::Snapshot = serde_json::from_slice(&text)
                .map_err(|e| format!("{} is not a snapshot: {e}", file.display()))?;
            snapshot
                .validate()
                .map_err(|e| format!("{}: {e}", file.display()))?;
            Some(snapshot)
        }
    };
    let master_key = crate::app::configured_master_key(config)?;
    let default_region = config.served_regions()?.default_region().to_owned();
    let store = store::connect(
        &config.database_url,
        2,
        Duration::from_secs(config.db_connect_retry_secs),
    )
    .await?;
    store.set_audit_key(crate::app::audit_chain_key(master_key.as_ref()));
    let result = match &snapshot {
        None => store
            .export_snapshot()
            .await
            .map(|snapshot| serde_json::to_value(snapshot).expect("a snapshot serializes")),
        Some(snapshot) => {
            let request_id = uuid::Uuid::new_v4().simple().to_string();
            crate::service::import_snapshot(
                store.as_ref(),
                snapshot,
                &default_region,
                "operator:cli",
                &request_id,
            )
            .await
            .map(|counts| {
                json!({"imported": {"keys": snapshot.keys.len(), "grants": snapshot.grants.len()},
                           "deleted": {"keys": counts.keys, "grants": counts.grants}})
            })
        }
    };
    store.close().await;
    let report = result.map_err(|e| format!("cannot use the database: {e}"))?;
    writeln!(out, "{report}").map_err(|e| e.to_string())
}
