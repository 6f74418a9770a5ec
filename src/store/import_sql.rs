//! Imported key material in SQL (migration 0011): import tokens (`kms_import_token`) and
//! what was imported into each external key (`kms_key_import`). The statements are common
//! to PostgreSQL and SQLite, like those of `sql.rs`.

#[derive(Debug, sqlx::FromRow)]
pub(super) struct TokenRow {
    pub token_sha256: String,
    pub key_id: String,
    pub wrapping_algorithm: String,
    pub wrapping_key: Vec<u8>,
    pub valid_to: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct RecordRow {
    pub clock_offset: Option<String>,
    pub material_id: Option<String>,
    pub expires_at: Option<i64>,
}

/// The import record and the clock as one statement reads them.
pub(super) fn record_from_row(
    row: RecordRow,
    system_now_ms: i64,
) -> Result<(Option<crate::domain::import::ImportedMaterial>, i64), super::StoreError> {
    let offset: i64 = match &row.clock_offset {
        None => 0,
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| super::StoreError::Corrupt(format!("clock offset {text:?}")))?,
    };
    let record = row
        .material_id
        .map(|material_id| crate::domain::import::ImportedMaterial {
            material_id,
            expires_at: row.expires_at,
        });
    Ok((record, system_now_ms.saturating_add(offset)))
}

/// Implements `ImportStore` for `$store` (see `impl_sql_store!`), with full paths only.
macro_rules! impl_import_store {
    ($store:ty, $db:ty, lock = $lock:literal) => {
        async fn read_import_record(
            conn: &mut <$db as sqlx::Database>::Connection,
            key_id: &str,
            system_now_ms: i64,
        ) -> Result<(Option<$crate::domain::import::ImportedMaterial>, i64), $crate::store::StoreError> {
            let row: $crate::store::import_sql::RecordRow = sqlx::query_as(
                "select (select value from kms_setting where name = $2) as clock_offset, \
                 (select material_id from kms_key_import where key_id = $1) as material_id, \
                 (select expires_at from kms_key_import where key_id = $1) as expires_at",
            )
            .bind(key_id)
            .bind($crate::store::rotation_sql::CLOCK_OFFSET)
            .fetch_one(&mut *conn)
            .await?;
            $crate::store::import_sql::record_from_row(row, system_now_ms)
        }

        /// The import records of a snapshot, in one read transaction with its keys.
        async fn export_imports(
            conn: &mut <$db as sqlx::Database>::Connection,
        ) -> Result<Vec<$crate::store::SnapshotKeyImport>, $crate::store::StoreError> {
            Ok(sqlx::query_as(
                "select i.key_id, i.material_id, i.expires_at from kms_key_import i \
                 join kms_key k on k.key_id = i.key_id order by k.seq",
            )
            .fetch_all(&mut *conn)
            .await?)
        }

        /// Inserts a snapshot's import records (its keys are already in).
        async fn import_imports(
            conn: &mut <$db as sqlx::Database>::Connection,
            snapshot: &$crate::store::Snapshot,
        ) -> Result<(), $crate::store::StoreError> {
            for i in &snapshot.key_imports {
                sqlx::query(
                    "insert into kms_key_import (key_id, material_id, expires_at) values ($1, $2, $3)",
                )
                .bind(&i.key_id)
                .bind(&i.material_id)
                .bind(i.expires_at)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::store::ImportStore for $store {
            async fn insert_import_token(
                &self,
                token: &$crate::domain::import::StoredImportToken,
                now_ms: i64,
            ) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query("delete from kms_import_token where valid_to < $1")
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                let inserted = sqlx::query(
                    "insert into kms_import_token (token_sha256, key_id, wrapping_algorithm, wrapping_key, valid_to) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(&token.token_sha256)
                .bind(&token.key_id)
                .bind(&token.wrapping_algorithm)
                .bind(&token.wrapped_private_key)
                .bind(token.valid_to)
                .execute(&mut *tx)
                .await;
                match inserted {
                    // The key was deleted since it was read.
                    Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                        return Err($crate::domain::KmsError::KeyNotFound(token.key_id.clone()).into());
                    }
                    other => other?,
                };
                tx.commit().await?;
                Ok(())
            }

            async fn find_import_token(
                &self,
                token_sha256: &str,
            ) -> Result<Option<$crate::domain::import::StoredImportToken>, $crate::store::StoreError> {
                let row: Option<$crate::store::import_sql::TokenRow> = sqlx::query_as(
                    "select token_sha256, key_id, wrapping_algorithm, wrapping_key, valid_to \
                     from kms_import_token where token_sha256 = $1",
                )
                .bind(token_sha256)
                .fetch_optional(&mut *self.read().await?)
                .await?;
                Ok(row.map(|r| $crate::domain::import::StoredImportToken {
                    token_sha256: r.token_sha256,
                    key_id: r.key_id,
                    wrapping_algorithm: r.wrapping_algorithm,
                    wrapped_private_key: r.wrapping_key,
                    valid_to: r.valid_to,
                }))
            }

            async fn import_record(
                &self,
                key_id: &$crate::domain::KeyId,
                system_now_ms: i64,
            ) -> Result<(Option<$crate::domain::import::ImportedMaterial>, i64), $crate::store::StoreError> {
                let mut conn = self.pool.acquire().await?;
                read_import_record(&mut conn, key_id.stored(), system_now_ms).await
            }

            #[tracing::instrument(skip_all, fields(key_id = %key_id))]
            async fn change_import(
                &self,
                key_id: &$crate::domain::KeyId,
                system_now_ms: i64,
                decide: $crate::store::ImportDecide<'_>,
            ) -> Result<$crate::domain::Key, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<$crate::store::sql::KeyRow> = sqlx::query_as(concat!(
                    "select ", key_columns!(), " from kms_key where key_id = $1", $lock
                ))
                .bind(key_id.stored())
                .fetch_optional(&mut *tx)
                .await?;
                let key = row.map($crate::store::key_from_row).transpose()?;
                let (record, now_ms) = read_import_record(&mut tx, key_id.stored(), system_now_ms).await?;
                let (next, next_record) = decide(key.as_ref(), record.as_ref(), now_ms)
                    .map_err($crate::store::StoreError::Refused)?;
                sqlx::query("update kms_key set key_state = $2, key_material = $3 where key_id = $1")
                    .bind(key_id.stored())
                    .bind(next.key_state.code())
                    .bind(&next.wrapped_material)
                    .execute(&mut *tx)
                    .await?;
                if let Some(r) = &next_record {
                    sqlx::query(
                        "insert into kms_key_import (key_id, material_id, expires_at) values ($1, $2, $3) \
                         on conflict (key_id) do update set material_id = $2, expires_at = $3",
                    )
                    .bind(key_id.stored())
                    .bind(&r.material_id)
                    .bind(r.expires_at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(next)
            }
        }
    };
}
