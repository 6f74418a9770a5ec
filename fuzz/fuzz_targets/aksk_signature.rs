//! The AK/SK signature parsers: the `Authorization` header, `X-Sdk-Date`, percent
//! decoding, the canonical request and the whole verifier, on a request read from the
//! input as `common::FuzzRequest` describes.
#![no_main]

use std::sync::LazyLock;

use kms_emulator::auth::Identities;
use kms_emulator::auth::aksk;
use libfuzzer_sys::fuzz_target;

mod common;

static IDENTITIES: LazyLock<Identities> = LazyLock::new(Identities::demo);

fuzz_target!(|data: &[u8]| {
    let Some(request) = common::FuzzRequest::parse(data) else {
        return;
    };
    let parts = request.parts();
    if let Some(value) = request.header("authorization") {
        if let Ok(parsed) = aksk::parse_authorization(value) {
            assert_eq!(parsed.signature.len(), 64);
        }
    }
    let date = request.header("x-sdk-date").and_then(aksk::parse_sdk_date);
    if let (Some(date), Some(text)) = (date, request.header("x-sdk-date")) {
        // What parses formats back to the same text.
        assert_eq!(aksk::format_sdk_date(date), text);
    }
    let _ = aksk::url_decode(request.path);
    let _ = aksk::is_aksk(&request.headers);
    let signed: Vec<String> = request.headers.keys().map(|k| k.as_str().to_owned()).collect();
    let _ = aksk::canonical_request(&parts, &signed);
    // The date check uses the request's own date as "now", so the fuzzer reaches the
    // access-key lookup and the signature comparison behind it.
    let now = date.unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let _ = aksk::verify(&IDENTITIES, &parts, now);
});
