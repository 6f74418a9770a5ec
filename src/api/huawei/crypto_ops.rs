//! The data operations in the Huawei/OTC wire format: Base64 for encrypt-data and
//! decrypt-data, upper-case hex for data keys and random bytes (as in the docs).

use std::sync::LazyLock;

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use regex::Regex;
use serde_json::{Value, json};

use super::body::Body;
use super::{key_id_field, ok};
use crate::api::AppState;
use crate::crypto;
use crate::domain::authz::Action;
use crate::domain::key_spec::{Cloud, DataKeyPairFamily, EncryptionAlgorithm, KeySpec};
use crate::domain::{Caller, KeyId, KeyRef, KmsError};
use crate::hex;

static CIPHER_TEXT_BASE64: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9a-zA-Z+/=]{128,5648}$").unwrap());

const MAX_PLAIN_TEXT_BYTES: usize = 4096;
const MAX_AAD_BYTES: usize = 128;
const MAX_CONTEXT_CHARS: usize = 8192;
/// Largest data key, in bytes, for encrypt-datakey and decrypt-datakey (Huawei: 1–1024).
const MAX_DEK_BYTES: i64 = 1024;
const DEK_DIGEST_BYTES: usize = 32;

/// The caller's additional data: Huawei's `additional_authenticated_data` (a string)
/// and OTC's `encryption_context` (an object, compared in canonical key order).
/// Both are accepted; whatever was given at encryption must be given at decryption.
fn context_bytes(body: &Body) -> Result<Vec<u8>, KmsError> {
    context_bytes_of(body, "additional_authenticated_data", "encryption_context")
}

/// As `context_bytes`, from the fields named `aad_field` and `context_field` (re-encrypt
/// has a source and a destination pair).
pub(super) fn context_bytes_of(
    body: &Body,
    aad_field: &str,
    context_field: &str,
) -> Result<Vec<u8>, KmsError> {
    let mut context = Vec::new();
    if let Some(aad) = body.optional_str(aad_field, KmsError::InvalidEncryptionContext)? {
        if aad.len() > MAX_AAD_BYTES {
            return Err(KmsError::InvalidEncryptionContext(format!(
                "{aad_field} must be at most {MAX_AAD_BYTES} bytes."
            )));
        }
        context.extend_from_slice(b"aad:");
        context.extend_from_slice(aad.as_bytes());
    }
    match body.given(context_field) {
        None => {}
        Some(Value::Object(map)) => {
            let canonical = serde_json::to_string(map).map_err(|_| KmsError::Internal)?;
            if canonical.chars().count() > MAX_CONTEXT_CHARS {
                return Err(KmsError::InvalidEncryptionContext(format!(
                    "{context_field} must be at most {MAX_CONTEXT_CHARS} characters."
                )));
            }
            context.extend_from_slice(b"\0ctx:");
            context.extend_from_slice(canonical.as_bytes());
        }
        Some(_) => {
            return Err(KmsError::InvalidEncryptionContext(format!(
                "{context_field} must be a JSON object."
            )));
        }
    }
    Ok(context)
}

/// `encryption_algorithm`, SYMMETRIC_DEFAULT when absent (encrypt-data, decrypt-data).
fn encryption_algorithm(body: &Body) -> Result<EncryptionAlgorithm, KmsError> {
    encryption_algorithm_of(body, "encryption_algorithm")
}

/// An encryption algorithm field, SYMMETRIC_DEFAULT when absent (re-encrypt has
/// `source_encryption_algorithm` and `destination_encryption_algorithm`).
pub(super) fn encryption_algorithm_of(
    body: &Body,
    field: &str,
) -> Result<EncryptionAlgorithm, KmsError> {
    match body.optional_str(field, KmsError::InvalidParameter)? {
        None => Ok(EncryptionAlgorithm::default_for_request()),
        Some(name) => EncryptionAlgorithm::parse(Cloud::Huawei, name).map_err(KmsError::KeyType),
    }
}

/// An encrypt-data request: the key, `plain_text`, the additional data and the algorithm.
pub(super) struct EncryptDataRequest<'a> {
    pub key_id: KeyId,
    pub plain_text: &'a str,
    pub context: Vec<u8>,
    pub algorithm: EncryptionAlgorithm,
}

pub(super) fn encrypt_data_request(body: &Body) -> Result<EncryptDataRequest<'_>, KmsError> {
    let key_id = key_id_field(body)?;
    let plain_text = body.required_str("plain_text", KmsError::InvalidPlainText)?;
    if plain_text.len() > MAX_PLAIN_TEXT_BYTES {
        return Err(KmsError::InvalidPlainText(format!(
            "plain_text must be 1 to {MAX_PLAIN_TEXT_BYTES} bytes."
        )));
    }
    let context = context_bytes(body)?;
    let algorithm = encryption_algorithm(body)?;
    Ok(EncryptDataRequest {
        key_id,
        plain_text,
        context,
        algorithm,
    })
}

pub(super) async fn encrypt_data(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let request = encrypt_data_request(body)?;
    let (_, ciphertext) = state
        .kms
        .encrypt_data(
            caller,
            &KeyRef::in_project(request.key_id.clone(), &caller.region),
            request.algorithm,
            request.plain_text.as_bytes(),
            &request.context,
            false,
            Cloud::Huawei,
        )
        .await?;
    ok(json!({"key_id": request.key_id.as_str(), "cipher_text": BASE64.encode(ciphertext)}))
}

/// The frame of a Base64 `cipher_text` (decrypt-data, re-encrypt).
pub(super) fn cipher_text_frame(body: &Body) -> Result<Vec<u8>, KmsError> {
    let cipher_text = body.required_str("cipher_text", KmsError::InvalidCipherText)?;
    if !CIPHER_TEXT_BASE64.is_match(cipher_text) {
        return Err(KmsError::InvalidCipherText(
            "cipher_text must be 128 to 5648 Base64 characters.".into(),
        ));
    }
    BASE64
        .decode(cipher_text)
        .map_err(|_| KmsError::InvalidCipherText("cipher_text is not valid Base64.".into()))
}

/// A decrypt-data request: the ciphertext, the additional data, the algorithm and the
/// key (`key_id`: Huawei needs it only for ciphertext made with an asymmetric key).
pub(super) struct DecryptDataRequest {
    pub ciphertext: Vec<u8>,
    pub context: Vec<u8>,
    pub algorithm: EncryptionAlgorithm,
    pub key_id: Option<KeyId>,
}

pub(super) fn decrypt_data_request(body: &Body) -> Result<DecryptDataRequest, KmsError> {
    let ciphertext = cipher_text_frame(body)?;
    let context = context_bytes(body)?;
    let algorithm = encryption_algorithm(body)?;
    let key_id = match body.optional_str("key_id", KmsError::InvalidKeyId)? {
        Some(id) if algorithm != EncryptionAlgorithm::SymmetricDefault => Some(KeyId::parse(id)?),
        _ => None,
    };
    Ok(DecryptDataRequest {
        ciphertext,
        context,
        algorithm,
        key_id,
    })
}

pub(super) async fn decrypt_data(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let request = decrypt_data_request(body)?;
    let key_ref = request
        .key_id
        .map(|id| KeyRef::in_project(id, &caller.region));
    let (key, plaintext) = state
        .kms
        .decrypt_data(
            caller,
            key_ref.as_ref(),
            request.algorithm,
            &request.ciphertext,
            &request.context,
            false,
            Cloud::Huawei,
        )
        .await?;
    ok(json!({
        "key_id": key.key_id.as_str(),
        "plain_text": String::from_utf8_lossy(&plaintext),
        "plain_text_base64": BASE64.encode(&plaintext),
    }))
}

/// A create-rsa-datakey-pair / create-ec-datakey-pair request: the symmetric key, the
/// pair's spec (AWS's names, each operation its own family), `with_plain_text` (true by
/// default) and the additional data.
pub(super) struct DatakeyPairRequest {
    pub key_id: KeyId,
    pub spec: KeySpec,
    pub with_plain_text: bool,
    pub context: Vec<u8>,
}

pub(super) fn datakey_pair_request(
    body: &Body,
    family: DataKeyPairFamily,
) -> Result<DatakeyPairRequest, KmsError> {
    let key_id = key_id_field(body)?;
    let spec_name = body.required_str("key_spec", KmsError::InvalidParameter)?;
    let spec = KeySpec::parse_data_key_pair(spec_name, family).map_err(KmsError::KeyType)?;
    let with_plain_text = match body.given("with_plain_text") {
        None => true,
        Some(Value::Bool(value)) => *value,
        Some(Value::String(text)) if text == "true" => true,
        Some(Value::String(text)) if text == "false" => false,
        Some(_) => {
            return Err(KmsError::InvalidParameter(
                "with_plain_text must be true or false.".into(),
            ));
        }
    };
    let context = context_bytes(body)?;
    Ok(DatakeyPairRequest {
        key_id,
        spec,
        with_plain_text,
        context,
    })
}

/// create-rsa-datakey-pair and create-ec-datakey-pair. `public_key` is Base64 DER
/// SubjectPublicKeyInfo, `private_key_plain_text` Base64 PKCS#8 DER, and
/// `private_key_cipher_text` a Base64 ciphertext (as encrypt-data's `cipher_text`) that
/// decrypt-data opens, with the same additional data, to that PKCS#8.
pub(super) async fn create_datakey_pair(
    state: &AppState,
    caller: &Caller,
    body: &Body,
    family: DataKeyPairFamily,
) -> Result<Response, KmsError> {
    let request = datakey_pair_request(body, family)?;
    let action = if request.with_plain_text {
        Action::GenerateDataKeyPair
    } else {
        Action::GenerateDataKeyPairWithoutPlaintext
    };
    let (_, sealed) = state
        .kms
        .generate_data_key_pair(
            caller,
            &KeyRef::in_project(request.key_id.clone(), &caller.region),
            action,
            request.spec,
            &request.context,
            false,
        )
        .await?;
    let mut answer = json!({
        "key_id": request.key_id.as_str(),
        "key_spec": request.spec.name(Cloud::Aws),
        "public_key": BASE64.encode(&sealed.pair.public_key_der),
        "private_key_cipher_text": BASE64.encode(&sealed.private_key_ciphertext),
    });
    if request.with_plain_text {
        answer["private_key_plain_text"] = json!(BASE64.encode(&sealed.pair.private_key_der));
    }
    ok(answer)
}

/// The data key length in bytes: `datakey_length` (bits) wins over `key_spec`; 256 bits by
/// default, whatever the key's spec (Huawei's CreateDatakey: both empty is a 256-bit key).
/// `key_spec` names the data key's kind: AES_256, AES_128, SM4 (128 bits), and the HMAC
/// kinds, as long as their hash (HMAC_SM3 256 bits).
fn datakey_bytes(body: &Body) -> Result<usize, KmsError> {
    let bits = match body.optional_integer("datakey_length", KmsError::DatakeyLengthOutOfRange)? {
        Some(bits) => bits,
        None => match body.optional_str("key_spec", |_| KmsError::InvalidDatakeySpec)? {
            None | Some("AES_256" | "HMAC_256" | "HMAC_SM3") => 256,
            Some("AES_128" | "SM4") => 128,
            Some("HMAC_384") => 384,
            Some("HMAC_512") => 512,
            Some(_) => return Err(KmsError::InvalidDatakeySpec),
        },
    };
    if !(8..=8192).contains(&bits) {
        return Err(KmsError::DatakeyLengthOutOfRange(format!(
            "datakey_length is {bits}."
        )));
    }
    if bits % 8 != 0 {
        return Err(KmsError::DatakeyLengthNotByteAligned);
    }
    Ok((bits / 8) as usize)
}

/// `(key_id, data key bytes, context)` of a create-datakey(-without-plaintext) request.
pub(super) fn create_datakey_request(body: &Body) -> Result<(KeyId, usize, Vec<u8>), KmsError> {
    let key_id = key_id_field(body)?;
    let length = datakey_bytes(body)?;
    let context = context_bytes(body)?;
    Ok((key_id, length, context))
}

pub(super) async fn create_datakey(
    state: &AppState,
    caller: &Caller,
    body: &Body,
    with_plaintext: bool,
) -> Result<Response, KmsError> {
    let (key_id, length, context) = create_datakey_request(body)?;
    let action = if with_plaintext {
        Action::GenerateDataKey
    } else {
        Action::GenerateDataKeyWithoutPlaintext
    };
    let data_key = crypto::random_bytes(length);
    let (_, frame) = state
        .kms
        .encrypt(
            caller,
            &KeyRef::in_project(key_id.clone(), &caller.region),
            action,
            &data_key,
            &context,
            false,
        )
        .await?;
    if with_plaintext {
        ok(
            json!({"key_id": key_id.as_str(), "plain_text": hex::upper(&data_key), "cipher_text": hex::upper(&frame)}),
        )
    } else {
        ok(json!({"key_id": key_id.as_str(), "cipher_text": hex::upper(&frame)}))
    }
}

fn dek_length(body: &Body, name: &'static str) -> Result<usize, KmsError> {
    let length = body
        .optional_integer(name, KmsError::InvalidDekLength)?
        .ok_or(KmsError::MissingParameter(name))?;
    if !(1..=MAX_DEK_BYTES).contains(&length) {
        return Err(KmsError::InvalidDekLength(format!(
            "{name} must be 1 to {MAX_DEK_BYTES} bytes, not {length}."
        )));
    }
    Ok(length as usize)
}

/// An encrypt-datakey request: the key, the data key, the digest that follows it in
/// `plain_text` (checked by the service against the key spec's digest) and the context.
pub(super) struct EncryptDatakeyRequest {
    pub key_id: KeyId,
    pub data_key: Vec<u8>,
    pub digest: Vec<u8>,
    pub context: Vec<u8>,
}

pub(super) fn encrypt_datakey_request(body: &Body) -> Result<EncryptDatakeyRequest, KmsError> {
    let key_id = key_id_field(body)?;
    let plain_text = body.required_str("plain_text", KmsError::InvalidPlainText)?;
    let length = dek_length(body, "datakey_plain_length")?;
    let bytes = hex::decode(plain_text).ok_or_else(|| {
        KmsError::InvalidPlainText(
            "plain_text must be hexadecimal: the data key then its SHA-256 (SM3 for an SM4 key)."
                .into(),
        )
    })?;
    if bytes.len() != length + DEK_DIGEST_BYTES {
        return Err(KmsError::DekPlainLengthMismatch(format!(
            "plain_text holds {} bytes; expected datakey_plain_length ({length}) + 32 bytes of digest.",
            bytes.len()
        )));
    }
    let (data_key, digest) = bytes.split_at(length);
    let context = context_bytes(body)?;
    Ok(EncryptDatakeyRequest {
        key_id,
        data_key: data_key.to_vec(),
        digest: digest.to_vec(),
        context,
    })
}

pub(super) async fn encrypt_datakey(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let request = encrypt_datakey_request(body)?;
    let (_, frame) = state
        .kms
        .encrypt_datakey(
            caller,
            &KeyRef::in_project(request.key_id.clone(), &caller.region),
            &request.data_key,
            &request.digest,
            &request.context,
        )
        .await?;
    ok(json!({
        "key_id": request.key_id.as_str(),
        "cipher_text": hex::upper(&frame),
        "datakey_length": request.data_key.len().to_string(),
    }))
}

/// `(key_id, frame, expected data key length, context)` of a decrypt-datakey request.
pub(super) fn decrypt_datakey_request(
    body: &Body,
) -> Result<(KeyId, Vec<u8>, usize, Vec<u8>), KmsError> {
    let key_id = key_id_field(body)?;
    let cipher_text = body.required_str("cipher_text", KmsError::InvalidCipherText)?;
    let length = dek_length(body, "datakey_cipher_length")?;
    let frame = hex::decode(cipher_text).ok_or_else(|| {
        KmsError::InvalidCipherText(
            "cipher_text must be the hexadecimal ciphertext of a data key.".into(),
        )
    })?;
    let context = context_bytes(body)?;
    Ok((key_id, frame, length, context))
}

pub(super) async fn decrypt_datakey(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key_id, frame, length, context) = decrypt_datakey_request(body)?;
    let (data_key, digest) = state
        .kms
        .decrypt_datakey(
            caller,
            &KeyRef::in_project(key_id, &caller.region),
            &frame,
            &context,
        )
        .await?;
    if data_key.len() != length {
        return Err(KmsError::DekCipherLengthMismatch(format!(
            "the data key is {} bytes, not datakey_cipher_length ({length}).",
            data_key.len()
        )));
    }
    ok(json!({
        "data_key": hex::upper(&data_key),
        "datakey_length": length.to_string(),
        "datakey_dgst": hex::upper(&digest),
    }))
}

/// The number of random bytes a gen-random request asks for.
pub(super) fn gen_random_request(body: &Body) -> Result<usize, KmsError> {
    let bits = body
        .optional_integer("random_data_length", KmsError::RandomLengthOutOfRange)?
        .ok_or(KmsError::MissingParameter("random_data_length"))?;
    if !(8..=8192).contains(&bits) {
        return Err(KmsError::RandomLengthOutOfRange(format!(
            "random_data_length is {bits}."
        )));
    }
    if bits % 8 != 0 {
        return Err(KmsError::RandomLengthNotByteAligned);
    }
    Ok((bits / 8) as usize)
}

pub(super) async fn gen_random(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let length = gen_random_request(body)?;
    let random = state.kms.generate_random(caller, length).await?;
    ok(json!({"random_data": hex::upper(&random)}))
}
