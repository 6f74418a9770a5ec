//! The operator API, under a prefix no KMS path uses: `POST /_emulator/reset` deletes keys
//! and grants (all, or one project's, domain's or AWS account's) for test suites, as moto's
//! `POST /moto-api/reset` does. It answers loopback peers, or every peer when the service
//! runs with `--operator-api` (see `domain::reset::operator_api_allowed`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{AppState, LoggedErrorCode, RequestId};
use crate::domain::reset::operator_api_allowed;

pub fn routes(max_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/_emulator/reset", post(reset))
        .layer(axum::extract::DefaultBodyLimit::max(max_body_bytes))
}

/// The body of a reset: empty (or `{}`) for everything, or one of the three scopes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    project_id: Option<String>,
    domain_id: Option<String>,
    account: Option<String>,
}

fn operator_error(status: StatusCode, code: &'static str, message: String) -> Response {
    let body = json!({"error": {"error_code": code, "error_msg": message}});
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(LoggedErrorCode(code));
    response
}

async fn reset(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Response {
    let peer = peer.map(|Extension(ConnectInfo(address))| address);
    if !operator_api_allowed(peer.map(|p| p.ip()), state.operator_api) {
        return operator_error(
            StatusCode::FORBIDDEN,
            "EMULATOR.0403",
            "The operator API answers loopback clients only; start the service with \
             --operator-api (KMS_OPERATOR_API=true) to allow others."
                .into(),
        );
    }
    let body: ResetBody = if body.iter().all(u8::is_ascii_whitespace) {
        ResetBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(body) => body,
            Err(error) => {
                return operator_error(
                    StatusCode::BAD_REQUEST,
                    "EMULATOR.0400",
                    format!(
                        "The body must be empty or a JSON object with one of project_id, \
                         domain_id or account: {error}"
                    ),
                );
            }
        }
    };
    let scope = match crate::operator::reset_scope(
        &state.identities,
        body.project_id.as_deref(),
        body.domain_id.as_deref(),
        body.account.as_deref(),
    ) {
        Ok(scope) => scope,
        Err(message) => return operator_error(StatusCode::BAD_REQUEST, "EMULATOR.0400", message),
    };
    let actor = match peer {
        Some(peer) => format!("operator:http {}", peer.ip()),
        None => "operator:http".to_owned(),
    };
    match state.kms.reset(&scope, &actor, &request_id.0).await {
        Ok(counts) => Json(crate::operator::reset_report(&scope, &counts)).into_response(),
        Err(error) => {
            // Outages answer 503 like every other request; anything else is a 500.
            let error = crate::domain::KmsError::from(error);
            super::huawei::error::error_response(error, &request_id)
        }
    }
}
