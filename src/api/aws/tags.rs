//! TagResource, UntagResource and ListResourceTags, and the `Tags` of CreateKey. The tag
//! rules (limits, characters, the reserved `aws:` prefix) are `domain::tag`'s; this
//! module reads and writes the wire shapes (botocore: TagList of {TagKey, TagValue}).

use serde_json::{Value, json};

use super::call::{Call, paged_by};
use super::error::AwsError;
use crate::domain::ids::excerpt;
use crate::domain::tag::TagChange;
use crate::domain::{Dialect, Tag};

/// AWS: ListResourceTags takes a Limit of 1–50, 50 by default.
const TAG_PAGE_MAX: i64 = 50;

fn wrong_shape(name: &str) -> AwsError {
    AwsError::serialization(format!(
        "{name} must be a list of objects with string members TagKey and TagValue."
    ))
}

/// A TagList field: `[{"TagKey": .., "TagValue": ..}]`; both members are required.
pub(super) fn tag_list(call: &Call<'_>, name: &str) -> Result<Option<Vec<Tag>>, AwsError> {
    let Some(value) = call.body.given(name) else {
        return Ok(None);
    };
    let Value::Array(items) = value else {
        return Err(wrong_shape(name));
    };
    items
        .iter()
        .map(|item| {
            let field = |member: &str| match item.get(member) {
                Some(Value::String(text)) => Ok(text.clone()),
                Some(_) => Err(wrong_shape(name)),
                None => Err(AwsError::validation(format!(
                    "1 validation error detected: Value null at '{}.member.{member}' failed to satisfy constraint: Member must not be null",
                    name.to_ascii_lowercase()
                ))),
            };
            if !item.is_object() {
                return Err(wrong_shape(name));
            }
            Ok(Tag::new(field("TagKey")?, field("TagValue")?))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

pub(super) async fn tag_resource(call: &Call<'_>) -> Result<(), AwsError> {
    let named = call.required_key("KeyId")?;
    let tags = tag_list(call, "Tags")?.ok_or_else(|| super::body::missing("Tags"))?;
    call.state
        .kms
        .change_tags(&call.caller, Dialect::Aws, &named.key, TagChange::Set(tags))
        .await
        .map_err(call.key_error(&named))?;
    Ok(())
}

pub(super) async fn untag_resource(call: &Call<'_>) -> Result<(), AwsError> {
    let named = call.required_key("KeyId")?;
    let keys = call
        .body
        .optional_str_list("TagKeys")?
        .ok_or_else(|| super::body::missing("TagKeys"))?;
    let change = TagChange::Remove {
        keys: keys.into_iter().map(str::to_owned).collect(),
        missing_is_error: false,
    };
    call.state
        .kms
        .change_tags(&call.caller, Dialect::Aws, &named.key, change)
        .await
        .map_err(call.key_error(&named))?;
    Ok(())
}

pub(super) async fn list_resource_tags(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    let limit = call
        .body
        .optional_int("Limit", 1, TAG_PAGE_MAX)?
        .unwrap_or(TAG_PAGE_MAX) as usize;
    // Markers are the position of the next tag, as this service handed it out.
    let start = match call.body.optional_bounded_str("Marker", 1, 1024)? {
        None => 0,
        Some(marker) => marker.parse::<usize>().map_err(|_| {
            AwsError::new(
                "InvalidMarkerException",
                format!("Marker {} was not issued by this service.", excerpt(marker)),
            )
        })?,
    };
    let tags = call
        .state
        .kms
        .key_tags(&call.caller, &named.key)
        .await
        .map_err(call.key_error(&named))?;
    let items: Vec<Value> = tags
        .iter()
        .skip(start)
        .take(limit)
        .map(|t| json!({"TagKey": t.key, "TagValue": t.value}))
        .collect();
    let next = (start + limit < tags.len()).then(|| (start + limit).to_string());
    Ok(paged_by("Tags", items, next))
}
