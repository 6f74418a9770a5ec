//! The operator console (`/_emulator/console`): what its pages show of the store, that every
//! stored value is escaped, its filters, and that it answers only the peers the operator API
//! answers. (The pages in a real browser: scripts/console/check.sh.)

use serde_json::json;

use crate::helpers::aws::{AWS_ALICE, aws};
use crate::helpers::{ALICE, BOB, CAROL, PROJECT, Reply, TestApp};

const HOSTILE: &str = "<script>alert(\"k\")</script><img src=x onerror='alert(1)'>&amp;";

async fn page(app: &TestApp, path: &str) -> Reply {
    app.raw(reqwest::Method::GET, path, &[], Vec::new()).await
}

#[track_caller]
fn html(reply: &Reply) -> &str {
    assert_eq!(reply.status, 200, "{}", reply.raw);
    &reply.raw
}

/// A key made through the Huawei dialect (hostile description, a grant with a retiring
/// principal, a refusal) and one through the AWS dialect (an alias, a constrained grant).
async fn seed(app: &TestApp) -> (String, String, String, String) {
    let hw_key = app
        .call(
            ALICE,
            "create-key",
            json!({"key_alias": "console-orders", "key_description": HOSTILE}),
        )
        .await
        .ok()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.call(
        BOB,
        "encrypt-data",
        json!({"key_id": hw_key, "plain_text": "x"}),
    )
    .await
    .error(403, "KMS.0306");
    let hw_grant = app
        .create_grant(
            ALICE,
            json!({"key_id": hw_key, "grantee_principal": BOB.id, "operations": ["encrypt-data"],
                   "retiring_principal": CAROL.id, "name": "orders-app"}),
        )
        .await;
    let aws_key = aws(
        app,
        AWS_ALICE,
        "CreateKey",
        json!({"Description": "payments"}),
    )
    .await
    .ok()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    aws(
        app,
        AWS_ALICE,
        "CreateAlias",
        json!({"AliasName": "alias/console-payments", "TargetKeyId": aws_key}),
    )
    .await
    .ok();
    let aws_grant = aws(
        app,
        AWS_ALICE,
        "CreateGrant",
        json!({"KeyId": aws_key, "GranteePrincipal": "arn:aws:iam::444455556666:user/erin",
               "Operations": ["Decrypt"],
               "Constraints": {"EncryptionContextEquals": {"app": "pay<ments>"}}}),
    )
    .await
    .ok()["GrantId"]
        .as_str()
        .unwrap()
        .to_owned();
    (hw_key, hw_grant, aws_key, aws_grant)
}

async fn pages_show_the_store(app: &TestApp) {
    let (hw_key, hw_grant, aws_key, aws_grant) = seed(app).await;

    let overview = page(app, "/_emulator/console").await;
    let body = html(&overview);
    assert!(body.contains(PROJECT), "{body}");
    assert!(body.contains("111122223333"), "{body}");
    assert!(body.contains("2 keys, 2 grants"), "{body}");

    let keys = page(app, "/_emulator/console/keys").await;
    let body = html(&keys);
    for needle in [
        hw_key.as_str(),
        aws_key.as_str(),
        "console-orders",
        "alias/console-payments",
    ] {
        assert!(body.contains(needle), "{needle} missing: {body}");
    }
    let one_project = page(
        app,
        &format!(
            "/_emulator/console/keys?project={}",
            crate::helpers::OTHER_PROJECT
        ),
    )
    .await;
    assert!(html(&one_project).contains("0 keys"), "{}", one_project.raw);
    assert!(!one_project.raw.contains(&hw_key));

    let key = page(app, &format!("/_emulator/console/keys/{hw_key}")).await;
    let body = html(&key);
    for needle in [
        format!("data-grant-id=\"{hw_grant}\""),
        "orders-app".into(),
        BOB.id.into(),
        CAROL.id.into(),
        "user carol".into(),
        ">huawei<".into(),
    ] {
        assert!(body.contains(&needle), "{needle} missing: {body}");
    }
    let key = page(app, &format!("/_emulator/console/keys/{aws_key}")).await;
    let body = html(&key);
    for needle in [
        format!("data-grant-id=\"{aws_grant}\""),
        "alias/console-payments".into(),
        "EncryptionContextEquals".into(),
        "pay&lt;ments&gt;".into(),
        "arn:aws:iam::444455556666:user/erin".into(),
        ">aws<".into(),
    ] {
        assert!(body.contains(&needle), "{needle} missing: {body}");
    }

    let missing = page(
        app,
        "/_emulator/console/keys/00000000-0000-0000-0000-000000000000",
    )
    .await;
    assert_eq!(missing.status, 404, "{}", missing.raw);
    let not_an_id = page(app, "/_emulator/console/keys/%3Cb%3E").await;
    assert_eq!(not_an_id.status, 404);
    assert!(not_an_id.raw.contains("&lt;b&gt;"), "{}", not_an_id.raw);
    assert!(!not_an_id.raw.contains("<b>"), "{}", not_an_id.raw);
}

/// Every stored value is text on the page: the hostile description appears escaped
/// everywhere it is shown, never as markup.
async fn stored_values_are_escaped(app: &TestApp) {
    let (hw_key, _, _, _) = seed(app).await;
    for path in [
        "/_emulator/console/keys".to_owned(),
        format!("/_emulator/console/keys/{hw_key}"),
    ] {
        let reply = page(app, &path).await;
        let body = html(&reply);
        assert!(
            body.contains(
                "&lt;script&gt;alert(&quot;k&quot;)&lt;/script&gt;&lt;img src=x \
                 onerror=&#39;alert(1)&#39;&gt;&amp;amp;"
            ),
            "{path}: {body}"
        );
        assert!(!body.contains("<script>alert"), "{path}: {body}");
        assert!(!body.contains("<img"), "{path}: {body}");
    }
    // Reflected input is escaped too.
    let reply = page(
        app,
        "/_emulator/console/audit?project=%22%3E%3Cscript%3Ex%3C/script%3E",
    )
    .await;
    let body = html(&reply);
    assert!(body.contains("&quot;&gt;&lt;script&gt;x"), "{body}");
    assert!(!body.contains("\"><script>x"), "{body}");
    // Only the page's own script and style run.
    let response = app
        .client
        .get(format!("{}/_emulator/console", app.base))
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'; script-src 'sha256-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

async fn audit_filters(app: &TestApp) {
    let (hw_key, hw_grant, aws_key, aws_grant) = seed(app).await;
    let rows = |reply: &Reply, class: &str| reply.raw.matches(class).count();

    let all = page(app, "/_emulator/console/audit").await;
    html(&all);
    assert_eq!(rows(&all, "class=\"record allowed\""), 2, "{}", all.raw);
    assert_eq!(rows(&all, "class=\"record denied\""), 1, "{}", all.raw);
    // Newest first.
    let aws_at = all.raw.find(&aws_grant).unwrap();
    let hw_at = all.raw.find(&hw_grant).unwrap();
    assert!(aws_at < hw_at, "{}", all.raw);

    let denied = page(app, "/_emulator/console/audit?outcome=denied").await;
    html(&denied);
    assert_eq!(
        rows(&denied, "class=\"record allowed\""),
        0,
        "{}",
        denied.raw
    );
    assert_eq!(rows(&denied, "class=\"record denied\""), 1);
    assert!(denied.raw.contains("key-use-denied"));

    let allowed = page(
        app,
        "/_emulator/console/audit?outcome=allowed&event=grant-created",
    )
    .await;
    assert_eq!(
        rows(&allowed, "class=\"record allowed\""),
        2,
        "{}",
        allowed.raw
    );
    assert_eq!(rows(&allowed, "class=\"record denied\""), 0);

    let by_key = page(app, &format!("/_emulator/console/audit?key={aws_key}")).await;
    assert_eq!(rows(&by_key, "class=\"record "), 1, "{}", by_key.raw);
    assert!(by_key.raw.contains(&aws_grant));
    let by_key = page(app, &format!("/_emulator/console/audit?key={hw_key}")).await;
    assert_eq!(rows(&by_key, "class=\"record "), 2, "{}", by_key.raw);

    let other_project = page(
        app,
        &format!(
            "/_emulator/console/audit?project={}",
            crate::helpers::OTHER_PROJECT
        ),
    )
    .await;
    assert_eq!(
        rows(&other_project, "class=\"record "),
        0,
        "{}",
        other_project.raw
    );
    let own_project = page(app, &format!("/_emulator/console/audit?project={PROJECT}")).await;
    assert_eq!(
        rows(&own_project, "class=\"record "),
        3,
        "{}",
        own_project.raw
    );

    let bad = page(app, "/_emulator/console/audit?event=%3Cnope%3E").await;
    assert_eq!(bad.status, 400, "{}", bad.raw);
    assert!(bad.raw.contains("&lt;nope&gt;") && !bad.raw.contains("<nope>"));
    let bad = page(app, "/_emulator/console/audit?outcome=maybe").await;
    assert_eq!(bad.status, 400, "{}", bad.raw);
}

/// The console pages and the page the script re-reads are the same document, and it updates:
/// a key created after a first read shows on the next.
async fn pages_follow_the_store(app: &TestApp) {
    let before = page(app, "/_emulator/console/keys").await;
    assert!(html(&before).contains("0 keys"), "{}", before.raw);
    assert!(before.raw.contains("id=\"live\""));
    let key = app.create_key(ALICE, "later").await;
    let after = page(app, "/_emulator/console/keys").await;
    assert!(html(&after).contains(&key), "{}", after.raw);
}

/// The keys page shows each key's tags and its rotation: on or off, and the
/// newest material version.
async fn keys_show_tags_and_rotation(app: &TestApp) {
    let key_id = app.create_key(ALICE, "console-tagged").await;
    aws(
        app,
        AWS_ALICE,
        "TagResource",
        json!({"KeyId": key_id, "Tags": [{"TagKey": "team", "TagValue": "orders"}]}),
    )
    .await
    .ok();
    let row = |html: &str| {
        let start = html
            .find(&format!("<tr data-key-id=\"{key_id}\">"))
            .expect("the key's row");
        html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
    };
    let before = page(app, "/_emulator/console/keys").await;
    let before = row(html(&before));
    assert!(before.contains("team=orders"), "{before}");
    assert!(before.contains("off, version 0"), "{before}");
    app.call(ALICE, "enable-key-rotation", json!({"key_id": key_id}))
        .await
        .ok();
    app.call(ALICE, "rotate-on-demand", json!({"key_id": key_id}))
        .await
        .ok();
    let after = page(app, "/_emulator/console/keys").await;
    let after = row(html(&after));
    assert!(after.contains("on, version 1"), "{after}");
}

crate::on_both_backends!(
    keys_show_tags_and_rotation,
    pages_show_the_store,
    stored_values_are_escaped,
    audit_filters,
    pages_follow_the_store
);

/// This machine's address on the interface of its default route, if it has one that is not
/// loopback (no packet is sent).
fn non_loopback_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// The console over a non-loopback address: refused (403, like the operator API) without
/// `--operator-api`, answered with it. Skipped on a machine with no non-loopback address.
async fn remote_peers_need_the_operator_flag(operator_api: bool) {
    let Some(ip) = non_loopback_address() else {
        eprintln!("no non-loopback address: skipped");
        return;
    };
    for backend in [
        crate::helpers::Backend::Sqlite,
        crate::helpers::Backend::Postgres,
    ] {
        let mut remote = TestApp::spawn_with(backend, |config| {
            config.listen = "0.0.0.0:0".parse().unwrap();
            config.operator_api = operator_api;
        })
        .await;
        let port = remote.base.rsplit(':').next().unwrap().to_owned();
        remote.base = format!("http://{ip}:{port}");
        let key = remote.create_key(ALICE, "remote").await;
        for path in [
            "/_emulator/console".to_owned(),
            "/_emulator/console/keys".to_owned(),
            format!("/_emulator/console/keys/{key}"),
            "/_emulator/console/audit".to_owned(),
        ] {
            let reply = page(&remote, &path).await;
            if operator_api {
                assert_eq!(reply.status, 200, "{path}: {}", reply.raw);
            } else {
                reply.error(403, "EMULATOR.0403");
                assert!(!reply.raw.contains(&key), "{path}: {}", reply.raw);
            }
        }
        remote.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_peers_are_refused_without_the_operator_flag() {
    remote_peers_need_the_operator_flag(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_peers_are_answered_with_the_operator_flag() {
    remote_peers_need_the_operator_flag(true).await;
}
