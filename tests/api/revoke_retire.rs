//! revoke-grant and retire-grant: every authorization cell and every validation error.

use serde_json::json;

use crate::helpers::{ALICE, BOB, CAROL, DAVE, ERIN, TestApp, User};

async fn revoke(app: &TestApp, user: User, key_id: &str, grant_id: &str) -> crate::helpers::Reply {
    app.call(
        user,
        "revoke-grant",
        json!({"key_id": key_id, "grant_id": grant_id}),
    )
    .await
}

async fn retire(app: &TestApp, user: User, key_id: &str, grant_id: &str) -> crate::helpers::Reply {
    app.call(
        user,
        "retire-grant",
        json!({"key_id": key_id, "grant_id": grant_id}),
    )
    .await
}

async fn key_creator_revokes_and_the_grant_is_gone(app: &TestApp) {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data"]).await;
    let reply = revoke(app, ALICE, &key_id, &grant_id).await;
    assert_eq!(reply.ok(), &json!({}));
    assert!(reply.request_id.is_some());
    assert!(app.grant_ids(&key_id).await.is_empty());
    // A second revoke finds nothing.
    revoke(app, ALICE, &key_id, &grant_id)
        .await
        .error(400, "KMS.2501");
}

async fn only_the_key_creator_may_revoke(app: &TestApp) {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data", "retire-grant"]).await;
    for user in [BOB, CAROL, DAVE] {
        revoke(app, user, &key_id, &grant_id)
            .await
            .error(403, "KMS.0306");
    }
    revoke(app, ERIN, &key_id, &grant_id)
        .await
        .error(404, "KMS.0207");
    assert_eq!(app.grant_ids(&key_id).await, vec![grant_id]);
}

async fn issuer_may_retire(app: &TestApp) {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data"]).await;
    assert_eq!(
        retire(app, ALICE, &key_id, &grant_id).await.ok(),
        &json!({})
    );
    assert!(app.grant_ids(&key_id).await.is_empty());
}

async fn retiring_principal_may_retire(app: &TestApp) {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data"]).await;
    retire(app, CAROL, &key_id, &grant_id).await.ok();
    assert!(app.grant_ids(&key_id).await.is_empty());
}

async fn grantee_retires_only_with_retire_grant(app: &TestApp) {
    let (key_id, without) = app.key_with_grant(&["encrypt-data"]).await;
    retire(app, BOB, &key_id, &without)
        .await
        .error(403, "KMS.0306");
    let with = app
        .create_grant(ALICE, json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["retire-grant", "describe-key"]}))
        .await;
    retire(app, BOB, &key_id, &with).await.ok();
    assert_eq!(app.grant_ids(&key_id).await, vec![without]);
}

async fn key_creator_who_did_not_issue_may_not_retire(app: &TestApp) {
    // bob holds create-grant and issues a grant to carol; alice created the key.
    let (key_id, _) = app.key_with_grant(&["create-grant", "encrypt-data"]).await;
    let sub = app.create_grant(BOB, json!({"key_id": key_id, "grantee_principal": CAROL.id, "operations": ["encrypt-data"]})).await;
    retire(app, ALICE, &key_id, &sub)
        .await
        .error(403, "KMS.0306");
    // ...but she may revoke it, and bob (the issuer) may retire it.
    let sub2 = app.create_grant(BOB, json!({"key_id": key_id, "grantee_principal": CAROL.id, "operations": ["encrypt-data"]})).await;
    retire(app, BOB, &key_id, &sub2).await.ok();
    revoke(app, ALICE, &key_id, &sub).await.ok();
}

async fn other_users_may_not_retire(app: &TestApp) {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data", "retire-grant"]).await;
    retire(app, DAVE, &key_id, &grant_id)
        .await
        .error(403, "KMS.0306");
    retire(app, ERIN, &key_id, &grant_id)
        .await
        .error(404, "KMS.0207");
    assert_eq!(app.grant_ids(&key_id).await, vec![grant_id]);
}

async fn grantee_in_another_account_retires_through_its_grant(app: &TestApp) {
    let key_id = app.create_key(ALICE, "shared").await;
    let grant_id = app
        .create_grant(ALICE, json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["retire-grant", "describe-key"]}))
        .await;
    // erin calls in her own project; the key is found through her grant.
    app.call(ERIN, "describe-key", json!({"key_id": key_id}))
        .await
        .ok();
    // Her grant shows her the key, so she is told she may not, rather than that it is missing.
    revoke(app, ERIN, &key_id, &grant_id)
        .await
        .error(403, "KMS.0306");
    retire(app, ERIN, &key_id, &grant_id).await.ok();
    app.call(ERIN, "describe-key", json!({"key_id": key_id}))
        .await
        .error(404, "KMS.0207");
}

async fn malformed_and_unknown_ids_get_their_documented_codes(app: &TestApp) {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data"]).await;
    let (other_key, other_grant) = app.key_with_grant(&["encrypt-data"]).await;
    let unknown_key = "0d0466b0-e727-4d9c-b35d-f84bb474a37f";
    let unknown_grant = "7c9a3286af4fcca5f0a385ad13e1d21a50e27b6dbcab50f37f30f93b8939827d";
    for action in ["revoke-grant", "retire-grant"] {
        let cases: Vec<(serde_json::Value, u16, &str)> = vec![
            (
                json!({"key_id": "not-a-key", "grant_id": grant_id}),
                400,
                "KMS.0205",
            ),
            (
                json!({"key_id": key_id.to_uppercase(), "grant_id": grant_id}),
                400,
                "KMS.0205",
            ),
            (json!({"key_id": 12, "grant_id": grant_id}), 400, "KMS.0205"),
            (json!({"key_id": key_id, "grant_id": "00"}), 400, "KMS.2501"),
            (
                json!({"key_id": key_id, "grant_id": ["x"]}),
                400,
                "KMS.2501",
            ),
            (
                json!({"key_id": key_id, "grant_id": "'; delete from kms_grant; --"}),
                400,
                "KMS.2501",
            ),
            (
                json!({"key_id": unknown_key, "grant_id": grant_id}),
                404,
                "KMS.0207",
            ),
            (
                json!({"key_id": key_id, "grant_id": unknown_grant}),
                400,
                "KMS.2501",
            ),
            (
                json!({"key_id": key_id, "grant_id": other_grant}),
                400,
                "KMS.2502",
            ),
            (json!({"grant_id": grant_id}), 400, "KMS.0204"),
            (json!({"key_id": key_id}), 400, "KMS.0204"),
            (json!({"key_id": "", "grant_id": grant_id}), 400, "KMS.0204"),
            (
                json!({"key_id": key_id, "grant_id": grant_id, "sequence": "short"}),
                400,
                "KMS.0206",
            ),
        ];
        for (body, status, code) in cases {
            app.call(ALICE, action, body).await.error(status, code);
        }
        for raw in [
            &b"{not json"[..],
            b"[1,2]",
            b"\xff\xfe{}",
            b"{\"key_id\": \"a\",}",
        ] {
            app.raw(
                reqwest::Method::POST,
                &format!("/v1.0/{}/kms/{action}", ALICE.project),
                &[
                    ("x-auth-token", ALICE.token),
                    ("content-type", "application/json"),
                ],
                raw.to_vec(),
            )
            .await
            .error(400, "KMS.0202");
        }
    }
    // Nothing changed.
    assert_eq!(app.grant_ids(&key_id).await, vec![grant_id]);
    assert_eq!(app.grant_ids(&other_key).await, vec![other_grant]);
}

async fn grant_ids_are_matched_case_insensitively(app: &TestApp) {
    let (key_id, grant_id) = app.key_with_grant(&["encrypt-data"]).await;
    revoke(app, ALICE, &key_id, &grant_id.to_uppercase())
        .await
        .ok();
    assert!(app.grant_ids(&key_id).await.is_empty());
}

async fn the_documented_story_a_grants_b_with_c_retiring(app: &TestApp) {
    // SEED-001: A grants B use of a key with C as retiring principal; A, B (with
    // retire-grant) and C can each retire, after which B no longer reaches the key.
    for retirer in [ALICE, BOB, CAROL] {
        let (key_id, grant_id) = app.key_with_grant(&["describe-key", "retire-grant"]).await;
        app.call(BOB, "describe-key", json!({"key_id": key_id}))
            .await
            .ok();
        retire(app, retirer, &key_id, &grant_id).await.ok();
        // bob is in alice's project, so the key stays visible to him as a project member;
        // the grant itself is gone.
        assert!(app.grant_ids(&key_id).await.is_empty());
    }
}

crate::on_every_backend!(
    key_creator_revokes_and_the_grant_is_gone,
    only_the_key_creator_may_revoke,
    issuer_may_retire,
    retiring_principal_may_retire,
    grantee_retires_only_with_retire_grant,
    key_creator_who_did_not_issue_may_not_retire,
    other_users_may_not_retire,
    grantee_in_another_account_retires_through_its_grant,
    malformed_and_unknown_ids_get_their_documented_codes,
    grant_ids_are_matched_case_insensitively,
    the_documented_story_a_grants_b_with_c_retiring,
);
