//! create-key, describe-key and list-keys: what grants need of keys.

use serde_json::json;

use crate::helpers::{ALICE, BOB, DAVE, DOMAIN, ERIN, TestApp};

async fn create_key_answers_key_info(app: &TestApp) {
    let reply = app
        .call(
            ALICE,
            "create-key",
            json!({"key_alias": "kms_test", "key_description": "for tests"}),
        )
        .await;
    let info = &reply.ok()["key_info"];
    let key_id = info["key_id"].as_str().unwrap();
    assert_eq!(key_id.len(), 36);
    assert_eq!(info["domain_id"], DOMAIN);
    assert_eq!(info["region_id"], "eu-de");

    let reply = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    let details = &reply.ok()["key_info"];
    assert_eq!(details["key_id"], key_id);
    assert_eq!(details["key_alias"], "kms_test");
    assert_eq!(details["key_description"], "for tests");
    assert_eq!(details["key_state"], "2");
    assert_eq!(details["key_spec"], "AES_256");
    assert_eq!(details["key_usage"], "ENCRYPT_DECRYPT");
    assert_eq!(details["origin"], "kms");
    assert_eq!(details["default_key_flag"], "0");
    assert_eq!(details["scheduled_deletion_date"], "");
    assert_eq!(details["realm"], "eu-de");
    assert_eq!(details["creation_date"].as_str().unwrap().len(), 13);
}

async fn create_key_validation(app: &TestApp) {
    app.create_key(ALICE, "taken").await;
    let cases = [
        (json!({"key_alias": "taken"}), "KMS.1104"),
        (json!({}), "KMS.0204"),
        (json!({"key_alias": "bad alias"}), "KMS.1101"),
        (json!({"key_alias": "obs/default"}), "KMS.1101"),
        (json!({"key_alias": 5}), "KMS.1101"),
        (
            json!({"key_alias": "ok", "key_description": "d".repeat(256)}),
            "KMS.1103",
        ),
        (
            json!({"key_alias": "ok", "key_spec": "RSA_1024"}),
            "KMS.0308",
        ),
        (
            json!({"key_alias": "ok", "key_spec": "AES_256", "key_usage": "SIGN_VERIFY"}),
            "KMS.0308",
        ),
        (json!({"key_alias": "ok", "key_spec": "SM5"}), "KMS.0308"),
        (json!({"key_alias": "ok", "origin": "hsm"}), "KMS.0308"),
    ];
    for (body, code) in cases {
        app.call(ALICE, "create-key", body).await.error(400, code);
    }
    let reply = app.call(ALICE, "list-keys", json!({})).await;
    assert_eq!(reply.ok()["total"], 1, "no failed request created a key");
    // The same alias is free in another project.
    app.create_key(ERIN, "taken").await;
}

async fn external_keys_start_pending_import_and_refuse_grants(app: &TestApp) {
    let reply = app
        .call(
            ALICE,
            "create-key",
            json!({"key_alias": "ext", "origin": "external"}),
        )
        .await;
    let key_id = reply.ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .call(ALICE, "describe-key", json!({"key_id": key_id}))
        .await;
    assert_eq!(reply.ok()["key_info"]["key_state"], "5");
    app.call(
        ALICE,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"]}),
    )
    .await
    .error(400, "KMS.0209");
}

async fn keys_are_visible_to_their_project_only(app: &TestApp) {
    let key_id = app.create_key(ALICE, "mine").await;
    app.call(DAVE, "describe-key", json!({"key_id": key_id}))
        .await
        .ok();
    app.call(ERIN, "describe-key", json!({"key_id": key_id}))
        .await
        .error(404, "KMS.0207");
    let reply = app.call(ERIN, "list-keys", json!({})).await;
    assert_eq!(reply.ok()["total"], 0);
    assert_eq!(reply.body["keys"], json!([]));
}

async fn describe_key_through_a_grant_needs_describe_key(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    app.create_grant(
        ALICE,
        json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["encrypt-data"]}),
    )
    .await;
    app.call(ERIN, "describe-key", json!({"key_id": key_id}))
        .await
        .error(403, "KMS.0306");
    app.create_grant(
        ALICE,
        json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["describe-key"]}),
    )
    .await;
    app.call(ERIN, "describe-key", json!({"key_id": key_id}))
        .await
        .ok();
}

async fn list_keys_pages_and_filters(app: &TestApp) {
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(app.create_key(ALICE, &format!("k{i}")).await);
    }
    let first = app.call(ALICE, "list-keys", json!({"limit": "2"})).await;
    let body = first.ok();
    assert_eq!(body["total"], 3);
    assert_eq!(body["truncated"], "true");
    assert_eq!(body["keys"], json!([created[0], created[1]]));
    assert_eq!(body["key_details"][1]["key_id"], created[1].as_str());
    let marker = body["next_marker"].as_str().unwrap();
    let second = app
        .call(ALICE, "list-keys", json!({"limit": 2, "marker": marker}))
        .await;
    assert_eq!(second.ok()["keys"], json!([created[2]]));
    assert_eq!(second.body["truncated"], "false");
    assert_eq!(second.body["next_marker"], "");
    let disabled = app
        .call(ALICE, "list-keys", json!({"key_state": "3"}))
        .await;
    assert_eq!(disabled.ok()["total"], 0);
    app.call(ALICE, "list-keys", json!({"key_state": "9"}))
        .await
        .error(400, "KMS.0308");
    app.call(ALICE, "list-keys", json!({"limit": 2001}))
        .await
        .error(400, "KMS.1601");
}

crate::on_every_backend!(
    create_key_answers_key_info,
    create_key_validation,
    external_keys_start_pending_import_and_refuse_grants,
    keys_are_visible_to_their_project_only,
    describe_key_through_a_grant_needs_describe_key,
    list_keys_pages_and_filters,
);

mod restart {
    use super::*;
    use crate::helpers::Backend;

    async fn state_survives_a_restart(backend: Backend) {
        let mut app = TestApp::spawn(backend).await;
        let (key_id, grant_id) = app.key_with_grant(&["encrypt-data"]).await;
        app.restart().await;
        assert_eq!(app.grant_ids(&key_id).await, vec![grant_id]);
        app.call(ALICE, "describe-key", json!({"key_id": key_id}))
            .await
            .ok();
        app.finish().await;
    }

    #[tokio::test]
    async fn sqlite_state_survives_a_restart() {
        state_survives_a_restart(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres_state_survives_a_restart() {
        state_survives_a_restart(Backend::Postgres).await;
    }
}

/// update-key-description and UpdateKeyDescription: the creator's administrator changes
/// it, read-only users and grantees may not, and a key pending deletion keeps its own.
mod descriptions {
    use serde_json::json;

    use crate::helpers::aws::{AWS_ALICE, AWS_DAVE, aws, aws_refused};
    use crate::helpers::{ALICE, DAVE, ERIN, TestApp};

    async fn descriptions_change_in_both_dialects(app: &TestApp) {
        let key_id = app.create_key(ALICE, "described").await;
        let reply = app
            .call(
                ALICE,
                "update-key-description",
                json!({"key_id": key_id, "key_description": "payroll\nkey"}),
            )
            .await;
        assert_eq!(reply.ok()["key_info"]["key_description"], "payroll\nkey");
        assert_eq!(reply.ok()["key_info"]["key_id"], key_id);
        let described = app
            .call(ALICE, "describe-key", json!({"key_id": key_id}))
            .await;
        assert_eq!(
            described.ok()["key_info"]["key_description"],
            "payroll\nkey"
        );
        // Through AWS, on the same key; DescribeKey shows it in both dialects.
        aws(
            app,
            AWS_ALICE,
            "UpdateKeyDescription",
            json!({"KeyId": key_id, "Description": "from aws"}),
        )
        .await
        .ok();
        let described = app
            .call(ALICE, "describe-key", json!({"key_id": key_id}))
            .await;
        assert_eq!(described.ok()["key_info"]["key_description"], "from aws");
        // An empty description is a description.
        aws(
            app,
            AWS_ALICE,
            "UpdateKeyDescription",
            json!({"KeyId": key_id, "Description": ""}),
        )
        .await
        .ok();
        // Refusals: missing and invalid values, read-only users, other accounts.
        app.call(ALICE, "update-key-description", json!({"key_id": key_id}))
            .await
            .error(400, "KMS.0204");
        app.call(
            ALICE,
            "update-key-description",
            json!({"key_id": key_id, "key_description": "d".repeat(256)}),
        )
        .await
        .error(400, "KMS.1103");
        aws_refused(
            app,
            AWS_ALICE,
            "UpdateKeyDescription",
            json!({"KeyId": key_id}),
            "ValidationException",
        )
        .await;
        app.call(
            DAVE,
            "update-key-description",
            json!({"key_id": key_id, "key_description": "mine"}),
        )
        .await
        .error(403, "KMS.0306");
        let denied = aws(
            app,
            AWS_DAVE,
            "UpdateKeyDescription",
            json!({"KeyId": key_id, "Description": "mine"}),
        )
        .await;
        assert_eq!(
            denied.body["__type"], "AccessDeniedException",
            "{}",
            denied.raw
        );
        app.call(
            ERIN,
            "update-key-description",
            json!({"key_id": key_id, "key_description": "mine"}),
        )
        .await
        .error(404, "KMS.0207");
        // A key pending deletion keeps its description.
        app.call(
            ALICE,
            "schedule-key-deletion",
            json!({"key_id": key_id, "pending_days": 7}),
        )
        .await
        .ok();
        app.call(
            ALICE,
            "update-key-description",
            json!({"key_id": key_id, "key_description": "late"}),
        )
        .await
        .error(400, "KMS.0210");
        aws_refused(
            app,
            AWS_ALICE,
            "UpdateKeyDescription",
            json!({"KeyId": key_id, "Description": "late"}),
            "KMSInvalidStateException",
        )
        .await;
        let described = app
            .call(ALICE, "describe-key", json!({"key_id": key_id}))
            .await;
        assert_eq!(described.ok()["key_info"]["key_description"], "");
    }

    crate::on_every_backend!(descriptions_change_in_both_dialects);
}

/// user-quotas and user-instances (GET, as the SDK calls them): the project's key count
/// and the most grants on one key, against the configured quotas.
mod quotas {
    use serde_json::json;

    use crate::helpers::{ALICE, BOB, DAVE, PROJECT, TestApp};

    async fn get(app: &TestApp, token: &str, action: &str) -> crate::helpers::Reply {
        app.raw(
            reqwest::Method::GET,
            &format!("/v1.0/{PROJECT}/kms/{action}"),
            &[("x-auth-token", token)],
            vec![],
        )
        .await
    }

    async fn quotas_and_instances_count_the_project(app: &TestApp) {
        let empty = get(app, ALICE.token, "user-quotas").await;
        assert_eq!(
            empty.ok()["quotas"]["resources"],
            json!([{"type": "CMK", "used": 0, "quota": 100}, {"type": "grant_per_CMK", "used": 0, "quota": 100}])
        );
        let (key_id, _) = app.key_with_grant(&["encrypt-data"]).await;
        app.create_grant(
            ALICE,
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["decrypt-data"]}),
        )
        .await;
        app.create_key(ALICE, "second").await;
        let quotas = get(app, ALICE.token, "user-quotas").await;
        assert_eq!(quotas.ok()["quotas"]["resources"][0]["used"], 2);
        assert_eq!(quotas.ok()["quotas"]["resources"][1]["used"], 2);
        assert_eq!(
            get(app, ALICE.token, "user-instances").await.ok()["instance_num"],
            2
        );
        // The read-only user may look; a user without KMS permissions may not.
        assert_eq!(
            get(app, DAVE.token, "user-instances").await.ok()["instance_num"],
            2
        );
        get(app, BOB.token, "user-quotas")
            .await
            .error(403, "KMS.0307");
        // POST is not how these are served, and GET serves nothing else.
        app.call(ALICE, "user-quotas", json!({}))
            .await
            .error(405, "KMS.0215");
        get(app, ALICE.token, "list-keys")
            .await
            .error(405, "KMS.0215");
    }

    crate::on_every_backend!(quotas_and_instances_count_the_project);
}
