//! HTTP front ends. Each dialect turns its wire format into `service` calls and maps
//! `KmsError` to its own error bodies; the shared middleware gives every exchange a
//! request ID and a log line.

pub mod huawei;
pub mod iam;
pub mod openapi;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tracing::Instrument;

use crate::auth::Identities;
use crate::service::Kms;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub kms: Arc<Kms>,
    pub identities: Arc<Identities>,
    pub max_body_bytes: usize,
    /// Lifetime of the IAM tokens `POST /v3/auth/tokens` issues.
    pub token_lifetime: time::Duration,
}

/// The request ID of the current exchange, also sent back as `X-Request-Id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Set by handlers on error responses so the access log names the error code.
#[derive(Debug, Clone)]
pub struct LoggedErrorCode(pub &'static str);

pub fn router(state: AppState, request_timeout: Duration) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .merge(iam::routes(state.max_body_bytes))
        .merge(openapi::routes())
        .merge(huawei::routes(state.max_body_bytes))
        .with_state(state)
        .layer(
            tower::ServiceBuilder::new()
                .layer(middleware::from_fn(request_context))
                .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                    huawei::error::panic_response,
                ))
                .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    request_timeout,
                )),
        )
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.kms.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// A client-supplied request ID is kept when it is short and plain, so callers can
/// correlate; otherwise a new 32-hex one is made, as the Huawei gateway does.
fn request_id_for(request: &Request) -> String {
    request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

async fn request_context(mut request: Request, next: Next) -> Response {
    let request_id = request_id_for(&request);
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    // Only method and path are logged: headers carry tokens and signatures.
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let error_code = response.extensions().get::<LoggedErrorCode>().map(|c| c.0);
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            error_code = error_code.unwrap_or(""),
            latency_us = started.elapsed().as_micros() as u64,
            "response"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
