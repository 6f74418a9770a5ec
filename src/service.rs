//! The use cases both API dialects share: validated commands in, domain results out.
//!
//! This is the only door to the store. Every request is decided by the one
//! authorization core (`domain::authz`); a dialect passes its wire operation as the
//! core's `Action`, the key as the request named it (`KeyRef`), and the `Dialect`,
//! which selects each cloud's documented extra rules. Refusals are recorded in the
//! audit trail before they are returned.

pub mod views;

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::auth::Identities;
use crate::crypto::{self, MasterKey};
use crate::domain::alias::{self, AliasNameError};
use crate::domain::authz::policy::{Kind, Language, MAX_KEY_POLICY_BYTES, PolicyDocument};
use crate::domain::authz::{
    self, Action, DenialBasis, KeyFacts, KeyNaming, KeyPolicy, NewGrantFacts,
};
use crate::domain::key_spec::{
    Cloud, KeyFamily, KeySpec, KeySpecError, KeyUsage, MacAlgorithm, MessageType, SigningAlgorithm,
};
use crate::domain::seed::SeedCounts;
use crate::domain::{
    Alias, AuditEvent, AuditQuery, AuditRecord, Caller, ContextConstraint, Dialect, Grant,
    GrantFilter, GrantId, GrantOperation, GranteeType, Key, KeyId, KeyLastUse, KeyRef, KeyState,
    KmsError, Page, ResetCounts, ResetScope, StateChange,
};
use crate::store::{AuditEntry, Refusal, Store, StoreError};

mod seed;
pub use seed::SeedError;
mod rotation;
pub use rotation::{KeyRotationStatus, ReEncryptSide};
mod tags;

mod encapsulation;
mod import;
mod key_pairs;
mod keyspace;
pub use import::{ExpiryRequest, ImportParameters};
pub use keyspace::{Attestation, DataKeyOut, NewCapsule, OpenedCapsule};
mod multi_region;
pub use multi_region::ReplicateKey;
pub use tags::TaggedKey;

/// Limits and facts that shape responses.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The served regions, the default one first. A key's own region is reported as its
    /// `realm` / `region_id` and in its ARN.
    pub regions: crate::domain::region::Regions,
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
            regions: crate::domain::region::Regions::single("eu-de"),
            max_grants_per_key: 100,
            aws_max_grants_per_key: 50_000,
            max_keys_per_project: 100,
        }
    }
}

impl Settings {
    pub fn max_grants_per_key(&self, dialect: Dialect) -> u32 {
        match dialect {
            Dialect::Huawei => self.max_grants_per_key,
            Dialect::Aws => self.aws_max_grants_per_key,
        }
    }
}

pub struct Kms {
    store: Arc<dyn Store>,
    settings: Settings,
    master_key: MasterKey,
    /// Who exists: accounts (for key ARNs and policy principals) and users.
    identities: Arc<Identities>,
    /// The fixtures of `--seed`, loaded at start and after every reset.
    seed: Option<Arc<crate::domain::seed::SeedFile>>,
}

/// A project's use of its quotas.
pub struct ProjectUsage {
    pub keys: i64,
    pub key_quota: u32,
    pub most_grants_on_a_key: i64,
    pub grant_quota: u32,
}

/// The store and what it holds (`/ready`).
pub struct Health {
    pub backend: &'static str,
    /// The default region.
    pub region: String,
    /// Every served region, the default one first.
    pub regions: Vec<String>,
    pub census: crate::store::Census,
}

pub struct CreateKey {
    pub key_alias: String,
    pub key_description: String,
    pub key_spec: KeySpec,
    pub key_usage: KeyUsage,
    pub origin: String,
    /// AWS `Policy`: the key policy to start with (`None`: the default policy).
    pub policy: Option<String>,
    /// AWS `BypassPolicyLockoutSafetyCheck`.
    pub bypass_policy_lockout_check: bool,
    /// AWS `Tags`: the key's first tags, stored with it (checked by `domain::tag`).
    pub tags: Vec<crate::domain::Tag>,
    /// AWS `MultiRegion`: a multi-Region primary key (`mrk-` ID), which ReplicateKey copies
    /// into other regions.
    pub multi_region: bool,
}

pub struct CreateGrant {
    pub key: KeyRef,
    pub grantee_principal: String,
    pub grantee_principal_type: GranteeType,
    pub operations: Vec<GrantOperation>,
    pub name: Option<String>,
    /// The retiring principal and whether it names a user or an account.
    pub retiring_principal: Option<(String, GranteeType)>,
    /// AWS `Constraints`.
    pub constraint: Option<ContextConstraint>,
}

/// How a grant insert behaves beyond the rules: AWS's DryRun and Name idempotency.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrantWrite {
    pub dry_run: bool,
    /// AWS: a grant with the same name and properties is returned, not duplicated.
    pub reuse_named: bool,
}

/// Revoke and retire: the same deletion under different rules and audit events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Revoke,
    Retire,
}

impl From<StoreError> for KmsError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Rejected(e) | StoreError::Refused(Refusal::Denied(e)) => e,
            StoreError::Refused(Refusal::DryRun) => KmsError::DryRunSucceeded,
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

/// A key-type operation that failed after every check passed: the stored material or
/// the checks and the cryptography disagree. Logged; the caller sees an internal error.
fn key_type_failure(key: &Key, error: crypto::key_error::KeyTypeError) -> KmsError {
    tracing::error!(key_id = %key.key_id, %error, "key-type cryptography failed after the checks passed");
    KmsError::Internal
}

/// The cipher of a symmetric key's framed ciphertexts, from its spec. The framed paths
/// only run on symmetric keys (`material_checked` sees to it), so anything else is a bug.
fn frame_cipher(key: &Key) -> Result<crate::domain::key_spec::SymmetricCipher, KmsError> {
    let (spec, _) = key.spec_and_usage()?;
    spec.symmetric_cipher().ok_or(KmsError::Internal)
}

/// One answer for every ciphertext that does not open, whatever the reason (not a frame,
/// a frame naming an unknown key or another account's, damage, the wrong context), so a
/// prober learns nothing about which keys exist and who owns them.
fn unopenable() -> KmsError {
    KmsError::InvalidCipherText(
        "it was not made by this service with a key you may use, was altered, or the additional data differs from encryption.".into(),
    )
}

/// Whether an error is a refusal by the authorization rules (recorded in the audit
/// trail), as opposed to bad input, a key state or a grant that is already gone.
fn is_refusal(error: &KmsError) -> bool {
    matches!(
        error,
        KmsError::AccessDenied(_) | KmsError::KeyNotFound(_) | KmsError::GrantKeyMismatch { .. }
    )
}

/// Whether the caller's grants could change a refusal: a key the caller cannot see
/// may be visible through a grant, and an implicit denial may be lifted by one. An
/// explicit deny stays whatever grants say.
fn grants_may_help(error: &KmsError) -> bool {
    match error {
        KmsError::KeyNotFound(_) => true,
        KmsError::AccessDenied(denial) => !matches!(
            denial.basis,
            DenialBasis::ExplicitIdentityDeny | DenialBasis::ExplicitResourceDeny
        ),
        _ => false,
    }
}

/// An alias name a request cannot use, as the domain error AWS answers with.
fn alias_name_error(error: AliasNameError) -> KmsError {
    match error {
        AliasNameError::Malformed(message) => KmsError::InvalidParameter(message),
        AliasNameError::Invalid(message) => KmsError::InvalidAliasName(message),
        AliasNameError::Reserved(message) => KmsError::ReservedAliasName(message),
    }
}

/// The audit event of a refused action.
fn refusal_event(action: Action) -> AuditEvent {
    match action {
        Action::CreateGrant => AuditEvent::CreateGrantDenied,
        Action::RevokeGrant => AuditEvent::RevokeDenied,
        Action::RetireGrant => AuditEvent::RetireDenied,
        action if action.grant_operation().is_some() => AuditEvent::KeyUseDenied,
        _ => AuditEvent::AccessDenied,
    }
}

/// A grant may only name operations the key's type can do (AWS: a symmetric key's grant
/// cannot allow Sign). Huawei documents no such rule; the same one holds there, since a
/// grant for an operation the key refuses could never be used.
fn grant_fits_key(key: &Key, operations: &[GrantOperation]) -> Result<(), KmsError> {
    let (spec, usage) = key.spec_and_usage()?;
    let misfits: Vec<&str> = operations
        .iter()
        .filter(|op| !spec.allows_operation(usage, op.key_operation()))
        .map(|op| op.aws_name())
        .collect();
    if misfits.is_empty() {
        Ok(())
    } else {
        Err(KmsError::InvalidParameter(format!(
            "the grant's operations {} are not valid for a {} key with usage {}.",
            misfits.join(", "),
            spec.name(Cloud::Aws),
            usage.name()
        )))
    }
}

/// What an audit record of a new grant says about it.
fn grant_summary(grant: &Grant) -> String {
    format!(
        "grantee {} {}; operations {}; retiring principal {}; via {}",
        grant.grantee_principal_type.as_str(),
        grant.grantee_principal,
        crate::domain::grant::join_operations(&grant.operations),
        grant.retiring_principal.as_deref().unwrap_or("none"),
        grant.dialect.map_or("unknown", Dialect::as_str),
    ) + &grant
        .constraint
        .as_ref()
        .map(|c| format!("; constraint {}", c.to_stored()))
        .unwrap_or_default()
}

pub fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Deletes the keys and grants of `scope` in one transaction and records the reset in the
/// audit trail as done by `actor` (who asked: the HTTP peer or the command line) in request
/// `request_id`. Identities, IAM tokens and the audit trail stay.
pub async fn reset(
    store: &dyn Store,
    scope: &ResetScope,
    actor: &str,
    request_id: &str,
) -> Result<ResetCounts, StoreError> {
    let project = match scope {
        ResetScope::Project(project) => project.clone(),
        _ => String::new(),
    };
    let audit = reset_audit(actor, request_id, project, |counts| {
        counts.audit_detail(scope)
    });
    let counts = store.reset(scope, &audit).await?;
    tracing::info!(scope = %scope.describe(), keys = counts.keys, grants = counts.grants, actor, "reset");
    Ok(counts)
}

/// Replaces every key and grant with a snapshot's (which the caller has validated), in one
/// transaction, recorded in the audit trail as a reset of everything. Returns what was deleted.
pub async fn import_snapshot(
    store: &dyn Store,
    snapshot: &crate::store::Snapshot,
    default_region: &str,
    actor: &str,
    request_id: &str,
) -> Result<ResetCounts, StoreError> {
    let snapshot = &snapshot.with_default_region(default_region);
    let (keys, grants) = (snapshot.keys.len(), snapshot.grants.len());
    let audit = reset_audit(actor, request_id, String::new(), |counts| {
        format!(
            "{}; imported a snapshot of {keys} keys and {grants} grants",
            counts.audit_detail(&ResetScope::All)
        )
    });
    let counts = store.import_snapshot(snapshot, &audit).await?;
    tracing::info!(
        keys,
        grants,
        deleted_keys = counts.keys,
        actor,
        "snapshot imported"
    );
    Ok(counts)
}

/// The audit record of a reset, its detail made from the counts.
fn reset_audit<'a>(
    actor: &'a str,
    request_id: &'a str,
    project: String,
    detail: impl Fn(&ResetCounts) -> String + Send + Sync + 'a,
) -> impl Fn(&ResetCounts) -> AuditRecord + Send + Sync + 'a {
    let occurred_at = now_millis();
    move |counts: &ResetCounts| AuditRecord {
        event: AuditEvent::Reset,
        occurred_at,
        request_id: request_id.to_owned(),
        actor_user_id: actor.to_owned(),
        actor_project_id: project.clone(),
        key_id: String::new(),
        grant_id: None,
        detail: detail(counts),
    }
}

/// The names policies use for a key.
struct KeyNames {
    arn: String,
    huawei: String,
    account: String,
}

/// One question for the core about one key.
struct KeyQuestion<'a> {
    caller: &'a Caller,
    action: Action,
    key_ref: &'a KeyRef,
    key: Option<&'a Key>,
    grants: &'a [Grant],
    context: Option<&'a BTreeMap<String, String>>,
    new_grant: Option<&'a NewGrantFacts>,
}

impl Kms {
    pub fn new(
        store: Arc<dyn Store>,
        settings: Settings,
        master_key: MasterKey,
        identities: Arc<Identities>,
    ) -> Self {
        Self {
            store,
            settings,
            master_key,
            identities,
            seed: None,
        }
    }

    /// The service with `--seed`'s fixtures to load (see [`Kms::load_seed`]).
    pub fn with_seed(mut self, seed: Option<Arc<crate::domain::seed::SeedFile>>) -> Self {
        self.seed = seed;
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// See [`reset`]; then the seed, if any, is loaded again (what the reset deleted of it
    /// comes back). Returns what was deleted and what the seed inserted.
    pub async fn reset(
        &self,
        scope: &ResetScope,
        actor: &str,
        request_id: &str,
    ) -> Result<(ResetCounts, Option<SeedCounts>), SeedError> {
        let deleted = reset(self.store.as_ref(), scope, actor, request_id)
            .await
            .map_err(SeedError::Store)?;
        let seeded = self.load_seed(actor, request_id).await?;
        Ok((deleted, seeded))
    }

    /// Every key and grant (`GET /_emulator/snapshot`).
    pub async fn export_snapshot(&self) -> Result<crate::store::Snapshot, StoreError> {
        self.store.export_snapshot().await
    }

    /// See [`import_snapshot`].
    pub async fn import_snapshot(
        &self,
        snapshot: &crate::store::Snapshot,
        actor: &str,
        request_id: &str,
    ) -> Result<ResetCounts, StoreError> {
        import_snapshot(
            self.store.as_ref(),
            snapshot,
            self.settings.regions.default_region(),
            actor,
            request_id,
        )
        .await
    }

    /// Whether the database answers (`/ready`).
    pub async fn ping(&self) -> Result<(), KmsError> {
        Ok(self.store.ping().await?)
    }

    /// What the service holds and serves, for the health document.
    pub async fn health(&self) -> Result<Health, KmsError> {
        let census = self.store.census().await?;
        Ok(Health {
            backend: self.store.backend(),
            region: self.settings.regions.default_region().to_owned(),
            regions: self.settings.regions.names().to_vec(),
            census,
        })
    }

    fn account_of(&self, domain_id: &str) -> String {
        self.identities.account_of(domain_id)
    }

    /// A key's ARN: `arn:aws:kms:REGION:ACCOUNT:key/ID`.
    pub fn key_arn(&self, key: &Key) -> String {
        self.identities.key_arn(&key.region, key)
    }

    fn names(&self, key: &Key) -> KeyNames {
        KeyNames {
            arn: self.key_arn(key),
            huawei: format!("KMS:{}:{}:KeyId:{}", key.region, key.domain_id, key.key_id),
            account: self.account_of(&key.domain_id),
        }
    }

    /// The core's decision on one key: can the caller see it, and may it do this.
    fn decide(&self, q: &KeyQuestion<'_>) -> Result<(), KmsError> {
        let policy = self.policy_of(q.key)?;
        let key = authz::locate(
            q.caller, q.action, q.key_ref, q.key, &policy, q.grants, None,
        )?;
        let names = self.names(key);
        authz::authorize(&authz::Request {
            caller: q.caller,
            action: q.action,
            key: Some(KeyFacts {
                key,
                arn: &names.arn,
                huawei_resource: &names.huawei,
                account: &names.account,
                policy: &policy,
            }),
            grants: q.grants,
            context: q.context,
            new_grant: q.new_grant,
        })
        .map(drop)
        .map_err(|denial| KmsError::AccessDenied(denial.about(&names.arn)))
    }

    /// The core's decision on a key row a write transaction has locked, for an action no
    /// grant and no encryption context bear on (key administration, aliases, tags, rotation):
    /// the key when the caller may act on it, else the refusal the transaction stops with.
    fn decide_on_locked_key<'k>(
        &self,
        caller: &Caller,
        action: Action,
        key_ref: &KeyRef,
        key: Option<&'k Key>,
    ) -> Result<&'k Key, Refusal> {
        self.decide(&KeyQuestion {
            caller,
            action,
            key_ref,
            key,
            grants: &[],
            context: None,
            new_grant: None,
        })
        .map_err(Refusal::Denied)?;
        Ok(key.expect("the decision found the key"))
    }

    /// The core's decision on an action about no key (CreateKey, ListKeys, ...).
    async fn decide_keyless(&self, caller: &Caller, action: Action) -> Result<(), KmsError> {
        let decision = authz::authorize(&authz::Request {
            caller,
            action,
            key: None,
            grants: &[],
            context: None,
            new_grant: None,
        });
        if let Err(denial) = decision {
            let refusal = KmsError::AccessDenied(denial);
            self.record_denial(
                AuditEvent::AccessDenied,
                caller,
                None,
                None,
                &action,
                &refusal,
            )
            .await;
            return Err(refusal);
        }
        Ok(())
    }

    fn policy_of(&self, key: Option<&Key>) -> Result<KeyPolicy, KmsError> {
        KeyPolicy::parse(key.and_then(|k| k.key_policy.as_deref())).map_err(|error| {
            tracing::error!(%error, "a stored key policy does not parse");
            KmsError::Internal
        })
    }

    /// A key the caller may use for `action`, whatever its state, read outside any write
    /// transaction. The caller's grants are read only when policies alone refuse, so an
    /// administrator's request costs one query. A refusal is recorded before it is returned.
    async fn authorized_key(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        context: Option<&BTreeMap<String, String>>,
    ) -> Result<Key, KmsError> {
        let key = match self.store.find_key(&key_ref.id).await? {
            // Imported material that expired on the emulator's clock goes before any use.
            Some(key) => Some(self.settled_import(key).await?),
            None => None,
        };
        let ask = |grants: &[Grant]| {
            self.decide(&KeyQuestion {
                caller,
                action,
                key_ref,
                key: key.as_ref(),
                grants,
                context,
                new_grant: None,
            })
        };
        let mut decision = ask(&[]);
        if let Err(error) = &decision
            && key.is_some()
            && grants_may_help(error)
        {
            let grants = self.store.grants_to(&key_ref.id, caller).await?;
            decision = ask(&grants);
        }
        match decision {
            Ok(()) => Ok(key.expect("the decision found the key")),
            Err(refusal) => {
                self.record_denial(
                    refusal_event(action),
                    caller,
                    Some(&key_ref.id),
                    None,
                    &action,
                    &refusal,
                )
                .await;
                Err(refusal)
            }
        }
    }

    /// A refusal decided inside a write transaction without the caller's grants (the
    /// actions grants cannot give): when it hid the key, a grant may still show the key
    /// to the caller, who is then told that it may not, rather than that the key is missing.
    async fn shown_through_grants<T>(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Err(StoreError::Refused(Refusal::Denied(KmsError::KeyNotFound(hidden)))) = result
        else {
            return result;
        };
        let hidden = || {
            Err(StoreError::Refused(Refusal::Denied(KmsError::KeyNotFound(
                hidden.clone(),
            ))))
        };
        let (Ok(Some(key)), Ok(grants)) = (
            self.store.find_key(&key_ref.id).await,
            self.store.grants_to(&key_ref.id, caller).await,
        ) else {
            return hidden();
        };
        match self.decide(&KeyQuestion {
            caller,
            action,
            key_ref,
            key: Some(&key),
            grants: &grants,
            context: None,
            new_grant: None,
        }) {
            Err(refusal) => Err(StoreError::Refused(Refusal::Denied(refusal))),
            Ok(()) => hidden(),
        }
    }

    /// Appends the audit record of a refusal. The refusal is the answer either way, so
    /// a failure to record it is logged, not returned.
    async fn record_denial(
        &self,
        event: AuditEvent,
        caller: &Caller,
        key_id: Option<&KeyId>,
        grant_id: Option<&GrantId>,
        action: &Action,
        refusal: &KmsError,
    ) {
        let record = AuditRecord::new(
            event,
            now_millis(),
            caller,
            key_id,
            grant_id,
            format!("{action}: {refusal}"),
        );
        if let Err(error) = self.store.append_audit(&record).await {
            tracing::error!(%error, event = event.as_str(), "could not write the audit record of a refusal");
        }
    }

    /// The answer to a store write whose checks may have refused it: a refusal by the
    /// rules is recorded before it is returned.
    async fn audited<T>(
        &self,
        result: Result<T, StoreError>,
        caller: &Caller,
        action: Action,
        key_id: &KeyId,
        grant_id: Option<&GrantId>,
    ) -> Result<T, KmsError> {
        match result {
            Err(StoreError::Refused(Refusal::Denied(refusal))) if is_refusal(&refusal) => {
                self.record_denial(
                    refusal_event(action),
                    caller,
                    Some(key_id),
                    grant_id,
                    &action,
                    &refusal,
                )
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

    // ---- Keys

    pub async fn create_key(&self, caller: &Caller, request: CreateKey) -> Result<Key, KmsError> {
        self.decide_keyless(caller, Action::CreateKey).await?;
        // Only AWS's CreateKey takes tags; AWS's limits apply, and AWS asks for
        // kms:TagResource in an identity policy too (there is no key policy yet).
        Self::check_new_key_tags(Dialect::Aws, &request.tags)?;
        if !request.tags.is_empty() {
            self.decide_keyless(caller, Action::TagResource)
                .await
                .map_err(|error| match error {
                    // Worded as a refusal of CreateKey, the call made, naming what it lacks.
                    KmsError::AccessDenied(denial) => KmsError::AccessDenied(authz::Denial::rule(
                        authz::evaluate::DenialScope::NoKey,
                        format!(
                            "tagging a new key needs kms:TagResource, and {}",
                            denial.message
                        ),
                    )),
                    other => other,
                })?;
        }
        let external = request.origin == "external";
        let key_state = if external {
            KeyState::PendingImport
        } else {
            KeyState::Enabled
        };
        // Multi-Region keys of imported material would need each replica's own import
        // (AWS); the emulator leaves them out: UnsupportedOperationException.
        if request.multi_region && external {
            return Err(KmsError::MultiRegionUnsupported(
                "Multi-Region keys with imported key material (Origin EXTERNAL) are not served by kms-emulator: create a multi-Region key with Origin AWS_KMS.".into(),
            ));
        }
        let key_id = if request.multi_region {
            KeyId::generate_multi_region(&caller.region)
        } else {
            KeyId::generate()
        };
        let wrapped_material = if external {
            None
        } else {
            let spec = request.key_spec;
            // RSA key generation takes up to seconds: off the async workers.
            let material =
                tokio::task::spawn_blocking(move || crypto::key_material::generate_material(spec))
                    .await
                    .map_err(|_| KmsError::Internal)?;
            Some(self.master_key.wrap(&key_id, &material))
        };
        let key = Key {
            key_id,
            wrapped_material,
            project_id: caller.project_id.clone(),
            domain_id: caller.domain_id.clone(),
            region: caller.region.clone(),
            creator_user_id: caller.user_id.clone(),
            key_alias: request.key_alias,
            key_description: request.key_description,
            key_spec: request.key_spec.stored_name().to_owned(),
            key_usage: request.key_usage.name().to_owned(),
            origin: request.origin,
            key_state,
            creation_date: now_millis(),
            scheduled_deletion_date: None,
            key_policy: request.policy,
        };
        if let Some(text) = &key.key_policy {
            let document = self.validate_key_policy(text)?;
            if !request.bypass_policy_lockout_check {
                self.check_policy_lockout(caller, &key, document)?;
            }
        }
        self.store
            .insert_key(&key, &request.tags, self.settings.max_keys_per_project)
            .await?;
        tracing::info!(key_id = %key.key_id, user_id = %caller.user_id, "key created");
        Ok(key)
    }

    pub async fn describe_key(&self, caller: &Caller, key_ref: &KeyRef) -> Result<Key, KmsError> {
        // Constraints do not apply to DescribeKey.
        self.authorized_key(caller, key_ref, Action::DescribeKey, None)
            .await
    }

    /// The caller's project: how many keys it holds and the most grants on one of them,
    /// with the configured limits (Huawei user-quotas, user-instances).
    pub async fn project_usage(&self, caller: &Caller) -> Result<ProjectUsage, KmsError> {
        self.decide_keyless(caller, Action::ShowQuotas).await?;
        let (keys, most_grants_on_a_key) = self.store.project_usage(&caller.project_id).await?;
        Ok(ProjectUsage {
            keys,
            key_quota: self.settings.max_keys_per_project,
            most_grants_on_a_key,
            grant_quota: self.settings.max_grants_per_key,
        })
    }

    /// The regions this service serves, the default one first (Huawei ListSupportRegions).
    pub async fn list_support_regions(&self, caller: &Caller) -> Result<Vec<String>, KmsError> {
        self.decide_keyless(caller, Action::ListSupportRegions)
            .await?;
        Ok(self.settings.regions.names().to_vec())
    }

    pub async fn list_keys(
        &self,
        caller: &Caller,
        state: Option<KeyState>,
        after: i64,
        limit: u32,
    ) -> Result<Page<Key>, KmsError> {
        self.decide_keyless(caller, Action::ListKeys).await?;
        Ok(self
            .store
            .list_keys(&caller.project_id, &caller.region, state, after, limit)
            .await?)
    }

    /// enable-key, disable-key, schedule-key-deletion and cancel-key-deletion, decided
    /// on the locked row.
    pub async fn change_key_state(
        &self,
        caller: &Caller,
        dialect: Dialect,
        key_ref: &KeyRef,
        change: StateChange,
    ) -> Result<Key, KmsError> {
        let action = match change {
            StateChange::Enable => Action::EnableKey,
            StateChange::Disable => Action::DisableKey,
            StateChange::ScheduleDeletion { .. } => Action::ScheduleKeyDeletion,
            StateChange::CancelDeletion => Action::CancelKeyDeletion,
        };
        let now = now_millis();
        // A multi-Region primary with replicas is not scheduled for deletion.
        let refusal = match change {
            StateChange::ScheduleDeletion { .. } => {
                self.multi_region_rule(key_ref, caller, true).await?
            }
            _ => None,
        };
        let key = self
            .administer_key(caller, key_ref, action, |key| match &refusal {
                Some(error) => Err(error.clone()),
                None => key.after(change, now, dialect),
            })
            .await?;
        tracing::info!(key_id = %key.key_id, state = key.key_state.code(), user_id = %caller.user_id, "key state changed");
        Ok(key)
    }

    /// A change to one key decided on its locked row: the core decides `action`, then
    /// `change` makes the key as it is to be stored (or refuses). Refusals are answered as
    /// the caller's grants let it see the key, and audited.
    async fn administer_key(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        change: impl Fn(&Key) -> Result<Key, KmsError> + Send + Sync,
    ) -> Result<Key, KmsError> {
        let update = |key: Option<&Key>| {
            let key = self.decide_on_locked_key(caller, action, key_ref, key)?;
            change(key).map_err(Refusal::Denied)
        };
        let result = self.store.update_key(&key_ref.id, &update).await;
        let result = self
            .shown_through_grants(caller, key_ref, action, result)
            .await;
        self.audited(result, caller, action, &key_ref.id, None)
            .await
    }

    /// update-key-description / UpdateKeyDescription, decided on the locked row. A key
    /// pending deletion keeps its description (AWS: KMSInvalidStateException); a
    /// disabled key's may change, as in AWS.
    pub async fn update_key_description(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        description: &str,
    ) -> Result<Key, KmsError> {
        let key = self
            .administer_key(caller, key_ref, Action::UpdateKeyDescription, |key| {
                if key.key_state == KeyState::PendingDeletion {
                    return Err(KmsError::KeyPendingDeletion);
                }
                let mut next = key.clone();
                next.key_description = description.to_owned();
                Ok(next)
            })
            .await?;
        tracing::info!(key_id = %key.key_id, user_id = %caller.user_id, "key description updated");
        Ok(key)
    }

    /// Huawei update-key-alias: the key's key_alias attribute, decided on the locked row;
    /// an alias another key of the project has is KMS.1104 (the unique index decides).
    /// A key pending deletion keeps its alias, as its description.
    pub async fn update_key_alias(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        key_alias: &str,
    ) -> Result<Key, KmsError> {
        let key = self
            .administer_key(caller, key_ref, Action::UpdateKeyAlias, |key| {
                if key.key_state == KeyState::PendingDeletion {
                    return Err(KmsError::KeyPendingDeletion);
                }
                let mut next = key.clone();
                next.key_alias = key_alias.to_owned();
                Ok(next)
            })
            .await?;
        tracing::info!(key_id = %key.key_id, user_id = %caller.user_id, "key alias updated");
        Ok(key)
    }

    // ---- Aliases (AWS)

    /// An alias's ARN: `arn:aws:kms:REGION:ACCOUNT:alias/NAME`.
    pub fn alias_arn(&self, domain_id: &str, region: &str, alias_name: &str) -> String {
        format!(
            "arn:aws:kms:{region}:{}:{alias_name}",
            self.account_of(domain_id)
        )
    }

    /// The key an alias of the account names, if the alias exists. Who may use that key
    /// is decided afterwards, on the key, like any key a request names.
    pub async fn resolve_alias(
        &self,
        domain_id: &str,
        region: &str,
        alias_name: &str,
    ) -> Result<Option<KeyId>, KmsError> {
        Ok(self
            .store
            .find_alias(domain_id, region, alias_name)
            .await?
            .map(|a| a.key_id))
    }

    /// A refusal by the alias rules of `action` on `key` (the key an alias names or is
    /// to name): the core's decision, then AWS's own rules: the key is of the caller's
    /// account, and a key pending deletion gets no new alias.
    fn alias_key_check(
        &self,
        caller: &Caller,
        action: Action,
        key_ref: &KeyRef,
        key: Option<&Key>,
        refuse_pending_deletion: bool,
    ) -> Result<(), Refusal> {
        let key = self.decide_on_locked_key(caller, action, key_ref, key)?;
        if key.domain_id != caller.domain_id {
            // An alias names a key of its own account (AWS); another account's key is
            // not one this request can name.
            return Err(Refusal::Denied(KmsError::KeyNotFound(
                key.key_id.to_string(),
            )));
        }
        if refuse_pending_deletion && key.key_state == KeyState::PendingDeletion {
            return Err(Refusal::Denied(KmsError::KeyPendingDeletion));
        }
        Ok(())
    }

    /// The key an existing alias names, as a request of the caller's account names it.
    fn own_key_ref(
        caller: &Caller,
        key: Option<&Key>,
        alias_name: &str,
    ) -> Result<KeyRef, Refusal> {
        let key =
            key.ok_or_else(|| Refusal::Denied(KmsError::AliasNotFound(alias_name.to_owned())))?;
        Ok(KeyRef {
            id: key.key_id.clone(),
            naming: KeyNaming::InAccount(Some(caller.domain_id.clone())),
        })
    }

    fn alias_not_found_as_arn(&self, caller: &Caller, error: KmsError) -> KmsError {
        match error {
            KmsError::AliasNotFound(name) => {
                KmsError::AliasNotFound(self.alias_arn(&caller.domain_id, &caller.region, &name))
            }
            other => other,
        }
    }

    /// CreateAlias: `alias_name` in the caller's account, naming `key_ref`.
    pub async fn create_alias(
        &self,
        caller: &Caller,
        alias_name: &str,
        key_ref: &KeyRef,
    ) -> Result<Alias, KmsError> {
        alias::check_writable_name(alias_name).map_err(alias_name_error)?;
        let action = Action::CreateAlias;
        let now = now_millis();
        let alias = Alias {
            domain_id: caller.domain_id.clone(),
            region: caller.region.clone(),
            alias_name: alias_name.to_owned(),
            key_id: key_ref.id.clone(),
            creation_date: now,
            last_updated_date: now,
        };
        let check = |key: Option<&Key>| self.alias_key_check(caller, action, key_ref, key, true);
        let result = self.store.insert_alias(&alias, &check).await;
        self.audited(result, caller, action, &key_ref.id, None)
            .await?;
        tracing::info!(key_id = %alias.key_id, alias = alias_name, user_id = %caller.user_id, "alias created");
        Ok(alias)
    }

    /// DeleteAlias: decided on the key the alias names.
    /// DeleteAlias, and Huawei's DELETE aliases, which names the key the alias must name
    /// (`of_key`; an alias of another key is not found).
    pub async fn delete_alias(
        &self,
        caller: &Caller,
        alias_name: &str,
        of_key: Option<&KeyId>,
    ) -> Result<(), KmsError> {
        alias::check_writable_name(alias_name).map_err(alias_name_error)?;
        let action = Action::DeleteAlias;
        let check = |key: Option<&Key>| {
            if let (Some(expected), Some(key)) = (of_key, key)
                && key.key_id.as_str() != expected.as_str()
            {
                return Err(Refusal::Denied(KmsError::AliasNotFound(
                    alias_name.to_owned(),
                )));
            }
            let key_ref = Self::own_key_ref(caller, key, alias_name)?;
            self.alias_key_check(caller, action, &key_ref, key, false)
        };
        let result = self
            .store
            .delete_alias(&caller.domain_id, &caller.region, alias_name, &check)
            .await;
        let result = match result {
            Err(StoreError::Refused(Refusal::Denied(refusal))) if is_refusal(&refusal) => {
                self.record_denial(refusal_event(action), caller, None, None, &action, &refusal)
                    .await;
                Err(refusal)
            }
            other => other.map_err(KmsError::from),
        };
        result.map_err(|e| self.alias_not_found_as_arn(caller, e))?;
        tracing::info!(alias = alias_name, user_id = %caller.user_id, "alias deleted");
        Ok(())
    }

    /// UpdateAlias: decided on the key the alias names and on the key it is to name
    /// (AWS: kms:UpdateAlias on both).
    pub async fn update_alias(
        &self,
        caller: &Caller,
        alias_name: &str,
        key_ref: &KeyRef,
    ) -> Result<(), KmsError> {
        alias::check_writable_name(alias_name).map_err(alias_name_error)?;
        let action = Action::UpdateAlias;
        let check = |old: Option<&Key>, new: Option<&Key>| {
            let old_ref = Self::own_key_ref(caller, old, alias_name)?;
            self.alias_key_check(caller, action, &old_ref, old, false)?;
            self.alias_key_check(caller, action, key_ref, new, true)?;
            match (old, new) {
                (Some(old), Some(new)) => alias::may_move(old, new).map_err(Refusal::Denied),
                _ => Ok(()),
            }
        };
        let result = self
            .store
            .update_alias(
                &caller.domain_id,
                &caller.region,
                alias_name,
                &key_ref.id,
                now_millis(),
                &check,
            )
            .await;
        self.audited(result, caller, action, &key_ref.id, None)
            .await
            .map_err(|e| self.alias_not_found_as_arn(caller, e))?;
        tracing::info!(key_id = %key_ref.id, alias = alias_name, user_id = %caller.user_id, "alias updated");
        Ok(())
    }

    /// One alias of the caller's account, for the answer of a write that just made or moved
    /// it (the write was decided; reading it back needs no further decision).
    pub async fn find_alias(
        &self,
        caller: &Caller,
        alias_name: &str,
    ) -> Result<Option<Alias>, KmsError> {
        Ok(self
            .store
            .find_alias(&caller.domain_id, &caller.region, alias_name)
            .await?)
    }

    /// ListAliases: the caller's account's aliases, those naming `key_id` when given.
    pub async fn list_aliases(
        &self,
        caller: &Caller,
        key_id: Option<&KeyId>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<Alias>, Option<String>), KmsError> {
        self.decide_keyless(caller, Action::ListAliases).await?;
        Ok(self
            .store
            .list_aliases(&caller.domain_id, &caller.region, key_id, after, limit)
            .await?)
    }

    // ---- Key policies (AWS)

    /// The key's policy text: the one put, or the default policy with the key's account.
    pub async fn get_key_policy(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
    ) -> Result<String, KmsError> {
        let key = self
            .authorized_key(caller, key_ref, Action::GetKeyPolicy, None)
            .await?;
        Ok(key
            .key_policy
            .unwrap_or_else(|| KeyPolicy::default_text(&self.account_of(&key.domain_id))))
    }

    /// The names of the key's policies: always `default` (AWS's only user-managed one).
    pub async fn list_key_policies(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
    ) -> Result<Key, KmsError> {
        self.authorized_key(caller, key_ref, Action::ListKeyPolicies, None)
            .await
    }

    pub async fn put_key_policy(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        text: &str,
        bypass_lockout_check: bool,
    ) -> Result<(), KmsError> {
        let document = self.validate_key_policy(text)?;
        let update = |key: Option<&Key>| {
            let mut next = self
                .decide_on_locked_key(caller, Action::PutKeyPolicy, key_ref, key)?
                .clone();
            next.key_policy = Some(text.to_owned());
            if !bypass_lockout_check {
                self.check_policy_lockout(caller, &next, document.clone())
                    .map_err(Refusal::Denied)?;
            }
            Ok(next)
        };
        let result = self.store.update_key(&key_ref.id, &update).await;
        let result = self
            .shown_through_grants(caller, key_ref, Action::PutKeyPolicy, result)
            .await;
        self.audited(result, caller, Action::PutKeyPolicy, &key_ref.id, None)
            .await?;
        tracing::info!(key_id = %key_ref.id, user_id = %caller.user_id, "key policy put");
        Ok(())
    }

    /// A key policy as AWS accepts it: at most 32 KB, valid syntax, and principals that
    /// exist (accounts and users this emulator knows, or `*`).
    fn validate_key_policy(&self, text: &str) -> Result<PolicyDocument, KmsError> {
        if text.len() > MAX_KEY_POLICY_BYTES {
            return Err(KmsError::PolicyTooLarge {
                limit: MAX_KEY_POLICY_BYTES,
            });
        }
        let document = PolicyDocument::parse(text, Language::Aws, Kind::Key)
            .map_err(KmsError::MalformedPolicy)?;
        let known = |principal: &str| {
            let account = principal
                .strip_prefix("arn:aws:iam::")
                .and_then(|rest| rest.strip_suffix(":root"))
                .unwrap_or(principal);
            self.identities.user_by_aws_arn(principal).is_some()
                || self.identities.domain_by_aws_account(account).is_some()
        };
        if !document.named_principals().all(known) {
            return Err(KmsError::MalformedPolicy(
                "Policy contains a statement with one or more invalid principals.".into(),
            ));
        }
        Ok(document)
    }

    /// AWS's lockout safety check: the new policy must still let the caller put a policy.
    fn check_policy_lockout(
        &self,
        caller: &Caller,
        key: &Key,
        document: PolicyDocument,
    ) -> Result<(), KmsError> {
        let policy = KeyPolicy::Custom(document);
        let names = self.names(key);
        let allowed = authz::authorize(&authz::Request {
            caller,
            action: Action::PutKeyPolicy,
            key: Some(KeyFacts {
                key,
                arn: &names.arn,
                huawei_resource: &names.huawei,
                account: &names.account,
                policy: &policy,
            }),
            grants: &[],
            context: None,
            new_grant: None,
        });
        match allowed {
            Ok(_) => Ok(()),
            Err(_) => Err(KmsError::MalformedPolicy(
                "The new key policy will not allow you to update the key policy in the future."
                    .into(),
            )),
        }
    }

    // ---- Grants

    /// What condition keys see of a grant being created, in both vocabularies.
    fn new_grant_facts(&self, grant: &Grant) -> NewGrantFacts {
        let arn_of = |id: &str, kind: GranteeType| match kind {
            GranteeType::User => self
                .identities
                .user_by_id(id)
                .map(|u| u.aws_arn.clone())
                .unwrap_or_else(|| id.to_owned()),
            GranteeType::Domain => format!("arn:aws:iam::{}:root", self.account_of(id)),
        };
        let mut aws_operations: Vec<String> = Vec::new();
        for op in &grant.operations {
            let name = op.aws_name().to_owned();
            if !aws_operations.contains(&name) {
                aws_operations.push(name);
            }
        }
        NewGrantFacts {
            operations: grant.operations.clone(),
            constraint: grant.constraint.clone(),
            aws_operations,
            grantee_aws: arn_of(&grant.grantee_principal, grant.grantee_principal_type),
            grantee_huawei: grant.grantee_principal.clone(),
            grantee_type: grant.grantee_principal_type.as_str(),
            retiring_aws: grant
                .retiring_principal
                .as_deref()
                .map(|id| arn_of(id, grant.retiring_principal_type)),
            retiring_huawei: grant.retiring_principal.clone(),
        }
    }

    /// create-grant / CreateGrant, decided on the locked key. Returns the grant that is
    /// stored (with `reuse_named`, an earlier grant of the same name and properties).
    pub async fn create_grant(
        &self,
        caller: &Caller,
        dialect: Dialect,
        request: CreateGrant,
        write: GrantWrite,
    ) -> Result<Grant, KmsError> {
        let key_ref = request.key;
        let (retiring_principal, retiring_principal_type) = match request.retiring_principal {
            Some((id, kind)) => (Some(id), kind),
            None => (None, GranteeType::User),
        };
        let grant = Grant {
            grant_id: GrantId::generate(),
            key_id: key_ref.id.clone(),
            grantee_principal: request.grantee_principal,
            grantee_principal_type: request.grantee_principal_type,
            operations: request.operations,
            issuing_principal: caller.user_id.clone(),
            retiring_principal,
            retiring_principal_type,
            name: request.name,
            creation_date: now_millis(),
            constraint: request.constraint,
            dialect: Some(dialect),
        };
        let facts = self.new_grant_facts(&grant);
        let check = |key: Option<&Key>, callers_grants: &[Grant]| {
            self.decide(&KeyQuestion {
                caller,
                action: Action::CreateGrant,
                key_ref: &key_ref,
                key,
                grants: callers_grants,
                context: None,
                new_grant: Some(&facts),
            })
            .map_err(Refusal::Denied)?;
            let key = key.expect("the decision found the key");
            key.key_state.ensure_usable().map_err(Refusal::Denied)?;
            grant_fits_key(key, &grant.operations).map_err(Refusal::Denied)?;
            // Every check ran; the transaction rolls back.
            if write.dry_run {
                return Err(Refusal::DryRun);
            }
            Ok(())
        };
        let audit = AuditRecord::new(
            AuditEvent::GrantCreated,
            grant.creation_date,
            caller,
            Some(&grant.key_id),
            Some(&grant.grant_id),
            grant_summary(&grant),
        );
        let limit = self.settings.max_grants_per_key(dialect);
        let result = if write.reuse_named {
            self.store
                .insert_grant_or_find_named(caller, &grant, limit, &check, &audit)
                .await
        } else {
            self.store
                .insert_grant(caller, &grant, limit, &check, &audit)
                .await
                .map(|()| grant.clone())
        };
        let stored = self
            .audited(result, caller, Action::CreateGrant, &key_ref.id, None)
            .await?;
        tracing::info!(
            key_id = %stored.key_id, grant_id = %stored.grant_id, issuer = %caller.user_id,
            grantee = %stored.grantee_principal, reused = stored.grant_id != grant.grant_id,
            dialect = dialect.as_str(), "grant created"
        );
        Ok(stored)
    }

    /// revoke-grant / RevokeGrant and retire-grant / RetireGrant, decided on the locked
    /// grant. With `dry_run`, every check runs and the transaction rolls back.
    pub async fn delete_grant(
        &self,
        caller: &Caller,
        dialect: Dialect,
        deletion: Deletion,
        key_ref: &KeyRef,
        grant_id: &GrantId,
        dry_run: bool,
    ) -> Result<(), KmsError> {
        let action = match deletion {
            Deletion::Revoke => Action::RevokeGrant,
            Deletion::Retire => Action::RetireGrant,
        };
        let check = |key: Option<&Key>, grant: Option<&Grant>, grant_key_domain: Option<&str>| {
            self.decide_deletion(
                caller,
                dialect,
                deletion,
                key_ref,
                grant_id,
                (key, grant, grant_key_domain),
            )
            .map_err(Refusal::Denied)?;
            if dry_run {
                return Err(Refusal::DryRun);
            }
            Ok(())
        };
        let (done, verb) = match deletion {
            Deletion::Revoke => (AuditEvent::GrantRevoked, "revoked"),
            Deletion::Retire => (AuditEvent::GrantRetired, "retired"),
        };
        let audit = AuditRecord::new(
            done,
            now_millis(),
            caller,
            Some(&key_ref.id),
            Some(grant_id),
            format!("via {}", dialect.as_str()),
        );
        let result = self
            .store
            .delete_grant(&key_ref.id, grant_id, &check, &audit)
            .await;
        self.audited(result, caller, action, &key_ref.id, Some(grant_id))
            .await?;
        tracing::info!(key_id = %key_ref.id, %grant_id, user_id = %caller.user_id, dialect = dialect.as_str(), "grant {verb}");
        Ok(())
    }

    /// The rules of a revoke or retire, on the key the request names and the locked grant.
    fn decide_deletion(
        &self,
        caller: &Caller,
        dialect: Dialect,
        deletion: Deletion,
        key_ref: &KeyRef,
        grant_id: &GrantId,
        (key, grant, grant_key_domain): (Option<&Key>, Option<&Grant>, Option<&str>),
    ) -> Result<(), KmsError> {
        let action = match deletion {
            Deletion::Revoke => Action::RevokeGrant,
            Deletion::Retire => Action::RetireGrant,
        };
        let policy = self.policy_of(key)?;
        let key = authz::locate(caller, action, key_ref, key, &policy, &[], grant)?;
        let grant = authz::named_grant(caller, key, grant_id, grant, grant_key_domain)?;
        let names = self.names(key);
        let request = authz::Request {
            caller,
            action,
            key: Some(KeyFacts {
                key,
                arn: &names.arn,
                huawei_resource: &names.huawei,
                account: &names.account,
                policy: &policy,
            }),
            grants: std::slice::from_ref(grant),
            context: None,
            new_grant: None,
        };
        match (dialect, deletion) {
            (Dialect::Huawei, Deletion::Revoke) => authz::huawei::decide_revoke(&request, key),
            (Dialect::Huawei, Deletion::Retire) => {
                authz::huawei::decide_retire(&request, key, grant)
            }
            (Dialect::Aws, Deletion::Revoke) => authz::authorize(&request).map(drop),
            (Dialect::Aws, Deletion::Retire) => authz::aws::decide_retire(&request, key, grant),
        }
        .map_err(|denial| KmsError::AccessDenied(denial.about(&names.arn)))
    }

    /// list-grants / ListGrants, with AWS's `GrantId` and `GranteePrincipal` filters.
    /// Returns the key too, for the ARNs of the answer.
    pub async fn list_grants(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        filter: &GrantFilter,
        after: i64,
        limit: u32,
    ) -> Result<(Page<Grant>, Key), KmsError> {
        let key = self
            .authorized_key(caller, key_ref, Action::ListGrants, None)
            .await?;
        let page = self
            .store
            .list_grants_matching(&key_ref.id, filter, after, limit)
            .await?;
        Ok((page, key))
    }

    /// list-retirable-grants / ListRetirableGrants: the grants, on any key, whose
    /// retiring principal is `principal` (`None`: the caller itself), each with its key.
    /// AWS: the principal must be of the caller's own account.
    pub async fn list_retirable_grants(
        &self,
        caller: &Caller,
        principal: Option<(String, GranteeType)>,
        after: i64,
        limit: u32,
    ) -> Result<Page<(Grant, Key)>, KmsError> {
        self.decide_keyless(caller, Action::ListRetirableGrants)
            .await?;
        let (id, kind) = principal.unwrap_or_else(|| (caller.user_id.clone(), GranteeType::User));
        let domain = match kind {
            GranteeType::Domain => Some(id.clone()),
            GranteeType::User => self.identities.user_by_id(&id).map(|u| u.domain_id.clone()),
        };
        if domain.as_deref() != Some(caller.domain_id.as_str()) {
            let refusal = KmsError::AccessDenied(authz::Denial::rule(
                authz::evaluate::DenialScope::NoKey,
                format!(
                    "{} may list only the grants retirable by principals of its own account.",
                    Action::ListRetirableGrants
                ),
            ));
            self.record_denial(
                AuditEvent::AccessDenied,
                caller,
                None,
                None,
                &Action::ListRetirableGrants,
                &refusal,
            )
            .await;
            return Err(refusal);
        }
        Ok(self
            .store
            .list_retirable_grants(&id, kind, &caller.region, after, limit)
            .await?)
    }

    // ---- Cryptography

    /// The material of a key the caller may use for `action` now. Grants are read from
    /// the database on every call, so a revoked or retired grant stops working at once,
    /// in every process. `context` is the request's additional data; grant constraints
    /// and `kms:EncryptionContext` conditions see it when it is an encryption context
    /// of string pairs.
    async fn material_for(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        context: &[u8],
    ) -> Result<(Key, Vec<u8>), KmsError> {
        self.material_checked(caller, key_ref, action, context, true)
            .await
    }

    /// As `material_for`; with `framed` false, an encryption action may run on key-pair
    /// material (RSAES-OAEP, SM2PKE: the caller checks the algorithm against the key).
    async fn material_checked(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        context: &[u8],
        framed: bool,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let pairs = crypto::context_map_of_bytes(context);
        let key = self
            .authorized_key(caller, key_ref, action, pairs.as_ref())
            .await?;
        key.key_state.ensure_usable()?;
        let (spec, usage) = key.spec_and_usage()?;
        if let Some(operation) = action.grant_operation() {
            spec.check_operation(usage, operation.key_operation())
                .map_err(KmsError::KeyType)?;
        }
        if framed && action.takes_encryption_context() && spec.family() != KeyFamily::Symmetric {
            // The framed symmetric path must never run with key-pair material.
            return Err(KmsError::KeyType(KeySpecError::OperationNotAllowed {
                operation: "symmetric encryption",
                spec: spec.name(Cloud::Aws).to_owned(),
                usage: usage.name().to_owned(),
            }));
        }
        let wrapped = key
            .wrapped_material
            .as_deref()
            .ok_or(KmsError::KeyPendingImport)?;
        let material = self.master_key.unwrap(&key.key_id, wrapped).map_err(|_| {
            tracing::error!(key_id = %key.key_id, "key material does not open under the configured master key");
            KmsError::Internal
        })?;
        Ok((key, material))
    }

    /// The key pair for Sign or Verify, authorized, with the algorithm and message checked
    /// against the key's type.
    #[allow(clippy::too_many_arguments)]
    async fn signing_material(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        algorithm: SigningAlgorithm,
        message_type: MessageType,
        message_len: usize,
        cloud: Cloud,
    ) -> Result<(Key, KeySpec, Vec<u8>), KmsError> {
        let (key, material) = self.material_for(caller, key_ref, action, &[]).await?;
        let (spec, usage) = key.spec_and_usage()?;
        spec.check_signing_algorithm(usage, algorithm, cloud)
            .and_then(|()| algorithm.check_message(cloud, message_type, message_len))
            .map_err(KmsError::KeyType)?;
        Ok((key, spec, material))
    }

    /// The HMAC key for GenerateMac or VerifyMac, authorized, with the algorithm checked.
    async fn mac_material(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        algorithm: MacAlgorithm,
        cloud: Cloud,
    ) -> Result<(Key, KeySpec, Vec<u8>), KmsError> {
        let (key, material) = self.material_for(caller, key_ref, action, &[]).await?;
        let (spec, usage) = key.spec_and_usage()?;
        spec.check_mac_algorithm(usage, algorithm, cloud)
            .map_err(KmsError::KeyType)?;
        Ok((key, spec, material))
    }

    /// Signs `message` (a RAW message or a DIGEST) with a SIGN_VERIFY key pair.
    pub async fn sign(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        algorithm: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
        cloud: Cloud,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let (key, spec, material) = self
            .signing_material(
                caller,
                key_ref,
                Action::Sign,
                algorithm,
                message_type,
                message.len(),
                cloud,
            )
            .await?;
        let signature = crypto::signing::sign(spec, &material, algorithm, message_type, message)
            .map_err(|error| key_type_failure(&key, error))?;
        self.record_use(caller, &key, Action::Sign).await;
        Ok((key, signature))
    }

    /// Whether `signature` is valid for `message` under the key: `Ok(false)` for a
    /// signature that does not verify (each dialect words that its own way).
    #[allow(clippy::too_many_arguments)]
    pub async fn verify(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        algorithm: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
        cloud: Cloud,
    ) -> Result<(Key, bool), KmsError> {
        let (key, spec, material) = self
            .signing_material(
                caller,
                key_ref,
                Action::Verify,
                algorithm,
                message_type,
                message.len(),
                cloud,
            )
            .await?;
        match crypto::signing::verify(spec, &material, algorithm, message_type, message, signature)
        {
            Ok(()) => {
                self.record_use(caller, &key, Action::Verify).await;
                Ok((key, true))
            }
            Err(crypto::key_error::KeyTypeError::InvalidSignature) => Ok((key, false)),
            Err(error) => Err(key_type_failure(&key, error)),
        }
    }

    /// The public half of a key pair, as DER SubjectPublicKeyInfo.
    pub async fn public_key(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let (key, material) = self
            .material_for(caller, key_ref, Action::GetPublicKey, &[])
            .await?;
        let (spec, _) = key.spec_and_usage()?;
        let der = crypto::key_material::public_key_der(spec, &material)
            .map_err(|error| key_type_failure(&key, error))?;
        Ok((key, der))
    }

    /// An HMAC of `message` with a GENERATE_VERIFY_MAC key.
    pub async fn generate_mac(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        algorithm: MacAlgorithm,
        message: &[u8],
        cloud: Cloud,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let (key, spec, material) = self
            .mac_material(caller, key_ref, Action::GenerateMac, algorithm, cloud)
            .await?;
        let mac = crypto::mac::generate_mac(spec, &material, algorithm, message)
            .map_err(|error| key_type_failure(&key, error))?;
        self.record_use(caller, &key, Action::GenerateMac).await;
        Ok((key, mac))
    }

    /// Whether `mac` is the HMAC of `message` under the key (compared in constant time).
    pub async fn verify_mac(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        algorithm: MacAlgorithm,
        message: &[u8],
        mac: &[u8],
        cloud: Cloud,
    ) -> Result<(Key, bool), KmsError> {
        let (key, spec, material) = self
            .mac_material(caller, key_ref, Action::VerifyMac, algorithm, cloud)
            .await?;
        match crypto::mac::verify_mac(spec, &material, algorithm, message, mac) {
            Ok(()) => {
                self.record_use(caller, &key, Action::VerifyMac).await;
                Ok((key, true))
            }
            Err(crypto::key_error::KeyTypeError::InvalidMac) => Ok((key, false)),
            Err(error) => Err(key_type_failure(&key, error)),
        }
    }

    /// Seals `plaintext` under the key for `action` (encrypt-data / Encrypt,
    /// encrypt-datakey, or a data-key creation). With `dry_run`, every check runs and
    /// `DryRunSucceeded` is returned before any cryptography.
    pub async fn encrypt(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        action: Action,
        plaintext: &[u8],
        context: &[u8],
        dry_run: bool,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let (key, first) = self.material_for(caller, key_ref, action, context).await?;
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        let (version, material) = self.current_material(&key, first).await?;
        let frame = crypto::encrypt_framed_version(
            frame_cipher(&key)?,
            &key.key_id,
            version,
            &material,
            plaintext,
            context,
        );
        self.record_use(caller, &key, action).await;
        Ok((key, frame))
    }

    /// encrypt-datakey: as [`Kms::encrypt`] for a data key that comes with its digest,
    /// which must be the key spec's data key digest (SHA-256, SM3 for an SM4 key).
    pub async fn encrypt_datakey(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        data_key: &[u8],
        digest: &[u8],
        context: &[u8],
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let (key, first) = self
            .material_for(caller, key_ref, Action::EncryptDatakey, context)
            .await?;
        let (spec, _) = key.spec_and_usage()?;
        if crypto::digest(spec.data_key_digest(), data_key).as_deref() != Some(digest) {
            return Err(KmsError::DekHashMismatch);
        }
        let (version, material) = self.current_material(&key, first).await?;
        let frame = crypto::encrypt_framed_version(
            frame_cipher(&key)?,
            &key.key_id,
            version,
            &material,
            data_key,
            context,
        );
        self.record_use(caller, &key, Action::EncryptDatakey).await;
        Ok((key, frame))
    }

    /// Decryption of data: the key comes from the ciphertext. `expected` is the key the
    /// request names, if it names one (it must be the ciphertext's). A ciphertext naming
    /// a key the caller cannot see gets the answer garbage gets, so frames reveal
    /// nothing about keys.
    pub async fn decrypt(
        &self,
        caller: &Caller,
        expected: Option<&KeyRef>,
        frame: &[u8],
        context: &[u8],
        dry_run: bool,
    ) -> Result<(Key, Vec<u8>), KmsError> {
        let (key, material) = self
            .frame_material(caller, expected, frame, context, Action::DecryptData)
            .await?;
        if dry_run {
            return Err(KmsError::DryRunSucceeded);
        }
        let plaintext =
            crypto::decrypt_framed(frame_cipher(&key)?, &key.key_id, &material, frame, context)
                .map_err(|_| unopenable())?;
        self.record_use(caller, &key, Action::DecryptData).await;
        Ok((key, plaintext))
    }

    /// decrypt-datakey: the data key and its digest (the key spec's data key digest).
    pub async fn decrypt_datakey(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
        frame: &[u8],
        context: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), KmsError> {
        let (key, first) = self
            .material_for(caller, key_ref, Action::DecryptDatakey, context)
            .await?;
        let version = crypto::framed_key_version(frame)
            .map_err(|_| unopenable())?
            .1;
        let material = self.version_material(&key, version, first).await?;
        let data_key =
            crypto::decrypt_framed(frame_cipher(&key)?, &key.key_id, &material, frame, context)
                .map_err(|_| unopenable())?;
        let (spec, _) = key.spec_and_usage()?;
        let digest = crypto::digest(spec.data_key_digest(), &data_key).ok_or(KmsError::Internal)?;
        self.record_use(caller, &key, Action::DecryptDatakey).await;
        Ok((data_key, digest))
    }

    /// AWS GetKeyLastUsage: the key and its last successful cryptographic operation.
    pub async fn key_last_use(
        &self,
        caller: &Caller,
        key_ref: &KeyRef,
    ) -> Result<(Key, Option<KeyLastUse>), KmsError> {
        let key = self
            .authorized_key(caller, key_ref, Action::GetKeyLastUsage, None)
            .await?;
        let last = self.store.key_last_use(&key.key_id).await?;
        Ok((key, last))
    }

    /// Records that `action` used `key` successfully, for GetKeyLastUsage. A failure to
    /// record is logged, not answered: the operation itself succeeded, and its result is
    /// worth more to the caller than the usage record.
    pub(crate) async fn record_use(&self, caller: &Caller, key: &Key, action: Action) {
        let Some(operation) = action.tracked_use() else {
            return;
        };
        if let Err(error) = self
            .store
            .record_key_use(&key.key_id, operation, now_millis(), &caller.request_id)
            .await
        {
            tracing::warn!(key_id = %key.key_id, %error, "the key's use was not recorded");
        }
    }

    /// gen-random / GenerateRandom.
    pub async fn generate_random(
        &self,
        caller: &Caller,
        bytes: usize,
    ) -> Result<Vec<u8>, KmsError> {
        self.decide_keyless(caller, Action::GenerateRandom).await?;
        Ok(crypto::random_bytes(bytes))
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
