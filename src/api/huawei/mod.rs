//! The Huawei Cloud / OTC KMS dialect: `POST /v1.0/{project_id}/kms/<action>`.

pub mod body;
mod crypto_ops;
pub mod error;
pub mod wire;

use std::sync::LazyLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use regex::Regex;
use serde_json::json;
use time::OffsetDateTime;

use self::body::Body;
use self::error::HuaweiError;
use self::wire::{CreatedKeyInfo, GrantList, KeyDetails, KeyList};
use super::{AppState, RequestId};
use crate::auth::aksk;
use crate::auth::iam::{self, TokenHolder, TokenScope};
use crate::auth::identities::User;
use crate::domain::grant::{parse_operations, validate_grant_name};
use crate::domain::key::{validate_key_alias, validate_key_description, validate_pending_days};
use crate::domain::{
    Caller, GrantId, GranteeType, KeyId, KeyState, KmsError, PrincipalId, StateChange,
};
use crate::service::{CreateGrant, CreateKey};

static PROJECT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_-]{1,64}$").unwrap());

/// Grant listings: Huawei's documented default page size, also the largest we accept.
const GRANT_PAGE_MAX: i64 = 1000;
/// Key listings: Terraform's Huawei provider asks for 2000 keys a page.
const KEY_PAGE_MAX: i64 = 2000;

pub fn routes(max_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/v1.0/{project_id}/kms/{action}",
            post(dispatch).fallback(|| async { HuaweiError(KmsError::MethodNotAllowed) }),
        )
        .route("/", get(versions))
        .route("/v1.0", get(version))
        .fallback(
            |Extension(id): Extension<RequestId>| async move { error::gateway_not_found(&id.0) },
        )
        .layer(DefaultBodyLimit::max(max_body_bytes))
}

fn version_entry() -> serde_json::Value {
    json!({"id": "v1.0", "links": [{"href": "/v1.0/", "rel": "self"}], "min_version": "",
           "status": "CURRENT", "version": "", "updated": "2018-09-05T08:18:05Z"})
}

async fn versions() -> Json<serde_json::Value> {
    Json(json!({"versions": [version_entry()]}))
}

async fn version() -> Json<serde_json::Value> {
    Json(json!({"version": version_entry()}))
}

#[derive(Debug, Clone, Copy)]
enum Action {
    CreateKey,
    DescribeKey,
    ListKeys,
    CreateGrant,
    ListGrants,
    ListRetirableGrants,
    RevokeGrant,
    RetireGrant,
    EnableKey,
    DisableKey,
    ScheduleKeyDeletion,
    CancelKeyDeletion,
    EncryptData,
    DecryptData,
    CreateDatakey,
    CreateDatakeyWithoutPlaintext,
    EncryptDatakey,
    DecryptDatakey,
    GenRandom,
}

impl Action {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "create-key" => Self::CreateKey,
            "describe-key" => Self::DescribeKey,
            "list-keys" => Self::ListKeys,
            "create-grant" => Self::CreateGrant,
            "list-grants" => Self::ListGrants,
            "list-retirable-grants" => Self::ListRetirableGrants,
            "revoke-grant" => Self::RevokeGrant,
            "retire-grant" => Self::RetireGrant,
            "enable-key" => Self::EnableKey,
            "disable-key" => Self::DisableKey,
            "schedule-key-deletion" => Self::ScheduleKeyDeletion,
            "cancel-key-deletion" => Self::CancelKeyDeletion,
            "encrypt-data" => Self::EncryptData,
            "decrypt-data" => Self::DecryptData,
            "create-datakey" => Self::CreateDatakey,
            "create-datakey-without-plaintext" => Self::CreateDatakeyWithoutPlaintext,
            "encrypt-datakey" => Self::EncryptDatakey,
            "decrypt-datakey" => Self::DecryptDatakey,
            "gen-random" => Self::GenRandom,
            _ => return None,
        })
    }
}

async fn dispatch(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    method: Method,
    uri: Uri,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = Request {
        method: &method,
        uri: &uri,
        headers: &headers,
    };
    match handle(&state, request, &request_id, path, body).await {
        Ok(response) => response,
        Err(error) => error::error_response(error, &request_id),
    }
}

/// The parts of the request that authentication looks at.
#[derive(Clone, Copy)]
pub(crate) struct Request<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
}

/// The body, or the error for a body that could not be read.
/// The body an AK/SK signature covers, or `None` for token requests. A signature
/// covers the body, so an unreadable body fails AK/SK requests before authentication;
/// token requests are authenticated first.
pub(crate) fn signed_body<'b>(
    headers: &HeaderMap,
    body: &'b Result<Bytes, BytesRejection>,
    max_body_bytes: usize,
) -> Result<Option<&'b [u8]>, KmsError> {
    if aksk::is_aksk(headers) {
        Ok(Some(read_body(body, max_body_bytes)?.as_ref()))
    } else {
        Ok(None)
    }
}

pub(crate) fn read_body(
    body: &Result<Bytes, BytesRejection>,
    max_body_bytes: usize,
) -> Result<&Bytes, KmsError> {
    body.as_ref().map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            KmsError::BodyTooLarge {
                limit: max_body_bytes,
            }
        } else {
            KmsError::MalformedJson("the body could not be read.".into())
        }
    })
}

async fn handle(
    state: &AppState,
    request: Request<'_>,
    request_id: &RequestId,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, KmsError> {
    let Path((project_id, action_name)) =
        path.map_err(|_| KmsError::UnknownAction("the path is not valid UTF-8.".into()))?;
    if !PROJECT_ID.is_match(&project_id) {
        return Err(KmsError::UnknownAction(
            "the project ID in the path is malformed.".into(),
        ));
    }
    let action = Action::parse(&action_name).ok_or_else(|| {
        KmsError::UnknownAction(format!(
            "kms/{} is not an action of this service.",
            crate::domain::ids::excerpt(&action_name)
        ))
    })?;
    let signed_body = signed_body(request.headers, &body, state.max_body_bytes)?;
    let mut caller = authenticate(state, request, signed_body, &project_id).await?;
    caller.request_id = request_id.0.clone();
    let bytes = read_body(&body, state.max_body_bytes)?;
    let body = Body::parse(bytes)?;
    body.check_sequence()?;
    match action {
        Action::CreateKey => create_key(state, &caller, &body).await,
        Action::DescribeKey => describe_key(state, &caller, &body).await,
        Action::ListKeys => list_keys(state, &caller, &body).await,
        Action::CreateGrant => create_grant(state, &caller, &body).await,
        Action::ListGrants => list_grants(state, &caller, &body).await,
        Action::ListRetirableGrants => list_retirable_grants(state, &caller, &body).await,
        Action::RevokeGrant => revoke_grant(state, &caller, &body).await,
        Action::RetireGrant => retire_grant(state, &caller, &body).await,
        Action::EnableKey => change_state(state, &caller, &body, StateChange::Enable).await,
        Action::DisableKey => change_state(state, &caller, &body, StateChange::Disable).await,
        Action::ScheduleKeyDeletion => {
            let change = schedule_deletion_request(&body)?;
            change_state(state, &caller, &body, change).await
        }
        Action::CancelKeyDeletion => {
            change_state(state, &caller, &body, StateChange::CancelDeletion).await
        }
        Action::EncryptData => crypto_ops::encrypt_data(state, &caller, &body).await,
        Action::DecryptData => crypto_ops::decrypt_data(state, &caller, &body).await,
        Action::CreateDatakey => crypto_ops::create_datakey(state, &caller, &body, true).await,
        Action::CreateDatakeyWithoutPlaintext => {
            crypto_ops::create_datakey(state, &caller, &body, false).await
        }
        Action::EncryptDatakey => crypto_ops::encrypt_datakey(state, &caller, &body).await,
        Action::DecryptDatakey => crypto_ops::decrypt_datakey(state, &caller, &body).await,
        Action::GenRandom => crypto_ops::gen_random(&body),
    }
}

/// The user behind a request: an AK/SK signature when `Authorization` names an
/// `...-HMAC-...` scheme (then `signed_body` is the body), else `X-Auth-Token`.
pub(crate) async fn authenticated_user<'s>(
    state: &'s AppState,
    request: Request<'_>,
    signed_body: Option<&[u8]>,
) -> Result<(&'s User, TokenScope), KmsError> {
    let now = OffsetDateTime::now_utc();
    if let Some(body) = signed_body {
        let parts = aksk::RequestParts {
            method: request.method.as_str(),
            path: request.uri.path(),
            query: request.uri.query(),
            headers: request.headers,
            body,
        };
        let user = aksk::verify(&state.identities, &parts, now)?;
        // The SDK names the project in X-Project-Id; it must agree with the URL's.
        let scope = match request.headers.get("x-project-id") {
            Some(value) => TokenScope::Project(
                value
                    .to_str()
                    .map_err(|_| KmsError::ProjectMismatch("X-Project-Id is not text.".into()))?
                    .to_owned(),
            ),
            None => TokenScope::UsersProjects,
        };
        return Ok((user, scope));
    }
    let token = match request.headers.get("x-auth-token") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| KmsError::AuthInvalid)?),
    };
    let holder =
        iam::token_holder(&state.identities, state.kms.store().as_ref(), token, now).await?;
    Ok((holder.user, holder.scope))
}

async fn authenticate(
    state: &AppState,
    request: Request<'_>,
    signed_body: Option<&[u8]>,
    project_id: &str,
) -> Result<Caller, KmsError> {
    let (user, scope) = authenticated_user(state, request, signed_body).await?;
    iam::caller_in_project(&state.identities, &TokenHolder { user, scope }, project_id)
}

pub(super) fn key_id_field(body: &Body) -> Result<KeyId, KmsError> {
    KeyId::parse(body.required_str("key_id", KmsError::InvalidKeyId)?)
}

fn grant_id_field(body: &Body) -> Result<GrantId, KmsError> {
    GrantId::parse(body.required_str("grant_id", KmsError::InvalidGrantId)?)
}

/// `(key_id, grant_id)` of a revoke-grant or retire-grant request.
fn grant_request(body: &Body) -> Result<(KeyId, GrantId), KmsError> {
    Ok((key_id_field(body)?, grant_id_field(body)?))
}

/// Reads a request body for the action named `action` as `handle` and the action's
/// handler do before any store call: the body, `sequence`, then the action's fields.
/// `None` for an unknown action. The pure half of a request, public for the fuzz
/// target `huawei_request`, which needs no server, store or credentials for it.
pub fn decode_request(action: &str, bytes: &[u8]) -> Option<Result<(), KmsError>> {
    use crypto_ops::{
        create_datakey_request, decrypt_data_request, decrypt_datakey_request,
        encrypt_data_request, encrypt_datakey_request, gen_random_request,
    };
    let action = Action::parse(action)?;
    let decoded = Body::parse(bytes).and_then(|body| {
        body.check_sequence()?;
        match action {
            Action::CreateKey => create_key_request(&body).map(drop),
            Action::DescribeKey
            | Action::EnableKey
            | Action::DisableKey
            | Action::CancelKeyDeletion => key_id_field(&body).map(drop),
            Action::ListKeys => list_keys_request(&body).map(drop),
            Action::CreateGrant => create_grant_request(&body).map(drop),
            Action::ListGrants => list_grants_request(&body).map(drop),
            Action::ListRetirableGrants => page_params(&body, GRANT_PAGE_MAX).map(drop),
            Action::RevokeGrant | Action::RetireGrant => grant_request(&body).map(drop),
            Action::ScheduleKeyDeletion => {
                schedule_deletion_request(&body)?;
                key_id_field(&body).map(drop)
            }
            Action::EncryptData => encrypt_data_request(&body).map(drop),
            Action::DecryptData => decrypt_data_request(&body).map(drop),
            Action::CreateDatakey | Action::CreateDatakeyWithoutPlaintext => {
                create_datakey_request(&body).map(drop)
            }
            Action::EncryptDatakey => encrypt_datakey_request(&body).map(drop),
            Action::DecryptDatakey => decrypt_datakey_request(&body).map(drop),
            Action::GenRandom => gen_random_request(&body).map(drop),
        }
    });
    Some(decoded)
}

/// `(after, limit)` from the `marker` and `limit` fields. Markers are the positions
/// that `next_marker` hands out (keyset pagination), so a page never skips or repeats
/// a grant when others are revoked in between; "0" or none starts at the beginning.
fn page_params(body: &Body, max_limit: i64) -> Result<(i64, u32), KmsError> {
    let limit = body
        .optional_integer("limit", KmsError::InvalidLimit)?
        .unwrap_or(max_limit.min(1000));
    if !(1..=max_limit).contains(&limit) {
        return Err(KmsError::InvalidLimit(format!(
            "limit must be between 1 and {max_limit}, not {limit}."
        )));
    }
    let after = body
        .optional_integer("marker", KmsError::InvalidMarker)?
        .unwrap_or(0);
    if after < 0 {
        return Err(KmsError::InvalidMarker(format!("marker is {after}.")));
    }
    Ok((after, limit as u32))
}

pub(super) fn ok<T: serde::Serialize>(value: T) -> Result<Response, KmsError> {
    Ok(Json(value).into_response())
}

fn schedule_deletion_request(body: &Body) -> Result<StateChange, KmsError> {
    let days = body
        .optional_integer("pending_days", KmsError::InvalidPendingDays)?
        .ok_or(KmsError::MissingParameter("pending_days"))?;
    validate_pending_days(days)?;
    Ok(StateChange::ScheduleDeletion { pending_days: days })
}

fn create_key_request(body: &Body) -> Result<CreateKey, KmsError> {
    let key_alias = body.required_str("key_alias", KmsError::InvalidKeyAlias)?;
    validate_key_alias(key_alias)?;
    let key_description = body
        .optional_str("key_description", |_| KmsError::InvalidKeyDescription)?
        .unwrap_or("");
    validate_key_description(key_description)?;
    let key_spec = body
        .optional_str("key_spec", KmsError::InvalidParameter)?
        .unwrap_or("AES_256");
    if key_spec != "AES_256" {
        return Err(KmsError::InvalidParameter(format!(
            "key_spec {} is not supported by this emulator; use AES_256.",
            crate::domain::ids::excerpt(key_spec)
        )));
    }
    let key_usage = body
        .optional_str("key_usage", KmsError::InvalidParameter)?
        .unwrap_or("ENCRYPT_DECRYPT");
    if key_usage != "ENCRYPT_DECRYPT" {
        return Err(KmsError::InvalidParameter(
            "key_usage must be ENCRYPT_DECRYPT for AES_256 keys.".into(),
        ));
    }
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
        key_spec: key_spec.to_owned(),
        key_usage: key_usage.to_owned(),
        origin: origin.to_owned(),
    })
}

async fn create_key(state: &AppState, caller: &Caller, body: &Body) -> Result<Response, KmsError> {
    let key = state
        .kms
        .create_key(caller, create_key_request(body)?)
        .await?;
    ok(json!({"key_info": CreatedKeyInfo {
        key_id: key.key_id.to_string(),
        domain_id: key.domain_id,
        region_id: state.kms.settings().region.clone(),
    }}))
}

async fn describe_key(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let key_id = key_id_field(body)?;
    let key = state.kms.describe_key(caller, &key_id).await?;
    ok(json!({"key_info": KeyDetails::new(key, &state.kms.settings().region)}))
}

/// `(key_state, after, limit)` of a list-keys request.
fn list_keys_request(body: &Body) -> Result<(Option<KeyState>, i64, u32), KmsError> {
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

async fn list_keys(state: &AppState, caller: &Caller, body: &Body) -> Result<Response, KmsError> {
    let (key_state, after, limit) = list_keys_request(body)?;
    let page = state.kms.list_keys(caller, key_state, after, limit).await?;
    ok(KeyList::new(page, &state.kms.settings().region))
}

fn create_grant_request(body: &Body) -> Result<CreateGrant, KmsError> {
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
        key_id,
        grantee_principal: grantee.into_string(),
        grantee_principal_type: grantee_type,
        operations,
        name: name.map(str::to_owned),
        retiring_principal: retiring.map(PrincipalId::into_string),
    })
}

async fn create_grant(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let grant = state
        .kms
        .create_grant(caller, create_grant_request(body)?)
        .await?;
    ok(json!({"grant_id": grant.grant_id.as_str()}))
}

/// `(key_id, after, limit)` of a list-grants request.
fn list_grants_request(body: &Body) -> Result<(KeyId, i64, u32), KmsError> {
    let key_id = key_id_field(body)?;
    let (after, limit) = page_params(body, GRANT_PAGE_MAX)?;
    Ok((key_id, after, limit))
}

async fn list_grants(state: &AppState, caller: &Caller, body: &Body) -> Result<Response, KmsError> {
    let (key_id, after, limit) = list_grants_request(body)?;
    let page = state.kms.list_grants(caller, &key_id, after, limit).await?;
    ok(GrantList::from(page))
}

async fn list_retirable_grants(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (after, limit) = page_params(body, GRANT_PAGE_MAX)?;
    let page = state
        .kms
        .list_retirable_grants(caller, after, limit)
        .await?;
    ok(GrantList::from(page))
}

async fn revoke_grant(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key_id, grant_id) = grant_request(body)?;
    state.kms.revoke_grant(caller, &key_id, &grant_id).await?;
    ok(json!({}))
}

async fn retire_grant(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key_id, grant_id) = grant_request(body)?;
    state.kms.retire_grant(caller, &key_id, &grant_id).await?;
    ok(json!({}))
}

async fn change_state(
    state: &AppState,
    caller: &Caller,
    body: &Body,
    change: StateChange,
) -> Result<Response, KmsError> {
    let key_id = key_id_field(body)?;
    let key = state.kms.change_key_state(caller, &key_id, change).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_request_applies_each_actions_rules() {
        assert_eq!(decode_request("no-such-action", b"{}"), None);
        assert_eq!(
            decode_request("create-key", br#"{"key_alias":"a"}"#),
            Some(Ok(()))
        );
        assert_eq!(
            decode_request("create-key", b"{}"),
            Some(Err(KmsError::MissingParameter("key_alias")))
        );
        assert_eq!(
            decode_request("gen-random", br#"{"random_data_length": 12}"#),
            Some(Err(KmsError::RandomLengthNotByteAligned))
        );
        assert_eq!(
            decode_request("list-keys", br#"{"sequence": "short"}"#),
            Some(Err(KmsError::InvalidSequence))
        );
        assert!(matches!(
            decode_request("schedule-key-deletion", br#"{"pending_days": "6"}"#),
            Some(Err(KmsError::InvalidPendingDays(_)))
        ));
        assert!(matches!(
            decode_request("decrypt-data", br#"{"cipher_text": "AAAA"}"#),
            Some(Err(KmsError::InvalidCipherText(_)))
        ));
    }
}
