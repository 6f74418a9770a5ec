//! The embedded store's settings (issue 14). In memory (`--database-url sqlite::memory:`):
//! serves like the other stores (the HTTP suite runs on it through `on_every_backend!`), writes
//! no file, and its state goes with the process. Durability (`?synchronous=normal|full`).

use kms_emulator::Config;
use serde_json::json;

use crate::helpers::{ALICE, BOB, PROJECT};

async fn start(
    url: &str,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let mut config = Config::with_database(url);
    config.listen = "127.0.0.1:0".parse().unwrap();
    let app = kms_emulator::app::App::build(&config)
        .await
        .expect("the app starts");
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (base, stop, server)
}

async fn call(base: &str, token: &str, action: &str, body: serde_json::Value) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{base}/v1.0/{PROJECT}/kms/{action}"))
        .header("x-auth-token", token)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{action}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_state_lives_as_long_as_the_service() {
    let cwd_before: Vec<_> = std::fs::read_dir(".")
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let (base, stop, server) = start("sqlite::memory:").await;
    let key = call(
        &base,
        ALICE.token,
        "create-key",
        json!({"key_alias": "in-memory"}),
    )
    .await;
    let key_id = key["key_info"]["key_id"].as_str().unwrap().to_owned();
    call(
        &base,
        ALICE.token,
        "create-grant",
        json!({"key_id": key_id, "grantee_principal": BOB.id, "operations": ["encrypt-data", "decrypt-data"]}),
    )
    .await;
    let sealed = call(
        &base,
        BOB.token,
        "encrypt-data",
        json!({"key_id": key_id, "plain_text": "m"}),
    )
    .await;
    let opened = call(
        &base,
        BOB.token,
        "decrypt-data",
        json!({"cipher_text": sealed["cipher_text"]}),
    )
    .await;
    assert_eq!(opened["plain_text"], "m");
    let ready: serde_json::Value = reqwest::get(format!("{base}/ready"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["counts"]["keys"], 1, "{ready}");
    let _ = stop.send(());
    server.await.unwrap();
    // A new service on the same URL starts from nothing, and no file was written.
    let (base, stop, server) = start("sqlite::memory:").await;
    let keys = call(&base, ALICE.token, "list-keys", json!({})).await;
    assert_eq!(keys["total"], 0, "{keys}");
    let _ = stop.send(());
    server.await.unwrap();
    let cwd_after: Vec<_> = std::fs::read_dir(".")
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(cwd_before.len(), cwd_after.len(), "{cwd_after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durability_is_chosen_in_the_sqlite_url() {
    let dir = std::env::temp_dir().join(format!("kms-sync-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?synchronous=full", dir.join("kms.db").display());
    let (base, stop, server) = start(&url).await;
    let key = call(
        &base,
        ALICE.token,
        "create-key",
        json!({"key_alias": "durable"}),
    )
    .await;
    assert!(key["key_info"]["key_id"].is_string(), "{key}");
    let _ = stop.send(());
    server.await.unwrap();
    assert!(dir.join("kms.db").exists());
    let mut config = Config::with_database(format!(
        "sqlite://{}?synchronous=off",
        dir.join("kms.db").display()
    ));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let error = kms_emulator::app::App::build(&config)
        .await
        .err()
        .expect("refused");
    assert!(
        error.contains("use normal (the default) or full"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
