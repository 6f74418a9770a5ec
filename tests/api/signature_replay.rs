//! Signed requests cannot be replayed as something else (issue 15, findings 3 and 4):
//! an AK/SK signature over one body with another body, a SigV4 signature that leaves
//! `X-Amz-Target` unsigned as another operation, a SigV4 scope for another region.
//! Each is refused and changes nothing.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use kms_emulator::auth::sigv4;
use kms_emulator::crypto::sha256_hex;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::aws::create_key as create_aws_key;
use crate::helpers::aws::{AWS_ALICE, AWS_BOB, aws, aws_error, send};
use crate::helpers::{ALICE, BOB, PROJECT, TestApp};
use crate::identity::{ALICE_AK, ALICE_SK, signed};

fn aksk_headers(content_sha256: &str) -> [(&'static str, String); 3] {
    [
        ("content-type", "application/json;charset=UTF-8".to_owned()),
        ("x-project-id", PROJECT.to_owned()),
        ("x-sdk-content-sha256", content_sha256.to_owned()),
    ]
}

/// An AK/SK create-grant signed with `X-Sdk-Content-Sha256` of `signed_body`, sent with `sent_body`.
async fn create_grant_signed_over(
    app: &TestApp,
    signed_body: &Value,
    sent_body: &Value,
) -> crate::helpers::Reply {
    let signed_bytes = signed_body.to_string().into_bytes();
    let sent_bytes = sent_body.to_string().into_bytes();
    let headers = aksk_headers(&sha256_hex(&signed_bytes));
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    signed(
        app,
        reqwest::Method::POST,
        &format!("/v1.0/{PROJECT}/kms/create-grant"),
        (ALICE_AK, ALICE_SK),
        &headers,
        &signed_bytes,
        move |_, body| *body = sent_bytes,
    )
    .await
}

async fn aksk_body_swap_is_refused(app: &TestApp) {
    let key_id = app.create_key(ALICE, "swap-target").await;
    let describe =
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["describe-key"]});
    let decrypt =
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["decrypt-data"]});
    // The body the signature was made over passes with its hash in the header.
    create_grant_signed_over(app, &describe, &describe)
        .await
        .ok();
    assert_eq!(app.grant_ids(&key_id).await.len(), 1);
    // Another body under the same signed hash is the gateway's signature failure.
    let reply = create_grant_signed_over(app, &describe, &decrypt).await;
    assert_eq!(reply.status, 401, "{}", reply.raw);
    assert_eq!(reply.body["error_code"], "APIGW.0301", "{}", reply.raw);
    assert!(
        reply.body["error_msg"]
            .as_str()
            .is_some_and(|m| m.contains("verify aksk signature fail")),
        "{}",
        reply.raw
    );
    // Nothing was granted: still one grant, and bob cannot decrypt.
    assert_eq!(app.grant_ids(&key_id).await.len(), 1);
    let listed = app
        .call(ALICE, "list-grants", json!({"key_id": key_id}))
        .await;
    assert_eq!(
        listed.ok()["grants"][0]["operations"],
        json!(["describe-key"])
    );
}

/// A SigV4 request signed over `signed` headers (plus host and x-amz-date) for
/// `region`, with `added` headers put in after signing.
fn sigv4_headers(
    app: &TestApp,
    region: &str,
    signed: &[(&str, &str)],
    added: &[(&str, &str)],
    body: &[u8],
) -> Vec<(String, String)> {
    let host = app.base.trim_start_matches("http://").to_owned();
    let mut headers = HeaderMap::new();
    let put = |headers: &mut HeaderMap, name: &str, value: &str| {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    };
    put(
        &mut headers,
        "x-amz-date",
        &sigv4::format_amz_date(OffsetDateTime::now_utc()),
    );
    put(&mut headers, "host", &host);
    for (name, value) in signed {
        put(&mut headers, name, value);
    }
    let parts = sigv4::RequestParts {
        method: "POST",
        path: "/",
        query: None,
        headers: &headers,
        body,
    };
    let authorization =
        sigv4::authorization_for(AWS_ALICE.access_key, AWS_ALICE.secret_key, region, &parts)
            .unwrap();
    for (name, value) in added {
        put(&mut headers, name, value);
    }
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| name.as_str() != "host")
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    out.push(("authorization".into(), authorization));
    out
}

const JSON_1_1: (&str, &str) = ("content-type", "application/x-amz-json-1.1");

async fn key_state(app: &TestApp, key: &Value) -> Value {
    aws(
        app,
        AWS_ALICE,
        "DescribeKey",
        json!({"KeyId": key["KeyId"]}),
    )
    .await
    .ok()["KeyMetadata"]["KeyState"]
        .clone()
}

async fn unsigned_target_cannot_be_replayed_as_another_operation(app: &TestApp) {
    let key = create_aws_key(app).await;
    let body = json!({"KeyId": key["KeyId"]}).to_string().into_bytes();
    // A DescribeKey signed over host;x-amz-date only, sent as DisableKey.
    let headers = sigv4_headers(
        app,
        "eu-de",
        &[],
        &[JSON_1_1, ("x-amz-target", "TrentService.DisableKey")],
        &body,
    );
    let reply = send(app, headers, body.clone()).await;
    aws_error(&reply, "IncompleteSignatureException");
    assert_eq!(
        reply.body["message"],
        "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
    );
    assert_eq!(key_state(app, &key).await, "Enabled");
    // Content-Type signed but the target not: the same.
    let headers = sigv4_headers(
        app,
        "eu-de",
        &[JSON_1_1],
        &[("x-amz-target", "TrentService.DisableKey")],
        &body,
    );
    aws_error(
        &send(app, headers, body.clone()).await,
        "IncompleteSignatureException",
    );
    // The target signed and the content type not.
    let headers = sigv4_headers(
        app,
        "eu-de",
        &[("x-amz-target", "TrentService.DisableKey")],
        &[JSON_1_1],
        &body,
    );
    let reply = send(app, headers, body.clone()).await;
    aws_error(&reply, "IncompleteSignatureException");
    assert_eq!(
        reply.body["message"],
        "'Content-Type' must be a 'SignedHeader' in the AWS Authorization."
    );
    assert_eq!(key_state(app, &key).await, "Enabled");
    // Signed as botocore signs (both headers): it works.
    let headers = sigv4_headers(
        app,
        "eu-de",
        &[JSON_1_1, ("x-amz-target", "TrentService.DisableKey")],
        &[],
        &body,
    );
    send(app, headers, body).await.ok();
    assert_eq!(key_state(app, &key).await, "Disabled");
}

async fn a_scope_for_another_region_is_refused(app: &TestApp) {
    let key = create_aws_key(app).await;
    let body =
        json!({"KeyId": key["KeyId"], "GranteePrincipal": AWS_BOB.arn, "Operations": ["Decrypt"]})
            .to_string()
            .into_bytes();
    let target = ("x-amz-target", "TrentService.CreateGrant");
    let headers = sigv4_headers(app, "us-east-1", &[JSON_1_1, target], &[], &body);
    let reply = send(app, headers, body.clone()).await;
    aws_error(&reply, "InvalidSignatureException");
    assert_eq!(
        reply.body["message"],
        "Credential should be scoped to a valid region, not 'us-east-1'. "
    );
    let grants = aws(app, AWS_ALICE, "ListGrants", json!({"KeyId": key["KeyId"]})).await;
    assert_eq!(grants.ok()["Grants"], json!([]));
    // The served region's scope works.
    let headers = sigv4_headers(app, "eu-de", &[JSON_1_1, target], &[], &body);
    send(app, headers, body).await.ok();
}

crate::on_every_backend!(
    aksk_body_swap_is_refused,
    unsigned_target_cannot_be_replayed_as_another_operation,
    a_scope_for_another_region_is_refused
);
