//! AWS aliases over HTTP: CreateAlias, UpdateAlias, DeleteAlias, ListAliases, and keys
//! named by alias name or alias ARN in the operations AWS accepts them in.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::aws::{AWS_ALICE, AWS_CAROL, AWS_DAVE, AWS_ERIN, aws, aws_error, aws_refused};

const ACCOUNT_ARN: &str = "arn:aws:kms:eu-de:111122223333";

async fn new_key(app: &TestApp) -> String {
    aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn aliases(app: &TestApp, body: Value) -> Vec<Value> {
    aws(app, AWS_ALICE, "ListAliases", body).await.ok()["Aliases"]
        .as_array()
        .unwrap()
        .clone()
}

async fn create_update_list_delete_round_trip(app: &TestApp) {
    let first = new_key(app).await;
    let second = new_key(app).await;
    let created = aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": first}),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.raw);
    let listed = aliases(app, json!({})).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let alias = &listed[0];
    assert_eq!(alias["AliasName"], "alias/app");
    assert_eq!(alias["AliasArn"], format!("{ACCOUNT_ARN}:alias/app"));
    assert_eq!(alias["TargetKeyId"], first.as_str());
    assert!(alias["CreationDate"].as_f64().unwrap() > 1.6e9);
    assert!(alias["LastUpdatedDate"].as_f64().unwrap() > 1.6e9);

    // The KeyId filter.
    assert_eq!(aliases(app, json!({"KeyId": first})).await.len(), 1);
    assert!(aliases(app, json!({"KeyId": second})).await.is_empty());

    let updated = aws(
        app,
        AWS_ALICE,
        "UpdateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": format!("{ACCOUNT_ARN}:key/{second}")}),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.raw);
    assert_eq!(aliases(app, json!({"KeyId": second})).await.len(), 1);
    let described = aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": "alias/app"})).await;
    assert_eq!(described.ok()["KeyMetadata"]["KeyId"], second.as_str());

    let deleted = aws(
        app,
        AWS_ALICE,
        "DeleteAlias",
        json!({"AliasName": "alias/app"}),
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.raw);
    assert!(aliases(app, json!({})).await.is_empty());
    let again = aws(
        app,
        AWS_ALICE,
        "DeleteAlias",
        json!({"AliasName": "alias/app"}),
    )
    .await;
    aws_error(&again, "NotFoundException");
    assert!(
        again
            .raw
            .contains(&format!("Alias {ACCOUNT_ARN}:alias/app is not found.")),
        "{}",
        again.raw
    );
    aws_refused(
        app,
        AWS_ALICE,
        "UpdateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": first}),
        "NotFoundException",
    )
    .await;
}

async fn keys_are_used_by_alias_name_and_alias_arn(app: &TestApp) {
    let key = new_key(app).await;
    aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/data", "TargetKeyId": key}),
    )
    .await
    .ok();
    for name in ["alias/data".to_owned(), format!("{ACCOUNT_ARN}:alias/data")] {
        let described = aws(app, AWS_ALICE, "DescribeKey", json!({"KeyId": name})).await;
        assert_eq!(
            described.ok()["KeyMetadata"]["KeyId"],
            key.as_str(),
            "{name}"
        );
        let encrypted = aws(
            app,
            AWS_ALICE,
            "Encrypt",
            json!({"KeyId": name, "Plaintext": "aGVsbG8="}),
        )
        .await;
        let blob = encrypted.ok()["CiphertextBlob"].clone();
        assert_eq!(encrypted.ok()["KeyId"], format!("{ACCOUNT_ARN}:key/{key}"));
        let decrypted = aws(
            app,
            AWS_ALICE,
            "Decrypt",
            json!({"CiphertextBlob": blob, "KeyId": name}),
        )
        .await;
        assert_eq!(decrypted.ok()["Plaintext"], "aGVsbG8=");
        let data_key = aws(
            app,
            AWS_ALICE,
            "GenerateDataKey",
            json!({"KeyId": name, "KeySpec": "AES_256"}),
        )
        .await;
        assert_eq!(data_key.status, 200, "{}", data_key.raw);
    }
    for unknown in ["alias/nope".to_owned(), format!("{ACCOUNT_ARN}:alias/nope")] {
        let reply = aws(
            app,
            AWS_ALICE,
            "Encrypt",
            json!({"KeyId": unknown, "Plaintext": "aGVsbG8="}),
        )
        .await;
        aws_error(&reply, "NotFoundException");
        assert!(
            reply
                .raw
                .contains(&format!("Alias {ACCOUNT_ARN}:alias/nope is not found.")),
            "{}",
            reply.raw
        );
    }
    // Key administration and grants name keys, never aliases (AWS).
    for (operation, body) in [
        (
            "CreateGrant",
            json!({"KeyId": "alias/data", "GranteePrincipal": AWS_CAROL.arn, "Operations": ["Encrypt"]}),
        ),
        ("ListGrants", json!({"KeyId": "alias/data"})),
        ("DisableKey", json!({"KeyId": "alias/data"})),
        ("ScheduleKeyDeletion", json!({"KeyId": "alias/data"})),
    ] {
        aws_refused(app, AWS_ALICE, operation, body, "NotFoundException").await;
    }
}

async fn alias_names_are_checked(app: &TestApp) {
    let key = new_key(app).await;
    let create = |name: &'static str| {
        let key = key.clone();
        async move {
            aws(
                app,
                AWS_ALICE,
                "CreateAlias",
                json!({"AliasName": name, "TargetKeyId": key}),
            )
            .await
        }
    };
    create("alias/one").await.ok();
    aws_error(&create("alias/one").await, "AlreadyExistsException");
    aws_error(&create("alias/aws/s3").await, "NotAuthorizedException");
    aws_error(&create("alias/").await, "InvalidAliasNameException");
    aws_error(&create("no-prefix").await, "InvalidAliasNameException");
    aws_error(&create("alias/has space").await, "ValidationException");
    aws_error(&create("").await, "ValidationException");
    let long: &'static str = Box::leak(format!("alias/{}", "a".repeat(251)).into_boxed_str());
    aws_error(&create(long).await, "ValidationException");
    aws_refused(
        app,
        AWS_ALICE,
        "DeleteAlias",
        json!({"AliasName": "alias/aws/s3"}),
        "NotAuthorizedException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/two", "TargetKeyId": "alias/one"}),
        "NotFoundException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/two"}),
        "ValidationException",
    )
    .await;
    // A key pending deletion gets no new alias.
    aws(
        app,
        AWS_ALICE,
        "ScheduleKeyDeletion",
        json!({"KeyId": key, "PendingWindowInDays": 7}),
    )
    .await
    .ok();
    aws_error(&create("alias/late").await, "KMSInvalidStateException");
    // Moving an alias off it is fine; onto it is not.
    let other = new_key(app).await;
    let moved = aws(
        app,
        AWS_ALICE,
        "UpdateAlias",
        json!({"AliasName": "alias/one", "TargetKeyId": other}),
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.raw);
    aws_refused(
        app,
        AWS_ALICE,
        "UpdateAlias",
        json!({"AliasName": "alias/one", "TargetKeyId": key}),
        "KMSInvalidStateException",
    )
    .await;
}

async fn aliases_stay_in_their_account(app: &TestApp) {
    let key = new_key(app).await;
    aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/mine", "TargetKeyId": key}),
    )
    .await
    .ok();
    // Erin (another account, administrator there) lists her own account's aliases only,
    // her `alias/mine` is her account's (none), and alice's alias ARN names alice's key,
    // which erin may not use.
    let listed = aws(app, AWS_ERIN, "ListAliases", json!({})).await;
    assert_eq!(listed.ok()["Aliases"], json!([]), "{}", listed.raw);
    aws_refused(
        app,
        AWS_ERIN,
        "DescribeKey",
        json!({"KeyId": "alias/mine"}),
        "NotFoundException",
    )
    .await;
    let by_arn = aws(
        app,
        AWS_ERIN,
        "Encrypt",
        json!({"KeyId": format!("{ACCOUNT_ARN}:alias/mine"), "Plaintext": "aGk="}),
    )
    .await;
    aws_error(&by_arn, "AccessDeniedException");
    aws_refused(
        app,
        AWS_ERIN,
        "DeleteAlias",
        json!({"AliasName": "alias/mine"}),
        "NotFoundException",
    )
    .await;
    // Erin cannot give her alias to alice's key.
    aws_refused(
        app,
        AWS_ERIN,
        "CreateAlias",
        json!({"AliasName": "alias/theirs", "TargetKeyId": format!("{ACCOUNT_ARN}:key/{key}")}),
        "AccessDeniedException",
    )
    .await;
    // The same name in another account is another alias.
    let erins =
        aws(app, AWS_ERIN, "CreateKey", json!({})).await.ok()["KeyMetadata"]["KeyId"].clone();
    let created = aws(
        app,
        AWS_ERIN,
        "CreateAlias",
        json!({"AliasName": "alias/mine", "TargetKeyId": erins}),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.raw);
    assert_eq!(
        aliases(app, json!({})).await[0]["TargetKeyId"],
        key.as_str()
    );

    // Dave (read-only) lists but cannot change; carol (no KMS permission) cannot list.
    assert_eq!(
        aws(app, AWS_DAVE, "ListAliases", json!({})).await.ok()["Aliases"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    aws_refused(
        app,
        AWS_DAVE,
        "CreateAlias",
        json!({"AliasName": "alias/dave", "TargetKeyId": key}),
        "AccessDeniedException",
    )
    .await;
    aws_refused(
        app,
        AWS_DAVE,
        "DeleteAlias",
        json!({"AliasName": "alias/mine"}),
        "AccessDeniedException",
    )
    .await;
    aws_refused(
        app,
        AWS_CAROL,
        "ListAliases",
        json!({}),
        "AccessDeniedException",
    )
    .await;
    assert_eq!(aliases(app, json!({})).await.len(), 1);
}

async fn aliases_are_paged(app: &TestApp) {
    let key = new_key(app).await;
    for i in 0..5 {
        aws(
            app,
            AWS_ALICE,
            "CreateAlias",
            json!({"AliasName": format!("alias/p{i}"), "TargetKeyId": key}),
        )
        .await
        .ok();
    }
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut body = json!({"Limit": 2});
        if let Some(m) = &marker {
            body["Marker"] = json!(m);
        }
        let reply = aws(app, AWS_ALICE, "ListAliases", body).await;
        let page = reply.ok();
        let items = page["Aliases"].as_array().unwrap();
        assert!(items.len() <= 2);
        names.extend(
            items
                .iter()
                .map(|a| a["AliasName"].as_str().unwrap().to_owned()),
        );
        if page["Truncated"] == true {
            marker = Some(page["NextMarker"].as_str().unwrap().to_owned());
        } else {
            assert!(page.get("NextMarker").is_none());
            break;
        }
    }
    assert_eq!(
        names,
        ["alias/p0", "alias/p1", "alias/p2", "alias/p3", "alias/p4"]
    );
    aws_refused(
        app,
        AWS_ALICE,
        "ListAliases",
        json!({"Limit": 0}),
        "ValidationException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "ListAliases",
        json!({"Limit": 101}),
        "ValidationException",
    )
    .await;
    aws_refused(
        app,
        AWS_ALICE,
        "ListAliases",
        json!({"Marker": "not a marker!"}),
        "InvalidMarkerException",
    )
    .await;
}

/// The emulator keeps a key's row after its deletion date; whatever removes a key row (an
/// operator, a future purge) removes its aliases with it (the foreign key cascades), so no
/// alias is left naming a missing key.
async fn a_removed_keys_aliases_go_with_it(app: &TestApp) {
    let key = new_key(app).await;
    let kept = new_key(app).await;
    for (name, target) in [("alias/gone", &key), ("alias/kept", &kept)] {
        aws(
            app,
            AWS_ALICE,
            "CreateAlias",
            json!({"AliasName": name, "TargetKeyId": target}),
        )
        .await
        .ok();
    }
    let removed =
        crate::audit_chain::exec(app, &format!("delete from kms_key where key_id = '{key}'")).await;
    assert_eq!(removed, 1);
    let left = aliases(app, json!({})).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["AliasName"], "alias/kept");
    aws_refused(
        app,
        AWS_ALICE,
        "DescribeKey",
        json!({"KeyId": "alias/gone"}),
        "NotFoundException",
    )
    .await;
}

/// UpdateAlias keeps an alias on one type and usage of key (AWS); an HMAC key is used
/// through its alias like any other.
async fn aliases_move_only_between_keys_of_one_kind(app: &TestApp) {
    let aes = new_key(app).await;
    let hmac = aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    )
    .await
    .ok()["KeyMetadata"]["KeyId"]
        .clone();
    aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/sym", "TargetKeyId": aes}),
    )
    .await
    .ok();
    aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/mac", "TargetKeyId": hmac}),
    )
    .await
    .ok();
    aws_refused(
        app,
        AWS_ALICE,
        "UpdateAlias",
        json!({"AliasName": "alias/sym", "TargetKeyId": hmac}),
        "ValidationException",
    )
    .await;
    assert_eq!(aliases(app, json!({"KeyId": aes})).await.len(), 1);
    let mac = aws(
        app,
        AWS_ALICE,
        "GenerateMac",
        json!({"KeyId": "alias/mac", "Message": "aGk=", "MacAlgorithm": "HMAC_SHA_256"}),
    )
    .await;
    let tag = mac.ok()["Mac"].clone();
    let verified = aws(app, AWS_ALICE, "VerifyMac", json!({"KeyId": format!("{ACCOUNT_ARN}:alias/mac"), "Message": "aGk=", "MacAlgorithm": "HMAC_SHA_256", "Mac": tag})).await;
    assert_eq!(verified.ok()["MacValid"], true);
}

/// Concurrent CreateAlias of one name: the database's primary key lets exactly one win.
async fn concurrent_creations_of_one_name_make_one_alias(app: &TestApp) {
    let mut keys = Vec::new();
    for _ in 0..4 {
        keys.push(new_key(app).await);
    }
    let replies = futures::future::join_all(keys.iter().flat_map(|key| {
        (0..2).map(move |_| {
            aws(
                app,
                AWS_ALICE,
                "CreateAlias",
                json!({"AliasName": "alias/race", "TargetKeyId": key}),
            )
        })
    }))
    .await;
    let won = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        won,
        1,
        "{:?}",
        replies.iter().map(|r| &r.raw).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.status != 200) {
        aws_error(reply, "AlreadyExistsException");
    }
    assert_eq!(aliases(app, json!({})).await.len(), 1);
}

/// A reset takes the aliases with the keys, so a suite can create the same alias again.
async fn a_reset_frees_alias_names(app: &TestApp) {
    let key = new_key(app).await;
    aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/orders", "TargetKeyId": key}),
    )
    .await
    .ok();
    let reset = app
        .raw(
            reqwest::Method::POST,
            "/_emulator/reset",
            &[("content-type", "application/json")],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.raw);
    assert!(aliases(app, json!({})).await.is_empty());
    let key = new_key(app).await;
    aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/orders", "TargetKeyId": key}),
    )
    .await
    .ok();
    aws(
        app,
        AWS_ALICE,
        "DescribeKey",
        json!({"KeyId": "alias/orders"}),
    )
    .await
    .ok();
}

crate::on_every_backend!(
    a_reset_frees_alias_names,
    aliases_move_only_between_keys_of_one_kind,
    concurrent_creations_of_one_name_make_one_alias,
    a_removed_keys_aliases_go_with_it,
    create_update_list_delete_round_trip,
    keys_are_used_by_alias_name_and_alias_arn,
    alias_names_are_checked,
    aliases_stay_in_their_account,
    aliases_are_paged,
);
