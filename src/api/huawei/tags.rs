//! Huawei tag actions: POST {key_id}/tags, GET {key_id}/tags, POST {key_id}/tags/action,
//! DELETE {key_id}/tags/{key}, GET tags and POST resource_instances/action (field names
//! as huaweicloudsdkkms's CreateKmsTagRequestBody, BatchCreateKmsTagsRequestBody,
//! ShowKmsTagsResponse, ListKmsTagsResponse, ListKmsByTagsRequestBody/Response). The
//! tag rules are `domain::tag`'s.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::Body;
use super::wire::KeyDetails;
use super::{AppState, PathParams, ok};
use crate::domain::authz::Action;
use crate::domain::tag::{MatchPart, Tag, TagChange, TagError, TagFilter};
use crate::domain::{Caller, Dialect, KeyId, KeyRef, KmsError};

/// ListKmsByTagsRequestBody: `limit` 1–1000, 10 by default.
const BY_TAGS_LIMIT_MAX: i64 = 1000;
const BY_TAGS_LIMIT_DEFAULT: i64 = 10;

/// The key of a `{key_id}/tags...` path.
fn path_key(params: &PathParams, caller: &Caller) -> Result<KeyRef, KmsError> {
    let id = params.key_id.as_deref().unwrap_or_default();
    KeyId::parse(id).map(|id| KeyRef::in_project(id, &caller.region))
}

/// The write actions answer 204 with no body, as Huawei documents them.
fn no_content() -> Result<Response, KmsError> {
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn invalid_tag(message: &str) -> KmsError {
    KmsError::Tag(TagError::InvalidKey(
        message.to_owned(),
        crate::domain::tag::KeyProblem::Characters,
    ))
}

/// A TagItem: `{"key": .., "value": ..}`; `value` may be absent or "" (an empty value).
fn tag_item(value: &Value) -> Result<Tag, KmsError> {
    let Value::Object(item) = value else {
        return Err(invalid_tag("a tag must be an object with key and value"));
    };
    let key = match item.get("key") {
        Some(Value::String(key)) => key.clone(),
        None | Some(Value::Null) => return Err(KmsError::MissingParameter("tag.key")),
        Some(_) => return Err(invalid_tag("tag key must be a string")),
    };
    let value = match item.get("value") {
        Some(Value::String(value)) => value.clone(),
        None | Some(Value::Null) => String::new(),
        Some(_) => {
            return Err(KmsError::Tag(TagError::InvalidValue(
                key,
                crate::domain::tag::KeyProblem::Characters,
            )));
        }
    };
    Ok(Tag::new(key, value))
}

fn tag_list(body: &Body, name: &'static str) -> Result<Vec<Tag>, KmsError> {
    match body.given(name) {
        None => Err(KmsError::MissingParameter(name)),
        Some(Value::Array(items)) => items.iter().map(tag_item).collect(),
        Some(_) => Err(KmsError::Tag(TagError::EmptyList)),
    }
}

/// An optional `tags` list (replicate's): absent is no tags.
pub(super) fn optional_tag_list(body: &Body, name: &'static str) -> Result<Vec<Tag>, KmsError> {
    match body.given(name) {
        None => Ok(Vec::new()),
        Some(_) => tag_list(body, name),
    }
}

pub(super) fn create_tag_request(body: &Body) -> Result<Tag, KmsError> {
    tag_item(body.given("tag").ok_or(KmsError::MissingParameter("tag"))?)
}

pub(super) fn batch_request(body: &Body) -> Result<TagChange, KmsError> {
    let action = body
        .required_str("action", |m| {
            KmsError::Tag(TagError::InvalidAction(
                m,
                "action is \"create\" or \"delete\"",
            ))
        })?
        .to_owned();
    let tags = tag_list(body, "tags")?;
    match action.as_str() {
        "create" => Ok(TagChange::Set(tags)),
        // Deleting by key: a value given is not compared; keys the key lacks are passed over.
        "delete" => Ok(TagChange::Remove {
            keys: tags.into_iter().map(|t| t.key).collect(),
            missing_is_error: false,
        }),
        other => Err(KmsError::Tag(TagError::InvalidAction(
            crate::domain::ids::excerpt(other),
            "action is \"create\" or \"delete\"",
        ))),
    }
}

pub(super) async fn create_tag(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
    body: &Body,
) -> Result<Response, KmsError> {
    let key = path_key(params, caller)?;
    let tag = create_tag_request(body)?;
    state
        .kms
        .change_tags(caller, Dialect::Huawei, &key, TagChange::Set(vec![tag]))
        .await?;
    no_content()
}

pub(super) async fn batch_tags(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
    body: &Body,
) -> Result<Response, KmsError> {
    let key = path_key(params, caller)?;
    let change = batch_request(body)?;
    state
        .kms
        .change_tags(caller, Dialect::Huawei, &key, change)
        .await?;
    no_content()
}

pub(super) async fn delete_tag(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
) -> Result<Response, KmsError> {
    let key = path_key(params, caller)?;
    let change = TagChange::Remove {
        keys: vec![params.tag_key.clone().unwrap_or_default()],
        missing_is_error: true,
    };
    state
        .kms
        .change_tags(caller, Dialect::Huawei, &key, change)
        .await?;
    no_content()
}

fn tag_items(tags: &[Tag]) -> Vec<Value> {
    tags.iter()
        .map(|t| json!({"key": t.key, "value": t.value}))
        .collect()
}

pub(super) async fn show_tags(
    state: &AppState,
    caller: &Caller,
    params: &PathParams,
) -> Result<Response, KmsError> {
    let key = path_key(params, caller)?;
    let tags = state.kms.key_tags(caller, &key).await?;
    ok(json!({"tags": tag_items(&tags), "existTagsNum": tags.len()}))
}

/// GET tags: each tag key of the project's keys once, with its distinct values, in the
/// order first seen (keys by creation).
pub(super) async fn list_project_tags(
    state: &AppState,
    caller: &Caller,
) -> Result<Response, KmsError> {
    let keys = state
        .kms
        .project_tagged_keys(caller, Action::ListProjectTags)
        .await?;
    let mut listed: Vec<(String, Vec<String>)> = Vec::new();
    for tag in keys.iter().flat_map(|k| &k.tags) {
        match listed.iter_mut().find(|(key, _)| *key == tag.key) {
            Some((_, values)) if !values.contains(&tag.value) => values.push(tag.value.clone()),
            Some(_) => {}
            None => listed.push((tag.key.clone(), vec![tag.value.clone()])),
        }
    }
    let tags: Vec<Value> = listed
        .into_iter()
        .map(|(key, values)| json!({"key": key, "values": values}))
        .collect();
    ok(json!({"tags": tags}))
}

/// What a resource_instances/action request asks for.
pub(super) struct ByTags {
    count_only: bool,
    limit: usize,
    offset: usize,
    filter: TagFilter,
}

fn filter_entry(value: &Value) -> Result<(String, Vec<String>), KmsError> {
    let key = match value.get("key") {
        Some(Value::String(key)) => key.clone(),
        None | Some(Value::Null) => return Err(KmsError::MissingParameter("tags.key")),
        Some(_) => return Err(invalid_tag("tag key must be a string")),
    };
    let values = match value.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| match v {
                Value::String(v) => Ok(v.clone()),
                _ => Err(KmsError::Tag(TagError::InvalidValue(
                    key.clone(),
                    crate::domain::tag::KeyProblem::Characters,
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(KmsError::Tag(TagError::InvalidValue(
                key,
                crate::domain::tag::KeyProblem::Characters,
            )));
        }
    };
    Ok((key, values))
}

pub(super) fn by_tags_request(body: &Body) -> Result<ByTags, KmsError> {
    let action_error = |m: String| {
        KmsError::Tag(TagError::InvalidAction(
            m,
            "action is \"filter\" or \"count\"",
        ))
    };
    let count_only = match body.required_str("action", action_error)? {
        "filter" => false,
        "count" => true,
        other => return Err(action_error(crate::domain::ids::excerpt(other))),
    };
    let limit = body
        .optional_integer("limit", KmsError::InvalidLimit)?
        .unwrap_or(BY_TAGS_LIMIT_DEFAULT);
    if !count_only && !(1..=BY_TAGS_LIMIT_MAX).contains(&limit) {
        return Err(KmsError::InvalidLimit(format!(
            "limit must be between 1 and {BY_TAGS_LIMIT_MAX}, not {limit}."
        )));
    }
    let offset = body
        .optional_integer("offset", |m| KmsError::Tag(TagError::InvalidOffset(m)))?
        .unwrap_or(0);
    if offset < 0 {
        return Err(KmsError::Tag(TagError::InvalidOffset(format!(
            "offset is {offset}."
        ))));
    }
    let tags = match body.given("tags") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(filter_entry).collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid_tag("tags must be a list")),
    };
    let mut name_contains = None;
    match body.given("matches") {
        None => {}
        Some(Value::Array(items)) => {
            for item in items {
                match item.get("key").and_then(Value::as_str) {
                    Some("resource_name") => {}
                    other => {
                        return Err(KmsError::Tag(TagError::InvalidMatch(
                            format!(
                                "the match key is resource_name, not {}.",
                                crate::domain::ids::excerpt(other.unwrap_or("null"))
                            ),
                            MatchPart::Key,
                        )));
                    }
                }
                match item.get("value").and_then(Value::as_str) {
                    Some(value) if (1..=255).contains(&value.chars().count()) => {
                        name_contains = Some(value.to_owned());
                    }
                    _ => {
                        return Err(KmsError::Tag(TagError::InvalidMatch(
                            "the match value is a string of 1 to 255 characters.".into(),
                            MatchPart::Value,
                        )));
                    }
                }
            }
        }
        Some(_) => {
            return Err(KmsError::Tag(TagError::InvalidMatch(
                "matches must be a list.".into(),
                MatchPart::Key,
            )));
        }
    }
    let filter = TagFilter {
        tags,
        name_contains,
    };
    filter.check().map_err(KmsError::Tag)?;
    Ok(ByTags {
        count_only,
        limit: limit as usize,
        offset: offset as usize,
        filter,
    })
}

/// POST resource_instances/action: the project's keys a tag filter selects, a page at
/// a time (`offset`, `limit`), or only their number (`action` "count").
pub(super) async fn list_by_tags(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let request = by_tags_request(body)?;
    let keys = state
        .kms
        .project_tagged_keys(caller, Action::ListKeysByTags)
        .await?;
    let selected: Vec<_> = keys
        .into_iter()
        .filter(|k| request.filter.selects(&k.key.key_alias, &k.tags))
        .collect();
    let total = selected.len();
    if request.count_only {
        return ok(json!({"total_count": total}));
    }
    let resources: Vec<Value> = selected
        .into_iter()
        .skip(request.offset)
        .take(request.limit)
        .map(|k| {
            json!({
                "resource_id": k.key.key_id.to_string(),
                "resource_name": k.key.key_alias.clone(),
                "tags": tag_items(&k.tags),
                "resource_detail": KeyDetails::new(k.key),
            })
        })
        .collect();
    ok(json!({"resources": resources, "total_count": total}))
}
