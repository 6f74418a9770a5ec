//! The SigV4 parsers of the AWS dialect: the `Authorization` header, `X-Amz-Date`, the
//! canonical request and the whole verifier, on a request built from the input like the
//! `aksk_signature` target: the first line is `METHOD path?query`, then `name: value`
//! header lines, an empty line, and the body.
#![no_main]

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use kms_emulator::auth::Identities;
use kms_emulator::auth::sigv4;
use libfuzzer_sys::fuzz_target;

static IDENTITIES: LazyLock<Identities> = LazyLock::new(Identities::demo);

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &b""[..]),
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return;
    };
    let mut lines = head.split('\n');
    let request_line = lines.next().unwrap_or("");
    let (method, target) = request_line.split_once(' ').unwrap_or(("POST", request_line));
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(name, value);
        }
    }
    let _ = sigv4::is_sigv4(&headers);
    let mut signed_headers = Vec::new();
    if let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        if let Ok(parsed) = sigv4::parse_authorization(value) {
            signed_headers = parsed.signed_headers.clone();
        }
    }
    if let Some(value) = headers.get("x-amz-date").and_then(|v| v.to_str().ok()) {
        if let Some(date) = sigv4::parse_amz_date(value) {
            // What parses formats back to the same text.
            assert_eq!(sigv4::format_amz_date(date), value);
        }
    }
    let parts = sigv4::RequestParts {
        method,
        path,
        query,
        headers: &headers,
        body,
    };
    if let Ok(canonical) = sigv4::canonical_request(&parts, &signed_headers) {
        let _ = sigv4::string_to_sign("20261124T000000Z", "20261124/eu-de/kms/aws4_request", &canonical);
    }
    // "Now" is the request's own date, so the fuzzer gets past the clock check to the
    // access-key lookup and the signature comparison.
    let now = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .and_then(sigv4::parse_amz_date)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let _ = sigv4::verify(&IDENTITIES, &parts, now);
});
