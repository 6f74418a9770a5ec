//! The AWS dialect's test harness: demo credentials, requests signed with the library's
//! own SigV4 signer (a unit test checks it against botocore's), and error assertions.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use kms_emulator::auth::sigv4;
use serde_json::Value;
use time::OffsetDateTime;

use super::{Reply, TestApp};

/// A demo principal's AWS credentials.
#[derive(Clone, Copy)]
pub struct Aws {
    pub access_key: &'static str,
    pub secret_key: &'static str,
    pub arn: &'static str,
}

pub const AWS_ALICE: Aws = Aws {
    access_key: "DEMOALICEACCESSKEY01",
    secret_key: "demo-alice-secret-key-0000000000000001",
    arn: "arn:aws:iam::111122223333:user/alice",
};
pub const AWS_BOB: Aws = Aws {
    access_key: "DEMOBOBACCESSKEY0002",
    secret_key: "demo-bob-secret-key-00000000000000002",
    arn: "arn:aws:iam::111122223333:user/bob",
};
/// Read-only in alice's account.
pub const AWS_DAVE: Aws = Aws {
    access_key: "DEMODAVEACCESSKEY004",
    secret_key: "demo-dave-secret-key-000000000000004",
    arn: "arn:aws:iam::111122223333:user/dave",
};
pub const AWS_ERIN: Aws = Aws {
    access_key: "DEMOERINACCESSKEY005",
    secret_key: "demo-erin-secret-key-000000000000005",
    arn: "arn:aws:iam::444455556666:user/erin",
};
pub const AWS_FRANK: Aws = Aws {
    access_key: "DEMOFRANKACCESSKEY06",
    secret_key: "demo-frank-secret-key-00000000000000006",
    arn: "arn:aws:iam::444455556666:user/frank",
};

/// The signed headers of a request, as botocore would send them, scoped to eu-de.
pub fn signed_headers(
    app: &TestApp,
    who: Aws,
    target: &str,
    body: &[u8],
    at: OffsetDateTime,
) -> Vec<(String, String)> {
    signed_headers_in(app, who, "eu-de", target, body, at)
}

/// As `signed_headers`, with the credential scoped to `region`.
pub fn signed_headers_in(
    app: &TestApp,
    who: Aws,
    region: &str,
    target: &str,
    body: &[u8],
    at: OffsetDateTime,
) -> Vec<(String, String)> {
    let host = app.base.trim_start_matches("http://").to_owned();
    let mut headers = HeaderMap::new();
    let mut put = |name: &str, value: &str| {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    };
    put("content-type", "application/x-amz-json-1.1");
    put("x-amz-target", &format!("TrentService.{target}"));
    put("x-amz-date", &sigv4::format_amz_date(at));
    put("host", &host);
    let parts = sigv4::RequestParts {
        method: "POST",
        path: "/",
        query: None,
        headers: &headers,
        body,
    };
    let authorization =
        sigv4::authorization_for(who.access_key, who.secret_key, region, &parts).unwrap();
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| name.as_str() != "host")
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    out.push(("authorization".into(), authorization));
    out
}

pub async fn send(app: &TestApp, headers: Vec<(String, String)>, body: Vec<u8>) -> Reply {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    app.raw(reqwest::Method::POST, "/", &pairs, body).await
}

pub async fn aws(app: &TestApp, who: Aws, target: &str, body: Value) -> Reply {
    aws_in(app, who, "eu-de", target, body).await
}

/// A request signed for `region`.
pub async fn aws_in(app: &TestApp, who: Aws, region: &str, target: &str, body: Value) -> Reply {
    let bytes = body.to_string().into_bytes();
    let headers = signed_headers_in(app, who, region, target, &bytes, OffsetDateTime::now_utc());
    send(app, headers, bytes).await
}

#[track_caller]
pub fn aws_error(reply: &Reply, code: &str) {
    assert_eq!(reply.status, 400, "expected 400 {code}: {}", reply.raw);
    assert_eq!(reply.body["__type"], code, "{}", reply.raw);
    let message = reply.body["message"]
        .as_str()
        .or(reply.body["Message"].as_str())
        .unwrap_or_default();
    assert!(
        !message.is_empty() || code == "InvalidCiphertextException",
        "{}",
        reply.raw
    );
}

/// Sends a request that must be refused with `code`: `aws_error` on `aws`'s reply, with the
/// request in the failure message (an async helper cannot report its caller's line).
pub async fn aws_refused(app: &TestApp, who: Aws, target: &str, body: Value, code: &str) -> Reply {
    let request = format!("{target} {body}");
    let reply = aws(app, who, target, body).await;
    assert_eq!(
        (reply.status, reply.body["__type"].as_str()),
        (400, Some(code)),
        "{request} -> {}",
        reply.raw
    );
    aws_error(&reply, code);
    reply
}

/// Carol, who has no KMS permission: the usual retiring principal.
pub const AWS_CAROL: Aws = Aws {
    access_key: "DEMOCAROLACCESSKEY03",
    secret_key: "demo-carol-secret-key-000000000000003",
    arn: "arn:aws:iam::111122223333:user/carol",
};
