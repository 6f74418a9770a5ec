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

mod clock;

/// The largest snapshot `POST /_emulator/snapshot` takes.
pub const MAX_SNAPSHOT_BYTES: usize = 64 * 1024 * 1024;

pub fn routes(max_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/_emulator/reset",
            post(reset).layer(axum::extract::DefaultBodyLimit::max(max_body_bytes)),
        )
        .route(
            "/_emulator/snapshot",
            axum::routing::get(export_snapshot)
                .post(import_snapshot)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_SNAPSHOT_BYTES)),
        )
        .route(
            "/_emulator/clock",
            axum::routing::get(clock::show)
                .post(clock::advance)
                .layer(axum::extract::DefaultBodyLimit::max(max_body_bytes)),
        )
}

pub(super) type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// Who asked (for the audit trail), or `None` for a peer the operator API does not answer.
pub(super) fn admit(state: &AppState, peer: Peer) -> Option<String> {
    let peer = peer.map(|Extension(ConnectInfo(address))| address);
    if !operator_api_allowed(peer.map(|p| p.ip()), state.operator_api) {
        return None;
    }
    Some(match peer {
        Some(peer) => format!("operator:http {}", peer.ip()),
        None => "operator:http".to_owned(),
    })
}

pub(super) fn forbidden() -> Response {
    operator_error(
        StatusCode::FORBIDDEN,
        "EMULATOR.0403",
        "The operator API answers loopback clients only; start the service with \
         --operator-api (KMS_OPERATOR_API=true) to allow others."
            .into(),
    )
}

fn store_error(error: crate::store::StoreError, request_id: &RequestId) -> Response {
    // Outages answer 503 like every other request; anything else is a 500.
    super::huawei::error::error_response(crate::domain::KmsError::from(error), request_id)
}

async fn export_snapshot(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    peer: Peer,
) -> Response {
    if admit(&state, peer).is_none() {
        return forbidden();
    }
    match state.kms.export_snapshot().await {
        Ok(snapshot) => Json(snapshot).into_response(),
        Err(error) => store_error(error, &request_id),
    }
}

async fn import_snapshot(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    peer: Peer,
    body: Bytes,
) -> Response {
    let Some(actor) = admit(&state, peer) else {
        return forbidden();
    };
    let snapshot: crate::store::Snapshot = match serde_json::from_slice(&body) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            return operator_error(
                StatusCode::BAD_REQUEST,
                "EMULATOR.0400",
                format!("The body must be a snapshot, as GET /_emulator/snapshot answers: {error}"),
            );
        }
    };
    if let Err(message) = snapshot.validate() {
        return operator_error(StatusCode::BAD_REQUEST, "EMULATOR.0400", message);
    }
    match state
        .kms
        .import_snapshot(&snapshot, &actor, &request_id.0)
        .await
    {
        Ok(counts) => Json(json!({
            "imported": {"keys": snapshot.keys.len(), "grants": snapshot.grants.len()},
            "deleted": {"keys": counts.keys, "grants": counts.grants},
        }))
        .into_response(),
        Err(error) => store_error(error, &request_id),
    }
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
    peer: Peer,
    body: Bytes,
) -> Response {
    let Some(actor) = admit(&state, peer) else {
        return forbidden();
    };
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
    match state.kms.reset(&scope, &actor, &request_id.0).await {
        Ok((counts, seeded)) => Json(crate::operator::reset_report(
            &scope,
            &counts,
            seeded.as_ref(),
        ))
        .into_response(),
        Err(crate::service::SeedError::Store(error)) => store_error(error, &request_id),
        // The reset went through; the seed could not go back beside what remains.
        Err(crate::service::SeedError::Invalid(message)) => operator_error(
            StatusCode::CONFLICT,
            "EMULATOR.0409",
            format!("The reset went through, but the seed could not be loaded again: {message}"),
        ),
    }
}
