//! The SigV4 parsers of the AWS dialect: the `Authorization` header, `X-Amz-Date`, the
//! canonical request and the whole verifier, on a request read from the input as
//! `common::FuzzRequest` describes.
#![no_main]

use std::sync::LazyLock;

use kms_emulator::auth::Identities;
use kms_emulator::auth::sigv4;
use kms_emulator::domain::region::Regions;
use libfuzzer_sys::fuzz_target;

mod common;

static IDENTITIES: LazyLock<Identities> = LazyLock::new(Identities::demo);
/// Two served regions, so a scope naming either passes and any other is refused.
static REGIONS: LazyLock<Regions> =
    LazyLock::new(|| Regions::new("eu-de", ["eu-nl"]).expect("valid region names"));

fuzz_target!(|data: &[u8]| {
    let Some(request) = common::FuzzRequest::parse(data) else {
        return;
    };
    let parts = request.parts();
    let _ = sigv4::is_sigv4(&request.headers);
    let signed_headers = request
        .header("authorization")
        .and_then(|value| sigv4::parse_authorization(value).ok())
        .map(|parsed| parsed.signed_headers)
        .unwrap_or_default();
    let date = request.header("x-amz-date").and_then(sigv4::parse_amz_date);
    if let (Some(date), Some(text)) = (date, request.header("x-amz-date")) {
        // What parses formats back to the same text.
        assert_eq!(sigv4::format_amz_date(date), text);
    }
    if let Ok(canonical) = sigv4::canonical_request(&parts, &signed_headers) {
        let _ = sigv4::string_to_sign("20261124T000000Z", "20261124/eu-de/kms/aws4_request", &canonical);
    }
    // "Now" is the request's own date, so the fuzzer gets past the clock check to the
    // access-key lookup and the signature comparison.
    let now = date.unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let _ = sigv4::verify(&IDENTITIES, &parts, &REGIONS, now);
});
