//! Errors in the AWS JSON 1.1 wire format: `{"__type": "...", "message": "..."}`.
//!
//! Every client error is HTTP 400, as real AWS KMS answers (the Smithy model's
//! 404/409/412 values never appear on the wire; see the README's "AWS dialect").

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::api::LoggedErrorCode;
use crate::auth::sigv4::SigV4Error;
use crate::domain::KmsError;
use crate::domain::authz::{Denial, DenialBasis, evaluate::DenialScope};
use crate::domain::key_spec::KeySpecError;

/// An AWS error: its `__type` and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub code: &'static str,
    pub message: String,
}

impl AwsError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message)
    }

    /// A field of the wrong JSON type: AWS's JSON services answer SerializationException.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }

    pub fn status(&self) -> StatusCode {
        match self.code {
            "KMSInternalException" => StatusCode::INTERNAL_SERVER_ERROR,
            "DependencyTimeoutException" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<SigV4Error> for AwsError {
    fn from(error: SigV4Error) -> Self {
        Self::new(error.kind.aws_type(), error.message)
    }
}

/// What the mapping of a domain error needs to word AWS's messages.
pub struct Context<'a> {
    /// The ARN of the key the request is about, when there is one.
    pub key_arn: Option<&'a str>,
    /// The caller's principal ARN, for AccessDenied messages.
    pub caller_arn: &'a str,
    /// `kms:<Operation>`.
    pub action: &'a str,
}

/// A domain error as AWS would name it.
pub fn from_kms(error: KmsError, cx: &Context<'_>) -> AwsError {
    use KmsError::*;
    let key = cx.key_arn.unwrap_or("the key");
    match error {
        KeyNotFound(_) => AwsError::new("NotFoundException", format!("Key '{key}' does not exist")),
        AliasExists(name) => AwsError::new(
            "AlreadyExistsException",
            format!("An alias with the name {name} already exists"),
        ),
        AliasNotFound(_) => AwsError::new("NotFoundException", error.to_string()),
        InvalidAliasName(message) => AwsError::new("InvalidAliasNameException", message),
        ReservedAliasName(message) => AwsError::new("NotAuthorizedException", message),
        GrantNotFound(id) => AwsError::new(
            "NotFoundException",
            format!("Grant ID {id} not found for key '{key}'"),
        ),
        InvalidGrantId(message)
        | GrantKeyMismatch {
            grant_id: message, ..
        } => AwsError::new("InvalidGrantIdException", message),
        KeyDisabled => AwsError::new("DisabledException", format!("{key} is disabled.")),
        KeyPendingDeletion => AwsError::new(
            "KMSInvalidStateException",
            format!("{key} is pending deletion."),
        ),
        KeyPendingImport => AwsError::new(
            "KMSInvalidStateException",
            format!("{key} is pending import."),
        ),
        KeyNotDisabled | KeyNotEnabled | KeyAlreadyPendingDeletion | KeyNotPendingDeletion => {
            AwsError::new(
                "KMSInvalidStateException",
                format!(
                    "{key} is in a state that does not allow {}: {error}",
                    cx.action
                ),
            )
        }
        AccessDenied(denial) => AwsError::new("AccessDeniedException", access_denied(&denial, cx)),
        TooManyGrants { limit, .. } => AwsError::new(
            "LimitExceededException",
            format!(
                "The request was rejected because key '{key}' already has {limit} grants; retire or revoke one first."
            ),
        ),
        Tag(tag @ crate::domain::tag::TagError::TooMany { .. }) => {
            AwsError::new("LimitExceededException", tag.to_string())
        }
        Tag(tag) => AwsError::new("TagException", tag.to_string()),
        TooManyKeys(limit) => AwsError::new(
            "LimitExceededException",
            format!("The request was rejected because the account already has {limit} keys."),
        ),
        RotationUnsupportedKeyType(_) | RotationUnsupportedOrigin(_) | NotServed(_) => {
            AwsError::new("UnsupportedOperationException", error.to_string())
        }
        RotationLimitExceeded(_) => AwsError::new("LimitExceededException", error.to_string()),
        ExternalKeyRequired(_) => AwsError::new("UnsupportedOperationException", error.to_string()),
        InvalidImportToken(_) | ImportTokenKeyMismatch => {
            AwsError::new("InvalidImportTokenException", error.to_string())
        }
        ExpiredImportToken => AwsError::new("ExpiredImportTokenException", error.to_string()),
        IncorrectKeyMaterial(_) | DifferentKeyMaterial => {
            AwsError::new("IncorrectKeyMaterialException", error.to_string())
        }
        UnwrappableKeyMaterial(_) => AwsError::new("InvalidCiphertextException", error.to_string()),
        MaterialNotDeletable => AwsError::new("KMSInvalidStateException", error.to_string()),
        MultiRegionUnsupported(message) => AwsError::new("UnsupportedOperationException", message),
        ReplicaExists(message) => AwsError::new("AlreadyExistsException", message),
        NoReplicaInRegion(message) => AwsError::new("NotFoundException", message),
        PrimaryHasReplicas(message) => AwsError::new("KMSInvalidStateException", message),
        MalformedPolicy(message) => AwsError::new("MalformedPolicyDocumentException", message),
        // Huawei trusted key spaces only; should they reach the AWS dialect.
        InvalidKeyspacePolicy(_) => AwsError::new("ValidationException", error.to_string()),
        KeyspacePolicyNotFound(_) => AwsError::new("NotFoundException", error.to_string()),
        CapsuleDenied(_) => AwsError::new("AccessDeniedException", error.to_string()),
        PolicyTooLarge { .. } => AwsError::new("LimitExceededException", error.to_string()),
        IncorrectKey => AwsError::new(
            "IncorrectKeyException",
            "The key ID in the request does not identify a KMS key that can perform this operation.",
        ),
        // Real AWS sends this one with an empty message: it does not say what was wrong
        // (another key, another context, damage), and neither do we.
        InvalidCipherText(_) => AwsError::new("InvalidCiphertextException", ""),
        DryRunSucceeded => AwsError::new("DryRunOperationException", error.to_string()),
        KeyType(
            KeySpecError::AlgorithmNotAllowed { .. } | KeySpecError::OperationNotAllowed { .. },
        ) => AwsError::new("InvalidKeyUsageException", error.to_string()),
        InvalidSignature => AwsError::new("KMSInvalidSignatureException", error.to_string()),
        InvalidMac => AwsError::new("KMSInvalidMacException", error.to_string()),
        StoreUnavailable | OutcomeUnknown(_) | Overloaded => {
            AwsError::new("DependencyTimeoutException", error.to_string())
        }
        Internal => AwsError::new("KMSInternalException", error.to_string()),
        MalformedJson(message) => AwsError::serialization(message),
        BodyTooLarge { .. } => AwsError::validation(error.to_string()),
        other => AwsError::validation(other.to_string()),
    }
}

/// AccessDeniedException's message in AWS's words, which say which kind of policy
/// refused (identity-based, resource-based, explicit deny) for keys of the caller's
/// account, and nothing about whether a key of another account exists.
fn access_denied(denial: &Denial, cx: &Context<'_>) -> String {
    let who = cx.caller_arn;
    let action = cx.action;
    let key = denial.resource.as_deref().or(cx.key_arn).unwrap_or("*");
    match (denial.scope, denial.basis) {
        (DenialScope::NoKey, DenialBasis::ExplicitIdentityDeny) => format!(
            "User: {who} is not authorized to perform: {action} with an explicit deny in an identity-based policy"
        ),
        (DenialScope::NoKey, DenialBasis::Rule) => {
            format!(
                "User: {who} is not authorized to perform: {action} because {}",
                denial.message
            )
        }
        (DenialScope::NoKey, _) => format!(
            "User: {who} is not authorized to perform: {action} because no identity-based policy allows the {action} action"
        ),
        (DenialScope::ForeignKey, _) => format!(
            "User: {who} is not authorized to perform: {action} on this resource because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access"
        ),
        (DenialScope::OwnKey, DenialBasis::ExplicitIdentityDeny) => format!(
            "User: {who} is not authorized to perform: {action} on resource: {key} with an explicit deny in an identity-based policy"
        ),
        (DenialScope::OwnKey, DenialBasis::ExplicitResourceDeny) => format!(
            "User: {who} is not authorized to perform: {action} on resource: {key} with an explicit deny in a resource-based policy"
        ),
        (DenialScope::OwnKey, DenialBasis::NoIdentityAllow) => format!(
            "User: {who} is not authorized to perform: {action} on resource: {key} because no identity-based policy allows the {action} action"
        ),
        (DenialScope::OwnKey, DenialBasis::NoResourceAllow) => format!(
            "User: {who} is not authorized to perform: {action} on resource: {key} because no resource-based policy allows the {action} action"
        ),
        (DenialScope::OwnKey, DenialBasis::Rule) => format!(
            "User: {who} is not authorized to perform: {action} on resource: {key} because {}",
            denial.message
        ),
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        // Real AWS writes AccessDeniedException's text under a capital `Message`
        // (spec §2.1); every other KMS error uses `message`. botocore reads both.
        let body = if self.code == "AccessDeniedException" {
            json!({"__type": self.code, "Message": self.message})
        } else {
            json!({"__type": self.code, "message": self.message})
        };
        let mut response = (self.status(), body.to_string()).into_response();
        response.headers_mut().insert(
            "content-type",
            HeaderValue::from_static(super::CONTENT_TYPE),
        );
        response.extensions_mut().insert(LoggedErrorCode(self.code));
        response
    }
}

/// A handler of this dialect that panicked: logged, and answered as AWS answers an
/// internal failure (the outer layer would answer in the Huawei format).
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("AWS handler panicked");
    AwsError::new("KMSInternalException", KmsError::Internal.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx() -> Context<'static> {
        Context {
            key_arn: Some("arn:aws:kms:eu-de:111122223333:key/k"),
            caller_arn: "arn:aws:iam::111122223333:user/bob",
            action: "kms:Encrypt",
        }
    }

    #[test]
    fn domain_errors_get_aws_types_and_status_400() {
        let cases = [
            (KmsError::KeyNotFound("x".into()), "NotFoundException"),
            (KmsError::GrantNotFound("g".into()), "NotFoundException"),
            (
                KmsError::InvalidGrantId("g".into()),
                "InvalidGrantIdException",
            ),
            (KmsError::KeyDisabled, "DisabledException"),
            (KmsError::KeyPendingDeletion, "KMSInvalidStateException"),
            (
                KmsError::AccessDenied(Denial::rule(DenialScope::OwnKey, "no")),
                "AccessDeniedException",
            ),
            (
                KmsError::TooManyGrants {
                    key_id: "k".into(),
                    limit: 3,
                },
                "LimitExceededException",
            ),
            (KmsError::DryRunSucceeded, "DryRunOperationException"),
            (
                KmsError::InvalidCipherText("x".into()),
                "InvalidCiphertextException",
            ),
            (
                KmsError::InvalidPendingDays("x".into()),
                "ValidationException",
            ),
        ];
        for (error, code) in cases {
            let aws = from_kms(error, &cx());
            assert_eq!(aws.code, code);
            assert_eq!(aws.status(), StatusCode::BAD_REQUEST);
        }
        assert_eq!(
            from_kms(KmsError::KeyDisabled, &cx()).message,
            "arn:aws:kms:eu-de:111122223333:key/k is disabled."
        );
        assert_eq!(
            from_kms(KmsError::Internal, &cx()).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn panics_are_answered_in_the_aws_format() {
        let response = panic_response(Box::new("boom"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()["content-type"],
            super::super::CONTENT_TYPE
        );
        assert_eq!(
            response.extensions().get::<LoggedErrorCode>().map(|c| c.0),
            Some("KMSInternalException")
        );
    }
}
