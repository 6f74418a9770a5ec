//! The AWS KMS JSON 1.1 dialect: `POST /` with `X-Amz-Target: TrentService.<Op>`,
//! signed with SigV4, over the same service and store as the Huawei dialect.
//!
//! This module only translates: wire fields in, `service::Kms` calls with the core's
//! `Action` and `Dialect::Aws`, AWS shapes and error types out. Who may do what is
//! decided by the authorization core (`domain::authz`), with AWS's own extra rules.
//!
//! Who an AWS caller is: the user owning the SigV4 access key, acting in the region its
//! credential scope names (one this server serves) and in the user's project of that
//! region (else its first project). An AWS account is a Huawei domain, so the account's
//! keys in a region are the keys of that project made in that region.
//!
//! - `call`: one request's context (caller, body) and the checks many operations share.
//! - `keys`, `grants`, `crypto_ops`, `signing`, `encapsulation`, `aliases`: the operations,
//!   by family.

mod aliases;
pub mod body;
mod call;
mod crypto_ops;
mod encapsulation;
pub mod error;
mod grants;
mod import;
mod keys;
mod multi_region;
mod rotation;
mod signing;
mod tags;
pub mod wire;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use time::OffsetDateTime;

use self::body::Body;
use self::call::Call;
use self::error::AwsError;
use super::{AppState, RequestId};
use crate::auth::identities::User;
use crate::auth::sigv4;
use crate::domain::authz::Action;
use crate::domain::ids::excerpt;
use crate::domain::{Caller, StateChange};

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "TrentService.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    CreateKey,
    DescribeKey,
    ListKeys,
    EnableKey,
    DisableKey,
    ScheduleKeyDeletion,
    CancelKeyDeletion,
    GetKeyPolicy,
    PutKeyPolicy,
    ListKeyPolicies,
    CreateGrant,
    ListGrants,
    ListRetirableGrants,
    RevokeGrant,
    RetireGrant,
    Encrypt,
    Decrypt,
    GenerateDataKey,
    GenerateDataKeyWithoutPlaintext,
    GenerateRandom,
    Sign,
    Verify,
    GetPublicKey,
    GenerateMac,
    VerifyMac,
    UpdateKeyDescription,
    CreateAlias,
    DeleteAlias,
    UpdateAlias,
    ListAliases,
    EnableKeyRotation,
    DisableKeyRotation,
    GetKeyRotationStatus,
    RotateKeyOnDemand,
    ListKeyRotations,
    ReEncrypt,
    TagResource,
    UntagResource,
    ListResourceTags,
    GenerateDataKeyPair,
    GenerateDataKeyPairWithoutPlaintext,
    DeriveSharedSecret,
    Encapsulate,
    Decapsulate,
    GetKeyLastUsage,
    GetParametersForImport,
    ImportKeyMaterial,
    DeleteImportedKeyMaterial,
    ReplicateKey,
    UpdatePrimaryRegion,
}

impl Operation {
    const ALL: [Operation; 50] = [
        Self::CreateKey,
        Self::DescribeKey,
        Self::ListKeys,
        Self::EnableKey,
        Self::DisableKey,
        Self::ScheduleKeyDeletion,
        Self::CancelKeyDeletion,
        Self::GetKeyPolicy,
        Self::PutKeyPolicy,
        Self::ListKeyPolicies,
        Self::CreateGrant,
        Self::ListGrants,
        Self::ListRetirableGrants,
        Self::RevokeGrant,
        Self::RetireGrant,
        Self::Encrypt,
        Self::Decrypt,
        Self::GenerateDataKey,
        Self::GenerateDataKeyWithoutPlaintext,
        Self::GenerateRandom,
        Self::Sign,
        Self::Verify,
        Self::GetPublicKey,
        Self::GenerateMac,
        Self::VerifyMac,
        Self::UpdateKeyDescription,
        Self::CreateAlias,
        Self::DeleteAlias,
        Self::UpdateAlias,
        Self::ListAliases,
        Self::EnableKeyRotation,
        Self::DisableKeyRotation,
        Self::GetKeyRotationStatus,
        Self::RotateKeyOnDemand,
        Self::ListKeyRotations,
        Self::ReEncrypt,
        Self::TagResource,
        Self::UntagResource,
        Self::ListResourceTags,
        Self::GenerateDataKeyPair,
        Self::GenerateDataKeyPairWithoutPlaintext,
        Self::DeriveSharedSecret,
        Self::Encapsulate,
        Self::Decapsulate,
        Self::GetKeyLastUsage,
        Self::GetParametersForImport,
        Self::ImportKeyMaterial,
        Self::DeleteImportedKeyMaterial,
        Self::ReplicateKey,
        Self::UpdatePrimaryRegion,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::CreateKey => "CreateKey",
            Self::DescribeKey => "DescribeKey",
            Self::ListKeys => "ListKeys",
            Self::EnableKey => "EnableKey",
            Self::DisableKey => "DisableKey",
            Self::ScheduleKeyDeletion => "ScheduleKeyDeletion",
            Self::CancelKeyDeletion => "CancelKeyDeletion",
            Self::GetKeyPolicy => "GetKeyPolicy",
            Self::PutKeyPolicy => "PutKeyPolicy",
            Self::ListKeyPolicies => "ListKeyPolicies",
            Self::CreateGrant => "CreateGrant",
            Self::ListGrants => "ListGrants",
            Self::ListRetirableGrants => "ListRetirableGrants",
            Self::RevokeGrant => "RevokeGrant",
            Self::RetireGrant => "RetireGrant",
            Self::Encrypt => "Encrypt",
            Self::Decrypt => "Decrypt",
            Self::GenerateDataKey => "GenerateDataKey",
            Self::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            Self::GenerateRandom => "GenerateRandom",
            Self::Sign => "Sign",
            Self::Verify => "Verify",
            Self::GetPublicKey => "GetPublicKey",
            Self::GenerateMac => "GenerateMac",
            Self::VerifyMac => "VerifyMac",
            Self::UpdateKeyDescription => "UpdateKeyDescription",
            Self::CreateAlias => "CreateAlias",
            Self::DeleteAlias => "DeleteAlias",
            Self::UpdateAlias => "UpdateAlias",
            Self::ListAliases => "ListAliases",
            Self::EnableKeyRotation => "EnableKeyRotation",
            Self::DisableKeyRotation => "DisableKeyRotation",
            Self::GetKeyRotationStatus => "GetKeyRotationStatus",
            Self::RotateKeyOnDemand => "RotateKeyOnDemand",
            Self::ListKeyRotations => "ListKeyRotations",
            Self::ReEncrypt => "ReEncrypt",
            Self::TagResource => "TagResource",
            Self::UntagResource => "UntagResource",
            Self::ListResourceTags => "ListResourceTags",
            Self::GenerateDataKeyPair => "GenerateDataKeyPair",
            Self::GenerateDataKeyPairWithoutPlaintext => "GenerateDataKeyPairWithoutPlaintext",
            Self::DeriveSharedSecret => "DeriveSharedSecret",
            Self::Encapsulate => "Encapsulate",
            Self::Decapsulate => "Decapsulate",
            Self::GetKeyLastUsage => "GetKeyLastUsage",
            Self::GetParametersForImport => "GetParametersForImport",
            Self::ImportKeyMaterial => "ImportKeyMaterial",
            Self::DeleteImportedKeyMaterial => "DeleteImportedKeyMaterial",
            Self::ReplicateKey => "ReplicateKey",
            Self::UpdatePrimaryRegion => "UpdatePrimaryRegion",
        }
    }

    fn from_target(target: &str) -> Option<Self> {
        let name = target.strip_prefix(TARGET_PREFIX)?;
        Self::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// Operations of AWS KMS that are out of this emulator's scope: answered with
/// UnsupportedOperationException, which the SDKs map to their own exception class, rather
/// than as unknown operations.
const CUSTOM_KEY_STORE_OPERATIONS: [&str; 6] = [
    "CreateCustomKeyStore",
    "ConnectCustomKeyStore",
    "DeleteCustomKeyStore",
    "DescribeCustomKeyStores",
    "DisconnectCustomKeyStore",
    "UpdateCustomKeyStore",
];

/// The served operation names, for the health document.
pub fn served_operations() -> impl Iterator<Item = &'static str> {
    Operation::ALL.into_iter().map(Operation::name)
}

pub async fn dispatch(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut response = match handle(&state, &request_id, &method, &uri, &headers, body).await {
        Ok(value) => ok_response(value),
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id.0) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

fn ok_response(value: Option<Value>) -> Response {
    // RevokeGrant, RetireGrant, EnableKey, DisableKey and PutKeyPolicy answer 200 with an
    // empty body.
    let text = value.map(|v| v.to_string()).unwrap_or_default();
    let mut response = (StatusCode::OK, text).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    response
}

async fn handle(
    state: &AppState,
    request_id: &RequestId,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Option<Value>, AwsError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AwsError::validation(format!(
                "The request body exceeds {} bytes.",
                state.max_body_bytes
            ))
        } else {
            AwsError::serialization("The request body could not be read.")
        }
    })?;
    let parts = sigv4::RequestParts {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query(),
        headers,
        body: &bytes,
    };
    let (user, region) = sigv4::verify(
        &state.identities,
        &parts,
        &state.kms.settings().regions,
        OffsetDateTime::now_utc(),
    )?;
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let operation =
        Operation::from_target(target).ok_or_else(|| match target.strip_prefix(TARGET_PREFIX) {
            Some(name) if CUSTOM_KEY_STORE_OPERATIONS.contains(&name) => AwsError::new(
                "UnsupportedOperationException",
                format!(
                    "{name} is not supported by this emulator: it has no custom key stores \
                     (AWS CloudHSM or external key stores); keys live in its own store."
                ),
            ),
            _ => AwsError::new(
                "UnknownOperationException",
                format!(
                    "X-Amz-Target '{}' is not an operation of this service.",
                    excerpt(target)
                ),
            ),
        })?;
    let caller = caller_of(state, user, &region, request_id)?;
    let call = Call {
        state,
        caller,
        operation,
        body: Body::parse(&bytes)?,
    };
    run(&call).await
}

/// The caller an access key's user becomes in `region` (the request's SigV4 scope): the
/// user in its project of that region (`Identities::aws_project`), acting in `region`.
fn caller_of(
    state: &AppState,
    user: &User,
    region: &str,
    request_id: &RequestId,
) -> Result<Caller, AwsError> {
    let project = state.identities.aws_project(user, region).ok_or_else(|| {
        AwsError::new(
            "AccessDeniedException",
            format!(
                "User: {} belongs to no project, so it has no KMS keys to act on.",
                user.aws_arn
            ),
        )
    })?;
    let mut caller = state
        .identities
        .caller_for_project(user, None, project, &request_id.0)
        .map_err(|e| AwsError::new("AccessDeniedException", e.to_string()))?;
    caller.region = region.to_owned();
    Ok(caller)
}

async fn run(call: &Call<'_>) -> Result<Option<Value>, AwsError> {
    match call.operation {
        Operation::CreateKey => keys::create_key(call).await.map(Some),
        Operation::DescribeKey => keys::describe_key(call).await.map(Some),
        Operation::ListKeys => keys::list_keys(call).await.map(Some),
        Operation::EnableKey => keys::change_state(call, StateChange::Enable)
            .await
            .map(|_| None),
        Operation::DisableKey => keys::change_state(call, StateChange::Disable)
            .await
            .map(|_| None),
        Operation::ScheduleKeyDeletion => keys::schedule_deletion(call).await.map(Some),
        Operation::CancelKeyDeletion => keys::cancel_deletion(call).await.map(Some),
        Operation::GetKeyPolicy => keys::get_key_policy(call).await.map(Some),
        Operation::PutKeyPolicy => keys::put_key_policy(call).await.map(|_| None),
        Operation::ListKeyPolicies => keys::list_key_policies(call).await.map(Some),
        Operation::CreateGrant => grants::create_grant(call).await.map(Some),
        Operation::ListGrants => grants::list_grants(call).await.map(Some),
        Operation::ListRetirableGrants => grants::list_retirable_grants(call).await.map(Some),
        Operation::RevokeGrant => grants::revoke_grant(call).await.map(|_| None),
        Operation::RetireGrant => grants::retire_grant(call).await.map(|_| None),
        Operation::Encrypt => crypto_ops::encrypt(call).await.map(Some),
        Operation::UpdateKeyDescription => keys::update_description(call).await.map(|_| None),
        Operation::Sign => signing::sign(call).await.map(Some),
        Operation::Verify => signing::verify(call).await.map(Some),
        Operation::GetPublicKey => signing::get_public_key(call).await.map(Some),
        Operation::GenerateMac => signing::generate_mac(call).await.map(Some),
        Operation::VerifyMac => signing::verify_mac(call).await.map(Some),
        Operation::Decrypt => crypto_ops::decrypt(call).await.map(Some),
        Operation::GenerateDataKey => crypto_ops::generate_data_key(call, true).await.map(Some),
        Operation::GenerateDataKeyWithoutPlaintext => {
            crypto_ops::generate_data_key(call, false).await.map(Some)
        }
        Operation::GenerateRandom => crypto_ops::generate_random(call).await.map(Some),
        Operation::CreateAlias => aliases::create_alias(call).await.map(|_| None),
        Operation::DeleteAlias => aliases::delete_alias(call).await.map(|_| None),
        Operation::UpdateAlias => aliases::update_alias(call).await.map(|_| None),
        Operation::ListAliases => aliases::list_aliases(call).await.map(Some),
        Operation::EnableKeyRotation => rotation::change(call, Action::EnableKeyRotation).await,
        Operation::DisableKeyRotation => rotation::change(call, Action::DisableKeyRotation).await,
        Operation::RotateKeyOnDemand => rotation::change(call, Action::RotateKeyOnDemand).await,
        Operation::GetKeyRotationStatus => rotation::status(call).await.map(Some),
        Operation::ListKeyRotations => rotation::list(call).await.map(Some),
        Operation::ReEncrypt => rotation::re_encrypt(call).await.map(Some),
        Operation::TagResource => tags::tag_resource(call).await.map(|_| None),
        Operation::UntagResource => tags::untag_resource(call).await.map(|_| None),
        Operation::ListResourceTags => tags::list_resource_tags(call).await.map(Some),
        Operation::GenerateDataKeyPair => crypto_ops::generate_data_key_pair(call, true)
            .await
            .map(Some),
        Operation::GenerateDataKeyPairWithoutPlaintext => {
            crypto_ops::generate_data_key_pair(call, false)
                .await
                .map(Some)
        }
        Operation::DeriveSharedSecret => signing::derive_shared_secret(call).await.map(Some),
        Operation::Encapsulate => encapsulation::encapsulate(call).await.map(Some),
        Operation::Decapsulate => encapsulation::decapsulate(call).await.map(Some),
        Operation::GetKeyLastUsage => keys::get_key_last_usage(call).await.map(Some),
        Operation::GetParametersForImport => {
            import::get_parameters_for_import(call).await.map(Some)
        }
        Operation::ImportKeyMaterial => import::import_key_material(call).await.map(Some),
        Operation::DeleteImportedKeyMaterial => {
            import::delete_imported_key_material(call).await.map(Some)
        }
        Operation::ReplicateKey => multi_region::replicate_key(call).await.map(Some),
        Operation::UpdatePrimaryRegion => multi_region::update_primary_region(call)
            .await
            .map(|_| None),
    }
}
