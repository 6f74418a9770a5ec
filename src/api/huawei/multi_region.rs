//! Huawei v2 multi-Region keys: `POST /v2/{project_id}/kms/keys/{key_id}/replicate` and
//! `PUT /v2/{project_id}/kms/keys/{key_id}/update-primary-region` (huaweicloudsdkkms
//! ReplicateKeyRequestBody / UpdatePrimaryRegionRequestBody). The rules and writes are the
//! service's, shared with AWS ReplicateKey and UpdatePrimaryRegion.
//!
//! Huawei replicates any custom key; here, as in AWS, only a multi-Region key (`mrk-` ID,
//! made by AWS CreateKey with `MultiRegion`) has rows in several regions, so a key of
//! another ID is refused (KMS.0308): a key's ID must name its row of each region.

use axum::response::Response;
use serde_json::json;

use super::body::Body;
use super::{AppState, ok};
use crate::domain::key::{validate_key_alias, validate_key_description};
use crate::domain::region::is_region_name;
use crate::domain::{Caller, Dialect, KeyId, KeyRef, KmsError};
use crate::service::ReplicateKey;

/// The path's key, which the body's `key_id` (required by the SDK model) must repeat.
fn path_and_body_key(path_key_id: &str, body: &Body, caller: &Caller) -> Result<KeyRef, KmsError> {
    let id = KeyId::parse(path_key_id)?;
    let named = KeyId::parse(body.required_str("key_id", KmsError::InvalidKeyId)?)?;
    if named != id {
        return Err(KmsError::InvalidKeyId(format!(
            "key_id {named} in the body differs from key {id} in the path."
        )));
    }
    Ok(KeyRef::in_project(id, &caller.region))
}

fn region_field<'b>(body: &'b Body, name: &'static str) -> Result<&'b str, KmsError> {
    let region = body.required_str(name, KmsError::InvalidParameter)?;
    if !is_region_name(region) {
        return Err(KmsError::InvalidParameter(format!(
            "{name} must be a region code such as eu-de (lower-case letters, digits and hyphens)."
        )));
    }
    Ok(region)
}

/// replicate: `key_id`, `replica_region`, `key_alias` (required, unique in the replica's
/// project), `key_description`, `enterprise_project_id` (accepted, not kept: the emulator
/// has no enterprise projects), `replica_project_id` (a project of the caller in
/// `replica_region`; absent: the caller's first project there) and `tags`. Answers
/// `{key_id, domain_id, region}` of the replica.
pub(super) async fn replicate_key(
    state: &AppState,
    caller: &Caller,
    path_key_id: &str,
    body: &Body,
) -> Result<Response, KmsError> {
    let key = path_and_body_key(path_key_id, body, caller)?;
    let replica_region = region_field(body, "replica_region")?.to_owned();
    let key_alias = body.required_str("key_alias", KmsError::InvalidKeyAlias)?;
    validate_key_alias(key_alias)?;
    let key_description = body
        .optional_str("key_description", KmsError::InvalidKeyDescription)?
        .unwrap_or("");
    validate_key_description(key_description)?;
    body.optional_str("enterprise_project_id", KmsError::InvalidParameter)?;
    let tags = super::tags::optional_tag_list(body, "tags")?;
    let user = state
        .identities
        .user_by_id(&caller.user_id)
        .ok_or(KmsError::Internal)?;
    let replica_project = match body
        .optional_str("replica_project_id", KmsError::InvalidParameter)?
    {
        Some(project) => project.to_owned(),
        None => user
            .projects
            .iter()
            .find(|p| state.identities.project_region(p) == replica_region)
            .cloned()
            .ok_or_else(|| {
                KmsError::InvalidParameter(format!(
                    "replica_project_id is required: user {} has no project in {replica_region}.",
                    user.name
                ))
            })?,
    };
    // The caller in the replica's project: a project of its own (else KMS.0321), in the
    // replica's region.
    let replica_caller =
        state
            .identities
            .caller_for_project(user, None, &replica_project, &caller.request_id)?;
    if state.kms.settings().regions.serves(&replica_region)
        && replica_caller.region != replica_region
    {
        return Err(KmsError::InvalidParameter(format!(
            "replica_project_id {} is a project of region {}, not of replica_region {replica_region}.",
            crate::domain::ids::excerpt(&replica_project),
            replica_caller.region
        )));
    }
    let (replica, _) = state
        .kms
        .replicate_key(
            caller,
            &key,
            ReplicateKey {
                replica_region,
                replica_caller,
                key_alias: key_alias.to_owned(),
                key_description: key_description.to_owned(),
                policy: None,
                bypass_policy_lockout_check: false,
                tags,
                dialect: Dialect::Huawei,
            },
        )
        .await?;
    ok(json!({
        "key_id": replica.key_id.as_str(),
        "domain_id": replica.domain_id,
        "region": replica.region,
    }))
}

/// update-primary-region: `key_id` and `primary_region`; answers both.
pub(super) async fn update_primary_region(
    state: &AppState,
    caller: &Caller,
    path_key_id: &str,
    body: &Body,
) -> Result<Response, KmsError> {
    let key = path_and_body_key(path_key_id, body, caller)?;
    let primary_region = region_field(body, "primary_region")?;
    state
        .kms
        .update_primary_region(caller, &key, primary_region)
        .await?;
    ok(json!({
        "key_id": key.id.as_str(),
        "primary_region": primary_region,
    }))
}
