//! Key rotation in SQL (migration 0009): material versions (`kms_key_version`), automatic
//! rotation settings (`kms_key_rotation`) and the emulator's clock offset (`kms_setting`
//! `clock_offset_ms`, so every process sharing a database reads the same clock). The
//! statements are common to PostgreSQL and SQLite, like those of `sql.rs`.

/// The setting that holds the emulator's clock offset, in milliseconds.
pub(super) const CLOCK_OFFSET: &str = "clock_offset_ms";

#[derive(Debug, sqlx::FromRow)]
pub(super) struct RotationRow {
    pub enabled: i64,
    pub period_days: i64,
    pub next_rotation_date: Option<i64>,
}

/// A key's rotation state as one statement reads it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct StateRow {
    pub clock_offset: Option<String>,
    pub enabled: Option<i64>,
    pub period_days: Option<i64>,
    pub next_rotation_date: Option<i64>,
    pub latest: i64,
    pub on_demand: i64,
    pub last_rotation: Option<i64>,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct VersionRow {
    pub key_id: String,
    pub version: i64,
    pub rotation_date: i64,
    pub rotation_type: String,
}

pub(super) fn rotation_from_row(
    key_id: &str,
    row: VersionRow,
) -> Result<crate::domain::rotation::KeyRotation, super::StoreError> {
    let corrupt = || super::StoreError::Corrupt(format!("key {key_id}: rotation {}", row.version));
    Ok(crate::domain::rotation::KeyRotation {
        version: u32::try_from(row.version).map_err(|_| corrupt())?,
        rotation_date: row.rotation_date,
        rotation_type: crate::domain::rotation::RotationType::parse(&row.rotation_type)
            .ok_or_else(corrupt)?,
    })
}

/// Implements `RotationStore` for `$store` (see `impl_sql_store!`). Uses full paths only:
/// it expands next to `impl_sql_store!`, whose `use`s it must not repeat.
macro_rules! impl_rotation_store {
    ($store:ty, $db:ty, lock = $lock:literal) => {
        async fn read_clock_offset(
            conn: &mut <$db as sqlx::Database>::Connection,
        ) -> Result<i64, $crate::store::StoreError> {
            let stored: Option<(String,)> =
                sqlx::query_as("select value from kms_setting where name = $1")
                    .bind($crate::store::rotation_sql::CLOCK_OFFSET)
                    .fetch_optional(&mut *conn)
                    .await?;
            match stored {
                None => Ok(0),
                Some((text,)) => text.trim().parse().map_err(|_| {
                    $crate::store::StoreError::Corrupt(format!("clock offset {text:?}"))
                }),
            }
        }

        async fn read_rotation_state(
            conn: &mut <$db as sqlx::Database>::Connection,
            key_id: &str,
            system_now_ms: i64,
        ) -> Result<$crate::domain::rotation::RotationState, $crate::store::StoreError> {
            // One statement (one round trip, one snapshot): the clock offset, the settings
            // (`enabled` null: no row) and the versions' summary.
            let row: $crate::store::rotation_sql::StateRow = sqlx::query_as(
                "select (select value from kms_setting where name = $2) as clock_offset, \
                 (select enabled from kms_key_rotation where key_id = $1) as enabled, \
                 (select period_days from kms_key_rotation where key_id = $1) as period_days, \
                 (select next_rotation_date from kms_key_rotation where key_id = $1) as next_rotation_date, \
                 (select coalesce(max(version), 0) from kms_key_version where key_id = $1) as latest, \
                 (select coalesce(sum(case when rotation_type = 'ON_DEMAND' then 1 else 0 end), 0) \
                  from kms_key_version where key_id = $1) as on_demand, \
                 (select max(rotation_date) from kms_key_version where key_id = $1) as last_rotation",
            )
            .bind(key_id)
            .bind($crate::store::rotation_sql::CLOCK_OFFSET)
            .fetch_one(&mut *conn)
            .await?;
            let offset: i64 = match &row.clock_offset {
                None => 0,
                Some(text) => text.trim().parse().map_err(|_| {
                    $crate::store::StoreError::Corrupt(format!("clock offset {text:?}"))
                })?,
            };
            let (latest, on_demand, last) = (row.latest, row.on_demand, row.last_rotation);
            let row = match (row.enabled, row.period_days) {
                (Some(enabled), Some(period_days)) => Some($crate::store::rotation_sql::RotationRow {
                    enabled,
                    period_days,
                    next_rotation_date: row.next_rotation_date,
                }),
                _ => None,
            };
            Ok($crate::domain::rotation::RotationState {
                settings: row.map(|r| $crate::domain::rotation::RotationSettings {
                    enabled: r.enabled != 0,
                    period_days: r.period_days,
                    next_rotation_date: r.next_rotation_date,
                }),
                latest_version: u32::try_from(latest).map_err(|_| {
                    $crate::store::StoreError::Corrupt(format!("key {key_id}: version {latest}"))
                })?,
                on_demand_rotations: on_demand,
                last_rotation_date: last,
                now_ms: system_now_ms.saturating_add(offset),
            })
        }

        /// The rotation rows of a snapshot, in one read transaction with its keys.
        async fn export_rotation(
            conn: &mut <$db as sqlx::Database>::Connection,
        ) -> Result<
            (Vec<$crate::store::SnapshotKeyVersion>, Vec<$crate::store::SnapshotKeyRotation>),
            $crate::store::StoreError,
        > {
            let versions = sqlx::query_as(
                "select v.key_id, v.version, v.key_material, v.rotation_date, v.rotation_type \
                 from kms_key_version v join kms_key k on k.key_id = v.key_id order by k.seq, v.version",
            )
            .fetch_all(&mut *conn)
            .await?;
            let rotations = sqlx::query_as(
                "select r.key_id, r.enabled, r.period_days, r.next_rotation_date \
                 from kms_key_rotation r join kms_key k on k.key_id = r.key_id order by k.seq",
            )
            .fetch_all(&mut *conn)
            .await?;
            Ok((versions, rotations))
        }

        /// Inserts a snapshot's rotation rows (its keys are already in).
        async fn import_rotation(
            conn: &mut <$db as sqlx::Database>::Connection,
            snapshot: &$crate::store::Snapshot,
        ) -> Result<(), $crate::store::StoreError> {
            for v in &snapshot.key_versions {
                sqlx::query(
                    "insert into kms_key_version (key_id, version, key_material, rotation_date, rotation_type) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(&v.key_id)
                .bind(v.version)
                .bind(&v.key_material)
                .bind(v.rotation_date)
                .bind(&v.rotation_type)
                .execute(&mut *conn)
                .await?;
            }
            for r in &snapshot.key_rotations {
                sqlx::query(
                    "insert into kms_key_rotation (key_id, enabled, period_days, next_rotation_date) \
                     values ($1, $2, $3, $4)",
                )
                .bind(&r.key_id)
                .bind(r.enabled)
                .bind(r.period_days)
                .bind(r.next_rotation_date)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::store::RotationStore for $store {
            async fn clock_offset(&self) -> Result<i64, $crate::store::StoreError> {
                let mut conn = self.pool.acquire().await?;
                read_clock_offset(&mut conn).await
            }

            async fn move_clock(&self, delta_ms: Option<i64>) -> Result<i64, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                match delta_ms {
                    Some(delta) => {
                        sqlx::query(
                            "insert into kms_setting (name, value) values ($1, $2) on conflict (name) \
                             do update set value = cast(cast(kms_setting.value as bigint) + $3 as text)",
                        )
                        .bind($crate::store::rotation_sql::CLOCK_OFFSET)
                        .bind(delta.to_string())
                        .bind(delta)
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query("delete from kms_setting where name = $1")
                            .bind($crate::store::rotation_sql::CLOCK_OFFSET)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                let offset = read_clock_offset(&mut tx).await?;
                tx.commit().await?;
                Ok(offset)
            }

            async fn rotation_state(
                &self,
                key_id: &$crate::domain::KeyId,
                system_now_ms: i64,
            ) -> Result<$crate::domain::rotation::RotationState, $crate::store::StoreError> {
                let mut conn = self.pool.acquire().await?;
                read_rotation_state(&mut conn, key_id.stored(), system_now_ms).await
            }

            async fn version_material(
                &self,
                key_id: &$crate::domain::KeyId,
                version: u32,
            ) -> Result<Option<Vec<u8>>, $crate::store::StoreError> {
                let row: Option<(Vec<u8>,)> = sqlx::query_as(
                    "select key_material from kms_key_version where key_id = $1 and version = $2",
                )
                .bind(key_id.stored())
                .bind(i64::from(version))
                .fetch_optional(&mut *self.read().await?)
                .await?;
                Ok(row.map(|(material,)| material))
            }

            #[tracing::instrument(skip_all, fields(key_id = %key_id))]
            async fn change_rotation(
                &self,
                key_id: &$crate::domain::KeyId,
                system_now_ms: i64,
                decide: $crate::store::RotationDecide<'_>,
                wrap: $crate::store::WrapVersion<'_>,
            ) -> Result<($crate::domain::Key, $crate::domain::rotation::RotationState), $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<$crate::store::sql::KeyRow> = sqlx::query_as(concat!(
                    "select ", key_columns!(), " from kms_key where key_id = $1", $lock
                ))
                .bind(key_id.stored())
                .fetch_optional(&mut *tx)
                .await?;
                let key = row.map($crate::store::key_from_row).transpose()?;
                let state = read_rotation_state(&mut tx, key_id.stored(), system_now_ms).await?;
                let plan = decide(key.as_ref(), &state).map_err($crate::store::StoreError::Refused)?;
                let Some(key) = key else {
                    return Err($crate::store::StoreError::Corrupt(format!(
                        "a rotation of key {key_id} was decided without the key"
                    )));
                };
                if let Some(settings) = &plan.settings {
                    sqlx::query(
                        "insert into kms_key_rotation (key_id, enabled, period_days, next_rotation_date) \
                         values ($1, $2, $3, $4) on conflict (key_id) do update set enabled = $2, \
                         period_days = $3, next_rotation_date = $4",
                    )
                    .bind(key_id.stored())
                    .bind(i64::from(settings.enabled))
                    .bind(settings.period_days)
                    .bind(settings.next_rotation_date)
                    .execute(&mut *tx)
                    .await?;
                }
                let mut version = state.latest_version;
                for (date, kind) in &plan.rotations {
                    version += 1;
                    sqlx::query(
                        "insert into kms_key_version (key_id, version, key_material, rotation_date, rotation_type) \
                         values ($1, $2, $3, $4, $5)",
                    )
                    .bind(key_id.stored())
                    .bind(i64::from(version))
                    .bind(wrap(&key, version))
                    .bind(*date)
                    .bind(kind.as_str())
                    .execute(&mut *tx)
                    .await?;
                    // A multi-Region key's rows share their material: the new version, wrapped
                    // under the shared ID, reaches every region's row.
                    if key_id.is_multi_region() {
                        sqlx::query(
                            "insert into kms_key_version (key_id, version, key_material, rotation_date, rotation_type) \
                             select k.key_id, v.version, v.key_material, v.rotation_date, v.rotation_type \
                             from kms_key k, kms_key_version v where k.key_id like $1 and k.key_id <> $2 \
                             and v.key_id = $2 and v.version = $3 on conflict (key_id, version) do nothing",
                        )
                        .bind($crate::store::multi_region_sql::rows_pattern(key_id))
                        .bind(key_id.stored())
                        .bind(i64::from(version))
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                let after = read_rotation_state(&mut tx, key_id.stored(), system_now_ms).await?;
                tx.commit().await?;
                Ok((key, after))
            }

            async fn list_rotations(
                &self,
                key_id: &$crate::domain::KeyId,
                after: i64,
                limit: u32,
            ) -> Result<$crate::domain::Page<$crate::domain::rotation::KeyRotation>, $crate::store::StoreError> {
                let (total,): (i64,) =
                    sqlx::query_as("select count(*) from kms_key_version where key_id = $1")
                        .bind(key_id.stored())
                        .fetch_one(&mut *self.read().await?)
                        .await?;
                let rows: Vec<$crate::store::rotation_sql::VersionRow> = sqlx::query_as(
                    "select key_id, version, rotation_date, rotation_type from kms_key_version \
                     where key_id = $1 and version > $2 order by version limit ($3 + 0)",
                )
                .bind(key_id.stored())
                .bind(after)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *self.read().await?)
                .await?;
                $crate::store::sql::into_page(rows, limit, total, |r| r.version, |r| {
                    let id = r.key_id.clone();
                    $crate::store::rotation_sql::rotation_from_row(&id, r)
                })
            }

            async fn rotating_keys(&self, project_id: &str) -> Result<Vec<String>, $crate::store::StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "select r.key_id from kms_key_rotation r join kms_key k on k.key_id = r.key_id \
                     where k.project_id = $1 and r.enabled = 1",
                )
                .bind(project_id)
                .fetch_all(&mut *self.read().await?)
                .await?;
                Ok(rows.into_iter().map(|(id,)| id).collect())
            }
        }
    };
}
