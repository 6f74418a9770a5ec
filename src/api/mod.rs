//! HTTP front ends. Each dialect turns its wire format into `service` calls and maps
//! `KmsError` to its own error bodies; the shared middleware gives every exchange a
//! request ID and a log line.

pub mod aws;
pub mod credentials;
pub mod huawei;
pub mod iam;
mod middleware;
pub mod openapi;

pub use middleware::{LoggedErrorCode, RequestId};

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::Identities;
use crate::service::Kms;
use crate::store::TokenStore;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub kms: Arc<Kms>,
    pub identities: Arc<Identities>,
    /// The IAM tokens `POST /v3/auth/tokens` issues and every KMS request may present.
    pub tokens: Arc<dyn TokenStore>,
    pub max_body_bytes: usize,
    /// Lifetime of the IAM tokens `POST /v3/auth/tokens` issues.
    pub token_lifetime: time::Duration,
}

pub fn router(state: AppState, request_timeout: Duration) -> Router {
    with_request_layers(routes(state), request_timeout)
}

/// What connections past the connection limit get (see `server`): `/health` and `/ready` as
/// usual, every other request a 503 in its dialect's format.
pub fn overflow_router(state: AppState, request_timeout: Duration) -> Router {
    with_request_layers(
        routes(state).layer(axum::middleware::from_fn(only_probes)),
        request_timeout,
    )
}

fn routes(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .merge(iam::routes(state.max_body_bytes))
        .merge(openapi::routes())
        .merge(huawei::routes(state.max_body_bytes))
        // `POST /` is the AWS JSON 1.1 endpoint; the Huawei router keeps `GET /`.
        .route(
            "/",
            axum::routing::post(aws::dispatch)
                .layer::<_, std::convert::Infallible>(axum::extract::DefaultBodyLimit::max(
                    state.max_body_bytes,
                ))
                .layer::<_, std::convert::Infallible>(
                    tower_http::catch_panic::CatchPanicLayer::custom(aws::error::panic_response),
                ),
        )
        .with_state(state)
}

fn with_request_layers(routes: Router, request_timeout: Duration) -> Router {
    routes.layer(
        tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn(middleware::request_context))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                huawei::error::panic_response,
            ))
            .layer(axum::middleware::from_fn_with_state(
                request_timeout,
                answer_within,
            )),
    )
}

/// Answers a request still running after `timeout` with a KMS error (503) instead of an empty
/// body, so clients parse it like any other outage. The handler is dropped, which rolls back
/// its transaction, unless it was cut off inside its commit: hence "may or may not".
/// Each dialect answers in its own error format (AWS: DependencyTimeoutException).
async fn answer_within(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let aws = is_aws(&request);
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_secs = timeout.as_secs(), "request timed out");
            let error = crate::domain::KmsError::OutcomeUnknown(format!(
                "The request did not complete within {} s and was abandoned.",
                timeout.as_secs()
            ));
            error_response(aws, error)
        }
    }
}

/// Whether a request is in the AWS dialect (JSON 1.1 on `POST /`), for errors answered
/// before any handler runs.
fn is_aws(request: &Request) -> bool {
    request.uri().path() == "/" && request.headers().contains_key("x-amz-target")
}

/// An outage-class error (503) in the dialect's format.
fn error_response(aws: bool, error: crate::domain::KmsError) -> Response {
    if aws {
        aws::error::AwsError::new("DependencyTimeoutException", error.to_string()).into_response()
    } else {
        huawei::error::HuaweiError(error).into_response()
    }
}

async fn only_probes(request: Request, next: Next) -> Response {
    match request.uri().path() {
        "/health" | "/ready" => next.run(request).await,
        _ => error_response(is_aws(&request), crate::domain::KmsError::Overloaded),
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.kms.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}
