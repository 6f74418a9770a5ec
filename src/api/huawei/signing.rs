//! Huawei's key-pair and MAC actions: sign, verify, get-publickey, generate-mac and
//! verify-mac. Messages, signatures and MACs travel in Base64 (SignRequestBody,
//! GenerateMacRequestBody of the SDK 3.1.219); the public key as PEM.

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use super::body::Body;
use super::{key_field, key_id_field, ok};
use crate::api::AppState;
use crate::domain::key_spec::{
    Cloud, KeyAgreementAlgorithm, MacAlgorithm, MessageType, SigningAlgorithm,
};
use crate::domain::{Caller, KeyId, KmsError};

/// Huawei's limit for `message` of sign, verify and the MAC actions: under 4096 bytes
/// once decoded; a RAW message is held to AWS's 4096 too by the key-type rules.
const MAX_MESSAGE_BASE64_CHARS: usize = 8192;

fn base64_field(body: &Body, name: &'static str) -> Result<Vec<u8>, KmsError> {
    let text = body.required_str(name, KmsError::InvalidParameter)?;
    if text.len() > MAX_MESSAGE_BASE64_CHARS {
        return Err(KmsError::InvalidParameter(format!(
            "{name} must be at most {MAX_MESSAGE_BASE64_CHARS} Base64 characters."
        )));
    }
    let bytes = BASE64
        .decode(text)
        .map_err(|_| KmsError::InvalidParameter(format!("{name} must be Base64.")))?;
    if bytes.is_empty() {
        return Err(KmsError::MissingParameter(name));
    }
    Ok(bytes)
}

/// `(key_id, algorithm, message type, message)` of a sign or verify request.
pub(super) fn signing_request(
    body: &Body,
) -> Result<(KeyId, SigningAlgorithm, MessageType, Vec<u8>), KmsError> {
    let key_id = key_id_field(body)?;
    let algorithm = SigningAlgorithm::parse(
        Cloud::Huawei,
        body.required_str("signing_algorithm", KmsError::InvalidParameter)?,
    )
    .map_err(KmsError::KeyType)?;
    let message_type = body
        .optional_str("message_type", KmsError::InvalidParameter)?
        .map(|name| MessageType::parse(Cloud::Huawei, name))
        .transpose()
        .map_err(KmsError::KeyType)?
        .unwrap_or_else(|| MessageType::default_for(Cloud::Huawei));
    let message = base64_field(body, "message")?;
    Ok((key_id, algorithm, message_type, message))
}

pub(super) async fn sign(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key_id, algorithm, message_type, message) = signing_request(body)?;
    let (key, signature) = state
        .kms
        .sign(
            caller,
            &key_field(body, caller)?,
            algorithm,
            message_type,
            &message,
            Cloud::Huawei,
        )
        .await?;
    debug_assert_eq!(key.key_id, key_id);
    ok(json!({"key_id": key.key_id.as_str(), "signature": BASE64.encode(signature)}))
}

/// verify answers 200 either way; `signature_valid` is the string "true" or "false",
/// as the SDK's ValidateSignatureResponse types it.
pub(super) async fn verify(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (_, algorithm, message_type, message) = signing_request(body)?;
    let signature = base64_field(body, "signature")?;
    let (key, valid) = state
        .kms
        .verify(
            caller,
            &key_field(body, caller)?,
            algorithm,
            message_type,
            &message,
            &signature,
            Cloud::Huawei,
        )
        .await?;
    ok(json!({"key_id": key.key_id.as_str(), "signature_valid": valid.to_string()}))
}

/// The public key as PEM (SubjectPublicKeyInfo, 64-character lines ending in CRLF), as
/// the example response of Huawei's ShowPublicKey shows it.
pub(super) async fn get_public_key(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key, der) = state
        .kms
        .public_key(caller, &key_field(body, caller)?)
        .await?;
    ok(json!({"key_id": key.key_id.as_str(), "public_key": pem("PUBLIC KEY", &der)}))
}

pub fn pem(label: &str, der: &[u8]) -> String {
    let encoded = BASE64.encode(der);
    let mut text = format!("-----BEGIN {label}-----\r\n");
    for line in encoded.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("Base64 is ASCII"));
        text.push_str("\r\n");
    }
    text.push_str(&format!("-----END {label}-----"));
    text
}

/// `(key_id, algorithm, message)` of a generate-mac or verify-mac request.
pub(super) fn mac_request(body: &Body) -> Result<(KeyId, MacAlgorithm, Vec<u8>), KmsError> {
    let key_id = key_id_field(body)?;
    let algorithm = MacAlgorithm::parse(
        Cloud::Huawei,
        body.required_str("mac_algorithm", KmsError::InvalidParameter)?,
    )
    .map_err(KmsError::KeyType)?;
    let message = base64_field(body, "message")?;
    Ok((key_id, algorithm, message))
}

pub(super) async fn generate_mac(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (_, algorithm, message) = mac_request(body)?;
    let (key, mac) = state
        .kms
        .generate_mac(
            caller,
            &key_field(body, caller)?,
            algorithm,
            &message,
            Cloud::Huawei,
        )
        .await?;
    ok(
        json!({"key_id": key.key_id.as_str(), "mac_algorithm": algorithm.name(), "mac": BASE64.encode(mac)}),
    )
}

/// verify-mac answers 200 either way, with the boolean `mac_valid`.
pub(super) async fn verify_mac(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (_, algorithm, message) = mac_request(body)?;
    let mac = base64_field(body, "mac")?;
    let (key, valid) = state
        .kms
        .verify_mac(
            caller,
            &key_field(body, caller)?,
            algorithm,
            &message,
            &mac,
            Cloud::Huawei,
        )
        .await?;
    ok(
        json!({"key_id": key.key_id.as_str(), "mac_algorithm": algorithm.name(), "mac_valid": valid}),
    )
}

/// `(key_id, algorithm, peer public key DER)` of a derive-shared-secret request:
/// `public_key` is Base64 DER SubjectPublicKeyInfo (the SDK: "DER-encoded X.509").
pub(super) fn derive_request(
    body: &Body,
) -> Result<(KeyId, KeyAgreementAlgorithm, Vec<u8>), KmsError> {
    let key_id = key_id_field(body)?;
    let algorithm = KeyAgreementAlgorithm::parse(
        Cloud::Huawei,
        body.required_str("key_agreement_algorithm", KmsError::InvalidParameter)?,
    )
    .map_err(KmsError::KeyType)?;
    let public_key = base64_field(body, "public_key")?;
    if body.given("recipient").is_some() {
        return Err(KmsError::InvalidParameter(
            "recipient (attestation) is not supported by this emulator.".into(),
        ));
    }
    Ok((key_id, algorithm, public_key))
}

/// derive-shared-secret: ECDH with a KEY_AGREEMENT key; `shared_secret` is Base64.
pub(super) async fn derive_shared_secret(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key_id, algorithm, public_key) = derive_request(body)?;
    let (key, secret) = state
        .kms
        .derive_shared_secret(
            caller,
            &crate::domain::KeyRef::in_project(key_id, &caller.region),
            algorithm,
            &public_key,
            false,
            Cloud::Huawei,
        )
        .await?;
    ok(json!({
        "key_id": key.key_id.as_str(),
        "key_agreement_algorithm": algorithm.name(),
        "shared_secret": BASE64.encode(secret),
    }))
}
