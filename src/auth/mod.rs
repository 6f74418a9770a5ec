//! Who is calling: identities loaded at start and the credentials that name them.

pub mod aksk;
pub mod iam;
pub mod identities;
pub mod sigv4;

pub use identities::Identities;

use axum::http::HeaderMap;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `YYYYMMDDTHHMMSSZ`: the request time of both signatures (`X-Sdk-Date`, `X-Amz-Date`).
const SIGNATURE_TIME: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// Parses a signature's request time (UTC); `None` unless exactly `YYYYMMDDTHHMMSSZ`.
pub fn parse_signature_time(value: &str) -> Option<OffsetDateTime> {
    if value.len() != 16 {
        return None;
    }
    PrimitiveDateTime::parse(value, SIGNATURE_TIME)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

pub fn format_signature_time(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(SIGNATURE_TIME)
        .unwrap_or_default()
}

/// What a request looks like to a signature verifier (AK/SK and SigV4 alike).
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path as sent on the wire (percent-encoded).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}
