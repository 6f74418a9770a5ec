//! The AWS KMS JSON 1.1 dialect: `POST /` with `X-Amz-Target: TrentService.<Op>`,
//! signed with SigV4, over the same service and store as the Huawei dialect.
//!
//! This module only translates: wire fields in, `service::Kms` calls, AWS shapes and
//! error types out. Where AWS's rules differ from Huawei's (who may revoke or retire,
//! constraints, Name idempotency, DryRun) the AWS use cases live in `service` and the
//! rules in `domain::authz`.
//!
//! Who an AWS caller is: the user owning the SigV4 access key, acting in that user's
//! first project. An AWS account is a Huawei domain, so the account's keys in this
//! region are the keys of that project.

pub mod body;
pub mod error;
pub mod wire;

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use time::OffsetDateTime;

use self::body::{Body, constraint_failed, missing};
use self::error::{AwsError, Context, from_kms};
use super::{AppState, RequestId};
use crate::auth::identities::User;
use crate::auth::sigv4;
use crate::crypto;
use crate::domain::ids::excerpt;
use crate::domain::{
    Caller, ContextConstraint, GrantId, GrantOperation, GranteeType, Key, KeyId, KmsError,
    StateChange,
};
use crate::service::{CreateGrant, CreateKey};
use crate::store::GrantFilter;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "TrentService.";

/// AWS: ListGrants and ListRetirableGrants take 1–100 (default 50); ListKeys 1–1000 (default 100).
const GRANT_PAGE_MAX: i64 = 100;
const GRANT_PAGE_DEFAULT: i64 = 50;
const KEY_PAGE_MAX: i64 = 1000;
const KEY_PAGE_DEFAULT: i64 = 100;
/// AWS: Encrypt takes up to 4096 bytes; GenerateDataKey's NumberOfBytes is 1–1024.
const MAX_PLAINTEXT_BYTES: usize = 4096;
const MAX_DATA_KEY_BYTES: i64 = 1024;
/// AWS: a CiphertextBlob is 1–6144 bytes.
const MAX_CIPHERTEXT_BYTES: usize = 6144;
/// AWS: at most 10 grant tokens of 1–8192 characters; constraints of at most 8 pairs,
/// values of at most 384 characters.
const MAX_GRANT_TOKENS: usize = 10;
const MAX_CONSTRAINT_PAIRS: usize = 8;
const MAX_CONSTRAINT_VALUE_CHARS: usize = 384;
/// AWS: PendingWindowInDays is 7–30, default 30.
const MIN_PENDING_WINDOW: i64 = 7;
const MAX_PENDING_WINDOW: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    CreateKey,
    DescribeKey,
    ListKeys,
    EnableKey,
    DisableKey,
    ScheduleKeyDeletion,
    CancelKeyDeletion,
    CreateGrant,
    ListGrants,
    ListRetirableGrants,
    RevokeGrant,
    RetireGrant,
    Encrypt,
    Decrypt,
    GenerateDataKey,
    GenerateDataKeyWithoutPlaintext,
}

impl Operation {
    const ALL: [Operation; 16] = [
        Self::CreateKey,
        Self::DescribeKey,
        Self::ListKeys,
        Self::EnableKey,
        Self::DisableKey,
        Self::ScheduleKeyDeletion,
        Self::CancelKeyDeletion,
        Self::CreateGrant,
        Self::ListGrants,
        Self::ListRetirableGrants,
        Self::RevokeGrant,
        Self::RetireGrant,
        Self::Encrypt,
        Self::Decrypt,
        Self::GenerateDataKey,
        Self::GenerateDataKeyWithoutPlaintext,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::CreateKey => "CreateKey",
            Self::DescribeKey => "DescribeKey",
            Self::ListKeys => "ListKeys",
            Self::EnableKey => "EnableKey",
            Self::DisableKey => "DisableKey",
            Self::ScheduleKeyDeletion => "ScheduleKeyDeletion",
            Self::CancelKeyDeletion => "CancelKeyDeletion",
            Self::CreateGrant => "CreateGrant",
            Self::ListGrants => "ListGrants",
            Self::ListRetirableGrants => "ListRetirableGrants",
            Self::RevokeGrant => "RevokeGrant",
            Self::RetireGrant => "RetireGrant",
            Self::Encrypt => "Encrypt",
            Self::Decrypt => "Decrypt",
            Self::GenerateDataKey => "GenerateDataKey",
            Self::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
        }
    }

    fn from_target(target: &str) -> Option<Self> {
        let name = target.strip_prefix(TARGET_PREFIX)?;
        Self::ALL.into_iter().find(|op| op.name() == name)
    }
}

pub async fn dispatch(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut response = match handle(&state, &request_id, &method, &uri, &headers, body).await {
        Ok(value) => ok_response(value),
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id.0) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

fn ok_response(value: Option<Value>) -> Response {
    // RevokeGrant, RetireGrant, EnableKey and DisableKey answer 200 with an empty body.
    let text = value.map(|v| v.to_string()).unwrap_or_default();
    let mut response = (StatusCode::OK, text).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// One request's caller, in both the domain's terms and AWS's.
struct Request<'a> {
    state: &'a AppState,
    caller: Caller,
    caller_arn: String,
    operation: Operation,
    body: Body,
}

async fn handle(
    state: &AppState,
    request_id: &RequestId,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Option<Value>, AwsError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AwsError::validation(format!(
                "The request body exceeds {} bytes.",
                state.max_body_bytes
            ))
        } else {
            AwsError::serialization("The request body could not be read.")
        }
    })?;
    let parts = sigv4::RequestParts {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query(),
        headers,
        body: &bytes,
    };
    let user = sigv4::verify(&state.identities, &parts, OffsetDateTime::now_utc())?;
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let operation = Operation::from_target(target).ok_or_else(|| {
        AwsError::new(
            "UnknownOperationException",
            format!(
                "X-Amz-Target '{}' is not an operation of this service.",
                excerpt(target)
            ),
        )
    })?;
    let caller = caller_of(state, user, request_id)?;
    let request = Request {
        state,
        caller_arn: user.aws_arn.clone(),
        caller,
        operation,
        body: Body::parse(&bytes)?,
    };
    request.run().await
}

/// The caller an access key's user becomes: the user in its first project.
fn caller_of(state: &AppState, user: &User, request_id: &RequestId) -> Result<Caller, AwsError> {
    let project = user.projects.first().ok_or_else(|| {
        AwsError::new(
            "AccessDeniedException",
            format!(
                "User: {} belongs to no project, so it has no KMS keys to act on.",
                user.aws_arn
            ),
        )
    })?;
    let mut caller = state
        .identities
        .caller_for_project(user, None, project)
        .map_err(|e| AwsError::new("AccessDeniedException", e.to_string()))?;
    caller.request_id = request_id.0.clone();
    Ok(caller)
}

/// A key named by a request: its ID or ARN, as AWS accepts for these operations.
struct KeyRef {
    id: KeyId,
    /// The ARN shown in messages: the one given, or the caller's account's form.
    arn: String,
}

impl Request<'_> {
    fn region(&self) -> &str {
        &self.state.kms.settings().region
    }

    fn account(&self) -> String {
        wire::account_of(&self.state.identities, &self.caller.domain_id)
    }

    fn action(&self) -> String {
        format!("kms:{}", self.operation.name())
    }

    fn kms_error(&self, key_arn: Option<&str>, error: KmsError) -> AwsError {
        let action = self.action();
        from_kms(
            error,
            &Context {
                key_arn,
                caller_arn: &self.caller_arn,
                action: &action,
            },
        )
    }

    fn key_arn(&self, key: &Key) -> String {
        wire::key_arn(&self.state.identities, self.region(), key)
    }

    /// `KeyId` as a key ID or key ARN. AWS answers NotFoundException for a malformed
    /// ID and for an ARN of another region; aliases are not kept by this emulator.
    fn key_ref(&self, value: &str) -> Result<KeyRef, AwsError> {
        if value.starts_with("alias/") {
            return Err(AwsError::new(
                "NotFoundException",
                format!(
                    "Alias {} is not found (the AWS dialect of this emulator has no aliases; use a key ID or ARN).",
                    excerpt(value)
                ),
            ));
        }
        if let Some(rest) = value.strip_prefix("arn:aws:kms:") {
            let mut fields = rest.splitn(3, ':');
            let (region, account, resource) = (
                fields.next().unwrap_or(""),
                fields.next().unwrap_or(""),
                fields.next().unwrap_or(""),
            );
            if region != self.region() {
                return Err(AwsError::new(
                    "NotFoundException",
                    format!("Invalid arn {}", excerpt(region)),
                ));
            }
            let id = resource
                .strip_prefix("key/")
                .and_then(|id| KeyId::parse(id).ok())
                .filter(|_| account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    AwsError::new(
                        "NotFoundException",
                        format!("Invalid arn {}", excerpt(value)),
                    )
                })?;
            return Ok(KeyRef {
                id,
                arn: value.to_owned(),
            });
        }
        let id = KeyId::parse(value).map_err(|_| {
            AwsError::new(
                "NotFoundException",
                format!("Invalid keyId '{}'", excerpt(value)),
            )
        })?;
        Ok(KeyRef {
            arn: format!("arn:aws:kms:{}:{}:key/{id}", self.region(), self.account()),
            id,
        })
    }

    /// A key named by something this service issued (a ciphertext, a grant token),
    /// which, like AWS's, identifies the key in whatever account it is.
    async fn key_named_by_service(&self, id: &KeyId) -> Result<KeyRef, AwsError> {
        let found = self
            .state
            .kms
            .store()
            .find_key(id)
            .await
            .map_err(|e| self.kms_error(None, e.into()))?;
        match found {
            Some(key) => Ok(KeyRef {
                arn: self.key_arn(&key),
                id: id.clone(),
            }),
            None => self.key_ref(id.as_str()),
        }
    }

    fn required_key(&self, name: &str) -> Result<KeyRef, AwsError> {
        let value = self.body.required_bounded_str(name, 1, 2048)?;
        self.key_ref(value)
    }

    /// An ARN names an account too: a key found under another account's ARN is not that
    /// key. A bare key ID is resolved in the caller's own account (its `arn` was made
    /// from that account), so, as in AWS, another account's key needs its key ARN.
    fn check_arn_account(&self, key_ref: &KeyRef, key: &Key) -> Result<(), AwsError> {
        if key_ref.arn.starts_with("arn:") && key_ref.arn != self.key_arn(key) {
            return Err(AwsError::new(
                "NotFoundException",
                format!("Key '{}' does not exist", key_ref.arn),
            ));
        }
        Ok(())
    }

    /// Validates `GrantTokens`: each must be a token this service issued. Grants take
    /// effect at once here, so a valid token adds no permission the grant lacks.
    fn check_grant_tokens(&self) -> Result<(), AwsError> {
        let Some(tokens) = self.body.optional_str_list("GrantTokens")? else {
            return Ok(());
        };
        if tokens.len() > MAX_GRANT_TOKENS {
            return Err(constraint_failed(
                "GrantTokens",
                &format!("[{} tokens]", tokens.len()),
                &format!("Member must have length less than or equal to {MAX_GRANT_TOKENS}"),
            ));
        }
        for token in tokens {
            if token.is_empty() || token.chars().count() > 8192 {
                return Err(constraint_failed(
                    "GrantTokens",
                    token,
                    "Member must satisfy constraint: [Member must have length less than or equal to 8192, Member must have length greater than or equal to 1]",
                ));
            }
            if self.state.kms.open_grant_token(token).is_none() {
                return Err(AwsError::new(
                    "InvalidGrantTokenException",
                    "The grant token is not valid.",
                ));
            }
        }
        Ok(())
    }

    fn encryption_context(&self) -> Result<BTreeMap<String, String>, AwsError> {
        Ok(self
            .body
            .optional_string_map("EncryptionContext")?
            .unwrap_or_default())
    }

    fn check_algorithm(&self) -> Result<(), AwsError> {
        match self.body.optional_str("EncryptionAlgorithm")? {
            None | Some("SYMMETRIC_DEFAULT") => Ok(()),
            Some(other) => Err(constraint_failed(
                "EncryptionAlgorithm",
                other,
                "Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]; this emulator's keys are SYMMETRIC_DEFAULT",
            )),
        }
    }

    /// `(after, limit)` from `Marker` and `Limit`. Markers are the keyset positions
    /// that `NextMarker` hands out.
    fn page(&self, max: i64, default: i64) -> Result<(i64, u32), AwsError> {
        let limit = self.body.optional_int("Limit", 1, max)?.unwrap_or(default);
        let after = match self.body.optional_bounded_str("Marker", 1, 1024)? {
            None => 0,
            Some(marker) => marker
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    AwsError::new(
                        "InvalidMarkerException",
                        format!("Marker {} was not issued by this service.", excerpt(marker)),
                    )
                })?,
        };
        Ok((after, limit as u32))
    }

    async fn run(self) -> Result<Option<Value>, AwsError> {
        match self.operation {
            Operation::CreateKey => self.create_key().await.map(Some),
            Operation::DescribeKey => self.describe_key().await.map(Some),
            Operation::ListKeys => self.list_keys().await.map(Some),
            Operation::EnableKey => self.change_state(StateChange::Enable).await.map(|_| None),
            Operation::DisableKey => self.change_state(StateChange::Disable).await.map(|_| None),
            Operation::ScheduleKeyDeletion => self.schedule_deletion().await.map(Some),
            Operation::CancelKeyDeletion => self.cancel_deletion().await.map(Some),
            Operation::CreateGrant => self.create_grant().await.map(Some),
            Operation::ListGrants => self.list_grants().await.map(Some),
            Operation::ListRetirableGrants => self.list_retirable_grants().await.map(Some),
            Operation::RevokeGrant => self.revoke_grant().await.map(|_| None),
            Operation::RetireGrant => self.retire_grant().await.map(|_| None),
            Operation::Encrypt => self.encrypt().await.map(Some),
            Operation::Decrypt => self.decrypt().await.map(Some),
            Operation::GenerateDataKey => self.generate_data_key(true).await.map(Some),
            Operation::GenerateDataKeyWithoutPlaintext => {
                self.generate_data_key(false).await.map(Some)
            }
        }
    }

    async fn create_key(&self) -> Result<Value, AwsError> {
        let description = self
            .body
            .optional_bounded_str("Description", 0, 8192)?
            .unwrap_or("");
        if let Some(usage) = self.body.optional_str("KeyUsage")?
            && usage != "ENCRYPT_DECRYPT"
        {
            return Err(constraint_failed(
                "KeyUsage",
                usage,
                "this emulator makes ENCRYPT_DECRYPT keys only",
            ));
        }
        for spec_field in ["KeySpec", "CustomerMasterKeySpec"] {
            if let Some(spec) = self.body.optional_str(spec_field)?
                && spec != "SYMMETRIC_DEFAULT"
            {
                return Err(constraint_failed(
                    spec_field,
                    spec,
                    "this emulator makes SYMMETRIC_DEFAULT keys only",
                ));
            }
        }
        let origin = match self.body.optional_str("Origin")? {
            None | Some("AWS_KMS") => "kms",
            Some("EXTERNAL") => "external",
            Some(other) => {
                return Err(constraint_failed(
                    "Origin",
                    other,
                    "Member must satisfy enum value set: [AWS_KMS, EXTERNAL]; this emulator has no custom key stores",
                ));
            }
        };
        if self.body.optional_bool("MultiRegion")? == Some(true) {
            return Err(AwsError::new(
                "UnsupportedOperationException",
                "Multi-Region keys are not supported by this emulator.",
            ));
        }
        // Huawei keys need a unique alias; AWS keys have none, so one is made up.
        let alias = format!("aws-key-{}", uuid::Uuid::new_v4().simple());
        let key = self
            .state
            .kms
            .create_key(
                &self.caller,
                CreateKey {
                    key_alias: alias,
                    key_description: description.to_owned(),
                    key_spec: "AES_256".into(),
                    key_usage: "ENCRYPT_DECRYPT".into(),
                    origin: origin.into(),
                },
            )
            .await
            .map_err(|e| self.kms_error(None, e))?;
        Ok(json!({"KeyMetadata": wire::key_metadata(&self.state.identities, self.region(), &key)}))
    }

    /// The key for `operation` (DescribeKey's visibility rules: owner side or a grant).
    async fn visible_key(&self, key_ref: &KeyRef) -> Result<Key, AwsError> {
        let key = self
            .state
            .kms
            .describe_key(&self.caller, &key_ref.id)
            .await
            .map_err(|e| self.kms_error(Some(&key_ref.arn), e))?;
        self.check_arn_account(key_ref, &key)?;
        Ok(key)
    }

    async fn describe_key(&self) -> Result<Value, AwsError> {
        let key_ref = self.required_key("KeyId")?;
        self.check_grant_tokens()?;
        let key = self.visible_key(&key_ref).await?;
        Ok(json!({"KeyMetadata": wire::key_metadata(&self.state.identities, self.region(), &key)}))
    }

    async fn list_keys(&self) -> Result<Value, AwsError> {
        let (after, limit) = self.page(KEY_PAGE_MAX, KEY_PAGE_DEFAULT)?;
        let page = self
            .state
            .kms
            .list_keys(&self.caller, None, after, limit)
            .await
            .map_err(|e| self.kms_error(None, e))?;
        let keys: Vec<Value> = page
            .items
            .iter()
            .map(|k| json!({"KeyId": k.key_id.as_str(), "KeyArn": self.key_arn(k)}))
            .collect();
        Ok(paged("Keys", keys, page.next_after))
    }

    async fn change_state(&self, change: StateChange) -> Result<Key, AwsError> {
        let key_ref = self.required_key("KeyId")?;
        let result = self
            .state
            .kms
            .change_key_state(&self.caller, &key_ref.id, change)
            .await;
        match result {
            Ok(key) => Ok(key),
            // AWS's EnableKey and DisableKey succeed on a key already in that state.
            Err(KmsError::KeyNotDisabled | KmsError::KeyNotEnabled)
                if matches!(change, StateChange::Enable | StateChange::Disable) =>
            {
                let key = self.visible_key(&key_ref).await?;
                let already = matches!(
                    (change, key.key_state),
                    (StateChange::Enable, crate::domain::KeyState::Enabled)
                        | (StateChange::Disable, crate::domain::KeyState::Disabled)
                );
                if already {
                    Ok(key)
                } else {
                    Err(self.kms_error(Some(&self.key_arn(&key)), KmsError::KeyNotDisabled))
                }
            }
            Err(e) => Err(self.kms_error(Some(&key_ref.arn), e)),
        }
    }

    async fn schedule_deletion(&self) -> Result<Value, AwsError> {
        let days = self
            .body
            .optional_int(
                "PendingWindowInDays",
                MIN_PENDING_WINDOW,
                MAX_PENDING_WINDOW,
            )?
            .unwrap_or(MAX_PENDING_WINDOW);
        let key = self
            .change_state(StateChange::ScheduleDeletion { pending_days: days })
            .await?;
        Ok(json!({
            "KeyId": self.key_arn(&key),
            "DeletionDate": key.scheduled_deletion_date.map(|ms| ms as f64 / 1000.0),
            "KeyState": "PendingDeletion",
            "PendingWindowInDays": days,
        }))
    }

    async fn cancel_deletion(&self) -> Result<Value, AwsError> {
        let key = self.change_state(StateChange::CancelDeletion).await?;
        Ok(json!({"KeyId": self.key_arn(&key)}))
    }

    fn constraint(&self) -> Result<Option<ContextConstraint>, AwsError> {
        let Some(constraints) = self.body.optional_object("Constraints")? else {
            return Ok(None);
        };
        if constraints.has("SourceArn") {
            return Err(AwsError::validation(
                "The SourceArn constraint applies to service principals, which this emulator does not have.",
            ));
        }
        if let Some(unknown) = constraints
            .keys()
            .find(|k| !matches!(*k, "EncryptionContextSubset" | "EncryptionContextEquals"))
        {
            return Err(AwsError::serialization(format!(
                "Constraints has an unknown member {}.",
                excerpt(unknown)
            )));
        }
        let subset = constraints.optional_string_map("EncryptionContextSubset")?;
        let equals = constraints.optional_string_map("EncryptionContextEquals")?;
        let constraint = match (subset, equals) {
            (Some(_), Some(_)) => {
                return Err(AwsError::validation("More than one constraint supplied"));
            }
            (Some(map), None) => ContextConstraint::Subset(map),
            (None, Some(map)) => ContextConstraint::Equals(map),
            (None, None) => return Ok(None),
        };
        let (ContextConstraint::Subset(map) | ContextConstraint::Equals(map)) = &constraint;
        if map.len() > MAX_CONSTRAINT_PAIRS {
            return Err(AwsError::validation(format!(
                "An encryption context constraint may hold at most {MAX_CONSTRAINT_PAIRS} pairs."
            )));
        }
        if let Some((k, _)) = map
            .iter()
            .find(|(k, v)| k.is_empty() || v.chars().count() > MAX_CONSTRAINT_VALUE_CHARS)
        {
            return Err(AwsError::validation(format!(
                "Encryption context constraint entry {} must have a non-empty key and a value of at most {MAX_CONSTRAINT_VALUE_CHARS} characters.",
                excerpt(k)
            )));
        }
        Ok(Some(constraint))
    }

    async fn create_grant(&self) -> Result<Value, AwsError> {
        let key_ref = self.required_key("KeyId")?;
        if self.body.has("GranteeServicePrincipal") || self.body.has("RetiringServicePrincipal") {
            return Err(AwsError::validation(
                "Service principals are not supported by this emulator; use GranteePrincipal and RetiringPrincipal.",
            ));
        }
        let grantee = self.body.required_bounded_str("GranteePrincipal", 1, 256)?;
        let (grantee, grantee_type) =
            wire::resolve_principal(&self.state.identities, "GranteePrincipal", grantee)?;
        let operations = self
            .body
            .optional_str_list("Operations")?
            .ok_or_else(|| missing("Operations"))?;
        let operations = wire::parse_operations(&operations)?;
        let retiring = self
            .body
            .optional_bounded_str("RetiringPrincipal", 1, 256)?
            .map(|value| {
                wire::resolve_principal(&self.state.identities, "RetiringPrincipal", value)
                    .map(|(principal, _)| principal)
            })
            .transpose()?;
        let name = self.body.optional_bounded_str("Name", 1, 256)?;
        if let Some(name) = name
            && !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b))
        {
            return Err(constraint_failed(
                "Name",
                name,
                "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
            ));
        }
        let constraint = self.constraint()?;
        self.check_grant_tokens()?;
        let dry_run = self.body.dry_run()?;
        self.stored_key_checking_arn(&key_ref).await?;
        let grant = self
            .state
            .kms
            .aws_create_grant(
                &self.caller,
                CreateGrant {
                    key_id: key_ref.id.clone(),
                    grantee_principal: grantee,
                    grantee_principal_type: grantee_type,
                    operations,
                    name: name.map(str::to_owned),
                    retiring_principal: retiring,
                },
                constraint,
                dry_run,
            )
            .await
            .map_err(|e| self.kms_error(Some(&key_ref.arn), e))?;
        Ok(json!({
            "GrantId": grant.grant_id.as_str(),
            "GrantToken": self.state.kms.mint_grant_token(&grant),
        }))
    }

    /// The ARN a successful answer names: the key's own, or the one the request gave.
    /// Only for answers after the service allowed the request, so a caller without
    /// access never learns which account a bare key ID belongs to.
    fn arn_or(&self, key: &Option<Key>, key_ref: &KeyRef) -> String {
        key.as_ref()
            .map(|k| self.key_arn(k))
            .unwrap_or_else(|| key_ref.arn.clone())
    }

    /// The stored key a request names, if any, once an ARN in the request is checked to
    /// name the key's account. Not an authorization: the service decides who may do
    /// what (for grants inside the write transaction); this only keeps a key from being
    /// reached under another account's ARN and names the key in answers.
    async fn stored_key_checking_arn(&self, key_ref: &KeyRef) -> Result<Option<Key>, AwsError> {
        let key = self
            .state
            .kms
            .store()
            .find_key(&key_ref.id)
            .await
            .map_err(|e| self.kms_error(Some(&key_ref.arn), e.into()))?;
        if let Some(key) = &key {
            self.check_arn_account(key_ref, key)?;
        }
        Ok(key)
    }

    async fn list_grants(&self) -> Result<Value, AwsError> {
        let key_ref = self.required_key("KeyId")?;
        let (after, limit) = self.page(GRANT_PAGE_MAX, GRANT_PAGE_DEFAULT)?;
        if self.body.has("GranteeServicePrincipal") {
            return Err(AwsError::validation(
                "Service principals are not supported by this emulator.",
            ));
        }
        let grant_id = self
            .body
            .optional_bounded_str("GrantId", 1, 128)?
            .map(|id| GrantId::parse(id).map_err(|e| self.kms_error(None, e)))
            .transpose()?;
        let grantee = match self.body.optional_bounded_str("GranteePrincipal", 1, 256)? {
            None => None,
            Some(value) => {
                match wire::resolve_principal(&self.state.identities, "GranteePrincipal", value) {
                    Ok(principal) => Some(principal),
                    // An unknown principal holds no grants: an empty page, not an error.
                    Err(e) if e.code == "InvalidArnException" => {
                        Some((value.to_owned(), GranteeType::User))
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let key = self.stored_key_checking_arn(&key_ref).await?;
        let page = self
            .state
            .kms
            .aws_list_grants(
                &self.caller,
                &key_ref.id,
                &GrantFilter { grant_id, grantee },
                after,
                limit,
            )
            .await
            .map_err(|e| self.kms_error(Some(&key_ref.arn), e))?;
        let key = key.ok_or_else(|| self.kms_error(Some(&key_ref.arn), KmsError::Internal))?;
        let grants: Vec<Value> = page
            .items
            .iter()
            .map(|g| wire::grant_entry(&self.state.identities, self.region(), &key, g))
            .collect();
        Ok(paged("Grants", grants, page.next_after))
    }

    async fn list_retirable_grants(&self) -> Result<Value, AwsError> {
        let principal = self
            .body
            .required_bounded_str("RetiringPrincipal", 1, 256)?;
        let (after, limit) = self.page(GRANT_PAGE_MAX, GRANT_PAGE_DEFAULT)?;
        let (stored, kind) =
            wire::resolve_principal(&self.state.identities, "RetiringPrincipal", principal)?;
        // No IAM policies here: a caller may list what its own account's principals may retire.
        let principal_domain = match kind {
            GranteeType::Domain => stored.clone(),
            GranteeType::User => self
                .state
                .identities
                .user_by_id(&stored)
                .map(|u| u.domain_id.clone())
                .unwrap_or_default(),
        };
        if principal_domain != self.caller.domain_id {
            return Err(AwsError::new(
                "AccessDeniedException",
                format!(
                    "User: {} is not authorized to perform: kms:ListRetirableGrants for {} because it is in another account.",
                    self.caller_arn,
                    excerpt(principal)
                ),
            ));
        }
        let page = self
            .state
            .kms
            .aws_list_retirable_grants(&stored, after, limit)
            .await
            .map_err(|e| self.kms_error(None, e))?;
        let mut grants = Vec::new();
        for grant in &page.items {
            let key = self
                .state
                .kms
                .store()
                .find_key(&grant.key_id)
                .await
                .map_err(|e| self.kms_error(None, e.into()))?;
            if let Some(key) = key {
                grants.push(wire::grant_entry(
                    &self.state.identities,
                    self.region(),
                    &key,
                    grant,
                ));
            }
        }
        Ok(paged("Grants", grants, page.next_after))
    }

    fn grant_id_field(&self) -> Result<GrantId, AwsError> {
        let value = self.body.required_bounded_str("GrantId", 1, 128)?;
        GrantId::parse(value).map_err(|e| self.kms_error(None, e))
    }

    async fn revoke_grant(&self) -> Result<(), AwsError> {
        let key_ref = self.required_key("KeyId")?;
        let grant_id = self.grant_id_field()?;
        let dry_run = self.body.dry_run()?;
        self.stored_key_checking_arn(&key_ref).await?;
        self.state
            .kms
            .aws_delete_grant(&self.caller, &key_ref.id, &grant_id, false, dry_run)
            .await
            .map_err(|e| self.kms_error(Some(&key_ref.arn), e))
    }

    /// By `GrantToken`, or by `KeyId` and `GrantId` together.
    async fn retire_grant(&self) -> Result<(), AwsError> {
        let by_token = match self.body.optional_bounded_str("GrantToken", 1, 8192)? {
            None => None,
            Some(token) => Some(self.state.kms.open_grant_token(token).ok_or_else(|| {
                AwsError::new(
                    "InvalidGrantTokenException",
                    "The grant token is not valid.",
                )
            })?),
        };
        let key_ref = self
            .body
            .optional_bounded_str("KeyId", 1, 2048)?
            .map(|v| self.key_ref(v))
            .transpose()?;
        let grant_id = if self.body.has("GrantId") {
            Some(self.grant_id_field()?)
        } else {
            None
        };
        let (key_ref, grant_id) = match (by_token, key_ref, grant_id) {
            (Some((token_key, token_grant)), key_ref, grant_id) => {
                if key_ref.as_ref().is_some_and(|k| k.id != token_key)
                    || grant_id.as_ref().is_some_and(|g| *g != token_grant)
                {
                    return Err(AwsError::new(
                        "InvalidGrantTokenException",
                        "The grant token names another grant than KeyId and GrantId.",
                    ));
                }
                // A token names its key fully, like a ciphertext does.
                let key_ref = match key_ref {
                    Some(k) => k,
                    None => self.key_named_by_service(&token_key).await?,
                };
                (key_ref, token_grant)
            }
            (None, Some(key_ref), Some(grant_id)) => (key_ref, grant_id),
            (None, _, _) => {
                return Err(AwsError::validation(
                    "Either GrantToken, or both KeyId and GrantId, must be specified.",
                ));
            }
        };
        let dry_run = self.body.dry_run()?;
        self.stored_key_checking_arn(&key_ref).await?;
        self.state
            .kms
            .aws_delete_grant(&self.caller, &key_ref.id, &grant_id, true, dry_run)
            .await
            .map_err(|e| self.kms_error(Some(&key_ref.arn), e))
    }

    async fn encrypt(&self) -> Result<Value, AwsError> {
        let key_ref = self.required_key("KeyId")?;
        let plaintext = self
            .body
            .optional_blob("Plaintext", 1, MAX_PLAINTEXT_BYTES)?
            .ok_or_else(|| missing("Plaintext"))?;
        let context = self.encryption_context()?;
        self.check_algorithm()?;
        self.check_grant_tokens()?;
        let dry_run = self.body.dry_run()?;
        let key = self.stored_key_checking_arn(&key_ref).await?;
        let frame = self
            .state
            .kms
            .aws_encrypt(
                &self.caller,
                &key_ref.id,
                GrantOperation::EncryptData,
                &plaintext,
                &context,
                dry_run,
            )
            .await
            .map_err(|e| self.kms_error(Some(&key_ref.arn), e))?;
        // Only now, with the use allowed, may the answer name the key's own ARN.
        let arn = self.arn_or(&key, &key_ref);
        Ok(json!({
            "CiphertextBlob": BASE64.encode(frame),
            "KeyId": arn,
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }))
    }

    async fn decrypt(&self) -> Result<Value, AwsError> {
        let frame = self
            .body
            .optional_blob("CiphertextBlob", 1, MAX_CIPHERTEXT_BYTES)?
            .ok_or_else(|| missing("CiphertextBlob"))?;
        let expected = self
            .body
            .optional_bounded_str("KeyId", 1, 2048)?
            .map(|v| self.key_ref(v))
            .transpose()?;
        let context = self.encryption_context()?;
        self.check_algorithm()?;
        self.check_grant_tokens()?;
        let dry_run = self.body.dry_run()?;
        // The key comes from the ciphertext (spec §2.7): authorization is for that key.
        let framed = crypto::framed_key_id(&frame)
            .map_err(|_| AwsError::new("InvalidCiphertextException", ""))?;
        if let Some(expected) = &expected
            && expected.id != framed
        {
            return Err(AwsError::new(
                "IncorrectKeyException",
                "The key ID in the request does not identify a KMS key that can perform this operation.",
            ));
        }
        // Without a KeyId the ciphertext names the key fully (as AWS's carries the key
        // ARN), so another account's key needs no ARN here.
        let key_ref = match expected {
            Some(k) => k,
            None => self.key_named_by_service(&framed).await?,
        };
        let key = self.stored_key_checking_arn(&key_ref).await?;
        let (_, plaintext) = self
            .state
            .kms
            .aws_decrypt(&self.caller, &frame, &context, dry_run)
            .await
            .map_err(|e| self.kms_error(Some(&key_ref.arn), e))?;
        let arn = self.arn_or(&key, &key_ref);
        Ok(json!({
            "KeyId": arn,
            "Plaintext": BASE64.encode(plaintext),
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }))
    }

    async fn generate_data_key(&self, with_plaintext: bool) -> Result<Value, AwsError> {
        let key_ref = self.required_key("KeyId")?;
        let spec = self.body.optional_str("KeySpec")?;
        let bytes = self
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
        let context = self.encryption_context()?;
        self.check_grant_tokens()?;
        let dry_run = self.body.dry_run()?;
        let operation = if with_plaintext {
            GrantOperation::CreateDatakey
        } else {
            GrantOperation::CreateDatakeyWithoutPlaintext
        };
        let key = self.stored_key_checking_arn(&key_ref).await?;
        let data_key = crypto::random_bytes(length);
        let frame = self
            .state
            .kms
            .aws_encrypt(
                &self.caller,
                &key_ref.id,
                operation,
                &data_key,
                &context,
                dry_run,
            )
            .await
            .map_err(|e| self.kms_error(Some(&key_ref.arn), e))?;
        let arn = self.arn_or(&key, &key_ref);
        let mut answer = json!({"CiphertextBlob": BASE64.encode(frame), "KeyId": arn});
        if with_plaintext {
            answer["Plaintext"] = json!(BASE64.encode(&data_key));
        }
        Ok(answer)
    }
}

/// A listing with AWS's pagination fields: `Truncated` always, `NextMarker` when true.
fn paged(field: &str, items: Vec<Value>, next_after: Option<i64>) -> Value {
    let mut value = json!({ field: items, "Truncated": next_after.is_some() });
    if let Some(next) = next_after {
        value["NextMarker"] = json!(next.to_string());
    }
    value
}
