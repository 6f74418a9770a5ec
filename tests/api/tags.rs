//! Key tags over HTTP, both dialects on one store: Huawei {key_id}/tags (create, show,
//! batch, delete), tags (the project's), resource_instances/action (filter, count); AWS
//! TagResource, UntagResource, ListResourceTags and CreateKey Tags. Each cloud's limits
//! and codes, authority refusals, key states, snapshots and resets.

use serde_json::{Value, json};

use crate::helpers::aws::{AWS_ALICE, AWS_BOB, AWS_DAVE, aws, aws_error, aws_refused};
use crate::helpers::{ALICE, BOB, DAVE, ERIN, PROJECT, Reply, TestApp, User, hw};

async fn add_tag(app: &TestApp, user: User, key: &str, k: &str, v: &str) -> Reply {
    hw(
        app,
        user,
        reqwest::Method::POST,
        &format!("{key}/tags"),
        Some(json!({"tag": {"key": k, "value": v}})),
    )
    .await
}

async fn batch(app: &TestApp, user: User, key: &str, action: &str, tags: Value) -> Reply {
    hw(
        app,
        user,
        reqwest::Method::POST,
        &format!("{key}/tags/action"),
        Some(json!({"action": action, "tags": tags})),
    )
    .await
}

async fn show(app: &TestApp, user: User, key: &str) -> Reply {
    hw(
        app,
        user,
        reqwest::Method::GET,
        &format!("{key}/tags"),
        None,
    )
    .await
}

#[track_caller]
fn no_content(reply: &Reply) {
    assert_eq!(reply.status, 204, "{}", reply.raw);
    assert_eq!(reply.raw, "");
}

async fn huawei_tags_round_trip(app: &TestApp) {
    let key = app.create_key(ALICE, "tagged").await;
    let shown = show(app, ALICE, &key).await;
    assert_eq!(shown.ok(), &json!({"tags": [], "existTagsNum": 0}));
    no_content(&add_tag(app, ALICE, &key, "env", "prod").await);
    no_content(
        &batch(
            app,
            ALICE,
            &key,
            "create",
            json!([{"key": "team", "value": "a"}, {"key": "env", "value": "dev"}, {"key": "empty", "value": ""}]),
        )
        .await,
    );
    // A key set again keeps its place and takes the new value.
    let shown = show(app, ALICE, &key).await;
    assert_eq!(
        shown.ok(),
        &json!({"tags": [{"key": "env", "value": "dev"}, {"key": "team", "value": "a"},
                         {"key": "empty", "value": ""}], "existTagsNum": 3})
    );
    no_content(
        &hw(
            app,
            ALICE,
            reqwest::Method::DELETE,
            &format!("{key}/tags/team"),
            None,
        )
        .await,
    );
    hw(
        app,
        ALICE,
        reqwest::Method::DELETE,
        &format!("{key}/tags/team"),
        None,
    )
    .await
    .error(404, "KMS.0416");
    // A tag key with a slash, percent-encoded in the path.
    no_content(&add_tag(app, ALICE, &key, "a/b", "x").await);
    no_content(
        &hw(
            app,
            ALICE,
            reqwest::Method::DELETE,
            &format!("{key}/tags/a%2Fb"),
            None,
        )
        .await,
    );
    // Batch delete goes by key and passes over keys the key lacks.
    no_content(
        &batch(
            app,
            ALICE,
            &key,
            "delete",
            json!([{"key": "env"}, {"key": "nope"}]),
        )
        .await,
    );
    let shown = show(app, ALICE, &key).await;
    assert_eq!(shown.ok()["tags"], json!([{"key": "empty", "value": ""}]));

    // The project's tags: each key once, its distinct values; another project's unseen.
    let other = app.create_key(ALICE, "tagged-2").await;
    no_content(
        &batch(
            app,
            ALICE,
            &other,
            "create",
            json!([{"key": "env", "value": "prod"}, {"key": "empty", "value": ""}]),
        )
        .await,
    );
    let third = app.create_key(ALICE, "tagged-3").await;
    no_content(&add_tag(app, ALICE, &third, "env", "test").await);
    let erins = app.create_key(ERIN, "erins").await;
    no_content(&add_tag(app, ERIN, &erins, "secret", "x").await);
    let listed = hw(app, ALICE, reqwest::Method::GET, "tags", None).await;
    assert_eq!(
        listed.ok(),
        &json!({"tags": [{"key": "empty", "values": [""]}, {"key": "env", "values": ["prod", "test"]}]})
    );
}

async fn huawei_limits_and_codes(app: &TestApp) {
    let key = app.create_key(ALICE, "limits").await;
    let twenty: Vec<Value> = (0..20)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    no_content(&batch(app, ALICE, &key, "create", json!(twenty)).await);
    add_tag(app, ALICE, &key, "k21", "v")
        .await
        .error(400, "KMS.0409");
    // Overwriting at the limit is allowed.
    no_content(&add_tag(app, ALICE, &key, "k0", "w").await);
    assert_eq!(show(app, ALICE, &key).await.ok()["existTagsNum"], 20);

    let fresh = app.create_key(ALICE, "limits-2").await;
    add_tag(app, ALICE, &fresh, &"k".repeat(37), "v")
        .await
        .error(400, "KMS.0411");
    no_content(&add_tag(app, ALICE, &fresh, &"k".repeat(36), &"v".repeat(43)).await);
    add_tag(app, ALICE, &fresh, "k", &"v".repeat(44))
        .await
        .error(400, "KMS.0410");
    add_tag(app, ALICE, &fresh, "a=b", "v")
        .await
        .error(400, "KMS.0406");
    add_tag(app, ALICE, &fresh, "k", "a*b")
        .await
        .error(400, "KMS.0405");
    add_tag(app, ALICE, &fresh, "", "v")
        .await
        .error(400, "KMS.0411");
    batch(app, ALICE, &fresh, "create", json!([]))
        .await
        .error(400, "KMS.0401");
    batch(
        app,
        ALICE,
        &fresh,
        "update",
        json!([{"key": "k", "value": "v"}]),
    )
    .await
    .error(400, "KMS.0404");
    batch(
        app,
        ALICE,
        &fresh,
        "create",
        json!([{"key": "d", "value": "1"}, {"key": "d", "value": "2"}]),
    )
    .await
    .error(400, "KMS.0406");
    hw(
        app,
        ALICE,
        reqwest::Method::POST,
        &format!("{fresh}/tags"),
        Some(json!({})),
    )
    .await
    .error(400, "KMS.0204");
    // Path key IDs: malformed, unknown.
    add_tag(app, ALICE, "not-a-key", "k", "v")
        .await
        .error(400, "KMS.0205");
    add_tag(app, ALICE, "0d0466b0-e727-4d9c-b35d-f84bb474a37f", "k", "v")
        .await
        .error(404, "KMS.0207");
    // Methods: a path served on other methods only is KMS.0215.
    hw(
        app,
        ALICE,
        reqwest::Method::GET,
        &format!("{fresh}/tags/action"),
        None,
    )
    .await
    .error(405, "KMS.0215");
    hw(
        app,
        ALICE,
        reqwest::Method::PUT,
        &format!("{fresh}/tags"),
        None,
    )
    .await
    .error(405, "KMS.0215");
    hw(app, ALICE, reqwest::Method::POST, "tags", Some(json!({})))
        .await
        .error(405, "KMS.0215");
    hw(
        app,
        ALICE,
        reqwest::Method::POST,
        &format!("{fresh}/nothing"),
        Some(json!({})),
    )
    .await
    .error(400, "KMS.0201");
    // A failed request changed nothing.
    assert_eq!(show(app, ALICE, &fresh).await.ok()["existTagsNum"], 1);
}

async fn by_tags(app: &TestApp, user: User, body: Value) -> Reply {
    hw(
        app,
        user,
        reqwest::Method::POST,
        "resource_instances/action",
        Some(body),
    )
    .await
}

async fn resource_instances_filter_count_and_page(app: &TestApp) {
    let mut prod = Vec::new();
    for i in 0..5 {
        let key = app.create_key(ALICE, &format!("web-{i}")).await;
        no_content(
            &batch(
                app,
                ALICE,
                &key,
                "create",
                json!([{"key": "env", "value": "prod"}, {"key": "n", "value": i.to_string()}]),
            )
            .await,
        );
        prod.push(key);
    }
    let dev = app.create_key(ALICE, "db-dev").await;
    no_content(&add_tag(app, ALICE, &dev, "env", "dev").await);
    app.create_key(ALICE, "untagged").await;

    let count = by_tags(
        app,
        ALICE,
        json!({"action": "count", "tags": [{"key": "env", "values": ["prod"]}]}),
    )
    .await;
    assert_eq!(count.ok(), &json!({"total_count": 5}));
    let count = by_tags(
        app,
        ALICE,
        json!({"action": "count", "tags": [{"key": "env", "values": []}]}),
    )
    .await;
    assert_eq!(count.ok()["total_count"], 6);
    let count = by_tags(app, ALICE, json!({"action": "count", "tags": [{"key": "env", "values": ["prod", "dev"]}, {"key": "n", "values": ["1"]}]})).await;
    assert_eq!(count.ok()["total_count"], 1);
    let count = by_tags(app, ALICE, json!({"action": "count"})).await;
    assert_eq!(count.ok()["total_count"], 7, "no filter: every key");

    // Pages of two, by offset, in creation order, as strings as the SDK sends them.
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = by_tags(
            app,
            ALICE,
            json!({"action": "filter", "limit": "2", "offset": offset.to_string(),
                                              "tags": [{"key": "env", "values": ["prod"]}]}),
        )
        .await;
        let page = page.ok();
        assert_eq!(page["total_count"], 5);
        for resource in page["resources"].as_array().unwrap() {
            seen.push(resource["resource_id"].as_str().unwrap().to_owned());
            assert!(
                resource["resource_name"]
                    .as_str()
                    .unwrap()
                    .starts_with("web-")
            );
            assert_eq!(
                resource["resource_detail"]["key_id"],
                resource["resource_id"]
            );
            assert_eq!(resource["resource_detail"]["key_state"], "2");
            assert_eq!(resource["tags"][0], json!({"key": "env", "value": "prod"}));
        }
    }
    assert_eq!(seen, prod);
    // Default limit 10; matches on the name.
    let page = by_tags(
        app,
        ALICE,
        json!({"action": "filter", "matches": [{"key": "resource_name", "value": "db"}]}),
    )
    .await;
    assert_eq!(page.ok()["total_count"], 1);
    assert_eq!(page.ok()["resources"][0]["resource_id"], dev.as_str());

    by_tags(app, ALICE, json!({"action": "list"}))
        .await
        .error(400, "KMS.0404");
    by_tags(app, ALICE, json!({})).await.error(400, "KMS.0204");
    by_tags(app, ALICE, json!({"action": "filter", "offset": "-1"}))
        .await
        .error(400, "KMS.0417");
    by_tags(app, ALICE, json!({"action": "filter", "limit": "1001"}))
        .await
        .error(400, "KMS.1601");
    by_tags(
        app,
        ALICE,
        json!({"action": "filter", "matches": [{"key": "alias", "value": "x"}]}),
    )
    .await
    .error(400, "KMS.0403");
    by_tags(
        app,
        ALICE,
        json!({"action": "filter", "matches": [{"key": "resource_name", "value": ""}]}),
    )
    .await
    .error(400, "KMS.0402");
    let eleven: Vec<Value> = (0..11)
        .map(|i| json!({"key": format!("k{i}"), "values": []}))
        .collect();
    by_tags(app, ALICE, json!({"action": "count", "tags": eleven}))
        .await
        .error(400, "KMS.0412");
    // Another project sees none of these keys.
    let erins = by_tags(app, ERIN, json!({"action": "count"})).await;
    assert_eq!(erins.ok()["total_count"], 0);
}

async fn authority_decides_who_tags(app: &TestApp) {
    let key = app.create_key(ALICE, "guarded").await;
    no_content(&add_tag(app, ALICE, &key, "env", "prod").await);
    // bob and carol have no KMS permission; a grant gives none over tags.
    app.create_grant(
        ALICE,
        json!({"key_id": key, "grantee_principal": BOB.id, "operations": ["describe-key", "encrypt-data"]}),
    )
    .await;
    add_tag(app, BOB, &key, "k", "v")
        .await
        .error(403, "KMS.0306");
    show(app, BOB, &key).await.error(403, "KMS.0306");
    hw(
        app,
        BOB,
        reqwest::Method::DELETE,
        &format!("{key}/tags/env"),
        None,
    )
    .await
    .error(403, "KMS.0306");
    hw(app, BOB, reqwest::Method::GET, "tags", None)
        .await
        .error(403, "KMS.0307");
    by_tags(app, BOB, json!({"action": "count"}))
        .await
        .error(403, "KMS.0307");
    // dave is read-only: he lists, never writes.
    assert_eq!(show(app, DAVE, &key).await.ok()["existTagsNum"], 1);
    hw(app, DAVE, reqwest::Method::GET, "tags", None).await.ok();
    assert_eq!(
        by_tags(app, DAVE, json!({"action": "count"})).await.ok()["total_count"],
        1
    );
    add_tag(app, DAVE, &key, "k", "v")
        .await
        .error(403, "KMS.0306");
    batch(app, DAVE, &key, "delete", json!([{"key": "env"}]))
        .await
        .error(403, "KMS.0306");
    // Another account's administrator does not find the key.
    add_tag(app, ERIN, &key, "k", "v")
        .await
        .error(404, "KMS.0207");
    // Nothing changed, and the refusals are in the audit trail.
    assert_eq!(
        show(app, ALICE, &key).await.ok()["tags"],
        json!([{"key": "env", "value": "prod"}])
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kms-emulator"))
        .args(["--database-url", &app.db.url(), "audit"])
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    let trail = String::from_utf8(output.stdout).unwrap();
    let denials = trail
        .lines()
        .filter(|line| line.contains("\"access-denied\"") && line.contains("kms:TagResource"))
        .count();
    assert!(denials >= 2, "{trail}");
}

async fn a_key_pending_deletion_keeps_its_tags(app: &TestApp) {
    let key = app.create_key(ALICE, "leaving").await;
    no_content(&add_tag(app, ALICE, &key, "env", "prod").await);
    app.call(
        ALICE,
        "schedule-key-deletion",
        json!({"key_id": key, "pending_days": "7"}),
    )
    .await
    .ok();
    add_tag(app, ALICE, &key, "k", "v")
        .await
        .error(400, "KMS.0210");
    hw(
        app,
        ALICE,
        reqwest::Method::DELETE,
        &format!("{key}/tags/env"),
        None,
    )
    .await
    .error(400, "KMS.0210");
    aws_refused(
        app,
        AWS_ALICE,
        "TagResource",
        json!({"KeyId": key, "Tags": [{"TagKey": "a", "TagValue": "b"}]}),
        "KMSInvalidStateException",
    )
    .await;
    // Still listed; a disabled key's tags may change.
    assert_eq!(show(app, ALICE, &key).await.ok()["existTagsNum"], 1);
    let disabled = app.create_key(ALICE, "disabled").await;
    app.call(ALICE, "disable-key", json!({"key_id": disabled}))
        .await
        .ok();
    no_content(&add_tag(app, ALICE, &disabled, "k", "v").await);
}

async fn aws_tag_untag_list(app: &TestApp) {
    let created = aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"Tags": [{"TagKey": "Project", "TagValue": "alpha"}, {"TagKey": "cost center", "TagValue": ""}]}),
    )
    .await;
    let key = created.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = |body: Value| aws(app, AWS_ALICE, "ListResourceTags", body);
    let listed = list(json!({"KeyId": key})).await;
    assert_eq!(
        listed.ok(),
        &json!({"Tags": [{"TagKey": "Project", "TagValue": "alpha"}, {"TagKey": "cost center", "TagValue": ""}],
                "Truncated": false})
    );
    let tagged = aws(app, AWS_ALICE, "TagResource",
        json!({"KeyId": key, "Tags": [{"TagKey": "Project", "TagValue": "beta"}, {"TagKey": "owner", "TagValue": "alice@example.com"}]})).await;
    assert_eq!(tagged.status, 200, "{}", tagged.raw);
    assert_eq!(tagged.raw, "");
    let untagged = aws(
        app,
        AWS_ALICE,
        "UntagResource",
        json!({"KeyId": key, "TagKeys": ["cost center", "missing"]}),
    )
    .await;
    assert_eq!(untagged.status, 200, "{}", untagged.raw);
    let listed = list(json!({"KeyId": key})).await;
    assert_eq!(
        listed.ok()["Tags"],
        json!([{"TagKey": "Project", "TagValue": "beta"}, {"TagKey": "owner", "TagValue": "alice@example.com"}])
    );
    // The same tags through the Huawei dialect: one store, one rule set.
    let shown = show(app, ALICE, &key).await;
    assert_eq!(shown.ok()["existTagsNum"], 2);

    // Paging with Limit and Marker.
    let more: Vec<Value> = (0..8)
        .map(|i| json!({"TagKey": format!("t{i}"), "TagValue": "x"}))
        .collect();
    aws(
        app,
        AWS_ALICE,
        "TagResource",
        json!({"KeyId": key, "Tags": more}),
    )
    .await
    .ok();
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut body = json!({"KeyId": key, "Limit": 3});
        if let Some(m) = &marker {
            body["Marker"] = json!(m);
        }
        let page = list(body).await;
        let page = page.ok();
        let tags = page["Tags"].as_array().unwrap();
        assert!(tags.len() <= 3);
        all.extend(
            tags.iter()
                .map(|t| t["TagKey"].as_str().unwrap().to_owned()),
        );
        if page["Truncated"] == true {
            marker = Some(page["NextMarker"].as_str().unwrap().to_owned());
        } else {
            assert!(page.get("NextMarker").is_none());
            break;
        }
    }
    assert_eq!(all.len(), 10);
    assert_eq!(all[0], "Project");
    aws_error(
        &list(json!({"KeyId": key, "Marker": "bogus"})).await,
        "InvalidMarkerException",
    );
    aws_error(
        &list(json!({"KeyId": key, "Limit": 51})).await,
        "ValidationException",
    );
}

async fn aws_limits_and_errors(app: &TestApp) {
    let key = aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let tag = |body: Value| aws(app, AWS_ALICE, "TagResource", body);
    let fifty: Vec<Value> = (0..50)
        .map(|i| json!({"TagKey": format!("k{i}"), "TagValue": "v"}))
        .collect();
    tag(json!({"KeyId": key, "Tags": fifty})).await.ok();
    aws_error(
        &tag(json!({"KeyId": key, "Tags": [{"TagKey": "one-more", "TagValue": ""}]})).await,
        "LimitExceededException",
    );
    aws_error(
        &tag(json!({"KeyId": key, "Tags": [{"TagKey": "aws:reserved", "TagValue": ""}]})).await,
        "TagException",
    );
    aws_error(
        &tag(json!({"KeyId": key, "Tags": [{"TagKey": "a*b", "TagValue": ""}]})).await,
        "TagException",
    );
    aws_error(
        &tag(json!({"KeyId": key, "Tags": [{"TagKey": "k".repeat(129), "TagValue": ""}]})).await,
        "TagException",
    );
    aws_error(
        &tag(json!({"KeyId": key, "Tags": [{"TagKey": "k", "TagValue": "v".repeat(257)}]})).await,
        "TagException",
    );
    aws_error(&tag(json!({"KeyId": key})).await, "ValidationException");
    aws_error(
        &tag(json!({"KeyId": key, "Tags": [{"TagKey": "k"}]})).await,
        "ValidationException",
    );
    // 128/256 characters are fine (after making room).
    aws(
        app,
        AWS_ALICE,
        "UntagResource",
        json!({"KeyId": key, "TagKeys": ["k0"]}),
    )
    .await
    .ok();
    tag(json!({"KeyId": key, "Tags": [{"TagKey": "k".repeat(128), "TagValue": "v".repeat(256)}]}))
        .await
        .ok();
    // CreateKey with too many or reserved tags makes no key.
    let before = aws(app, AWS_ALICE, "ListKeys", json!({})).await.ok()["Keys"]
        .as_array()
        .unwrap()
        .len();
    let fifty_one: Vec<Value> = (0..51)
        .map(|i| json!({"TagKey": format!("k{i}"), "TagValue": "v"}))
        .collect();
    aws_refused(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"Tags": fifty_one}),
        "LimitExceededException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"Tags": [{"TagKey": "AWS:x", "TagValue": ""}]}),
        "TagException",
    )
    .await;
    let after = aws(app, AWS_ALICE, "ListKeys", json!({})).await.ok()["Keys"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
    // Unknown keys, refusals.
    aws_error(
        &tag(json!({"KeyId": "0d0466b0-e727-4d9c-b35d-f84bb474a37f", "Tags": [{"TagKey": "k", "TagValue": ""}]})).await,
        "NotFoundException",
    );
    aws_refused(
        app,
        AWS_BOB,
        "TagResource",
        json!({"KeyId": key, "Tags": [{"TagKey": "k", "TagValue": ""}]}),
        "AccessDeniedException",
    )
    .await;
    aws_refused(
        app,
        AWS_BOB,
        "ListResourceTags",
        json!({"KeyId": key}),
        "AccessDeniedException",
    )
    .await;
    aws_refused(
        app,
        AWS_DAVE,
        "UntagResource",
        json!({"KeyId": key, "TagKeys": ["k1"]}),
        "AccessDeniedException",
    )
    .await;
    aws(app, AWS_DAVE, "ListResourceTags", json!({"KeyId": key}))
        .await
        .ok();
}

async fn snapshots_and_resets_carry_tags(app: &TestApp) {
    let key = app.create_key(ALICE, "snapped").await;
    no_content(
        &batch(
            app,
            ALICE,
            &key,
            "create",
            json!([{"key": "b", "value": "2"}, {"key": "a", "value": "1"}]),
        )
        .await,
    );
    let aws_key = aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/snap", "TargetKeyId": aws_key}),
    )
    .await
    .ok();
    let snapshot = app
        .raw(reqwest::Method::GET, "/_emulator/snapshot", &[], Vec::new())
        .await;
    let snapshot = snapshot.ok().clone();
    assert_eq!(snapshot["tags"].as_array().unwrap().len(), 2, "{snapshot}");
    assert_eq!(snapshot["aliases"][0]["alias_name"], "alias/snap");
    let reset = app
        .raw(
            reqwest::Method::POST,
            "/_emulator/reset",
            &[("content-type", "application/json")],
            json!({"project_id": PROJECT}).to_string().into_bytes(),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.raw);
    let listed = hw(app, ALICE, reqwest::Method::GET, "tags", None).await;
    assert_eq!(listed.ok(), &json!({"tags": []}));
    let imported = app
        .raw(
            reqwest::Method::POST,
            "/_emulator/snapshot",
            &[("content-type", "application/json")],
            snapshot.to_string().into_bytes(),
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.raw);
    assert_eq!(
        show(app, ALICE, &key).await.ok()["tags"],
        json!([{"key": "b", "value": "2"}, {"key": "a", "value": "1"}])
    );
    let described = aws(
        app,
        AWS_ALICE,
        "DescribeKey",
        json!({"KeyId": "alias/snap"}),
    )
    .await;
    assert_eq!(described.ok()["KeyMetadata"]["KeyId"], aws_key.as_str());
    let again = app
        .raw(reqwest::Method::GET, "/_emulator/snapshot", &[], Vec::new())
        .await;
    assert_eq!(again.ok(), &snapshot);
    // A snapshot without the tag and alias fields (written before them) still imports.
    let mut old = snapshot.clone();
    old.as_object_mut().unwrap().remove("tags");
    old.as_object_mut().unwrap().remove("aliases");
    let imported = app
        .raw(
            reqwest::Method::POST,
            "/_emulator/snapshot",
            &[("content-type", "application/json")],
            old.to_string().into_bytes(),
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.raw);
    assert_eq!(show(app, ALICE, &key).await.ok()["existTagsNum"], 0);
}

/// Concurrent tag writes on one key are decided one after the other on the locked key:
/// none is lost, and the limit holds (20 land, the rest are KMS.0409).
async fn concurrent_tag_writes_lose_nothing_and_keep_the_limit(app: &TestApp) {
    let key = app.create_key(ALICE, "contended").await;
    let key = &key;
    let replies = futures::future::join_all(
        (0..26).map(|i| async move { add_tag(app, ALICE, key, &format!("k{i}"), "v").await }),
    )
    .await;
    let landed = replies.iter().filter(|r| r.status == 204).count();
    assert_eq!(
        landed,
        20,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for refused in replies.iter().filter(|r| r.status != 204) {
        refused.error(400, "KMS.0409");
    }
    assert_eq!(show(app, ALICE, key).await.ok()["existTagsNum"], 20);
}

crate::on_both_backends!(
    concurrent_tag_writes_lose_nothing_and_keep_the_limit,
    huawei_tags_round_trip,
    huawei_limits_and_codes,
    resource_instances_filter_count_and_page,
    authority_decides_who_tags,
    a_key_pending_deletion_keeps_its_tags,
    aws_tag_untag_list,
    aws_limits_and_errors,
    snapshots_and_resets_carry_tags,
);

/// AWS asks for kms:TagResource besides kms:CreateKey when CreateKey has Tags: a user
/// whose policy allows only the latter creates untagged keys, never tagged ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_with_tags_needs_tag_resource() {
    let dir = std::env::temp_dir().join(format!("kms-tags-ids-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("identities.json");
    std::fs::write(
        &file,
        r#"{
      "domains": [{"id": "d1", "name": "owner", "aws_account_id": "123456789012"}],
      "projects": [{"id": "p1", "name": "eu-de", "domain_id": "d1"}],
      "users": [
        {"id": "u1", "name": "maker", "domain_id": "d1", "projects": ["p1"],
         "access_keys": [{"access_key": "AKIAMAKER0000000001", "secret_key": "maker-secret"}],
         "policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kms:CreateKey", "kms:ListKeys"], "Resource": "*"}]}]}
      ]
    }"#,
    )
    .unwrap();
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, |config| {
        config.identities = Some(file.clone())
    })
    .await;
    let maker = crate::helpers::aws::Aws {
        access_key: "AKIAMAKER0000000001",
        secret_key: "maker-secret",
        arn: "arn:aws:iam::123456789012:user/maker",
    };
    let refused = aws(
        &app,
        maker,
        "CreateKey",
        json!({"Tags": [{"TagKey": "k", "TagValue": "v"}]}),
    )
    .await;
    aws_error(&refused, "AccessDeniedException");
    assert!(refused.raw.contains("kms:TagResource"), "{}", refused.raw);
    let keys = aws(&app, maker, "ListKeys", json!({})).await;
    assert_eq!(keys.ok()["Keys"], json!([]), "no key was made");
    aws(&app, maker, "CreateKey", json!({})).await.ok();
    app.finish().await;
    let _ = std::fs::remove_dir_all(&dir);
}
