//! `GET /openapi.json` documents exactly the actions the dispatcher serves, and what it
//! says a request must carry is what the server asks for.

use serde_json::{Value, json};

use crate::helpers::{ALICE, ALL_ACTIONS, PATH_ACTIONS, TestApp};

const KMS_PATH: &str = "/v1.0/{project_id}/kms/";

/// Follows a local `$ref` (`#/components/...`) until a schema that is not a reference.
fn resolve<'d>(doc: &'d Value, mut node: &'d Value) -> &'d Value {
    while let Some(reference) = node["$ref"].as_str() {
        let pointer = reference.strip_prefix('#').expect("local reference");
        node = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling reference {reference}"));
    }
    node
}

async fn document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "served as JSON"
    );
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0."));
    doc
}

async fn every_action_is_documented_and_nothing_else(app: &TestApp) {
    let doc = document(app).await;
    let served_by = |method: &str| -> Vec<&str> {
        let mut paths: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, item)| item.get(method).is_some())
            .filter_map(|(path, _)| path.strip_prefix(KMS_PATH))
            .collect();
        paths.sort();
        paths
    };
    fn with_params(method: &'static str) -> impl Iterator<Item = &'static str> {
        PATH_ACTIONS
            .iter()
            .filter(move |(m, _)| *m == method)
            .map(|(_, p)| *p)
    }
    let mut expected_get: Vec<&str> = [
        "aliases",
        "key-policies",
        "tags",
        "user-instances",
        "user-quotas",
    ]
    .into_iter()
    .chain(with_params("get"))
    .collect();
    expected_get.sort();
    assert_eq!(served_by("get"), expected_get);
    let mut expected_delete: Vec<&str> = ["aliases"]
        .into_iter()
        .chain(with_params("delete"))
        .collect();
    expected_delete.sort();
    assert_eq!(served_by("delete"), expected_delete);
    let mut expected: Vec<&str> = ALL_ACTIONS.into_iter().chain(with_params("post")).collect();
    expected.sort();
    assert_eq!(served_by("post"), expected);
    for method in ["post", "get", "delete"] {
        for action in served_by(method) {
            let operation = &doc["paths"][format!("{KMS_PATH}{action}")][method];
            let responses = operation["responses"].as_object().unwrap();
            // The success: 200 or 201 with a body, or 204 without one.
            let success: Vec<&String> = responses.keys().filter(|s| s.starts_with('2')).collect();
            assert_eq!(success.len(), 1, "{method} {action}: one success status");
            let mut statuses = vec!["400", "401", "403", "404", "500", "503"];
            if success[0] != "204" {
                statuses.push(success[0]);
            }
            for status in statuses {
                let response = resolve(&doc, &operation["responses"][status]);
                let schema = &response["content"]["application/json"]["schema"];
                assert!(schema.is_object(), "{method} {action} documents {status}");
                // Every reference inside resolves.
                let text = schema.to_string();
                for reference in text.split("\"$ref\":\"").skip(1) {
                    let target = reference.split('"').next().unwrap();
                    assert!(
                        doc.pointer(target.trim_start_matches('#')).is_some(),
                        "{action}: dangling {target}"
                    );
                }
            }
        }
    }
}

/// An empty body gets "missing parameter", naming a documented required field,
/// exactly for the actions whose documented request has required fields; the others
/// answer 200.
async fn documented_required_fields_are_the_ones_the_server_requires(app: &TestApp) {
    let doc = document(app).await;
    for action in ALL_ACTIONS {
        let operation = &doc["paths"][format!("{KMS_PATH}{action}")]["post"];
        let schema = resolve(
            &doc,
            &operation["requestBody"]["content"]["application/json"]["schema"],
        );
        let required = schema["required"].as_array().map_or(0, Vec::len);
        let reply = app.call(ALICE, action, json!({})).await;
        if required == 0 {
            assert!(
                (200..300).contains(&reply.status),
                "{action}: {}",
                reply.raw
            );
            assert_eq!(operation["requestBody"]["required"], false, "{action}");
        } else {
            reply.error(400, "KMS.0204");
            let names: Vec<&str> = schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            let message = reply.body["error"]["error_msg"].as_str().unwrap();
            assert!(
                names.iter().any(|name| message.contains(name)),
                "{action}: the server asks for one of the documented {names:?}: {}",
                reply.raw
            );
        }
    }
}

crate::on_both_backends!(
    every_action_is_documented_and_nothing_else,
    documented_required_fields_are_the_ones_the_server_requires
);
