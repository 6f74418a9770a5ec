//! Loading `--seed`'s fixtures: resolving user names, checking and wrapping key material,
//! and handing the store what to insert when missing (see `domain::seed`).

use super::{Kms, now_millis};
use crate::crypto::key_material;
use crate::domain::key_spec::KeySpec;
use crate::domain::seed::{self, SeedCounts, SeedUser};
use crate::domain::{AuditEvent, AuditRecord, KmsError};
use crate::store::StoreError;

/// Why the seed did not load. A reset that went through and a seed that then failed
/// to load again report the second.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The seed cannot be loaded as written, or not beside what is stored.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(StoreError),
}

impl Kms {
    /// Inserts what the seed holds and the store does not (nothing, without `--seed`), in
    /// one transaction recorded in the audit trail as `seed-loaded`. Returns what went in.
    pub async fn load_seed(
        &self,
        actor: &str,
        request_id: &str,
    ) -> Result<Option<SeedCounts>, SeedError> {
        let Some(file) = &self.seed else {
            return Ok(None);
        };
        let plan = seed::plan(file, &|name| self.seed_user(name), now_millis())
            .map_err(SeedError::Invalid)?;
        let mut keys = Vec::with_capacity(plan.keys.len());
        let mut aliases = plan.aliases;
        for planned in plan.keys {
            let mut key = planned.key;
            // A seed key lives in its project's region, and so do its aliases.
            key.region = self.identities.project_region(&key.project_id).to_owned();
            for alias in aliases.iter_mut().filter(|a| a.key_id == key.key_id) {
                alias.region = key.region.clone();
            }
            let at =
                |message: String| SeedError::Invalid(format!("seed key {}: {message}", key.key_id));
            if let Some(text) = &key.key_policy {
                self.validate_key_policy(text)
                    .map_err(|e| at(e.to_string()))?;
            }
            let spec = KeySpec::from_stored(&key.key_spec).expect("the plan stores known specs");
            let material = match planned.material {
                Some(material) => key_material::validate_imported_material(spec, &material)
                    .map_err(|e| at(format!("material: {e}")))?,
                // RSA key generation takes up to seconds: off the async workers.
                None => tokio::task::spawn_blocking(move || key_material::generate_material(spec))
                    .await
                    .map_err(|_| {
                        SeedError::Store(StoreError::Corrupt("key generation failed".into()))
                    })?,
            };
            key.wrapped_material = Some(self.master_key.wrap(&key.key_id, &material));
            keys.push((key, planned.tags));
        }
        let occurred_at = now_millis();
        let audit = |counts: &SeedCounts| AuditRecord {
            event: AuditEvent::SeedLoaded,
            occurred_at,
            request_id: request_id.to_owned(),
            actor_user_id: actor.to_owned(),
            actor_project_id: String::new(),
            key_id: String::new(),
            grant_id: None,
            detail: counts.audit_detail(),
        };
        let counts = self
            .store
            .apply_seed(&keys, &plan.grants, &aliases, &audit)
            .await
            .map_err(|error| match error {
                StoreError::Rejected(KmsError::DuplicateKeyAlias(alias)) => SeedError::Invalid(
                    format!("the seed's key alias {alias:?} is held by another key of its project"),
                ),
                StoreError::Rejected(KmsError::AliasExists(alias)) => SeedError::Invalid(format!(
                    "the seed's AWS alias {alias} names another key of its account"
                )),
                other => SeedError::Store(other),
            })?;
        tracing::info!(
            keys = counts.keys,
            grants = counts.grants,
            aliases = counts.aliases,
            actor,
            "seed loaded"
        );
        Ok(Some(counts))
    }

    /// A seed's user, by ID, or by name when one user alone has it.
    fn seed_user(&self, name_or_id: &str) -> Option<SeedUser> {
        let users = self.identities.users();
        let user = users.iter().find(|u| u.id == name_or_id).or_else(|| {
            let mut named = users.iter().filter(|u| u.name == name_or_id);
            match (named.next(), named.next()) {
                (Some(user), None) => Some(user),
                _ => None,
            }
        })?;
        Some(SeedUser {
            id: user.id.clone(),
            domain_id: user.domain_id.clone(),
            projects: user.projects.clone(),
        })
    }
}
