//! Multi-Region keys in SQL (migration 0014): a multi-Region key is one `kms_key` row per
//! region, `mrk-...@REGION`, whose `multi_region_role` is PRIMARY or REPLICA. The
//! statements are common to PostgreSQL and SQLite, like those of `sql.rs`.

use crate::domain::KeyId;
use crate::domain::multi_region::{Member, MultiRegionKey, Role};

/// The `like` pattern of every row of the multi-Region key `key_id` (its ID has only
/// lower-case hex digits, letters and hyphens: nothing `like` would read as a wildcard).
pub(super) fn rows_pattern(key_id: &KeyId) -> String {
    format!("{}@%", key_id.as_str())
}

pub(super) fn key_from_rows(
    rows: Vec<(String, String, Option<String>)>,
) -> Result<MultiRegionKey, super::StoreError> {
    let mut members = Vec::with_capacity(rows.len());
    for (key_id, region, role) in rows {
        let corrupt = || super::StoreError::Corrupt(format!("key {key_id}: multi_region_role"));
        let role = role.as_deref().and_then(Role::parse).ok_or_else(corrupt)?;
        let key_id = KeyId::parse_stored(&key_id).map_err(|_| corrupt())?;
        members.push(Member {
            key_id,
            region,
            role,
        });
    }
    Ok(MultiRegionKey { members })
}

/// Implements `MultiRegionStore` for `$store`, next to `impl_sql_store!` (whose module-level
/// helpers, `insert_key_row` and `insert_tags`, it uses).
macro_rules! impl_multi_region_store {
    ($store:ty, $db:ty, lock = $lock:literal) => {
        async fn read_multi_region_key(
            conn: &mut <$db as sqlx::Database>::Connection,
            key_id: &$crate::domain::KeyId,
        ) -> Result<$crate::domain::multi_region::MultiRegionKey, $crate::store::StoreError> {
            if !key_id.is_multi_region() {
                return Ok(Default::default());
            }
            let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(concat!(
                "select key_id, region, multi_region_role from kms_key where key_id like $1 \
                 order by key_id",
                $lock
            ))
            .bind($crate::store::multi_region_sql::rows_pattern(key_id))
            .fetch_all(&mut *conn)
            .await?;
            $crate::store::multi_region_sql::key_from_rows(rows)
        }

        #[async_trait::async_trait]
        impl $crate::store::MultiRegionStore for $store {
            async fn multi_region_key(
                &self,
                key_id: &$crate::domain::KeyId,
            ) -> Result<$crate::domain::multi_region::MultiRegionKey, $crate::store::StoreError> {
                let mut conn = self.pool.acquire().await?;
                read_multi_region_key(&mut conn, key_id).await
            }

            #[tracing::instrument(skip_all, fields(key_id = %replica.key_id, region = %replica.region))]
            async fn insert_replica(
                &self,
                source: &$crate::domain::KeyId,
                replica: &$crate::domain::Key,
                tags: &[$crate::domain::Tag],
                max_keys_per_project: u32,
                check: $crate::store::MultiRegionCheck<'_>,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::domain::KmsError;
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                // Lock order as insert_key's: the project, then the key's rows.
                lock_project(&mut *tx, &replica.project_id).await?;
                let rows = read_multi_region_key(&mut *tx, source).await?;
                check(&rows).map_err(|e| StoreError::Refused($crate::store::Refusal::Denied(e)))?;
                check_room_for_key(&mut *tx, &replica.project_id, &replica.key_alias, max_keys_per_project).await?;
                match insert_key_row(&mut *tx, replica, false).await {
                    Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                        return Err(KmsError::ReplicaExists(format!(
                            "{} already has a key in {}.",
                            replica.key_id, replica.region
                        ))
                        .into());
                    }
                    other => other?,
                };
                sqlx::query("update kms_key set multi_region_role = 'REPLICA' where key_id = $1")
                    .bind(replica.key_id.stored())
                    .execute(&mut *tx)
                    .await?;
                // Every version of the material, wrapped under the shared ID, as it is.
                sqlx::query(
                    "insert into kms_key_version (key_id, version, key_material, rotation_date, rotation_type) \
                     select $1, version, key_material, rotation_date, rotation_type from kms_key_version \
                     where key_id = $2",
                )
                .bind(replica.key_id.stored())
                .bind(source.stored())
                .execute(&mut *tx)
                .await?;
                insert_tags(&mut *tx, &replica.key_id, tags).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(key_id = %key_id, primary_region))]
            async fn update_primary_region(
                &self,
                key_id: &$crate::domain::KeyId,
                primary_region: &str,
                check: $crate::store::MultiRegionCheck<'_>,
            ) -> Result<$crate::domain::multi_region::MultiRegionKey, $crate::store::StoreError> {
                use $crate::store::StoreError;
                let mut tx = self.begin_write().await?;
                let rows = read_multi_region_key(&mut *tx, key_id).await?;
                check(&rows).map_err(|e| StoreError::Refused($crate::store::Refusal::Denied(e)))?;
                for (member, role) in $crate::domain::multi_region::swap_roles(&rows, primary_region) {
                    sqlx::query("update kms_key set multi_region_role = $2 where key_id = $1")
                        .bind(member.stored())
                        .bind(role.name())
                        .execute(&mut *tx)
                        .await?;
                }
                let after = read_multi_region_key(&mut *tx, key_id).await?;
                tx.commit().await?;
                Ok(after)
            }
        }
    };
}
