//! The SQL both backends share. The statements are written once, in the dialect
//! common to PostgreSQL and SQLite (`$n` parameters work in both); the backends differ
//! only in how a write transaction begins and whether rows are locked with
//! `for update`, which each backend passes to `impl_sql_store!`.

#[derive(Debug, sqlx::FromRow)]
pub(super) struct KeyRow {
    pub seq: i64,
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
    pub key_material: Option<Vec<u8>>,
    pub key_policy: Option<String>,
    pub region: String,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct GrantRow {
    pub seq: i64,
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

impl From<super::SnapshotKey> for KeyRow {
    fn from(k: super::SnapshotKey) -> Self {
        Self {
            seq: 0,
            key_id: k.key_id,
            project_id: k.project_id,
            domain_id: k.domain_id,
            creator_user_id: k.creator_user_id,
            key_alias: k.key_alias,
            key_description: k.key_description,
            key_spec: k.key_spec,
            key_usage: k.key_usage,
            origin: k.origin,
            key_state: k.key_state,
            creation_date: k.creation_date,
            scheduled_deletion_date: k.scheduled_deletion_date,
            key_material: k.key_material,
            key_policy: k.key_policy,
            region: k.region,
        }
    }
}

impl From<super::SnapshotGrant> for GrantRow {
    fn from(g: super::SnapshotGrant) -> Self {
        Self {
            seq: 0,
            grant_id: g.grant_id,
            key_id: g.key_id,
            grantee_principal: g.grantee_principal,
            grantee_principal_type: g.grantee_principal_type,
            operations: g.operations,
            issuing_principal: g.issuing_principal,
            retiring_principal: g.retiring_principal,
            name: g.name,
            creation_date: g.creation_date,
            context_constraint: g.context_constraint,
            retiring_principal_type: g.retiring_principal_type,
            dialect: g.dialect,
        }
    }
}

/// A key and the number of its grants, read by one statement (create-grant on SQLite).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct KeyAndGrantCount {
    #[sqlx(flatten)]
    pub key: KeyRow,
    pub grant_count: i64,
}

/// A grant and a key read by one statement (revoke and retire read both, on every call).
/// Columns of the two tables that share a name are prefixed `g_` and `k_`.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct GrantAndKeyRow {
    pub g_seq: i64,
    pub grant_id: String,
    pub g_key_id: String,
    pub grantee_principal: String,
    pub grantee_principal_type: String,
    pub operations: String,
    pub issuing_principal: String,
    pub retiring_principal: Option<String>,
    pub name: Option<String>,
    pub g_creation_date: i64,
    pub context_constraint: Option<String>,
    pub retiring_principal_type: Option<String>,
    pub dialect: Option<String>,
    pub k_seq: i64,
    pub k_key_id: String,
    pub project_id: String,
    pub domain_id: String,
    pub creator_user_id: String,
    pub key_alias: String,
    pub key_description: String,
    pub key_spec: String,
    pub key_usage: String,
    pub origin: String,
    pub key_state: i64,
    pub k_creation_date: i64,
    pub scheduled_deletion_date: Option<i64>,
    pub key_material: Option<Vec<u8>>,
    pub key_policy: Option<String>,
    pub region: String,
}

impl GrantAndKeyRow {
    pub(super) fn split(self) -> (GrantRow, KeyRow) {
        let grant = GrantRow {
            seq: self.g_seq,
            grant_id: self.grant_id,
            key_id: self.g_key_id,
            grantee_principal: self.grantee_principal,
            grantee_principal_type: self.grantee_principal_type,
            operations: self.operations,
            issuing_principal: self.issuing_principal,
            retiring_principal: self.retiring_principal,
            name: self.name,
            creation_date: self.g_creation_date,
            context_constraint: self.context_constraint,
            retiring_principal_type: self.retiring_principal_type,
            dialect: self.dialect,
        };
        let key = KeyRow {
            seq: self.k_seq,
            key_id: self.k_key_id,
            project_id: self.project_id,
            domain_id: self.domain_id,
            creator_user_id: self.creator_user_id,
            key_alias: self.key_alias,
            key_description: self.key_description,
            key_spec: self.key_spec,
            key_usage: self.key_usage,
            origin: self.origin,
            key_state: self.key_state,
            creation_date: self.k_creation_date,
            scheduled_deletion_date: self.scheduled_deletion_date,
            key_material: self.key_material,
            key_policy: self.key_policy,
            region: self.region,
        };
        (grant, key)
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct AliasRow {
    pub domain_id: String,
    pub region: String,
    pub alias_name: String,
    pub key_id: String,
    pub creation_date: i64,
    pub last_updated_date: i64,
}

/// An audit row as stored, every column read as text, so a row this service did not write
/// (an unknown event, a number column holding text on SQLite) still reads.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct AuditRow {
    pub seq: i64,
    pub event: Option<String>,
    pub occurred_at: Option<String>,
    pub request_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub actor_project_id: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub detail: Option<String>,
    pub chain: Option<String>,
}

impl From<AuditRow> for crate::domain::RawAuditRow {
    fn from(row: AuditRow) -> Self {
        Self {
            seq: row.seq,
            event: row.event,
            occurred_at: row.occurred_at,
            request_id: row.request_id,
            actor_user_id: row.actor_user_id,
            actor_project_id: row.actor_project_id,
            key_id: row.key_id,
            grant_id: row.grant_id,
            detail: row.detail,
            chain: row.chain,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ChainRow {
    pub start_seq: i64,
    pub head_seq: i64,
    pub head_chain: String,
    pub head_mac: Option<String>,
    pub checkpoint_seq: i64,
    pub checkpoint_chain: String,
    pub checkpoint_mac: Option<String>,
    pub pruned_records: i64,
    pub pruned_at: Option<i64>,
}

impl From<ChainRow> for crate::domain::ChainState {
    fn from(row: ChainRow) -> Self {
        Self {
            start_seq: row.start_seq,
            head_seq: row.head_seq,
            head_chain: row.head_chain,
            head_mac: row.head_mac,
            checkpoint_seq: row.checkpoint_seq,
            checkpoint_chain: row.checkpoint_chain,
            checkpoint_mac: row.checkpoint_mac,
            pruned_records: row.pruned_records,
            pruned_at: row.pruned_at,
        }
    }
}

macro_rules! audit_columns {
    () => {
        "seq, cast(event as text) as event, cast(occurred_at as text) as occurred_at, \
         cast(request_id as text) as request_id, cast(actor_user_id as text) as actor_user_id, \
         cast(actor_project_id as text) as actor_project_id, cast(key_id as text) as key_id, \
         cast(grant_id as text) as grant_id, cast(detail as text) as detail, cast(chain as text) as chain"
    };
}

macro_rules! chain_columns {
    () => {
        "start_seq, head_seq, head_chain, head_mac, checkpoint_seq, checkpoint_chain, checkpoint_mac, \
         pruned_records, pruned_at"
    };
}

/// The next link of the audit chain, computed under the chain head's lock: the record's seq,
/// its chain value and the head's MAC, and the transaction's last write, which goes to the
/// store with it. Each backend writes them (`append_audit_and_commit`).
pub(super) struct AuditLink<'a> {
    pub seq: i64,
    pub chain: String,
    pub head_mac: String,
    pub audit: &'a crate::domain::AuditRecord,
    pub last_write: LastWrite<'a>,
}

/// The write a transaction ends with, decided before its audit record is appended: sent in
/// the same statement batch (SQLite) or statement (PostgreSQL, a data-modifying `with`) as
/// the append and the commit, so it costs no round trip of its own. Its parameters are
/// numbered from $12, after the audit statement's. Every row it touches was read under the
/// transaction's lock (SQLite's write lock, `for update` on PostgreSQL), so it cannot miss.
#[derive(Clone, Copy)]
pub(super) enum LastWrite<'a> {
    /// The transaction's writes are all done already.
    Done,
    /// `delete_grant_sql!`: revoke and retire.
    DeleteGrant(&'a crate::domain::GrantId),
    /// `insert_grant_sql!`: create-grant.
    InsertGrant(&'a crate::domain::Grant),
}

macro_rules! audit_insert_sql {
    () => {
        "insert into kms_audit (seq, event, occurred_at, request_id, actor_user_id, actor_project_id, \
         key_id, grant_id, detail, chain) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    };
}

macro_rules! chain_head_update_sql {
    () => {
        "update kms_audit_chain set head_seq = $1, head_chain = $10, head_mac = $11 where id = 1"
    };
}

macro_rules! delete_grant_sql {
    () => {
        "delete from kms_grant where grant_id = $12"
    };
}

macro_rules! insert_grant_sql {
    () => {
        "insert into kms_grant (grant_id, key_id, grantee_principal, grantee_principal_type, \
         operations, issuing_principal, retiring_principal, name, creation_date, context_constraint, \
         retiring_principal_type, dialect) \
         values ($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
    };
}

/// How to read back a commit whose outcome was lost with the connection (PostgreSQL; see
/// `commit_or_resolve`): `sql` counts the rows with `id`, which the commit made present or absent.
#[derive(Clone, Copy)]
pub(super) struct CommitProbe<'a> {
    pub sql: &'static str,
    pub id: &'a str,
    pub present: bool,
}

/// Records a retention round verifies and deletes at most, so a first run on a large trail
/// stays a short transaction; the next rounds take the rest.
pub(super) const PRUNE_BATCH: i64 = 10_000;

macro_rules! key_columns {
    () => {
        "seq, key_id, project_id, domain_id, creator_user_id, key_alias, key_description, key_spec, \
         key_usage, origin, key_state, creation_date, scheduled_deletion_date, key_material, key_policy, region"
    };
}

macro_rules! grant_columns {
    () => {
        "seq, grant_id, key_id, grantee_principal, grantee_principal_type, operations, \
         issuing_principal, retiring_principal, name, creation_date, context_constraint, \
         retiring_principal_type, dialect"
    };
}

macro_rules! grant_and_key_columns {
    () => {
        "g.seq as g_seq, g.grant_id, g.key_id as g_key_id, g.grantee_principal, g.grantee_principal_type, \
         g.operations, g.issuing_principal, g.retiring_principal, g.name, g.creation_date as g_creation_date, g.context_constraint, \
         g.retiring_principal_type, g.dialect, k.seq as k_seq, k.key_id as k_key_id, k.project_id, k.domain_id, k.creator_user_id, k.key_alias, \
         k.key_description, k.key_spec, k.key_usage, k.origin, k.key_state, k.creation_date as k_creation_date, \
         k.scheduled_deletion_date, k.key_material, k.key_policy, k.region"
    };
}

/// The operator's audit query: each of key, grant, request, actor and event narrows it when set.
macro_rules! audit_filter {
    () => {
        "($1 is null or key_id = $1) and ($2 is null or grant_id = $2) \
         and ($3 is null or request_id = $3) and ($4 is null or actor_user_id = $4) \
         and ($5 is null or event = $5) and ($6 is null or actor_project_id = $6) \
         and ($7 is null or ($7 = 'denied') = (event like '%-denied'))"
    };
}

/// Turns `limit + 1` fetched rows into a page: the extra row only says that more exist.
pub(super) fn into_page<R, T>(
    mut rows: Vec<R>,
    limit: u32,
    total: i64,
    seq: impl Fn(&R) -> i64,
    convert: impl Fn(R) -> Result<T, super::StoreError>,
) -> Result<super::Page<T>, super::StoreError> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_after = if more { rows.last().map(&seq) } else { None };
    let items = rows
        .into_iter()
        .map(convert)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(super::Page {
        items,
        total,
        next_after,
    })
}

/// A page's row with the count of every row matching, read by the same statement (a scalar
/// subquery, `as page_total`): one round trip instead of two, and the total is of the same
/// snapshot as the page. A page with no rows brings no total; `page_total` then counts apart.
pub(super) struct Counted<R> {
    pub row: R,
    pub total: i64,
}

impl<'r, R, Row> sqlx::FromRow<'r, Row> for Counted<R>
where
    Row: sqlx::Row,
    R: sqlx::FromRow<'r, Row>,
    i64: sqlx::Decode<'r, Row::Database> + sqlx::Type<Row::Database>,
    &'static str: sqlx::ColumnIndex<Row>,
{
    fn from_row(row: &'r Row) -> Result<Self, sqlx::Error> {
        Ok(Self {
            row: R::from_row(row)?,
            total: row.try_get("page_total")?,
        })
    }
}

/// The rows of a counted page and their total; `count_apart` is only run when the page is empty.
pub(super) async fn page_total<R, F>(
    rows: Vec<Counted<R>>,
    count_apart: F,
) -> Result<(Vec<R>, i64), super::StoreError>
where
    F: std::future::Future<Output = Result<i64, super::StoreError>>,
{
    let total = match rows.first() {
        Some(first) => first.total,
        None => count_apart.await?,
    };
    Ok((rows.into_iter().map(|counted| counted.row).collect(), total))
}

/// The insert of a key row, its parameters in `Key`'s field order.
macro_rules! insert_key_sql {
    () => {
        "insert into kms_key (key_id, project_id, domain_id, creator_user_id, key_alias, \
         key_description, key_spec, key_usage, origin, key_state, creation_date, \
         scheduled_deletion_date, key_material, key_policy, region, multi_region_role) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    };
}

/// Implements `Store` for `$store`, a struct with a `pool: sqlx::Pool<$db>` field and
/// inherent `async fn begin_write(&self) -> Result<WriteTx, sqlx::Error>`, where `WriteTx` (a
/// type named at the call site) derefs to the connection and commits like `sqlx::Transaction`,
/// `async fn read(&self)`, a connection for one read (anything that derefs to the connection),
/// `async fn close_pools(&self)` and `fn pool_uses(&self) -> Vec<PoolUse>`.
/// `$lock` is appended to selects whose rows the transaction must hold, `$lock_grant` to
/// the select of a grant joined with its key, which locks only the grant (alias `g`).
macro_rules! impl_sql_store {
    ($store:ty, $db:ty, backend = $backend:literal, lock = $lock:literal, lock_grant = $lock_grant:literal) => {
        use $crate::domain::{AuditQuery, AuditRecord, Caller, Grant, GrantId, Key, KeyId, KeyState, KmsError, Tag};
        use $crate::store::sql::{into_page, AliasRow, AuditRow, ChainRow, GrantAndKeyRow, GrantRow, KeyAndGrantCount, KeyRow};
        use $crate::store::{
            alias_from_row, audit_from_row, grant_from_row, AliasCheck, AliasUpdateCheck, TagUpdate, key_from_row, AuditEntry, Census, CreateGrantCheck, DeleteGrantCheck,
            KeyUpdate, Page, Store, StoreError, TokenStore,
        };

        /// Creates the project's row if need be and locks it: every key insert of a project
        /// holds this lock while it counts the project's keys and checks the alias.
        async fn lock_project(
            conn: &mut <$db as sqlx::Database>::Connection,
            project_id: &str,
        ) -> Result<(), StoreError> {
            sqlx::query("insert into kms_project (project_id) values ($1) on conflict do nothing")
                .bind(project_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(concat!("select project_id from kms_project where project_id = $1", $lock))
                .bind(project_id)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// The checks of a new key row, under `lock_project`'s lock: the project holds fewer
        /// than `max_keys` keys, and none with `alias`.
        async fn check_room_for_key(
            conn: &mut <$db as sqlx::Database>::Connection,
            project_id: &str,
            alias: &str,
            max_keys: u32,
        ) -> Result<(), StoreError> {
            let (count,): (i64,) = sqlx::query_as("select count(*) from kms_key where project_id = $1")
                .bind(project_id)
                .fetch_one(&mut *conn)
                .await?;
            if count >= i64::from(max_keys) {
                return Err(KmsError::TooManyKeys(max_keys).into());
            }
            let taken: Option<(i64,)> =
                sqlx::query_as("select seq from kms_key where project_id = $1 and key_alias = $2")
                    .bind(project_id)
                    .bind(alias)
                    .fetch_optional(&mut *conn)
                    .await?;
            if taken.is_some() {
                return Err(KmsError::DuplicateKeyAlias(alias.to_owned()).into());
            }
            Ok(())
        }

        /// Inserts a key row; with `if_absent`, a row with the key's ID already there is left
        /// alone. Returns the number of rows inserted.
        async fn insert_key_row(
            conn: &mut <$db as sqlx::Database>::Connection,
            key: &Key,
            if_absent: bool,
        ) -> Result<u64, StoreError> {
            let statement = if if_absent {
                concat!(insert_key_sql!(), " on conflict (key_id) do nothing")
            } else {
                insert_key_sql!()
            };
            Ok(sqlx::query(statement)
                .bind(key.key_id.stored())
                .bind(&key.project_id)
                .bind(&key.domain_id)
                .bind(&key.creator_user_id)
                .bind(&key.key_alias)
                .bind(&key.key_description)
                .bind(&key.key_spec)
                .bind(&key.key_usage)
                .bind(&key.origin)
                .bind(key.key_state.code())
                .bind(key.creation_date)
                .bind(key.scheduled_deletion_date)
                .bind(&key.wrapped_material)
                .bind(&key.key_policy)
                .bind(&key.region)
                // A multi-Region key is created as its primary; ReplicateKey marks its replicas.
                // (Snapshots and seeds carry no roles: every row they bring in is a primary.)
                .bind(key.key_id.is_multi_region().then_some("PRIMARY"))
                .execute(&mut *conn)
                .await?
                .rows_affected())
        }

        /// Stores `tags` as the key's tags (the key has none in this transaction), in order.
        async fn insert_tags(
            conn: &mut <$db as sqlx::Database>::Connection,
            key_id: &KeyId,
            tags: &[Tag],
        ) -> Result<(), StoreError> {
            for (position, tag) in tags.iter().enumerate() {
                sqlx::query("insert into kms_tag (key_id, tag_key, tag_value, position) values ($1, $2, $3, $4)")
                    .bind(key_id.stored())
                    .bind(&tag.key)
                    .bind(&tag.value)
                    .bind(position as i64)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        async fn fetch_tags(
            conn: &mut <$db as sqlx::Database>::Connection,
            key_id: &KeyId,
        ) -> Result<Vec<Tag>, StoreError> {
            let rows: Vec<(String, String)> =
                sqlx::query_as("select tag_key, tag_value from kms_tag where key_id = $1 order by position")
                    .bind(key_id.stored())
                    .fetch_all(&mut *conn)
                    .await?;
            Ok(rows.into_iter().map(|(key, value)| Tag { key, value }).collect())
        }

        /// Appends `audit` to the chain and commits `tx`: the head row is locked first
        /// (`for update` on PostgreSQL; SQLite's write lock is already held), so appends of
        /// every process sharing the database form one chain. The record's seq follows both the
        /// head and any row already present, so a row inserted behind the service's back is
        /// never overwritten nor linked to. Every audited write ends with its record, so the
        /// record's writes and the commit go together, in as few round trips as the backend
        /// allows (`append_audit_and_commit`, in each backend's file).
        ///
        /// The head and the highest seq come from each backend's `chain_head`.
        async fn audit_and_commit(
            mut tx: WriteTx,
            pool: &sqlx::Pool<$db>,
            key: &$crate::domain::ChainKey,
            audit: &AuditRecord,
            last_write: $crate::store::sql::LastWrite<'_>,
            probe: Option<$crate::store::sql::CommitProbe<'_>>,
        ) -> Result<(), StoreError> {
            let (head_seq, head_chain, max_seq) = chain_head(&mut tx).await?;
            let seq = max_seq.max(head_seq) + 1;
            let row = $crate::domain::RawAuditRow::of(seq, audit);
            let chain = key.link(&head_chain, &row);
            let head_mac = key.head_mac(seq, &chain);
            let link = $crate::store::sql::AuditLink { seq, chain, head_mac, audit, last_write };
            append_audit_and_commit(tx, pool, &link, probe).await
        }

        /// `sql` (which inserts the audit record, moves the chain head and makes the last
        /// write) with the link's values bound: $1 seq, $2–$9 the record's fields, $10 its
        /// chain value, $11 the head's MAC, from $12 the last write's.
        fn audit_statement<'q>(
            sql: &'static str,
            link: &'q $crate::store::sql::AuditLink<'q>,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
            let audit = link.audit;
            let query = sqlx::query(sql)
                .bind(link.seq)
                .bind(audit.event.as_str())
                .bind(audit.occurred_at)
                .bind(&audit.request_id)
                .bind(&audit.actor_user_id)
                .bind(&audit.actor_project_id)
                .bind(&audit.key_id)
                .bind(&audit.grant_id)
                .bind(&audit.detail)
                .bind(&link.chain)
                .bind(&link.head_mac);
            match link.last_write {
                $crate::store::sql::LastWrite::Done => query,
                $crate::store::sql::LastWrite::DeleteGrant(grant_id) => query.bind(grant_id.as_str()),
                $crate::store::sql::LastWrite::InsertGrant(grant) => bind_grant(query, grant),
            }
        }

        /// `query` with a grant's columns bound next, in `insert_grant_sql!`'s order.
        fn bind_grant<'q>(
            query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>,
            grant: &'q Grant,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
            query
                .bind(grant.grant_id.as_str())
                .bind(grant.key_id.stored())
                .bind(&grant.grantee_principal)
                .bind(grant.grantee_principal_type.as_str())
                .bind($crate::domain::grant::join_operations(&grant.operations))
                .bind(&grant.issuing_principal)
                .bind(&grant.retiring_principal)
                .bind(&grant.name)
                .bind(grant.creation_date)
                .bind(grant.constraint.as_ref().map(|c| c.to_stored()))
                .bind(grant.retiring_principal.as_ref().map(|_| grant.retiring_principal_type.as_str()))
                .bind(grant.dialect.map(|d| d.as_str()))
        }

        async fn fetch_grants_to<'e, E>(executor: E, key_id: &KeyId, caller: &Caller) -> Result<Vec<Grant>, StoreError>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            let rows: Vec<GrantRow> = sqlx::query_as(concat!(
                "select ", grant_columns!(), " from kms_grant where key_id = $1 and (",
                "(grantee_principal_type = 'user' and grantee_principal = $2) or ",
                "(grantee_principal_type = 'domain' and grantee_principal = $3)) order by seq"
            ))
            .bind(key_id.stored())
            .bind(&caller.user_id)
            .bind(&caller.domain_id)
            .fetch_all(executor)
            .await?;
            rows.into_iter().map(grant_from_row).collect()
        }

        impl $store {
            /// The key the audit chain is extended with; set once the master key is known.
            fn chain_key(&self) -> Result<&$crate::domain::ChainKey, StoreError> {
                self.audit_key
                    .get()
                    .ok_or_else(|| StoreError::Corrupt("the audit chain key was never set".into()))
            }

            /// One transaction: lock the key, let `check` decide, enforce the per-key
            /// limit, insert. With `reuse_named`, a grant on the key with the same name,
            /// issuer and properties is returned instead of inserting (AWS's CreateGrant
            /// retry rule); a same-named grant with other properties does not match.
            async fn insert_grant_in_tx(
                &self,
                caller: &Caller,
                grant: &Grant,
                max_grants_per_key: u32,
                check: CreateGrantCheck<'_>,
                reuse_named: bool,
                audit: &AuditRecord,
            ) -> Result<Grant, StoreError> {
                let mut tx = self.begin_write().await?;
                // On SQLite the key's grant count comes with the key (the write lock is held, so
                // nothing changes between them); on PostgreSQL it is counted after the key's lock
                // is granted, since a subquery of the locking select reads the snapshot taken
                // before the wait.
                let (key, known_count): (Option<KeyRow>, Option<i64>) = if $backend == "postgres" {
                    let key: Option<KeyRow> =
                        sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1", $lock))
                            .bind(grant.key_id.stored())
                            .fetch_optional(&mut *tx)
                            .await?;
                    (key, None)
                } else {
                    let row: Option<KeyAndGrantCount> = sqlx::query_as(concat!(
                        "select ", key_columns!(), ", (select count(*) from kms_grant where key_id = $1) as grant_count ",
                        "from kms_key where key_id = $1"
                    ))
                    .bind(grant.key_id.stored())
                    .fetch_optional(&mut *tx)
                    .await?;
                    row.map(|r| (r.key, r.grant_count)).unzip()
                };
                let key = key.map(key_from_row).transpose()?;
                let callers_grants = fetch_grants_to(&mut *tx, &grant.key_id, caller).await?;
                check(key.as_ref(), &callers_grants).map_err(StoreError::Refused)?;
                if reuse_named && let Some(name) = &grant.name {
                    let rows: Vec<GrantRow> = sqlx::query_as(concat!(
                        "select ", grant_columns!(), " from kms_grant where key_id = $1 and name = $2 order by seq"
                    ))
                    .bind(grant.key_id.stored())
                    .bind(name)
                    .fetch_all(&mut *tx)
                    .await?;
                    for row in rows {
                        let existing = grant_from_row(row)?;
                        if existing.same_properties(grant) {
                            tx.commit().await?;
                            return Ok(existing);
                        }
                    }
                }
                let count = match known_count {
                    Some(count) => count,
                    None => {
                        let (count,): (i64,) = sqlx::query_as("select count(*) from kms_grant where key_id = $1")
                            .bind(grant.key_id.stored())
                            .fetch_one(&mut *tx)
                            .await?;
                        count
                    }
                };
                if count >= i64::from(max_grants_per_key) {
                    return Err(KmsError::TooManyGrants {
                        key_id: grant.key_id.stored().to_owned(),
                        limit: max_grants_per_key,
                    }
                    .into());
                }
                // Only a grant that was inserted is recorded: a retry answered with the stored
                // grant changed nothing.
                let probe = $crate::store::sql::CommitProbe {
                    sql: "select count(*) from kms_grant where grant_id = $1",
                    id: grant.grant_id.as_str(),
                    present: true,
                };
                let insert = $crate::store::sql::LastWrite::InsertGrant(grant);
                audit_and_commit(tx, &self.pool, self.chain_key()?, audit, insert, Some(probe)).await?;
                Ok(grant.clone())
            }
        }

        /// Commits `tx`; when the connection is lost during the commit itself, whether it took
        /// effect is unknown (the server may have made it durable and then died before saying
        /// so), so the outcome is read back once the database answers again: `probe` counts
        /// the rows with `id`, which the commit made present (`present`) or absent. Without
        /// this, a revoke answered 503 could still have happened. (For a delete, a concurrent
        /// delete that went through after this one was lost reads the same: either way the grant
        /// is gone, which is what the answer promises.) If the database stays away for the
        /// whole window, the answer says the outcome is unknown.
        async fn commit_or_resolve(
            tx: WriteTx,
            pool: &sqlx::Pool<$db>,
            probe: &'static str,
            id: &str,
            present: bool,
        ) -> Result<(), StoreError> {
            let error = match tx.commit().await {
                Ok(()) => return Ok(()),
                Err(error) => StoreError::from(error),
            };
            if !matches!(error, StoreError::Unavailable(_)) {
                return Err(error);
            }
            let started = std::time::Instant::now();
            while started.elapsed() < $crate::store::RESOLVE_COMMIT_FOR {
                match sqlx::query_as::<_, (i64,)>(probe).bind(id).fetch_one(pool).await {
                    Ok((count,)) => {
                        let committed = (count > 0) == present;
                        tracing::warn!(%error, committed, "connection lost during commit; outcome read back");
                        return if committed { Ok(()) } else { Err(error) };
                    }
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
                }
            }
            match error {
                StoreError::Unavailable(e) => Err(StoreError::CommitUnknown(e)),
                other => Err(other),
            }
        }

        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn fill_default_region(&self, region: &str) -> Result<(u64, u64), StoreError> {
                let mut tx = self.begin_write().await?;
                let keys = sqlx::query("update kms_key set region = $1 where region = ''")
                    .bind(region)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let aliases = sqlx::query("update kms_alias set region = $1 where region = ''")
                    .bind(region)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok((keys, aliases))
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("select 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn project_usage(&self, project_id: &str) -> Result<(i64, i64), StoreError> {
                let (keys,): (i64,) = sqlx::query_as("select count(*) from kms_key where project_id = $1")
                    .bind(project_id)
                    .fetch_one(&mut *self.read().await?)
                    .await?;
                let (grants,): (i64,) = sqlx::query_as(
                    "select coalesce(max(n), 0) from (select count(*) as n from kms_grant g \
                     join kms_key k on k.key_id = g.key_id where k.project_id = $1 group by g.key_id) per_key",
                )
                .bind(project_id)
                .fetch_one(&mut *self.read().await?)
                .await?;
                Ok((keys, grants))
            }

            async fn census(&self) -> Result<Census, StoreError> {
                // One read transaction, so the counts belong to one moment.
                let mut tx = self.pool.begin().await?;
                let (schema_version,): (i64,) = sqlx::query_as(
                    "select coalesce(max(version), 0) from _sqlx_migrations where success",
                )
                .fetch_one(&mut *tx)
                .await?;
                let keys_by_state: Vec<(i64, i64)> = sqlx::query_as(
                    "select key_state, count(*) from kms_key group by key_state order by key_state",
                )
                .fetch_all(&mut *tx)
                .await?;
                let (grants,): (i64,) = sqlx::query_as("select count(*) from kms_grant")
                    .fetch_one(&mut *tx)
                    .await?;
                let (projects,): (i64,) = sqlx::query_as("select count(*) from kms_project")
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Census { schema_version, keys_by_state, grants, projects })
            }

            async fn project_summaries(&self) -> Result<Vec<$crate::store::ProjectSummary>, StoreError> {
                let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                    "select p.project_id, \
                       coalesce((select min(k.domain_id) from kms_key k where k.project_id = p.project_id), ''), \
                       (select count(*) from kms_key k where k.project_id = p.project_id), \
                       (select count(*) from kms_grant g join kms_key k on k.key_id = g.key_id \
                         where k.project_id = p.project_id) \
                     from kms_project p order by p.project_id",
                )
                .fetch_all(&mut *self.read().await?)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(project_id, domain_id, keys, grants)| $crate::store::ProjectSummary {
                        project_id,
                        domain_id,
                        keys,
                        grants,
                    })
                    .collect())
            }

            async fn list_all_keys(
                &self,
                project_id: Option<&str>,
                after: i64,
                limit: u32,
            ) -> Result<Page<Key>, StoreError> {
                let (total,): (i64,) =
                    sqlx::query_as("select count(*) from kms_key where ($1 is null or project_id = $1)")
                        .bind(project_id)
                        .fetch_one(&mut *self.read().await?)
                        .await?;
                let rows: Vec<KeyRow> = sqlx::query_as(concat!(
                    "select ", key_columns!(), " from kms_key where ($1 is null or project_id = $1) ",
                    "and seq > $2 order by seq limit ($3 + 0)"
                ))
                .bind(project_id)
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *self.read().await?)
                .await?;
                into_page(rows, limit, total, |r| r.seq, key_from_row)
            }

            fn pool_use(&self) -> Vec<$crate::store::PoolUse> {
                self.pool_uses()
            }

            #[tracing::instrument(skip_all, fields(key_id = %key.key_id))]
            async fn insert_key(&self, key: &Key, tags: &[Tag], max_keys_per_project: u32) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                lock_project(&mut *tx, &key.project_id).await?;
                check_room_for_key(&mut *tx, &key.project_id, &key.key_alias, max_keys_per_project).await?;
                insert_key_row(&mut *tx, key, false).await?;
                insert_tags(&mut *tx, &key.key_id, tags).await?;
                commit_or_resolve(tx, &self.pool, "select count(*) from kms_key where key_id = $1", key.key_id.stored(), true).await?;
                Ok(())
            }

            async fn find_key(&self, key_id: &KeyId) -> Result<Option<Key>, StoreError> {
                let row: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1"))
                        .bind(key_id.stored())
                        .fetch_optional(&mut *self.read().await?)
                        .await?;
                row.map(key_from_row).transpose()
            }

            #[tracing::instrument(skip_all, fields(key_id = %key_id))]
            async fn update_key(&self, key_id: &KeyId, update: KeyUpdate<'_>) -> Result<Key, StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1", $lock))
                        .bind(key_id.stored())
                        .fetch_optional(&mut *tx)
                        .await?;
                let current = row.map(key_from_row).transpose()?;
                let next = update(current.as_ref()).map_err(StoreError::Refused)?;
                // The unique index (project_id, key_alias) settles a renamed key_alias,
                // also between concurrent renames: the loser is told the alias is taken.
                let updated = sqlx::query(
                    "update kms_key set key_state = $2, scheduled_deletion_date = $3, key_policy = $4, \
                     key_description = $5, key_alias = $6 where key_id = $1",
                )
                .bind(key_id.stored())
                .bind(next.key_state.code())
                .bind(next.scheduled_deletion_date)
                .bind(&next.key_policy)
                .bind(&next.key_description)
                .bind(&next.key_alias)
                .execute(&mut *tx)
                .await;
                match updated {
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        return Err(KmsError::DuplicateKeyAlias(next.key_alias.clone()).into());
                    }
                    other => other?,
                };
                tx.commit().await?;
                Ok(next)
            }

            async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StoreError> {
                sqlx::query("insert into kms_setting (name, value) values ($1, $2) on conflict do nothing")
                    .bind(name)
                    .bind(value)
                    .execute(&self.pool)
                    .await?;
                let (stored,): (String,) = sqlx::query_as("select value from kms_setting where name = $1")
                    .bind(name)
                    .fetch_one(&mut *self.read().await?)
                    .await?;
                Ok(stored)
            }

            async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
                let stored: Option<(String,)> = sqlx::query_as("select value from kms_setting where name = $1")
                    .bind(name)
                    .fetch_optional(&mut *self.read().await?)
                    .await?;
                Ok(stored.map(|(value,)| value))
            }

            async fn list_keys(
                &self,
                project_id: &str,
                region: &str,
                state: Option<KeyState>,
                after: i64,
                limit: u32,
            ) -> Result<Page<Key>, StoreError> {
                let state = state.map_or(0, KeyState::code);
                let (total,): (i64,) = sqlx::query_as(
                    "select count(*) from kms_key where project_id = $1 and ($2 = 0 or key_state = $2) and region = $3",
                )
                .bind(project_id)
                .bind(state)
                .bind(region)
                .fetch_one(&mut *self.read().await?)
                .await?;
                // `limit ($n + 0)`, not `limit $n`, in every page query: SQLite (3.51) reads a bare
                // bound LIMIT while planning and marks the statement to be re-prepared whenever
                // that parameter is bound again, i.e. on every execution (sqlite3ExprIsInteger
                // -> sqlite3VdbeSetVarmask). An expression is evaluated at run time instead, and
                // the cached statement is reused. Same result on both databases.
                let rows: Vec<KeyRow> = sqlx::query_as(concat!(
                    "select ", key_columns!(), " from kms_key where project_id = $1 and region = $5 ",
                    "and ($2 = 0 or key_state = $2) and seq > $3 order by seq limit ($4 + 0)"
                ))
                .bind(project_id)
                .bind(state)
                .bind(after)
                .bind(i64::from(limit) + 1)
                .bind(region)
                .fetch_all(&mut *self.read().await?)
                .await?;
                into_page(rows, limit, total, |r| r.seq, key_from_row)
            }

            async fn grants_to(&self, key_id: &KeyId, caller: &Caller) -> Result<Vec<Grant>, StoreError> {
                fetch_grants_to(&mut *self.read().await?, key_id, caller).await
            }

            #[tracing::instrument(skip_all, fields(key_id = %grant.key_id, grant_id = %grant.grant_id))]
            async fn insert_grant(
                &self,
                caller: &Caller,
                grant: &Grant,
                max_grants_per_key: u32,
                check: CreateGrantCheck<'_>,
                audit: &AuditRecord,
            ) -> Result<(), StoreError> {
                self.insert_grant_in_tx(caller, grant, max_grants_per_key, check, false, audit)
                    .await
                    .map(|_| ())
            }

            #[tracing::instrument(skip_all, fields(key_id = %grant.key_id, grant_id = %grant.grant_id))]
            async fn insert_grant_or_find_named(
                &self,
                caller: &Caller,
                grant: &Grant,
                max_grants_per_key: u32,
                check: CreateGrantCheck<'_>,
                audit: &AuditRecord,
            ) -> Result<Grant, StoreError> {
                self.insert_grant_in_tx(caller, grant, max_grants_per_key, check, true, audit)
                    .await
            }

            async fn list_grants_matching(
                &self,
                key_id: &KeyId,
                filter: &$crate::store::GrantFilter,
                after: i64,
                limit: u32,
            ) -> Result<Page<Grant>, StoreError> {
                let grant_id = filter.grant_id.as_ref().map(|g| g.as_str().to_owned());
                let (grantee, grantee_type) = match &filter.grantee {
                    Some((principal, kind)) => (Some(principal.clone()), Some(kind.as_str())),
                    None => (None, None),
                };
                macro_rules! matching {
                    () => {
                        "key_id = $1 and ($2 is null or grant_id = $2) \
                         and ($3 is null or (grantee_principal = $3 and grantee_principal_type = $4))"
                    };
                }
                let rows: Vec<$crate::store::sql::Counted<GrantRow>> = sqlx::query_as(concat!(
                    "select ", grant_columns!(), ", (select count(*) from kms_grant where ", matching!(),
                    ") as page_total from kms_grant where ", matching!(), " and seq > $5 order by seq limit ($6 + 0)"
                ))
                .bind(key_id.stored())
                .bind(&grant_id)
                .bind(&grantee)
                .bind(grantee_type)
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *self.read().await?)
                .await?;
                let (rows, total) = $crate::store::sql::page_total(rows, async {
                    let (total,): (i64,) = sqlx::query_as(concat!("select count(*) from kms_grant where ", matching!()))
                        .bind(key_id.stored())
                        .bind(&grant_id)
                        .bind(&grantee)
                        .bind(grantee_type)
                        .fetch_one(&mut *self.read().await?)
                        .await?;
                    Ok(total)
                })
                .await?;
                into_page(rows, limit, total, |r| r.seq, grant_from_row)
            }

            #[tracing::instrument(skip_all, fields(key_id = %key_id, grant_id = %grant_id))]
            async fn delete_grant(
                &self,
                key_id: &KeyId,
                grant_id: &GrantId,
                check: DeleteGrantCheck<'_>,
                audit: &AuditRecord,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                // One round trip when both exist, the usual case; apart only when one is missing.
                let both: Option<GrantAndKeyRow> = sqlx::query_as(concat!(
                    "select ", grant_and_key_columns!(), " from kms_grant g, kms_key k ",
                    "where g.grant_id = $1 and k.key_id = $2", $lock_grant
                ))
                .bind(grant_id.as_str())
                .bind(key_id.stored())
                .fetch_optional(&mut *tx)
                .await?;
                let (grant, key) = match both {
                    Some(row) => {
                        let (grant, key) = row.split();
                        (Some(grant_from_row(grant)?), Some(key_from_row(key)?))
                    }
                    None => {
                        let grant: Option<GrantRow> = sqlx::query_as(concat!(
                            "select ", grant_columns!(), " from kms_grant where grant_id = $1", $lock
                        ))
                        .bind(grant_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                        let key: Option<KeyRow> =
                            sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1"))
                                .bind(key_id.stored())
                                .fetch_optional(&mut *tx)
                                .await?;
                        (grant.map(grant_from_row).transpose()?, key.map(key_from_row).transpose()?)
                    }
                };
                // The account of the grant's own key, only needed when it is another key (rare).
                let grant_key_domain = match &grant {
                    Some(g) if g.key_id != *key_id => {
                        let row: Option<(String,)> = sqlx::query_as("select domain_id from kms_key where key_id = $1")
                            .bind(g.key_id.stored())
                            .fetch_optional(&mut *tx)
                            .await?;
                        row.map(|(domain,)| domain)
                    }
                    _ => None,
                };
                check(key.as_ref(), grant.as_ref(), grant_key_domain.as_deref()).map_err(StoreError::Refused)?;
                // The check refuses a grant that is not there; the one it passed is locked.
                let delete = $crate::store::sql::LastWrite::DeleteGrant(grant_id);
                let probe = $crate::store::sql::CommitProbe {
                    sql: "select count(*) from kms_grant where grant_id = $1",
                    id: grant_id.as_str(),
                    present: false,
                };
                audit_and_commit(tx, &self.pool, self.chain_key()?, audit, delete, Some(probe)).await?;
                Ok(())
            }

            async fn append_audit(&self, audit: &AuditRecord) -> Result<(), StoreError> {
                // Through the write path like every write, so SQLite's writers queue.
                let tx = self.begin_write().await?;
                audit_and_commit(tx, &self.pool, self.chain_key()?, audit, $crate::store::sql::LastWrite::Done, None).await?;
                Ok(())
            }

            async fn list_audit(
                &self,
                query: &AuditQuery,
                after: i64,
                limit: u32,
            ) -> Result<Page<AuditEntry>, StoreError> {
                let event = query.event.map(|e| e.as_str());
                let outcome = query.outcome.map(|o| o.as_str());
                let (total,): (i64,) =
                    sqlx::query_as(concat!("select count(*) from kms_audit where ", audit_filter!()))
                        .bind(&query.key_id)
                        .bind(&query.grant_id)
                        .bind(&query.request_id)
                        .bind(&query.actor_user_id)
                        .bind(event)
                        .bind(&query.actor_project_id)
                        .bind(outcome)
                        .fetch_one(&mut *self.read().await?)
                        .await?;
                let (statement, after) = if query.newest_first {
                    (
                        concat!(
                            "select ", audit_columns!(), " from kms_audit where ", audit_filter!(),
                            " and seq < $8 order by seq desc limit ($9 + 0)"
                        ),
                        if after <= 0 { i64::MAX } else { after },
                    )
                } else {
                    (
                        concat!(
                            "select ", audit_columns!(), " from kms_audit where ", audit_filter!(),
                            " and seq > $8 order by seq limit ($9 + 0)"
                        ),
                        after,
                    )
                };
                let rows: Vec<AuditRow> = sqlx::query_as(statement)
                .bind(&query.key_id)
                .bind(&query.grant_id)
                .bind(&query.request_id)
                .bind(&query.actor_user_id)
                .bind(event)
                .bind(&query.actor_project_id)
                .bind(outcome)
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *self.read().await?)
                .await?;
                into_page(rows, limit, total, |r| r.seq, audit_from_row)
            }

            async fn list_grants(&self, key_id: &KeyId, after: i64, limit: u32) -> Result<Page<Grant>, StoreError> {
                let rows: Vec<$crate::store::sql::Counted<GrantRow>> = sqlx::query_as(concat!(
                    "select ", grant_columns!(), ", (select count(*) from kms_grant where key_id = $1) as page_total ",
                    "from kms_grant where key_id = $1 and seq > $2 order by seq limit ($3 + 0)"
                ))
                .bind(key_id.stored())
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *self.read().await?)
                .await?;
                let (rows, total) = $crate::store::sql::page_total(rows, async {
                    let (total,): (i64,) = sqlx::query_as("select count(*) from kms_grant where key_id = $1")
                        .bind(key_id.stored())
                        .fetch_one(&mut *self.read().await?)
                        .await?;
                    Ok(total)
                })
                .await?;
                into_page(rows, limit, total, |r| r.seq, grant_from_row)
            }

            async fn list_retirable_grants(
                &self,
                principal: &str,
                kind: $crate::domain::GranteeType,
                region: &str,
                after: i64,
                limit: u32,
            ) -> Result<Page<(Grant, Key)>, StoreError> {
                // Rows older than retiring_principal_type named users (null reads as 'user').
                // Both clouds list a region's grants: those on keys of another region are not
                // there, as the keys themselves are not.
                macro_rules! retirable {
                    () => {
                        "g.retiring_principal = $1 and coalesce(g.retiring_principal_type, 'user') = $2 and k.region = $3"
                    };
                }
                // The subquery's own g and k hide the outer ones: it counts every match.
                let rows: Vec<$crate::store::sql::Counted<GrantAndKeyRow>> = sqlx::query_as(concat!(
                    "select ", grant_and_key_columns!(), ", (select count(*) from kms_grant g join kms_key k ",
                    "on k.key_id = g.key_id where ", retirable!(), ") as page_total ",
                    "from kms_grant g join kms_key k on k.key_id = g.key_id ",
                    "where ", retirable!(), " and g.seq > $4 order by g.seq limit ($5 + 0)"
                ))
                .bind(principal)
                .bind(kind.as_str())
                .bind(region)
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *self.read().await?)
                .await?;
                let (rows, total) = $crate::store::sql::page_total(rows, async {
                    let (total,): (i64,) = sqlx::query_as(concat!(
                        "select count(*) from kms_grant g join kms_key k on k.key_id = g.key_id where ",
                        retirable!()
                    ))
                    .bind(principal)
                    .bind(kind.as_str())
                    .bind(region)
                    .fetch_one(&mut *self.read().await?)
                    .await?;
                    Ok(total)
                })
                .await?;
                into_page(rows, limit, total, |r| r.g_seq, |row| {
                    let (grant, key) = row.split();
                    Ok((grant_from_row(grant)?, key_from_row(key)?))
                })
            }

            async fn reset(
                &self,
                scope: &$crate::domain::ResetScope,
                audit: $crate::store::ResetAudit<'_>,
            ) -> Result<$crate::domain::ResetCounts, StoreError> {
                macro_rules! in_scope {
                    () => {
                        "($1 is null or project_id = $1) and ($2 is null or domain_id = $2)"
                    };
                }
                let (project, domain) = scope.filters();
                let key = self.chain_key()?;
                let mut tx = self.begin_write().await?;
                // Grants first, though the foreign key cascades: the count is of what went.
                let grants = sqlx::query(concat!(
                    "delete from kms_grant where key_id in (select key_id from kms_key where ", in_scope!(), ")"
                ))
                .bind(project)
                .bind(domain)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                // Tags and aliases go with their keys (the foreign keys cascade too).
                for table in ["kms_tag", "kms_alias", "kms_key_last_use"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        concat!("delete from {} where key_id in (select key_id from kms_key where ", in_scope!(), ")"),
                        table
                    )))
                    .bind(project)
                    .bind(domain)
                    .execute(&mut *tx)
                    .await?;
                }
                let keys = sqlx::query(concat!("delete from kms_key where ", in_scope!()))
                    .bind(project)
                    .bind(domain)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let counts = $crate::domain::ResetCounts { keys, grants };
                audit_and_commit(tx, &self.pool, key, &audit(&counts), $crate::store::sql::LastWrite::Done, None).await?;
                Ok(counts)
            }

            async fn export_snapshot(&self) -> Result<$crate::store::Snapshot, StoreError> {
                // One read transaction: the keys and grants of one moment.
                let mut tx = self.pool.begin().await?;
                let keys: Vec<$crate::store::SnapshotKey> = sqlx::query_as(
                    "select key_id, project_id, domain_id, creator_user_id, key_alias, key_description, key_spec, \
                     key_usage, origin, key_state, creation_date, scheduled_deletion_date, key_material, key_policy, region \
                     from kms_key order by seq",
                )
                .fetch_all(&mut *tx)
                .await?;
                let grants: Vec<$crate::store::SnapshotGrant> = sqlx::query_as(
                    "select grant_id, key_id, grantee_principal, grantee_principal_type, operations, \
                     issuing_principal, retiring_principal, name, creation_date, context_constraint, \
                     retiring_principal_type, dialect from kms_grant order by seq",
                )
                .fetch_all(&mut *tx)
                .await?;
                let tags: Vec<$crate::store::SnapshotTag> = sqlx::query_as(
                    "select t.key_id, t.tag_key, t.tag_value, t.position from kms_tag t \
                     join kms_key k on k.key_id = t.key_id order by k.seq, t.position",
                )
                .fetch_all(&mut *tx)
                .await?;
                let aliases: Vec<$crate::store::SnapshotAlias> = sqlx::query_as(
                    "select domain_id, region, alias_name, key_id, creation_date, last_updated_date from kms_alias \
                     order by domain_id, region, alias_name",
                )
                .fetch_all(&mut *tx)
                .await?;
                let (key_versions, key_rotations) = export_rotation(&mut tx).await?;
                let key_imports = export_imports(&mut tx).await?;
                tx.commit().await?;
                Ok($crate::store::Snapshot {
                    format: $crate::store::SNAPSHOT_FORMAT,
                    keys,
                    grants,
                    key_versions,
                    key_rotations,
                    key_imports,
                    tags,
                    aliases,
                })
            }

            async fn import_snapshot(
                &self,
                snapshot: &$crate::store::Snapshot,
                audit: $crate::store::ResetAudit<'_>,
            ) -> Result<$crate::domain::ResetCounts, StoreError> {
                let chain_key = self.chain_key()?;
                let mut tx = self.begin_write().await?;
                let grants = sqlx::query("delete from kms_grant").execute(&mut *tx).await?.rows_affected();
                sqlx::query("delete from kms_tag").execute(&mut *tx).await?;
                sqlx::query("delete from kms_alias").execute(&mut *tx).await?;
                sqlx::query("delete from kms_key_last_use").execute(&mut *tx).await?;
                let keys = sqlx::query("delete from kms_key").execute(&mut *tx).await?.rows_affected();
                for key in &snapshot.keys {
                    sqlx::query("insert into kms_project (project_id) values ($1) on conflict do nothing")
                        .bind(&key.project_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(insert_key_sql!())
                    .bind(&key.key_id)
                    .bind(&key.project_id)
                    .bind(&key.domain_id)
                    .bind(&key.creator_user_id)
                    .bind(&key.key_alias)
                    .bind(&key.key_description)
                    .bind(&key.key_spec)
                    .bind(&key.key_usage)
                    .bind(&key.origin)
                    .bind(key.key_state)
                    .bind(key.creation_date)
                    .bind(key.scheduled_deletion_date)
                    .bind(&key.key_material)
                    .bind(&key.key_policy)
                    .bind(&key.region)
                    // Snapshots carry no multi-Region roles: every mrk- row comes back a primary.
                    .bind(key.key_id.starts_with("mrk-").then_some("PRIMARY"))
                    .execute(&mut *tx)
                    .await?;
                }
                for grant in &snapshot.grants {
                    sqlx::query(
                        "insert into kms_grant (grant_id, key_id, grantee_principal, grantee_principal_type, \
                         operations, issuing_principal, retiring_principal, name, creation_date, context_constraint, \
                         retiring_principal_type, dialect) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(&grant.grant_id)
                    .bind(&grant.key_id)
                    .bind(&grant.grantee_principal)
                    .bind(&grant.grantee_principal_type)
                    .bind(&grant.operations)
                    .bind(&grant.issuing_principal)
                    .bind(&grant.retiring_principal)
                    .bind(&grant.name)
                    .bind(grant.creation_date)
                    .bind(&grant.context_constraint)
                    .bind(&grant.retiring_principal_type)
                    .bind(&grant.dialect)
                    .execute(&mut *tx)
                    .await?;
                }
                import_rotation(&mut tx, snapshot).await?;
                import_imports(&mut tx, snapshot).await?;
                for tag in &snapshot.tags {
                    sqlx::query("insert into kms_tag (key_id, tag_key, tag_value, position) values ($1, $2, $3, $4)")
                        .bind(&tag.key_id)
                        .bind(&tag.tag_key)
                        .bind(&tag.tag_value)
                        .bind(tag.position)
                        .execute(&mut *tx)
                        .await?;
                }
                for alias in &snapshot.aliases {
                    sqlx::query(
                        "insert into kms_alias (domain_id, alias_name, key_id, creation_date, last_updated_date, region) \
                         values ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&alias.domain_id)
                    .bind(&alias.alias_name)
                    .bind(&alias.key_id)
                    .bind(alias.creation_date)
                    .bind(alias.last_updated_date)
                    .bind(&alias.region)
                    .execute(&mut *tx)
                    .await?;
                }
                let counts = $crate::domain::ResetCounts { keys, grants };
                audit_and_commit(tx, &self.pool, chain_key, &audit(&counts), $crate::store::sql::LastWrite::Done, None).await?;
                Ok(counts)
            }

            async fn apply_seed(
                &self,
                keys: &[(Key, Vec<Tag>)],
                grants: &[Grant],
                aliases: &[$crate::domain::Alias],
                audit: $crate::store::SeedAudit<'_>,
            ) -> Result<$crate::domain::seed::SeedCounts, StoreError> {
                let chain_key = self.chain_key()?;
                let mut counts = $crate::domain::seed::SeedCounts::default();
                let mut tx = self.begin_write().await?;
                for (key, tags) in keys {
                    sqlx::query("insert into kms_project (project_id) values ($1) on conflict do nothing")
                        .bind(&key.project_id)
                        .execute(&mut *tx)
                        .await?;
                    let stored: Option<(i64,)> = sqlx::query_as("select seq from kms_key where key_id = $1")
                        .bind(key.key_id.stored())
                        .fetch_optional(&mut *tx)
                        .await?;
                    if stored.is_some() {
                        continue;
                    }
                    let taken: Option<(i64,)> =
                        sqlx::query_as("select seq from kms_key where project_id = $1 and key_alias = $2")
                            .bind(&key.project_id)
                            .bind(&key.key_alias)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if taken.is_some() {
                        return Err(KmsError::DuplicateKeyAlias(key.key_alias.clone()).into());
                    }
                    // A process loading the same seed at the same moment may insert the key
                    // first: its row is the seed's key, so this one inserts nothing.
                    let inserted = insert_key_row(&mut *tx, key, true).await?;
                    if inserted == 1 {
                        insert_tags(&mut *tx, &key.key_id, tags).await?;
                    }
                    counts.keys += inserted;
                }
                for grant in grants {
                    counts.grants += bind_grant(sqlx::query(
                        "insert into kms_grant (grant_id, key_id, grantee_principal, grantee_principal_type, \
                         operations, issuing_principal, retiring_principal, name, creation_date, context_constraint, \
                         retiring_principal_type, dialect) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                         on conflict (grant_id) do nothing",
                    ), grant)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                for alias in aliases {
                    let inserted = sqlx::query(
                        "insert into kms_alias (domain_id, alias_name, key_id, creation_date, last_updated_date, region) \
                         values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
                    )
                    .bind(&alias.domain_id)
                    .bind(&alias.alias_name)
                    .bind(alias.key_id.stored())
                    .bind(alias.creation_date)
                    .bind(alias.last_updated_date)
                    .bind(&alias.region)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if inserted == 0 {
                        let (named,): (String,) =
                            sqlx::query_as("select key_id from kms_alias where domain_id = $1 and region = $2 and alias_name = $3")
                                .bind(&alias.domain_id)
                                .bind(&alias.region)
                                .bind(&alias.alias_name)
                                .fetch_one(&mut *tx)
                                .await?;
                        if named != alias.key_id.stored() {
                            return Err(KmsError::AliasExists(alias.alias_name.clone()).into());
                        }
                    }
                    counts.aliases += inserted;
                }
                if counts.is_empty() {
                    tx.commit().await?;
                } else {
                    audit_and_commit(tx, &self.pool, chain_key, &audit(&counts), $crate::store::sql::LastWrite::Done, None).await?;
                }
                Ok(counts)
            }

            #[tracing::instrument(skip_all, fields(key_id = %alias.key_id))]
            async fn insert_alias(&self, alias: &$crate::domain::Alias, check: AliasCheck<'_>) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let key: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1", $lock))
                        .bind(alias.key_id.stored())
                        .fetch_optional(&mut *tx)
                        .await?;
                let key = key.map(key_from_row).transpose()?;
                check(key.as_ref()).map_err(StoreError::Refused)?;
                // The primary key settles concurrent creations: the loser inserts nothing.
                let inserted = sqlx::query(
                    "insert into kms_alias (domain_id, alias_name, key_id, creation_date, last_updated_date, region) \
                     values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
                )
                .bind(&alias.domain_id)
                .bind(&alias.alias_name)
                .bind(alias.key_id.stored())
                .bind(alias.creation_date)
                .bind(alias.last_updated_date)
                .bind(&alias.region)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted != 1 {
                    return Err(KmsError::AliasExists(alias.alias_name.clone()).into());
                }
                tx.commit().await?;
                Ok(())
            }

            async fn delete_alias(&self, domain_id: &str, region: &str, alias_name: &str, check: AliasCheck<'_>) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let alias: Option<(String,)> = sqlx::query_as(concat!(
                    "select key_id from kms_alias where domain_id = $1 and alias_name = $2 and region = $3", $lock
                ))
                .bind(domain_id)
                .bind(alias_name)
                .bind(region)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((key_id,)) = alias else {
                    return Err(KmsError::AliasNotFound(alias_name.to_owned()).into());
                };
                let key: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1"))
                        .bind(&key_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let key = key.map(key_from_row).transpose()?;
                check(key.as_ref()).map_err(StoreError::Refused)?;
                let deleted = sqlx::query("delete from kms_alias where domain_id = $1 and alias_name = $2 and region = $3")
                    .bind(domain_id)
                    .bind(alias_name)
                    .bind(region)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if deleted != 1 {
                    return Err(KmsError::AliasNotFound(alias_name.to_owned()).into());
                }
                tx.commit().await?;
                Ok(())
            }

            async fn update_alias(
                &self,
                domain_id: &str,
                region: &str,
                alias_name: &str,
                key_id: &KeyId,
                now_ms: i64,
                check: AliasUpdateCheck<'_>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let alias: Option<(String,)> = sqlx::query_as(concat!(
                    "select key_id from kms_alias where domain_id = $1 and alias_name = $2 and region = $3", $lock
                ))
                .bind(domain_id)
                .bind(alias_name)
                .bind(region)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((old_key_id,)) = alias else {
                    return Err(KmsError::AliasNotFound(alias_name.to_owned()).into());
                };
                let old: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1"))
                        .bind(&old_key_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let new: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1", $lock))
                        .bind(key_id.stored())
                        .fetch_optional(&mut *tx)
                        .await?;
                let old = old.map(key_from_row).transpose()?;
                let new = new.map(key_from_row).transpose()?;
                check(old.as_ref(), new.as_ref()).map_err(StoreError::Refused)?;
                sqlx::query(
                    "update kms_alias set key_id = $3, last_updated_date = $4 where domain_id = $1 and alias_name = $2 and region = $5",
                )
                .bind(domain_id)
                .bind(alias_name)
                .bind(key_id.stored())
                .bind(now_ms)
                .bind(region)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn find_alias(&self, domain_id: &str, region: &str, alias_name: &str) -> Result<Option<$crate::domain::Alias>, StoreError> {
                let row: Option<AliasRow> = sqlx::query_as(
                    "select domain_id, region, alias_name, key_id, creation_date, last_updated_date from kms_alias \
                     where domain_id = $1 and alias_name = $2 and region = $3",
                )
                .bind(domain_id)
                .bind(alias_name)
                .bind(region)
                .fetch_optional(&mut *self.read().await?)
                .await?;
                row.map(alias_from_row).transpose()
            }

            async fn list_aliases(
                &self,
                domain_id: &str,
                region: &str,
                key_id: Option<&KeyId>,
                after: Option<&str>,
                limit: u32,
            ) -> Result<(Vec<$crate::domain::Alias>, Option<String>), StoreError> {
                let mut rows: Vec<AliasRow> = sqlx::query_as(
                    "select domain_id, region, alias_name, key_id, creation_date, last_updated_date from kms_alias \
                     where domain_id = $1 and ($2 is null or key_id = $2) and ($3 is null or alias_name > $3) \
                     and region = $5 order by alias_name limit ($4 + 0)",
                )
                .bind(domain_id)
                .bind(key_id.map(|k| k.stored()))
                .bind(after)
                .bind(i64::from(limit) + 1)
                .bind(region)
                .fetch_all(&mut *self.read().await?)
                .await?;
                let more = rows.len() > limit as usize;
                rows.truncate(limit as usize);
                let next = if more { rows.last().map(|r| r.alias_name.clone()) } else { None };
                let aliases = rows.into_iter().map(alias_from_row).collect::<Result<Vec<_>, _>>()?;
                Ok((aliases, next))
            }

            #[tracing::instrument(skip_all, fields(key_id = %key_id))]
            async fn update_tags(&self, key_id: &KeyId, update: TagUpdate<'_>) -> Result<Vec<Tag>, StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1", $lock))
                        .bind(key_id.stored())
                        .fetch_optional(&mut *tx)
                        .await?;
                let key = row.map(key_from_row).transpose()?;
                let current = if key.is_some() { fetch_tags(&mut *tx, key_id).await? } else { Vec::new() };
                let next = update(key.as_ref(), &current).map_err(StoreError::Refused)?;
                sqlx::query("delete from kms_tag where key_id = $1")
                    .bind(key_id.stored())
                    .execute(&mut *tx)
                    .await?;
                insert_tags(&mut *tx, key_id, &next).await?;
                tx.commit().await?;
                Ok(next)
            }

            async fn record_key_use(
                &self,
                key_id: &KeyId,
                operation: &str,
                system_now_ms: i64,
                request_id: &str,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                // `insert ... select ... where exists`: a key deleted since it was used
                // records nothing instead of failing the foreign key.
                sqlx::query(
                    "insert into kms_key_last_use (key_id, operation, used_at, request_id) \
                     select $1, $2, $3 + coalesce((select cast(value as bigint) from kms_setting where name = $5), 0), $4 \
                     where exists (select 1 from kms_key where key_id = $1) \
                     on conflict (key_id) do update set operation = excluded.operation, \
                     used_at = excluded.used_at, request_id = excluded.request_id \
                     where excluded.used_at >= kms_key_last_use.used_at",
                )
                .bind(key_id.stored())
                .bind(operation)
                .bind(system_now_ms)
                .bind(request_id)
                .bind($crate::store::rotation_sql::CLOCK_OFFSET)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn key_last_use(
                &self,
                key_id: &KeyId,
            ) -> Result<Option<$crate::domain::KeyLastUse>, StoreError> {
                let row: Option<(String, i64, String)> = sqlx::query_as(
                    "select operation, used_at, request_id from kms_key_last_use where key_id = $1",
                )
                .bind(key_id.stored())
                .fetch_optional(&mut *self.read().await?)
                .await?;
                Ok(row.map(|(operation, used_at, request_id)| $crate::domain::KeyLastUse {
                    operation,
                    used_at,
                    request_id,
                }))
            }

            async fn key_tags(&self, key_id: &KeyId) -> Result<Vec<Tag>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                fetch_tags(&mut *conn, key_id).await
            }

            async fn project_tags(&self, project_id: &str) -> Result<Vec<(KeyId, Tag)>, StoreError> {
                let rows: Vec<(String, String, String)> = sqlx::query_as(
                    "select t.key_id, t.tag_key, t.tag_value from kms_tag t join kms_key k on k.key_id = t.key_id \
                     where k.project_id = $1 order by k.seq, t.position",
                )
                .bind(project_id)
                .fetch_all(&mut *self.read().await?)
                .await?;
                rows.into_iter()
                    .map(|(key_id, key, value)| {
                        let key_id = KeyId::parse_stored(&key_id)
                            .map_err(|_| StoreError::Corrupt(format!("tag {key}: key_id")))?;
                        Ok((key_id, Tag { key, value }))
                    })
                    .collect()
            }

            async fn close(&self) {
                self.close_pools().await;
            }

            fn set_audit_key(&self, key: $crate::domain::ChainKey) {
                // The first key set stays: one process, one master key.
                let _ = self.audit_key.set(key);
            }

            async fn audit_chain(&self) -> Result<$crate::domain::ChainState, StoreError> {
                let row: ChainRow = sqlx::query_as(concat!("select ", chain_columns!(), " from kms_audit_chain where id = 1"))
                    .fetch_one(&mut *self.read().await?)
                    .await?;
                Ok(row.into())
            }

            async fn prune_audit(&self, older_than_ms: i64, now_ms: i64) -> Result<u64, StoreError> {
                let key = self.chain_key()?;
                let mut tx = self.begin_write().await?;
                let state: $crate::domain::ChainState = sqlx::query_as::<_, ChainRow>(concat!(
                    "select ", chain_columns!(), " from kms_audit_chain where id = 1", $lock
                ))
                .fetch_one(&mut *tx)
                .await?
                .into();
                let (last,): (Option<i64>,) =
                    sqlx::query_as("select max(seq) from kms_audit where occurred_at < $1 and seq <= $2")
                        .bind(older_than_ms)
                        .bind(state.head_seq)
                        .fetch_one(&mut *tx)
                        .await?;
                let Some(last) = last.filter(|&last| last > state.checkpoint_seq) else {
                    return Ok(0);
                };
                let rows: Vec<AuditRow> = sqlx::query_as(concat!(
                    "select ", audit_columns!(), " from kms_audit where seq > $1 and seq <= $2 order by seq limit ($3 + 0)"
                ))
                .bind(state.checkpoint_seq)
                .bind(last)
                .bind($crate::store::sql::PRUNE_BATCH)
                .fetch_all(&mut *tx)
                .await?;
                // Only a trail that verifies is pruned: deleting a tampered record would hide it.
                let (mut prev_seq, mut prev_chain) = state.origin();
                for row in rows {
                    let row = $crate::domain::RawAuditRow::from(row);
                    if row.seq <= state.start_seq {
                        prev_seq = row.seq;
                        continue;
                    }
                    if row.chain.as_deref() != Some(key.link(&prev_chain, &row).as_str()) {
                        return Err(StoreError::Corrupt(format!(
                            "audit record {} does not verify; retention deleted nothing (run `kms-emulator audit verify`)",
                            row.seq
                        )));
                    }
                    prev_seq = row.seq;
                    prev_chain = row.chain.unwrap_or_default();
                }
                if prev_seq <= state.checkpoint_seq {
                    return Ok(0);
                }
                let checkpoint_chain = if prev_seq > state.start_seq { prev_chain } else { $crate::domain::audit::GENESIS.to_owned() };
                // The checkpoint moves first: the database lets only records it covers be deleted.
                sqlx::query(
                    "update kms_audit_chain set checkpoint_seq = $1, checkpoint_chain = $2, checkpoint_mac = $3, \
                     pruned_at = $4 where id = 1",
                )
                .bind(prev_seq)
                .bind(&checkpoint_chain)
                .bind(key.checkpoint_mac(prev_seq, &checkpoint_chain))
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                let deleted = sqlx::query("delete from kms_audit where seq <= $1")
                    .bind(prev_seq)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query("update kms_audit_chain set pruned_records = pruned_records + $1 where id = 1")
                    .bind(deleted as i64)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(deleted)
            }

        }

        #[async_trait::async_trait]
        impl TokenStore for $store {
            async fn insert_token(
                &self,
                token: &$crate::store::StoredToken,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                // A write transaction like every other, so SQLite takes its write lock up front.
                let mut tx = self.begin_write().await?;
                sqlx::query("delete from iam_token where expires_at < $1")
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "insert into iam_token (token_sha256, user_id, project_id, issued_at, expires_at) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(&token.token_sha256)
                .bind(&token.user_id)
                .bind(&token.project_id)
                .bind(token.issued_at)
                .bind(token.expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn prune_tokens(&self, now_ms: i64) -> Result<u64, StoreError> {
                let mut tx = self.begin_write().await?;
                let deleted = sqlx::query("delete from iam_token where expires_at < $1")
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(deleted)
            }

            async fn login_guard(&self, subject: &str) -> Result<Option<$crate::store::LoginGuard>, StoreError> {
                let row: Option<(i64, i64, i64)> = sqlx::query_as(
                    "select window_start, cast(failures as bigint), locked_until from iam_login_guard where subject = $1",
                )
                .bind(subject)
                .fetch_optional(&mut *self.read().await?)
                .await?;
                Ok(row.map(|(window_start, failures, locked_until)| $crate::store::LoginGuard {
                    window_start,
                    failures,
                    locked_until,
                }))
            }

            async fn record_login_failure(
                &self,
                subject: &str,
                now_ms: i64,
                max_failures: u32,
                window_ms: i64,
            ) -> Result<bool, StoreError> {
                let mut tx = self.begin_write().await?;
                // One statement counts, so concurrent failures of several processes all count:
                // the row is locked by the upsert until the transaction ends.
                let (failures,): (i64,) = sqlx::query_as(
                    "insert into iam_login_guard (subject, window_start, failures, locked_until) values ($1, $2, 1, 0) \
                     on conflict (subject) do update set \
                     failures = case when iam_login_guard.window_start > $3 then iam_login_guard.failures + 1 else 1 end, \
                     window_start = case when iam_login_guard.window_start > $3 then iam_login_guard.window_start else $2 end \
                     returning cast(failures as bigint)",
                )
                .bind(subject)
                .bind(now_ms)
                .bind(now_ms - window_ms)
                .fetch_one(&mut *tx)
                .await?;
                let locked = failures >= i64::from(max_failures);
                if locked {
                    sqlx::query(
                        "update iam_login_guard set locked_until = $2, failures = 0, window_start = $3 where subject = $1",
                    )
                    .bind(subject)
                    .bind(now_ms + window_ms)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(locked)
            }

            async fn clear_login_failures(&self, subject: &str) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query("delete from iam_login_guard where subject = $1")
                    .bind(subject)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn prune_login_guard(&self, now_ms: i64, window_ms: i64) -> Result<u64, StoreError> {
                let mut tx = self.begin_write().await?;
                let deleted = sqlx::query("delete from iam_login_guard where locked_until < $1 and window_start < $2")
                    .bind(now_ms)
                    .bind(now_ms - window_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(deleted)
            }

            async fn find_token(
                &self,
                token_sha256: &str,
            ) -> Result<Option<$crate::store::StoredToken>, StoreError> {
                let row = sqlx::query_as(
                    "select token_sha256, user_id, project_id, issued_at, expires_at \
                     from iam_token where token_sha256 = $1",
                )
                .bind(token_sha256)
                .fetch_optional(&mut *self.read().await?)
                .await?;
                Ok(row)
            }
        }
    };
}
