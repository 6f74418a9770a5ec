//! Read-only views for the operator console (`/_emulator/console`): what the store holds,
//! joined with the configured identities. Nothing here decides or writes anything; the console
//! answers operators only (see `api::console`), so these reads pass no authorization check.

use std::collections::{BTreeMap, HashMap};

use super::Kms;
use crate::domain::{Alias, AuditQuery, Grant, Key, KeyId, Page};
use crate::store::{AuditEntry, Census, StoreError};

/// The most grants the key page lists (AWS keys may hold many more: the page says how many).
pub const KEY_PAGE_GRANTS: u32 = 500;
/// The most aliases read for one account on one page of keys.
const ACCOUNT_ALIASES: u32 = 1000;

/// A project: stored (it has or had keys) or configured (an identity), or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectView {
    pub project_id: String,
    /// The configured name, when the project is a configured identity.
    pub name: Option<String>,
    pub domain_id: String,
    /// The AWS account ID of the domain (empty when the domain is not known).
    pub account: String,
    pub keys: i64,
    pub grants: i64,
}

/// A key with the names its account gives it (AWS aliases; the Huawei alias is `key.key_alias`).
#[derive(Debug, Clone)]
pub struct KeyView {
    pub key: Key,
    pub aliases: Vec<String>,
    pub tags: Vec<crate::domain::Tag>,
    /// Automatic rotation: on, and the newest material version (0: never rotated).
    pub rotation_enabled: bool,
    pub version: u32,
}

/// One key, its aliases and its grants (the first `KEY_PAGE_GRANTS`, of `grants_total`).
#[derive(Debug, Clone)]
pub struct KeyDetail {
    pub key: Key,
    pub account: String,
    pub aliases: Vec<Alias>,
    pub grants: Vec<Grant>,
    pub grants_total: i64,
}

impl Kms {
    /// Every project the store holds or the identities configure, by ID, and the census.
    pub async fn console_overview(&self) -> Result<(Vec<ProjectView>, Census), StoreError> {
        let census = self.store.census().await?;
        let mut projects: BTreeMap<String, ProjectView> = BTreeMap::new();
        for summary in self.store.project_summaries().await? {
            projects.insert(
                summary.project_id.clone(),
                ProjectView {
                    project_id: summary.project_id,
                    name: None,
                    account: if summary.domain_id.is_empty() {
                        String::new()
                    } else {
                        self.account_of(&summary.domain_id)
                    },
                    domain_id: summary.domain_id,
                    keys: summary.keys,
                    grants: summary.grants,
                },
            );
        }
        for configured in self.identities.projects() {
            let view = projects
                .entry(configured.id.clone())
                .or_insert_with(|| ProjectView {
                    project_id: configured.id.clone(),
                    name: None,
                    domain_id: String::new(),
                    account: String::new(),
                    keys: 0,
                    grants: 0,
                });
            view.name = Some(configured.name.clone());
            if view.domain_id.is_empty() {
                view.domain_id = configured.domain_id.clone();
                view.account = self.account_of(&configured.domain_id);
            }
        }
        Ok((projects.into_values().collect(), census))
    }

    /// A page of keys (of one project, or of all), each with its AWS aliases.
    pub async fn console_keys(
        &self,
        project_id: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Page<KeyView>, StoreError> {
        let page = self.store.list_all_keys(project_id, after, limit).await?;
        let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
        // Aliases are per account and region.
        let mut places: Vec<(&str, &str)> = page
            .items
            .iter()
            .map(|k| (k.domain_id.as_str(), k.region.as_str()))
            .collect();
        places.sort_unstable();
        places.dedup();
        for (domain, region) in places {
            let (listed, _) = self
                .store
                .list_aliases(domain, region, None, None, ACCOUNT_ALIASES)
                .await?;
            for alias in listed {
                aliases
                    .entry(alias.key_id.to_string())
                    .or_default()
                    .push(alias.alias_name);
            }
        }
        let mut views = Vec::with_capacity(page.items.len());
        for key in &page.items {
            let tags = self.store.key_tags(&key.key_id).await?;
            let rotation = self
                .store
                .rotation_state(&key.key_id, super::now_millis())
                .await?;
            views.push((tags, rotation.enabled(), rotation.latest_version));
        }
        let mut views = views.into_iter();
        Ok(page.map(|key| {
            let (tags, rotation_enabled, version) = views.next().expect("one view per key");
            KeyView {
                aliases: aliases.remove(key.key_id.as_str()).unwrap_or_default(),
                tags,
                rotation_enabled,
                version,
                key,
            }
        }))
    }

    /// One key with its aliases and grants; `None` when no key has that ID (or it is no key ID).
    pub async fn console_key(&self, key_id: &str) -> Result<Option<KeyDetail>, StoreError> {
        let Ok(key_id) = KeyId::parse(key_id) else {
            return Ok(None);
        };
        let Some(key) = self.store.find_key(&key_id).await? else {
            return Ok(None);
        };
        let (aliases, _) = self
            .store
            .list_aliases(
                &key.domain_id,
                &key.region,
                Some(&key_id),
                None,
                ACCOUNT_ALIASES,
            )
            .await?;
        let grants = self.store.list_grants(&key_id, 0, KEY_PAGE_GRANTS).await?;
        Ok(Some(KeyDetail {
            account: self.account_of(&key.domain_id),
            key,
            aliases,
            grants: grants.items,
            grants_total: grants.total,
        }))
    }

    /// Audit records matching `query` (see `Store::list_audit`).
    pub async fn console_audit(
        &self,
        query: &AuditQuery,
        after: i64,
        limit: u32,
    ) -> Result<Page<AuditEntry>, StoreError> {
        self.store.list_audit(query, after, limit).await
    }

    /// The census (`/metrics` gauges) and the connection pools' use.
    pub async fn metrics_census(&self) -> Result<Census, StoreError> {
        self.store.census().await
    }

    pub fn pool_use(&self) -> Vec<crate::store::PoolUse> {
        self.store.pool_use()
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }
}
