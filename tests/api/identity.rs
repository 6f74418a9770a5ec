//! IAM tokens and AK/SK signatures, over HTTP, as the real clients use them.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use kms_emulator::auth::aksk;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::helpers::{
    ALICE, BOB, Backend, CAROL, DOMAIN, OTHER_PROJECT, PROJECT, Reply, ServerProcess, TestApp,
};

pub(crate) const ALICE_AK: &str = "DEMOALICEACCESSKEY01";
pub(crate) const ALICE_SK: &str = "demo-alice-secret-key-0000000000000001";
const BOB_AK: &str = "DEMOBOBACCESSKEY0002";
const BOB_SK: &str = "demo-bob-secret-key-00000000000000002";

fn password_request(user: &str, password: &str, domain: &str, scope: Value) -> Value {
    json!({"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": user, "password": password, "domain": {"name": domain}}}},
        "scope": scope,
    }})
}

async fn request_token(
    app: &TestApp,
    base: &str,
    body: &Value,
    query: &str,
) -> (Reply, Option<String>) {
    let response = app
        .client
        .post(format!("{base}/v3/auth/tokens{query}"))
        .header("content-type", "application/json;charset=utf8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let token = response
        .headers()
        .get("x-subject-token")
        .map(|v| v.to_str().unwrap().to_owned());
    (Reply::read(response).await, token)
}

pub(crate) async fn alice_token(app: &TestApp, base: &str) -> String {
    let (reply, token) = request_token(
        app,
        base,
        &password_request(
            "alice",
            "alice-password",
            "demo-account",
            json!({"project": {"id": PROJECT}}),
        ),
        "",
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.raw);
    token.expect("X-Subject-Token")
}

async fn password_tokens_are_issued_and_work_for_kms(app: &TestApp) {
    let (reply, token) = request_token(
        app,
        &app.base,
        &password_request(
            "alice",
            "alice-password",
            "demo-account",
            json!({"project": {"name": "eu-de"}}),
        ),
        "",
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.raw);
    let token = token.expect("X-Subject-Token");
    assert!(
        !reply.raw.contains(&token),
        "the token is only in the header"
    );
    let t = &reply.body["token"];
    assert_eq!(t["methods"], json!(["password"]));
    assert_eq!(t["user"]["id"], ALICE.id);
    assert_eq!(t["user"]["name"], "alice");
    assert_eq!(t["user"]["domain"]["id"], DOMAIN);
    assert_eq!(t["user"]["domain"]["name"], "demo-account");
    assert_eq!(t["project"]["id"], PROJECT);
    assert_eq!(t["project"]["name"], "eu-de");
    assert_eq!(t["project"]["domain"]["id"], DOMAIN);
    assert_eq!(t["roles"][0]["name"], "te_admin");
    for field in ["issued_at", "expires_at"] {
        let text = t[field].as_str().unwrap();
        assert_eq!(text.len(), "2026-11-25T18:00:00.000000Z".len(), "{text}");
        assert!(text.ends_with('Z'));
    }
    let endpoint = &t["catalog"][0]["endpoints"][0];
    assert_eq!(t["catalog"][0]["type"], "kms");
    assert_eq!(endpoint["region"], "eu-de");
    assert_eq!(endpoint["interface"], "public");
    assert_eq!(endpoint["url"], format!("{}/v1.0/{PROJECT}", app.base));

    // The token works for KMS in its project, and only there.
    let created = app
        .post(
            PROJECT,
            "create-key",
            Some(token.as_str()),
            &json!({"key_alias": "via-iam"}),
        )
        .await;
    assert_eq!(created.ok()["key_info"]["domain_id"], DOMAIN);
    app.post(OTHER_PROJECT, "list-keys", Some(token.as_str()), &json!({}))
        .await
        .error(403, "KMS.0321");

    let (reply, _) = request_token(
        app,
        &app.base,
        &password_request(
            "alice",
            "alice-password",
            "demo-account",
            json!({"project": {"id": PROJECT}}),
        ),
        "?nocatalog=true",
    )
    .await;
    assert_eq!(reply.status, 201);
    assert!(
        reply.body["token"].get("catalog").is_none(),
        "{}",
        reply.raw
    );
}

async fn domain_scoped_tokens_list_projects_but_not_keys(app: &TestApp) {
    let (reply, token) = request_token(
        app,
        &app.base,
        &password_request(
            "bob",
            "bob-password",
            "demo-account",
            json!({"domain": {"name": "demo-account"}}),
        ),
        "",
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.raw);
    assert_eq!(reply.body["token"]["domain"]["id"], DOMAIN);
    assert!(reply.body["token"].get("project").is_none());
    let token = token.unwrap();
    app.post(PROJECT, "list-keys", Some(token.as_str()), &json!({}))
        .await
        .error(403, "KMS.0321");
    let projects = app
        .raw(
            reqwest::Method::GET,
            "/v3/projects?name=eu-de",
            &[("x-auth-token", token.as_str())],
            vec![],
        )
        .await;
    assert_eq!(projects.status, 200, "{}", projects.raw);
    assert_eq!(projects.body["projects"][0]["id"], PROJECT);
    assert_eq!(projects.body["projects"][0]["enabled"], true);
    assert_eq!(projects.body["projects"].as_array().unwrap().len(), 1);
}

async fn wrong_credentials_get_one_answer(app: &TestApp) {
    let mut bodies = Vec::new();
    for (user, password, domain) in [
        ("alice", "wrong-password", "demo-account"),
        ("mallory", "alice-password", "demo-account"),
        ("alice", "alice-password", "other-account"),
        ("alice", "alice-password", "no-such-account"),
    ] {
        let (reply, token) = request_token(
            app,
            &app.base,
            &password_request(user, password, domain, json!({"project": {"id": PROJECT}})),
            "",
        )
        .await;
        assert_eq!(reply.status, 401, "{user}/{domain}: {}", reply.raw);
        assert!(token.is_none());
        assert!(!reply.raw.contains(password));
        bodies.push(reply.raw);
    }
    bodies.dedup();
    assert_eq!(
        bodies.len(),
        1,
        "nothing tells whether the user exists: {bodies:?}"
    );
    // Right password, but a project the user is not in.
    let (reply, _) = request_token(
        app,
        &app.base,
        &password_request(
            "alice",
            "alice-password",
            "demo-account",
            json!({"project": {"id": OTHER_PROJECT}}),
        ),
        "",
    )
    .await;
    assert_eq!(reply.status, 401, "{}", reply.raw);
    // Not a token request at all.
    let (reply, _) = request_token(app, &app.base, &json!({"auth": {}}), "").await;
    assert_eq!(reply.status, 400, "{}", reply.raw);
    // Unknown tokens are still KMS.0302.
    app.post(PROJECT, "list-keys", Some("MIIkms-unknown"), &json!({}))
        .await
        .error(403, "KMS.0302");
}

/// Signs a request the way the SDK does, with our signer (itself checked against the SDK's vectors).
pub(crate) async fn signed(
    app: &TestApp,
    method: reqwest::Method,
    path_and_query: &str,
    keys: (&str, &str),
    extra_headers: &[(&str, &str)],
    body: &[u8],
    tamper: impl FnOnce(&mut HeaderMap, &mut Vec<u8>),
) -> Reply {
    let host = app.base.trim_start_matches("http://").to_owned();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_str(&host).unwrap());
    headers.insert(
        "x-sdk-date",
        HeaderValue::from_str(&aksk::format_sdk_date(OffsetDateTime::now_utc())).unwrap(),
    );
    headers.insert(
        "user-agent",
        HeaderValue::from_static("huaweicloud-usdk-python/3.0"),
    );
    for (name, value) in extra_headers {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let (path, query) = path_and_query
        .split_once('?')
        .map_or((path_and_query, None), |(p, q)| (p, Some(q)));
    let authorization = aksk::authorization_for(
        keys.0,
        keys.1,
        &aksk::RequestParts {
            method: method.as_str(),
            path,
            query,
            headers: &headers,
            body,
        },
    )
    .unwrap();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&authorization).unwrap(),
    );
    let mut body = body.to_vec();
    tamper(&mut headers, &mut body);
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.raw(method, path_and_query, &pairs, body).await
}

async fn sdk_call(app: &TestApp, keys: (&str, &str), action: &str, body: Value) -> Reply {
    signed(
        app,
        reqwest::Method::POST,
        &format!("/v1.0/{PROJECT}/kms/{action}"),
        keys,
        &[
            ("content-type", "application/json;charset=UTF-8"),
            ("x-project-id", PROJECT),
        ],
        body.to_string().as_bytes(),
        |_, _| {},
    )
    .await
}

#[track_caller]
fn assert_gateway_401(reply: &Reply, needle: &str) {
    assert_eq!(reply.status, 401, "{}", reply.raw);
    assert_eq!(reply.body["error_code"], "APIGW.0301", "{}", reply.raw);
    let message = reply.body["error_msg"].as_str().unwrap();
    assert!(
        message.starts_with("Incorrect IAM authentication information: ")
            && message.contains(needle),
        "{message} should mention {needle}"
    );
    assert!(
        reply.body.get("error").is_none(),
        "the gateway body is flat"
    );
    assert_eq!(
        reply.body["request_id"].as_str(),
        reply.request_id.as_deref(),
        "request_id matches X-Request-Id"
    );
    assert!(!reply.raw.contains(ALICE_SK) && !reply.raw.contains(BOB_SK));
}

async fn aksk_signed_requests_run_the_grant_story(app: &TestApp) {
    let alice = (ALICE_AK, ALICE_SK);
    let bob = (BOB_AK, BOB_SK);
    let created = sdk_call(app, alice, "create-key", json!({"key_alias": "signed"})).await;
    let key_id = created.ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let grant = sdk_call(
        app,
        alice,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["describe-key"],
               "retiring_principal": CAROL.id}),
    )
    .await;
    let grant_id = grant.ok()["grant_id"].as_str().unwrap().to_owned();
    let listed = sdk_call(app, alice, "list-grants", json!({"key_id": key_id})).await;
    assert_eq!(listed.ok()["grants"][0]["issuing_principal"], ALICE.id);
    // bob's signature makes bob the caller: he may not revoke.
    sdk_call(
        app,
        bob,
        "revoke-grant",
        json!({"key_id": key_id, "grant_id": grant_id}),
    )
    .await
    .error(403, "KMS.0306");
    sdk_call(
        app,
        alice,
        "revoke-grant",
        json!({"key_id": key_id, "grant_id": grant_id}),
    )
    .await
    .ok();

    // Project discovery, as the SDK does it when no project id is configured.
    let projects = signed(
        app,
        reqwest::Method::GET,
        "/v3/projects?name=eu-de",
        alice,
        &[],
        b"",
        |_, _| {},
    )
    .await;
    assert_eq!(projects.status, 200, "{}", projects.raw);
    assert_eq!(projects.body["projects"][0]["id"], PROJECT);
    let none = signed(
        app,
        reqwest::Method::GET,
        "/v3/projects?name=eu-nl",
        alice,
        &[],
        b"",
        |_, _| {},
    )
    .await;
    assert_eq!(none.body["projects"], json!([]));

    // A project the user is not in, named in the header and the URL.
    let foreign = signed(
        app,
        reqwest::Method::POST,
        &format!("/v1.0/{OTHER_PROJECT}/kms/list-keys"),
        alice,
        &[
            ("content-type", "application/json"),
            ("x-project-id", OTHER_PROJECT),
        ],
        b"{}",
        |_, _| {},
    )
    .await;
    foreign.error(403, "KMS.0321");
    // Header and URL disagree.
    let mismatch = signed(
        app,
        reqwest::Method::POST,
        &format!("/v1.0/{PROJECT}/kms/list-keys"),
        alice,
        &[
            ("content-type", "application/json"),
            ("x-project-id", OTHER_PROJECT),
        ],
        b"{}",
        |_, _| {},
    )
    .await;
    mismatch.error(403, "KMS.0321");
}

/// Changes a signed request after signing.
type Tamper = Box<dyn FnOnce(&mut HeaderMap, &mut Vec<u8>) + Send>;

async fn tampered_signatures_get_the_gateway_401(app: &TestApp) {
    let alice = (ALICE_AK, ALICE_SK);
    let path = format!("/v1.0/{PROJECT}/kms/create-key");
    let headers = [
        ("content-type", "application/json"),
        ("x-project-id", PROJECT),
    ];
    let body = br#"{"key_alias":"tampered"}"#;
    let send = |tamper: Tamper| {
        let path = path.clone();
        async move {
            signed(
                app,
                reqwest::Method::POST,
                &path,
                alice,
                &headers,
                body,
                tamper,
            )
            .await
        }
    };
    let reply = send(Box::new(|_: &mut HeaderMap, body: &mut Vec<u8>| {
        body.extend_from_slice(b" ")
    }))
    .await;
    assert_gateway_401(&reply, "verify aksk signature fail");
    let reply = send(Box::new(|h: &mut HeaderMap, _: &mut Vec<u8>| {
        h.insert("user-agent", HeaderValue::from_static("curl/8"));
    }))
    .await;
    assert_gateway_401(&reply, "verify aksk signature fail");
    let reply = send(Box::new(|h: &mut HeaderMap, _: &mut Vec<u8>| {
        h.insert("x-sdk-date", HeaderValue::from_static("20200101T000000Z"));
    }))
    .await;
    assert_gateway_401(&reply, "15 minutes");
    let reply = send(Box::new(|h: &mut HeaderMap, _: &mut Vec<u8>| {
        let value = h["authorization"]
            .to_str()
            .unwrap()
            .replace(ALICE_AK, "NOSUCHKEY");
        h.insert("authorization", HeaderValue::from_str(&value).unwrap());
    }))
    .await;
    assert_gateway_401(&reply, "not exist");
    let reply = send(Box::new(|h: &mut HeaderMap, _: &mut Vec<u8>| {
        h.insert(
            "authorization",
            HeaderValue::from_static("SDK-HMAC-SHA256 garbage"),
        );
    }))
    .await;
    assert_gateway_401(&reply, "malformed");
    // The same request, untouched, goes through.
    let reply = signed(
        app,
        reqwest::Method::POST,
        &path,
        alice,
        &headers,
        body,
        |_, _| {},
    )
    .await;
    reply.ok();
    let keys = app.call(ALICE, "list-keys", json!({})).await;
    assert_eq!(
        keys.ok()["total"],
        1,
        "only the untampered request created a key"
    );
}

/// `GET /` is Huawei's ListVersions and, since this host is also the IAM endpoint, the list
/// keystoneauth reads for an `auth_url` without `/v3`: KMS's v1.0 stays first and unchanged,
/// Keystone's v3.0 follows with an absolute link, and that link is where tokens are issued.
async fn the_root_version_list_serves_kms_and_keystone(app: &TestApp) {
    let reply = app.raw(reqwest::Method::GET, "/", &[], vec![]).await;
    assert_eq!(reply.status, 200, "{}", reply.raw);
    let versions = reply.body["versions"].as_array().expect("a list");
    assert_eq!(versions.len(), 2, "{}", reply.raw);
    assert_eq!(
        versions[0],
        json!({"id": "v1.0", "links": [{"href": "/v1.0/", "rel": "self"}], "min_version": "",
               "status": "CURRENT", "version": "", "updated": "2018-09-05T08:18:05Z"})
    );
    let identity = &versions[1];
    assert_eq!(identity["id"], "v3.0", "{}", reply.raw);
    assert_eq!(identity["status"], "stable");
    assert_eq!(
        identity["media-types"][0]["type"],
        "application/vnd.openstack.identity-v3+json"
    );
    let href = identity["links"][0]["href"].as_str().unwrap();
    assert_eq!(href, format!("{}/v3/", app.base), "{}", reply.raw);
    // The same entry as `GET /v3`, and the discovered URL issues tokens that work for KMS.
    let v3 = app.raw(reqwest::Method::GET, "/v3", &[], vec![]).await;
    assert_eq!(&v3.body["version"], identity, "{}", v3.raw);
    let token = alice_token(app, href.trim_end_matches("/v3/")).await;
    let created = app
        .client
        .post(format!("{}/v1.0/{PROJECT}/kms/create-key", app.base))
        .header("x-auth-token", token)
        .header("content-type", "application/json")
        .body(json!({"key_alias": "discovered"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
}

crate::on_both_backends!(
    the_root_version_list_serves_kms_and_keystone,
    password_tokens_are_issued_and_work_for_kms,
    domain_scoped_tokens_list_projects_but_not_keys,
    wrong_credentials_get_one_answer,
    aksk_signed_requests_run_the_grant_story,
    tampered_signatures_get_the_gateway_401,
);

async fn tokens_expire(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.token_lifetime_secs = 1).await;
    let token = alice_token(&app, &app.base).await;
    app.post(PROJECT, "list-keys", Some(token.as_str()), &json!({}))
        .await
        .ok();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.post(PROJECT, "list-keys", Some(token.as_str()), &json!({}))
        .await
        .error(403, "KMS.0303");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_sqlite() {
    tokens_expire(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_postgres() {
    tokens_expire(Backend::Postgres).await;
}

/// A token issued by one process is accepted by another sharing the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_work_across_processes_sharing_postgres() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let other = ServerProcess::start(&app.db.url()).await;
    let token = alice_token(&app, &other.base).await;
    let reply = app
        .post(
            PROJECT,
            "create-key",
            Some(token.as_str()),
            &json!({"key_alias": "from-the-other-process"}),
        )
        .await;
    reply.ok();
    let (_, token2) = request_token(
        &app,
        &app.base,
        &password_request(
            "alice",
            "alice-password",
            "demo-account",
            json!({"project": {"id": PROJECT}}),
        ),
        "",
    )
    .await;
    let response = app
        .client
        .post(format!("{}/v1.0/{PROJECT}/kms/list-keys", other.base))
        .header("x-auth-token", token2.unwrap())
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["total"], 1);
    other.stop().await;
    app.finish().await;
}

/// `GET /v3` answers Keystone's version document, so keystoneauth discovers the identity
/// version from an `auth_url` ending in /v3 without a warning.
#[tokio::test]
async fn keystone_discovers_the_identity_version() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    for path in ["/v3", "/v3/"] {
        let reply = app.raw(reqwest::Method::GET, path, &[], vec![]).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.raw);
        let version = &reply.body["version"];
        assert_eq!(version["id"], "v3.0");
        assert_eq!(version["status"], "stable");
        let host = app.base.trim_start_matches("http://");
        assert_eq!(
            version["links"][0]["href"],
            format!("http://{host}/v3/"),
            "{}",
            reply.raw
        );
        assert_eq!(
            version["media-types"][0]["type"],
            "application/vnd.openstack.identity-v3+json"
        );
    }
    app.finish().await;
}
