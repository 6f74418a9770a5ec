//! Huawei grant actions: create-grant, list-grants, list-retirable-grants,
//! revoke-grant, retire-grant.

use axum::response::Response;
use serde_json::json;

use super::body::Body;
use super::wire::GrantList;
use super::{AppState, key_id_field, ok, page_params};
use crate::domain::grant::{parse_operations, validate_grant_name};
use crate::domain::{
    Caller, Dialect, GrantFilter, GrantId, GranteeType, KeyId, KeyRef, KmsError, PrincipalId,
};
use crate::service::{CreateGrant, Deletion, GrantWrite};

/// Grant listings: Huawei's documented default page size, also the largest we accept.
pub(super) const GRANT_PAGE_MAX: i64 = 1000;

fn grant_id_field(body: &Body) -> Result<GrantId, KmsError> {
    GrantId::parse(body.required_str("grant_id", KmsError::InvalidGrantId)?)
}

/// `(key_id, grant_id)` of a revoke-grant or retire-grant request.
pub(super) fn grant_request(body: &Body) -> Result<(KeyId, GrantId), KmsError> {
    Ok((key_id_field(body)?, grant_id_field(body)?))
}

pub(super) fn create_grant_request(body: &Body, region: &str) -> Result<CreateGrant, KmsError> {
    let key_id = key_id_field(body)?;
    let grantee = body.required_str("grantee_principal", KmsError::InvalidPrincipal)?;
    let grantee = PrincipalId::parse("grantee_principal", grantee)?;
    let operations =
        parse_operations(body.required_str_array("operations", KmsError::InvalidParameter)?)?;
    let grantee_type =
        match body.optional_str("grantee_principal_type", KmsError::InvalidParameter)? {
            Some(value) => GranteeType::parse(value)?,
            None => GranteeType::User,
        };
    let name = body.optional_str("name", KmsError::InvalidParameter)?;
    if let Some(name) = name {
        validate_grant_name(name)?;
    }
    let retiring = body
        .optional_str("retiring_principal", KmsError::InvalidPrincipal)?
        .map(|value| PrincipalId::parse("retiring_principal", value))
        .transpose()?;
    Ok(CreateGrant {
        key: KeyRef::in_project(key_id, region),
        grantee_principal: grantee.into_string(),
        grantee_principal_type: grantee_type,
        operations,
        name: name.map(str::to_owned),
        // Huawei's retiring_principal is a user ID.
        retiring_principal: retiring.map(|p| (p.into_string(), GranteeType::User)),
        constraint: None,
    })
}

pub(super) async fn create_grant(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let grant = state
        .kms
        .create_grant(
            caller,
            Dialect::Huawei,
            create_grant_request(body, &caller.region)?,
            GrantWrite::default(),
        )
        .await?;
    ok(json!({"grant_id": grant.grant_id.as_str()}))
}

/// `(key_id, after, limit)` of a list-grants request.
pub(super) fn list_grants_request(body: &Body) -> Result<(KeyId, i64, u32), KmsError> {
    let key_id = key_id_field(body)?;
    let (after, limit) = page_params(body, GRANT_PAGE_MAX)?;
    Ok((key_id, after, limit))
}

pub(super) async fn list_grants(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key_id, after, limit) = list_grants_request(body)?;
    let (page, _) = state
        .kms
        .list_grants(
            caller,
            &KeyRef::in_project(key_id, &caller.region),
            &GrantFilter::default(),
            after,
            limit,
        )
        .await?;
    ok(GrantList::from(page))
}

pub(super) async fn list_retirable_grants(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (after, limit) = page_params(body, GRANT_PAGE_MAX)?;
    let page = state
        .kms
        .list_retirable_grants(caller, None, after, limit)
        .await?;
    ok(GrantList::from(page.map(|(grant, _)| grant)))
}

/// revoke-grant and retire-grant: the same request, under each deletion's rules.
pub(super) async fn delete_grant(
    state: &AppState,
    caller: &Caller,
    body: &Body,
    deletion: Deletion,
) -> Result<Response, KmsError> {
    let (key_id, grant_id) = grant_request(body)?;
    state
        .kms
        .delete_grant(
            caller,
            Dialect::Huawei,
            deletion,
            &KeyRef::in_project(key_id, &caller.region),
            &grant_id,
            false,
        )
        .await?;
    ok(json!({}))
}
