//! Key tags, both dialects: the core decides on the key, `domain::tag` on the tags,
//! in the transaction that writes them.

use super::Kms;
use crate::domain::authz::Action;
use crate::domain::key_spec::Cloud;
use crate::domain::tag::TagChange;
use crate::domain::{Caller, Dialect, Key, KeyId, KeyRef, KeyState, KmsError, Tag};
use crate::store::Refusal;

/// The cloud whose tag limits a dialect's requests keep.
fn cloud(dialect: Dialect) -> Cloud {
    match dialect {
        Dialect::Huawei => Cloud::Huawei,
        Dialect::Aws => Cloud::Aws,
    }
}

/// A key with its tags, as the tag listings of the project show it.
pub struct TaggedKey {
    pub key: Key,
    pub tags: Vec<Tag>,
}

impl Kms {
    /// Checks the tags a new key is to start with (AWS CreateKey `Tags`).
    pub fn check_new_key_tags(dialect: Dialect, tags: &[Tag]) -> Result<(), KmsError> {
        if tags.is_empty() {
            return Ok(());
        }
        TagChange::Set(tags.to_vec())
            .apply(cloud(dialect), &[])
            .map(drop)
            .map_err(KmsError::Tag)
    }

    /// Sets or removes tags of a key (AWS TagResource/UntagResource, Huawei create,
    /// delete and batch), decided on the locked key. A key pending deletion keeps its
    /// tags as they are (AWS: KMSInvalidStateException; Huawei: KMS.0210).
    pub async fn change_tags(
        &self,
        caller: &Caller,
        dialect: Dialect,
        key_ref: &KeyRef,
        change: TagChange,
    ) -> Result<Vec<Tag>, KmsError> {
        let action = match change {
            TagChange::Set(_) => Action::TagResource,
            TagChange::Remove { .. } => Action::UntagResource,
        };
        // The request's own fields first, as each cloud validates them before the key.
        change.check(cloud(dialect)).map_err(KmsError::Tag)?;
        let update = |key: Option<&Key>, current: &[Tag]| {
            let key = self.decide_on_locked_key(caller, action, key_ref, key)?;
            if key.key_state == KeyState::PendingDeletion {
                return Err(Refusal::Denied(KmsError::KeyPendingDeletion));
            }
            change
                .apply(cloud(dialect), current)
                .map_err(|e| Refusal::Denied(KmsError::Tag(e)))
        };
        let result = self.store.update_tags(&key_ref.id, &update).await;
        let result = self
            .shown_through_grants(caller, key_ref, action, result)
            .await;
        let tags = self
            .audited(result, caller, action, &key_ref.id, None)
            .await?;
        tracing::info!(key_id = %key_ref.id, tags = tags.len(), user_id = %caller.user_id, "key tags changed");
        Ok(tags)
    }

    /// The key's tags (AWS ListResourceTags, Huawei GET {key_id}/tags).
    pub async fn key_tags(&self, caller: &Caller, key_ref: &KeyRef) -> Result<Vec<Tag>, KmsError> {
        let key = self
            .authorized_key(caller, key_ref, Action::ListResourceTags, None)
            .await?;
        Ok(self.store.key_tags(&key.key_id).await?)
    }

    /// Every key of the caller's project with its tags, in creation order (Huawei GET
    /// tags and resource_instances/action; `action` is the one asked for).
    pub async fn project_tagged_keys(
        &self,
        caller: &Caller,
        action: Action,
    ) -> Result<Vec<TaggedKey>, KmsError> {
        self.decide_keyless(caller, action).await?;
        let keys = self
            .store
            .list_keys(
                &caller.project_id,
                &caller.region,
                None,
                0,
                self.settings.max_keys_per_project.max(1),
            )
            .await?;
        let mut tags: Vec<(KeyId, Tag)> = self.store.project_tags(&caller.project_id).await?;
        Ok(keys
            .items
            .into_iter()
            .map(|key| {
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut tags)
                    .into_iter()
                    .partition(|(id, _)| *id == key.key_id);
                tags = rest;
                TaggedKey {
                    key,
                    tags: mine.into_iter().map(|(_, t)| t).collect(),
                }
            })
            .collect())
    }
}
