//! `GET /metrics`: request counts and latency by dialect, operation and outcome, the store's
//! census and the connection pools, in Prometheus text; open to every peer like `/health`.

use serde_json::json;

use crate::helpers::aws::{AWS_ALICE, aws};
use crate::helpers::{ALICE, BOB, TestApp};

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    text
}

/// The value of the sample named exactly `series` (name and labels), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().unwrap())
    })
}

#[track_caller]
fn value(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("{series} is missing:\n{text}"))
}

async fn requests_are_counted_by_dialect_operation_and_outcome(app: &TestApp) {
    let key = app.create_key(ALICE, "metered").await;
    app.create_key(ALICE, "metered-2").await;
    app.call(
        BOB,
        "encrypt-data",
        json!({"key_id": key, "plain_text": "x"}),
    )
    .await
    .error(403, "KMS.0306");
    app.call(ALICE, "no-such-action", json!({})).await;
    aws(app, AWS_ALICE, "CreateKey", json!({})).await.ok();
    aws(app, AWS_ALICE, "NoSuchOperation", json!({})).await;
    app.raw(reqwest::Method::GET, "/_emulator/console", &[], Vec::new())
        .await;
    app.raw(reqwest::Method::GET, "/scanner/probe-1234", &[], Vec::new())
        .await;

    let text = scrape(app).await;
    let requests = |labels: &str| value(&text, &format!("kms_emulator_requests_total{{{labels}}}"));
    assert_eq!(
        requests(r#"dialect="huawei",operation="create-key",outcome="2xx""#),
        2.0
    );
    assert_eq!(
        requests(r#"dialect="huawei",operation="encrypt-data",outcome="KMS.0306""#),
        1.0
    );
    assert_eq!(
        requests(r#"dialect="aws",operation="CreateKey",outcome="2xx""#),
        1.0
    );
    assert_eq!(
        requests(r#"dialect="operator",operation="/_emulator/console",outcome="2xx""#),
        1.0
    );
    // Unknown names are not labels: a scanner cannot grow the series.
    assert!(text.contains(r#"kms_emulator_requests_total{dialect="huawei",operation="unknown","#));
    assert!(text.contains(r#"kms_emulator_requests_total{dialect="aws",operation="unknown","#));
    assert!(text.contains(r#"kms_emulator_requests_total{dialect="other",operation="unknown","#));
    assert!(!text.contains("no-such-action") && !text.contains("NoSuchOperation"));
    assert!(!text.contains("probe-1234"));
    // No ID or principal is a label.
    assert!(!text.contains(&key) && !text.contains(ALICE.id), "{text}");

    let latency = "kms_emulator_request_duration_seconds";
    assert_eq!(
        value(
            &text,
            &format!(r#"{latency}_count{{dialect="huawei",operation="create-key"}}"#)
        ),
        2.0
    );
    assert_eq!(
        value(
            &text,
            &format!(r#"{latency}_bucket{{le="+Inf",dialect="huawei",operation="create-key"}}"#)
        ),
        2.0
    );
    assert!(
        value(
            &text,
            &format!(r#"{latency}_sum{{dialect="huawei",operation="create-key"}}"#)
        ) > 0.0
    );

    // The scrape itself is counted by the next one.
    let text = scrape(app).await;
    assert!(
        value(
            &text,
            r#"kms_emulator_requests_total{dialect="other",operation="/metrics",outcome="2xx"}"#
        ) >= 1.0
    );
}

async fn gauges_follow_the_store(app: &TestApp) {
    let text = scrape(app).await;
    assert_eq!(value(&text, "kms_emulator_store_up"), 1.0);
    assert_eq!(value(&text, r#"kms_emulator_keys{state="enabled"}"#), 0.0);
    assert_eq!(value(&text, "kms_emulator_grants"), 0.0);

    let (key, _) = app.key_with_grant(&["encrypt-data"]).await;
    app.create_key(ALICE, "second").await;
    app.call(ALICE, "disable-key", json!({"key_id": key}))
        .await
        .ok();
    let text = scrape(app).await;
    assert_eq!(value(&text, r#"kms_emulator_keys{state="enabled"}"#), 1.0);
    assert_eq!(value(&text, r#"kms_emulator_keys{state="disabled"}"#), 1.0);
    assert_eq!(
        value(&text, r#"kms_emulator_keys{state="pending_deletion"}"#),
        0.0
    );
    assert_eq!(value(&text, "kms_emulator_grants"), 1.0);
    assert_eq!(value(&text, "kms_emulator_projects"), 1.0);

    // The pools: the tests' servers open at most 8 connections.
    assert_eq!(
        value(
            &text,
            r#"kms_emulator_db_pool_connections{pool="main",use="max"}"#
        ),
        8.0
    );
    let open = value(
        &text,
        r#"kms_emulator_db_pool_connections{pool="main",use="open"}"#,
    );
    let idle = value(
        &text,
        r#"kms_emulator_db_pool_connections{pool="main",use="idle"}"#,
    );
    assert!(open >= 1.0 && idle <= open && open <= 8.0, "{text}");
}

crate::on_both_backends!(
    requests_are_counted_by_dialect_operation_and_outcome,
    gauges_follow_the_store
);

/// `/metrics` answers peers that are not loopback, without `--operator-api` (Prometheus scrapes
/// from another container), while the operator API next to it refuses them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_open_to_remote_peers() {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    let ip = match socket
        .connect("192.0.2.1:9")
        .ok()
        .and(socket.local_addr().ok())
    {
        Some(address) if !address.ip().is_loopback() && !address.ip().is_unspecified() => {
            address.ip()
        }
        _ => {
            eprintln!("no non-loopback address: skipped");
            return;
        }
    };
    let mut remote = TestApp::spawn_with(crate::helpers::Backend::Sqlite, |config| {
        config.listen = "0.0.0.0:0".parse().unwrap();
    })
    .await;
    let port = remote.base.rsplit(':').next().unwrap().to_owned();
    remote.base = format!("http://{ip}:{port}");
    let text = scrape(&remote).await;
    assert_eq!(value(&text, "kms_emulator_store_up"), 1.0);
    remote
        .raw(reqwest::Method::GET, "/_emulator/console", &[], Vec::new())
        .await
        .error(403, "EMULATOR.0403");
    remote.finish().await;
}
