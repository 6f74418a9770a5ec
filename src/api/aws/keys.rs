//! AWS key operations: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
//! ScheduleKeyDeletion, CancelKeyDeletion, GetKeyPolicy, PutKeyPolicy, ListKeyPolicies.

use serde_json::{Value, json};

use super::body::constraint_failed;
use super::call::{Call, paged};
use super::error::AwsError;
use super::wire;
use crate::domain::key_spec::{Cloud, KeySpec, KeyUsage};
use crate::domain::{Dialect, Key, KmsError, StateChange, text};
use crate::service::CreateKey;

/// AWS: ListKeys takes 1–1000 (default 100); ListKeyPolicies 1–1000 (default 100).
const KEY_PAGE_MAX: i64 = 1000;
const KEY_PAGE_DEFAULT: i64 = 100;
/// AWS: PendingWindowInDays is 7–30, default 30.
const MIN_PENDING_WINDOW: i64 = 7;
const MAX_PENDING_WINDOW: i64 = 30;
/// AWS's model: a key policy is 1–131072 characters of tab, LF, CR and U+0020–U+00FF
/// (the service's own quota, 32 KB, is checked by the service).
const MAX_POLICY_CHARS: usize = 131_072;
/// The only policy name AWS lets users manage.
const POLICY_NAME: &str = "default";

fn metadata(call: &Call<'_>, key: &Key) -> Value {
    json!({"KeyMetadata": wire::key_metadata(&call.state.identities, call.region(), key)})
}

/// `metadata` with a multi-Region key's MultiRegionConfiguration (CreateKey, DescribeKey).
async fn full_metadata(call: &Call<'_>, key: &Key) -> Result<Value, AwsError> {
    let mut value = metadata(call, key);
    if key.key_id.is_multi_region() {
        let rows = call
            .state
            .kms
            .multi_region_configuration(key)
            .await
            .map_err(|e| call.kms_error(None, e))?;
        if let Some(configuration) =
            wire::multi_region_configuration(&call.state.identities, key, &rows)
        {
            value["KeyMetadata"]["MultiRegionConfiguration"] = configuration;
        }
    }
    Ok(value)
}

/// A `Policy` field: present, within AWS's character set and length.
pub(super) fn policy_text<'b>(call: &'b Call<'_>) -> Result<Option<&'b str>, AwsError> {
    let Some(policy) = call
        .body
        .optional_bounded_str("Policy", 1, MAX_POLICY_CHARS)?
    else {
        return Ok(None);
    };
    if !policy
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(constraint_failed(
            "policy",
            "(the policy)",
            "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        ));
    }
    Ok(Some(policy))
}

/// `PolicyName`: optional since botocore 1.35; `default` is the only one users manage.
fn check_policy_name(call: &Call<'_>, arn: &str) -> Result<(), AwsError> {
    match call.body.optional_bounded_str("PolicyName", 1, 128)? {
        None | Some(POLICY_NAME) => Ok(()),
        Some(other)
            if other
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            Err(AwsError::new(
                "NotFoundException",
                format!(
                    "Policy {other} of key '{arn}' does not exist; the only key policy is named default."
                ),
            ))
        }
        Some(other) => Err(constraint_failed(
            "policyName",
            other,
            "Member must satisfy regular expression pattern: [\\w]+",
        )),
    }
}

pub(super) async fn create_key(call: &Call<'_>) -> Result<Value, AwsError> {
    let description = call
        .body
        .optional_text("Description", &text::AWS_DESCRIPTION)?;
    let description = description.unwrap_or("");
    // CustomerMasterKeySpec is KeySpec's deprecated name; AWS refuses both at once.
    let spec_name = match (
        call.body.optional_str("KeySpec")?,
        call.body.optional_str("CustomerMasterKeySpec")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(AwsError::validation(
                "You cannot specify both KeySpec and CustomerMasterKeySpec; use KeySpec.",
            ));
        }
        (spec, deprecated) => spec.or(deprecated),
    };
    let key_spec = spec_name
        .map(|name| KeySpec::parse(Cloud::Aws, name))
        .transpose()
        .map_err(|e| call.kms_error(None, KmsError::KeyType(e)))?
        .unwrap_or_else(KeySpec::default_for_create);
    let key_usage = call
        .body
        .optional_str("KeyUsage")?
        .map(|name| KeyUsage::parse(Cloud::Aws, name))
        .transpose()
        .and_then(|usage| key_spec.resolve_usage(Cloud::Aws, usage))
        .map_err(|e| call.kms_error(None, KmsError::KeyType(e)))?;
    let origin = match call.body.optional_str("Origin")? {
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
    let multi_region = call.body.optional_bool("MultiRegion")?.unwrap_or(false);
    let policy = policy_text(call)?.map(str::to_owned);
    let bypass = call
        .body
        .optional_bool("BypassPolicyLockoutSafetyCheck")?
        .unwrap_or(false);
    let tags = super::tags::tag_list(call, "Tags")?.unwrap_or_default();
    // Huawei keys need a unique alias; AWS keys have none, so one is made up.
    let alias = format!("aws-key-{}", uuid::Uuid::new_v4().simple());
    let key = call
        .state
        .kms
        .create_key(
            &call.caller,
            CreateKey {
                key_alias: alias,
                key_description: description.to_owned(),
                key_spec,
                key_usage,
                origin: origin.into(),
                policy,
                bypass_policy_lockout_check: bypass,
                tags,
                multi_region,
            },
        )
        .await
        .map_err(|e| call.kms_error(None, e))?;
    full_metadata(call, &key).await
}

/// UpdateKeyDescription: `Description` is required (botocore), 0–8192 characters.
pub(super) async fn update_description(call: &Call<'_>) -> Result<(), AwsError> {
    let named = call.required_key("KeyId")?;
    let description = call
        .body
        .optional_text("Description", &text::AWS_DESCRIPTION)?
        .or_else(|| call.body.has("Description").then_some(""))
        .ok_or_else(|| super::body::missing("Description"))?
        .to_owned();
    call.state
        .kms
        .update_key_description(&call.caller, &named.key, &description)
        .await
        .map_err(call.key_error(&named))?;
    Ok(())
}

pub(super) async fn describe_key(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key_or_alias("KeyId").await?;
    call.check_grant_tokens()?;
    let key = call
        .state
        .kms
        .describe_key(&call.caller, &named.key)
        .await
        .map_err(call.key_error(&named))?;
    full_metadata(call, &key).await
}

/// GetKeyLastUsage (key ID or ARN; AWS takes no alias here). The emulator tracks every
/// key from its creation, so TrackingStartDate is the creation date. It keeps no
/// CloudTrail: a use carries its request ID (KmsRequestId) and no CloudTrailEventId, and
/// an unused key gets the empty KeyLastUsage AWS documents.
pub(super) async fn get_key_last_usage(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    let (key, last_use) = call
        .state
        .kms
        .key_last_use(&call.caller, &named.key)
        .await
        .map_err(call.key_error(&named))?;
    let usage = match last_use {
        Some(last_use) => json!({
            "Operation": last_use.operation,
            "Timestamp": wire::seconds(last_use.used_at),
            "KmsRequestId": last_use.request_id,
        }),
        None => json!({}),
    };
    Ok(json!({
        "KeyId": key.key_id.as_str(),
        "KeyLastUsage": usage,
        "TrackingStartDate": wire::seconds(key.creation_date),
        "KeyCreationDate": wire::seconds(key.creation_date),
    }))
}

pub(super) async fn list_keys(call: &Call<'_>) -> Result<Value, AwsError> {
    let (after, limit) = call.page(KEY_PAGE_MAX, KEY_PAGE_DEFAULT)?;
    let page = call
        .state
        .kms
        .list_keys(&call.caller, None, after, limit)
        .await
        .map_err(|e| call.kms_error(None, e))?;
    let keys: Vec<Value> = page
        .items
        .iter()
        .map(|k| json!({"KeyId": k.key_id.as_str(), "KeyArn": call.key_arn(k)}))
        .collect();
    Ok(paged("Keys", keys, page.next_after))
}

/// EnableKey, DisableKey (idempotent in AWS), ScheduleKeyDeletion, CancelKeyDeletion.
pub(super) async fn change_state(call: &Call<'_>, change: StateChange) -> Result<Key, AwsError> {
    let named = call.required_key("KeyId")?;
    call.state
        .kms
        .change_key_state(&call.caller, Dialect::Aws, &named.key, change)
        .await
        .map_err(call.key_error(&named))
}

pub(super) async fn schedule_deletion(call: &Call<'_>) -> Result<Value, AwsError> {
    let days = call
        .body
        .optional_int(
            "PendingWindowInDays",
            MIN_PENDING_WINDOW,
            MAX_PENDING_WINDOW,
        )?
        .unwrap_or(MAX_PENDING_WINDOW);
    let key = change_state(call, StateChange::ScheduleDeletion { pending_days: days }).await?;
    Ok(json!({
        "KeyId": call.key_arn(&key),
        "DeletionDate": key.scheduled_deletion_date.map(|ms| ms as f64 / 1000.0),
        "KeyState": "PendingDeletion",
        "PendingWindowInDays": days,
    }))
}

pub(super) async fn cancel_deletion(call: &Call<'_>) -> Result<Value, AwsError> {
    let key = change_state(call, StateChange::CancelDeletion).await?;
    Ok(json!({"KeyId": call.key_arn(&key)}))
}

pub(super) async fn get_key_policy(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    check_policy_name(call, &named.arn)?;
    let policy = call
        .state
        .kms
        .get_key_policy(&call.caller, &named.key)
        .await
        .map_err(call.key_error(&named))?;
    Ok(json!({"Policy": policy, "PolicyName": POLICY_NAME}))
}

pub(super) async fn put_key_policy(call: &Call<'_>) -> Result<(), AwsError> {
    let named = call.required_key("KeyId")?;
    let policy = policy_text(call)?.ok_or_else(|| super::body::missing("Policy"))?;
    if let Some(name) = call.body.optional_bounded_str("PolicyName", 1, 128)?
        && name != POLICY_NAME
    {
        return Err(AwsError::validation(format!(
            "PolicyName {} cannot be put: the only key policy users manage is named default.",
            crate::domain::ids::excerpt(name)
        )));
    }
    let bypass = call
        .body
        .optional_bool("BypassPolicyLockoutSafetyCheck")?
        .unwrap_or(false);
    call.state
        .kms
        .put_key_policy(&call.caller, &named.key, policy, bypass)
        .await
        .map_err(call.key_error(&named))
}

pub(super) async fn list_key_policies(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    let (after, _limit) = call.page(KEY_PAGE_MAX, KEY_PAGE_DEFAULT)?;
    call.state
        .kms
        .list_key_policies(&call.caller, &named.key)
        .await
        .map_err(call.key_error(&named))?;
    // One policy, so any marker past it is the end of the list.
    let names: Vec<Value> = if after == 0 {
        vec![json!(POLICY_NAME)]
    } else {
        Vec::new()
    };
    Ok(paged("PolicyNames", names, None))
}
