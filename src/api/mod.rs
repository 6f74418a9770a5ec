//! HTTP front ends. Each dialect turns its wire format into `service` calls and maps
//! `KmsError` to its own error bodies; the shared middleware gives every exchange a
//! request ID and a log line.

pub mod aws;
pub mod console;
pub mod credentials;
pub mod huawei;
pub mod iam;
pub mod metrics;
mod middleware;
pub mod openapi;
pub mod operator;

pub use middleware::{LoggedErrorCode, RequestId};

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::domain::KeyState;

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
    /// Failed-login lockout of `POST /v3/auth/tokens`; `None` when off.
    pub login_lockout: Option<crate::auth::iam::LoginLockout>,
    /// `--operator-api`: the operator API answers every peer, not only loopback ones.
    pub operator_api: bool,
    /// What `GET /metrics` reports; the request middleware counts into it.
    pub metrics: Arc<metrics::Metrics>,
}

pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let metrics = state.metrics.clone();
    with_request_layers(routes(state), request_timeout, metrics)
}

/// What connections past the connection limit get (see `server`): `/health`, `/ready` and
/// `/metrics` as usual, every other request a 503 in its dialect's format.
pub fn overflow_router(state: AppState, request_timeout: Duration) -> Router {
    let metrics = state.metrics.clone();
    with_request_layers(
        routes(state).layer(axum::middleware::from_fn(only_probes)),
        request_timeout,
        metrics,
    )
}

fn routes(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics::scrape))
        .merge(iam::routes(state.max_body_bytes))
        .merge(openapi::routes())
        .merge(operator::routes(state.max_body_bytes))
        .merge(console::routes())
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

fn with_request_layers(
    routes: Router,
    request_timeout: Duration,
    metrics: Arc<metrics::Metrics>,
) -> Router {
    routes.layer(
        tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(
                metrics,
                middleware::request_context,
            ))
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
        "/health" | "/ready" | "/metrics" => next.run(request).await,
        _ => error_response(is_aws(&request), crate::domain::KmsError::Overloaded),
    }
}

async fn health() -> &'static str {
    "ok"
}

fn state_label(state: KeyState) -> &'static str {
    match state {
        KeyState::PendingActivation => "pending_activation",
        KeyState::Enabled => "enabled",
        KeyState::Disabled => "disabled",
        KeyState::PendingDeletion => "pending_deletion",
        KeyState::PendingImport => "pending_import",
    }
}

/// The health document (like LocalStack's `/_localstack/health`): 200 with what the
/// store holds when it answers, 503 when it does not. Orchestrators need only the status;
/// people and test suites read the body. Counts are of the whole store, every account:
/// the endpoint is unauthenticated like `/health`, so it names no ids.
async fn ready(State(state): State<AppState>) -> Response {
    let served = json!({
        "huawei": {
            "path": "POST /v1.0/{project_id}/kms/{action}",
            "actions": huawei::served_actions().collect::<Vec<_>>(),
        },
        "aws": {
            "path": "POST / (X-Amz-Target: TrentService.<operation>)",
            "operations": aws::served_operations().collect::<Vec<_>>(),
        },
    });
    match state.kms.health().await {
        Ok(health) => {
            let keys: serde_json::Map<String, Value> = health
                .census
                .keys_by_state
                .iter()
                .map(|(code, count)| {
                    let state = KeyState::from_code(*code).map_or_else(
                        || format!("state {code}"),
                        |state| state_label(state).into(),
                    );
                    (state, json!(count))
                })
                .collect();
            let total: i64 = health
                .census
                .keys_by_state
                .iter()
                .map(|(_, count)| count)
                .sum();
            let body = json!({
                "status": "ready",
                "version": env!("CARGO_PKG_VERSION"),
                "store": {
                    "backend": health.backend,
                    "reachable": true,
                    "schema_version": health.census.schema_version,
                },
                "region": health.region,
                "regions": health.regions,
                "dialects": served,
                "counts": {
                    "projects": health.census.projects,
                    "keys": total,
                    "keys_by_state": keys,
                    "grants": health.census.grants,
                },
            });
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            let body = json!({
                "status": "unavailable",
                "version": env!("CARGO_PKG_VERSION"),
                "store": {"reachable": false, "error": "database unreachable"},
                "dialects": served,
            });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}
