//! Hostile input gets a documented error, never a 5xx, and changes nothing.

use serde_json::json;

use crate::helpers::{ALICE, ALL_ACTIONS, PROJECT, TestApp};

const FIELDS: [&str; 17] = [
    "key_id",
    "grant_id",
    "grantee_principal",
    "retiring_principal",
    "operations",
    "name",
    "grantee_principal_type",
    "limit",
    "marker",
    "key_alias",
    "key_description",
    "plain_text",
    "cipher_text",
    "pending_days",
    "datakey_length",
    "additional_authenticated_data",
    "sequence",
];

async fn every_field_of_every_action_survives_hostile_values(app: &TestApp) {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data"]).await;
    let hostile = [
        json!("'; drop table kms_grant; --"),
        json!("\u{0000}\u{0007}\u{001b}[31m"),
        json!("../../etc/passwd"),
        json!("ü€𝄞".repeat(300)),
        json!(1e308),
        json!(-9223372036854775808i64),
        json!(18446744073709551615u64),
        json!(true),
        json!({"nested": {"deeper": [1, 2, 3]}}),
        json!([null, [], {}]),
        json!(""),
        json!(null),
    ];
    for action in ALL_ACTIONS {
        for field in FIELDS {
            for value in &hostile {
                let mut body = json!({"key_id": key_id, "grant_id": grant_id});
                body[field] = value.clone();
                let reply = app.call(ALICE, action, body).await;
                assert!(
                    reply.status < 500,
                    "{action} {field}={value}: {} {}",
                    reply.status,
                    reply.raw
                );
                if reply.status != 200 {
                    assert!(
                        reply.body["error"]["error_code"]
                            .as_str()
                            .is_some_and(|c| c.starts_with("KMS.")),
                        "{action} {field}: {}",
                        reply.raw
                    );
                }
            }
        }
    }
    // The grant is still there unless an action above legitimately removed it; the key still exists.
    app.call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await
        .ok();
}

async fn malformed_bodies_and_headers(app: &TestApp) {
    let path = format!("/v1.0/{PROJECT}/kms/list-keys");
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let bodies: Vec<Vec<u8>> = vec![
        b"\xc3\x28".to_vec(),
        b"{\"limit\": \"\xff\"}".to_vec(),
        deep.into_bytes(),
        b"{\"a\":1}{\"b\":2}".to_vec(),
        b"\x00\x00\x00".to_vec(),
    ];
    for body in bodies {
        let reply = app
            .raw(
                reqwest::Method::POST,
                &path,
                &[("x-auth-token", ALICE.token)],
                body,
            )
            .await;
        reply.error(400, "KMS.0202");
    }
    // Duplicate fields: the last one wins, as in most JSON parsers.
    let reply = app
        .raw(
            reqwest::Method::POST,
            &path,
            &[("x-auth-token", ALICE.token)],
            br#"{"limit": "abc", "limit": "5"}"#.to_vec(),
        )
        .await;
    reply.ok();
    // A token header that is not valid text, and two token headers.
    let reply = app
        .raw(
            reqwest::Method::POST,
            &path,
            &[("x-auth-token", "caf\u{e9}")],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(reply.status, 403);
    let reply = app
        .raw(
            reqwest::Method::POST,
            &path,
            &[("x-auth-token", "forged"), ("x-auth-token", ALICE.token)],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(
        reply.status, 403,
        "only the first of duplicated token headers is read: {}",
        reply.raw
    );
    // Wrong content type still reads a JSON body (the SDKs differ in what they send).
    let reply = app
        .raw(
            reqwest::Method::POST,
            &path,
            &[
                ("x-auth-token", ALICE.token),
                ("content-type", "text/plain"),
            ],
            b"{}".to_vec(),
        )
        .await;
    reply.ok();
}

crate::on_every_backend!(
    every_field_of_every_action_survives_hostile_values,
    malformed_bodies_and_headers
);
