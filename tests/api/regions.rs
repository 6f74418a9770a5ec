//! Several regions from one process (`--regions`): keys and aliases belong to a region,
//! AWS requests are served in their SigV4 scope's region, Huawei requests in their
//! project's, and a request signed for a region not served is refused.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::helpers::aws::{AWS_ALICE, aws_error, aws_in};
use crate::helpers::{ALICE, PROJECT, TestApp, TestDb, User};

/// Alice's project in eu-nl (named after its region, so placed there without a `region`).
pub(crate) const NL_PROJECT: &str = "5a1e0c2b3d4f4a6b8c9d0e1f2a3b4c5d";
pub(crate) const ALICE_NL: User = User {
    id: ALICE.id,
    token: ALICE.token,
    project: NL_PROJECT,
};

/// The demo account's administrator alice in a project of eu-de and one of eu-nl.
fn identities() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::temp_dir().join(format!(
            "kms-regions-ids-{}.json",
            uuid::Uuid::new_v4().simple()
        ));
        let file = json!({
            "domains": [{"id": crate::helpers::DOMAIN, "name": "demo-account", "aws_account_id": "111122223333"}],
            "projects": [
                {"id": PROJECT, "name": "eu-de", "domain_id": crate::helpers::DOMAIN},
                {"id": NL_PROJECT, "name": "eu-nl", "domain_id": crate::helpers::DOMAIN}
            ],
            "users": [{
                "id": ALICE.id, "name": "alice", "domain_id": crate::helpers::DOMAIN,
                "password": "alice-password", "projects": [PROJECT, NL_PROJECT],
                "policies": ["KMS Administrator"],
                "tokens": [{"token": ALICE.token}],
                "access_keys": [{"access_key": AWS_ALICE.access_key, "secret_key": AWS_ALICE.secret_key}]
            }]
        });
        std::fs::write(&path, file.to_string()).unwrap();
        path
    })
    .clone()
}

pub(crate) fn two_regions(config: &mut kms_emulator::Config) {
    config.regions = vec!["eu-nl".into()];
    config.identities = Some(identities());
}

async fn create_aws_key(app: &TestApp, region: &str) -> Value {
    let reply = aws_in(app, AWS_ALICE, region, "CreateKey", json!({})).await;
    reply.ok()["KeyMetadata"].clone()
}

async fn aws_keys_belong_to_the_region_they_are_made_in(app: &TestApp) {
    let de = create_aws_key(app, "eu-de").await;
    let nl = create_aws_key(app, "eu-nl").await;
    let (de_id, nl_id) = (de["KeyId"].as_str().unwrap(), nl["KeyId"].as_str().unwrap());
    assert_eq!(
        de["Arn"],
        format!("arn:aws:kms:eu-de:111122223333:key/{de_id}")
    );
    assert_eq!(
        nl["Arn"],
        format!("arn:aws:kms:eu-nl:111122223333:key/{nl_id}")
    );

    // Each region sees its own key only, by ID and in listings.
    for (region, own, other) in [("eu-de", de_id, nl_id), ("eu-nl", nl_id, de_id)] {
        let reply = aws_in(app, AWS_ALICE, region, "DescribeKey", json!({"KeyId": own})).await;
        assert_eq!(reply.ok()["KeyMetadata"]["KeyId"], own);
        let reply = aws_in(
            app,
            AWS_ALICE,
            region,
            "DescribeKey",
            json!({"KeyId": other}),
        )
        .await;
        aws_error(&reply, "NotFoundException");
        let listed = aws_in(app, AWS_ALICE, region, "ListKeys", json!({})).await;
        let ids: Vec<&str> = listed.ok()["Keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["KeyId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [own], "{region}");
    }

    // A ciphertext of the eu-de key is not decrypted in eu-nl: its key is not there, which
    // Decrypt answers as for any ciphertext whose key it cannot find.
    let encrypted = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "Encrypt",
        json!({"KeyId": de_id, "Plaintext": "aGVsbG8="}),
    )
    .await;
    let blob = encrypted.ok()["CiphertextBlob"].clone();
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "Decrypt",
        json!({"CiphertextBlob": blob}),
    )
    .await;
    aws_error(&reply, "InvalidCiphertextException");
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "Decrypt",
        json!({"CiphertextBlob": blob}),
    )
    .await;
    assert_eq!(reply.ok()["Plaintext"], "aGVsbG8=");

    // An ARN naming the other region is not found either.
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "DescribeKey",
        json!({"KeyId": de["Arn"]}),
    )
    .await;
    aws_error(&reply, "NotFoundException");
}

async fn aws_aliases_are_per_region(app: &TestApp) {
    let de = create_aws_key(app, "eu-de").await;
    let nl = create_aws_key(app, "eu-nl").await;
    for (region, key) in [("eu-de", &de), ("eu-nl", &nl)] {
        let reply = aws_in(
            app,
            AWS_ALICE,
            region,
            "CreateAlias",
            json!({"AliasName": "alias/shared", "TargetKeyId": key["KeyId"]}),
        )
        .await;
        reply.ok();
    }
    for (region, key) in [("eu-de", &de), ("eu-nl", &nl)] {
        let reply = aws_in(
            app,
            AWS_ALICE,
            region,
            "DescribeKey",
            json!({"KeyId": "alias/shared"}),
        )
        .await;
        assert_eq!(reply.ok()["KeyMetadata"]["KeyId"], key["KeyId"], "{region}");
        let listed = aws_in(app, AWS_ALICE, region, "ListAliases", json!({})).await;
        let aliases = listed.ok()["Aliases"].as_array().unwrap().clone();
        assert_eq!(aliases.len(), 1, "{region}: {aliases:?}");
        assert_eq!(
            aliases[0]["AliasArn"],
            format!("arn:aws:kms:{region}:111122223333:alias/shared")
        );
        assert_eq!(aliases[0]["TargetKeyId"], key["KeyId"]);
    }
    // An alias cannot name a key of another region: that key is not found there.
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "CreateAlias",
        json!({"AliasName": "alias/cross", "TargetKeyId": de["KeyId"]}),
    )
    .await;
    aws_error(&reply, "NotFoundException");
}

async fn a_request_signed_for_a_region_not_served_is_refused(app: &TestApp) {
    let reply = aws_in(app, AWS_ALICE, "us-east-1", "ListKeys", json!({})).await;
    aws_error(&reply, "InvalidSignatureException");
    assert!(
        reply
            .raw
            .contains("Credential should be scoped to a valid region, not 'us-east-1'"),
        "{}",
        reply.raw
    );
}

async fn huawei_projects_belong_to_their_region(app: &TestApp) {
    let nl_key = app.create_key(ALICE_NL, "in-nl").await;
    let created = app
        .call(ALICE, "create-key", json!({"key_alias": "in-de"}))
        .await;
    assert_eq!(created.ok()["key_info"]["region_id"], "eu-de");
    let de_key = created.ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let described = app
        .call(ALICE_NL, "describe-key", json!({"key_id": nl_key}))
        .await;
    assert_eq!(described.ok()["key_info"]["realm"], "eu-nl");
    // The eu-de key is not in the eu-nl project, nor in its region.
    app.call(ALICE_NL, "describe-key", json!({"key_id": de_key}))
        .await
        .error(404, "KMS.0207");

    // An AWS key made in eu-nl is the account's key in alice's eu-nl project, and the
    // other way round.
    let aws_key = create_aws_key(app, "eu-nl").await;
    let listed = app.call(ALICE_NL, "list-keys", json!({})).await;
    let keys: Vec<&str> = listed.ok()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&nl_key.as_str()));
    assert!(keys.contains(&aws_key["KeyId"].as_str().unwrap()));
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "DescribeKey",
        json!({"KeyId": nl_key}),
    )
    .await;
    assert_eq!(
        reply.ok()["KeyMetadata"]["Arn"],
        format!("arn:aws:kms:eu-nl:111122223333:key/{nl_key}")
    );
}

async fn an_iam_token_reports_its_projects_region(app: &TestApp) {
    for (project, region) in [(PROJECT, "eu-de"), (NL_PROJECT, "eu-nl")] {
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "alice", "password": "alice-password", "domain": {"name": "demo-account"}}}},
            "scope": {"project": {"id": project}}
        }});
        let reply = app
            .raw(
                reqwest::Method::POST,
                "/v3/auth/tokens",
                &[("content-type", "application/json")],
                body.to_string().into_bytes(),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.raw);
        let token = &reply.body["token"];
        assert_eq!(token["project"]["id"], project);
        assert_eq!(token["project"]["name"], region);
        let endpoints = token["catalog"][0]["endpoints"].as_array().unwrap();
        assert_eq!(endpoints.len(), 1, "{endpoints:?}");
        assert_eq!(endpoints[0]["region"], region);
    }
    let ready = app
        .raw(reqwest::Method::GET, "/ready", &[], Vec::new())
        .await;
    assert_eq!(ready.ok()["region"], "eu-de");
    assert_eq!(ready.ok()["regions"], json!(["eu-de", "eu-nl"]));
}

/// ListSupportRegions; replication is for multi-Region keys only (tests/api/multi_region.rs):
/// a single-Region key is refused in both dialects.
async fn huawei_lists_the_served_regions_and_refuses_replication(app: &TestApp) {
    for user in [ALICE, ALICE_NL] {
        let reply = app
            .raw(
                reqwest::Method::GET,
                &format!("/v2/{}/kms/regions", user.project),
                &[("x-auth-token", user.token)],
                Vec::new(),
            )
            .await;
        assert_eq!(reply.ok(), &json!({"regions": ["eu-de", "eu-nl"]}));
    }
    let unsigned = app
        .raw(
            reqwest::Method::GET,
            &format!("/v2/{PROJECT}/kms/regions"),
            &[],
            Vec::new(),
        )
        .await;
    unsigned.error(403, "KMS.0301");
    let posted = app
        .raw(
            reqwest::Method::POST,
            &format!("/v2/{PROJECT}/kms/regions"),
            &[("x-auth-token", ALICE.token)],
            Vec::new(),
        )
        .await;
    posted.error(405, "KMS.0215");
    let key = app.create_key(ALICE, "to-replicate").await;
    for (method, operation, body) in [
        (
            reqwest::Method::POST,
            "replicate",
            json!({"key_id": key, "replica_region": "eu-nl", "key_alias": "replica",
                   "replica_project_id": NL_PROJECT}),
        ),
        (
            reqwest::Method::PUT,
            "update-primary-region",
            json!({"key_id": key, "primary_region": "eu-nl"}),
        ),
    ] {
        let reply = app
            .raw(
                method,
                &format!("/v2/{PROJECT}/kms/keys/{key}/{operation}"),
                &[
                    ("x-auth-token", ALICE.token),
                    ("content-type", "application/json"),
                ],
                body.to_string().into_bytes(),
            )
            .await;
        reply.error(400, "KMS.0308");
        assert!(
            reply.raw.contains("not a multi-Region key"),
            "{}",
            reply.raw
        );
    }
    for (target, body) in [
        (
            "ReplicateKey",
            json!({"KeyId": key, "ReplicaRegion": "eu-nl"}),
        ),
        (
            "UpdatePrimaryRegion",
            json!({"KeyId": key, "PrimaryRegion": "eu-nl"}),
        ),
    ] {
        let reply = aws_in(app, AWS_ALICE, "eu-de", target, body).await;
        aws_error(&reply, "UnsupportedOperationException");
    }
}

/// A principal's retirable grants are listed per region, as the keys they are on.
async fn retirable_grants_are_listed_per_region(app: &TestApp) {
    let mut made = Vec::new();
    for region in ["eu-de", "eu-nl"] {
        let key = create_aws_key(app, region).await;
        let grant = aws_in(
            app,
            AWS_ALICE,
            region,
            "CreateGrant",
            json!({"KeyId": key["KeyId"], "GranteePrincipal": "arn:aws:iam::111122223333:root",
                   "Operations": ["Encrypt"], "RetiringPrincipal": AWS_ALICE.arn}),
        )
        .await;
        made.push((region, grant.ok()["GrantId"].clone()));
    }
    for (region, grant_id) in &made {
        let listed = aws_in(
            app,
            AWS_ALICE,
            region,
            "ListRetirableGrants",
            json!({"RetiringPrincipal": AWS_ALICE.arn}),
        )
        .await;
        let ids: Vec<Value> = listed.ok()["Grants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["GrantId"].clone())
            .collect();
        assert_eq!(
            ids,
            std::slice::from_ref(grant_id),
            "{region}: {}",
            listed.raw
        );
    }
}

crate::on_every_backend!(with_config = crate::regions::two_regions;
    retirable_grants_are_listed_per_region,
    huawei_lists_the_served_regions_and_refuses_replication,
    aws_keys_belong_to_the_region_they_are_made_in,
    aws_aliases_are_per_region,
    a_request_signed_for_a_region_not_served_is_refused,
    huawei_projects_belong_to_their_region,
    an_iam_token_reports_its_projects_region,
);

/// Rows stored before regions existed (region '') are placed in the default region at
/// start: here the server restarts with another default region and finds them there.
async fn keys_stored_before_regions_join_the_default_region(app: &mut TestApp) {
    let key = create_aws_key(app, "eu-de").await;
    let key_id = key["KeyId"].as_str().unwrap().to_owned();
    aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "CreateAlias",
        json!({"AliasName": "alias/old", "TargetKeyId": key_id}),
    )
    .await
    .ok();
    for statement in [
        "update kms_key set region = ''",
        "update kms_alias set region = ''",
    ] {
        match &app.db {
            TestDb::Sqlite { .. } => {
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect(&app.db.url())
                    .await
                    .unwrap();
                sqlx::query(statement).execute(&mut conn).await.unwrap();
            }
            TestDb::Postgres { .. } => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
                sqlx::query(statement).execute(&mut conn).await.unwrap();
            }
        }
    }
    app.restart_with(|config| {
        config.region = "eu-nl".into();
        config.regions = vec!["eu-de".into()];
    })
    .await;
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-nl",
        "DescribeKey",
        json!({"KeyId": "alias/old"}),
    )
    .await;
    assert_eq!(
        reply.ok()["KeyMetadata"]["Arn"],
        format!("arn:aws:kms:eu-nl:111122223333:key/{key_id}")
    );
    let reply = aws_in(
        app,
        AWS_ALICE,
        "eu-de",
        "DescribeKey",
        json!({"KeyId": key_id}),
    )
    .await;
    aws_error(&reply, "NotFoundException");
}

mod restarts {
    use super::*;
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let mut app = TestApp::spawn(Backend::Sqlite).await;
        keys_stored_before_regions_join_the_default_region(&mut app).await;
        app.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let mut app = TestApp::spawn(Backend::Postgres).await;
        keys_stored_before_regions_join_the_default_region(&mut app).await;
        app.finish().await;
    }
}
