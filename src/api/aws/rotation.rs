//! AWS key rotation and re-encryption: EnableKeyRotation, DisableKeyRotation,
//! GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations and ReEncrypt (shapes of
//! botocore 1.44.8's kms 2014-11-01 model).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::body::{constraint_failed, missing};
use super::call::{Call, NamedKey, paged};
use super::error::{AwsError, Context, from_kms};
use crate::crypto;
use crate::domain::authz::Action;
use crate::domain::key_spec::Cloud;
use crate::domain::rotation::{self, RotationChange};
use crate::domain::{Dialect, KeyState, KmsError};
use crate::service::ReEncryptSide;

/// AWS: ListKeyRotations' Limit is 1–1000, 100 by default.
const ROTATION_PAGE_MAX: i64 = 1000;
const ROTATION_PAGE_DEFAULT: i64 = 100;
/// AWS: a CiphertextBlob is 1–6144 bytes.
const MAX_CIPHERTEXT_BYTES: usize = 6144;

/// AWS dates: seconds since the epoch.
fn seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

pub(super) async fn change(call: &Call<'_>, action: Action) -> Result<Option<Value>, AwsError> {
    let named = call.required_key("KeyId")?;
    let change = match action {
        Action::EnableKeyRotation => {
            let days = call
                .body
                .optional_int(
                    "RotationPeriodInDays",
                    *rotation::AWS_PERIOD_DAYS.start(),
                    *rotation::AWS_PERIOD_DAYS.end(),
                )?
                .unwrap_or(rotation::DEFAULT_PERIOD_DAYS);
            rotation::check_period(Dialect::Aws, days).map_err(call.key_error(&named))?;
            RotationChange::Enable {
                period_days: Some(days),
            }
        }
        Action::DisableKeyRotation => RotationChange::Disable,
        _ => RotationChange::RotateOnDemand,
    };
    let status = call
        .state
        .kms
        .change_rotation(&call.caller, &named.key, action, change)
        .await
        .map_err(call.key_error(&named))?;
    Ok(match action {
        Action::RotateKeyOnDemand => Some(json!({"KeyId": status.key.key_id.as_str()})),
        _ => None,
    })
}

pub(super) async fn status(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    let status = call
        .state
        .kms
        .rotation_status(&call.caller, &named.key)
        .await
        .map_err(call.key_error(&named))?;
    // AWS: a key pending deletion shows rotation disabled (it comes back if the deletion
    // is cancelled), and does not rotate.
    let enabled = status.state.enabled() && status.key.key_state != KeyState::PendingDeletion;
    let mut answer = json!({
        "KeyRotationEnabled": enabled,
        "KeyId": call.key_arn(&status.key),
    });
    if enabled && let Some(settings) = &status.state.settings {
        answer["RotationPeriodInDays"] = json!(settings.period_days);
        if let Some(next) = settings.next_rotation_date {
            answer["NextRotationDate"] = json!(seconds(next));
        }
    }
    Ok(answer)
}

pub(super) async fn list(call: &Call<'_>) -> Result<Value, AwsError> {
    let named = call.required_key("KeyId")?;
    match call.body.optional_str("IncludeKeyMaterial")? {
        None | Some("ROTATIONS_ONLY" | "ALL_KEY_MATERIAL") => {}
        Some(other) => {
            return Err(constraint_failed(
                "IncludeKeyMaterial",
                other,
                "Member must satisfy enum value set: [ALL_KEY_MATERIAL, ROTATIONS_ONLY]",
            ));
        }
    }
    let (after, limit) = call.page(ROTATION_PAGE_MAX, ROTATION_PAGE_DEFAULT)?;
    let (key, page) = call
        .state
        .kms
        .list_rotations(&call.caller, &named.key, after, limit)
        .await
        .map_err(call.key_error(&named))?;
    let rotations = page
        .items
        .iter()
        .map(|r| {
            json!({
                "KeyId": key.key_id.as_str(),
                "RotationDate": seconds(r.rotation_date),
                "RotationType": r.rotation_type.as_str(),
            })
        })
        .collect();
    Ok(paged("Rotations", rotations, page.next_after))
}

pub(super) async fn re_encrypt(call: &Call<'_>) -> Result<Value, AwsError> {
    let ciphertext = call
        .body
        .optional_blob("CiphertextBlob", 1, MAX_CIPHERTEXT_BYTES)?
        .ok_or_else(|| missing("CiphertextBlob"))?;
    let destination = call.required_key_or_alias("DestinationKeyId").await?;
    let source = call.optional_key_or_alias("SourceKeyId").await?;
    let source_context = call
        .body
        .optional_string_map("SourceEncryptionContext")?
        .unwrap_or_default();
    let destination_context = call
        .body
        .optional_string_map("DestinationEncryptionContext")?
        .unwrap_or_default();
    let source_algorithm = call.encryption_algorithm_field("SourceEncryptionAlgorithm")?;
    let destination_algorithm =
        call.encryption_algorithm_field("DestinationEncryptionAlgorithm")?;
    call.check_grant_tokens()?;
    let dry_run = call.body.dry_run()?;
    let source_context = crypto::context_bytes_of_map(&source_context);
    let destination_context = crypto::context_bytes_of_map(&destination_context);
    let (source_key, destination_key, new_ciphertext) = call
        .state
        .kms
        .re_encrypt(
            &call.caller,
            ReEncryptSide {
                key: source.as_ref().map(|named| &named.key),
                algorithm: source_algorithm,
                context: &source_context,
            },
            &ciphertext,
            ReEncryptSide {
                key: Some(&destination.key),
                algorithm: destination_algorithm,
                context: &destination_context,
            },
            dry_run,
            Cloud::Aws,
        )
        .await
        .map_err(|e| re_encrypt_error(call, &destination, e))?;
    Ok(json!({
        "CiphertextBlob": BASE64.encode(new_ciphertext),
        "SourceKeyId": call.key_arn(&source_key),
        "KeyId": call.key_arn(&destination_key),
        "SourceEncryptionAlgorithm": source_algorithm.name(Cloud::Aws),
        "DestinationEncryptionAlgorithm": destination_algorithm.name(Cloud::Aws),
    }))
}

/// A ReEncrypt refusal in AWS's words: an AccessDeniedException names the action refused
/// on its key (kms:ReEncryptFrom on the source, kms:ReEncryptTo on the destination); a bad
/// ciphertext names no key; the rest are about the destination.
fn re_encrypt_error(call: &Call<'_>, destination: &NamedKey, error: KmsError) -> AwsError {
    match &error {
        KmsError::AccessDenied(denial) => {
            let on_destination = denial
                .resource
                .as_deref()
                .is_some_and(|r| r.ends_with(destination.key.id.as_str()));
            let action = if on_destination {
                Action::ReEncryptTo
            } else {
                Action::ReEncryptFrom
            };
            from_kms(
                error.clone(),
                &Context {
                    key_arn: denial.resource.as_deref(),
                    caller_arn: &call.caller.aws_arn,
                    action: action.aws_name(),
                },
            )
        }
        KmsError::InvalidCipherText(_) | KmsError::IncorrectKey => call.kms_error(None, error),
        _ => call.kms_error(Some(&destination.arn), error),
    }
}
