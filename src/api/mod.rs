//! HTTP front ends. Each dialect turns its wire format into `service` calls and maps
//! `KmsError` to its own error bodies; the shared middleware gives every exchange a
//! request ID and a log line.

pub mod aws;
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
        .layer(
            tower::ServiceBuilder::new()
                .layer(middleware::from_fn(request_context))
                .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                    huawei::error::panic_response,
                ))
                .layer(middleware::from_fn_with_state(
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
    let aws = request.uri().path() == "/" && request.headers().contains_key("x-amz-target");
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_secs = timeout.as_secs(), "request timed out");
            let error = crate::domain::KmsError::OutcomeUnknown(format!(
                "The request did not complete within {} s and was abandoned.",
                timeout.as_secs()
            ));
            if aws {
                aws::error::AwsError::new("DependencyTimeoutException", error.to_string())
                    .into_response()
            } else {
                huawei::error::HuaweiError(error).into_response()
            }
        }
    }
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
