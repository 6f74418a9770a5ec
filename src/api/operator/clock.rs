//! `GET /_emulator/clock` and `POST /_emulator/clock`: the emulator's clock, which decides
//! when scheduled key rotations fall due. It is system time plus an offset stored in the
//! database (`kms_setting` `clock_offset_ms`), so every process sharing a database sees
//! the same clock and a restart keeps it. Only rotation reads it: creation, deletion and
//! audit dates stay on system time.
//!
//! `POST` takes `{"advance_days": N}` and/or `{"advance_seconds": N}` (N ≥ 0: the clock
//! only moves forward), or `{"reset": true}` (back to system time). Both answer
//! `{"offset_ms", "now_ms", "now"}`.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Peer, admit, forbidden, operator_error, store_error};
use crate::api::{AppState, RequestId};

/// The most one request moves the clock: 100 years.
const MAX_ADVANCE_SECONDS: i64 = 100 * 366 * 86_400;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    advance_days: Option<i64>,
    advance_seconds: Option<i64>,
    #[serde(default)]
    reset: bool,
}

fn clock_answer(offset_ms: i64) -> Response {
    let now_ms = crate::service::now_millis().saturating_add(offset_ms);
    let now = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    Json(json!({"offset_ms": offset_ms, "now_ms": now_ms, "now": now})).into_response()
}

pub(super) async fn show(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    peer: Peer,
) -> Response {
    if admit(&state, peer).is_none() {
        return forbidden();
    }
    match state.kms.clock_offset().await {
        Ok(offset) => clock_answer(offset),
        Err(error) => store_error(error, &request_id),
    }
}

pub(super) async fn advance(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    peer: Peer,
    body: Bytes,
) -> Response {
    let Some(actor) = admit(&state, peer) else {
        return forbidden();
    };
    let invalid =
        |message: String| operator_error(StatusCode::BAD_REQUEST, "EMULATOR.0400", message);
    let body: ClockBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(error) => {
            return invalid(format!(
                "The body must be a JSON object with advance_days and/or advance_seconds \
                 (integers, 0 or more), or reset: true: {error}"
            ));
        }
    };
    let delta = if body.reset {
        if body.advance_days.is_some() || body.advance_seconds.is_some() {
            return invalid(
                "reset cannot be combined with advance_days or advance_seconds.".into(),
            );
        }
        None
    } else {
        let days = body.advance_days.unwrap_or(0);
        let seconds = body.advance_seconds.unwrap_or(0);
        if body.advance_days.is_none() && body.advance_seconds.is_none() {
            return invalid("Give advance_days, advance_seconds or reset.".into());
        }
        let total = days
            .checked_mul(86_400)
            .and_then(|d| d.checked_add(seconds))
            .filter(|total| days >= 0 && seconds >= 0 && *total <= MAX_ADVANCE_SECONDS);
        match total {
            Some(total) => Some(total * 1000),
            None => {
                return invalid(format!(
                    "The clock moves forward only, by at most {} days per request.",
                    MAX_ADVANCE_SECONDS / 86_400
                ));
            }
        }
    };
    match state.kms.move_clock(delta).await {
        Ok(offset) => {
            tracing::info!(%actor, offset_ms = offset, "emulator clock moved");
            clock_answer(offset)
        }
        Err(error) => store_error(error, &request_id),
    }
}
