//! Persistence: one trait, implemented for PostgreSQL and for embedded SQLite.
//!
//! Every mutation is a single transaction, and every race is settled by the
//! database (row locks on Postgres, `BEGIN IMMEDIATE` on SQLite), never by state in
//! this process: several emulator processes may share one Postgres database.
//! Authorization decisions are passed in as pure functions and evaluated inside the
//! transaction, on the locked rows.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::{
    Alias, AuditQuery, AuditRecord, Caller, Grant, GrantId, GranteeType, Key, KeyId, KeyState,
    KmsError, ResetCounts, ResetScope, Tag, seed::SeedCounts,
};
pub use crate::domain::{GrantFilter, Page};

#[macro_use]
mod sql;
#[macro_use]
mod rotation_sql;
#[macro_use]
mod import_sql;
#[macro_use]
mod keyspace_sql;
#[macro_use]
mod multi_region_sql;
pub mod postgres;
pub mod sqlite;

/// Why a check inside a write transaction stopped it: the rules refused (recorded in the
/// audit trail by the caller), or a DryRun request passed every check (nothing to record).
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Denied(KmsError),
    DryRun,
}

/// Decides, on the locked key and the caller's own grants on it, whether a new grant may be created.
pub type CreateGrantCheck<'a> =
    &'a (dyn Fn(Option<&Key>, &[Grant]) -> Result<(), Refusal> + Send + Sync);
/// Computes, from the locked key (if any), the key as it should be stored next.
pub type KeyUpdate<'a> = &'a (dyn Fn(Option<&Key>) -> Result<Key, Refusal> + Send + Sync);
/// Decides, on the key a request names and the locked grant it names (with the account of
/// the grant's own key, when that is another key), whether the grant may be deleted.
pub type DeleteGrantCheck<'a> =
    &'a (dyn Fn(Option<&Key>, Option<&Grant>, Option<&str>) -> Result<(), Refusal> + Send + Sync);

/// The audit record of a reset, made from what it deleted.
pub type ResetAudit<'a> = &'a (dyn Fn(&ResetCounts) -> AuditRecord + Send + Sync);
/// The audit record of a seed load, made from what it inserted.
pub type SeedAudit<'a> = &'a (dyn Fn(&SeedCounts) -> AuditRecord + Send + Sync);
/// Decides, on the locked key (`None`: no such key) and its current tags, the key's tags
/// after a change, or refuses.
pub type TagUpdate<'a> =
    &'a (dyn Fn(Option<&Key>, &[Tag]) -> Result<Vec<Tag>, Refusal> + Send + Sync);

/// Decides, on the locked key an alias names (or is to name), whether the alias write may go on.
pub type AliasCheck<'a> = &'a (dyn Fn(Option<&Key>) -> Result<(), Refusal> + Send + Sync);
/// Decides, on the key an alias names now and the locked key it is to name, whether the
/// alias may be re-targeted.
pub type AliasUpdateCheck<'a> =
    &'a (dyn Fn(Option<&Key>, Option<&Key>) -> Result<(), Refusal> + Send + Sync);

/// How long a write whose commit lost its connection keeps trying to read back whether it
/// took effect (a restart or failover usually takes a few seconds).
/// Kept well under the default request timeout (30 s), so the answer says what happened.
pub(crate) const RESOLVE_COMMIT_FOR: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The request broke a rule the store enforces (limits, uniqueness, a lost race);
    /// nothing was written.
    #[error(transparent)]
    Rejected(#[from] KmsError),
    /// A check passed in by the caller stopped the transaction; nothing was written.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// The database could not be reached or did not answer in time.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The connection was lost during COMMIT and the outcome could not be read back.
    #[error("commit outcome unknown: {0}")]
    CommitUnknown(sqlx::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(error)
            }
            // A server shutting down (restart, failover) ends its sessions with an error of its
            // own rather than a broken socket: that is an outage too (503, retry), not a bug (500).
            sqlx::Error::Database(e) if e.code().as_deref().is_some_and(is_outage_sqlstate) => {
                Self::Unavailable(error)
            }
            // A SQLite connection's thread ended (it panicked): the connection is replaced at
            // its next use, so a retry is served.
            sqlx::Error::WorkerCrashed => {
                sqlite::connection_thread_ended();
                Self::Unavailable(error)
            }
            _ => Self::Database(error),
        }
    }
}

/// SQLSTATEs PostgreSQL sends when the server, not the statement, is the problem:
/// class 08 (connection exception), 57P01 admin shutdown, 57P02 crash shutdown,
/// 57P03 cannot connect now (starting up or shutting down).
fn is_outage_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// The IAM tokens `POST /v3/auth/tokens` issues (their hashes).
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Stores an issued IAM token and drops the ones that expired before `now_ms`.
    async fn insert_token(&self, token: &StoredToken, now_ms: i64) -> Result<(), StoreError>;

    /// The token whose SHA-256 (lower-case hex) is `token_sha256`, expired or not.
    async fn find_token(&self, token_sha256: &str) -> Result<Option<StoredToken>, StoreError>;

    /// Deletes the tokens that expired before `now_ms`; returns how many.
    async fn prune_tokens(&self, now_ms: i64) -> Result<u64, StoreError>;

    /// The failed-login count and lock of `subject` (a user id, or a stand-in for an unknown name).
    async fn login_guard(&self, subject: &str) -> Result<Option<LoginGuard>, StoreError>;

    /// Counts a failed login of `subject`: the count restarts when its window of `window_ms`
    /// has passed, and reaching `max_failures` locks the subject for `window_ms`. Returns
    /// whether this failure locked it.
    async fn record_login_failure(
        &self,
        subject: &str,
        now_ms: i64,
        max_failures: u32,
        window_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Forgets the failures of `subject` (after a successful login).
    async fn clear_login_failures(&self, subject: &str) -> Result<(), StoreError>;

    /// Deletes the counts whose window and lock are over; returns how many.
    async fn prune_login_guard(&self, now_ms: i64, window_ms: i64) -> Result<u64, StoreError>;
}

/// Decides, on the locked key and its rotation state (with the emulator's clock), what a
/// rotation operation writes.
pub type RotationDecide<'a> = &'a (
        dyn Fn(
    Option<&Key>,
    &crate::domain::rotation::RotationState,
) -> Result<crate::domain::rotation::RotationPlan, Refusal>
            + Send
            + Sync
    );
/// New material for version `version` of the locked key (its spec says how long), wrapped
/// under the master key.
pub type WrapVersion<'a> = &'a (dyn Fn(&Key, u32) -> Vec<u8> + Send + Sync);

/// Key rotation and the emulator's clock (migration 0009).
#[async_trait]
pub trait RotationStore: Send + Sync + 'static {
    /// The clock offset `POST /_emulator/clock` set, in ms (0 when never moved).
    async fn clock_offset(&self) -> Result<i64, StoreError>;

    /// Adds `delta_ms` to the clock offset (`None`: back to system time); returns the new
    /// offset. Concurrent moves all apply (the addition happens in the database).
    async fn move_clock(&self, delta_ms: Option<i64>) -> Result<i64, StoreError>;

    /// A key's rotation settings and versions, with the clock at `system_now_ms`.
    async fn rotation_state(
        &self,
        key_id: &KeyId,
        system_now_ms: i64,
    ) -> Result<crate::domain::rotation::RotationState, StoreError>;

    /// The wrapped material of version `version` (1, 2, ...) of a key.
    async fn version_material(
        &self,
        key_id: &KeyId,
        version: u32,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// In one transaction: locks the key, reads its rotation state, lets `decide` plan, and
    /// writes the plan (settings, and new versions made by `wrap`). Returns the key and the
    /// state after the write. Of concurrent callers, each sees the others' rotations.
    async fn change_rotation(
        &self,
        key_id: &KeyId,
        system_now_ms: i64,
        decide: RotationDecide<'_>,
        wrap: WrapVersion<'_>,
    ) -> Result<(Key, crate::domain::rotation::RotationState), StoreError>;

    /// A key's rotations, oldest first, after version `after`.
    async fn list_rotations(
        &self,
        key_id: &KeyId,
        after: i64,
        limit: u32,
    ) -> Result<Page<crate::domain::rotation::KeyRotation>, StoreError>;

    /// The IDs of the project's keys whose automatic rotation is enabled.
    async fn rotating_keys(&self, project_id: &str) -> Result<Vec<String>, StoreError>;
}

/// Decides, on the locked key (`None`: no such key), its import record and the time on the
/// emulator's clock, the key and the record to store, or refuses.
pub type ImportDecide<'a> = &'a (
        dyn Fn(
    Option<&Key>,
    Option<&crate::domain::import::ImportedMaterial>,
    i64,
) -> Result<(Key, Option<crate::domain::import::ImportedMaterial>), Refusal>
            + Send
            + Sync
    );

/// Imported key material (migration 0011): import tokens with their wrapping keys, and
/// what was imported into each external key.
#[async_trait]
pub trait ImportStore: Send + Sync + 'static {
    /// Stores an import token, and drops the tokens whose validity ended before `now_ms`
    /// (on the emulator's clock).
    async fn insert_import_token(
        &self,
        token: &crate::domain::import::StoredImportToken,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// The import token whose SHA-256 (lower-case hex) is `token_sha256`, expired or not.
    async fn find_import_token(
        &self,
        token_sha256: &str,
    ) -> Result<Option<crate::domain::import::StoredImportToken>, StoreError>;

    /// The key's import record and the time on the emulator's clock at `system_now_ms`.
    async fn import_record(
        &self,
        key_id: &KeyId,
        system_now_ms: i64,
    ) -> Result<(Option<crate::domain::import::ImportedMaterial>, i64), StoreError>;

    /// In one transaction: locks the key, reads its import record and the clock, lets
    /// `decide` make the key and record to store, and writes the key's state and material
    /// and the record. Of concurrent imports and deletions each sees the others' writes.
    async fn change_import(
        &self,
        key_id: &KeyId,
        system_now_ms: i64,
        decide: ImportDecide<'_>,
    ) -> Result<Key, StoreError>;
}

/// Key policies of trusted key spaces (migration 0015), by project and region.
#[async_trait]
pub trait KeyspaceStore: Send + Sync + 'static {
    async fn insert_keyspace_policy(
        &self,
        policy: &crate::domain::keyspace::KeyspacePolicy,
    ) -> Result<(), StoreError>;

    async fn find_keyspace_policy(
        &self,
        project_id: &str,
        region: &str,
        policy_id: &str,
    ) -> Result<Option<crate::domain::keyspace::KeyspacePolicy>, StoreError>;

    /// Sets the given fields and `last_modify_time` in one statement; `None`: no such policy.
    async fn update_keyspace_policy(
        &self,
        project_id: &str,
        region: &str,
        policy_id: &str,
        policy: Option<&str>,
        description: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<crate::domain::keyspace::KeyspacePolicy>, StoreError>;

    /// Whether the policy existed.
    async fn delete_keyspace_policy(
        &self,
        project_id: &str,
        region: &str,
        policy_id: &str,
    ) -> Result<bool, StoreError>;

    /// A page of the key space's policies by policy ID after `after`, and the marker of
    /// the next page (the last ID of this one) when there is more.
    async fn list_keyspace_policies(
        &self,
        project_id: &str,
        region: &str,
        keyspace_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<crate::domain::keyspace::KeyspacePolicy>, Option<String>), StoreError>;

    /// Records that a capsule was made or opened under the policy.
    async fn touch_keyspace_policy(&self, policy_id: &str, now_ms: i64) -> Result<(), StoreError>;
}

/// Decides, on the locked rows of a multi-Region key as one transaction reads them, whether
/// the write may go ahead.
pub type MultiRegionCheck<'a> = &'a (
        dyn Fn(&crate::domain::multi_region::MultiRegionKey) -> Result<(), KmsError> + Send + Sync
    );

/// Multi-Region keys (migration 0014): one row per region, `ID@REGION`, with its role.
#[async_trait]
pub trait MultiRegionStore: Send + Sync + 'static {
    /// The rows of the multi-Region key `key_id` names (by any region's row; none for a
    /// single-Region key).
    async fn multi_region_key(
        &self,
        key_id: &KeyId,
    ) -> Result<crate::domain::multi_region::MultiRegionKey, StoreError>;

    /// ReplicateKey, in one transaction: locks the key's rows, lets `check` approve them,
    /// and inserts `replica` (the row of the replica's region, material already copied)
    /// with `tags`, its project's key limit and alias uniqueness checked as for a new key,
    /// and every material version of `source`. A concurrent replication into the same
    /// region loses on the primary key of `kms_key` (AlreadyExists).
    async fn insert_replica(
        &self,
        source: &KeyId,
        replica: &Key,
        tags: &[Tag],
        max_keys_per_project: u32,
        check: MultiRegionCheck<'_>,
    ) -> Result<(), StoreError>;

    /// UpdatePrimaryRegion, in one transaction: locks the key's rows, lets `check` approve
    /// them, and makes the row of `primary_region` the primary and every other a replica.
    async fn update_primary_region(
        &self,
        key_id: &KeyId,
        primary_region: &str,
        check: MultiRegionCheck<'_>,
    ) -> Result<crate::domain::multi_region::MultiRegionKey, StoreError>;
}

#[async_trait]
pub trait Store:
    TokenStore + RotationStore + ImportStore + KeyspaceStore + MultiRegionStore
{
    /// "postgres" or "sqlite", for logs and diagnostics.
    fn backend(&self) -> &'static str;

    async fn ping(&self) -> Result<(), StoreError>;

    /// Gives the rows stored before regions existed (region '') the default region, keys and
    /// aliases in one transaction; returns how many of each changed. Run at start.
    async fn fill_default_region(&self, region: &str) -> Result<(u64, u64), StoreError>;

    /// What the store holds, for the health document: the last applied migration and
    /// counts of keys (by state code), grants and projects.
    async fn census(&self) -> Result<Census, StoreError>;

    /// Every project row with its domain (that of its keys; empty when it has none) and how
    /// many keys and grants on them it holds, by project ID (the console's overview).
    async fn project_summaries(&self) -> Result<Vec<ProjectSummary>, StoreError>;

    /// Keys of every project (or of one), in creation order, paginated like `list_keys`.
    async fn list_all_keys(
        &self,
        project_id: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Page<Key>, StoreError>;

    /// The connection pools and their use at this moment (`/metrics`).
    fn pool_use(&self) -> Vec<PoolUse>;

    /// A project's key count and the largest number of grants on one of its keys
    /// (Huawei's user-quotas and user-instances).
    async fn project_usage(&self, project_id: &str) -> Result<(i64, i64), StoreError>;

    /// Inserts a new key unless its alias is taken in the project or the project is full.
    async fn insert_key(
        &self,
        key: &Key,
        tags: &[Tag],
        max_keys_per_project: u32,
    ) -> Result<(), StoreError>;

    async fn find_key(&self, key_id: &KeyId) -> Result<Option<Key>, StoreError>;

    /// Changes a key's state, deletion date and policy as `update` computes from the locked row.
    async fn update_key(&self, key_id: &KeyId, update: KeyUpdate<'_>) -> Result<Key, StoreError>;

    /// The stored value of a service-wide setting, storing `value` first if it has none.
    /// Concurrent callers all get the value that won.
    async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StoreError>;

    /// The stored value of a service-wide setting, if any.
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError>;

    async fn list_keys(
        &self,
        project_id: &str,
        region: &str,
        state: Option<KeyState>,
        after: i64,
        limit: u32,
    ) -> Result<Page<Key>, StoreError>;

    /// The grants on a key that name the caller as grantee (by user or by account).
    async fn grants_to(&self, key_id: &KeyId, caller: &Caller) -> Result<Vec<Grant>, StoreError>;

    /// Inserts `grant`, and `audit` with it, if `check` allows it on the locked key and
    /// the key holds fewer than `max_grants_per_key` grants.
    async fn insert_grant(
        &self,
        caller: &Caller,
        grant: &Grant,
        max_grants_per_key: u32,
        check: CreateGrantCheck<'_>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError>;

    /// Deletes a grant, and writes `audit`, if `check` allows it on the locked row. Of
    /// many concurrent deletes of one grant exactly one succeeds; the others see no grant.
    async fn delete_grant(
        &self,
        key_id: &KeyId,
        grant_id: &GrantId,
        check: DeleteGrantCheck<'_>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError>;

    /// Appends an audit record on its own (refusals: their transaction rolled back).
    async fn append_audit(&self, audit: &AuditRecord) -> Result<(), StoreError>;

    /// Audit records matching `query`, oldest first.
    async fn list_audit(
        &self,
        query: &AuditQuery,
        after: i64,
        limit: u32,
    ) -> Result<Page<AuditEntry>, StoreError>;

    async fn list_grants(
        &self,
        key_id: &KeyId,
        after: i64,
        limit: u32,
    ) -> Result<Page<Grant>, StoreError>;

    /// As `insert_grant`, but when the key already holds a grant with the same name,
    /// issuer and properties (`Grant::same_properties`), that grant is returned and
    /// nothing is inserted or recorded. Returns the grant that is stored.
    async fn insert_grant_or_find_named(
        &self,
        caller: &Caller,
        grant: &Grant,
        max_grants_per_key: u32,
        check: CreateGrantCheck<'_>,
        audit: &AuditRecord,
    ) -> Result<Grant, StoreError>;

    /// The grants on a key that pass `filter`, paginated like `list_grants`.
    async fn list_grants_matching(
        &self,
        key_id: &KeyId,
        filter: &GrantFilter,
        after: i64,
        limit: u32,
    ) -> Result<Page<Grant>, StoreError>;

    /// Grants, on any key of `region`, whose retiring principal is `principal` (a user, or
    /// an account), each with its key.
    async fn list_retirable_grants(
        &self,
        principal: &str,
        kind: GranteeType,
        region: &str,
        after: i64,
        limit: u32,
    ) -> Result<Page<(Grant, Key)>, StoreError>;

    /// Deletes, in one transaction, the grants on the keys of `scope`, then those keys, and
    /// appends (chained like every record) the audit record `audit` makes of what went.
    /// Identities, issued IAM tokens, `kms_project` rows (empty, they only anchor the
    /// per-project lock) and the audit trail stay.
    async fn reset(
        &self,
        scope: &ResetScope,
        audit: ResetAudit<'_>,
    ) -> Result<ResetCounts, StoreError>;

    /// Every key and grant, read in one transaction.
    async fn export_snapshot(&self) -> Result<Snapshot, StoreError>;

    /// Replaces every key and grant with the snapshot's (checked with `Snapshot::validate`
    /// first), in one transaction, and appends the audit record `audit` makes of what was
    /// deleted. Returns what was deleted.
    async fn import_snapshot(
        &self,
        snapshot: &Snapshot,
        audit: ResetAudit<'_>,
    ) -> Result<ResetCounts, StoreError>;
    /// Inserts, in one transaction, the seed's keys (with their tags), grants and aliases
    /// that are not stored yet, and appends the audit record `audit` makes of what went in (none when nothing
    /// did). What is stored is never changed: a key with the seed key's ID, a grant with the
    /// seed grant's ID or an alias naming the same key counts as present. A key alias of
    /// the project or an AWS alias of the account that another key holds is
    /// `KmsError::DuplicateKeyAlias` / `KmsError::AliasExists`, and nothing is inserted.
    /// The per-project key limit does not apply: the operator's fixtures are not a request.
    async fn apply_seed(
        &self,
        keys: &[(Key, Vec<Tag>)],
        grants: &[Grant],
        aliases: &[Alias],
        audit: SeedAudit<'_>,
    ) -> Result<SeedCounts, StoreError>;

    /// Inserts `alias` if `check` allows it on the locked key; an alias of that name in the
    /// account already is `KmsError::AliasExists` (of concurrent creations one wins).
    async fn insert_alias(&self, alias: &Alias, check: AliasCheck<'_>) -> Result<(), StoreError>;

    /// Deletes an alias of the account if `check` allows it on the key it names; a missing
    /// alias is `KmsError::AliasNotFound`.
    async fn delete_alias(
        &self,
        domain_id: &str,
        region: &str,
        alias_name: &str,
        check: AliasCheck<'_>,
    ) -> Result<(), StoreError>;

    /// Points an alias of the account at `key_id` if `check` allows it on the old and the
    /// new key; a missing alias is `KmsError::AliasNotFound`.
    async fn update_alias(
        &self,
        domain_id: &str,
        region: &str,
        alias_name: &str,
        key_id: &KeyId,
        now_ms: i64,
        check: AliasUpdateCheck<'_>,
    ) -> Result<(), StoreError>;

    /// The alias of the account with this name.
    async fn find_alias(
        &self,
        domain_id: &str,
        region: &str,
        alias_name: &str,
    ) -> Result<Option<Alias>, StoreError>;

    /// The account's aliases (those naming `key_id`, when given), by name, after the name
    /// `after`; with the name to continue after when more exist.
    async fn list_aliases(
        &self,
        domain_id: &str,
        region: &str,
        key_id: Option<&KeyId>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<Alias>, Option<String>), StoreError>;

    /// Replaces the key's tags with what `update` makes of the locked key and its tags, in
    /// one transaction; returns the tags stored.
    async fn update_tags(
        &self,
        key_id: &KeyId,
        update: TagUpdate<'_>,
    ) -> Result<Vec<Tag>, StoreError>;

    /// The key's tags, in the order they were first set.
    async fn key_tags(&self, key_id: &KeyId) -> Result<Vec<Tag>, StoreError>;

    /// The tags of every key of the project, by key creation order, then tag order.
    async fn project_tags(&self, project_id: &str) -> Result<Vec<(KeyId, Tag)>, StoreError>;

    /// Records a successful use of a key at `system_now_ms` moved by the emulator's clock
    /// offset (read in the same statement). Of concurrent uses the latest stays, whichever
    /// process wrote it. A key deleted meanwhile is not an error: nothing is recorded.
    async fn record_key_use(
        &self,
        key_id: &KeyId,
        operation: &str,
        system_now_ms: i64,
        request_id: &str,
    ) -> Result<(), StoreError>;

    /// The key's last recorded use, if any.
    async fn key_last_use(
        &self,
        key_id: &KeyId,
    ) -> Result<Option<crate::domain::KeyLastUse>, StoreError>;

    async fn close(&self);

    /// Sets the key that audit records are chained with (see `domain::audit`); must be
    /// called before the first write that records one.
    fn set_audit_key(&self, key: crate::domain::ChainKey);

    /// The chain's head, start and retention checkpoint.
    async fn audit_chain(&self) -> Result<crate::domain::ChainState, StoreError>;

    /// Retention: deletes the oldest records, up to the last one that occurred before
    /// `older_than_ms` (at most a batch per call), after checking that they verify, and
    /// records the last one's chain value as the checkpoint verification starts from.
    /// Returns how many were deleted.
    async fn prune_audit(&self, older_than_ms: i64, now_ms: i64) -> Result<u64, StoreError>;
}

/// What the store holds (the health document).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Census {
    pub schema_version: i64,
    /// `(key state code, number of keys)`, ordered by code.
    pub keys_by_state: Vec<(i64, i64)>,
    pub grants: i64,
    pub projects: i64,
}

/// One project and what it holds (`Store::project_summaries`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSummary {
    pub project_id: String,
    pub domain_id: String,
    pub keys: i64,
    pub grants: i64,
}

/// A connection pool's use: open connections (`size`), of which `idle`, and the most it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUse {
    /// "main", or on SQLite also "readers" (the connections reads hold) and "writer" (its one
    /// write connection).
    pub pool: &'static str,
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl PoolUse {
    pub fn of<DB: sqlx::Database>(pool: &'static str, of: &sqlx::Pool<DB>) -> Self {
        Self {
            pool,
            size: of.size(),
            idle: of.num_idle() as u32,
            max: of.options().get_max_connections(),
        }
    }
}

/// An audit row with its position in the trail (for paging): the record, or why the row is
/// not one this service wrote (it is still listed, marked unreadable), and the row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub record: Result<AuditRecord, String>,
    pub raw: crate::domain::RawAuditRow,
}

/// Failed logins of one subject (`iam_login_guard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginGuard {
    pub window_start: i64,
    pub failures: i64,
    /// Milliseconds since the epoch; in the past when not locked.
    pub locked_until: i64,
}

/// An IAM token as the database keeps it: the hash, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredToken {
    pub token_sha256: String,
    pub user_id: String,
    /// `None` for a domain-scoped token.
    pub project_id: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Opens the store a database URL names and applies its migrations.
///
/// `postgres://` and `postgresql://` select PostgreSQL; `sqlite:` selects an
/// embedded SQLite file, created if missing.
///
/// A PostgreSQL server that does not answer yet (compose starts both at once) is
/// retried with exponential backoff until `retry_for` has passed; every other
/// failure ends the start at once.
pub async fn connect(
    url: &str,
    max_connections: u32,
    retry_for: std::time::Duration,
) -> Result<Arc<dyn Store>, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let started = std::time::Instant::now();
        let mut backoff = std::time::Duration::from_millis(200);
        loop {
            match postgres::PgStore::connect(url, max_connections).await {
                Ok(store) => return Ok(Arc::new(store)),
                Err(error)
                    if is_unreachable(&error) && started.elapsed() + backoff <= retry_for =>
                {
                    tracing::warn!(
                        url = %redact_url(url), %error, retry_in_ms = backoff.as_millis() as u64,
                        "PostgreSQL is not reachable yet"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
                }
                Err(error) if is_unreachable(&error) => {
                    return Err(format!(
                        "cannot open PostgreSQL database {}: {error} (still unreachable after \
                         retrying for {:.1} s; raise --db-connect-retry-secs to wait longer)",
                        redact_url(url),
                        started.elapsed().as_secs_f64()
                    ));
                }
                Err(error) => {
                    return Err(format!(
                        "cannot open PostgreSQL database {}: {error}",
                        redact_url(url)
                    ));
                }
            }
        }
    } else if url.starts_with("sqlite:") {
        let store = sqlite::SqliteStore::connect(url, max_connections)
            .await
            .map_err(|e| format!("cannot open SQLite database {}: {e}", redact_url(url)))?;
        Ok(Arc::new(store))
    } else {
        Err(format!(
            "unsupported database URL {}: use postgres://user@host:port/db or sqlite://path/to/file.db",
            redact_url(url)
        ))
    }
}

fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(e) => e.code().as_deref().is_some_and(is_outage_sqlstate),
        _ => false,
    }
}

/// Hides the password of a database URL (`postgres://user:secret@host` → `postgres://user:***@host`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Parses the stored representation of a grant back into the domain type.
fn grant_from_row(row: sql::GrantRow) -> Result<Grant, StoreError> {
    use crate::domain::GranteeType;
    use crate::domain::grant::split_operations;
    let corrupt = |what: &str| StoreError::Corrupt(format!("grant {}: {what}", row.grant_id));
    Ok(Grant {
        grant_id: GrantId::parse(&row.grant_id).map_err(|_| corrupt("grant_id"))?,
        key_id: KeyId::parse_stored(&row.key_id).map_err(|_| corrupt("key_id"))?,
        grantee_principal_type: GranteeType::parse(&row.grantee_principal_type)
            .map_err(|_| corrupt("grantee_principal_type"))?,
        operations: split_operations(&row.operations).map_err(|_| corrupt("operations"))?,
        grantee_principal: row.grantee_principal,
        issuing_principal: row.issuing_principal,
        retiring_principal: row.retiring_principal,
        // Rows older than the column named users only.
        retiring_principal_type: match row.retiring_principal_type.as_deref() {
            None => GranteeType::User,
            Some(kind) => {
                GranteeType::parse(kind).map_err(|_| corrupt("retiring_principal_type"))?
            }
        },
        dialect: row
            .dialect
            .as_deref()
            .map(|d| crate::domain::Dialect::parse(d).ok_or_else(|| corrupt("dialect")))
            .transpose()?,
        constraint: row
            .context_constraint
            .as_deref()
            .map(|text| {
                crate::domain::ContextConstraint::from_stored(text)
                    .ok_or_else(|| corrupt("context_constraint"))
            })
            .transpose()?,
        name: row.name,
        creation_date: row.creation_date,
    })
}

fn alias_from_row(row: sql::AliasRow) -> Result<Alias, StoreError> {
    Ok(Alias {
        key_id: KeyId::parse_stored(&row.key_id)
            .map_err(|_| StoreError::Corrupt(format!("alias {}: key_id", row.alias_name)))?,
        domain_id: row.domain_id,
        region: row.region,
        alias_name: row.alias_name,
        creation_date: row.creation_date,
        last_updated_date: row.last_updated_date,
    })
}

fn audit_from_row(row: sql::AuditRow) -> Result<AuditEntry, StoreError> {
    let raw = crate::domain::RawAuditRow::from(row);
    Ok(AuditEntry {
        seq: raw.seq,
        record: raw.parse(),
        raw,
    })
}

fn key_from_row(row: sql::KeyRow) -> Result<Key, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("key {}: {what}", row.key_id));
    Ok(Key {
        key_id: KeyId::parse_stored(&row.key_id).map_err(|_| corrupt("key_id"))?,
        key_state: KeyState::from_code(row.key_state).ok_or_else(|| corrupt("key_state"))?,
        project_id: row.project_id,
        domain_id: row.domain_id,
        creator_user_id: row.creator_user_id,
        key_alias: row.key_alias,
        key_description: row.key_description,
        key_spec: row.key_spec,
        key_usage: row.key_usage,
        origin: row.origin,
        creation_date: row.creation_date,
        scheduled_deletion_date: row.scheduled_deletion_date,
        wrapped_material: row.key_material,
        key_policy: row.key_policy,
        region: row.region,
    })
}

#[cfg(test)]
mod tests {
    use super::{is_outage_sqlstate, redact_url};

    #[test]
    fn server_shutdown_codes_are_outages() {
        for code in ["57P01", "57P02", "57P03", "08006", "08003", "08000"] {
            assert!(is_outage_sqlstate(code), "{code}");
        }
        // Statement errors stay database errors (500): retrying will not help.
        for code in ["23505", "40001", "42P01", "57014"] {
            assert!(!is_outage_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let versions = |migrator: &sqlx::migrate::Migrator| {
            migrator
                .iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            versions(&super::postgres::MIGRATOR),
            versions(&super::sqlite::MIGRATOR)
        );
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://kms:secret@db:5432/kms"),
            "postgres://kms:***@db:5432/kms"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact_url("sqlite://kms.db"), "sqlite://kms.db");
    }
}

/// All keys and grants, as `GET /_emulator/snapshot` and `kms-emulator snapshot export` write
/// them and the import reads them back. Key material stays wrapped under the master key: a
/// snapshot loads only into a service with the same master key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// [`SNAPSHOT_FORMAT`].
    pub format: u32,
    /// Keys in creation order.
    pub keys: Vec<SnapshotKey>,
    /// Grants in creation order.
    pub grants: Vec<SnapshotGrant>,
    /// Rotated material (migration 0009), by key and version; absent in older snapshots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_versions: Vec<SnapshotKeyVersion>,
    /// Automatic rotation settings; absent in older snapshots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_rotations: Vec<SnapshotKeyRotation>,
    /// What was imported into external keys (migration 0011); absent in older snapshots.
    /// Open import tokens are not kept: they are for one import within 24 hours.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_imports: Vec<SnapshotKeyImport>,
    /// Tags by key, in the order they were set (absent in snapshots from before tags).
    #[serde(default)]
    pub tags: Vec<SnapshotTag>,
    /// Aliases by account and name (absent in snapshots from before aliases).
    #[serde(default)]
    pub aliases: Vec<SnapshotAlias>,
}

/// A version of a key's material as stored (`key_material` in hex, wrapped).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotKeyVersion {
    pub key_id: String,
    pub version: i64,
    #[serde(with = "hex_vec")]
    pub key_material: Vec<u8>,
    pub rotation_date: i64,
    pub rotation_type: String,
}

/// A key's automatic rotation settings as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotKeyRotation {
    pub key_id: String,
    pub enabled: i64,
    pub period_days: i64,
    pub next_rotation_date: Option<i64>,
}

/// The record of what was imported into an external key, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotKeyImport {
    pub key_id: String,
    pub material_id: String,
    pub expires_at: Option<i64>,
}

mod hex_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hex::lower(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        crate::hex::decode(&text)
            .ok_or_else(|| serde::de::Error::custom("key_material must be hex"))
    }
}

/// A tag row as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotTag {
    pub key_id: String,
    pub tag_key: String,
    pub tag_value: String,
    pub position: i64,
}

/// An alias row as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotAlias {
    pub domain_id: String,
    /// Empty in snapshots written before regions: the default region, filled in on import.
    #[serde(default)]
    pub region: String,
    pub alias_name: String,
    pub key_id: String,
    pub creation_date: i64,
    pub last_updated_date: i64,
}

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// A key row as stored (`key_material` in hex).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotKey {
    pub key_id: String,
    pub project_id: String,
    pub domain_id: String,
    pub creator_user_id: String,
    pub key_alias: String,
    pub key_description: String,
    pub key_spec: String,
    pub key_usage: String,
    pub origin: String,
    pub key_state: i64,
    pub creation_date: i64,
    pub scheduled_deletion_date: Option<i64>,
    #[serde(with = "hex_bytes")]
    pub key_material: Option<Vec<u8>>,
    pub key_policy: Option<String>,
    /// Empty in snapshots written before regions: the default region, filled in on import.
    #[serde(default)]
    pub region: String,
}

/// A grant row as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotGrant {
    pub grant_id: String,
    pub key_id: String,
    pub grantee_principal: String,
    pub grantee_principal_type: String,
    pub operations: String,
    pub issuing_principal: String,
    pub retiring_principal: Option<String>,
    pub name: Option<String>,
    pub creation_date: i64,
    pub context_constraint: Option<String>,
    pub retiring_principal_type: Option<String>,
    pub dialect: Option<String>,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => s.serialize_some(&crate::hex::lower(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                crate::hex::decode(&text)
                    .ok_or_else(|| serde::de::Error::custom("key_material must be hex"))
            })
            .transpose()
    }
}

impl Snapshot {
    /// The snapshot with `region` for the rows that name none (written before regions).
    pub fn with_default_region(&self, region: &str) -> Self {
        let mut snapshot = self.clone();
        for key in &mut snapshot.keys {
            if key.region.is_empty() {
                key.region = region.to_owned();
            }
        }
        for alias in &mut snapshot.aliases {
            if alias.region.is_empty() {
                alias.region = region.to_owned();
            }
        }
        snapshot
    }

    /// Checks that every row reads back as a key or grant, that IDs are unique and that every
    /// grant's key is in the snapshot: an import never stores what the service cannot read.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != SNAPSHOT_FORMAT {
            return Err(format!(
                "snapshot format {} is not {SNAPSHOT_FORMAT}, the one this build reads",
                self.format
            ));
        }
        // PostgreSQL text cannot hold U+0000: refused here, not answered 500 by the insert.
        let text = serde_json::to_string(self).map_err(|e| e.to_string())?;
        if text.contains("\\u0000") {
            return Err("the snapshot holds a NUL character (U+0000)".into());
        }
        let mut keys = std::collections::HashSet::new();
        let mut aliases = std::collections::HashSet::new();
        for key in &self.keys {
            key_from_row(sql::KeyRow::from(key.clone())).map_err(|e| e.to_string())?;
            if !keys.insert(key.key_id.as_str()) {
                return Err(format!("key {} appears twice", key.key_id));
            }
            if !aliases.insert((key.project_id.as_str(), key.key_alias.as_str())) {
                return Err(format!(
                    "alias {:?} appears twice in project {}",
                    key.key_alias, key.project_id
                ));
            }
        }
        let mut versions = std::collections::HashSet::new();
        for v in &self.key_versions {
            if !keys.contains(v.key_id.as_str()) {
                return Err(format!(
                    "key version of {}, which the snapshot does not hold",
                    v.key_id
                ));
            }
            if v.version < 1 || v.version > i64::from(u32::MAX) {
                return Err(format!(
                    "key {} has version {}, not 1 or more",
                    v.key_id, v.version
                ));
            }
            if crate::domain::rotation::RotationType::parse(&v.rotation_type).is_none() {
                return Err(format!(
                    "key {} version {}: rotation_type {:?}",
                    v.key_id, v.version, v.rotation_type
                ));
            }
            if !versions.insert((v.key_id.as_str(), v.version)) {
                return Err(format!(
                    "key {} version {} appears twice",
                    v.key_id, v.version
                ));
            }
        }
        let mut rotations = std::collections::HashSet::new();
        for r in &self.key_rotations {
            if !keys.contains(r.key_id.as_str()) {
                return Err(format!(
                    "rotation settings of {}, which the snapshot does not hold",
                    r.key_id
                ));
            }
            if !matches!(r.enabled, 0 | 1) || r.period_days < 1 {
                return Err(format!("key {}: rotation settings out of range", r.key_id));
            }
            if !rotations.insert(r.key_id.as_str()) {
                return Err(format!(
                    "rotation settings of key {} appear twice",
                    r.key_id
                ));
            }
        }
        let mut imports = std::collections::HashSet::new();
        for i in &self.key_imports {
            if !keys.contains(i.key_id.as_str()) {
                return Err(format!(
                    "import record of {}, which the snapshot does not hold",
                    i.key_id
                ));
            }
            if i.material_id.len() != 64 || !i.material_id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "key {}: material_id is not 64 hex digits",
                    i.key_id
                ));
            }
            if !imports.insert(i.key_id.as_str()) {
                return Err(format!("import record of key {} appears twice", i.key_id));
            }
        }
        let mut grants = std::collections::HashSet::new();
        for grant in &self.grants {
            grant_from_row(sql::GrantRow::from(grant.clone())).map_err(|e| e.to_string())?;
            if !grants.insert(grant.grant_id.as_str()) {
                return Err(format!("grant {} appears twice", grant.grant_id));
            }
            if !keys.contains(grant.key_id.as_str()) {
                return Err(format!(
                    "grant {} is on key {}, which the snapshot does not hold",
                    grant.grant_id, grant.key_id
                ));
            }
        }
        let mut tags = std::collections::HashSet::new();
        for tag in &self.tags {
            if !keys.contains(tag.key_id.as_str()) {
                return Err(format!(
                    "tag {:?} is on key {}, which the snapshot does not hold",
                    tag.tag_key, tag.key_id
                ));
            }
            if !tags.insert((tag.key_id.as_str(), tag.tag_key.as_str())) {
                return Err(format!(
                    "tag {:?} appears twice on key {}",
                    tag.tag_key, tag.key_id
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for alias in &self.aliases {
            if !keys.contains(alias.key_id.as_str()) {
                return Err(format!(
                    "alias {} names key {}, which the snapshot does not hold",
                    alias.alias_name, alias.key_id
                ));
            }
            if !names.insert((alias.domain_id.as_str(), alias.alias_name.as_str())) {
                return Err(format!(
                    "alias {} appears twice in account {}",
                    alias.alias_name, alias.domain_id
                ));
            }
        }
        Ok(())
    }
}
