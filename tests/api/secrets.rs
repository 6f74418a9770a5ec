//! Secrets never leave the process: not in logs (at the most verbose level, in both log
//! formats), not in responses, not in error messages. The service runs as its own process
//! with its log captured, and is driven through every credential path.

use std::process::Stdio;
use std::time::Duration;

use kms_emulator::auth::{aksk, sigv4};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{Backend, PROJECT, TestDb};

const MASTER_KEY: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";
const ALICE_SECRET_KEY: &str = "demo-alice-secret-key-0000000000000001";
const PLAINTEXT: &str = "the-plaintext-nobody-may-log";

struct Exchange {
    status: u16,
    raw: String,
    headers: HeaderMap,
}

async fn post(client: &reqwest::Client, url: &str, headers: &HeaderMap, body: &Value) -> Exchange {
    let response = client
        .post(url)
        .headers(headers.clone())
        .body(body.to_string())
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Exchange {
        status,
        raw: response.text().await.unwrap(),
        headers,
    }
}

fn token_headers(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-auth-token", HeaderValue::from_str(token).unwrap());
    headers
}

/// An AK/SK-signed request's headers; `secret_key` may be wrong on purpose.
fn signed_headers(base: &str, path: &str, secret_key: &str, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "host",
        HeaderValue::from_str(base.trim_start_matches("http://")).unwrap(),
    );
    headers.insert(
        "x-sdk-date",
        HeaderValue::from_str(&aksk::format_sdk_date(OffsetDateTime::now_utc())).unwrap(),
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-project-id", HeaderValue::from_static(PROJECT));
    let authorization = aksk::authorization_for(
        "DEMOALICEACCESSKEY01",
        secret_key,
        &aksk::RequestParts {
            method: "POST",
            path,
            query: None,
            headers: &headers,
            body,
        },
    )
    .unwrap();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&authorization).unwrap(),
    );
    headers
}

/// A SigV4-signed AWS `Encrypt` request's headers for alice's access key.
fn sigv4_headers(base: &str, secret_key: &str, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "host",
        HeaderValue::from_str(base.trim_start_matches("http://")).unwrap(),
    );
    headers.insert(
        "x-amz-date",
        HeaderValue::from_str(&sigv4::format_amz_date(OffsetDateTime::now_utc())).unwrap(),
    );
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    headers.insert(
        "x-amz-target",
        HeaderValue::from_static("TrentService.Encrypt"),
    );
    let authorization = sigv4::authorization_for(
        "DEMOALICEACCESSKEY01",
        secret_key,
        "eu-de",
        &sigv4::RequestParts {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body,
        },
    )
    .unwrap();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&authorization).unwrap(),
    );
    headers
}

/// Drives every credential path and every secret-bearing operation; returns the secrets
/// that were in play (some only known from the responses) and everything the client saw.
async fn exercise(base: &str) -> (Vec<String>, String) {
    let client = reqwest::Client::new();
    let kms = |action: &str| format!("{base}/v1.0/{PROJECT}/kms/{action}");
    let mut seen = String::new();
    let mut secrets = vec![
        "demo-token-alice".to_owned(),
        "alice-password".to_owned(),
        ALICE_SECRET_KEY.to_owned(),
        MASTER_KEY.to_owned(),
        PLAINTEXT.to_owned(),
    ];

    let login = json!({"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": "alice", "password": "alice-password",
                                           "domain": {"name": "demo-account"}}}},
        "scope": {"project": {"id": PROJECT}}}});
    let mut json_headers = HeaderMap::new();
    json_headers.insert("content-type", HeaderValue::from_static("application/json"));
    let issued = post(
        &client,
        &format!("{base}/v3/auth/tokens"),
        &json_headers,
        &login,
    )
    .await;
    assert_eq!(issued.status, 201, "{}", issued.raw);
    let iam_token = issued.headers["x-subject-token"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        !issued.raw.contains(&iam_token),
        "the token is a header, not body"
    );
    secrets.push(iam_token.clone());
    let mut wrong_login = login.clone();
    wrong_login["auth"]["identity"]["password"]["user"]["password"] = json!("guessed-password-1");
    let refused = post(
        &client,
        &format!("{base}/v3/auth/tokens"),
        &json_headers,
        &wrong_login,
    )
    .await;
    assert_eq!(refused.status, 401, "{}", refused.raw);
    secrets.push("guessed-password-1".to_owned());
    seen.push_str(&issued.raw);
    seen.push_str(&refused.raw);

    let created = post(
        &client,
        &kms("create-key"),
        &token_headers("demo-token-alice"),
        &json!({"key_alias": "secret-test"}),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.raw);
    let key_id = serde_json::from_str::<Value>(&created.raw).unwrap()["key_info"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sealed = post(
        &client,
        &kms("encrypt-data"),
        &token_headers(&iam_token),
        &json!({"key_id": key_id, "plain_text": PLAINTEXT}),
    )
    .await;
    assert_eq!(sealed.status, 200, "{}", sealed.raw);
    let data_key = post(
        &client,
        &kms("create-datakey"),
        &token_headers("demo-token-alice"),
        &json!({"key_id": key_id}),
    )
    .await;
    assert_eq!(data_key.status, 200, "{}", data_key.raw);
    let dek = serde_json::from_str::<Value>(&data_key.raw).unwrap()["plain_text"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(dek);
    seen.push_str(&created.raw);

    // AK/SK: a good signature, then one made with a wrong secret key.
    let path = format!("/v1.0/{PROJECT}/kms/list-keys");
    let body = json!({});
    let good = post(
        &client,
        &format!("{base}{path}"),
        &signed_headers(base, &path, ALICE_SECRET_KEY, body.to_string().as_bytes()),
        &body,
    )
    .await;
    assert_eq!(good.status, 200, "{}", good.raw);
    let forged = post(
        &client,
        &format!("{base}{path}"),
        &signed_headers(
            base,
            &path,
            "a-guessed-secret-key",
            body.to_string().as_bytes(),
        ),
        &body,
    )
    .await;
    assert_eq!(forged.status, 401, "{}", forged.raw);
    seen.push_str(&good.raw);
    seen.push_str(&forged.raw);
    // The AWS dialect with the same access key: SigV4, right and wrong secret.
    for (secret_key, status) in [(ALICE_SECRET_KEY, 200), ("another-guessed-secret", 400)] {
        let body =
            json!({"KeyId": key_id, "Plaintext": "dGhlLXBsYWludGV4dC1ub2JvZHktbWF5LWxvZw=="});
        let reply = post(
            &client,
            &format!("{base}/"),
            &sigv4_headers(base, secret_key, body.to_string().as_bytes()),
            &body,
        )
        .await;
        assert_eq!(reply.status, status, "{}", reply.raw);
        seen.push_str(&reply.raw);
    }
    secrets.push("another-guessed-secret".to_owned());
    // Unknown and expired-looking tokens are refused without being echoed.
    let unknown = post(
        &client,
        &kms("list-keys"),
        &token_headers("MIIa-token-someone-typed"),
        &json!({}),
    )
    .await;
    assert_eq!(unknown.status, 403, "{}", unknown.raw);
    secrets.push("MIIa-token-someone-typed".to_owned());
    seen.push_str(&unknown.raw);
    (secrets, seen)
}

async fn secrets_stay_out_of_logs_and_responses(backend: Backend, log_format: &str) {
    let db = TestDb::create(backend).await;
    // A password in the database URL is a secret too (trust auth ignores it).
    let database_url = db.url().replacen(
        "postgres://postgres@",
        "postgres://postgres:db-password-in-url@",
        1,
    );
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kms-emulator"))
        .args(["--listen", "127.0.0.1:0", "--database-url", &database_url])
        .args(["--master-key", MASTER_KEY, "--log-format", log_format])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
        .await
        .expect("the server prints its address")
        .unwrap()
        .unwrap();
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let mut stderr = child.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text)
            .await
            .unwrap();
        text
    });
    let mut printed = banner;
    let rest = tokio::spawn(async move {
        let mut text = String::new();
        while let Ok(Some(line)) = stdout.next_line().await {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });

    let (mut secrets, seen) = exercise(&base).await;
    secrets.push("db-password-in-url".to_owned());

    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("exits")
        .unwrap();
    let log = log.await.unwrap();
    printed.push_str(&rest.await.unwrap());
    assert!(
        log.lines().count() > 20,
        "the trace-level log was captured:\n{log}"
    );
    assert!(log.contains("response"), "request lines are logged:\n{log}");
    // A control: what is not secret is there to be found, so a search that finds nothing means something.
    for visible in [
        "/kms/encrypt-data",
        "/v3/auth/tokens",
        "APIGW.0301",
        "KMS.0302",
    ] {
        assert!(log.contains(visible), "{visible} should be logged:\n{log}");
    }
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "{secret} appears in the log"
        );
        // The start banner prints the built-in demo credentials on purpose: they are public
        // (README), like the sample keys of a cloud's documentation. Nothing else.
        let public_demo_credential =
            ["demo-token-alice", ALICE_SECRET_KEY, "alice-password"].contains(&secret.as_str());
        assert!(
            public_demo_credential || !printed.contains(secret.as_str()),
            "{secret} printed on stdout"
        );
        assert!(
            !seen.contains(secret.as_str()),
            "{secret} appears in a response body"
        );
    }
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_logs_and_responses_sqlite_pretty() {
    secrets_stay_out_of_logs_and_responses(Backend::Sqlite, "pretty").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_logs_and_responses_postgres_json() {
    secrets_stay_out_of_logs_and_responses(Backend::Postgres, "json").await;
}
