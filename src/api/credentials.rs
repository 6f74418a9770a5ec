//! Who sent a request, for every API that takes Huawei's credentials (the KMS API and
//! IAM's project discovery): an AK/SK signature, or an `X-Auth-Token`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use time::OffsetDateTime;

use super::AppState;
use crate::auth::aksk;
use crate::auth::iam::{self, TokenHolder, TokenScope};
use crate::auth::identities::User;
use crate::domain::{Caller, KmsError};

/// The parts of the request that authentication looks at.
#[derive(Clone, Copy)]
pub(crate) struct Request<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
}

/// The body an AK/SK signature covers, or `None` for token requests. A signature
/// covers the body, so an unreadable body fails AK/SK requests before authentication;
/// token requests are authenticated first.
pub(crate) fn signed_body<'b>(
    headers: &HeaderMap,
    body: &'b Result<Bytes, BytesRejection>,
    max_body_bytes: usize,
) -> Result<Option<&'b [u8]>, KmsError> {
    if aksk::is_aksk(headers) {
        Ok(Some(read_body(body, max_body_bytes)?.as_ref()))
    } else {
        Ok(None)
    }
}

/// The body, or the error for a body that could not be read.
pub(crate) fn read_body(
    body: &Result<Bytes, BytesRejection>,
    max_body_bytes: usize,
) -> Result<&Bytes, KmsError> {
    body.as_ref().map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            KmsError::BodyTooLarge {
                limit: max_body_bytes,
            }
        } else {
            KmsError::MalformedJson("the body could not be read.".into())
        }
    })
}

/// The user behind a request: an AK/SK signature when `Authorization` names an
/// `...-HMAC-...` scheme (then `signed_body` is the body), else `X-Auth-Token`.
pub(crate) async fn authenticated_user<'s>(
    state: &'s AppState,
    request: Request<'_>,
    signed_body: Option<&[u8]>,
) -> Result<(&'s User, TokenScope), KmsError> {
    let now = OffsetDateTime::now_utc();
    if let Some(body) = signed_body {
        let parts = aksk::RequestParts {
            method: request.method.as_str(),
            path: request.uri.path(),
            query: request.uri.query(),
            headers: request.headers,
            body,
        };
        let user = aksk::verify(&state.identities, &parts, now)?;
        // The SDK names the project in X-Project-Id; it must agree with the URL's.
        let scope = match request.headers.get("x-project-id") {
            Some(value) => TokenScope::Project(
                value
                    .to_str()
                    .map_err(|_| KmsError::ProjectMismatch("X-Project-Id is not text.".into()))?
                    .to_owned(),
            ),
            None => TokenScope::UsersProjects,
        };
        return Ok((user, scope));
    }
    let token = match request.headers.get("x-auth-token") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| KmsError::AuthInvalid)?),
    };
    let holder = iam::token_holder(&state.identities, state.tokens.as_ref(), token, now).await?;
    Ok((holder.user, holder.scope))
}

/// The caller of a KMS request in the URL's project.
pub(crate) async fn authenticate(
    state: &AppState,
    request: Request<'_>,
    signed_body: Option<&[u8]>,
    project_id: &str,
    request_id: &str,
) -> Result<Caller, KmsError> {
    let (user, scope) = authenticated_user(state, request, signed_body).await?;
    iam::caller_in_project(
        &state.identities,
        &TokenHolder { user, scope },
        project_id,
        request_id,
    )
}
