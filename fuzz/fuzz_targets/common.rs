//! What the action handlers do with a string field once the body has been read, and
//! the HTTP request the signature targets build from their input.

// Each target is its own crate and uses only part of this module.
#![allow(dead_code)]

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use kms_emulator::domain::grant::validate_grant_name;
use kms_emulator::domain::key::{validate_key_alias, validate_key_description};
use kms_emulator::domain::{GrantId, GranteeType, KeyId, PrincipalId};

/// Runs the validators and decoders the handlers apply to field `name`. Some are
/// skipped by the handlers for some fields; running all of them on every value is
/// harmless and finds more.
pub fn check_field(name: &str, value: &str) {
    let _ = KeyId::parse(value);
    let _ = GrantId::parse(value);
    let _ = PrincipalId::parse(name, value);
    let _ = GranteeType::parse(value);
    let _ = validate_key_alias(value);
    let _ = validate_key_description(value);
    let _ = validate_grant_name(value);
    let _ = kms_emulator::domain::ids::validate_sequence(value);
    let _ = kms_emulator::domain::grant::parse_operations(value.split(','));
    if let Some(bytes) = kms_emulator::hex::decode(value) {
        let _ = kms_emulator::crypto::framed_key_id(&bytes);
    }
    if let Ok(bytes) = BASE64.decode(value) {
        let _ = kms_emulator::crypto::framed_key_id(&bytes);
    }
}

/// A request read from fuzz input: the first line is `METHOD path?query`, then
/// `name: value` header lines, an empty line, and the body.
pub struct FuzzRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: HeaderMap,
    pub body: &'a [u8],
}

impl<'a> FuzzRequest<'a> {
    /// `None` when the head is not UTF-8; header lines that are not valid headers are skipped.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data, &b""[..]),
        };
        let head = std::str::from_utf8(head).ok()?;
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
        Some(Self { method, path, query, headers, body })
    }

    pub fn parts(&self) -> kms_emulator::auth::RequestParts<'_> {
        kms_emulator::auth::RequestParts {
            method: self.method,
            path: self.path,
            query: self.query,
            headers: &self.headers,
            body: self.body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}
