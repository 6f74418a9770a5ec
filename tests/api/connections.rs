//! Connection hardening (issue 15, finding 1): deadlines on slow and idle connections, and
//! a connection cap that leaves `/health` answering. Each failed against `axum::serve`, which
//! kept every such connection open for good. The connection layer does not touch the store,
//! so these run on SQLite only.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

use crate::helpers::{ALICE, Backend, ServerProcess, TestApp, TestDb};

fn host_port(base: &str) -> &str {
    base.trim_start_matches("http://")
}

async fn spawn(header_read_secs: u64, idle_secs: u64) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |config| {
        config.header_read_timeout_secs = header_read_secs;
        config.idle_timeout_secs = idle_secs;
    })
    .await
}

/// Reads until the server closes the connection (end of stream or reset), for at most
/// `within`: what arrived, or `None` when it is still open then.
async fn read_until_closed(reader: &mut OwnedReadHalf, within: Duration) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    closed.ok().map(|()| received)
}

/// Reads one `GET /health` response ("ok", 2 bytes of body) off a keep-alive connection.
async fn read_health_response(reader: &mut OwnedReadHalf) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(Duration::from_secs(5), async {
        while !received.ends_with(b"\r\n\r\nok") {
            let n = reader.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the response was complete");
            received.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("a response");
    String::from_utf8(received).unwrap()
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: kms\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_headers_is_cut_off_at_the_header_read_timeout() {
    let app = spawn(1, 30).await;
    let stream = TcpStream::connect(host_port(&app.base)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        writer.write_all(b"GET /health HTTP/1.1\r\n").await?;
        for i in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            writer
                .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
                .await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let received = read_until_closed(&mut reader, Duration::from_secs(6))
        .await
        .expect("the server closes a connection that trickles its headers");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "closed after {took:?}; the header-read timeout is 1 s"
    );
    assert!(
        received.is_empty(),
        "no response to an unfinished request: {}",
        String::from_utf8_lossy(&received)
    );
    trickle.abort();
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_cut_off_at_the_header_read_timeout() {
    // The idle timeout is long: a new connection owes its first request within the
    // header-read timeout.
    let app = spawn(1, 30).await;
    let stream = TcpStream::connect(host_port(&app.base)).await.unwrap();
    let (mut reader, _writer) = stream.into_split();
    let started = Instant::now();
    read_until_closed(&mut reader, Duration::from_secs(6))
        .await
        .expect("the server closes a connection that sends nothing");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "closed after {took:?}; the header-read timeout is 1 s"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_at_the_idle_timeout() {
    let app = spawn(1, 3).await;
    let stream = TcpStream::connect(host_port(&app.base)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(HEALTH).await.unwrap();
    assert!(
        read_health_response(&mut reader)
            .await
            .starts_with("HTTP/1.1 200")
    );
    // Idle for longer than the header-read timeout, shorter than the idle timeout: the
    // connection is still good for the next request.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    writer.write_all(HEALTH).await.unwrap();
    assert!(
        read_health_response(&mut reader)
            .await
            .starts_with("HTTP/1.1 200")
    );
    let idle_since = Instant::now();
    let received = read_until_closed(&mut reader, Duration::from_secs(8))
        .await
        .expect("the server closes an idle keep-alive connection");
    let took = idle_since.elapsed();
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    assert!(
        took >= Duration::from_millis(2700) && took < Duration::from_secs(5),
        "closed after {took:?} idle; the idle timeout is 3 s"
    );
    app.finish().await;
}

async fn huawei_list_keys(base: &str) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(format!("{base}/v1.0/{}/kms/list-keys", ALICE.project))
        .header("x-auth-token", ALICE.token)
        .body("{}")
        .timeout(Duration::from_secs(3))
        .send()
        .await
}

/// The finding: with the process limited to 128 file descriptors, 200 idle connections used
/// to leave `/health` unanswered. Now 40 are served, the overflow lane answers probes, and
/// everything else is refused in the dialect's format until the idle ones go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_health_still_answers() {
    let db = TestDb::create(Backend::Sqlite).await;
    let server = ServerProcess::start_with_open_files_limit(
        &db.url(),
        &[
            "--max-connections",
            "40",
            "--db-max-connections",
            "2",
            "--header-read-timeout-secs",
            "60",
            "--idle-timeout-secs",
            "60",
        ],
        128,
    )
    .await;
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(TcpStream::connect(host_port(&server.base)).await.unwrap());
    }
    // Let the server accept them all.
    tokio::time::sleep(Duration::from_millis(500)).await;

    for probe in ["/health", "/ready", "/metrics"] {
        let response = reqwest::Client::new()
            .get(format!("{}{probe}", server.base))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{probe} answers with the server full: {e}"));
        assert_eq!(response.status(), 200, "{probe}");
    }

    let refused = huawei_list_keys(&server.base)
        .await
        .expect("an answer, not a hang");
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["error_code"], "KMS.0104", "{body}");
    assert!(
        body["error"]["error_msg"]
            .as_str()
            .unwrap()
            .contains("connection limit"),
        "{body}"
    );
    let refused = reqwest::Client::new()
        .post(format!("{}/", server.base))
        .header("x-amz-target", "TrentService.ListKeys")
        .header("content-type", "application/x-amz-json-1.1")
        .body(json!({}).to_string())
        .timeout(Duration::from_secs(3))
        .send()
        .await
        .expect("an answer, not a hang");
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["__type"], "DependencyTimeoutException", "{body}");

    // Once the idle connections go, the service is whole again.
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = huawei_list_keys(&server.base).await.unwrap();
        if response.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still refused after the idle connections closed: {}",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = server.log();
    assert!(log.contains("connection limit reached"), "{log}");
    server.stop().await;
    db.drop_database().await;
}
