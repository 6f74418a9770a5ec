//! create-grant, list-grants and list-retirable-grants.

use serde_json::{Value, json};

use crate::helpers::{ALICE, BOB, CAROL, DAVE, ERIN, OTHER_DOMAIN, TestApp};

async fn create_grant_returns_a_64_hex_id_and_lists_every_field(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    let grant_id = app
        .create_grant(
            ALICE,
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["describe-key", "create-datakey", "encrypt-datakey"],
                   "name": "my_grant", "retiring_principal": CAROL.id, "sequence": "919c82d4-8046-4722-9094-35c3c6524cff"}),
        )
        .await;
    assert_eq!(grant_id.len(), 64);
    assert!(grant_id.chars().all(|c| c.is_ascii_hexdigit()));

    let reply = app
        .call(ALICE, "list-grants", json!({"key_id": key_id}))
        .await;
    let body = reply.ok();
    assert_eq!(body["truncated"], "false");
    assert_eq!(body["next_marker"], "");
    assert_eq!(body["total"], 1);
    let grant = &body["grants"][0];
    assert_eq!(grant["key_id"], key_id.as_str());
    assert_eq!(grant["grant_id"], grant_id.as_str());
    assert_eq!(grant["grantee_principal"], BOB.id);
    assert_eq!(grant["grantee_principal_type"], "user");
    assert_eq!(
        grant["operations"],
        json!(["describe-key", "create-datakey", "encrypt-datakey"])
    );
    assert_eq!(grant["issuing_principal"], ALICE.id);
    assert_eq!(grant["retiring_principal"], CAROL.id);
    assert_eq!(grant["name"], "my_grant");
    let created = grant["creation_date"]
        .as_str()
        .expect("creation_date is a string");
    assert_eq!(created.len(), 13, "milliseconds since the epoch: {created}");
    created.parse::<u64>().unwrap();
}

async fn unset_optional_fields_are_empty_strings(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    app.create_grant(ALICE, json!({"key_id": key_id, "grantee_principal": OTHER_DOMAIN, "grantee_principal_type": "domain", "operations": ["encrypt-data"]}))
        .await;
    let reply = app
        .call(ALICE, "list-grants", json!({"key_id": key_id}))
        .await;
    let grant = &reply.ok()["grants"][0];
    assert_eq!(grant["name"], "");
    assert_eq!(grant["retiring_principal"], "");
    assert_eq!(grant["grantee_principal_type"], "domain");
}

async fn all_nine_operations_are_accepted_and_duplicates_dropped(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    let all = [
        "create-datakey",
        "create-datakey-without-plaintext",
        "encrypt-datakey",
        "decrypt-datakey",
        "describe-key",
        "create-grant",
        "retire-grant",
        "encrypt-data",
        "decrypt-data",
    ];
    app.create_grant(
        ALICE,
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": all}),
    )
    .await;
    app.create_grant(ALICE, json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data", "encrypt-data"]})).await;
    let reply = app
        .call(ALICE, "list-grants", json!({"key_id": key_id}))
        .await;
    let grants = reply.ok()["grants"].as_array().unwrap();
    assert_eq!(grants[0]["operations"], json!(all));
    assert_eq!(grants[1]["operations"], json!(["encrypt-data"]));
}

async fn create_grant_validation_errors(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["create-grant"]}),
            400,
            "KMS.2401",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt"]}),
            400,
            "KMS.0308",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": "encrypt-data"}),
            400,
            "KMS.0308",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": [1]}),
            400,
            "KMS.0308",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": []}),
            400,
            "KMS.0204",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id}),
            400,
            "KMS.0204",
        ),
        (
            json!({"key_id": key_id, "operations": ["encrypt-data"]}),
            400,
            "KMS.0204",
        ),
        (
            json!({"grantee_principal": BOB.id, "operations": ["encrypt-data"]}),
            400,
            "KMS.0204",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": "bad-id!", "operations": ["encrypt-data"]}),
            400,
            "KMS.2402",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": "x".repeat(65), "operations": ["encrypt-data"]}),
            400,
            "KMS.2402",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": 42, "operations": ["encrypt-data"]}),
            400,
            "KMS.2402",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id, "retiring_principal": "a b", "operations": ["encrypt-data"]}),
            400,
            "KMS.2402",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id, "grantee_principal_type": "agency", "operations": ["encrypt-data"]}),
            400,
            "KMS.0308",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id, "name": "no spaces", "operations": ["encrypt-data"]}),
            400,
            "KMS.0308",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id, "name": "n".repeat(256), "operations": ["encrypt-data"]}),
            400,
            "KMS.0308",
        ),
        (
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"], "sequence": 7}),
            400,
            "KMS.0206",
        ),
        (
            json!({"key_id": "0d0466b0-e727-4d9c-b35d-f84bb474a37f", "grantee_principal": BOB.id, "operations": ["encrypt-data"]}),
            404,
            "KMS.0207",
        ),
        (
            json!({"key_id": "0D0466B0", "grantee_principal": BOB.id, "operations": ["encrypt-data"]}),
            400,
            "KMS.0205",
        ),
    ];
    for (body, status, code) in cases {
        app.call(ALICE, "create-grant", body)
            .await
            .error(status, code);
    }
    assert!(
        app.grant_ids(&key_id).await.is_empty(),
        "no failed request created a grant"
    );
}

async fn grants_per_key_are_limited_to_100(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    for _ in 0..100 {
        app.create_grant(
            ALICE,
            json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"]}),
        )
        .await;
    }
    app.call(
        ALICE,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"]}),
    )
    .await
    .error(400, "KMS.2404");
    let reply = app
        .call(
            ALICE,
            "list-grants",
            json!({"key_id": key_id, "limit": "1"}),
        )
        .await;
    assert_eq!(reply.ok()["total"], 100);
}

async fn grantee_with_create_grant_may_grant_a_subset(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    app.create_grant(ALICE, json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["create-grant", "encrypt-data", "decrypt-data"]}))
        .await;
    let sub = app
        .create_grant(ERIN, json!({"key_id": key_id, "grantee_principal": DAVE.id, "operations": ["encrypt-data"], "retiring_principal": ERIN.id}))
        .await;
    app.call(
        ERIN,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": DAVE.id, "operations": ["describe-key"]}),
    )
    .await
    .error(403, "KMS.0306");
    let grants = app.grant_ids(&key_id).await;
    assert_eq!(grants.len(), 2);
    assert!(grants.contains(&sub));
    let reply = app
        .call(ALICE, "list-grants", json!({"key_id": key_id}))
        .await;
    assert_eq!(reply.ok()["grants"][1]["issuing_principal"], ERIN.id);
}

async fn grantee_without_create_grant_may_not_grant(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    app.create_grant(
        ALICE,
        json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["encrypt-data"]}),
    )
    .await;
    app.call(
        ERIN,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": ERIN.id, "operations": ["encrypt-data"]}),
    )
    .await
    .error(403, "KMS.0306");
}

async fn list_grants_pages_with_markers_and_accepts_string_or_number_limits(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(app.create_grant(ALICE, json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"]})).await);
    }
    let mut seen = Vec::new();
    let mut marker = String::new();
    let mut pages = 0;
    loop {
        let limit = if pages % 2 == 0 { json!(2) } else { json!("2") };
        let reply = app
            .call(
                ALICE,
                "list-grants",
                json!({"key_id": key_id, "limit": limit, "marker": marker}),
            )
            .await;
        let body = reply.ok().clone();
        pages += 1;
        assert_eq!(body["total"], 5);
        for grant in body["grants"].as_array().unwrap() {
            seen.push(grant["grant_id"].as_str().unwrap().to_owned());
        }
        if body["truncated"] == "false" {
            assert_eq!(body["next_marker"], "");
            break;
        }
        assert_eq!(body["truncated"], "true");
        marker = body["next_marker"].as_str().unwrap().to_owned();
        assert!(!marker.is_empty());
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen, created,
        "stable order: oldest first, none skipped or repeated"
    );
}

async fn a_page_skips_nothing_when_earlier_grants_are_revoked(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    let mut created = Vec::new();
    for _ in 0..4 {
        created.push(app.create_grant(ALICE, json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data"]})).await);
    }
    let first = app
        .call(ALICE, "list-grants", json!({"key_id": key_id, "limit": 2}))
        .await;
    let marker = first.ok()["next_marker"].as_str().unwrap().to_owned();
    app.call(
        ALICE,
        "revoke-grant",
        json!({"key_id": key_id, "grant_id": created[0]}),
    )
    .await
    .ok();
    let second = app
        .call(
            ALICE,
            "list-grants",
            json!({"key_id": key_id, "limit": 2, "marker": marker}),
        )
        .await;
    let ids: Vec<&str> = second.ok()["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["grant_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![created[2].as_str(), created[3].as_str()]);
    assert_eq!(second.body["total"], 3);

    // A page past every grant left still counts the key's grants (the total comes with the
    // page's rows when it has some, and is counted apart when it has none).
    for gone in &created[2..] {
        app.call(
            ALICE,
            "revoke-grant",
            json!({"key_id": key_id, "grant_id": gone}),
        )
        .await
        .ok();
    }
    let past = app
        .call(
            ALICE,
            "list-grants",
            json!({"key_id": key_id, "limit": 2, "marker": marker}),
        )
        .await;
    assert_eq!(past.ok()["grants"], json!([]), "{}", past.body);
    assert_eq!(past.body["total"], 1, "{}", past.body);
}

async fn list_paging_errors(app: &TestApp) {
    let key_id = app.create_key(ALICE, "k").await;
    for limit in [
        json!(0),
        json!(-1),
        json!("abc"),
        json!(1001),
        json!(1.5),
        json!(true),
    ] {
        app.call(
            ALICE,
            "list-grants",
            json!({"key_id": key_id, "limit": limit}),
        )
        .await
        .error(400, "KMS.1601");
        app.call(ALICE, "list-retirable-grants", json!({"limit": limit}))
            .await
            .error(400, "KMS.1601");
    }
    for marker in [json!(-1), json!("x"), json!("-5")] {
        app.call(
            ALICE,
            "list-grants",
            json!({"key_id": key_id, "marker": marker}),
        )
        .await
        .error(400, "KMS.1602");
    }
    // Empty strings mean "not given", as the OTC example sends them.
    app.call(
        ALICE,
        "list-grants",
        json!({"key_id": key_id, "limit": "", "marker": ""}),
    )
    .await
    .ok();
    app.call(ALICE, "list-grants", json!({"key_id": "nope"}))
        .await
        .error(400, "KMS.0205");
    app.call(ALICE, "list-grants", json!({}))
        .await
        .error(400, "KMS.0204");
}

async fn list_grants_is_for_the_owning_project(app: &TestApp) {
    let (key_id, _) = app.key_with_grant(&["encrypt-data"]).await;
    app.call(DAVE, "list-grants", json!({"key_id": key_id}))
        .await
        .ok();
    app.call(ERIN, "list-grants", json!({"key_id": key_id}))
        .await
        .error(404, "KMS.0207");
}

async fn list_retirable_grants_shows_grants_the_caller_retires(app: &TestApp) {
    // The lister needs kms:grant:list (dave is read-only); carol, with no KMS permission,
    // may retire grants but not list them.
    let (key1, _) = app.key_with_grant(&["encrypt-data"]).await;
    let (key2, _) = app.key_with_grant(&["decrypt-data"]).await;
    let first = app
        .create_grant(ALICE, json!({"key_id": key1, "grantee_principal": BOB.id, "operations": ["encrypt-data"], "retiring_principal": DAVE.id}))
        .await;
    let second = app
        .create_grant(ALICE, json!({"key_id": key2, "grantee_principal": BOB.id, "operations": ["decrypt-data"], "retiring_principal": DAVE.id}))
        .await;
    app.call(CAROL, "list-retirable-grants", json!({}))
        .await
        .error(403, "KMS.0307");
    let key3 = app.create_key(ALICE, "third").await;
    let for_erin = app
        .create_grant(ALICE, json!({"key_id": key3, "grantee_principal": BOB.id, "operations": ["encrypt-data"], "retiring_principal": ERIN.id}))
        .await;

    let reply = app
        .call(DAVE, "list-retirable-grants", json!({"limit": "1"}))
        .await;
    let body = reply.ok();
    assert_eq!(body["total"], 2);
    assert_eq!(body["truncated"], "true");
    assert_eq!(body["grants"][0]["grant_id"], first.as_str());
    let marker = body["next_marker"].as_str().unwrap().to_owned();
    let reply = app
        .call(
            DAVE,
            "list-retirable-grants",
            json!({"limit": 1, "marker": marker}),
        )
        .await;
    assert_eq!(reply.ok()["grants"][0]["grant_id"], second.as_str());
    assert_eq!(reply.body["total"], 2, "every match, not the page's");
    assert_eq!(reply.body["truncated"], "false");
    assert_eq!(reply.body["next_marker"], "");

    // Across projects: erin sees the one grant naming her.
    let reply = app.call(ERIN, "list-retirable-grants", json!({})).await;
    assert_eq!(reply.ok()["total"], 1);
    assert_eq!(reply.body["grants"][0]["grant_id"], for_erin.as_str());

    // The issuer does not see them as retirable; the grantee (no KMS permission) may not list.
    let reply = app.call(ALICE, "list-retirable-grants", json!({})).await;
    assert_eq!(reply.ok()["total"], 0);
    assert_eq!(reply.body["grants"], json!([]));
    app.call(BOB, "list-retirable-grants", json!({}))
        .await
        .error(403, "KMS.0307");
}

crate::on_every_backend!(
    create_grant_returns_a_64_hex_id_and_lists_every_field,
    unset_optional_fields_are_empty_strings,
    all_nine_operations_are_accepted_and_duplicates_dropped,
    create_grant_validation_errors,
    grants_per_key_are_limited_to_100,
    grantee_with_create_grant_may_grant_a_subset,
    grantee_without_create_grant_may_not_grant,
    list_grants_pages_with_markers_and_accepts_string_or_number_limits,
    a_page_skips_nothing_when_earlier_grants_are_revoked,
    list_paging_errors,
    list_grants_is_for_the_owning_project,
    list_retirable_grants_shows_grants_the_caller_retires,
);
