//! Imported key material in the Huawei/OTC wire format: get-parameters-for-import,
//! import-key-material and delete-imported-key-material (field names as
//! huaweicloudsdkkms 3.1.219 has them: GetParametersForImportRequestBody,
//! CreateParametersForImportResponse, ImportKeyMaterialRequestBody, OperateKeyRequestBody).
//! The rules are `domain::import`'s; this module reads and writes the wire format only.

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use super::body::Body;
use super::{key_field, key_id_field, ok};
use crate::api::AppState;
use crate::domain::key_spec::{Cloud, WrappingAlgorithm, WrappingKeySpec};
use crate::domain::{Caller, Dialect, KmsError};
use crate::service::ExpiryRequest;

/// The documented patterns allow at most 6144 Base64 characters for the token and the
/// wrapped private key (`^[0-9a-zA-Z+/=]{200,6144}$`).
const MAX_BASE64_CHARS: usize = 6144;

/// "The returned public key type is RSA_2048 by default" (get-parameters-for-import);
/// the request names no size.
const HUAWEI_WRAPPING_KEY_SPEC: WrappingKeySpec = WrappingKeySpec::Rsa2048;

fn base64_field(
    body: &Body,
    name: &'static str,
    invalid: impl Fn(String) -> KmsError,
) -> Result<Option<Vec<u8>>, KmsError> {
    let Some(text) = body.optional_str(name, &invalid)? else {
        return Ok(None);
    };
    if text.is_empty() || text.len() > MAX_BASE64_CHARS {
        return Err(invalid(format!(
            "{name} must be 1 to {MAX_BASE64_CHARS} Base64 characters."
        )));
    }
    BASE64
        .decode(text)
        .map(Some)
        .map_err(|_| invalid(format!("{name} must be Base64.")))
}

/// The wrapping algorithm a get-parameters-for-import request asks for.
pub(super) fn parameters_request(body: &Body) -> Result<WrappingAlgorithm, KmsError> {
    key_id_field(body)?;
    let algorithm = body
        .optional_str("wrapping_algorithm", KmsError::InvalidParameter)?
        .unwrap_or("RSAES_OAEP_SHA_256");
    WrappingAlgorithm::parse(Cloud::Huawei, algorithm).map_err(KmsError::KeyType)
}

/// An import-key-material request: the token, the wrapped material, Huawei's second part
/// for key pairs, and the expiry.
pub(super) struct ImportRequest {
    token: Vec<u8>,
    encrypted_key_material: Vec<u8>,
    encrypted_private_key: Option<Vec<u8>>,
    expiration_seconds: Option<i64>,
}

pub(super) fn import_request(body: &Body) -> Result<ImportRequest, KmsError> {
    key_id_field(body)?;
    let token = base64_field(body, "import_token", KmsError::InvalidImportToken)?
        .ok_or(KmsError::MissingParameter("import_token"))?;
    let encrypted_key_material =
        base64_field(body, "encrypted_key_material", KmsError::InvalidParameter)?
            .ok_or(KmsError::MissingParameter("encrypted_key_material"))?;
    let encrypted_private_key =
        base64_field(body, "encrypted_privatekey", KmsError::InvalidParameter)?;
    let expiration_seconds =
        body.optional_integer("expiration_time", KmsError::InvalidExpiration)?;
    Ok(ImportRequest {
        token,
        encrypted_key_material,
        encrypted_private_key,
        expiration_seconds,
    })
}

pub(super) async fn get_parameters_for_import(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let algorithm = parameters_request(body)?;
    let parameters = state
        .kms
        .parameters_for_import(
            caller,
            &key_field(body, caller)?,
            algorithm,
            HUAWEI_WRAPPING_KEY_SPEC,
        )
        .await?;
    ok(json!({
        "key_id": parameters.key.key_id.as_str(),
        "import_token": BASE64.encode(&parameters.import_token),
        // Seconds since the epoch (the SDK's int).
        "expiration_time": parameters.valid_to / 1000,
        "public_key": BASE64.encode(&parameters.public_key_der),
    }))
}

pub(super) async fn import_key_material(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let request = import_request(body)?;
    state
        .kms
        .import_key_material(
            caller,
            &key_field(body, caller)?,
            &request.token,
            &request.encrypted_key_material,
            request.encrypted_private_key.as_deref(),
            ExpiryRequest::Huawei {
                seconds: request.expiration_seconds,
            },
        )
        .await?;
    ok(json!({}))
}

pub(super) async fn delete_imported_key_material(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    state
        .kms
        .delete_imported_key_material(caller, Dialect::Huawei, &key_field(body, caller)?)
        .await?;
    ok(json!({}))
}
