//! Multi-Region keys in both dialects: AWS CreateKey `MultiRegion`, ReplicateKey and
//! UpdatePrimaryRegion, Huawei v2 `replicate` and `update-primary-region`. A replica shares
//! its primary's ID and material (every version), lives in its own region with its own
//! description, tags and state, and decrypts what its primary encrypted.

use serde_json::{Value, json};

use crate::helpers::aws::{AWS_ALICE, aws_error, aws_in};
use crate::helpers::{ALICE, PROJECT, TestApp};
use crate::regions::{ALICE_NL, NL_PROJECT};

async fn create_mrk(app: &TestApp, body: Value) -> Value {
    let mut body = body;
    body["MultiRegion"] = json!(true);
    let reply = aws_in(app, AWS_ALICE, "eu-de", "CreateKey", body).await;
    reply.ok()["KeyMetadata"].clone()
}

fn arn(region: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}:111122223333:key/{id}")
}

async fn describe(app: &TestApp, region: &str, id: &str) -> Value {
    let reply = aws_in(app, AWS_ALICE, region, "DescribeKey", json!({"KeyId": id})).await;
    reply.ok()["KeyMetadata"].clone()
}

async fn replicate(app: &TestApp, id: &str, body: Value) -> Value {
    let mut body = body;
    body["KeyId"] = json!(id);
    body["ReplicaRegion"] = json!("eu-nl");
    aws_in(app, AWS_ALICE, "eu-de", "ReplicateKey", body)
        .await
        .ok()
        .clone()
}

async fn a_replica_decrypts_what_its_primary_encrypted(app: &TestApp) {
    let primary = create_mrk(app, json!({"Description": "primary"})).await;
    let id = primary["KeyId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("mrk-") && id.len() == 36, "{id}");
    assert!(
        id[4..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{id}"
    );
    assert_eq!(primary["MultiRegion"], true);
    assert_eq!(primary["Arn"], arn("eu-de", &id));
    assert_eq!(
        primary["MultiRegionConfiguration"],
        json!({"MultiRegionKeyType": "PRIMARY",
               "PrimaryKey": {"Arn": arn("eu-de", &id), "Region": "eu-de"},
               "ReplicaKeys": []})
    );
    // Not there before it is replicated.
    let reply = aws_in(app, AWS_ALICE, "eu-nl", "DescribeKey", json!({"KeyId": id})).await;
    aws_error(&reply, "NotFoundException");

    let replicated = replicate(
        app,
        &id,
        json!({"Description": "replica", "Tags": [{"TagKey": "side", "TagValue": "nl"}]}),
    )
    .await;
    let replica = &replicated["ReplicaKeyMetadata"];
    assert_eq!(replica["KeyId"], id.as_str());
    assert_eq!(replica["Arn"], arn("eu-nl", &id));
    assert_eq!(replica["Description"], "replica");
    assert_eq!(replica["KeyState"], "Enabled");
    assert_eq!(replica["MultiRegion"], true);
    let configuration = json!({
        "PrimaryKey": {"Arn": arn("eu-de", &id), "Region": "eu-de"},
        "ReplicaKeys": [{"Arn": arn("eu-nl", &id), "Region": "eu-nl"}],
    });
    let with_type = |kind: &str| {
        let mut c = configuration.clone();
        c["MultiRegionKeyType"] = json!(kind);
        c
    };
    assert_eq!(replica["MultiRegionConfiguration"], with_type("REPLICA"));
    assert_eq!(
        replicated["ReplicaTags"],
        json!([{"TagKey": "side", "TagValue": "nl"}])
    );
    assert!(
        replicated["ReplicaPolicy"]
            .as_str()
            .unwrap()
            .contains("111122223333"),
        "{}",
        replicated["ReplicaPolicy"]
    );

    // Each side describes the configuration, and keeps its own description.
    let de = describe(app, "eu-de", &id).await;
    assert_eq!(de["MultiRegionConfiguration"], with_type("PRIMARY"));
    assert_eq!(de["Description"], "primary");
    let nl = describe(app, "eu-nl", &id).await;
    assert_eq!(nl["MultiRegionConfiguration"], with_type("REPLICA"));
    assert_eq!(nl["Description"], "replica");
    assert_eq!(nl["Arn"], arn("eu-nl", &id));
    // By ARN too, each in its own region only.
    assert_eq!(
        describe(app, "eu-nl", &arn("eu-nl", &id)).await["KeyId"],
        id.as_str()
    );
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "DescribeKey",
        json!({"KeyId": arn("eu-de", &id)}),
    )
    .await;
    aws_error(&reply, "NotFoundException");

    // Encrypt on one side, decrypt on the other, both ways, with and without the KeyId.
    for (from, to) in [("eu-de", "eu-nl"), ("eu-nl", "eu-de")] {
        let encrypted = aws_in(
            app,
            AWS_ALICE,
            from,
            "Encrypt",
            json!({"KeyId": id, "Plaintext": "aGVsbG8=", "EncryptionContext": {"a": "b"}}),
        )
        .await;
        let blob = encrypted.ok()["CiphertextBlob"].clone();
        assert_eq!(encrypted.ok()["KeyId"], arn(from, &id));
        for body in [
            json!({"CiphertextBlob": blob, "EncryptionContext": {"a": "b"}}),
            json!({"CiphertextBlob": blob, "EncryptionContext": {"a": "b"}, "KeyId": id}),
        ] {
            let decrypted = aws_in(app, AWS_ALICE, to, "Decrypt", body).await;
            assert_eq!(decrypted.ok()["Plaintext"], "aGVsbG8=", "{from} -> {to}");
            assert_eq!(decrypted.ok()["KeyId"], arn(to, &id));
        }
    }

    // The replica's state is its own: disabled, it refuses; the primary still serves.
    aws_in(app, AWS_ALICE, "eu-nl", "DisableKey", json!({"KeyId": id}))
        .await
        .ok();
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "Encrypt",
        json!({"KeyId": id, "Plaintext": "aGVsbG8="}),
    )
    .await;
    aws_error(&reply, "DisabledException");
    assert_eq!(describe(app, "eu-de", &id).await["KeyState"], "Enabled");
    // Tags and aliases are per region.
    let tags = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "ListResourceTags",
        json!({"KeyId": id}),
    )
    .await;
    assert_eq!(tags.ok()["Tags"], json!([]));
    aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "CreateAlias",
        json!({"AliasName": "alias/mrk", "TargetKeyId": id}),
    )
    .await
    .ok();
    assert_eq!(
        describe(app, "eu-nl", "alias/mrk").await["KeyId"],
        id.as_str()
    );
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "DescribeKey",
        json!({"KeyId": "alias/mrk"}),
    )
    .await;
    aws_error(&reply, "NotFoundException");
}

async fn rotations_of_the_primary_reach_its_replicas(app: &TestApp) {
    let id = create_mrk(app, json!({})).await["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    // A version made before replication, and one after.
    aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "RotateKeyOnDemand",
        json!({"KeyId": id}),
    )
    .await
    .ok();
    replicate(app, &id, json!({})).await;
    aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "RotateKeyOnDemand",
        json!({"KeyId": id}),
    )
    .await
    .ok();
    for region in ["eu-de", "eu-nl"] {
        let listed = aws_in(
            app,
            AWS_ALICE,
            region,
            "ListKeyRotations",
            json!({"KeyId": id}),
        )
        .await;
        assert_eq!(
            listed.ok()["Rotations"].as_array().unwrap().len(),
            2,
            "{region}: {}",
            listed.raw
        );
    }
    let encrypted = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "Encrypt",
        json!({"KeyId": id, "Plaintext": "aGVsbG8="}),
    )
    .await;
    let blob = encrypted.ok()["CiphertextBlob"].clone();
    let decrypted = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "Decrypt",
        json!({"CiphertextBlob": blob}),
    )
    .await;
    assert_eq!(decrypted.ok()["Plaintext"], "aGVsbG8=");
    // A replica's rotation is its primary's to change.
    for operation in ["RotateKeyOnDemand", "EnableKeyRotation"] {
        let reply = aws_in(app, AWS_ALICE, "eu-nl", operation, json!({"KeyId": id})).await;
        aws_error(&reply, "UnsupportedOperationException");
    }
}

async fn hmac_and_asymmetric_keys_replicate(app: &TestApp) {
    for (spec, usage) in [
        ("HMAC_256", "GENERATE_VERIFY_MAC"),
        ("ECC_NIST_P256", "SIGN_VERIFY"),
    ] {
        let key = create_mrk(app, json!({"KeySpec": spec, "KeyUsage": usage})).await;
        let id = key["KeyId"].as_str().unwrap().to_owned();
        assert!(id.starts_with("mrk-"), "{id}");
        replicate(app, &id, json!({})).await;
        if spec == "HMAC_256" {
            let mac = aws_in(
                app,
                AWS_ALICE,
                "eu-de",
                "GenerateMac",
                json!({"KeyId": id, "Message": "aGVsbG8=", "MacAlgorithm": "HMAC_SHA_256"}),
            )
            .await;
            let verified = aws_in(
                app,
                AWS_ALICE,
                "eu-nl",
                "VerifyMac",
                json!({"KeyId": id, "Message": "aGVsbG8=", "MacAlgorithm": "HMAC_SHA_256",
                       "Mac": mac.ok()["Mac"]}),
            )
            .await;
            assert_eq!(verified.ok()["MacValid"], true);
        } else {
            let signed = aws_in(
                app,
                AWS_ALICE,
                "eu-de",
                "Sign",
                json!({"KeyId": id, "Message": "aGVsbG8=", "SigningAlgorithm": "ECDSA_SHA_256"}),
            )
            .await;
            let verified = aws_in(
                app,
                AWS_ALICE,
                "eu-nl",
                "Verify",
                json!({"KeyId": id, "Message": "aGVsbG8=", "SigningAlgorithm": "ECDSA_SHA_256",
                       "Signature": signed.ok()["Signature"]}),
            )
            .await;
            assert_eq!(verified.ok()["SignatureValid"], true);
        }
    }
    // Imported material is left out of multi-Region keys.
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "CreateKey",
        json!({"MultiRegion": true, "Origin": "EXTERNAL"}),
    )
    .await;
    aws_error(&reply, "UnsupportedOperationException");
}

async fn update_primary_region_swaps_the_roles(app: &TestApp) {
    let id = create_mrk(app, json!({})).await["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    // No replica in eu-nl yet.
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "UpdatePrimaryRegion",
        json!({"KeyId": id, "PrimaryRegion": "eu-nl"}),
    )
    .await;
    aws_error(&reply, "NotFoundException");
    replicate(app, &id, json!({})).await;
    // Only the primary moves, and not onto itself.
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "UpdatePrimaryRegion",
        json!({"KeyId": id, "PrimaryRegion": "eu-de"}),
    )
    .await;
    aws_error(&reply, "UnsupportedOperationException");
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "UpdatePrimaryRegion",
        json!({"KeyId": id, "PrimaryRegion": "eu-de"}),
    )
    .await;
    aws_error(&reply, "UnsupportedOperationException");
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "UpdatePrimaryRegion",
        json!({"KeyId": id, "PrimaryRegion": "eu-nl"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.raw);
    let configuration = |kind: &str| {
        json!({"MultiRegionKeyType": kind,
               "PrimaryKey": {"Arn": arn("eu-nl", &id), "Region": "eu-nl"},
               "ReplicaKeys": [{"Arn": arn("eu-de", &id), "Region": "eu-de"}]})
    };
    assert_eq!(
        describe(app, "eu-nl", &id).await["MultiRegionConfiguration"],
        configuration("PRIMARY")
    );
    assert_eq!(
        describe(app, "eu-de", &id).await["MultiRegionConfiguration"],
        configuration("REPLICA")
    );
    // The old primary is now a replica: it cannot be replicated, the new primary can
    // (here into a region where the key already is).
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "ReplicateKey",
        json!({"KeyId": id, "ReplicaRegion": "eu-nl"}),
    )
    .await;
    aws_error(&reply, "UnsupportedOperationException");
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "ReplicateKey",
        json!({"KeyId": id, "ReplicaRegion": "eu-de"}),
    )
    .await;
    aws_error(&reply, "AlreadyExistsException");
}

async fn replicate_key_errors(app: &TestApp) {
    let id = create_mrk(app, json!({})).await["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    // A single-Region key.
    let single = aws_in(app, AWS_ALICE, "eu-de", "CreateKey", json!({})).await;
    let single_id = single.ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "ReplicateKey",
        json!({"KeyId": single_id, "ReplicaRegion": "eu-nl"}),
    )
    .await;
    aws_error(&reply, "UnsupportedOperationException");
    // A region this service does not serve, a malformed one, the primary's own.
    for (region, code) in [
        ("us-west-2", "UnsupportedOperationException"),
        ("EU_NL", "ValidationException"),
        ("eu-de", "AlreadyExistsException"),
    ] {
        let reply = aws_in(
            app,
            AWS_ALICE,
            "eu-de",
            "ReplicateKey",
            json!({"KeyId": id, "ReplicaRegion": region}),
        )
        .await;
        aws_error(&reply, code);
    }
    // An unknown key; a missing region.
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "ReplicateKey",
        json!({"KeyId": "mrk-00000000000000000000000000000000", "ReplicaRegion": "eu-nl"}),
    )
    .await;
    aws_error(&reply, "NotFoundException");
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "ReplicateKey",
        json!({"KeyId": id}),
    )
    .await;
    aws_error(&reply, "ValidationException");
    // A disabled primary is not replicated.
    aws_in(app, AWS_ALICE, "eu-de", "DisableKey", json!({"KeyId": id}))
        .await
        .ok();
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "ReplicateKey",
        json!({"KeyId": id, "ReplicaRegion": "eu-nl"}),
    )
    .await;
    aws_error(&reply, "DisabledException");
    aws_in(app, AWS_ALICE, "eu-de", "EnableKey", json!({"KeyId": id}))
        .await
        .ok();
    replicate(app, &id, json!({})).await;
    // Twice into one region; a replica replicated.
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "ReplicateKey",
        json!({"KeyId": id, "ReplicaRegion": "eu-nl"}),
    )
    .await;
    aws_error(&reply, "AlreadyExistsException");
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "ReplicateKey",
        json!({"KeyId": id, "ReplicaRegion": "eu-de"}),
    )
    .await;
    aws_error(&reply, "UnsupportedOperationException");
    // A primary with replicas is not scheduled for deletion, not even while they are pending
    // deletion themselves; its replica is.
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "ScheduleKeyDeletion",
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    )
    .await;
    aws_error(&reply, "KMSInvalidStateException");
    assert!(reply.raw.contains("eu-nl"), "{}", reply.raw);
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "ScheduleKeyDeletion",
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    )
    .await;
    assert_eq!(reply.ok()["KeyState"], "PendingDeletion");
    assert_eq!(describe(app, "eu-de", &id).await["KeyState"], "Enabled");
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "ScheduleKeyDeletion",
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    )
    .await;
    aws_error(&reply, "KMSInvalidStateException");
}

async fn huawei_replicates_and_moves_the_primary(app: &TestApp) {
    let id = create_mrk(app, json!({})).await["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let v2 = |method: reqwest::Method,
              project: &'static str,
              token: &'static str,
              path: String,
              body: Value| async move {
        app.raw(
            method,
            &format!("/v2/{project}/kms/keys/{path}"),
            &[
                ("x-auth-token", token),
                ("content-type", "application/json"),
            ],
            body.to_string().into_bytes(),
        )
        .await
    };
    let replicate_body = json!({
        "key_id": id, "replica_region": "eu-nl", "key_alias": "nl-replica",
        "key_description": "from eu-de", "replica_project_id": NL_PROJECT,
        "tags": [{"key": "side", "value": "nl"}]
    });
    // The body's key_id must be the path's.
    let mut other = replicate_body.clone();
    other["key_id"] = json!("mrk-00000000000000000000000000000000");
    v2(
        reqwest::Method::POST,
        PROJECT,
        ALICE.token,
        format!("{id}/replicate"),
        other,
    )
    .await
    .error(400, "KMS.0205");
    // The replica's project must be in the replica's region.
    let mut wrong_project = replicate_body.clone();
    wrong_project["replica_project_id"] = json!(PROJECT);
    v2(
        reqwest::Method::POST,
        PROJECT,
        ALICE.token,
        format!("{id}/replicate"),
        wrong_project,
    )
    .await
    .error(400, "KMS.0308");
    let reply = v2(
        reqwest::Method::POST,
        PROJECT,
        ALICE.token,
        format!("{id}/replicate"),
        replicate_body.clone(),
    )
    .await;
    assert_eq!(
        reply.ok(),
        &json!({"key_id": id, "domain_id": crate::helpers::DOMAIN, "region": "eu-nl"})
    );
    // Again: the key is already there.
    v2(
        reqwest::Method::POST,
        PROJECT,
        ALICE.token,
        format!("{id}/replicate"),
        replicate_body,
    )
    .await
    .error(400, "KMS.0308");
    // The replica is a key of the eu-nl project, with its alias and description.
    let described = app
        .call(ALICE_NL, "describe-key", json!({"key_id": id}))
        .await;
    assert_eq!(described.ok()["key_info"]["key_alias"], "nl-replica");
    assert_eq!(described.ok()["key_info"]["key_description"], "from eu-de");
    assert_eq!(described.ok()["key_info"]["realm"], "eu-nl");
    let tags = app
        .raw(
            reqwest::Method::GET,
            &format!("/v1.0/{NL_PROJECT}/kms/{id}/tags"),
            &[("x-auth-token", ALICE_NL.token)],
            Vec::new(),
        )
        .await;
    assert_eq!(tags.ok()["tags"], json!([{"key": "side", "value": "nl"}]));
    // Huawei encrypt-data in eu-de, decrypt-data in eu-nl.
    let encrypted = app
        .call(
            ALICE,
            "encrypt-data",
            json!({"key_id": id, "plain_text": "hello"}),
        )
        .await;
    let cipher = encrypted.ok()["cipher_text"].clone();
    let decrypted = app
        .call(ALICE_NL, "decrypt-data", json!({"cipher_text": cipher}))
        .await;
    assert_eq!(decrypted.ok()["plain_text"], "hello");

    // update-primary-region: from the replica's side refused; from the primary's done.
    v2(
        reqwest::Method::PUT,
        NL_PROJECT,
        ALICE_NL.token,
        format!("{id}/update-primary-region"),
        json!({"key_id": id, "primary_region": "eu-de"}),
    )
    .await
    .error(400, "KMS.0308");
    let reply = v2(
        reqwest::Method::PUT,
        PROJECT,
        ALICE.token,
        format!("{id}/update-primary-region"),
        json!({"key_id": id, "primary_region": "eu-nl"}),
    )
    .await;
    assert_eq!(
        reply.ok(),
        &json!({"key_id": id, "primary_region": "eu-nl"})
    );
    assert_eq!(
        describe(app, "eu-de", &id).await["MultiRegionConfiguration"]["MultiRegionKeyType"],
        "REPLICA"
    );
    // Replicating from a replica, or into a region not served.
    v2(
        reqwest::Method::POST,
        PROJECT,
        ALICE.token,
        format!("{id}/replicate"),
        json!({"key_id": id, "replica_region": "eu-nl", "key_alias": "again",
               "replica_project_id": NL_PROJECT}),
    )
    .await
    .error(400, "KMS.0308");
    // A region this service does not serve: no project of the caller is there.
    v2(
        reqwest::Method::POST,
        NL_PROJECT,
        ALICE_NL.token,
        format!("{id}/replicate"),
        json!({"key_id": id, "replica_region": "us-west-2", "key_alias": "far"}),
    )
    .await
    .error(400, "KMS.0308");
    // Methods and missing fields.
    v2(
        reqwest::Method::GET,
        PROJECT,
        ALICE.token,
        format!("{id}/replicate"),
        json!({}),
    )
    .await
    .error(405, "KMS.0215");
    v2(
        reqwest::Method::PUT,
        NL_PROJECT,
        ALICE_NL.token,
        format!("{id}/update-primary-region"),
        json!({"key_id": id}),
    )
    .await
    .error(400, "KMS.0204");
}

crate::on_every_backend!(with_config = crate::regions::two_regions;
    a_replica_decrypts_what_its_primary_encrypted,
    rotations_of_the_primary_reach_its_replicas,
    hmac_and_asymmetric_keys_replicate,
    update_primary_region_swaps_the_roles,
    replicate_key_errors,
    huawei_replicates_and_moves_the_primary,
);
