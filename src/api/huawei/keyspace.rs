//! Huawei trusted key spaces: key policies (`key-policies`, `key-policies/{policy_id}`) and
//! data-key capsules (`datakey-capsule/create`, `datakey-capsule/decrypt`). Field names as
//! huaweicloudsdkkms 3.1.219's CreateKeyPolicyRequestBody/Response, ListKeyPolicyResponse
//! (`page_info`, `keyspace_policies`), ShowKeyPolicyResponse (the policy's fields at the top
//! level), UpdateKeyPolicyRequestBody/Response, CreateDatakeyCapsuleRequestBody/Response and
//! DecryptDatakeyCapsuleRequestBody/Response. Status codes as Huawei's API pages: 201 for
//! create, 200 for the rest; delete answers 204 with no body, as the tag deletion does
//! (Huawei's DeleteKeyPolicy page documents none).
//!
//! Formats where Huawei is silent: `create_time`, `last_modify_time` and
//! `last_access_time` are RFC 3339 times like the alias entities' (`""` for a policy no
//! capsule has used); `datakey` is upper-case hex like create-datakey's `plain_text`;
//! `datakey_capsule` and `datakey_cipher` are base64; `public_key` is a base64 DER
//! SubjectPublicKeyInfo (a PEM block is taken too). With `public_key`, the answer holds
//! `datakey_cipher` (RSAES_OAEP_SHA_256) and never the plain `datakey`.

use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::body::Body;
use super::{AppState, key_field_in, ok};
use crate::domain::ids::excerpt;
use crate::domain::keyspace::{
    self, CapsuleBinding, KeyspacePolicy, PolicyDocument, check_description, check_policy_name,
    is_uuid,
};
use crate::domain::{Caller, KeyRef, KmsError};
use crate::service::{Attestation, DataKeyOut};

/// ListKeyPolicy: `limit` 1–100, 50 by default (Huawei's documented range).
const PAGE_MAX: i64 = 100;
const PAGE_DEFAULT: i64 = 50;

fn invalid(message: String) -> KmsError {
    KmsError::InvalidKeyspacePolicy(message)
}

fn iso(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The stored document as the API answers it.
fn document_value(policy: &KeyspacePolicy) -> Value {
    PolicyDocument::parse(&policy.policy)
        .map(|d| d.to_value())
        .unwrap_or(Value::Null)
}

fn entity(policy: &KeyspacePolicy) -> Value {
    json!({
        "policy_id": policy.policy_id,
        "policy_name": policy.policy_name,
        "keyspace_id": policy.keyspace_id,
        "policy": document_value(policy),
        "description": policy.description,
        "created_by": policy.created_by,
        "create_time": iso(policy.create_time),
        "last_modify_time": iso(policy.last_modify_time),
        "last_access_time": policy.last_access_time.map(iso).unwrap_or_default(),
    })
}

fn keyspace_id(text: &str) -> Result<&str, KmsError> {
    if is_uuid(text) {
        Ok(text)
    } else {
        Err(invalid(format!(
            "keyspace_id '{}' is not a UUID.",
            excerpt(text)
        )))
    }
}

/// A policy ID of the path: a UUID, else the policy cannot exist (404).
pub(super) fn policy_id(text: &str) -> Result<String, KmsError> {
    if is_uuid(text) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(KmsError::KeyspacePolicyNotFound(excerpt(text)))
    }
}

fn document(body: &Body, required: bool) -> Result<Option<PolicyDocument>, KmsError> {
    let text = if required {
        Some(body.required_str("policy", invalid)?)
    } else {
        body.optional_str("policy", invalid)?
    };
    text.map(|t| PolicyDocument::parse(t).map_err(invalid))
        .transpose()
}

fn description(body: &Body) -> Result<Option<&str>, KmsError> {
    let text = body.optional_str("description", invalid)?;
    if let Some(t) = text {
        check_description(t).map_err(invalid)?;
    }
    Ok(text)
}

/// The pure half of create: `(keyspace_id, policy_name, document, description)`.
pub(super) fn create_request(
    body: &Body,
) -> Result<(String, String, PolicyDocument, String), KmsError> {
    let space = keyspace_id(body.required_str("keyspace_id", invalid)?)?.to_owned();
    let name = body.required_str("policy_name", invalid)?;
    check_policy_name(name).map_err(invalid)?;
    let doc = document(body, true)?.expect("required");
    let description = description(body)?.unwrap_or_default().to_owned();
    Ok((space, name.to_owned(), doc, description))
}

/// POST key-policies: 201 `{policy_id}`.
pub(super) async fn create_policy(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (space, name, doc, description) = create_request(body)?;
    let policy = state
        .kms
        .create_keyspace_policy(caller, &space, &name, &doc, &description)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "policy_id": policy.policy_id })),
    )
        .into_response())
}

/// GET key-policies?keyspace_id=&limit=&marker=: a page of the key space's policies by
/// policy ID; `next_marker` is the last ID of the page ("" on the last page).
pub(super) async fn list_policies(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
) -> Result<Response, KmsError> {
    let query: std::collections::HashMap<String, String> = axum::extract::Query::try_from_uri(uri)
        .map(|q: axum::extract::Query<_>| q.0)
        .map_err(|_| KmsError::InvalidParameter("the query string is malformed.".into()))?;
    let space = keyspace_id(
        query
            .get("keyspace_id")
            .filter(|v| !v.is_empty())
            .ok_or(KmsError::MissingParameter("keyspace_id"))?,
    )?;
    let limit = super::query_limit(&query, PAGE_DEFAULT, PAGE_MAX)?;
    let after = match query.get("marker").filter(|v| !v.is_empty()) {
        None => None,
        Some(m) if is_uuid(m) => Some(m.to_ascii_lowercase()),
        Some(m) => {
            return Err(KmsError::InvalidMarker(format!(
                "{} is not a policy ID.",
                excerpt(m)
            )));
        }
    };
    let (policies, next) = state
        .kms
        .list_keyspace_policies(caller, space, after.as_deref(), limit as u32)
        .await?;
    ok(json!({
        "page_info": {
            "next_marker": next.unwrap_or_default(),
            "current_count": policies.len(),
        },
        "keyspace_policies": policies.iter().map(entity).collect::<Vec<_>>(),
    }))
}

/// GET key-policies/{policy_id}.
pub(super) async fn show_policy(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Response, KmsError> {
    let id = policy_id(id)?;
    let policy = state.kms.show_keyspace_policy(caller, &id).await?;
    ok(entity(&policy))
}

/// The pure half of update: the new document and description (at least one).
pub(super) fn update_request(
    body: &Body,
) -> Result<(Option<PolicyDocument>, Option<String>), KmsError> {
    let doc = document(body, false)?;
    let description = description(body)?.map(str::to_owned);
    if doc.is_none() && description.is_none() {
        return Err(KmsError::MissingParameter("policy"));
    }
    Ok((doc, description))
}

/// PUT key-policies/{policy_id}: `{policy_id, policy, description, last_modify_time}`.
pub(super) async fn update_policy(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: &Body,
) -> Result<Response, KmsError> {
    let id = policy_id(id)?;
    let (doc, description) = update_request(body)?;
    let policy = state
        .kms
        .update_keyspace_policy(caller, &id, doc.as_ref(), description.as_deref())
        .await?;
    ok(json!({
        "policy_id": policy.policy_id,
        "policy": document_value(&policy),
        "description": policy.description,
        "last_modify_time": iso(policy.last_modify_time),
    }))
}

/// DELETE key-policies/{policy_id}: 204.
pub(super) async fn delete_policy(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Response, KmsError> {
    let id = policy_id(id)?;
    state.kms.delete_keyspace_policy(caller, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `public_key`: base64 DER SubjectPublicKeyInfo, or a PEM block of one.
fn public_key(body: &Body) -> Result<Option<Vec<u8>>, KmsError> {
    let Some(text) = body.optional_str("public_key", KmsError::InvalidParameter)? else {
        return Ok(None);
    };
    let base64: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    BASE64
        .decode(base64)
        .map(Some)
        .map_err(|_| KmsError::InvalidParameter("public_key is not base64.".into()))
}

fn datakey_fields(datakey: &DataKeyOut) -> (&'static str, String) {
    match datakey {
        DataKeyOut::Plain(bytes) => ("datakey", crate::hex::upper(bytes)),
        DataKeyOut::Cipher(bytes) => ("datakey_cipher", BASE64.encode(bytes)),
    }
}

/// A create-capsule request: the key, the data key's length in bytes, the client's public
/// key, the policy binding.
type CapsuleRequest = (KeyRef, usize, Option<Vec<u8>>, CapsuleBinding);

/// A decrypt-capsule request: the key, the capsule, the client's public key, the attestation.
type OpenCapsuleRequest = (KeyRef, Vec<u8>, Option<Vec<u8>>, Attestation);

/// The pure half of create-capsule: key, data key bytes, public key, binding.
pub(super) fn capsule_request(body: &Body, region: &str) -> Result<CapsuleRequest, KmsError> {
    let key = key_field_in(body, region)?;
    let bits = body
        .optional_integer("datakey_length", KmsError::DatakeyLengthOutOfRange)?
        .ok_or(KmsError::MissingParameter("datakey_length"))?;
    if bits != 128 && bits != 256 {
        return Err(KmsError::DatakeyLengthOutOfRange(format!(
            "datakey_length is 128 or 256, not {bits}."
        )));
    }
    let public_key = public_key(body)?;
    let binding = match (
        body.optional_str("policy_id", KmsError::InvalidParameter)?,
        body.optional_str("key_policy", invalid)?,
    ) {
        (Some(id), None) => CapsuleBinding::PolicyId(policy_id(id)?),
        (None, Some(text)) => {
            CapsuleBinding::Inline(PolicyDocument::parse(text).map_err(invalid)?.to_text())
        }
        (None, None) => return Err(KmsError::MissingParameter("policy_id")),
        (Some(_), Some(_)) => {
            return Err(KmsError::InvalidParameter(
                "give policy_id or key_policy, not both.".into(),
            ));
        }
    };
    Ok((key, (bits / 8) as usize, public_key, binding))
}

/// POST datakey-capsule/create.
pub(super) async fn create_capsule(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key, length, public_key, binding) = capsule_request(body, &caller.region)?;
    let made = state
        .kms
        .create_datakey_capsule(caller, &key, length, public_key.as_deref(), binding)
        .await?;
    let (field, value) = datakey_fields(&made.datakey);
    let mut answer = json!({
        "key_id": made.key.key_id.as_str(),
        "datakey_capsule": BASE64.encode(&made.capsule),
    });
    answer[field] = json!(value);
    ok(answer)
}

/// The pure half of decrypt-capsule.
pub(super) fn decrypt_request(body: &Body, region: &str) -> Result<OpenCapsuleRequest, KmsError> {
    let key = key_field_in(body, region)?;
    let capsule = BASE64
        .decode(body.required_str("datakey_capsule", KmsError::InvalidCipherText)?)
        .map_err(|_| KmsError::InvalidCipherText("datakey_capsule is not base64.".into()))?;
    let public_key = public_key(body)?;
    let Some(Value::Object(document)) = body.given("attestation_document") else {
        return Err(KmsError::MissingParameter("attestation_document"));
    };
    let field = |name: &str| match document.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(KmsError::InvalidParameter(format!(
            "attestation_document.{name} is a string."
        ))),
    };
    let service_token = field("service_token")?
        .ok_or(KmsError::MissingParameter(
            "attestation_document.service_token",
        ))?
        .to_owned();
    let expires_ms = field("expire_time")?
        .map(|t| {
            keyspace::parse_time(&Value::String(t.to_owned()), "expire_time").map_err(|_| {
                KmsError::InvalidParameter(
                    "attestation_document.expire_time is milliseconds since the epoch or an RFC 3339 time."
                        .into(),
                )
            })
        })
        .transpose()?
        .map(|t| t.ms);
    // ecs_signature, custom_signature and custom_public_key are read as strings and not
    // verified: the emulator has no ECS/CCE attestation service (README).
    for name in ["ecs_signature", "custom_signature", "custom_public_key"] {
        field(name)?;
    }
    Ok((
        key,
        capsule,
        public_key,
        Attestation {
            service_token,
            expires_ms,
        },
    ))
}

/// POST datakey-capsule/decrypt.
pub(super) async fn decrypt_capsule(
    state: &AppState,
    caller: &Caller,
    body: &Body,
) -> Result<Response, KmsError> {
    let (key, capsule, public_key, attestation) = decrypt_request(body, &caller.region)?;
    let opened = state
        .kms
        .decrypt_datakey_capsule(caller, &key, &capsule, public_key.as_deref(), &attestation)
        .await?;
    let (field, value) = datakey_fields(&opened.datakey);
    let mut answer = json!({
        "key_id": opened.key.key_id.as_str(),
        "instance_id": opened.instance_id,
    });
    answer[field] = json!(value);
    ok(answer)
}
