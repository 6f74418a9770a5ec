//! The AK/SK signature parsers: the `Authorization` header, `X-Sdk-Date`, percent
//! decoding, the canonical request and the whole verifier, on a request built from
//! the input: lines `name: value` for headers, then an empty line, then the body.
//! The first line is `METHOD path?query`.
#![no_main]

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use kms_emulator::auth::Identities;
use kms_emulator::auth::aksk;
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
    if let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        if let Ok(parsed) = aksk::parse_authorization(value) {
            assert_eq!(parsed.signature.len(), 64);
        }
    }
    if let Some(value) = headers.get("x-sdk-date").and_then(|v| v.to_str().ok()) {
        if let Some(date) = aksk::parse_sdk_date(value) {
            // What parses formats back to the same text.
            assert_eq!(aksk::format_sdk_date(date), value);
        }
    }
    let _ = aksk::url_decode(path);
    let _ = aksk::is_aksk(&headers);
    let parts = aksk::RequestParts {
        method,
        path,
        query,
        headers: &headers,
        body,
    };
    let signed: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
    let _ = aksk::canonical_request(&parts, &signed);
    // The date check uses the request's own date as "now", so the fuzzer reaches the
    // access-key lookup and the signature comparison behind it.
    let now = headers
        .get("x-sdk-date")
        .and_then(|v| v.to_str().ok())
        .and_then(aksk::parse_sdk_date)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let _ = aksk::verify(&IDENTITIES, &parts, now);
});
