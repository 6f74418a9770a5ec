//! Key rotation and re-encryption in the Huawei/OTC wire format: enable-key-rotation,
//! disable-key-rotation, update-key-rotation-interval, get-key-rotation-status,
//! rotate-on-demand and re-encrypt (field names as huaweicloudsdkkms 3.1.219 has them).

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use super::body::Body;
use super::crypto_ops::{cipher_text_frame, context_bytes_of};
use super::{key_field, ok};
use crate::api::AppState;
use crate::domain::authz::Action;
use crate::domain::rotation::{self, RotationChange};
use crate::domain::{Caller, Dialect, KeyId, KeyRef, KmsError};

/// The only algorithm re-encrypt serves (asymmetric encryption is not served).
const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";

pub(super) async fn change(
    state: &AppState,
    caller: &Caller,
    body: &Body,
    action: Action,
) -> Result<Response, KmsError> {
    let change = change_request(body, action)?;
    state
        .kms
        .change_rotation(caller, &key_field(body)?, action, change)
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
            &key_field(body)?,
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
    let status = state.kms.rotation_status(caller, &key_field(body)?).await?;
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
    frame: Vec<u8>,
    source_context: Vec<u8>,
    destination: KeyId,
    destination_context: Vec<u8>,
}

pub(super) fn re_encrypt_request(body: &Body) -> Result<ReEncryptRequest, KmsError> {
    let frame = cipher_text_frame(body)?;
    let destination =
        KeyId::parse(body.required_str("destination_key_id", KmsError::InvalidKeyId)?)?;
    let source = body
        .optional_str("source_key_id", KmsError::InvalidKeyId)?
        .map(KeyId::parse)
        .transpose()?;
    for field in [
        "source_encryption_algorithm",
        "destination_encryption_algorithm",
    ] {
        if let Some(algorithm) = body.optional_str(field, KmsError::InvalidParameter)?
            && algorithm != SYMMETRIC_DEFAULT
        {
            return Err(KmsError::InvalidParameter(format!(
                "{field} must be {SYMMETRIC_DEFAULT}: asymmetric encryption is not served by this emulator."
            )));
        }
    }
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
        frame,
        source_context,
        destination,
        destination_context,
    })
}

pub(super) async fn re_encrypt(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let ReEncryptRequest {
        source,
        frame,
        source_context,
        destination,
        destination_context,
    } = re_encrypt_request(body)?;
    let source = source.map(KeyRef::in_project);
    let (source_key, destination_key, new_frame) = state
        .kms
        .re_encrypt(
            caller,
            source.as_ref(),
            &frame,
            &source_context,
            &KeyRef::in_project(destination),
            &destination_context,
            false,
        )
        .await?;
    ok(json!({
        "key_id": destination_key.key_id.as_str(),
        "source_key_id": source_key.key_id.as_str(),
        "cipher_text": BASE64.encode(new_frame),
        "source_encryption_algorithm": SYMMETRIC_DEFAULT,
        "destination_encryption_algorithm": SYMMETRIC_DEFAULT,
    }))
}
