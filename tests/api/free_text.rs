//! Free text that is stored (key descriptions and aliases, grant names) follows each
//! cloud's documented length and pattern, and control characters are refused with the
//! dialect's documented error, the same on both stores (issue 15, finding 2: a U+0000 in
//! a description was a 500 on PostgreSQL and stored on SQLite). Encryption contexts,
//! where AWS allows any Unicode, are stored and enforced without a 500.

use serde_json::{Value, json};

use crate::aws::create_key as create_aws_key;
use crate::helpers::aws::{AWS_ALICE, AWS_ERIN, aws, aws_error, aws_refused};
use crate::helpers::{ALICE, BOB, TestApp};

/// NUL, other C0 controls (tab and newline included), DEL and a C1 control.
const CONTROLS: [char; 8] = [
    '\0', '\u{1}', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}',
];

/// The controls a description refuses: all but tab, line feed and carriage return.
const DESCRIPTION_CONTROLS: [char; 5] = ['\0', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}'];

fn with_control(c: char) -> String {
    format!("before{c}after")
}

async fn huawei_key_count(app: &TestApp) -> u64 {
    app.call(ALICE, "list-keys", json!({})).await.ok()["total"]
        .as_u64()
        .unwrap()
}

async fn huawei_key_fields(app: &TestApp) {
    let before = huawei_key_count(app).await;
    for c in DESCRIPTION_CONTROLS {
        let reply = app
            .call(
                ALICE,
                "create-key",
                json!({"key_alias": "described", "key_description": with_control(c)}),
            )
            .await;
        reply.error(400, "KMS.1103");
    }
    for c in CONTROLS {
        let reply = app
            .call(ALICE, "create-key", json!({"key_alias": with_control(c)}))
            .await;
        reply.error(400, "KMS.1101");
    }
    assert_eq!(huawei_key_count(app).await, before, "nothing was stored");
    // The documented maximum (255 characters, not bytes) is accepted and read back; one more is refused.
    let longest = "é".repeat(255);
    let reply = app
        .call(
            ALICE,
            "create-key",
            json!({"key_alias": "a".repeat(255), "key_description": longest}),
        )
        .await;
    let key_id = reply.ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(described.ok()["key_info"]["key_description"], longest);
    app.call(
        ALICE,
        "create-key",
        json!({"key_alias": "over", "key_description": "é".repeat(256)}),
    )
    .await
    .error(400, "KMS.1103");
    app.call(ALICE, "create-key", json!({"key_alias": "a".repeat(256)}))
        .await
        .error(400, "KMS.1101");
    assert_eq!(huawei_key_count(app).await, before + 1);
}

async fn huawei_grant_names(app: &TestApp) {
    let key_id = app.create_key(ALICE, "named-grants").await;
    let grant = |name: Value| json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["describe-key"], "name": name});
    for c in CONTROLS {
        app.call(ALICE, "create-grant", grant(json!(with_control(c))))
            .await
            .error(400, "KMS.0308");
    }
    assert!(
        app.grant_ids(&key_id).await.is_empty(),
        "nothing was stored"
    );
    app.call(ALICE, "create-grant", grant(json!("n".repeat(255))))
        .await
        .ok();
    app.call(ALICE, "create-grant", grant(json!("n".repeat(256))))
        .await
        .error(400, "KMS.0308");
    assert_eq!(app.grant_ids(&key_id).await.len(), 1);
}

async fn aws_key_count(app: &TestApp) -> usize {
    aws(app, AWS_ALICE, "ListKeys", json!({"Limit": 1000}))
        .await
        .ok()["Keys"]
        .as_array()
        .unwrap()
        .len()
}

async fn aws_descriptions(app: &TestApp) {
    let before = aws_key_count(app).await;
    for c in DESCRIPTION_CONTROLS {
        let reply = aws(
            app,
            AWS_ALICE,
            "CreateKey",
            json!({"Description": with_control(c)}),
        )
        .await;
        aws_error(&reply, "ValidationException");
        assert!(
            reply.body["message"]
                .as_str()
                .unwrap()
                .contains("at 'description' failed to satisfy constraint"),
            "{}",
            reply.raw
        );
    }
    assert_eq!(aws_key_count(app).await, before, "nothing was stored");
    // A description on several lines is stored as given.
    let lines = "first line\n\tsecond line\r\n";
    let created = aws(app, AWS_ALICE, "CreateKey", json!({"Description": lines})).await;
    let id = created.ok()["KeyMetadata"]["KeyId"].clone();
    let described = aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": id})).await;
    assert_eq!(described.ok()["KeyMetadata"]["Description"], lines);
    // 8192 characters (four bytes each here) are accepted and read back; 8193 are refused.
    let longest = "𝄞".repeat(8192);
    let created = aws(app, AWS_ALICE, "CreateKey", json!({"Description": longest})).await;
    let id = created.ok()["KeyMetadata"]["KeyId"].clone();
    let described = aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": id})).await;
    assert_eq!(described.ok()["KeyMetadata"]["Description"], longest);
    aws_refused(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"Description": "d".repeat(8193)}),
        "ValidationException",
    )
    .await;
    assert_eq!(
        aws_key_count(app).await,
        before + 2,
        "the multi-line and the longest"
    );
}

async fn aws_grant_count(app: &TestApp, key: &Value) -> usize {
    aws(app, AWS_ALICE, "ListGrants", json!({"KeyId": key["KeyId"]}))
        .await
        .ok()["Grants"]
        .as_array()
        .unwrap()
        .len()
}

async fn aws_grant_names(app: &TestApp) {
    let key = create_aws_key(app).await;
    let grant = |name: String| json!({"KeyId": key["KeyId"], "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Encrypt"], "Name": name});
    for c in CONTROLS {
        aws_refused(
            app,
            AWS_ALICE,
            "CreateGrant",
            grant(with_control(c)),
            "ValidationException",
        )
        .await;
    }
    assert_eq!(aws_grant_count(app, &key).await, 0, "nothing was stored");
    aws(app, AWS_ALICE, "CreateGrant", grant("n".repeat(256)))
        .await
        .ok();
    aws_refused(
        app,
        AWS_ALICE,
        "CreateGrant",
        grant("n".repeat(257)),
        "ValidationException",
    )
    .await;
    assert_eq!(aws_grant_count(app, &key).await, 1);
}

/// AWS allows any Unicode in an encryption context: a NUL in a constraint is stored
/// (as JSON text) and enforced on both stores, and a refusal that quotes one is audited
/// without failing.
async fn encryption_contexts_with_nul_are_stored_and_enforced(app: &TestApp) {
    let key = create_aws_key(app).await;
    let context = json!({"k\u{0}ey": "va\u{0}lue\n"});
    let created = aws(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": key["KeyId"], "GranteePrincipal": AWS_ERIN.arn, "Operations": ["Encrypt"],
               "Constraints": {"EncryptionContextEquals": context}}),
    )
    .await;
    created.ok();
    let listed = aws(app, AWS_ALICE, "ListGrants", json!({"KeyId": key["KeyId"]})).await;
    assert_eq!(
        listed.ok()["Grants"][0]["Constraints"]["EncryptionContextEquals"],
        context
    );
    let encrypt = |context: Value| {
        aws(
            app,
            AWS_ERIN,
            "Encrypt",
            json!({"KeyId": key["Arn"], "Plaintext": "eA==", "EncryptionContext": context}),
        )
    };
    encrypt(context.clone()).await.ok();
    // A context that differs only after the NUL is another context.
    aws_error(
        &encrypt(json!({"k\u{0}ey": "va\u{0}lue\r"})).await,
        "AccessDeniedException",
    );
    // The owner's own encryption with such a context round-trips.
    let blob = aws(
        app,
        AWS_ALICE,
        "Encrypt",
        json!({"KeyId": key["KeyId"], "Plaintext": "eA==", "EncryptionContext": context}),
    )
    .await
    .ok()["CiphertextBlob"]
        .clone();
    let plain = aws(
        app,
        AWS_ALICE,
        "Decrypt",
        json!({"CiphertextBlob": blob, "EncryptionContext": context}),
    )
    .await;
    assert_eq!(plain.ok()["Plaintext"], "eA==");
}

crate::on_every_backend!(
    huawei_key_fields,
    huawei_grant_names,
    aws_descriptions,
    aws_grant_names,
    encryption_contexts_with_nul_are_stored_and_enforced
);
