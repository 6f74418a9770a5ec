//! Features left out on purpose (issue 13, item 6): Huawei's dedicated key stores, access
//! points and PINs answer 501 `EMULATOR.0501` naming the feature, after authentication, never
//! "unknown action" (KMS.0201); the AWS custom key store operations answer
//! UnsupportedOperationException. (Key policies of trusted key spaces and data-key capsules
//! are served: `keyspace.rs`.)

use serde_json::json;

use crate::helpers::aws::{AWS_ALICE, aws, aws_error};
use crate::helpers::{ALICE, PROJECT, TestApp};

const KEYSTORE: &str = "0f2b6c3a-9d8e-4f1a-8b7c-6d5e4f3a2b1c";

async fn huawei_features_out_of_scope_say_so(app: &TestApp) {
    let kms = |path: &str| format!("/v1.0/{PROJECT}/kms/{path}");
    let cases = [
        (
            reqwest::Method::POST,
            format!("/v1.0/{PROJECT}/keystores"),
            "Dedicated key stores",
        ),
        (
            reqwest::Method::GET,
            format!("/v1.0/{PROJECT}/keystores"),
            "Dedicated key stores",
        ),
        (
            reqwest::Method::GET,
            format!("/v1.0/{PROJECT}/keystores/{KEYSTORE}"),
            "Dedicated key stores",
        ),
        (
            reqwest::Method::DELETE,
            format!("/v1.0/{PROJECT}/keystores/{KEYSTORE}"),
            "Dedicated key stores",
        ),
        (
            reqwest::Method::POST,
            format!("/v1.0/{PROJECT}/keystores/{KEYSTORE}/enable"),
            "Dedicated key stores",
        ),
        (reqwest::Method::POST, kms("access-points"), "Access points"),
        (reqwest::Method::GET, kms("access-points"), "Access points"),
        (
            reqwest::Method::POST,
            kms("access-points/ap-1/disable"),
            "Access points",
        ),
        (
            reqwest::Method::POST,
            kms("access-points/ap-1/get-privatekey"),
            "Access points",
        ),
        (
            reqwest::Method::DELETE,
            kms("access-points/ap-1"),
            "Access points",
        ),
        (reqwest::Method::POST, kms("create-pin"), "PINs"),
    ];
    for (method, path, feature) in cases {
        let reply = app
            .raw(
                method.clone(),
                &path,
                &[
                    ("x-auth-token", ALICE.token),
                    ("content-type", "application/json"),
                ],
                b"{}".to_vec(),
            )
            .await;
        reply.error(501, "EMULATOR.0501");
        let message = reply.body["error"]["error_msg"].as_str().unwrap();
        assert!(
            message.starts_with(feature) && message.contains("out of its scope"),
            "{path}: {message}"
        );
        // Without credentials the gateway's answer comes first.
        let anonymous = app.raw(method, &path, &[], b"{}".to_vec()).await;
        assert_ne!(anonymous.status, 501, "{path}: {}", anonymous.raw);
        assert!(
            anonymous.status == 401 || anonymous.status == 403,
            "{path}: {}",
            anonymous.raw
        );
    }
    // A near miss is still an unknown action.
    app.call(ALICE, "access-pointz", json!({}))
        .await
        .error(400, "KMS.0201");
}

async fn aws_custom_key_stores_are_unsupported(app: &TestApp) {
    for target in [
        "CreateCustomKeyStore",
        "DescribeCustomKeyStores",
        "ConnectCustomKeyStore",
        "DisconnectCustomKeyStore",
        "UpdateCustomKeyStore",
        "DeleteCustomKeyStore",
    ] {
        let reply = aws(app, AWS_ALICE, target, json!({})).await;
        aws_error(&reply, "UnsupportedOperationException");
    }
}

crate::on_every_backend!(
    huawei_features_out_of_scope_say_so,
    aws_custom_key_stores_are_unsupported,
);
