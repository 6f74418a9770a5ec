//! CreateAlias, DeleteAlias, UpdateAlias and ListAliases. The alias rules (names, the
//! reserved `alias/aws/` prefix, which key may be named) are `domain::alias` and the
//! service's; this module reads and writes the wire shapes.

use serde_json::{Value, json};

use super::body::constraint_failed;
use super::call::{Call, paged_by};
use super::error::AwsError;
use crate::domain::alias::{MAX_ALIAS_NAME, well_formed};
use crate::domain::ids::excerpt;

/// AWS: ListAliases takes a Limit of 1–100, 50 by default.
const ALIAS_PAGE_MAX: i64 = 100;
const ALIAS_PAGE_DEFAULT: i64 = 50;

/// `AliasName` as AliasNameType allows it (length, pattern); the alias rules come after.
fn alias_name<'a>(call: &'a Call<'_>) -> Result<&'a str, AwsError> {
    let name = call
        .body
        .required_bounded_str("AliasName", 1, MAX_ALIAS_NAME)?;
    if !well_formed(name) {
        return Err(constraint_failed(
            "AliasName",
            name,
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
        ));
    }
    Ok(name)
}

pub(super) async fn create_alias(call: &Call<'_>) -> Result<(), AwsError> {
    let name = alias_name(call)?;
    let target = call.required_key("TargetKeyId")?;
    call.state
        .kms
        .create_alias(&call.caller, name, &target.key)
        .await
        .map_err(call.key_error(&target))?;
    Ok(())
}

pub(super) async fn update_alias(call: &Call<'_>) -> Result<(), AwsError> {
    let name = alias_name(call)?;
    let target = call.required_key("TargetKeyId")?;
    call.state
        .kms
        .update_alias(&call.caller, name, &target.key)
        .await
        .map_err(call.key_error(&target))?;
    Ok(())
}

pub(super) async fn delete_alias(call: &Call<'_>) -> Result<(), AwsError> {
    let name = alias_name(call)?;
    call.state
        .kms
        .delete_alias(&call.caller, name, None)
        .await
        .map_err(|e| call.kms_error(None, e))?;
    Ok(())
}

pub(super) async fn list_aliases(call: &Call<'_>) -> Result<Value, AwsError> {
    let key = call.optional_key("KeyId")?;
    let limit = call
        .body
        .optional_int("Limit", 1, ALIAS_PAGE_MAX)?
        .unwrap_or(ALIAS_PAGE_DEFAULT);
    // Markers are the last alias name of the previous page.
    let after = call.body.optional_bounded_str("Marker", 1, 1024)?;
    if let Some(marker) = after
        && !well_formed(marker)
    {
        return Err(AwsError::new(
            "InvalidMarkerException",
            format!("Marker {} was not issued by this service.", excerpt(marker)),
        ));
    }
    let kms = &call.state.kms;
    let (aliases, next) = kms
        .list_aliases(
            &call.caller,
            key.as_ref().map(|k| &k.key.id),
            after,
            limit as u32,
        )
        .await
        .map_err(|e| call.kms_error(None, e))?;
    let items: Vec<Value> = aliases
        .iter()
        .map(|a| {
            json!({
                "AliasName": a.alias_name,
                "AliasArn": kms.alias_arn(&a.domain_id, &a.region, &a.alias_name),
                "TargetKeyId": a.key_id.as_str(),
                "CreationDate": a.creation_date as f64 / 1000.0,
                "LastUpdatedDate": a.last_updated_date as f64 / 1000.0,
            })
        })
        .collect();
    Ok(paged_by("Aliases", items, next))
}
