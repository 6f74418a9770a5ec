//! Huawei aliases over HTTP: POST/DELETE/GET aliases, alias/associate, update-key-alias;
//! one namespace per account with the AWS aliases.

use serde_json::json;

use crate::helpers::aws::{AWS_ALICE, aws};
use crate::helpers::{ALICE, BOB, DAVE, DOMAIN, ERIN, Reply, TestApp, User, hw};

async fn create(app: &TestApp, user: User, key: &str, alias: &str) -> Reply {
    hw(
        app,
        user,
        reqwest::Method::POST,
        "aliases",
        Some(json!({"key_id": key, "alias": alias})),
    )
    .await
}

async fn list(app: &TestApp, user: User, query: &str) -> Reply {
    hw(
        app,
        user,
        reqwest::Method::GET,
        &format!("aliases{query}"),
        None,
    )
    .await
}

async fn create_list_associate_delete(app: &TestApp) {
    let first = app.create_key(ALICE, "first").await;
    let second = app.create_key(ALICE, "second").await;
    let created = create(app, ALICE, &first, "kms-1234").await;
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_eq!(created.body["alias"], "kms-1234");
    assert_eq!(created.body["key_id"], first.as_str());
    assert_eq!(created.body["domain_id"], DOMAIN);
    assert_eq!(
        created.body["alias_urn"],
        format!("kms:eu-de:{DOMAIN}:alias:kms-1234")
    );
    assert!(created.body["create_time"].as_str().unwrap().ends_with('Z'));
    // Taken, also when written with the prefix; the AWS API sees the same alias.
    create(app, ALICE, &second, "kms-1234")
        .await
        .error(400, "KMS.1104");
    create(app, ALICE, &second, "alias/kms-1234")
        .await
        .error(400, "KMS.1104");
    let described = aws(
        app,
        AWS_ALICE,
        "DescribeKey",
        json!({"KeyId": "alias/kms-1234"}),
    )
    .await;
    assert_eq!(described.ok()["KeyMetadata"]["KeyId"], first.as_str());

    let listed = list(app, ALICE, "").await;
    let page = &listed.ok()[0];
    assert_eq!(page["aliases"].as_array().unwrap().len(), 1);
    assert_eq!(page["aliases"][0]["alias"], "kms-1234");
    assert_eq!(
        page["page_info"],
        json!({"next_marker": "", "current_count": 1})
    );

    let moved = hw(
        app,
        ALICE,
        reqwest::Method::POST,
        "alias/associate",
        Some(json!({"alias": "kms-1234", "target_key_id": second})),
    )
    .await;
    assert_eq!(moved.ok()["key_id"], second.as_str());
    assert_eq!(
        list(app, ALICE, &format!("?key_id={first}")).await.ok()[0]["aliases"],
        json!([])
    );
    assert_eq!(
        list(app, ALICE, &format!("?key_id={second}")).await.ok()[0]["page_info"]["current_count"],
        1
    );
    hw(
        app,
        ALICE,
        reqwest::Method::POST,
        "alias/associate",
        Some(json!({"alias": "nope", "target_key_id": second})),
    )
    .await
    .error(404, "KMS.0207");

    // DELETE names the key the alias must name.
    hw(
        app,
        ALICE,
        reqwest::Method::DELETE,
        "aliases",
        Some(json!({"key_id": first, "aliases": ["kms-1234"]})),
    )
    .await
    .error(404, "KMS.0207");
    hw(
        app,
        ALICE,
        reqwest::Method::DELETE,
        "aliases",
        Some(json!({"key_id": second, "aliases": ["kms-1234"]})),
    )
    .await
    .ok();
    assert_eq!(list(app, ALICE, "").await.ok()[0]["aliases"], json!([]));
    hw(
        app,
        ALICE,
        reqwest::Method::DELETE,
        "aliases",
        Some(json!({"key_id": second})),
    )
    .await
    .error(400, "KMS.0204");
}

async fn names_paging_and_refusals(app: &TestApp) {
    let key = app.create_key(ALICE, "named").await;
    for bad in ["a b", "é", &"a".repeat(251)] {
        create(app, ALICE, &key, bad).await.error(400, "KMS.1101");
    }
    create(app, ALICE, &key, &"a".repeat(250)).await;
    create(app, ALICE, &key, "aws/s3")
        .await
        .error(400, "KMS.1101");
    create(app, ALICE, &key, "x").await;
    create(app, ALICE, "0d0466b0-e727-4d9c-b35d-f84bb474a37f", "y")
        .await
        .error(404, "KMS.0207");
    for i in 0..5 {
        assert_eq!(create(app, ALICE, &key, &format!("p{i}")).await.status, 201);
    }
    let mut names = Vec::new();
    let mut marker = String::new();
    loop {
        let reply = list(app, ALICE, &format!("?limit=3&marker={marker}")).await;
        let page = reply.ok()[0].clone();
        for alias in page["aliases"].as_array().unwrap() {
            names.push(alias["alias"].as_str().unwrap().to_owned());
        }
        marker = page["page_info"]["next_marker"]
            .as_str()
            .unwrap()
            .to_owned();
        if marker.is_empty() {
            break;
        }
    }
    assert_eq!(names.len(), 7);
    assert_eq!(&names[1..6], ["p0", "p1", "p2", "p3", "p4"]);
    list(app, ALICE, "?limit=0").await.error(400, "KMS.1601");
    list(app, ALICE, "?limit=101").await.error(400, "KMS.1601");
    // bob has no permission, dave reads only, erin is another account.
    create(app, BOB, &key, "bobs").await.error(403, "KMS.0306");
    list(app, BOB, "").await.error(403, "KMS.0307");
    list(app, DAVE, "").await.ok();
    create(app, DAVE, &key, "daves")
        .await
        .error(403, "KMS.0306");
    create(app, ERIN, &key, "erins")
        .await
        .error(404, "KMS.0207");
    assert_eq!(list(app, ERIN, "").await.ok()[0]["aliases"], json!([]));
    // A key pending deletion gets no new alias.
    app.call(
        ALICE,
        "schedule-key-deletion",
        json!({"key_id": key, "pending_days": "7"}),
    )
    .await
    .ok();
    create(app, ALICE, &key, "late")
        .await
        .error(400, "KMS.0210");
}

async fn update_key_alias_renames_the_key(app: &TestApp) {
    let key = app.create_key(ALICE, "before").await;
    app.create_key(ALICE, "taken").await;
    let renamed = app
        .call(
            ALICE,
            "update-key-alias",
            json!({"key_id": key, "key_alias": "after"}),
        )
        .await;
    assert_eq!(
        renamed.ok(),
        &json!({"key_info": {"key_id": key, "key_alias": "after"}})
    );
    let described = app
        .call(ALICE, "describe-key", json!({"key_id": key}))
        .await;
    assert_eq!(described.ok()["key_info"]["key_alias"], "after");
    // The old alias is free again, the other key's is not.
    app.create_key(ALICE, "before").await;
    app.call(
        ALICE,
        "update-key-alias",
        json!({"key_id": key, "key_alias": "taken"}),
    )
    .await
    .error(400, "KMS.1104");
    app.call(
        ALICE,
        "update-key-alias",
        json!({"key_id": key, "key_alias": "obs/default"}),
    )
    .await
    .error(400, "KMS.1101");
    app.call(ALICE, "update-key-alias", json!({"key_id": key}))
        .await
        .error(400, "KMS.0204");
    app.call(
        BOB,
        "update-key-alias",
        json!({"key_id": key, "key_alias": "bobs"}),
    )
    .await
    .error(403, "KMS.0306");
    app.call(
        DAVE,
        "update-key-alias",
        json!({"key_id": key, "key_alias": "daves"}),
    )
    .await
    .error(403, "KMS.0306");
    // Another project may use the same key_alias.
    app.create_key(ERIN, "after").await;
    // Concurrent renames to one alias: one wins, the other is told it is taken.
    let a = app.create_key(ALICE, "race-a").await;
    let b = app.create_key(ALICE, "race-b").await;
    let (ra, rb) = tokio::join!(
        app.call(
            ALICE,
            "update-key-alias",
            json!({"key_id": a, "key_alias": "winner"})
        ),
        app.call(
            ALICE,
            "update-key-alias",
            json!({"key_id": b, "key_alias": "winner"})
        ),
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [200, 400], "{} / {}", ra.raw, rb.raw);
    let loser = if ra.status == 400 { &ra } else { &rb };
    loser.error(400, "KMS.1104");
}

crate::on_both_backends!(
    create_list_associate_delete,
    names_paging_and_refusals,
    update_key_alias_renames_the_key,
);
