//! Key rotation and re-encryption in the Huawei/OTC wire format: enable-key-rotation,
//! disable-key-rotation, update-key-rotation-interval, get-key-rotation-status,
//! rotate-on-demand and re-encrypt (field names as huaweicloudsdkkms 3.1.219 has them).

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use super::body::Body;
use super::crypto_ops::{cipher_text_frame, context_bytes_of, encryption_algorithm_of};
use super::{key_field, ok};
use crate::api::AppState;
use crate::domain::authz::Action;
use crate::domain::key_spec::{Cloud, EncryptionAlgorithm};
use crate::domain::rotation::{self, RotationChange};
use crate::domain::{Caller, Dialect, KeyId, KeyRef, KmsError};
use crate::service::ReEncryptSide;

pub(super) async fn change(
    state: &AppState,
    caller: &Caller,
    body: &Body,
    action: Action,
) -> Result<Response, KmsError> {
    let change = change_request(body, action)?;
    state
        .kms
        .change_rotation(caller, &key_field(body, caller)?, action, change)
        .await?;
    ok(json!({}))
}

/// The change a rotation request asks for (the request's own fields checked).
pub(super) fn change_request(body: &Body, action: Action) -> Result<RotationChange, KmsError> {
    super::key_id_field(body)?;
    Ok(match action {
        Action::EnableKeyRotation => RotationChange::Enable { period_days: None },
        Action::DisableKeyRotation => RotationChange::Disable,
        Action::RotateKeyOnDemand => RotationChange::RotateOnDemand,
        _ => {
            let days = body
                .optional_integer("rotation_interval", KmsError::InvalidParameter)?
                .ok_or(KmsError::MissingParameter("rotation_interval"))?;
            rotation::check_period(Dialect::Huawei, days)?;
            RotationChange::SetInterval { period_days: days }
        }
    })
}

pub(super) async fn rotate_on_demand(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let status = state
        .kms
        .change_rotation(
            caller,
            &key_field(body, caller)?,
            Action::RotateKeyOnDemand,
            RotationChange::RotateOnDemand,
        )
        .await?;
    ok(json!({"key_id": status.key.key_id.as_str()}))
}

pub(super) async fn status(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let status = state
        .kms
        .rotation_status(caller, &key_field(body, caller)?)
        .await?;
    ok(json!({
        "key_rotation_enabled": status.state.enabled(),
        "rotation_interval": status.state.period_days(),
        // ms since the epoch, as Huawei writes its other dates; empty before the first rotation.
        "last_rotation_time": status.state.last_rotation_date.map(|d| d.to_string()).unwrap_or_default(),
        "number_of_rotations": status.state.latest_version,
    }))
}

/// A re-encrypt request's fields.
pub(super) struct ReEncryptRequest {
    source: Option<KeyId>,
    ciphertext: Vec<u8>,
    source_algorithm: EncryptionAlgorithm,
    source_context: Vec<u8>,
    destination: KeyId,
    destination_algorithm: EncryptionAlgorithm,
    destination_context: Vec<u8>,
}

pub(super) fn re_encrypt_request(body: &Body) -> Result<ReEncryptRequest, KmsError> {
    let ciphertext = cipher_text_frame(body)?;
    let destination =
        KeyId::parse(body.required_str("destination_key_id", KmsError::InvalidKeyId)?)?;
    let source = body
        .optional_str("source_key_id", KmsError::InvalidKeyId)?
        .map(KeyId::parse)
        .transpose()?;
    let source_algorithm = encryption_algorithm_of(body, "source_encryption_algorithm")?;
    let destination_algorithm = encryption_algorithm_of(body, "destination_encryption_algorithm")?;
    if body.given("datakey_cipher_length").is_some() {
        return Err(KmsError::InvalidParameter(
            "datakey_cipher_length is not supported: re-encrypt takes ciphertexts of encrypt-data and create-datakey.".into(),
        ));
    }
    let source_context = context_bytes_of(
        body,
        "source_additional_authenticated_data",
        "source_encryption_context",
    )?;
    let destination_context = context_bytes_of(
        body,
        "destination_additional_authenticated_data",
        "destination_encryption_context",
    )?;
    Ok(ReEncryptRequest {
        source,
        ciphertext,
        source_algorithm,
        source_context,
        destination,
        destination_algorithm,
        destination_context,
    })
}

pub(super) async fn re_encrypt(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let request = re_encrypt_request(body)?;
    let source = request
        .source
        .map(|id| KeyRef::in_project(id, &caller.region));
    let destination = KeyRef::in_project(request.destination, &caller.region);
    let (source_key, destination_key, new_ciphertext) = state
        .kms
        .re_encrypt(
            caller,
            ReEncryptSide {
                key: source.as_ref(),
                algorithm: request.source_algorithm,
                context: &request.source_context,
            },
            &request.ciphertext,
            ReEncryptSide {
                key: Some(&destination),
                algorithm: request.destination_algorithm,
                context: &request.destination_context,
            },
            false,
            Cloud::Huawei,
        )
        .await?;
    ok(json!({
        "key_id": destination_key.key_id.as_str(),
        "source_key_id": source_key.key_id.as_str(),
        "cipher_text": BASE64.encode(new_ciphertext),
        "source_encryption_algorithm": request.source_algorithm.name(Cloud::Huawei),
        "destination_encryption_algorithm": request.destination_algorithm.name(Cloud::Huawei),
    }))
}
