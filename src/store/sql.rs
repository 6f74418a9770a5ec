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
}

macro_rules! key_columns {
    () => {
        "seq, key_id, project_id, domain_id, creator_user_id, key_alias, key_description, key_spec, \
         key_usage, origin, key_state, creation_date, scheduled_deletion_date, key_material"
    };
}

macro_rules! grant_columns {
    () => {
        "seq, grant_id, key_id, grantee_principal, grantee_principal_type, operations, \
         issuing_principal, retiring_principal, name, creation_date"
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

/// Implements `Store` for `$store`, a struct with a `pool: sqlx::Pool<$db>` field and
/// inherent `async fn begin_write(&self) -> Result<sqlx::Transaction<'static, $db>, sqlx::Error>`
/// and `async fn close_pools(&self)`.
/// `$lock` is appended to selects whose rows the transaction must hold.
macro_rules! impl_sql_store {
    ($store:ty, $db:ty, backend = $backend:literal, lock = $lock:literal) => {
        use $crate::domain::{Caller, Grant, GrantId, Key, KeyId, KeyState, KmsError};
        use $crate::store::sql::{into_page, GrantRow, KeyRow};
        use $crate::store::{
            grant_from_row, key_from_row, CreateGrantCheck, DeleteGrantCheck, KeyUpdate, Page, Store,
            StoreError,
        };

        async fn fetch_grants_to<'e, E>(executor: E, key_id: &KeyId, caller: &Caller) -> Result<Vec<Grant>, StoreError>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            let rows: Vec<GrantRow> = sqlx::query_as(concat!(
                "select ", grant_columns!(), " from kms_grant where key_id = $1 and (",
                "(grantee_principal_type = 'user' and grantee_principal = $2) or ",
                "(grantee_principal_type = 'domain' and grantee_principal = $3)) order by seq"
            ))
            .bind(key_id.as_str())
            .bind(&caller.user_id)
            .bind(&caller.domain_id)
            .fetch_all(executor)
            .await?;
            rows.into_iter().map(grant_from_row).collect()
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
            tx: sqlx::Transaction<'static, $db>,
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

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("select 1").execute(&self.pool).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(key_id = %key.key_id))]
            async fn insert_key(&self, key: &Key, max_keys_per_project: u32) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query("insert into kms_project (project_id) values ($1) on conflict do nothing")
                    .bind(&key.project_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(concat!("select project_id from kms_project where project_id = $1", $lock))
                    .bind(&key.project_id)
                    .execute(&mut *tx)
                    .await?;
                let (count,): (i64,) = sqlx::query_as("select count(*) from kms_key where project_id = $1")
                    .bind(&key.project_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if count >= i64::from(max_keys_per_project) {
                    return Err(KmsError::TooManyKeys(max_keys_per_project).into());
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
                sqlx::query(
                    "insert into kms_key (key_id, project_id, domain_id, creator_user_id, key_alias, \
                     key_description, key_spec, key_usage, origin, key_state, creation_date, \
                     scheduled_deletion_date, key_material) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(key.key_id.as_str())
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
                .execute(&mut *tx)
                .await?;
                commit_or_resolve(tx, &self.pool, "select count(*) from kms_key where key_id = $1", key.key_id.as_str(), true).await?;
                Ok(())
            }

            async fn find_key(&self, key_id: &KeyId) -> Result<Option<Key>, StoreError> {
                let row: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1"))
                        .bind(key_id.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(key_from_row).transpose()
            }

            #[tracing::instrument(skip_all, fields(key_id = %key_id))]
            async fn update_key(&self, key_id: &KeyId, update: KeyUpdate<'_>) -> Result<Key, StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1", $lock))
                        .bind(key_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                let current = row.map(key_from_row).transpose()?;
                let next = update(current.as_ref())?;
                sqlx::query("update kms_key set key_state = $2, scheduled_deletion_date = $3 where key_id = $1")
                    .bind(key_id.as_str())
                    .bind(next.key_state.code())
                    .bind(next.scheduled_deletion_date)
                    .execute(&mut *tx)
                    .await?;
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
                    .fetch_one(&self.pool)
                    .await?;
                Ok(stored)
            }

            async fn list_keys(
                &self,
                project_id: &str,
                state: Option<KeyState>,
                after: i64,
                limit: u32,
            ) -> Result<Page<Key>, StoreError> {
                let state = state.map_or(0, KeyState::code);
                let (total,): (i64,) = sqlx::query_as(
                    "select count(*) from kms_key where project_id = $1 and ($2 = 0 or key_state = $2)",
                )
                .bind(project_id)
                .bind(state)
                .fetch_one(&self.pool)
                .await?;
                let rows: Vec<KeyRow> = sqlx::query_as(concat!(
                    "select ", key_columns!(), " from kms_key where project_id = $1 ",
                    "and ($2 = 0 or key_state = $2) and seq > $3 order by seq limit $4"
                ))
                .bind(project_id)
                .bind(state)
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(&self.pool)
                .await?;
                into_page(rows, limit, total, |r| r.seq, key_from_row)
            }

            async fn grants_to(&self, key_id: &KeyId, caller: &Caller) -> Result<Vec<Grant>, StoreError> {
                fetch_grants_to(&self.pool, key_id, caller).await
            }

            #[tracing::instrument(skip_all, fields(key_id = %grant.key_id, grant_id = %grant.grant_id))]
            async fn insert_grant(
                &self,
                caller: &Caller,
                grant: &Grant,
                max_grants_per_key: u32,
                check: CreateGrantCheck<'_>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let key: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1", $lock))
                        .bind(grant.key_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                let key = key.map(key_from_row).transpose()?;
                let callers_grants = fetch_grants_to(&mut *tx, &grant.key_id, caller).await?;
                check(key.as_ref(), &callers_grants)?;
                let (count,): (i64,) = sqlx::query_as("select count(*) from kms_grant where key_id = $1")
                    .bind(grant.key_id.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                if count >= i64::from(max_grants_per_key) {
                    return Err(KmsError::TooManyGrants {
                        key_id: grant.key_id.to_string(),
                        limit: max_grants_per_key,
                    }
                    .into());
                }
                sqlx::query(
                    "insert into kms_grant (grant_id, key_id, grantee_principal, grantee_principal_type, \
                     operations, issuing_principal, retiring_principal, name, creation_date) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(grant.grant_id.as_str())
                .bind(grant.key_id.as_str())
                .bind(&grant.grantee_principal)
                .bind(grant.grantee_principal_type.as_str())
                .bind($crate::domain::grant::join_operations(&grant.operations))
                .bind(&grant.issuing_principal)
                .bind(&grant.retiring_principal)
                .bind(&grant.name)
                .bind(grant.creation_date)
                .execute(&mut *tx)
                .await?;
                commit_or_resolve(tx, &self.pool, "select count(*) from kms_grant where grant_id = $1", grant.grant_id.as_str(), true).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(key_id = %key_id, grant_id = %grant_id))]
            async fn delete_grant(
                &self,
                key_id: &KeyId,
                grant_id: &GrantId,
                check: DeleteGrantCheck<'_>,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let grant: Option<GrantRow> = sqlx::query_as(concat!(
                    "select ", grant_columns!(), " from kms_grant where grant_id = $1", $lock
                ))
                .bind(grant_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                let grant = grant.map(grant_from_row).transpose()?;
                let key: Option<KeyRow> =
                    sqlx::query_as(concat!("select ", key_columns!(), " from kms_key where key_id = $1"))
                        .bind(key_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                let key = key.map(key_from_row).transpose()?;
                check(key.as_ref(), grant.as_ref())?;
                let deleted = sqlx::query("delete from kms_grant where grant_id = $1")
                    .bind(grant_id.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if deleted != 1 {
                    return Err(KmsError::GrantNotFound(grant_id.to_string()).into());
                }
                commit_or_resolve(tx, &self.pool, "select count(*) from kms_grant where grant_id = $1", grant_id.as_str(), false).await?;
                Ok(())
            }

            async fn list_grants(&self, key_id: &KeyId, after: i64, limit: u32) -> Result<Page<Grant>, StoreError> {
                let (total,): (i64,) = sqlx::query_as("select count(*) from kms_grant where key_id = $1")
                    .bind(key_id.as_str())
                    .fetch_one(&self.pool)
                    .await?;
                let rows: Vec<GrantRow> = sqlx::query_as(concat!(
                    "select ", grant_columns!(), " from kms_grant where key_id = $1 and seq > $2 ",
                    "order by seq limit $3"
                ))
                .bind(key_id.as_str())
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(&self.pool)
                .await?;
                into_page(rows, limit, total, |r| r.seq, grant_from_row)
            }

            async fn list_retirable_grants(
                &self,
                user_id: &str,
                after: i64,
                limit: u32,
            ) -> Result<Page<Grant>, StoreError> {
                let (total,): (i64,) =
                    sqlx::query_as("select count(*) from kms_grant where retiring_principal = $1")
                        .bind(user_id)
                        .fetch_one(&self.pool)
                        .await?;
                let rows: Vec<GrantRow> = sqlx::query_as(concat!(
                    "select ", grant_columns!(), " from kms_grant where retiring_principal = $1 ",
                    "and seq > $2 order by seq limit $3"
                ))
                .bind(user_id)
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(&self.pool)
                .await?;
                into_page(rows, limit, total, |r| r.seq, grant_from_row)
            }

            async fn close(&self) {
                self.close_pools().await;
            }

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

            async fn find_token(
                &self,
                token_sha256: &str,
            ) -> Result<Option<$crate::store::StoredToken>, StoreError> {
                let row = sqlx::query_as(
                    "select token_sha256, user_id, project_id, issued_at, expires_at \
                     from iam_token where token_sha256 = $1",
                )
                .bind(token_sha256)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row)
            }
        }
    };
}
