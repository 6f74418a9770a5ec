//! `GET /metrics`: Prometheus text (OpenMetrics 1.0) through `prometheus-client`.
//!
//! - `kms_emulator_requests_total{dialect, operation, outcome}`: every exchange, counted by
//!   the request middleware. `dialect` is huawei, aws, iam, operator or other (probes, the
//!   OpenAPI document, unknown paths); `operation` is a served Huawei action or AWS operation,
//!   the route of the other dialects, or "unknown": never a raw path, so a scanner cannot
//!   grow the series without bound. `outcome` is the documented error code of an error
//!   answer, else the status class ("2xx", "4xx", ...).
//! - `kms_emulator_request_duration_seconds{dialect, operation}`: latency histogram.
//! - `kms_emulator_keys{state}`, `kms_emulator_grants`, `kms_emulator_projects`: the store's
//!   census (the one `/ready` reports), read at scrape time; `kms_emulator_store_up` is 0
//!   when the store did not answer (the request metrics are still served).
//! - `kms_emulator_db_pool_connections{pool, use}`: the sqlx pools (open, idle, max).
//!
//! Open like `/health` and `/ready`: Prometheus scrapes from another container, and the
//! document holds counts and operation names, never an ID, a principal or a secret.

use std::borrow::Cow;
use std::sync::atomic::AtomicI64;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;
use crate::domain::KeyState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    dialect: &'static str,
    operation: Cow<'static, str>,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    dialect: &'static str,
    operation: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
    r#use: &'static str,
}

type IntGauge = Gauge<i64, AtomicI64>;

/// Every metric of one service (one per `AppState`, so tests in one process do not mix).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    keys: Family<StateLabels, IntGauge>,
    grants: IntGauge,
    projects: IntGauge,
    store_up: IntGauge,
    pools: Family<PoolLabels, IntGauge>,
    /// Scrapes set the store gauges, then encode: one at a time, so a scrape never encodes
    /// a mix of two censuses.
    scrape: tokio::sync::Mutex<()>,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 33 s (the default request timeout is 30 s).
    Histogram::new(exponential_buckets(0.0005, 2.0, 17))
}

const ALL_STATES: [KeyState; 5] = [
    KeyState::PendingActivation,
    KeyState::Enabled,
    KeyState::Disabled,
    KeyState::PendingDeletion,
    KeyState::PendingImport,
];

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kms_emulator");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by dialect, operation and outcome (error code or status class)",
            requests.clone(),
        );
        let latency = Family::<LatencyLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "request_duration_seconds",
            "Time from the request's arrival to its response, by dialect and operation",
            latency.clone(),
        );
        let keys = Family::<StateLabels, IntGauge>::default();
        registry.register(
            "keys",
            "Keys in the store, by state (read at scrape time)",
            keys.clone(),
        );
        let grants = IntGauge::default();
        registry.register(
            "grants",
            "Grants in the store (read at scrape time)",
            grants.clone(),
        );
        let projects = IntGauge::default();
        registry.register(
            "projects",
            "Projects that hold or held keys (read at scrape time)",
            projects.clone(),
        );
        let store_up = IntGauge::default();
        registry.register(
            "store_up",
            "1 when the store answered this scrape's census, else 0",
            store_up.clone(),
        );
        let pools = Family::<PoolLabels, IntGauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections of each pool: open, idle, max",
            pools.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            keys,
            grants,
            projects,
            store_up,
            pools,
            scrape: tokio::sync::Mutex::new(()),
        }
    }
}

impl Metrics {
    /// Counts one answered request (called by the request middleware). The labels of a
    /// served operation borrow static names, so counting a request allocates nothing once
    /// its series exist.
    pub(super) fn observe(
        &self,
        dialect: &'static str,
        operation: Cow<'static, str>,
        status: StatusCode,
        error_code: Option<&'static str>,
        seconds: f64,
    ) {
        let outcome = match error_code {
            Some(code) => code,
            None => status_class(status),
        };
        let latency = LatencyLabels { dialect, operation };
        self.latency.get_or_create(&latency).observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                dialect,
                operation: latency.operation,
                outcome,
            })
            .inc();
    }
}

/// "2xx", "4xx", ...: the outcome of an answer without a documented error code.
fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// The dialect of a request and its operation, from a bounded set of names.
pub(super) fn classify(request: &axum::extract::Request) -> (&'static str, Cow<'static, str>) {
    let path = request.uri().path();
    let route = || {
        request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map_or(Cow::Borrowed("unknown"), |m| {
                Cow::Owned(m.as_str().to_owned())
            })
    };
    if super::is_aws(request) {
        let target = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok())
            .unwrap_or("");
        let operation = target.strip_prefix("TrentService.").unwrap_or("");
        let known = super::aws::served_operations().find(|served| *served == operation);
        return ("aws", Cow::Borrowed(known.unwrap_or("unknown")));
    }
    if path.starts_with("/_emulator") {
        return ("operator", route());
    }
    if path == "/v3" || path.starts_with("/v3/") {
        return ("iam", route());
    }
    if path.starts_with("/v1.0/") {
        let action = path.rsplit('/').next().unwrap_or("");
        let known = super::huawei::served_actions().find(|served| *served == action);
        return ("huawei", Cow::Borrowed(known.unwrap_or("unknown")));
    }
    ("other", route())
}

pub(super) async fn scrape(State(state): State<AppState>) -> Response {
    let metrics = &state.metrics;
    let _one_at_a_time = metrics.scrape.lock().await;
    match state.kms.metrics_census().await {
        Ok(census) => {
            metrics.store_up.set(1);
            for key_state in ALL_STATES {
                let count = census
                    .keys_by_state
                    .iter()
                    .find(|(code, _)| *code == key_state.code())
                    .map_or(0, |(_, count)| *count);
                metrics
                    .keys
                    .get_or_create(&StateLabels {
                        state: super::state_label(key_state),
                    })
                    .set(count);
            }
            metrics.grants.set(census.grants);
            metrics.projects.set(census.projects);
        }
        Err(error) => {
            tracing::warn!(%error, "metrics: the store did not answer the census");
            metrics.store_up.set(0);
        }
    }
    for pool in state.kms.pool_use() {
        for (usage, value) in [("open", pool.size), ("idle", pool.idle), ("max", pool.max)] {
            metrics
                .pools
                .get_or_create(&PoolLabels {
                    pool: pool.pool,
                    r#use: usage,
                })
                .set(i64::from(value));
        }
    }
    let mut body = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut body, &metrics.registry) {
        tracing::error!(%error, "metrics: encoding failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}
