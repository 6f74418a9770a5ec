//! Huawei aliases: POST, DELETE and GET `aliases`, POST `alias/associate`, and
//! `update-key-alias` (the key's own key_alias attribute). Field names as huaweicloudsdkkms's
//! CreateAliasRequestBody, DeleteAliasRequestBody, AssociateAliasRequestBody, AliasEntity,
//! ListAliasesResponse (a JSON array of one {aliases, page_info}, as the SDK reads it) and
//! UpdateKeyAliasRequestBody. Aliases are the AWS aliases' table and rules
//! (`domain::alias`): see `alias::from_huawei`.

use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::Body;
use super::{AppState, key_field, ok};
use crate::domain::alias::{self, MAX_ALIAS_NAME};
use crate::domain::ids::excerpt;
use crate::domain::key::validate_key_alias;
use crate::domain::{Alias, Caller, KeyId, KeyRef, KmsError};

/// ListAliases: `limit` 1–100, 50 by default (as AWS's; Huawei documents no bounds).
const ALIAS_PAGE_MAX: i64 = 100;
const ALIAS_PAGE_DEFAULT: i64 = 50;

/// A Huawei alias name, in the stored form: `[a-zA-Z0-9:/_-]`, at most 255 characters
/// with the `alias/` prefix Huawei leaves off counted (AWS's 256 with it). KMS.1101.
fn alias_name(given: &str) -> Result<String, KmsError> {
    let stored = alias::from_huawei(given);
    if !alias::well_formed(&stored) || stored.len() > MAX_ALIAS_NAME || stored == "alias/" {
        return Err(KmsError::InvalidAliasName(format!(
            "'{}': an alias is 1 to {} characters of letters, digits, ':', '/', '_' and '-'.",
            excerpt(given),
            MAX_ALIAS_NAME - "alias/".len()
        )));
    }
    Ok(stored)
}

fn required_alias(body: &Body, field: &'static str) -> Result<String, KmsError> {
    alias_name(body.required_str(field, KmsError::InvalidAliasName)?)
}

fn iso(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn entity(alias: &Alias) -> Value {
    let name = alias::to_huawei(&alias.alias_name);
    json!({
        "domain_id": alias.domain_id,
        "key_id": alias.key_id.as_str(),
        "alias": name,
        "alias_urn": format!("kms:{}:{}:alias:{name}", alias.region, alias.domain_id),
        "create_time": iso(alias.creation_date),
        "update_time": iso(alias.last_updated_date),
    })
}

/// POST aliases: 201 with the new alias.
pub(super) async fn create_alias(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let key = key_field(body, caller)?;
    let name = required_alias(body, "alias")?;
    let alias = state.kms.create_alias(caller, &name, &key).await?;
    Ok((StatusCode::CREATED, Json(entity(&alias))).into_response())
}

/// POST alias/associate: moves an existing alias to `target_key_id`.
pub(super) async fn associate_alias(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let name = required_alias(body, "alias")?;
    let target = KeyRef::in_project(
        KeyId::parse(body.required_str("target_key_id", KmsError::InvalidKeyId)?)?,
        &caller.region,
    );
    state.kms.update_alias(caller, &name, &target).await?;
    let alias = state
        .kms
        .find_alias(caller, &name)
        .await?
        .ok_or_else(|| KmsError::AliasNotFound(name.clone()))?;
    ok(entity(&alias))
}

/// DELETE aliases: each alias of `aliases` that names `key_id`.
pub(super) async fn delete_aliases(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let key = key_field(body, caller)?;
    let names: Vec<String> = match body.given("aliases") {
        None => return Err(KmsError::MissingParameter("aliases")),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| KmsError::InvalidAliasName("aliases are strings.".into()))
                    .and_then(alias_name)
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(KmsError::InvalidAliasName(
                "aliases is a non-empty list of alias names.".into(),
            ));
        }
    };
    for name in &names {
        state.kms.delete_alias(caller, name, Some(&key.id)).await?;
    }
    ok(json!({}))
}

/// GET aliases?key_id=&limit=&marker=: a page of the account's aliases, by name.
pub(super) async fn list_aliases(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
) -> Result<Response, KmsError> {
    let query: std::collections::HashMap<String, String> = axum::extract::Query::try_from_uri(uri)
        .map(|q: axum::extract::Query<_>| q.0)
        .map_err(|_| KmsError::InvalidParameter("the query string is malformed.".into()))?;
    let key = query
        .get("key_id")
        .filter(|v| !v.is_empty())
        .map(|v| KeyId::parse(v))
        .transpose()?;
    let limit = super::query_limit(&query, ALIAS_PAGE_DEFAULT, ALIAS_PAGE_MAX)?;
    let after = match query.get("marker").filter(|v| !v.is_empty()) {
        None => None,
        Some(marker) => Some(alias_name(marker).map_err(|_| {
            KmsError::InvalidMarker(format!(
                "{} was not issued by this service.",
                excerpt(marker)
            ))
        })?),
    };
    let (aliases, next) = state
        .kms
        .list_aliases(caller, key.as_ref(), after.as_deref(), limit as u32)
        .await?;
    let entities: Vec<Value> = aliases.iter().map(entity).collect();
    ok(json!([{
        "aliases": entities,
        "page_info": {
            "next_marker": next.as_deref().map(alias::to_huawei).unwrap_or_default(),
            "current_count": aliases.len(),
        },
    }]))
}

pub(super) fn update_key_alias_request(
    body: &Body,
    region: &str,
) -> Result<(KeyRef, String), KmsError> {
    let key = super::key_field_in(body, region)?;
    let key_alias = body.required_str("key_alias", KmsError::InvalidKeyAlias)?;
    validate_key_alias(key_alias)?;
    Ok((key, key_alias.to_owned()))
}

/// POST update-key-alias: the key's key_alias attribute (what create-key set and
/// describe-key shows), unique in the project (KMS.1104).
pub(super) async fn update_key_alias(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key_ref, key_alias) = update_key_alias_request(body, &caller.region)?;
    let key = state
        .kms
        .update_key_alias(caller, &key_ref, &key_alias)
        .await?;
    ok(json!({"key_info": {"key_id": key.key_id.as_str(), "key_alias": key.key_alias}}))
}
