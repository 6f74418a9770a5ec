//! AWS key-pair and MAC operations: Sign, Verify, GetPublicKey, GenerateMac, VerifyMac.
//! Blobs are Base64 on the wire; the public key is DER SubjectPublicKeyInfo.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::body::missing;
use super::call::Call;
use super::error::AwsError;
use crate::domain::KmsError;
use crate::domain::key_spec::{
    Cloud, KeyAgreementAlgorithm, KeySpec, KeyUsage, MacAlgorithm, MessageType, SigningAlgorithm,
};

/// botocore: Message is 1–4096 bytes; Signature and Mac up to 6144.
const MAX_MESSAGE_BYTES: usize = 4096;
const MAX_SIGNATURE_BYTES: usize = 6144;
/// botocore: DeriveSharedSecret's PublicKey is 1–8192 bytes.
const MAX_PUBLIC_KEY_BYTES: usize = 8192;

fn key_type(call: &Call<'_>, error: crate::domain::key_spec::KeySpecError) -> AwsError {
    call.kms_error(None, KmsError::KeyType(error))
}

fn required_blob(call: &Call<'_>, name: &str, max: usize) -> Result<Vec<u8>, AwsError> {
    call.body
        .optional_blob(name, 1, max)?
        .ok_or_else(|| missing(name))
}

fn signing_fields(call: &Call<'_>) -> Result<(SigningAlgorithm, MessageType, Vec<u8>), AwsError> {
    let message = required_blob(call, "Message", MAX_MESSAGE_BYTES)?;
    let algorithm = call
        .body
        .optional_str("SigningAlgorithm")?
        .ok_or_else(|| missing("SigningAlgorithm"))?;
    let algorithm =
        SigningAlgorithm::parse(Cloud::Aws, algorithm).map_err(|e| key_type(call, e))?;
    let message_type = call
        .body
        .optional_str("MessageType")?
        .map(|name| MessageType::parse(Cloud::Aws, name))
        .transpose()
        .map_err(|e| key_type(call, e))?
        .unwrap_or_else(|| MessageType::default_for(Cloud::Aws));
    Ok((algorithm, message_type, message))
}

/// DryRun: the operation changes nothing, so it runs every check (and the cryptography)
/// and then answers DryRunOperationException instead of the result.
fn dry_run_outcome(call: &Call<'_>, dry_run: bool, value: Value) -> Result<Value, AwsError> {
    if dry_run {
        Err(call.kms_error(None, KmsError::DryRunSucceeded))
    } else {
        Ok(value)
    }
}

pub(super) async fn sign(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    let (algorithm, message_type, message) = signing_fields(call)?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let (key, signature) = call
        .state
        .kms
        .sign(
            &call.caller,
            &named.key,
            algorithm,
            message_type,
            &message,
            Cloud::Aws,
        )
        .await
        .map_err(call.key_error(&named))?;
    dry_run_outcome(
        call,
        dry_run,
        json!({
            "KeyId": call.key_arn(&key),
            "Signature": BASE64.encode(signature),
            "SigningAlgorithm": algorithm.name(Cloud::Aws),
        }),
    )
}

pub(super) async fn verify(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    let (algorithm, message_type, message) = signing_fields(call)?;
    let signature = required_blob(call, "Signature", MAX_SIGNATURE_BYTES)?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let (key, valid) = call
        .state
        .kms
        .verify(
            &call.caller,
            &named.key,
            algorithm,
            message_type,
            &message,
            &signature,
            Cloud::Aws,
        )
        .await
        .map_err(call.key_error(&named))?;
    if !valid {
        return Err(call.kms_error(Some(&named.arn), KmsError::InvalidSignature));
    }
    dry_run_outcome(
        call,
        dry_run,
        json!({
            "KeyId": call.key_arn(&key),
            "SignatureValid": true,
            "SigningAlgorithm": algorithm.name(Cloud::Aws),
        }),
    )
}

pub(super) async fn get_public_key(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    call.check_grant_tokens()?;
    let (key, der) = call
        .state
        .kms
        .public_key(&call.caller, &named.key)
        .await
        .map_err(call.key_error(&named))?;
    let (spec, usage) = key
        .spec_and_usage()
        .unwrap_or((KeySpec::Aes256, KeyUsage::EncryptDecrypt));
    let mut answer = json!({
        "KeyId": call.key_arn(&key),
        "PublicKey": BASE64.encode(der),
        "CustomerMasterKeySpec": spec.name(Cloud::Aws),
        "KeySpec": spec.name(Cloud::Aws),
        "KeyUsage": usage.name(),
    });
    let signing: Vec<&str> = spec
        .signing_algorithms(usage)
        .iter()
        .map(|a| a.name(Cloud::Aws))
        .collect();
    let encryption: Vec<&str> = spec
        .encryption_algorithms(usage)
        .iter()
        .map(|a| a.name(Cloud::Aws))
        .collect();
    let agreement: Vec<&str> = spec
        .key_agreement_algorithms(usage)
        .iter()
        .map(|a| a.name())
        .collect();
    let encapsulation: Vec<&str> = spec
        .encapsulation_algorithms(usage)
        .iter()
        .map(|a| a.name())
        .collect();
    for (field, names) in [
        ("SigningAlgorithms", signing),
        ("EncryptionAlgorithms", encryption),
        ("KeyAgreementAlgorithms", agreement),
        ("EncapsulationAlgorithms", encapsulation),
    ] {
        if !names.is_empty() {
            answer[field] = json!(names);
        }
    }
    Ok(answer)
}

fn mac_fields(call: &Call<'_>) -> Result<(MacAlgorithm, Vec<u8>), AwsError> {
    let message = required_blob(call, "Message", MAX_MESSAGE_BYTES)?;
    let algorithm = call
        .body
        .optional_str("MacAlgorithm")?
        .ok_or_else(|| missing("MacAlgorithm"))?;
    let algorithm = MacAlgorithm::parse(Cloud::Aws, algorithm).map_err(|e| key_type(call, e))?;
    Ok((algorithm, message))
}

pub(super) async fn generate_mac(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    let (algorithm, message) = mac_fields(call)?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let (key, mac) = call
        .state
        .kms
        .generate_mac(&call.caller, &named.key, algorithm, &message, Cloud::Aws)
        .await
        .map_err(call.key_error(&named))?;
    dry_run_outcome(
        call,
        dry_run,
        json!({
            "Mac": BASE64.encode(mac),
            "MacAlgorithm": algorithm.name(),
            "KeyId": call.key_arn(&key),
        }),
    )
}

pub(super) async fn verify_mac(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    let (algorithm, message) = mac_fields(call)?;
    let mac = required_blob(call, "Mac", MAX_SIGNATURE_BYTES)?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let (key, valid) = call
        .state
        .kms
        .verify_mac(
            &call.caller,
            &named.key,
            algorithm,
            &message,
            &mac,
            Cloud::Aws,
        )
        .await
        .map_err(call.key_error(&named))?;
    if !valid {
        return Err(call.kms_error(Some(&named.arn), KmsError::InvalidMac));
    }
    dry_run_outcome(
        call,
        dry_run,
        json!({
            "KeyId": call.key_arn(&key),
            "MacValid": true,
            "MacAlgorithm": algorithm.name(),
        }),
    )
}

/// DeriveSharedSecret: ECDH with a KEY_AGREEMENT key and the caller's `PublicKey` (DER
/// SubjectPublicKeyInfo, 1–8192 bytes in botocore); `SharedSecret` is the raw secret.
pub(super) async fn derive_shared_secret(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    let algorithm = call
        .body
        .optional_str("KeyAgreementAlgorithm")?
        .ok_or_else(|| missing("KeyAgreementAlgorithm"))?;
    let algorithm =
        KeyAgreementAlgorithm::parse(Cloud::Aws, algorithm).map_err(|e| key_type(call, e))?;
    let public_key = required_blob(call, "PublicKey", MAX_PUBLIC_KEY_BYTES)?;
    if call.body.has("Recipient") {
        return Err(AwsError::validation(
            "Recipient (Nitro Enclaves attestation) is not supported by this emulator.",
        ));
    }
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let (key, secret) = call
        .state
        .kms
        .derive_shared_secret(
            &call.caller,
            &named.key,
            algorithm,
            &public_key,
            dry_run,
            Cloud::Aws,
        )
        .await
        .map_err(call.key_error(&named))?;
    Ok(json!({
        "KeyId": call.key_arn(&key),
        "SharedSecret": BASE64.encode(secret),
        "KeyAgreementAlgorithm": algorithm.name(),
        "KeyOrigin": if key.origin == "external" { "EXTERNAL" } else { "AWS_KMS" },
    }))
}
