//! Multi-Region keys (AWS ReplicateKey / UpdatePrimaryRegion, Huawei `replicate` and
//! `update-primary-region`): one path for both dialects. The rules are `domain::multi_region`;
//! each write is one transaction of the store, which re-reads and locks the key's rows.

use super::{Kms, now_millis};
use crate::domain::authz::Action;
use crate::domain::multi_region::{self, MultiRegionKey};
use crate::domain::{Caller, Dialect, Key, KeyRef, KeyState, KmsError, Tag};

/// What ReplicateKey takes besides the primary key and the replica's region.
pub struct ReplicateKey {
    /// The replica's region.
    pub replica_region: String,
    /// The caller as it acts in the replica's region (its project there): the replica is
    /// a new key of that region, and AWS asks for kms:CreateKey there too.
    pub replica_caller: Caller,
    /// Huawei `key_alias` (unique in the replica's project); AWS keys have none, so the
    /// AWS dialect makes one up as CreateKey does.
    pub key_alias: String,
    pub key_description: String,
    /// AWS `Policy` (`None`: the default policy).
    pub policy: Option<String>,
    pub bypass_policy_lockout_check: bool,
    pub tags: Vec<Tag>,
    pub dialect: Dialect,
}

impl Kms {
    /// The rows of `key`'s multi-Region key (empty for a single-Region key), for
    /// DescribeKey's MultiRegionConfiguration.
    pub async fn multi_region_configuration(&self, key: &Key) -> Result<MultiRegionKey, KmsError> {
        if !key.key_id.is_multi_region() {
            return Ok(MultiRegionKey::default());
        }
        Ok(self.store.multi_region_key(&key.key_id).await?)
    }

    /// ReplicateKey: a replica of the primary key `key_ref` (seen in the caller's region)
    /// in `request.replica_region`, sharing its ID and every version of its material, with
    /// its own description, policy and tags. Returns the replica and the key's rows after.
    pub async fn replicate_key(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        request: ReplicateKey,
    ) -> Result<(Key, MultiRegionKey), KmsError> {
        let primary = self
            .authorized_key(caller, key_ref, Action::ReplicateKey, None)
            .await?;
        let served = |region: &str| self.settings.regions.serves(region);
        // The rules first on rows read outside the transaction, so that a refusal (a
        // replica, an unserved region) is answered before the replica region's
        // authorization; the store checks again on the locked rows.
        let rows = self.store.multi_region_key(&primary.key_id).await?;
        multi_region::check_replicate(
            &primary.key_id,
            &rows,
            &caller.region,
            &request.replica_region,
            served,
        )?;
        // AWS: DisabledException for a disabled primary, KMSInvalidStateException for one
        // pending deletion or import.
        primary.key_state.ensure_usable()?;
        self.decide_keyless(&request.replica_caller, Action::CreateKey)
            .await?;
        Self::check_new_key_tags(request.dialect, &request.tags)?;
        if !request.tags.is_empty() {
            self.decide_keyless(&request.replica_caller, Action::TagResource)
                .await?;
        }
        let replica = Key {
            key_id: primary.key_id.in_region(&request.replica_region),
            project_id: request.replica_caller.project_id.clone(),
            domain_id: primary.domain_id.clone(),
            region: request.replica_region.clone(),
            creator_user_id: caller.user_id.clone(),
            key_alias: request.key_alias,
            key_description: request.key_description,
            key_spec: primary.key_spec.clone(),
            key_usage: primary.key_usage.clone(),
            origin: primary.origin.clone(),
            key_state: KeyState::Enabled,
            creation_date: now_millis(),
            scheduled_deletion_date: None,
            // Wrapped under the shared ID: the replica's row opens it as the primary's does.
            wrapped_material: primary.wrapped_material.clone(),
            key_policy: request.policy,
        };
        if let Some(text) = &replica.key_policy {
            let document = self.validate_key_policy(text)?;
            if !request.bypass_policy_lockout_check {
                self.check_policy_lockout(&request.replica_caller, &replica, document)?;
            }
        }
        let check = |rows: &MultiRegionKey| {
            multi_region::check_replicate(
                &primary.key_id,
                rows,
                &caller.region,
                &request.replica_region,
                served,
            )
        };
        self.store
            .insert_replica(
                &primary.key_id,
                &replica,
                &request.tags,
                self.settings.max_keys_per_project,
                &check,
            )
            .await?;
        tracing::info!(key_id = %replica.key_id, region = %replica.region, user_id = %caller.user_id, "multi-Region key replicated");
        let rows = self.store.multi_region_key(&replica.key_id).await?;
        Ok((replica, rows))
    }

    /// UpdatePrimaryRegion: the replica of `primary_region` becomes the primary key and the
    /// primary `key_ref` (seen in the caller's region) a replica. Returns the rows after.
    pub async fn update_primary_region(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        primary_region: &str,
    ) -> Result<MultiRegionKey, KmsError> {
        let key = self
            .authorized_key(caller, key_ref, Action::UpdatePrimaryRegion, None)
            .await?;
        let check = |rows: &MultiRegionKey| {
            multi_region::check_update_primary(&key.key_id, rows, &caller.region, primary_region)
        };
        let rows = self
            .store
            .update_primary_region(&key.key_id, primary_region, &check)
            .await?;
        tracing::info!(key_id = %key.key_id, primary_region, user_id = %caller.user_id, "multi-Region primary moved");
        Ok(rows)
    }

    /// The refusal, if any, of a change to the row of the caller's region that only a
    /// multi-Region key's primary may make or that a primary with replicas may not:
    /// scheduling its deletion (`deleting`), or its rotation (a replica's material follows
    /// its primary's). Read before the change's transaction: roles change only through
    /// UpdatePrimaryRegion, and the rule applies after the caller is authorized.
    pub(super) async fn multi_region_rule(
        &self,
        key_ref: &KeyRef,
        caller: &Caller,
        deleting: bool,
    ) -> Result<Option<KmsError>, KmsError> {
        if !key_ref.id.is_multi_region() {
            return Ok(None);
        }
        let rows = self.store.multi_region_key(&key_ref.id).await?;
        if deleting {
            return Ok(
                multi_region::check_schedule_deletion(&key_ref.id, &rows, &caller.region).err(),
            );
        }
        Ok(match rows.in_region(&caller.region) {
            Some(member) if member.role == multi_region::Role::Replica => {
                Some(KmsError::MultiRegionUnsupported(format!(
                    "{} in {} is a multi-Region replica key: its rotation follows its primary key's; rotate the primary key.",
                    key_ref.id, caller.region
                )))
            }
            _ => None,
        })
    }
}
