//! `KmsError` in the Huawei/OTC wire format: a status and
//! `{"error":{"error_code":"KMS.xxxx","error_msg":"..."}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::api::{LoggedErrorCode, RequestId};
use crate::domain::KmsError;
use crate::domain::authz::evaluate::DenialScope;
use crate::domain::key_spec::KeySpecError;
use crate::domain::tag::{KeyProblem, MatchPart, TagError};

/// The tag errors' codes (OTC error table, tag API rows KMS.0401–0417).
fn tag_status_and_code(error: &TagError) -> (StatusCode, &'static str) {
    match error {
        TagError::EmptyList => (StatusCode::BAD_REQUEST, "KMS.0401"),
        TagError::InvalidKey(_, KeyProblem::Length) => (StatusCode::BAD_REQUEST, "KMS.0411"),
        TagError::InvalidKey(..) | TagError::DuplicateKey(_) | TagError::Reserved(_) => {
            (StatusCode::BAD_REQUEST, "KMS.0406")
        }
        TagError::InvalidValue(_, KeyProblem::Length) => (StatusCode::BAD_REQUEST, "KMS.0410"),
        TagError::InvalidValue(..) => (StatusCode::BAD_REQUEST, "KMS.0405"),
        TagError::TooMany { .. } => (StatusCode::BAD_REQUEST, "KMS.0409"),
        TagError::NotFound(_) => (StatusCode::NOT_FOUND, "KMS.0416"),
        TagError::FilterTooManyKeys => (StatusCode::BAD_REQUEST, "KMS.0412"),
        TagError::FilterTooManyValues => (StatusCode::BAD_REQUEST, "KMS.0413"),
        TagError::InvalidAction(..) => (StatusCode::BAD_REQUEST, "KMS.0404"),
        TagError::InvalidMatch(_, MatchPart::Key) => (StatusCode::BAD_REQUEST, "KMS.0403"),
        TagError::InvalidMatch(_, MatchPart::Value) => (StatusCode::BAD_REQUEST, "KMS.0402"),
        TagError::InvalidOffset(_) => (StatusCode::BAD_REQUEST, "KMS.0417"),
    }
}

/// The documented status and code for each error (spec §11).
pub fn status_and_code(error: &KmsError) -> (StatusCode, &'static str) {
    use KmsError::*;
    match error {
        MalformedJson(_) => (StatusCode::BAD_REQUEST, "KMS.0202"),
        BodyTooLarge { .. } => (StatusCode::BAD_REQUEST, "KMS.0203"),
        MissingParameter(_) => (StatusCode::BAD_REQUEST, "KMS.0204"),
        InvalidKeyId(_) => (StatusCode::BAD_REQUEST, "KMS.0205"),
        InvalidSequence => (StatusCode::BAD_REQUEST, "KMS.0206"),
        InvalidGrantId(_) | GrantNotFound(_) => (StatusCode::BAD_REQUEST, "KMS.2501"),
        GrantKeyMismatch { .. } => (StatusCode::BAD_REQUEST, "KMS.2502"),
        InvalidPrincipal(_) => (StatusCode::BAD_REQUEST, "KMS.2402"),
        InvalidParameter(_) => (StatusCode::BAD_REQUEST, "KMS.0308"),
        OnlyCreateGrant => (StatusCode::BAD_REQUEST, "KMS.2401"),
        InvalidLimit(_) => (StatusCode::BAD_REQUEST, "KMS.1601"),
        InvalidMarker(_) => (StatusCode::BAD_REQUEST, "KMS.1602"),
        InvalidKeyAlias(_) => (StatusCode::BAD_REQUEST, "KMS.1101"),
        InvalidKeyDescription(_) => (StatusCode::BAD_REQUEST, "KMS.1103"),
        DuplicateKeyAlias(_) => (StatusCode::BAD_REQUEST, "KMS.1104"),
        // AWS aliases (the Huawei dialect has no alias operations): the key_alias codes.
        InvalidAliasName(_) | ReservedAliasName(_) => (StatusCode::BAD_REQUEST, "KMS.1101"),
        AliasExists(_) => (StatusCode::BAD_REQUEST, "KMS.1104"),
        AliasNotFound(_) => (StatusCode::NOT_FOUND, "KMS.0207"),
        Tag(tag) => tag_status_and_code(tag),
        TooManyKeys(_) => (StatusCode::BAD_REQUEST, "KMS.1105"),
        TooManyGrants { .. } => (StatusCode::BAD_REQUEST, "KMS.2404"),
        KeyNotFound(_) => (StatusCode::NOT_FOUND, "KMS.0207"),
        // Pending import has no documented code; KMS.0209 ("not usable") is the closest.
        KeyDisabled | KeyPendingImport => (StatusCode::BAD_REQUEST, "KMS.0209"),
        KeyPendingDeletion => (StatusCode::BAD_REQUEST, "KMS.0210"),
        // KMS.0307 ("no permission to access the API") for actions on no key, KMS.0306
        // ("no permission to access the key") for the rest.
        AccessDenied(denial) if denial.scope == DenialScope::NoKey => {
            (StatusCode::FORBIDDEN, "KMS.0307")
        }
        AccessDenied(_) => (StatusCode::FORBIDDEN, "KMS.0306"),
        AuthMissing(_) => (StatusCode::FORBIDDEN, "KMS.0301"),
        AuthInvalid => (StatusCode::FORBIDDEN, "KMS.0302"),
        AuthExpired => (StatusCode::FORBIDDEN, "KMS.0303"),
        ProjectMismatch(_) => (StatusCode::FORBIDDEN, "KMS.0321"),
        SignatureRejected(_) => (StatusCode::UNAUTHORIZED, "APIGW.0301"),
        UnknownAction(_) => (StatusCode::BAD_REQUEST, "KMS.0201"),
        MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "KMS.0215"),
        NotServed(_) => (StatusCode::NOT_IMPLEMENTED, "EMULATOR.0501"),
        KeyNotDisabled => (StatusCode::BAD_REQUEST, "KMS.1201"),
        KeyNotEnabled => (StatusCode::BAD_REQUEST, "KMS.1301"),
        InvalidPendingDays(_) => (StatusCode::BAD_REQUEST, "KMS.1401"),
        KeyAlreadyPendingDeletion => (StatusCode::BAD_REQUEST, "KMS.1402"),
        KeyNotPendingDeletion => (StatusCode::BAD_REQUEST, "KMS.1501"),
        RotationUnsupportedKeyType(_) => (StatusCode::BAD_REQUEST, "KMS.0324"),
        RotationUnsupportedOrigin(_) => (StatusCode::BAD_REQUEST, "KMS.0312"),
        RotationNotEnabled => (StatusCode::BAD_REQUEST, "KMS.0313"),
        // Huawei documents no code for it; the generic invalid-parameter one.
        RotationLimitExceeded(_) => (StatusCode::BAD_REQUEST, "KMS.0308"),
        // Imported material: the codes of Huawei's "Importing CMK material" error table.
        ExternalKeyRequired(_) => (StatusCode::BAD_REQUEST, "KMS.0309"),
        InvalidImportToken(_) | ExpiredImportToken => (StatusCode::BAD_REQUEST, "KMS.2601"),
        InvalidExpiration(_) => (StatusCode::BAD_REQUEST, "KMS.2602"),
        ImportTokenKeyMismatch => (StatusCode::BAD_REQUEST, "KMS.2603"),
        IncorrectKeyMaterial(_) => (StatusCode::BAD_REQUEST, "KMS.2604"),
        UnwrappableKeyMaterial(_) => (StatusCode::BAD_REQUEST, "KMS.2605"),
        DifferentKeyMaterial => (StatusCode::BAD_REQUEST, "KMS.2606"),
        MaterialNotDeletable => (StatusCode::BAD_REQUEST, "KMS.2701"),
        // Multi-Region keys: Huawei documents no codes of its own for these refusals; the
        // generic invalid-parameter code, and key-not-found for a region without the key.
        MultiRegionUnsupported(_) | ReplicaExists(_) | PrimaryHasReplicas(_) => {
            (StatusCode::BAD_REQUEST, "KMS.0308")
        }
        NoReplicaInRegion(_) => (StatusCode::NOT_FOUND, "KMS.0207"),
        InvalidEncryptionContext(_) => (StatusCode::BAD_REQUEST, "KMS.0208"),
        // Trusted key spaces: Huawei publishes no codes of their own for these. A policy
        // that is not JSON of the documented shape is an invalid request body (KMS.0202);
        // a missing policy is "resource not found" (404, KMS.0207 as for a missing key);
        // a capsule its policy refuses is "no permission to access the key" (KMS.0306).
        InvalidKeyspacePolicy(_) => (StatusCode::BAD_REQUEST, "KMS.0202"),
        KeyspacePolicyNotFound(_) => (StatusCode::NOT_FOUND, "KMS.0207"),
        CapsuleDenied(_) => (StatusCode::FORBIDDEN, "KMS.0306"),
        InvalidPlainText(_) => (StatusCode::BAD_REQUEST, "KMS.2101"),
        InvalidDekLength(_) => (StatusCode::BAD_REQUEST, "KMS.2102"),
        DekHashMismatch => (StatusCode::BAD_REQUEST, "KMS.2103"),
        DekPlainLengthMismatch(_) => (StatusCode::BAD_REQUEST, "KMS.2104"),
        InvalidCipherText(_) => (StatusCode::BAD_REQUEST, "KMS.2201"),
        DekCipherLengthMismatch(_) => (StatusCode::BAD_REQUEST, "KMS.2204"),
        DatakeyLengthOutOfRange(_) => (StatusCode::BAD_REQUEST, "KMS.1901"),
        InvalidDatakeySpec => (StatusCode::BAD_REQUEST, "KMS.1902"),
        DatakeyLengthNotByteAligned => (StatusCode::BAD_REQUEST, "KMS.1903"),
        RandomLengthOutOfRange(_) => (StatusCode::BAD_REQUEST, "KMS.1801"),
        RandomLengthNotByteAligned => (StatusCode::BAD_REQUEST, "KMS.1802"),
        KeyType(KeySpecError::OperationNotAllowed {
            operation, usage, ..
        }) => match (*operation, usage.as_str()) {
            ("Sign" | "Verify", _) => (StatusCode::BAD_REQUEST, "KMS.1115"),
            (_, "SIGN_VERIFY") => (StatusCode::BAD_REQUEST, "KMS.0335"),
            _ => (StatusCode::BAD_REQUEST, "KMS.0308"),
        },
        KeyType(KeySpecError::AlgorithmNotAllowed {
            kind: "SigningAlgorithm",
            ..
        }) => (StatusCode::BAD_REQUEST, "KMS.0332"),
        KeyType(_) => (StatusCode::BAD_REQUEST, "KMS.0308"),
        // Huawei answers a signature or MAC that does not verify with 200 and
        // `signature_valid` / `mac_valid` false; these never reach its wire.
        InvalidSignature | InvalidMac => (StatusCode::BAD_REQUEST, "KMS.0308"),
        // Only the AWS dialect sets DryRun, key policies and an expected key for decryption;
        // should they ever reach here, they are invalid parameters.
        DryRunSucceeded | MalformedPolicy(_) | PolicyTooLarge { .. } | IncorrectKey => {
            (StatusCode::BAD_REQUEST, "KMS.0308")
        }
        // A timed-out request or a commit cut off mid-way: an outage too, with a message that says
        // the outcome is unknown.
        StoreUnavailable | OutcomeUnknown(_) | Overloaded => {
            (StatusCode::SERVICE_UNAVAILABLE, "KMS.0104")
        }
        Internal => (StatusCode::INTERNAL_SERVER_ERROR, "KMS.0103"),
    }
}

/// A `KmsError` ready to be sent in the Huawei dialect.
pub struct HuaweiError(pub KmsError);

impl From<KmsError> for HuaweiError {
    fn from(error: KmsError) -> Self {
        Self(error)
    }
}

impl IntoResponse for HuaweiError {
    fn into_response(self) -> Response {
        respond(&self.0, None)
    }
}

/// Errors the API gateway answers itself, before KMS sees the request: they use the
/// gateway's flat body, which carries the request ID.
fn is_gateway_error(error: &KmsError) -> bool {
    matches!(error, KmsError::SignatureRejected(_))
}

/// `error` as a response, with `request_id` in the body when the gateway's flat shape needs it.
pub fn error_response(error: KmsError, request_id: &RequestId) -> Response {
    respond(&error, Some(&request_id.0))
}

fn respond(error: &KmsError, request_id: Option<&str>) -> Response {
    let (status, code) = status_and_code(error);
    let body = if is_gateway_error(error) {
        json!({"error_code": code, "error_msg": error.to_string(), "request_id": request_id.unwrap_or("")})
    } else {
        json!({"error": {"error_code": code, "error_msg": error.to_string()}})
    };
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(LoggedErrorCode(code));
    response
}

/// An unknown URL, answered as the Huawei API gateway does: 404 with a flat body.
pub fn gateway_not_found(request_id: &str) -> Response {
    let body = json!({
        "error_code": "APIGW.0101",
        "error_msg": "The API does not exist or has not been published in the environment",
        "request_id": request_id,
    });
    let mut response = (StatusCode::NOT_FOUND, Json(body)).into_response();
    response
        .extensions_mut()
        .insert(LoggedErrorCode("APIGW.0101"));
    response
}

/// A handler that panicked: logged, and answered like any internal error.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    HuaweiError(KmsError::Internal).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_errors_use_the_documented_codes() {
        assert_eq!(
            status_and_code(&KmsError::GrantNotFound("x".into())),
            (StatusCode::BAD_REQUEST, "KMS.2501")
        );
        assert_eq!(
            status_and_code(&KmsError::InvalidGrantId("x".into())),
            (StatusCode::BAD_REQUEST, "KMS.2501")
        );
        assert_eq!(
            status_and_code(&KmsError::KeyNotFound("x".into())),
            (StatusCode::NOT_FOUND, "KMS.0207")
        );
        assert_eq!(
            status_and_code(&KmsError::AccessDenied(crate::domain::authz::Denial::rule(
                DenialScope::OwnKey,
                "x"
            ))),
            (StatusCode::FORBIDDEN, "KMS.0306")
        );
        assert_eq!(
            status_and_code(&KmsError::OnlyCreateGrant),
            (StatusCode::BAD_REQUEST, "KMS.2401")
        );
    }
}
