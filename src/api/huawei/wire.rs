//! Response bodies of the Huawei/OTC dialect, with the documented wire types:
//! timestamps are millisecond strings, `truncated` is the string "true"/"false",
//! `total` is an integer, `next_marker` is "" on the last page.

use serde::Serialize;

use crate::domain::{Grant, Key};
use crate::store::Page;

#[derive(Serialize)]
pub struct GrantRecord {
    pub key_id: String,
    pub grant_id: String,
    pub grantee_principal: String,
    pub grantee_principal_type: &'static str,
    pub operations: Vec<&'static str>,
    pub issuing_principal: String,
    pub creation_date: String,
    /// "" when the grant has none, so every record carries every documented field.
    pub name: String,
    pub retiring_principal: String,
}

impl From<Grant> for GrantRecord {
    fn from(grant: Grant) -> Self {
        Self {
            key_id: grant.key_id.to_string(),
            grant_id: grant.grant_id.to_string(),
            grantee_principal: grant.grantee_principal,
            grantee_principal_type: grant.grantee_principal_type.as_str(),
            operations: grant.operations.iter().map(|op| op.as_str()).collect(),
            issuing_principal: grant.issuing_principal,
            creation_date: grant.creation_date.to_string(),
            name: grant.name.unwrap_or_default(),
            retiring_principal: grant.retiring_principal.unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
pub struct GrantList {
    pub grants: Vec<GrantRecord>,
    pub next_marker: String,
    pub truncated: &'static str,
    pub total: i64,
}

fn marker_and_truncated(next_after: Option<i64>) -> (String, &'static str) {
    match next_after {
        Some(position) => (position.to_string(), "true"),
        None => (String::new(), "false"),
    }
}

impl From<Page<Grant>> for GrantList {
    fn from(page: Page<Grant>) -> Self {
        let (next_marker, truncated) = marker_and_truncated(page.next_after);
        Self {
            grants: page.items.into_iter().map(GrantRecord::from).collect(),
            next_marker,
            truncated,
            total: page.total,
        }
    }
}

#[derive(Serialize)]
pub struct KeyDetails {
    pub key_id: String,
    pub domain_id: String,
    pub key_alias: String,
    pub realm: String,
    pub key_spec: String,
    pub key_usage: String,
    pub key_description: String,
    pub creation_date: String,
    pub scheduled_deletion_date: String,
    pub key_state: String,
    pub default_key_flag: &'static str,
    pub key_type: &'static str,
    pub expiration_time: String,
    pub origin: String,
    pub key_rotation_enabled: &'static str,
    pub sys_enterprise_project_id: &'static str,
}

impl KeyDetails {
    /// The key's details; its `realm` is the region it lives in.
    pub fn new(key: Key) -> Self {
        Self {
            key_id: key.key_id.to_string(),
            domain_id: key.domain_id,
            key_alias: key.key_alias,
            realm: key.region,
            key_spec: key.key_spec,
            key_usage: key.key_usage,
            key_description: key.key_description,
            creation_date: key.creation_date.to_string(),
            scheduled_deletion_date: key
                .scheduled_deletion_date
                .map(|d| d.to_string())
                .unwrap_or_default(),
            key_state: key.key_state.code().to_string(),
            default_key_flag: "0",
            key_type: "1",
            expiration_time: String::new(),
            origin: key.origin,
            key_rotation_enabled: "false",
            sys_enterprise_project_id: "0",
        }
    }
}

#[derive(Serialize)]
pub struct KeyList {
    pub keys: Vec<String>,
    pub key_details: Vec<KeyDetails>,
    pub next_marker: String,
    pub truncated: &'static str,
    pub total: i64,
}

impl KeyList {
    pub fn new(page: Page<Key>) -> Self {
        let (next_marker, truncated) = marker_and_truncated(page.next_after);
        Self {
            keys: page.items.iter().map(|k| k.key_id.to_string()).collect(),
            key_details: page.items.into_iter().map(KeyDetails::new).collect(),
            next_marker,
            truncated,
            total: page.total,
        }
    }
}

#[derive(Serialize)]
pub struct CreatedKeyInfo {
    pub key_id: String,
    pub domain_id: String,
    pub region_id: String,
}
