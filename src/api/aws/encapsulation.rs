//! AWS Encapsulate and Decapsulate (ML-KEM keys). Blobs are Base64 on the wire;
//! `SharedSecretCiphertextBlob` is the bare ML-KEM ciphertext (768, 1088 or 1568 bytes),
//! so a client may make one offline with the public key from GetPublicKey.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::body::missing;
use super::call::Call;
use super::error::AwsError;
use crate::domain::KmsError;
use crate::domain::key_spec::{Cloud, EncapsulationAlgorithm};

/// botocore: CiphertextType is 1–6144 bytes.
const MAX_CIPHERTEXT_BYTES: usize = 6144;

/// The required `EncapsulationAlgorithm`; a value outside botocore's enum (`ML_KEM`) is a
/// ValidationException naming the valid one.
fn algorithm(call: &Call<'_>) -> Result<EncapsulationAlgorithm, AwsError> {
    let name = call
        .body
        .optional_str("EncapsulationAlgorithm")?
        .ok_or_else(|| missing("EncapsulationAlgorithm"))?;
    EncapsulationAlgorithm::parse(name).map_err(|e| call.kms_error(None, KmsError::KeyType(e)))
}

pub(super) async fn encapsulate(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    let algorithm = algorithm(call)?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let (key, sealed) = call
        .state
        .kms
        .encapsulate(&call.caller, &named.key, algorithm, dry_run, Cloud::Aws)
        .await
        .map_err(call.key_error(&named))?;
    Ok(json!({
        "KeyId": call.key_arn(&key),
        "SharedSecret": BASE64.encode(&sealed.shared_secret),
        "SharedSecretCiphertextBlob": BASE64.encode(&sealed.ciphertext),
        "EncapsulationAlgorithm": algorithm.name(),
    }))
}

pub(super) async fn decapsulate(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    let ciphertext = call
        .body
        .optional_blob("SharedSecretCiphertextBlob", 1, MAX_CIPHERTEXT_BYTES)?
        .ok_or_else(|| missing("SharedSecretCiphertextBlob"))?;
    let algorithm = algorithm(call)?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let (key, secret) = call
        .state
        .kms
        .decapsulate(
            &call.caller,
            &named.key,
            algorithm,
            &ciphertext,
            dry_run,
            Cloud::Aws,
        )
        .await
        .map_err(call.key_error(&named))?;
    Ok(json!({
        "KeyId": call.key_arn(&key),
        "SharedSecret": BASE64.encode(secret),
        "EncapsulationAlgorithm": algorithm.name(),
    }))
}
