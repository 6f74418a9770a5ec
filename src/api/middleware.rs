//! What every exchange gets, whichever API it is for: a request ID (`X-Request-Id`), a
//! tracing span naming the operation, one log line with the outcome, and its count and
//! latency in `/metrics`. Only the method, path and operation are logged: headers carry
//! tokens and signatures, bodies secrets.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The request ID of the current exchange, also sent back as `X-Request-Id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Set by handlers on error responses so the access log names the error code.
#[derive(Debug, Clone)]
pub struct LoggedErrorCode(pub &'static str);

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

/// The operation a request asks for, for the log: the AWS target's operation, or the
/// Huawei path after `kms/` (`create-grant`), with a key ID and tag key in the path
/// shown as `{key_id}/tags/{key}`. Only printable ASCII, at most 64 bytes.
fn operation_of(request: &Request) -> String {
    let named = match request.headers().get("x-amz-target") {
        Some(target) => target
            .to_str()
            .ok()
            .map(|t| t.trim_start_matches("TrentService.").to_owned()),
        None => Some(huawei_operation(request.uri().path())),
    };
    named
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect()
}

fn huawei_operation(path: &str) -> String {
    let Some((_, rest)) = path.split_once("/kms/") else {
        return path.rsplit('/').next().unwrap_or_default().to_owned();
    };
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        [_, "tags"] => "{key_id}/tags".into(),
        [_, "tags", "action"] => "{key_id}/tags/action".into(),
        [_, "tags", _] => "{key_id}/tags/{key}".into(),
        _ => rest.to_owned(),
    }
}

pub(super) async fn request_context(
    State(metrics): State<Arc<super::metrics::Metrics>>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = request_id_for(&request);
    let (dialect, operation) = super::metrics::classify(&request);
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
        operation = %operation_of(&request),
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let error_code = response.extensions().get::<LoggedErrorCode>().map(|c| c.0);
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            error_code = error_code.unwrap_or(""),
            latency_us = elapsed.as_micros() as u64,
            "response"
        )
    });
    metrics.observe(
        dialect,
        operation,
        response.status(),
        error_code,
        elapsed.as_secs_f64(),
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
