//! Key policies of trusted key spaces in SQL (migration 0015, `kms_keyspace_policy`). The
//! statements are common to PostgreSQL and SQLite, like those of `sql.rs`; each mutation is
//! one statement, so one transaction.

use crate::domain::keyspace::KeyspacePolicy;

#[derive(Debug, sqlx::FromRow)]
pub(super) struct PolicyRow {
    pub policy_id: String,
    pub project_id: String,
    pub region: String,
    pub keyspace_id: String,
    pub policy_name: String,
    pub policy: String,
    pub description: String,
    pub created_by: String,
    pub create_time: i64,
    pub last_modify_time: i64,
    pub last_access_time: Option<i64>,
}

impl From<PolicyRow> for KeyspacePolicy {
    fn from(r: PolicyRow) -> Self {
        KeyspacePolicy {
            policy_id: r.policy_id,
            project_id: r.project_id,
            region: r.region,
            keyspace_id: r.keyspace_id,
            policy_name: r.policy_name,
            policy: r.policy,
            description: r.description,
            created_by: r.created_by,
            create_time: r.create_time,
            last_modify_time: r.last_modify_time,
            last_access_time: r.last_access_time,
        }
    }
}

/// The columns of `PolicyRow`, for `concat!` (statements are static strings).
macro_rules! keyspace_policy_columns {
    () => {
        "policy_id, project_id, region, keyspace_id, policy_name, policy, description, \
         created_by, create_time, last_modify_time, last_access_time"
    };
}

/// Implements `KeyspaceStore` for `$store` (see `impl_sql_store!`), with full paths only.
macro_rules! impl_keyspace_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::KeyspaceStore for $store {
            async fn insert_keyspace_policy(
                &self,
                p: &$crate::domain::keyspace::KeyspacePolicy,
            ) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "insert into kms_keyspace_policy (policy_id, project_id, region, keyspace_id, \
                     policy_name, policy, description, created_by, create_time, last_modify_time, \
                     last_access_time) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(&p.policy_id)
                .bind(&p.project_id)
                .bind(&p.region)
                .bind(&p.keyspace_id)
                .bind(&p.policy_name)
                .bind(&p.policy)
                .bind(&p.description)
                .bind(&p.created_by)
                .bind(p.create_time)
                .bind(p.last_modify_time)
                .bind(p.last_access_time)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn find_keyspace_policy(
                &self,
                project_id: &str,
                region: &str,
                policy_id: &str,
            ) -> Result<Option<$crate::domain::keyspace::KeyspacePolicy>, $crate::store::StoreError> {
                let row: Option<$crate::store::keyspace_sql::PolicyRow> = sqlx::query_as(concat!(
                    "select ", keyspace_policy_columns!(),
                    " from kms_keyspace_policy where project_id = $1 and region = $2 and policy_id = $3"
                ))
                .bind(project_id)
                .bind(region)
                .bind(policy_id)
                .fetch_optional(&mut *self.read().await?)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn update_keyspace_policy(
                &self,
                project_id: &str,
                region: &str,
                policy_id: &str,
                policy: Option<&str>,
                description: Option<&str>,
                now_ms: i64,
            ) -> Result<Option<$crate::domain::keyspace::KeyspacePolicy>, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<$crate::store::keyspace_sql::PolicyRow> = sqlx::query_as(concat!(
                    "update kms_keyspace_policy set policy = coalesce($4, policy), \
                     description = coalesce($5, description), last_modify_time = $6 \
                     where project_id = $1 and region = $2 and policy_id = $3 returning ",
                    keyspace_policy_columns!()
                ))
                .bind(project_id)
                .bind(region)
                .bind(policy_id)
                .bind(policy)
                .bind(description)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(row.map(Into::into))
            }

            async fn delete_keyspace_policy(
                &self,
                project_id: &str,
                region: &str,
                policy_id: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "delete from kms_keyspace_policy where project_id = $1 and region = $2 and policy_id = $3",
                )
                .bind(project_id)
                .bind(region)
                .bind(policy_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn list_keyspace_policies(
                &self,
                project_id: &str,
                region: &str,
                keyspace_id: &str,
                after: Option<&str>,
                limit: u32,
            ) -> Result<(Vec<$crate::domain::keyspace::KeyspacePolicy>, Option<String>), $crate::store::StoreError> {
                let rows: Vec<$crate::store::keyspace_sql::PolicyRow> = sqlx::query_as(concat!(
                    "select ", keyspace_policy_columns!(),
                    " from kms_keyspace_policy where project_id = $1 and region = $2 \
                     and keyspace_id = $3 and policy_id > $4 order by policy_id limit $5"
                ))
                .bind(project_id)
                .bind(region)
                .bind(keyspace_id)
                .bind(after.unwrap_or(""))
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *self.read().await?)
                .await?;
                let mut items: Vec<$crate::domain::keyspace::KeyspacePolicy> =
                    rows.into_iter().map(Into::into).collect();
                let next = if items.len() > limit as usize {
                    items.truncate(limit as usize);
                    items.last().map(|p| p.policy_id.clone())
                } else {
                    None
                };
                Ok((items, next))
            }

            async fn touch_keyspace_policy(
                &self,
                policy_id: &str,
                now_ms: i64,
            ) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query("update kms_keyspace_policy set last_access_time = $2 where policy_id = $1")
                    .bind(policy_id)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
