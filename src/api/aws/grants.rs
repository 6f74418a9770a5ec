//! AWS grant operations: CreateGrant, ListGrants, ListRetirableGrants, RevokeGrant,
//! RetireGrant.

use serde_json::{Value, json};

use super::body::missing;
use super::call::{Call, invalid_grant_token, paged};
use super::error::AwsError;
use super::wire;
use crate::domain::ids::excerpt;
use crate::domain::text;
use crate::domain::{ContextConstraint, Dialect, GrantFilter, GrantId, GranteeType};
use crate::service::{CreateGrant, Deletion, GrantWrite};

/// AWS: ListGrants and ListRetirableGrants take 1–100 (default 50).
const GRANT_PAGE_MAX: i64 = 100;
const GRANT_PAGE_DEFAULT: i64 = 50;
/// AWS: constraints of at most 8 pairs, values of at most 384 characters.
const MAX_CONSTRAINT_PAIRS: usize = 8;
const MAX_CONSTRAINT_VALUE_CHARS: usize = 384;

fn constraint(call: &Call<'_>) -> Result<Option<ContextConstraint>, AwsError> {
    let Some(constraints) = call.body.optional_object("Constraints")? else {
        return Ok(None);
    };
    if constraints.has("SourceArn") {
        return Err(AwsError::validation(
            "The SourceArn constraint applies to service principals, which this emulator does not have.",
        ));
    }
    if let Some(unknown) = constraints
        .keys()
        .find(|k| !matches!(*k, "EncryptionContextSubset" | "EncryptionContextEquals"))
    {
        return Err(AwsError::serialization(format!(
            "Constraints has an unknown member {}.",
            excerpt(unknown)
        )));
    }
    let subset = constraints.optional_string_map("EncryptionContextSubset")?;
    let equals = constraints.optional_string_map("EncryptionContextEquals")?;
    let constraint = match (subset, equals) {
        (Some(_), Some(_)) => {
            return Err(AwsError::validation("More than one constraint supplied"));
        }
        (Some(map), None) => ContextConstraint::Subset(map),
        (None, Some(map)) => ContextConstraint::Equals(map),
        (None, None) => return Ok(None),
    };
    let (ContextConstraint::Subset(map) | ContextConstraint::Equals(map)) = &constraint;
    if map.len() > MAX_CONSTRAINT_PAIRS {
        return Err(AwsError::validation(format!(
            "An encryption context constraint may hold at most {MAX_CONSTRAINT_PAIRS} pairs."
        )));
    }
    if let Some((k, _)) = map
        .iter()
        .find(|(k, v)| k.is_empty() || v.chars().count() > MAX_CONSTRAINT_VALUE_CHARS)
    {
        return Err(AwsError::validation(format!(
            "Encryption context constraint entry {} must have a non-empty key and a value of at most {MAX_CONSTRAINT_VALUE_CHARS} characters.",
            excerpt(k)
        )));
    }
    Ok(Some(constraint))
}

pub(super) async fn create_grant(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    if call.body.has("GranteeServicePrincipal") || call.body.has("RetiringServicePrincipal") {
        return Err(AwsError::validation(
            "Service principals are not supported by this emulator; use GranteePrincipal and RetiringPrincipal.",
        ));
    }
    let identities = &call.state.identities;
    let grantee = call.body.required_bounded_str("GranteePrincipal", 1, 256)?;
    let (grantee, grantee_type) = wire::resolve_principal(identities, "GranteePrincipal", grantee)?;
    let operations = call
        .body
        .optional_str_list("Operations")?
        .ok_or_else(|| missing("Operations"))?;
    let operations = wire::parse_operations(&operations)?;
    let retiring = call
        .body
        .optional_bounded_str("RetiringPrincipal", 1, 256)?
        .map(|value| wire::resolve_principal(identities, "RetiringPrincipal", value))
        .transpose()?;
    let name = call.body.optional_text("Name", &text::AWS_GRANT_NAME)?;
    let constraint = constraint(call)?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let grant = call
        .state
        .kms
        .create_grant(
            &call.caller,
            Dialect::Aws,
            CreateGrant {
                key: named.key.clone(),
                grantee_principal: grantee,
                grantee_principal_type: grantee_type,
                operations,
                name: name.map(str::to_owned),
                retiring_principal: retiring,
                constraint,
            },
            GrantWrite {
                dry_run,
                reuse_named: true,
            },
        )
        .await
        .map_err(call.key_error(&named))?;
    Ok(json!({
        "GrantId": grant.grant_id.as_str(),
        "GrantToken": call.state.kms.mint_grant_token(&grant),
    }))
}

pub(super) async fn list_grants(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    let (after, limit) = call.page(GRANT_PAGE_MAX, GRANT_PAGE_DEFAULT)?;
    if call.body.has("GranteeServicePrincipal") {
        return Err(AwsError::validation(
            "Service principals are not supported by this emulator.",
        ));
    }
    let grant_id = call
        .body
        .optional_bounded_str("GrantId", 1, 128)?
        .map(|id| GrantId::parse(id).map_err(|e| call.kms_error(None, e)))
        .transpose()?;
    let grantee = match call.body.optional_bounded_str("GranteePrincipal", 1, 256)? {
        None => None,
        Some(value) => {
            match wire::resolve_principal(&call.state.identities, "GranteePrincipal", value) {
                Ok(principal) => Some(principal),
                // An unknown principal holds no grants: an empty page, not an error.
                Err(e) if e.code == "InvalidArnException" => {
                    Some((value.to_owned(), GranteeType::User))
                }
                Err(e) => return Err(e),
            }
        }
    };
    let (page, key) = call
        .state
        .kms
        .list_grants(
            &call.caller,
            &named.key,
            &GrantFilter { grant_id, grantee },
            after,
            limit,
        )
        .await
        .map_err(call.key_error(&named))?;
    let grants: Vec<Value> = page
        .items
        .iter()
        .map(|g| wire::grant_entry(&call.state.identities, call.region(), &key, g))
        .collect();
    Ok(paged("Grants", grants, page.next_after))
}

pub(super) async fn list_retirable_grants(call: &Call<'_>) -> Result<Value, AwsError> {
    let principal = call
        .body
        .required_bounded_str("RetiringPrincipal", 1, 256)?;
    let (after, limit) = call.page(GRANT_PAGE_MAX, GRANT_PAGE_DEFAULT)?;
    let principal =
        wire::resolve_principal(&call.state.identities, "RetiringPrincipal", principal)?;
    let page = call
        .state
        .kms
        .list_retirable_grants(&call.caller, Some(principal), after, limit)
        .await
        .map_err(|e| call.kms_error(None, e))?;
    let grants: Vec<Value> = page
        .items
        .iter()
        .map(|(grant, key)| wire::grant_entry(&call.state.identities, call.region(), key, grant))
        .collect();
    Ok(paged("Grants", grants, page.next_after))
}

fn grant_id_field(call: &Call<'_>) -> Result<GrantId, AwsError> {
    let value = call.body.required_bounded_str("GrantId", 1, 128)?;
    GrantId::parse(value).map_err(|e| call.kms_error(None, e))
}

pub(super) async fn revoke_grant(call: &Call<'_>) -> Result<(), AwsError> {
    let named = call.required_key("KeyId")?;
    let grant_id = grant_id_field(call)?;
    let dry_run = call.body.dry_run()?;
    call.state
        .kms
        .delete_grant(
            &call.caller,
            Dialect::Aws,
            Deletion::Revoke,
            &named.key,
            &grant_id,
            dry_run,
        )
        .await
        .map_err(call.key_error(&named))
}

/// By `GrantToken`, or by `KeyId` and `GrantId` together.
pub(super) async fn retire_grant(call: &Call<'_>) -> Result<(), AwsError> {
    let by_token = match call.body.optional_bounded_str("GrantToken", 1, 8192)? {
        None => None,
        Some(token) => Some(
            call.state
                .kms
                .open_grant_token(token)
                .ok_or_else(invalid_grant_token)?,
        ),
    };
    let named = call.optional_key("KeyId")?;
    let grant_id = if call.body.has("GrantId") {
        Some(grant_id_field(call)?)
    } else {
        None
    };
    let (named, grant_id) = match (by_token, named, grant_id) {
        (Some((token_key, token_grant)), named, grant_id) => {
            if named
                .as_ref()
                .is_some_and(|k| k.key.id.as_str() != token_key.as_str())
                || grant_id.as_ref().is_some_and(|g| *g != token_grant)
            {
                return Err(AwsError::new(
                    "InvalidGrantTokenException",
                    "The grant token names another grant than KeyId and GrantId.",
                ));
            }
            // A token names its key fully, like a ciphertext does.
            let named = named.unwrap_or_else(|| call.issued_key(token_key));
            (named, token_grant)
        }
        (None, Some(named), Some(grant_id)) => (named, grant_id),
        (None, _, _) => {
            return Err(AwsError::validation(
                "Either GrantToken, or both KeyId and GrantId, must be specified.",
            ));
        }
    };
    let dry_run = call.body.dry_run()?;
    call.state
        .kms
        .delete_grant(
            &call.caller,
            Dialect::Aws,
            Deletion::Retire,
            &named.key,
            &grant_id,
            dry_run,
        )
        .await
        .map_err(call.key_error(&named))
}
