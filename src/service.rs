//! The use cases both API dialects share: validated commands in, domain results out.
//!
//! Dialects parse their wire format into these calls and render the results; the
//! rules are in `domain::authz`, the atomicity in `store`.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::crypto::{self, MasterKey};
use crate::domain::authz;
use crate::domain::{
    Caller, Grant, GrantId, GrantOperation, GranteeType, Key, KeyId, KeyState, KmsError,
    StateChange,
};
use crate::store::{Page, Store, StoreError};

/// Limits and facts that shape responses.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The region reported as `realm` / `region_id`.
    pub region: String,
    /// Huawei Cloud and OTC document 100 grants per key (KMS.2404).
    pub max_grants_per_key: u32,
    /// Huawei Cloud and OTC document 100 custom keys (KMS.1105).
    pub max_keys_per_project: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            region: "eu-de".into(),
            max_grants_per_key: 100,
            max_keys_per_project: 100,
        }
    }
}

pub struct Kms {
    store: Arc<dyn Store>,
    settings: Settings,
    master_key: MasterKey,
}

pub struct CreateKey {
    pub key_alias: String,
    pub key_description: String,
    pub key_spec: String,
    pub key_usage: String,
    pub origin: String,
}

pub struct CreateGrant {
    pub key_id: KeyId,
    pub grantee_principal: String,
    pub grantee_principal_type: GranteeType,
    pub operations: Vec<GrantOperation>,
    pub name: Option<String>,
    pub retiring_principal: Option<String>,
}

impl From<StoreError> for KmsError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Rejected(e) => e,
            StoreError::Unavailable(e) => {
                tracing::error!(error = %e, "database unavailable");
                KmsError::StoreUnavailable
            }
            StoreError::CommitUnknown(e) => {
                tracing::error!(error = %e, "connection lost during commit; outcome unknown");
                KmsError::OutcomeUnknown(
                    "The database connection was lost while the change was being committed.".into(),
                )
            }
            other => {
                tracing::error!(error = %other, "store failure");
                KmsError::Internal
            }
        }
    }
}

fn unopenable() -> KmsError {
    KmsError::InvalidCipherText(
        "it was not made with this key, was altered, or the additional data differs from encryption.".into(),
    )
}

pub fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl Kms {
    pub fn new(store: Arc<dyn Store>, settings: Settings, master_key: MasterKey) -> Self {
        Self {
            store,
            settings,
            master_key,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub async fn create_key(&self, caller: &Caller, request: CreateKey) -> Result<Key, KmsError> {
        let external = request.origin == "external";
        let key_state = if external {
            KeyState::PendingImport
        } else {
            KeyState::Enabled
        };
        let key_id = KeyId::generate();
        let wrapped_material = (!external).then(|| {
            self.master_key
                .wrap(&key_id, &crypto::random_bytes(crypto::KEY_BYTES))
        });
        let key = Key {
            key_id,
            wrapped_material,
            project_id: caller.project_id.clone(),
            domain_id: caller.domain_id.clone(),
            creator_user_id: caller.user_id.clone(),
            key_alias: request.key_alias,
            key_description: request.key_description,
            key_spec: request.key_spec,
            key_usage: request.key_usage,
            origin: request.origin,
            key_state,
            creation_date: now_millis(),
            scheduled_deletion_date: None,
        };
        self.store
            .insert_key(&key, self.settings.max_keys_per_project)
            .await?;
        tracing::info!(key_id = %key.key_id, user_id = %caller.user_id, "key created");
        Ok(key)
    }

    /// A key the caller may use for `operation`, whatever its state.
    async fn key_for_use(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        operation: GrantOperation,
    ) -> Result<Key, KmsError> {
        let key = self.store.find_key(key_id).await?;
        let grants = match &key {
            Some(k) if !authz::is_owner_side(caller, k) => {
                self.store.grants_to(key_id, caller).await?
            }
            _ => Vec::new(),
        };
        authz::decide_key_use(caller, key_id, key.as_ref(), &grants, operation)?;
        Ok(key.expect("decide_key_use found the key"))
    }

    pub async fn describe_key(&self, caller: &Caller, key_id: &KeyId) -> Result<Key, KmsError> {
        self.key_for_use(caller, key_id, GrantOperation::DescribeKey)
            .await
    }

    /// enable-key, disable-key, schedule-key-deletion and cancel-key-deletion.
    pub async fn change_key_state(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        change: StateChange,
    ) -> Result<Key, KmsError> {
        let now = now_millis();
        let update = |key: Option<&Key>| {
            authz::decide_key_admin(caller, key_id, key)?;
            key.expect("decide_key_admin found the key")
                .after(change, now)
        };
        let key = self.store.update_key(key_id, &update).await?;
        tracing::info!(%key_id, state = key.key_state.code(), user_id = %caller.user_id, "key state changed");
        Ok(key)
    }

    /// The material of a key the caller may use for `operation` now. Grants are read
    /// from the database on every call, so a revoked or retired grant stops working at
    /// once, in every process.
    async fn material_for(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        operation: GrantOperation,
    ) -> Result<Vec<u8>, KmsError> {
        let key = self.key_for_use(caller, key_id, operation).await?;
        key.key_state.ensure_usable()?;
        let wrapped = key
            .wrapped_material
            .as_deref()
            .ok_or(KmsError::KeyPendingImport)?;
        self.master_key.unwrap(key_id, wrapped).map_err(|_| {
            tracing::error!(%key_id, "key material does not open under the configured master key");
            KmsError::Internal
        })
    }

    /// Seals `plaintext` under the key for `operation` (encrypt-data, encrypt-datakey,
    /// or one of the data-key creations).
    pub async fn encrypt(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        operation: GrantOperation,
        plaintext: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, KmsError> {
        let material = self.material_for(caller, key_id, operation).await?;
        Ok(crypto::encrypt_framed(
            key_id, &material, plaintext, context,
        ))
    }

    /// Finds the key from the ciphertext itself.
    pub async fn decrypt_data(
        &self,
        caller: &Caller,
        frame: &[u8],
        context: &[u8],
    ) -> Result<(KeyId, Vec<u8>), KmsError> {
        let key_id = crypto::framed_key_id(frame).map_err(|_| {
            KmsError::InvalidCipherText("it is not a ciphertext made by encrypt-data.".into())
        })?;
        let material = self
            .material_for(caller, &key_id, GrantOperation::DecryptData)
            .await?;
        let plaintext =
            crypto::decrypt_framed(&key_id, &material, frame, context).map_err(|_| unopenable())?;
        Ok((key_id, plaintext))
    }

    pub async fn decrypt_datakey(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        frame: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, KmsError> {
        let material = self
            .material_for(caller, key_id, GrantOperation::DecryptDatakey)
            .await?;
        crypto::decrypt_framed(key_id, &material, frame, context).map_err(|_| unopenable())
    }

    pub async fn list_keys(
        &self,
        caller: &Caller,
        state: Option<KeyState>,
        after: i64,
        limit: u32,
    ) -> Result<Page<Key>, KmsError> {
        Ok(self
            .store
            .list_keys(&caller.project_id, state, after, limit)
            .await?)
    }

    pub async fn create_grant(
        &self,
        caller: &Caller,
        request: CreateGrant,
    ) -> Result<Grant, KmsError> {
        let grant = Grant {
            grant_id: GrantId::generate(),
            key_id: request.key_id,
            grantee_principal: request.grantee_principal,
            grantee_principal_type: request.grantee_principal_type,
            operations: request.operations,
            issuing_principal: caller.user_id.clone(),
            retiring_principal: request.retiring_principal,
            name: request.name,
            creation_date: now_millis(),
        };
        let check = |key: Option<&Key>, callers_grants: &[Grant]| {
            authz::decide_create_grant(
                caller,
                &grant.key_id,
                key,
                callers_grants,
                &grant.operations,
            )
        };
        self.store
            .insert_grant(caller, &grant, self.settings.max_grants_per_key, &check)
            .await?;
        tracing::info!(
            key_id = %grant.key_id, grant_id = %grant.grant_id, issuer = %caller.user_id,
            grantee = %grant.grantee_principal, "grant created"
        );
        Ok(grant)
    }

    pub async fn revoke_grant(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        grant_id: &GrantId,
    ) -> Result<(), KmsError> {
        let check = |key: Option<&Key>, grant: Option<&Grant>| {
            authz::decide_revoke(caller, key_id, grant_id.as_str(), key, grant)
        };
        self.store.delete_grant(key_id, grant_id, &check).await?;
        tracing::info!(%key_id, %grant_id, user_id = %caller.user_id, "grant revoked");
        Ok(())
    }

    pub async fn retire_grant(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        grant_id: &GrantId,
    ) -> Result<(), KmsError> {
        let check = |key: Option<&Key>, grant: Option<&Grant>| {
            authz::decide_retire(caller, key_id, grant_id.as_str(), key, grant)
        };
        self.store.delete_grant(key_id, grant_id, &check).await?;
        tracing::info!(%key_id, %grant_id, user_id = %caller.user_id, "grant retired");
        Ok(())
    }

    pub async fn list_grants(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        after: i64,
        limit: u32,
    ) -> Result<Page<Grant>, KmsError> {
        let key = self.store.find_key(key_id).await?;
        authz::decide_list_grants(caller, key_id, key.as_ref())?;
        Ok(self.store.list_grants(key_id, after, limit).await?)
    }

    pub async fn list_retirable_grants(
        &self,
        caller: &Caller,
        after: i64,
        limit: u32,
    ) -> Result<Page<Grant>, KmsError> {
        Ok(self
            .store
            .list_retirable_grants(&caller.user_id, after, limit)
            .await?)
    }
}
