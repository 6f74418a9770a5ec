//! AWS cryptographic operations: Encrypt, Decrypt, GenerateDataKey,
//! GenerateDataKeyWithoutPlaintext, GenerateRandom. Blobs are Base64 on the wire.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::body::{constraint_failed, missing};
use super::call::Call;
use super::error::AwsError;
use crate::crypto;
use crate::domain::KmsError;
use crate::domain::authz::Action;
use crate::domain::key_spec::{Cloud, DataKeyPairFamily, KeySpec};

/// AWS: Encrypt takes up to 4096 bytes; GenerateDataKey's NumberOfBytes is 1–1024;
/// GenerateRandom's NumberOfBytes 1–1024.
const MAX_PLAINTEXT_BYTES: usize = 4096;
const MAX_DATA_KEY_BYTES: i64 = 1024;
const MAX_RANDOM_BYTES: i64 = 1024;
/// AWS: a CiphertextBlob is 1–6144 bytes.
const MAX_CIPHERTEXT_BYTES: usize = 6144;

pub(super) async fn encrypt(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    let plaintext = call
        .body
        .optional_blob("Plaintext", 1, MAX_PLAINTEXT_BYTES)?
        .ok_or_else(|| missing("Plaintext"))?;
    let context = call.encryption_context()?;
    let algorithm = call.encryption_algorithm()?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let (key, ciphertext) = call
        .state
        .kms
        .encrypt_data(
            &call.caller,
            &named.key,
            algorithm,
            &plaintext,
            &crypto::context_bytes_of_map(&context),
            dry_run,
            Cloud::Aws,
        )
        .await
        .map_err(call.key_error(&named))?;
    Ok(json!({
        "CiphertextBlob": BASE64.encode(ciphertext),
        "KeyId": call.key_arn(&key),
        "EncryptionAlgorithm": algorithm.name(Cloud::Aws),
    }))
}

pub(super) async fn decrypt(call: &Call<'_>) -> Result<Value, AwsError> {
    let frame = call
        .body
        .optional_blob("CiphertextBlob", 1, MAX_CIPHERTEXT_BYTES)?
        .ok_or_else(|| missing("CiphertextBlob"))?;
    let expected = call.optional_key_or_alias("KeyId").await?;
    let context = call.encryption_context()?;
    let algorithm = call.encryption_algorithm()?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let (key, plaintext) = call
        .state
        .kms
        .decrypt_data(
            &call.caller,
            expected.as_ref().map(|named| &named.key),
            algorithm,
            &frame,
            &crypto::context_bytes_of_map(&context),
            dry_run,
            Cloud::Aws,
        )
        .await
        .map_err(|e| match &expected {
            Some(named) => call.kms_error(Some(&named.arn), e),
            None => call.kms_error(None, e),
        })?;
    Ok(json!({
        "KeyId": call.key_arn(&key),
        "Plaintext": BASE64.encode(plaintext),
        "EncryptionAlgorithm": algorithm.name(Cloud::Aws),
    }))
}

pub(super) async fn generate_data_key(
    call: &Call<'_>,
    with_plaintext: bool,
) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    let spec = call.body.optional_str("KeySpec")?;
    let bytes = call
        .body
        .optional_int("NumberOfBytes", 1, MAX_DATA_KEY_BYTES)?;
    let length = match (spec, bytes) {
        (Some(_), Some(_)) => {
            return Err(AwsError::validation(
                "Please specify either number of bytes or key spec, not both.",
            ));
        }
        (None, None) => {
            return Err(AwsError::validation(
                "Please specify either number of bytes or key spec.",
            ));
        }
        (Some("AES_256"), None) => 32,
        (Some("AES_128"), None) => 16,
        (Some(other), None) => {
            return Err(constraint_failed(
                "KeySpec",
                other,
                "Member must satisfy enum value set: [AES_256, AES_128]",
            ));
        }
        (None, Some(n)) => n as usize,
    };
    let context = call.encryption_context()?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let action = if with_plaintext {
        Action::GenerateDataKey
    } else {
        Action::GenerateDataKeyWithoutPlaintext
    };
    let data_key = crypto::random_bytes(length);
    let (key, frame) = call
        .state
        .kms
        .encrypt(
            &call.caller,
            &named.key,
            action,
            &data_key,
            &crypto::context_bytes_of_map(&context),
            dry_run,
        )
        .await
        .map_err(call.key_error(&named))?;
    let mut answer = json!({"CiphertextBlob": BASE64.encode(frame), "KeyId": call.key_arn(&key)});
    if with_plaintext {
        answer["Plaintext"] = json!(BASE64.encode(&data_key));
    }
    Ok(answer)
}

/// GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: PublicKey is DER
/// SubjectPublicKeyInfo, PrivateKeyPlaintext PKCS#8 DER, PrivateKeyCiphertextBlob a
/// ciphertext of the PKCS#8 under the symmetric key that Decrypt opens.
pub(super) async fn generate_data_key_pair(
    call: &Call<'_>,
    with_plaintext: bool,
) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    let spec_name = call
        .body
        .optional_str("KeyPairSpec")?
        .ok_or_else(|| missing("KeyPairSpec"))?;
    let spec = KeySpec::parse_data_key_pair(spec_name, DataKeyPairFamily::Any)
        .map_err(|e| call.kms_error(None, KmsError::KeyType(e)))?;
    if call.body.has("Recipient") {
        return Err(AwsError::validation(
            "Recipient (Nitro Enclaves attestation) is not supported by this emulator.",
        ));
    }
    let context = call.encryption_context()?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let action = if with_plaintext {
        Action::GenerateDataKeyPair
    } else {
        Action::GenerateDataKeyPairWithoutPlaintext
    };
    let (key, sealed) = call
        .state
        .kms
        .generate_data_key_pair(
            &call.caller,
            &named.key,
            action,
            spec,
            &crypto::context_bytes_of_map(&context),
            dry_run,
        )
        .await
        .map_err(call.key_error(&named))?;
    let mut answer = json!({
        "PrivateKeyCiphertextBlob": BASE64.encode(&sealed.private_key_ciphertext),
        "PublicKey": BASE64.encode(&sealed.pair.public_key_der),
        "KeyId": call.key_arn(&key),
        "KeyPairSpec": spec.name(Cloud::Aws),
    });
    if with_plaintext {
        answer["PrivateKeyPlaintext"] = json!(BASE64.encode(&sealed.pair.private_key_der));
    }
    Ok(answer)
}

pub(super) async fn generate_random(call: &Call<'_>) -> Result<Value, AwsError> {
    if call.body.has("CustomKeyStoreId") {
        return Err(AwsError::new(
            "CustomKeyStoreNotFoundException",
            "This emulator has no custom key stores.",
        ));
    }
    if call.body.has("Recipient") {
        return Err(AwsError::new(
            "UnsupportedOperationException",
            "Recipient (Nitro Enclaves attestation) is not supported by this emulator.",
        ));
    }
    let bytes = call
        .body
        .optional_int("NumberOfBytes", 1, MAX_RANDOM_BYTES)?
        .ok_or_else(|| {
            AwsError::validation(
                "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null",
            )
        })?;
    let random = call
        .state
        .kms
        .generate_random(&call.caller, bytes as usize)
        .await
        .map_err(|e: KmsError| call.kms_error(None, e))?;
    Ok(json!({"Plaintext": BASE64.encode(random)}))
}
