//! The use cases both API dialects share: validated commands in, domain results out.
//!
//! Dialects parse their wire format into these calls and render the results; the
//! rules are in `domain::authz`, the atomicity in `store`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::crypto::{self, MasterKey};
use crate::domain::ContextConstraint;
use crate::domain::authz;
use crate::domain::{
    AuditEvent, AuditQuery, AuditRecord, Caller, Grant, GrantId, GrantOperation, GranteeType, Key,
    KeyId, KeyState, KmsError, StateChange,
};
use crate::store::{
    AuditEntry, CreateGrantCheck, DeleteGrantCheck, GrantFilter, Page, Store, StoreError,
};

/// Limits and facts that shape responses.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The region reported as `realm` / `region_id`.
    pub region: String,
    /// Huawei Cloud and OTC document 100 grants per key (KMS.2404).
    pub max_grants_per_key: u32,
    /// AWS documents 50,000 grants per key (LimitExceededException). Grants created
    /// through the AWS dialect are held to this one: each dialect keeps its own quota,
    /// both counting every grant on the key.
    pub aws_max_grants_per_key: u32,
    /// Huawei Cloud and OTC document 100 custom keys (KMS.1105).
    pub max_keys_per_project: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            region: "eu-de".into(),
            max_grants_per_key: 100,
            aws_max_grants_per_key: 50_000,
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

#[derive(Debug, Clone, Copy)]
enum GrantDeletion {
    Revoke,
    Retire,
}

/// How a grant insert behaves beyond the rules: AWS's DryRun and Name idempotency.
#[derive(Debug, Clone, Copy, Default)]
struct GrantWrite {
    dry_run: bool,
    reuse_named: bool,
}

fn new_grant(
    caller: &Caller,
    request: CreateGrant,
    constraint: Option<ContextConstraint>,
) -> Grant {
    Grant {
        grant_id: GrantId::generate(),
        key_id: request.key_id,
        grantee_principal: request.grantee_principal,
        grantee_principal_type: request.grantee_principal_type,
        operations: request.operations,
        issuing_principal: caller.user_id.clone(),
        retiring_principal: request.retiring_principal,
        name: request.name,
        creation_date: now_millis(),
        constraint,
    }
}

/// What an audit record of a new grant says about it.
fn grant_summary(grant: &Grant) -> String {
    format!(
        "grantee {} {}; operations {}; retiring principal {}",
        grant.grantee_principal_type.as_str(),
        grant.grantee_principal,
        crate::domain::grant::join_operations(&grant.operations),
        grant.retiring_principal.as_deref().unwrap_or("none"),
    ) + &grant
        .constraint
        .as_ref()
        .map(|c| format!("; constraint {}", c.to_stored()))
        .unwrap_or_default()
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

    /// A key the caller may use for `operation`, whatever its state. `context` is the
    /// request's encryption context as string pairs, for grant constraints (`None`
    /// when it has none in that form, which no constraint accepts).
    async fn key_for_use(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        operation: GrantOperation,
        context: Option<&BTreeMap<String, String>>,
    ) -> Result<Key, KmsError> {
        let key = self.store.find_key(key_id).await?;
        let grants = match &key {
            Some(k) if !authz::is_owner_side(caller, k) => {
                self.store.grants_to(key_id, caller).await?
            }
            _ => Vec::new(),
        };
        if let Err(refusal) = authz::decide_key_use_in_context(
            caller,
            key_id,
            key.as_ref(),
            &grants,
            operation,
            context,
        ) {
            let detail = format!("{}: {refusal}", operation.as_str());
            self.record_denial(AuditEvent::KeyUseDenied, caller, key_id, None, detail)
                .await;
            return Err(refusal);
        }
        Ok(key.expect("decide_key_use_in_context found the key"))
    }

    /// Appends the audit record of a refusal. The refusal is the answer either way, so
    /// a failure to record it is logged, not returned.
    async fn record_denial(
        &self,
        event: AuditEvent,
        caller: &Caller,
        key_id: &KeyId,
        grant_id: Option<&GrantId>,
        detail: String,
    ) {
        let record = AuditRecord::new(event, now_millis(), caller, key_id, grant_id, detail);
        if let Err(error) = self.store.append_audit(&record).await {
            tracing::error!(%error, event = event.as_str(), "could not write the audit record of a refusal");
        }
    }

    /// The answer to a store write whose authorization check set `denied` when the rules
    /// refused it; such a refusal is recorded before it is returned.
    async fn audited_refusal<T>(
        &self,
        result: Result<T, StoreError>,
        denied: &AtomicBool,
        event: AuditEvent,
        caller: &Caller,
        key_id: &KeyId,
        grant_id: Option<&GrantId>,
    ) -> Result<T, KmsError> {
        match result {
            // A grant that is already gone (the loser of a revoke race) is not a denial.
            Err(StoreError::Rejected(refusal))
                if denied.load(Ordering::Relaxed)
                    && !matches!(refusal, KmsError::GrantNotFound(_)) =>
            {
                self.record_denial(event, caller, key_id, grant_id, refusal.to_string())
                    .await;
                Err(refusal)
            }
            other => Ok(other?),
        }
    }

    /// The audit trail, for operators (`kms-emulator audit`).
    pub async fn audit_trail(
        &self,
        query: &AuditQuery,
        after: i64,
        limit: u32,
    ) -> Result<Page<AuditEntry>, KmsError> {
        Ok(self.store.list_audit(query, after, limit).await?)
    }

    pub async fn describe_key(&self, caller: &Caller, key_id: &KeyId) -> Result<Key, KmsError> {
        // Constraints do not apply to DescribeKey.
        self.key_for_use(caller, key_id, GrantOperation::DescribeKey, None)
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
    ///
    /// `context` is the request's additional data; AWS grant constraints are checked
    /// against it when it is an encryption context of string pairs.
    async fn material_for(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        operation: GrantOperation,
        context: &[u8],
    ) -> Result<Vec<u8>, KmsError> {
        let pairs = crypto::context_map_of_bytes(context);
        let key = self
            .key_for_use(caller, key_id, operation, pairs.as_ref())
            .await?;
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
        self.seal(caller, key_id, operation, plaintext, context, false)
            .await
    }

    /// Finds the key from the ciphertext itself.
    pub async fn decrypt_data(
        &self,
        caller: &Caller,
        frame: &[u8],
        context: &[u8],
    ) -> Result<(KeyId, Vec<u8>), KmsError> {
        self.open(caller, frame, context, false).await
    }

    /// Both dialects' encryption. With `dry_run`, every check runs and `DryRunSucceeded`
    /// is returned before any cryptography.
    async fn seal(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        operation: GrantOperation,
        plaintext: &[u8],
        context: &[u8],
        dry_run: bool,
    ) -> Result<Vec<u8>, KmsError> {
        let material = self
            .material_for(caller, key_id, operation, context)
            .await?;
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        Ok(crypto::encrypt_framed(
            key_id, &material, plaintext, context,
        ))
    }

    /// Both dialects' decryption of data: the key comes from the ciphertext.
    async fn open(
        &self,
        caller: &Caller,
        frame: &[u8],
        context: &[u8],
        dry_run: bool,
    ) -> Result<(KeyId, Vec<u8>), KmsError> {
        let key_id = crypto::framed_key_id(frame).map_err(|_| {
            KmsError::InvalidCipherText("it is not a ciphertext made by encrypt-data.".into())
        })?;
        let material = self
            .material_for(caller, &key_id, GrantOperation::DecryptData, context)
            .await?;
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
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
            .material_for(caller, key_id, GrantOperation::DecryptDatakey, context)
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
        let grant = new_grant(caller, request, None);
        let rule = |key: Option<&Key>, callers_grants: &[Grant]| {
            authz::decide_create_grant(
                caller,
                &grant.key_id,
                key,
                callers_grants,
                &grant.operations,
            )
        };
        let limit = self.settings.max_grants_per_key;
        let stored = self
            .insert_grant(caller, &grant, limit, &rule, GrantWrite::default())
            .await?;
        tracing::info!(
            key_id = %stored.key_id, grant_id = %stored.grant_id, issuer = %caller.user_id,
            grantee = %stored.grantee_principal, "grant created"
        );
        Ok(stored)
    }

    pub async fn revoke_grant(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        grant_id: &GrantId,
    ) -> Result<(), KmsError> {
        let rule = |key: Option<&Key>, grant: Option<&Grant>| {
            authz::decide_revoke(caller, key_id, grant_id.as_str(), key, grant)
        };
        self.delete_grant(
            caller,
            key_id,
            grant_id,
            &rule,
            GrantDeletion::Revoke,
            false,
        )
        .await?;
        tracing::info!(%key_id, %grant_id, user_id = %caller.user_id, "grant revoked");
        Ok(())
    }

    pub async fn retire_grant(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        grant_id: &GrantId,
    ) -> Result<(), KmsError> {
        let rule = |key: Option<&Key>, grant: Option<&Grant>| {
            authz::decide_retire(caller, key_id, grant_id.as_str(), key, grant)
        };
        self.delete_grant(
            caller,
            key_id,
            grant_id,
            &rule,
            GrantDeletion::Retire,
            false,
        )
        .await?;
        tracing::info!(%key_id, %grant_id, user_id = %caller.user_id, "grant retired");
        Ok(())
    }

    /// Inserts a grant that `rule` allows, with its audit record in the same transaction;
    /// a refusal by `rule` is recorded on its own. Returns the grant that is stored (with
    /// `reuse_named`, an earlier grant of the same name and properties).
    async fn insert_grant(
        &self,
        caller: &Caller,
        grant: &Grant,
        max_grants_per_key: u32,
        rule: CreateGrantCheck<'_>,
        write: GrantWrite,
    ) -> Result<Grant, KmsError> {
        let denied = AtomicBool::new(false);
        let check = |key: Option<&Key>, callers_grants: &[Grant]| {
            rule(key, callers_grants).inspect_err(|_| denied.store(true, Ordering::Relaxed))?;
            // Every check ran; the transaction rolls back.
            if write.dry_run {
                return Err(KmsError::DryRunSucceeded);
            }
            Ok(())
        };
        let audit = AuditRecord::new(
            AuditEvent::GrantCreated,
            grant.creation_date,
            caller,
            &grant.key_id,
            Some(&grant.grant_id),
            grant_summary(grant),
        );
        let result = if write.reuse_named {
            self.store
                .insert_grant_or_find_named(caller, grant, max_grants_per_key, &check, &audit)
                .await
        } else {
            self.store
                .insert_grant(caller, grant, max_grants_per_key, &check, &audit)
                .await
                .map(|()| grant.clone())
        };
        self.audited_refusal(
            result,
            &denied,
            AuditEvent::CreateGrantDenied,
            caller,
            &grant.key_id,
            None,
        )
        .await
    }

    /// Revoke and retire: the same deletion under different rules and audit events.
    async fn delete_grant(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        grant_id: &GrantId,
        rule: DeleteGrantCheck<'_>,
        deletion: GrantDeletion,
        dry_run: bool,
    ) -> Result<(), KmsError> {
        let denied = AtomicBool::new(false);
        let check = |key: Option<&Key>, grant: Option<&Grant>| {
            rule(key, grant).inspect_err(|_| denied.store(true, Ordering::Relaxed))?;
            if dry_run {
                return Err(KmsError::DryRunSucceeded);
            }
            Ok(())
        };
        let (done, refused) = match deletion {
            GrantDeletion::Revoke => (AuditEvent::GrantRevoked, AuditEvent::RevokeDenied),
            GrantDeletion::Retire => (AuditEvent::GrantRetired, AuditEvent::RetireDenied),
        };
        let audit = AuditRecord::new(
            done,
            now_millis(),
            caller,
            key_id,
            Some(grant_id),
            String::new(),
        );
        let result = self
            .store
            .delete_grant(key_id, grant_id, &check, &audit)
            .await;
        self.audited_refusal(result, &denied, refused, caller, key_id, Some(grant_id))
            .await
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

    // ---- The AWS dialect's use cases. Separate methods, so the Huawei ones keep
    // their exact behaviour; the rules differ where AWS documents other ones.

    /// AWS Encrypt and GenerateDataKey*: `encrypt` with an encryption context of
    /// string pairs, and DryRun.
    pub async fn aws_encrypt(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        operation: GrantOperation,
        plaintext: &[u8],
        context: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<Vec<u8>, KmsError> {
        let context = crypto::context_bytes_of_map(context);
        self.seal(caller, key_id, operation, plaintext, &context, dry_run)
            .await
    }

    /// AWS Decrypt: `decrypt_data` with an encryption context of string pairs, and DryRun.
    pub async fn aws_decrypt(
        &self,
        caller: &Caller,
        frame: &[u8],
        context: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<(KeyId, Vec<u8>), KmsError> {
        let context = crypto::context_bytes_of_map(context);
        self.open(caller, frame, &context, dry_run).await
    }

    /// AWS CreateGrant: Name idempotency (same name and properties → the stored
    /// grant), the AWS per-key quota, constraints, and DryRun (checked, rolled back).
    pub async fn aws_create_grant(
        &self,
        caller: &Caller,
        request: CreateGrant,
        constraint: Option<ContextConstraint>,
        dry_run: bool,
    ) -> Result<Grant, KmsError> {
        let grant = new_grant(caller, request, constraint);
        let rule = |key: Option<&Key>, callers_grants: &[Grant]| {
            authz::decide_create_grant_aws(
                caller,
                &grant.key_id,
                key,
                callers_grants,
                &grant.operations,
                grant.constraint.as_ref(),
            )
        };
        let write = GrantWrite {
            dry_run,
            reuse_named: true,
        };
        let limit = self.settings.aws_max_grants_per_key;
        let stored = self
            .insert_grant(caller, &grant, limit, &rule, write)
            .await?;
        tracing::info!(
            key_id = %stored.key_id, grant_id = %stored.grant_id, issuer = %caller.user_id,
            grantee = %stored.grantee_principal, reused = stored.grant_id != grant.grant_id,
            "grant created (AWS)"
        );
        Ok(stored)
    }

    /// AWS RevokeGrant (`retire == false`) or RetireGrant (`retire == true`).
    pub async fn aws_delete_grant(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        grant_id: &GrantId,
        retire: bool,
        dry_run: bool,
    ) -> Result<(), KmsError> {
        let rule = |key: Option<&Key>, grant: Option<&Grant>| {
            if retire {
                authz::decide_retire_aws(caller, key_id, grant_id.as_str(), key, grant)
            } else {
                authz::decide_revoke_aws(caller, key_id, grant_id.as_str(), key, grant)
            }
        };
        let deletion = if retire {
            GrantDeletion::Retire
        } else {
            GrantDeletion::Revoke
        };
        self.delete_grant(caller, key_id, grant_id, &rule, deletion, dry_run)
            .await?;
        let action = if retire { "retired" } else { "revoked" };
        tracing::info!(%key_id, %grant_id, user_id = %caller.user_id, "grant {action} (AWS)");
        Ok(())
    }

    /// AWS ListGrants with its `GrantId` and `GranteePrincipal` filters.
    pub async fn aws_list_grants(
        &self,
        caller: &Caller,
        key_id: &KeyId,
        filter: &GrantFilter,
        after: i64,
        limit: u32,
    ) -> Result<Page<Grant>, KmsError> {
        let key = self.store.find_key(key_id).await?;
        authz::decide_list_grants(caller, key_id, key.as_ref())?;
        Ok(self
            .store
            .list_grants_matching(key_id, filter, after, limit)
            .await?)
    }

    /// AWS ListRetirableGrants for a principal stored as `principal` (a user ID, or a
    /// domain ID for an account).
    pub async fn aws_list_retirable_grants(
        &self,
        principal: &str,
        after: i64,
        limit: u32,
    ) -> Result<Page<Grant>, KmsError> {
        Ok(self
            .store
            .list_retirable_grants(principal, after, limit)
            .await?)
    }

    /// Seals a grant token: the grant and key IDs under the master key with a fresh
    /// nonce, so every token is new, opaque, and cannot be forged.
    pub fn mint_grant_token(&self, grant: &Grant) -> String {
        crypto::seal_grant_token(&self.master_key, &grant.key_id, &grant.grant_id)
    }

    /// The key and grant a token names, if this service made it.
    pub fn open_grant_token(&self, token: &str) -> Option<(KeyId, GrantId)> {
        crypto::open_grant_token(&self.master_key, token)
    }
}
