//! `GET /openapi.json`: an OpenAPI 3.0 document of the Huawei/OTC dialect.
//!
//! The document is a static file so it costs no dependency and reads as what clients
//! get; `tests/api/openapi.rs` checks it names every action the dispatcher serves, and
//! `clients/schemathesis/run.sh` checks the running server against it. The field
//! constraints in it are the ones the handlers enforce (spec §5.3, §7, §8).

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;

pub const DOCUMENT: &str = include_str!("openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(document))
}

async fn document() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_json() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.0."));
        assert!(doc["paths"].as_object().unwrap().len() > 19);
    }
}
