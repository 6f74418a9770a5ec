//! AWS imported key material: GetParametersForImport, ImportKeyMaterial and
//! DeleteImportedKeyMaterial (shapes of botocore 1.44.8's kms 2014-11-01 model). The rules
//! are `domain::import`'s; this module reads and writes the wire format only.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::body::{constraint_failed, missing};
use super::call::Call;
use super::error::AwsError;
use crate::domain::key_spec::{Cloud, WrappingAlgorithm, WrappingKeySpec};
use crate::domain::{Dialect, KmsError};
use crate::service::ExpiryRequest;

/// botocore: ImportToken and EncryptedKeyMaterial are CiphertextType, 1–6144 bytes.
const MAX_CIPHERTEXT_BYTES: usize = 6144;

fn required_blob(call: &Call<'_>, name: &str) -> Result<Vec<u8>, AwsError> {
    call.body
        .optional_blob(name, 1, MAX_CIPHERTEXT_BYTES)?
        .ok_or_else(|| missing(name))
}

/// KeyMaterialId (BackingKeyIdType): 64 lower-case hex digits.
fn check_material_id(call: &Call<'_>) -> Result<Option<String>, AwsError> {
    let Some(id) = call.body.optional_str("KeyMaterialId")? else {
        return Ok(None);
    };
    if id.len() != 64 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(constraint_failed(
            "KeyMaterialId",
            id,
            "Member must be 64 characters matching ^[a-f0-9]+$",
        ));
    }
    Ok(Some(id.to_owned()))
}

/// A JSON 1.1 timestamp: seconds since the epoch, as a number (botocore may send a
/// fraction). Returned in ms.
fn optional_timestamp(call: &Call<'_>, name: &str) -> Result<Option<i64>, AwsError> {
    match call.body.given(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|s| s.is_finite() && s.abs() < 1e13)
            .map(|s| Some((s * 1000.0).round() as i64))
            .ok_or_else(|| AwsError::serialization(format!("{name} is out of range."))),
        Some(_) => Err(AwsError::serialization(format!(
            "{name} must be a timestamp in seconds since the epoch."
        ))),
    }
}

pub(super) async fn get_parameters_for_import(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    let algorithm = call
        .body
        .optional_str("WrappingAlgorithm")?
        .ok_or_else(|| missing("WrappingAlgorithm"))?;
    let algorithm = WrappingAlgorithm::parse(Cloud::Aws, algorithm)
        .map_err(|e| call.kms_error(None, KmsError::KeyType(e)))?;
    let spec = call
        .body
        .optional_str("WrappingKeySpec")?
        .ok_or_else(|| missing("WrappingKeySpec"))?;
    let spec =
        WrappingKeySpec::parse(spec).map_err(|e| call.kms_error(None, KmsError::KeyType(e)))?;
    let parameters = call
        .state
        .kms
        .parameters_for_import(&call.caller, &named.key, algorithm, spec)
        .await
        .map_err(call.key_error(&named))?;
    Ok(json!({
        "KeyId": call.key_arn(&parameters.key),
        "ImportToken": BASE64.encode(&parameters.import_token),
        "PublicKey": BASE64.encode(&parameters.public_key_der),
        "ParametersValidTo": parameters.valid_to as f64 / 1000.0,
    }))
}

pub(super) async fn import_key_material(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    let token = required_blob(call, "ImportToken")?;
    let encrypted = required_blob(call, "EncryptedKeyMaterial")?;
    let model = call
        .body
        .optional_str("ExpirationModel")?
        .map(str::to_owned);
    let valid_to_ms = optional_timestamp(call, "ValidTo")?;
    if let Some(kind) = call.body.optional_str("ImportType")?
        && !matches!(kind, "NEW_KEY_MATERIAL" | "EXISTING_KEY_MATERIAL")
    {
        return Err(constraint_failed(
            "ImportType",
            kind,
            "Member must satisfy enum value set: [NEW_KEY_MATERIAL, EXISTING_KEY_MATERIAL]",
        ));
    }
    // A key here holds one material at a time (imported keys do not rotate), and only the
    // same material comes back: KeyMaterialId and KeyMaterialDescription are checked for
    // form and otherwise change nothing.
    check_material_id(call)?;
    call.body
        .optional_bounded_str("KeyMaterialDescription", 0, 256)?;
    let (key, material_id) = call
        .state
        .kms
        .import_key_material(
            &call.caller,
            &named.key,
            &token,
            &encrypted,
            None,
            ExpiryRequest::Aws { model, valid_to_ms },
        )
        .await
        .map_err(call.key_error(&named))?;
    Ok(json!({"KeyId": call.key_arn(&key), "KeyMaterialId": material_id}))
}

pub(super) async fn delete_imported_key_material(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    check_material_id(call)?;
    let (key, material_id) = call
        .state
        .kms
        .delete_imported_key_material(&call.caller, Dialect::Aws, &named.key)
        .await
        .map_err(call.key_error(&named))?;
    let mut answer = json!({"KeyId": call.key_arn(&key)});
    if let Some(id) = material_id {
        answer["KeyMaterialId"] = json!(id);
    }
    Ok(answer)
}
