//! Huawei key actions: create-key, describe-key, list-keys, enable-key, disable-key,
//! schedule-key-deletion, cancel-key-deletion.

use axum::response::Response;
use serde_json::json;

use super::body::Body;
use super::wire::{CreatedKeyInfo, KeyDetails, KeyList};
use super::{AppState, key_field, ok, page_params};
use crate::domain::key::{validate_key_alias, validate_key_description, validate_pending_days};
use crate::domain::key_spec::{Cloud, KeySpec, KeyUsage};
use crate::domain::{Caller, Dialect, KeyRef, KeyState, KmsError, StateChange};
use crate::service::CreateKey;

/// Key listings: Terraform's Huawei provider asks for 2000 keys a page.
const KEY_PAGE_MAX: i64 = 2000;

pub(super) fn schedule_deletion_request(body: &Body) -> Result<StateChange, KmsError> {
    let days = body
        .optional_integer("pending_days", KmsError::InvalidPendingDays)?
        .ok_or(KmsError::MissingParameter("pending_days"))?;
    validate_pending_days(days)?;
    Ok(StateChange::ScheduleDeletion { pending_days: days })
}

pub(super) fn create_key_request(body: &Body) -> Result<CreateKey, KmsError> {
    let key_alias = body.required_str("key_alias", KmsError::InvalidKeyAlias)?;
    validate_key_alias(key_alias)?;
    let key_description = body
        .optional_str("key_description", KmsError::InvalidKeyDescription)?
        .unwrap_or("");
    validate_key_description(key_description)?;
    let key_spec = body
        .optional_str("key_spec", KmsError::InvalidParameter)?
        .map(|name| KeySpec::parse(Cloud::Huawei, name))
        .transpose()
        .map_err(KmsError::KeyType)?
        .unwrap_or_else(KeySpec::default_for_create);
    let key_usage = body
        .optional_str("key_usage", KmsError::InvalidParameter)?
        .map(|name| KeyUsage::parse(Cloud::Huawei, name))
        .transpose()
        .and_then(|usage| key_spec.resolve_usage(Cloud::Huawei, usage))
        .map_err(KmsError::KeyType)?;
    let origin = body
        .optional_str("origin", KmsError::InvalidParameter)?
        .unwrap_or("kms");
    if origin != "kms" && origin != "external" {
        return Err(KmsError::InvalidParameter(
            "origin must be 'kms' or 'external'.".into(),
        ));
    }
    Ok(CreateKey {
        key_alias: key_alias.to_owned(),
        key_description: key_description.to_owned(),
        key_spec,
        key_usage,
        origin: origin.to_owned(),
        // Huawei's key-policies API is about keyspaces, not keys: a key made here starts
        // with the default policy, under which its account's IAM policies decide.
        policy: None,
        bypass_policy_lockout_check: false,
        tags: Vec::new(),
        multi_region: false,
    })
}

pub(super) async fn create_key(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let key = state
        .kms
        .create_key(caller, create_key_request(body)?)
        .await?;
    ok(json!({"key_info": CreatedKeyInfo {
        key_id: key.key_id.to_string(),
        domain_id: key.domain_id,
        region_id: key.region,
    }}))
}

/// `(key, description)` of an update-key-description request.
pub(super) fn update_description_request(
    body: &Body,
    region: &str,
) -> Result<(KeyRef, String), KmsError> {
    let key = super::key_field_in(body, region)?;
    let description = body.required_str("key_description", |_| {
        KmsError::InvalidKeyDescription("key_description must be a string.".into())
    })?;
    validate_key_description(description)?;
    Ok((key, description.to_owned()))
}

pub(super) async fn update_description(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key_ref, description) = update_description_request(body, &caller.region)?;
    let key = state
        .kms
        .update_key_description(caller, &key_ref, &description)
        .await?;
    ok(json!({"key_info": {"key_id": key.key_id.as_str(), "key_description": key.key_description}}))
}

/// user-quotas: `CMK` (keys of the project) and `grant_per_CMK` (the most grants on one
/// key), each with its configured quota, as ShowUserQuotasResponse types them.
pub(super) async fn user_quotas(state: &AppState, caller: &Caller) -> Result<Response, KmsError> {
    let usage = state.kms.project_usage(caller).await?;
    ok(json!({"quotas": {"resources": [
        {"type": "CMK", "used": usage.keys, "quota": usage.key_quota},
        {"type": "grant_per_CMK", "used": usage.most_grants_on_a_key, "quota": usage.grant_quota},
    ]}}))
}

/// user-instances: the number of keys of the project.
pub(super) async fn user_instances(
    state: &AppState,
    caller: &Caller,
) -> Result<Response, KmsError> {
    let usage = state.kms.project_usage(caller).await?;
    ok(json!({"instance_num": usage.keys}))
}

pub(super) async fn describe_key(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let key = state
        .kms
        .describe_key(caller, &key_field(body, caller)?)
        .await?;
    let rotating = state.kms.rotation_enabled(&key).await?;
    let mut details = KeyDetails::new(key);
    details.key_rotation_enabled = if rotating { "true" } else { "false" };
    ok(json!({"key_info": details}))
}

/// `(key_state, after, limit)` of a list-keys request.
pub(super) fn list_keys_request(body: &Body) -> Result<(Option<KeyState>, i64, u32), KmsError> {
    let (after, limit) = page_params(body, KEY_PAGE_MAX)?;
    let key_state = body
        .optional_integer("key_state", KmsError::InvalidParameter)?
        .map(|code| {
            KeyState::from_code(code).ok_or_else(|| {
                KmsError::InvalidParameter(format!("key_state must be 1 to 5, not {code}."))
            })
        })
        .transpose()?;
    Ok((key_state, after, limit))
}

pub(super) async fn list_keys(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key_state, after, limit) = list_keys_request(body)?;
    let page = state.kms.list_keys(caller, key_state, after, limit).await?;
    let rotating = state.kms.rotating_keys(caller).await?;
    let mut list = KeyList::new(page);
    for details in &mut list.key_details {
        if rotating.contains(&details.key_id) {
            details.key_rotation_enabled = "true";
        }
    }
    ok(list)
}

pub(super) async fn change_state(
    state: &AppState,
    caller: &Caller,
    body: &Body,
    change: StateChange,
) -> Result<Response, KmsError> {
    let key = state
        .kms
        .change_key_state(caller, Dialect::Huawei, &key_field(body, caller)?, change)
        .await?;
    let key_state = key.key_state.code().to_string();
    match change {
        // enable-key and disable-key wrap their answer in key_info; the deletion calls do not.
        StateChange::Enable | StateChange::Disable => {
            ok(json!({"key_info": {"key_id": key.key_id.as_str(), "key_state": key_state}}))
        }
        StateChange::ScheduleDeletion { .. } | StateChange::CancelDeletion => {
            ok(json!({"key_id": key.key_id.as_str(), "key_state": key_state}))
        }
    }
}
