//! The slice of the IAM API that KMS clients need, in IAM's wire format:
//! `POST /v3/auth/tokens` (password) and `GET /v3/projects?name=` (project discovery).
//! The logic lives in `auth::iam`.

use std::sync::LazyLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use regex::Regex;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use super::credentials::{self, Request};
use super::huawei::error::error_response;
use super::{AppState, LoggedErrorCode, RequestId};
use crate::auth::aksk;
use crate::auth::iam::{self, IamError, IssuedToken};
use crate::auth::identities::{DomainEntry, ProjectEntry};

/// A fixed id for the one role tokens carry, so responses are stable.
const TE_ADMIN_ROLE_ID: &str = "6d1b5ad5e2ac4a0db4d6b0bc45dc3f1e";

static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$")
        .unwrap()
});

pub fn routes(max_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/v3", get(identity_version))
        .route("/v3/", get(identity_version))
        .route("/v3/auth/tokens", post(issue_token))
        .route("/v3/projects", get(list_projects))
        .layer(DefaultBodyLimit::max(max_body_bytes))
}

/// Keystone's version document, which keystoneauth (openstacksdk, otcextensions) fetches
/// from `auth_url` before it authenticates; without it every connect logs "Failed to
/// discover available identity versions". The links name the host the client used.
async fn identity_version(headers: HeaderMap) -> Json<serde_json::Value> {
    Json(json!({ "version": identity_version_entry(&headers) }))
}

/// The identity v3 entry of a version list: `GET /v3` answers it alone, and `GET /`
/// (KMS's version list) carries it after KMS's own v1.0, so keystoneauth also finds the
/// identity API from an `auth_url` without `/v3`.
pub(super) fn identity_version_entry(headers: &HeaderMap) -> Value {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            host.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("127.0.0.1:8080");
    json!({
        "id": "v3.0",
        "status": "stable",
        "updated": "2018-09-05T00:00:00Z",
        "links": [{"rel": "self", "href": format!("http://{host}/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    })
}

/// IAM answers errors in Keystone's shape, which the Huawei SDKs and keystoneauth both parse.
fn iam_error(status: StatusCode, title: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "title": title, "message": message}});
    let mut response = (status, Json(body)).into_response();
    response
        .extensions_mut()
        .insert(LoggedErrorCode(match status {
            StatusCode::UNAUTHORIZED => "IAM.401",
            _ => "IAM.400",
        }));
    response
}

fn iam_failure(error: IamError, request_id: &RequestId) -> Response {
    match error {
        IamError::BadCredentials | IamError::Locked | IamError::ScopeDenied(_) => {
            iam_error(StatusCode::UNAUTHORIZED, "Unauthorized", &error.message())
        }
        IamError::BadRequest(_) => {
            iam_error(StatusCode::BAD_REQUEST, "Bad Request", &error.message())
        }
        IamError::Kms(e) => error_response(e, request_id),
    }
}

/// The timestamp format of IAM token bodies: `2026-11-25T18:00:00.000000Z`.
fn iam_time(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_default()
}

fn domain_json(domain: &DomainEntry) -> Value {
    json!({"id": domain.id, "name": domain.name})
}

/// `host[:port]` from the Host header, so the catalog points back at this server
/// under whatever name the client used; `127.0.0.1` when the header is absent or odd.
fn advertised_host(headers: &HeaderMap) -> String {
    headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .filter(|h| HOST.is_match(h))
        .unwrap_or("127.0.0.1")
        .to_owned()
}

fn token_body(state: &AppState, issued: &IssuedToken<'_>, host: &str, catalog: bool) -> Value {
    let mut token = json!({
        "expires_at": iam_time(issued.expires_at),
        "issued_at": iam_time(issued.issued_at),
        "methods": ["password"],
        "user": {
            "id": issued.user.id,
            "name": issued.user.name,
            "domain": domain_json(issued.domain),
            "password_expires_at": "",
        },
        "roles": [{"id": TE_ADMIN_ROLE_ID, "name": "te_admin"}],
    });
    match issued.project {
        Some(project) => {
            token["project"] = json!({"id": project.id, "name": project.name, "domain": domain_json(issued.domain)});
        }
        None => token["domain"] = domain_json(issued.domain),
    }
    if catalog {
        // Project-scoped: the project is filled in, as IAM does, with its region's
        // endpoint; otherwise the template, with an endpoint in every served region.
        let tenant = issued.project.map_or("$(tenant_id)s", |p| p.id.as_str());
        let regions: Vec<&str> = match issued.project {
            Some(project) => vec![state.identities.project_region(&project.id)],
            None => state
                .identities
                .regions()
                .names()
                .iter()
                .map(String::as_str)
                .collect(),
        };
        let endpoints: Vec<Value> = regions
            .into_iter()
            .enumerate()
            .map(|(index, region)| {
                json!({
                    // The first endpoint keeps the ID it had before regions.
                    "id": format!("1f2e3d4c5b6a47980a1b2c3d4e5f6a{:02x}", 0x7b + index),
                    "interface": "public",
                    "region": region,
                    "region_id": region,
                    "url": format!("http://{host}/v1.0/{tenant}"),
                })
            })
            .collect();
        token["catalog"] = json!([{
            "type": "kms",
            "name": "kms",
            "id": "9e5a5c1f4a2d4b3c8e7f6a5b4c3d2e1f",
            "endpoints": endpoints,
        }]);
    }
    json!({"token": token})
}

fn nocatalog(query: Option<&str>) -> bool {
    // IAM omits the catalog for `nocatalog` with any value.
    query
        .unwrap_or("")
        .split('&')
        .any(|p| p.split('=').next() == Some("nocatalog"))
}

async fn issue_token(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match credentials::read_body(&body, state.max_body_bytes) {
        Ok(body) => body,
        Err(_) => {
            return iam_failure(
                IamError::BadRequest("the body could not be read or is too large.".into()),
                &request_id,
            );
        }
    };
    let issued = match iam::issue_token(
        &state.identities,
        state.tokens.as_ref(),
        body,
        OffsetDateTime::now_utc(),
        state.token_lifetime,
        state.login_lockout,
    )
    .await
    {
        Ok(issued) => issued,
        Err(error) => return iam_failure(error, &request_id),
    };
    let host = advertised_host(&headers);
    let body = token_body(&state, &issued, &host, !nocatalog(query.as_deref()));
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&issued.token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    response
}

fn project_json(project: &ProjectEntry, host: &str) -> Value {
    json!({
        "id": project.id,
        "name": project.name,
        "domain_id": project.domain_id,
        "parent_id": project.domain_id,
        "description": "",
        "enabled": true,
        "is_domain": false,
        "links": {"self": format!("http://{host}/v3/projects/{}", project.id)},
    })
}

async fn list_projects(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = Request {
        method: &method,
        uri: &uri,
        headers: &headers,
    };
    let signed_body = match credentials::signed_body(&headers, &body, state.max_body_bytes) {
        Ok(signed_body) => signed_body,
        Err(error) => return error_response(error, &request_id),
    };
    let user = match credentials::authenticated_user(&state, request, signed_body).await {
        Ok((user, _scope)) => user,
        Err(error) => return error_response(error, &request_id),
    };
    let name = uri.query().and_then(|q| {
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (aksk::url_decode(k) == "name").then(|| aksk::url_decode(v))
        })
    });
    let host = advertised_host(&headers);
    let projects: Vec<Value> = iam::projects_of(&state.identities, user, name.as_deref())
        .into_iter()
        .map(|p| project_json(p, &host))
        .collect();
    Json(json!({
        "projects": projects,
        "links": {"self": format!("http://{host}/v3/projects"), "previous": null, "next": null},
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn token_times_have_microseconds() {
        assert_eq!(
            iam_time(datetime!(2026-11-25 18:00:00.5 UTC)),
            "2026-11-25T18:00:00.500000Z"
        );
    }

    #[test]
    fn hosts_are_checked_before_they_reach_the_catalog() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("kms.local:18080"));
        assert_eq!(advertised_host(&headers), "kms.local:18080");
        headers.insert("host", HeaderValue::from_static("evil\"/x"));
        assert_eq!(advertised_host(&headers), "127.0.0.1");
        headers.insert("host", HeaderValue::from_static("[::1]:8080"));
        assert_eq!(advertised_host(&headers), "[::1]:8080");
    }

    #[test]
    fn nocatalog_takes_any_value() {
        assert!(nocatalog(Some("nocatalog=true")));
        assert!(nocatalog(Some("a=1&nocatalog")));
        assert!(!nocatalog(Some("catalog=1")));
        assert!(!nocatalog(None));
    }
}
