//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`), computed as botocore's `SigV4Auth`
//! computes it for a JSON-protocol service, and verified here.
//!
//! The same access keys as the Huawei AK/SK signer are used (one identities file);
//! the user an access key belongs to becomes the caller. Pure like `aksk`: the caller
//! hands in the request's parts and the clock, so the verifier is checked against
//! vectors made by botocore itself.

use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, Mutex};

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use crate::auth::identities::{Identities, User};
use crate::crypto::sha256_hex;
use crate::domain::ids::excerpt;
use crate::domain::region::Regions;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// AWS refuses a request whose `X-Amz-Date` is more than 15 minutes from its clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);
/// The only service name a KMS signature may be scoped to.
pub const SERVICE: &str = "kms";

/// The AWS error type a rejected signature is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigV4ErrorKind {
    /// No `Authorization` header (and no presigned query): AWS's
    /// `MissingAuthenticationTokenException`.
    MissingAuthentication,
    /// The header is there but lacks a part, or the date is unreadable.
    IncompleteSignature,
    /// The access key is unknown (or a session token was sent, which no key here has).
    UnrecognizedClient,
    /// The signature does not match, or the date is outside the skew window.
    InvalidSignature,
}

impl SigV4ErrorKind {
    pub fn aws_type(self) -> &'static str {
        match self {
            Self::MissingAuthentication => "MissingAuthenticationTokenException",
            Self::IncompleteSignature => "IncompleteSignatureException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
            Self::InvalidSignature => "InvalidSignatureException",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Error {
    pub kind: SigV4ErrorKind,
    pub message: String,
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.aws_type(), self.message)
    }
}

fn fail(kind: SigV4ErrorKind, message: impl Into<String>) -> SigV4Error {
    SigV4Error {
        kind,
        message: message.into(),
    }
}

fn incomplete(message: impl Into<String>) -> SigV4Error {
    fail(SigV4ErrorKind::IncompleteSignature, message)
}

pub use super::RequestParts;

/// `Credential=AK/DATE/REGION/SERVICE/aws4_request` and the other two parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Authorization {
    fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// True when `Authorization` names the SigV4 algorithm.
pub fn is_sigv4(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with(ALGORITHM))
}

/// Parses `AWS4-HMAC-SHA256 Credential=AK/20261124/eu-de/kms/aws4_request,
/// SignedHeaders=h1;h2, Signature=<64 hex>`; AWS names a missing part in its message.
pub fn parse_authorization(value: &str) -> Result<Authorization, SigV4Error> {
    let rest = value
        .trim()
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            incomplete(format!(
                "Authorization header requires the {ALGORITHM} algorithm."
            ))
        })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(incomplete(format!(
                "Authorization header requires each component to be name=value; '{}' is not.",
                excerpt(part)
            )));
        };
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            other => {
                return Err(incomplete(format!(
                    "Authorization header has an unknown component '{}'.",
                    excerpt(other)
                )));
            }
        };
        if slot.replace(value.trim().to_owned()).is_some() {
            return Err(incomplete(format!(
                "Authorization header repeats the '{}' component.",
                name.trim()
            )));
        }
    }
    let missing = |what: &str| {
        incomplete(format!(
            "Authorization header requires '{what}' parameter. Authorization={}",
            excerpt(value)
        ))
    };
    let credential = credential
        .filter(|c| !c.is_empty())
        .ok_or_else(|| missing("Credential"))?;
    let signed = signed
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("Signature"))?;
    let fields: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = fields[..] else {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region, like AK/20261124/eu-de/kms/aws4_request, not '{}'.",
            excerpt(&credential)
        )));
    };
    if access_key.is_empty()
        || date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
        || region.is_empty()
        || terminator != "aws4_request"
    {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region, like AK/20261124/eu-de/kms/aws4_request, not '{}'.",
            excerpt(&credential)
        )));
    }
    if service != SERVICE {
        return Err(fail(
            SigV4ErrorKind::InvalidSignature,
            format!(
                "Credential should be scoped to correct service: '{SERVICE}', not '{}'.",
                excerpt(service)
            ),
        ));
    }
    let signed_headers: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(incomplete("SignedHeaders has an empty header name."));
    }
    Ok(Authorization {
        access_key: access_key.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers,
        signature,
    })
}

/// Parses `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`, UTC).
pub fn parse_amz_date(value: &str) -> Option<OffsetDateTime> {
    super::parse_signature_time(value)
}

pub fn format_amz_date(at: OffsetDateTime) -> String {
    super::format_signature_time(at)
}

/// RFC 3986 encoding as SigV4 defines it: only unreserved characters stay as they are,
/// and `/` too when `keep_slash` (paths).
fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'_' | b'.' | b'-' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// botocore signs `quote(path, safe='/~')` of the path as sent, so an already
/// percent-encoded path is encoded again (`%20` → `%2520`), as for every non-S3 service.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    uri_encode(path, true)
}

/// `k=v` pairs, decoded, sorted, then encoded.
fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                uri_encode(&super::aksk::url_decode(k), false),
                uri_encode(&super::aksk::url_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Header values trimmed, with inner runs of spaces collapsed, as botocore does.
fn canonical_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical request; fails when a signed header is missing or not text.
pub fn canonical_request(
    request: &RequestParts<'_>,
    signed_headers: &[String],
) -> Result<String, SigV4Error> {
    let mut headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = request
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| v.to_str().map(canonical_value))
            .collect::<Result<_, _>>()
            .map_err(|_| {
                fail(
                    SigV4ErrorKind::InvalidSignature,
                    format!("Signed header {} is not text.", excerpt(name)),
                )
            })?;
        if values.is_empty() {
            return Err(fail(
                SigV4ErrorKind::InvalidSignature,
                format!("Signed header {} is not in the request.", excerpt(name)),
            ));
        }
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        canonical_uri(request.path),
        canonical_query(request.query),
        headers,
        signed_headers.join(";"),
        sha256_hex(request.body)
    ))
}

pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

fn hmac(key: &[u8], data: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any size");
    mac.update(data.as_bytes());
    mac
}

/// The HMAC keyed with a derived signing key, by secret key and scope (date, region,
/// service). Deriving the key takes four chained HMACs and keying the final one two more
/// SHA-256 blocks; the key changes once a day, so it is kept, as AWS's SDKs keep it. This
/// was about half of SigV4's cost per request (callgrind: `verify` 138k instructions a
/// call, `signing_mac` 72k of it). Bounded: an authenticated caller can vary the region
/// at will, so the cache is emptied when full rather than grown.
type SigningKeys = HashMap<(String, String), Hmac<Sha256>>;
static SIGNING_KEYS: LazyLock<Mutex<SigningKeys>> = LazyLock::new(Mutex::default);
const SIGNING_KEYS_MAX: usize = 256;

fn signing_mac(secret_key: &str, auth: &Authorization, string_to_sign: &str) -> Hmac<Sha256> {
    let cache_key = (secret_key.to_owned(), auth.scope());
    let cached = SIGNING_KEYS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&cache_key)
        .cloned();
    let mut mac = match cached {
        Some(mac) => mac,
        None => {
            let k_date = hmac(format!("AWS4{secret_key}").as_bytes(), &auth.date)
                .finalize()
                .into_bytes();
            let k_region = hmac(&k_date, &auth.region).finalize().into_bytes();
            let k_service = hmac(&k_region, &auth.service).finalize().into_bytes();
            let k_signing = hmac(&k_service, "aws4_request").finalize().into_bytes();
            let mac =
                Hmac::<Sha256>::new_from_slice(&k_signing).expect("HMAC takes keys of any size");
            let mut cache = SIGNING_KEYS.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= SIGNING_KEYS_MAX {
                cache.clear();
            }
            cache.insert(cache_key, mac.clone());
            mac
        }
    };
    mac.update(string_to_sign.as_bytes());
    mac
}

/// The `Authorization` value botocore would send for a request that already carries
/// `X-Amz-Date`, `Host` and the headers to sign (all of them but `user-agent`, `expect`
/// and `x-amzn-trace-id`, which botocore leaves out). For tests and tools.
pub fn authorization_for(
    access_key: &str,
    secret_key: &str,
    region: &str,
    request: &RequestParts<'_>,
) -> Result<String, SigV4Error> {
    let mut signed: Vec<String> = request
        .headers
        .keys()
        .map(|k| k.as_str().to_ascii_lowercase())
        .filter(|k| {
            !matches!(
                k.as_str(),
                "authorization" | "user-agent" | "expect" | "x-amzn-trace-id"
            )
        })
        .collect();
    signed.sort();
    signed.dedup();
    let amz_date = request
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| incomplete("X-Amz-Date is missing."))?;
    let auth = Authorization {
        access_key: access_key.to_owned(),
        date: amz_date.get(..8).unwrap_or_default().to_owned(),
        region: region.to_owned(),
        service: SERVICE.to_owned(),
        signed_headers: signed,
        signature: String::new(),
    };
    let canonical = canonical_request(request, &auth.signed_headers)?;
    let mac = signing_mac(
        secret_key,
        &auth,
        &string_to_sign(amz_date, &auth.scope(), &canonical),
    );
    Ok(format!(
        "{ALGORITHM} Credential={access_key}/{}, SignedHeaders={}, Signature={}",
        auth.scope(),
        auth.signed_headers.join(";"),
        crate::hex::lower(&mac.finalize().into_bytes())
    ))
}

/// Headers that, when the request carries them, must be among `SignedHeaders`: `host`
/// (the endpoint), `x-amz-target` (the operation: unsigned, a DescribeKey's signature
/// could be replayed as DisableKey) and `content-type` (how the body is read). botocore
/// signs every header but those in `SIGNED_HEADERS_BLACKLIST` (connection, expect,
/// keep-alive, proxy-*, te, trailer, transfer-encoding, upgrade, user-agent,
/// x-amzn-trace-id), so boto3 and the AWS CLI sign all three, as do the other AWS SDKs.
///
/// AWS's answer to an unsigned `Host` is known from the field: IncompleteSignatureException
/// `'Host' must be a 'SignedHeader' in the AWS Authorization.` (API Gateway and JSON
/// services, seen in client issue threads); the same wording is used for the others.
const MUST_BE_SIGNED: [(&str, &str); 3] = [
    ("host", "Host"),
    ("x-amz-target", "X-Amz-Target"),
    ("content-type", "Content-Type"),
];

/// Refuses a request that carries one of `MUST_BE_SIGNED` without signing it.
fn check_required_signed(
    request: &RequestParts<'_>,
    auth: &Authorization,
) -> Result<(), SigV4Error> {
    for (name, display) in MUST_BE_SIGNED {
        let present = name == "host" || request.headers.contains_key(name);
        if present && !auth.signed_headers.iter().any(|h| h == name) {
            return Err(incomplete(format!(
                "'{display}' must be a 'SignedHeader' in the AWS Authorization."
            )));
        }
    }
    Ok(())
}

/// Checks a signed request for a region this server serves and returns the user its
/// access key belongs to, with the region its scope names.
///
/// Errors carry AWS's types and, where AWS's wording is known, its messages; they
/// never contain secrets.
pub fn verify<'i>(
    identities: &'i Identities,
    request: &RequestParts<'_>,
    regions: &Regions,
    now: OffsetDateTime,
) -> Result<(&'i User, String), SigV4Error> {
    let header = request
        .headers
        .get("authorization")
        .ok_or_else(|| {
            fail(
                SigV4ErrorKind::MissingAuthentication,
                "Missing Authentication Token",
            )
        })?
        .to_str()
        .map_err(|_| incomplete("The Authorization header is not text."))?;
    let auth = parse_authorization(header)?;
    // AWS (IAM user guide, "Troubleshoot signed requests"): a scope for another region
    // fails with "Credential should be scoped to a valid Region, not <region>"; KMS, a JSON
    // service, sends it as InvalidSignatureException (client threads quote
    // "Credential should be scoped to a valid region, not 'us-east-1'. "). AWS's JSON
    // services answer it with 400, like this server's other signature errors. Checked
    // before the signature: the signing key depends on the region, and a signature for
    // another region is a replay from another endpoint, not a typo in the secret.
    if !regions.serves(&auth.region) {
        return Err(fail(
            SigV4ErrorKind::InvalidSignature,
            format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                excerpt(&auth.region)
            ),
        ));
    }
    check_required_signed(request, &auth)?;
    let amz_date_text = request
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            incomplete(format!(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={}",
                excerpt(header)
            ))
        })?;
    let amz_date = parse_amz_date(amz_date_text).ok_or_else(|| {
        incomplete(format!(
            "X-Amz-Date must look like 20261124T120000Z (UTC), not '{}'.",
            excerpt(amz_date_text)
        ))
    })?;
    if !amz_date_text.starts_with(&auth.date) {
        return Err(fail(
            SigV4ErrorKind::InvalidSignature,
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date_text}'.",
                auth.date,
                &amz_date_text[..8]
            ),
        ));
    }
    if amz_date < now - MAX_CLOCK_SKEW {
        return Err(fail(
            SigV4ErrorKind::InvalidSignature,
            format!(
                "Signature expired: {amz_date_text} is now earlier than {} ({} - 15 min.)",
                format_amz_date(now - MAX_CLOCK_SKEW),
                format_amz_date(now)
            ),
        ));
    }
    if amz_date > now + MAX_CLOCK_SKEW {
        return Err(fail(
            SigV4ErrorKind::InvalidSignature,
            format!(
                "Signature not yet current: {amz_date_text} is still later than {} ({} + 15 min.)",
                format_amz_date(now + MAX_CLOCK_SKEW),
                format_amz_date(now)
            ),
        ));
    }
    // Temporary credentials would come with a session token; no access key here has one.
    if request.headers.contains_key("x-amz-security-token") {
        return Err(fail(
            SigV4ErrorKind::UnrecognizedClient,
            "The security token included in the request is invalid.",
        ));
    }
    let (user, key) = identities.access_key(&auth.access_key).ok_or_else(|| {
        fail(
            SigV4ErrorKind::UnrecognizedClient,
            "The security token included in the request is invalid.",
        )
    })?;
    let canonical = canonical_request(request, &auth.signed_headers)?;
    let expected = signing_mac(
        &key.secret_key,
        &auth,
        &string_to_sign(amz_date_text, &auth.scope(), &canonical),
    );
    let given = crate::hex::decode(&auth.signature)
        .filter(|g| g.len() == 32)
        .ok_or_else(invalid_signature)?;
    // `verify_slice` compares in constant time.
    expected
        .verify_slice(&given)
        .map_err(|_| invalid_signature())?;
    Ok((user, auth.region))
}

fn invalid_signature() -> SigV4Error {
    fail(
        SigV4ErrorKind::InvalidSignature,
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};
    use time::macros::datetime;

    // Made by botocore 1.44.8's own signer:
    // `SigV4Auth(Credentials(AK, SK), "kms", "eu-de").add_auth(AWSRequest(...))`
    // against http://127.0.0.1:18080/ at 20261124T204648Z.
    const AK: &str = "DEMOALICEACCESSKEY01";
    const DATE: &str = "20261124T204648Z";
    const NOW: OffsetDateTime = datetime!(2026-11-24 20:50:00 UTC);
    const BODY: &str = r#"{"KeyId": "7c025e20-dfd6-46e7-bbaf-e4fc4669067f", "GranteePrincipal": "arn:aws:iam::111122223333:user/bob", "Operations": ["Encrypt"]}"#;
    const POST_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=DEMOALICEACCESSKEY01/20261124/eu-de/kms/aws4_request, \
        SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
        Signature=910b05ec5521aeaa53068d30299fdc26a9c73a6cbaac2cddd27874ea4d215453";
    // GET /some%20path/x with params {"b": "2 3", "a": "x~y/z"} and a header whose
    // value has runs of spaces; user-agent is not signed.
    const GET_PATH: &str = "/some%20path/x";
    const GET_QUERY: &str = "b=2%203&a=x~y%2Fz";
    const GET_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=DEMOALICEACCESSKEY01/20261124/eu-de/kms/aws4_request, \
        SignedHeaders=host;x-amz-date;x-extra, \
        Signature=a5e78bbd7ee93c95dced9392a754b1bebd31d012a0bd16d41b3f78e971031ec8";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn post_headers(authorization: &str) -> HeaderMap {
        headers(&[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "TrentService.CreateGrant"),
            ("User-Agent", "Boto3/1.44.8"),
            ("X-Amz-Date", DATE),
            ("Host", "127.0.0.1:18080"),
            ("Authorization", authorization),
        ])
    }

    fn post<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> RequestParts<'a> {
        RequestParts {
            method: "POST",
            path: "/",
            query: None,
            headers,
            body,
        }
    }

    /// Verifies for this server's region, `eu-de`, like the captured vectors.
    fn verify_at<'i>(
        ids: &'i Identities,
        request: &RequestParts<'_>,
        now: OffsetDateTime,
    ) -> Result<&'i User, SigV4Error> {
        verify(ids, request, &Regions::single("eu-de"), now).map(|(user, region)| {
            assert_eq!(region, "eu-de");
            user
        })
    }

    fn kind_of(result: Result<&User, SigV4Error>) -> SigV4ErrorKind {
        result.map(|u| u.name.clone()).unwrap_err().kind
    }

    #[test]
    fn botocore_vectors_verify() {
        let ids = Identities::demo();
        let h = post_headers(POST_AUTHORIZATION);
        assert_eq!(
            verify_at(&ids, &post(&h, BODY.as_bytes()), NOW)
                .unwrap()
                .name,
            "alice"
        );
        let h = headers(&[
            ("X-Extra", "  a   b  "),
            ("User-Agent", "not signed"),
            ("X-Amz-Date", DATE),
            ("Host", "127.0.0.1:18080"),
            ("Authorization", GET_AUTHORIZATION),
        ]);
        let get = RequestParts {
            method: "GET",
            path: GET_PATH,
            query: Some(GET_QUERY),
            headers: &h,
            body: b"",
        };
        assert_eq!(verify_at(&ids, &get, NOW).unwrap().name, "alice");
    }

    #[test]
    fn our_signer_reproduces_botocore() {
        let mut h = post_headers(POST_AUTHORIZATION);
        h.remove("authorization");
        let ours = authorization_for(
            AK,
            "demo-alice-secret-key-0000000000000001",
            "eu-de",
            &post(&h, BODY.as_bytes()),
        )
        .unwrap();
        assert_eq!(
            ours,
            POST_AUTHORIZATION
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }

    #[test]
    fn tampered_requests_fail_with_invalid_signature() {
        let ids = Identities::demo();
        let h = post_headers(POST_AUTHORIZATION);
        let tampered_body = BODY.replace("Encrypt", "Decrypt");
        assert_eq!(
            kind_of(verify_at(&ids, &post(&h, tampered_body.as_bytes()), NOW)),
            SigV4ErrorKind::InvalidSignature
        );
        let mut h2 = h.clone();
        h2.insert(
            "x-amz-target",
            HeaderValue::from_static("TrentService.RevokeGrant"),
        );
        assert_eq!(
            kind_of(verify_at(&ids, &post(&h2, BODY.as_bytes()), NOW)),
            SigV4ErrorKind::InvalidSignature
        );
        let mut h3 = h.clone();
        h3.insert("host", HeaderValue::from_static("127.0.0.1:18081"));
        assert_eq!(
            kind_of(verify_at(&ids, &post(&h3, BODY.as_bytes()), NOW)),
            SigV4ErrorKind::InvalidSignature
        );
        let flipped = POST_AUTHORIZATION.replace("Signature=9", "Signature=8");
        let h4 = post_headers(&flipped);
        assert_eq!(
            kind_of(verify_at(&ids, &post(&h4, BODY.as_bytes()), NOW)),
            SigV4ErrorKind::InvalidSignature
        );
        // Another region in the scope is refused for the region, before the signature.
        let other_region = POST_AUTHORIZATION.replace("/eu-de/", "/us-east-1/");
        let h5 = post_headers(&other_region);
        let refused = verify_at(&ids, &post(&h5, BODY.as_bytes()), NOW).unwrap_err();
        assert_eq!(refused.kind, SigV4ErrorKind::InvalidSignature);
        assert!(
            refused
                .message
                .contains("Credential should be scoped to a valid region, not 'us-east-1'"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn any_served_region_is_accepted_and_named() {
        let ids = Identities::demo();
        let h = post_headers(POST_AUTHORIZATION);
        let served = Regions::new("eu-nl", ["eu-de"]).unwrap();
        let (user, region) = verify(&ids, &post(&h, BODY.as_bytes()), &served, NOW).unwrap();
        assert_eq!((user.name.as_str(), region.as_str()), ("alice", "eu-de"));
        let elsewhere = Regions::new("eu-nl", ["eu-ch2"]).unwrap();
        let refused = verify(&ids, &post(&h, BODY.as_bytes()), &elsewhere, NOW).unwrap_err();
        assert_eq!(refused.kind, SigV4ErrorKind::InvalidSignature);
    }

    /// A request signed correctly over `signed` (and host, x-amz-date), then sent with
    /// the other headers added after signing.
    fn signed_over(signed: &[(&str, &str)], added: &[(&str, &str)]) -> HeaderMap {
        let mut pairs = vec![("X-Amz-Date", DATE), ("Host", "127.0.0.1:18080")];
        pairs.extend_from_slice(signed);
        let mut h = headers(&pairs);
        let auth = authorization_for(
            AK,
            "demo-alice-secret-key-0000000000000001",
            "eu-de",
            &post(&h, BODY.as_bytes()),
        )
        .unwrap();
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        for (name, value) in added {
            h.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        h
    }

    #[test]
    fn target_and_content_type_must_be_signed_when_sent() {
        let ids = Identities::demo();
        let target = ("X-Amz-Target", "TrentService.DisableKey");
        let content_type = ("Content-Type", "application/x-amz-json-1.1");
        for (signed, added, unsigned) in [
            (vec![], vec![target, content_type], "X-Amz-Target"),
            (vec![content_type], vec![target], "X-Amz-Target"),
            (vec![target], vec![content_type], "Content-Type"),
        ] {
            let h = signed_over(&signed, &added);
            let refused = verify_at(&ids, &post(&h, BODY.as_bytes()), NOW).unwrap_err();
            assert_eq!(refused.kind, SigV4ErrorKind::IncompleteSignature);
            assert_eq!(
                refused.message,
                format!("'{unsigned}' must be a 'SignedHeader' in the AWS Authorization.")
            );
        }
        let h = signed_over(&[target, content_type], &[]);
        assert!(verify_at(&ids, &post(&h, BODY.as_bytes()), NOW).is_ok());
        // Host is always required.
        let h = post_headers(&POST_AUTHORIZATION.replace(
            "content-type;host;x-amz-date;x-amz-target",
            "content-type;x-amz-date;x-amz-target",
        ));
        assert_eq!(
            kind_of(verify_at(&ids, &post(&h, BODY.as_bytes()), NOW)),
            SigV4ErrorKind::IncompleteSignature
        );
    }

    #[test]
    fn stale_and_future_dates_are_refused_outside_fifteen_minutes() {
        let ids = Identities::demo();
        let h = post_headers(POST_AUTHORIZATION);
        let signed_at = datetime!(2026-11-24 20:46:48 UTC);
        assert!(
            verify_at(
                &ids,
                &post(&h, BODY.as_bytes()),
                signed_at + Duration::minutes(15)
            )
            .is_ok()
        );
        let late = verify_at(
            &ids,
            &post(&h, BODY.as_bytes()),
            signed_at + Duration::minutes(15) + Duration::seconds(1),
        )
        .unwrap_err();
        assert_eq!(late.kind, SigV4ErrorKind::InvalidSignature);
        assert!(
            late.message
                .starts_with("Signature expired: 20261124T204648Z"),
            "{}",
            late.message
        );
        let early = verify_at(
            &ids,
            &post(&h, BODY.as_bytes()),
            signed_at - Duration::minutes(15) - Duration::seconds(1),
        )
        .unwrap_err();
        assert_eq!(early.kind, SigV4ErrorKind::InvalidSignature);
    }

    #[test]
    fn unknown_keys_and_session_tokens_are_unrecognized() {
        let ids = Identities::demo();
        let h = post_headers(&POST_AUTHORIZATION.replace(AK, "AKIAUNKNOWN000000000"));
        assert_eq!(
            kind_of(verify_at(&ids, &post(&h, BODY.as_bytes()), NOW)),
            SigV4ErrorKind::UnrecognizedClient
        );
        let mut h = post_headers(POST_AUTHORIZATION);
        h.insert("x-amz-security-token", HeaderValue::from_static("FwoG"));
        assert_eq!(
            kind_of(verify_at(&ids, &post(&h, BODY.as_bytes()), NOW)),
            SigV4ErrorKind::UnrecognizedClient
        );
    }

    #[test]
    fn malformed_headers_are_incomplete_or_missing() {
        let ids = Identities::demo();
        let mut h = post_headers(POST_AUTHORIZATION);
        h.remove("authorization");
        assert_eq!(
            kind_of(verify_at(&ids, &post(&h, BODY.as_bytes()), NOW)),
            SigV4ErrorKind::MissingAuthentication
        );
        for bad in [
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/2026/eu-de/kms/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/20261124/eu-de/kms, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/20261124/eu-de/kms/aws4_request, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/20261124/eu-de/kms/aws4_request, SignedHeaders=host",
            "AWS4-HMAC-SHA256 garbage",
            "AWS4-HMAC-SHA256Credential=x",
        ] {
            let h = post_headers(bad);
            assert_eq!(
                kind_of(verify_at(&ids, &post(&h, BODY.as_bytes()), NOW)),
                SigV4ErrorKind::IncompleteSignature,
                "{bad}"
            );
        }
        let mut h = post_headers(POST_AUTHORIZATION);
        h.insert("x-amz-date", HeaderValue::from_static("yesterday"));
        assert_eq!(
            kind_of(verify_at(&ids, &post(&h, BODY.as_bytes()), NOW)),
            SigV4ErrorKind::IncompleteSignature
        );
        let h = post_headers(&POST_AUTHORIZATION.replace("/kms/", "/s3/"));
        assert_eq!(
            kind_of(verify_at(&ids, &post(&h, BODY.as_bytes()), NOW)),
            SigV4ErrorKind::InvalidSignature
        );
    }
}
