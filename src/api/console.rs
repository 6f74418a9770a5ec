//! The operator console: a small read-only web UI under `/_emulator/console`, answered to
//! the peers the operator API answers (loopback, or every peer with `--operator-api`).
//! Server-side HTML, no front-end build: the pages are strings written here, every stored
//! value goes through `esc` (or `url` inside links), and a Content-Security-Policy allows only
//! this module's own inline script and style (by hash). The script re-reads the same page every
//! few seconds and swaps its `#live` part in, so the page follows the store without a reload.
//!
//! Pages: the overview (projects and accounts with their key and grant counts), the keys
//! (`/keys`, optionally of one project), one key with its aliases and grants (`/keys/{id}`), and
//! the audit trail, newest first, filtered by project, key, event and outcome (`/audit`).
//! Data comes only through `service::views`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use sha2::Digest as _;

use super::AppState;
use super::operator::{Peer, admit, forbidden};
use crate::domain::{AuditEvent, AuditOutcome, AuditQuery, GranteeType, KeyState};
use crate::service::views::{KEY_PAGE_GRANTS, KeyView};
use crate::store::AuditEntry;

/// Where the console lives.
pub const PREFIX: &str = "/_emulator/console";
/// Keys on one page of `/keys`.
const KEYS_PER_PAGE: u32 = 100;
/// Records on one page of `/audit`.
const AUDIT_PER_PAGE: u32 = 100;
/// How often the pages re-read themselves.
const REFRESH_MS: u32 = 5000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PREFIX, get(overview))
        .route(&format!("{PREFIX}/keys"), get(keys))
        .route(&format!("{PREFIX}/keys/{{key_id}}"), get(key))
        .route(&format!("{PREFIX}/audit"), get(audit))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}\
header{background:#1f3a5f;color:#fff;padding:10px 20px;display:flex;gap:24px;align-items:baseline}\
header a{color:#dbe7ff;text-decoration:none;font-weight:600}header h1{font-size:18px;margin:0}\
main{padding:16px 20px}h2{font-size:17px;margin:18px 0 8px}\
table{border-collapse:collapse;background:#fff;font-size:13px;margin-bottom:12px}\
th,td{border:1px solid #d5dae1;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#e8edf4}td.num{text-align:right}code{font-size:12px}\
.state-enabled{color:#17692d;font-weight:600}.state-disabled{color:#8a5a00;font-weight:600}\
.state-pending_deletion{color:#a4161a;font-weight:600}.denied{background:#fdecec}\
.muted{color:#6b7480}.notice{background:#fff4d6;border:1px solid #e6c66b;padding:6px 10px}\
form.filters{display:flex;gap:10px;flex-wrap:wrap;align-items:end;margin-bottom:10px}\
form.filters label{display:flex;flex-direction:column;font-size:12px}\
td.id{max-width:14em;word-break:break-all}td .muted{font-size:12px}\
footer{padding:8px 20px;font-size:12px;color:#6b7480}";

/// Re-reads the page and swaps its `#live` part in (the new document's scripts do not run).
static SCRIPT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "(function(){{let n=0;setInterval(async function(){{\
if(document.getElementById('pause').checked)return;\
try{{const r=await fetch(location.href,{{headers:{{'accept':'text/html'}}}});if(!r.ok)return;\
const d=new DOMParser().parseFromString(await r.text(),'text/html');\
const fresh=d.getElementById('live');if(!fresh)return;\
document.getElementById('live').replaceWith(document.adoptNode(fresh));n+=1;\
const s=document.getElementById('refreshed');s.textContent=new Date().toISOString();\
s.dataset.count=String(n);}}catch(e){{}}}},{REFRESH_MS});}})();"
    )
});

fn sha256_source(text: &str) -> String {
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Only this module's script and style run; the page loads nothing from elsewhere and
/// fetches only itself.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let policy = format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; \
         img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        sha256_source(&SCRIPT),
        sha256_source(STYLE)
    );
    HeaderValue::from_str(&policy).expect("the policy is ASCII")
});

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query value or path segment (every byte but the unreserved ones).
fn url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A query string from the pairs whose value is not empty (`?a=1&b=2`, or nothing).
fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", url(value)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn state_name(state: KeyState) -> &'static str {
    super::state_label(state)
}

/// A principal ID with who it is, when the identities know it: a user's name and AWS ARN,
/// an account's (domain's) name and AWS account ID.
fn principal(state: &AppState, id: &str, kind: GranteeType) -> String {
    let known = match kind {
        GranteeType::User => state
            .identities
            .user_by_id(id)
            .map(|user| format!("user {} · {}", user.name, user.aws_arn)),
        GranteeType::Domain => state.identities.domain_by_id(id).map(|domain| {
            format!(
                "account {} · {}",
                domain.name,
                state.identities.account_of(id)
            )
        }),
    };
    format!(
        "<code>{}</code> <span class=\"muted\">({})</span>",
        esc(id),
        esc(&known.unwrap_or_else(|| kind.as_str().to_owned()))
    )
}

fn key_link(key_id: &str) -> String {
    format!(
        "<a href=\"{PREFIX}/keys/{}\"><code>{}</code></a>",
        esc(&url(key_id)),
        esc(key_id)
    )
}

/// A whole page: `live` is the part the script refreshes.
fn page(state: &AppState, title: &str, live: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · kms-emulator console</title><style>{STYLE}</style></head><body>\
<header><h1>kms-emulator console</h1><nav><a href=\"{PREFIX}\">Overview</a> · \
<a href=\"{PREFIX}/keys\">Keys</a> · <a href=\"{PREFIX}/audit\">Audit trail</a></nav></header>\
<main><h2>{title}</h2><div id=\"live\">{live}</div></main>\
<footer>Read-only. Store: {backend}; version {version}. Updates every {secs} s \
(<label><input type=\"checkbox\" id=\"pause\"> pause</label>); last update: \
<span id=\"refreshed\" data-count=\"0\">page load</span>.</footer>\
<script>{script}</script></body></html>",
        title = esc(title),
        backend = esc(state.kms.backend()),
        version = env!("CARGO_PKG_VERSION"),
        secs = REFRESH_MS / 1000,
        script = SCRIPT.as_str(),
    )
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn unavailable(state: &AppState, error: crate::store::StoreError) -> Response {
    tracing::warn!(%error, "console: the store did not answer");
    let status = match error {
        crate::store::StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    html(
        status,
        page(
            state,
            "Store unavailable",
            "<p class=\"notice\">The store did not answer; the page will retry.</p>",
        ),
    )
}

fn bad_request(state: &AppState, title: &str, message: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        page(
            state,
            title,
            &format!("<p class=\"notice\">{}</p>", esc(message)),
        ),
    )
}

type Params = Query<HashMap<String, String>>;

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> &'a str {
    params.get(name).map_or("", |v| v.trim())
}

fn cursor(params: &HashMap<String, String>) -> i64 {
    param(params, "after").parse().unwrap_or(0).max(0)
}

async fn overview(State(state): State<AppState>, peer: Peer) -> Response {
    if admit(&state, peer).is_none() {
        return forbidden();
    }
    let (projects, census) = match state.kms.console_overview().await {
        Ok(found) => found,
        Err(error) => return unavailable(&state, error),
    };
    let mut live = String::new();
    let total_keys: i64 = census.keys_by_state.iter().map(|(_, n)| n).sum();
    let _ = write!(
        live,
        "<p id=\"census\">{total_keys} keys, {} grants, {} projects with keys; schema version {}.</p>\
<table id=\"states\"><tr><th>Key state</th><th>Keys</th></tr>",
        census.grants, census.projects, census.schema_version
    );
    for (code, count) in &census.keys_by_state {
        let name = KeyState::from_code(*code)
            .map_or_else(|| format!("state {code}"), |s| state_name(s).into());
        let _ = write!(
            live,
            "<tr><td class=\"state-{0}\">{0}</td><td class=\"num\">{count}</td></tr>",
            esc(&name)
        );
    }
    live.push_str(
        "</table><table id=\"projects\"><tr><th>Project</th><th>Name</th><th>Domain (Huawei)</th>\
<th>Account (AWS)</th><th>Keys</th><th>Grants</th><th></th></tr>",
    );
    for project in &projects {
        let _ = write!(
            live,
            "<tr><td><a href=\"{PREFIX}/keys{q}\"><code>{id}</code></a></td><td>{name}</td>\
<td><code>{domain}</code></td><td><code>{account}</code></td><td class=\"num\">{keys}</td>\
<td class=\"num\">{grants}</td><td><a href=\"{PREFIX}/audit{q}\">audit</a></td></tr>",
            q = esc(&query_string(&[("project", &project.project_id)])),
            id = esc(&project.project_id),
            name = esc(project.name.as_deref().unwrap_or("")),
            domain = esc(&project.domain_id),
            account = esc(&project.account),
            keys = project.keys,
            grants = project.grants,
        );
    }
    live.push_str("</table>");
    if projects.is_empty() {
        live.push_str("<p class=\"muted\">No projects yet.</p>");
    }
    html(StatusCode::OK, page(&state, "Overview", &live))
}

/// A column of the keys table: its heading and how a key's cell is written (already escaped).
/// A new column (tags, rotation) is one more entry in `KEY_COLUMNS`.
struct KeyColumn {
    heading: &'static str,
    cell: fn(&KeyView) -> String,
}

const KEY_COLUMNS: &[KeyColumn] = &[
    KeyColumn {
        heading: "Key ID",
        cell: |v| key_link(v.key.key_id.as_str()),
    },
    KeyColumn {
        heading: "Project",
        cell: |v| format!("<code>{}</code>", esc(&v.key.project_id)),
    },
    KeyColumn {
        heading: "Alias (Huawei)",
        cell: |v| esc(&v.key.key_alias),
    },
    KeyColumn {
        heading: "Aliases (AWS)",
        cell: |v| {
            v.aliases
                .iter()
                .map(|a| format!("<code class=\"alias\">{}</code>", esc(a)))
                .collect::<Vec<_>>()
                .join("<br>")
        },
    },
    KeyColumn {
        heading: "Tags",
        cell: |v| {
            v.tags
                .iter()
                .map(|t| {
                    format!(
                        "<code class=\"tag\">{}={}</code>",
                        esc(&t.key),
                        esc(&t.value)
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>")
        },
    },
    KeyColumn {
        heading: "Rotation",
        cell: |v| {
            let automatic = if v.rotation_enabled { "on" } else { "off" };
            format!("{automatic}, version {}", v.version)
        },
    },
    KeyColumn {
        heading: "State",
        cell: |v| {
            let name = state_name(v.key.key_state);
            format!("<span class=\"state-{name}\">{name}</span>")
        },
    },
    KeyColumn {
        heading: "Spec",
        cell: |v| esc(&v.key.key_spec),
    },
    KeyColumn {
        heading: "Usage",
        cell: |v| esc(&v.key.key_usage),
    },
    KeyColumn {
        heading: "Origin",
        cell: |v| esc(&v.key.origin),
    },
    KeyColumn {
        heading: "Description",
        cell: |v| esc(&v.key.key_description),
    },
    KeyColumn {
        heading: "Created",
        cell: |v| esc(&when(v.key.creation_date)),
    },
];

async fn keys(State(state): State<AppState>, peer: Peer, Query(params): Params) -> Response {
    if admit(&state, peer).is_none() {
        return forbidden();
    }
    let project = param(&params, "project");
    let after = cursor(&params);
    let page_of_keys = match state
        .kms
        .console_keys(
            (!project.is_empty()).then_some(project),
            after,
            KEYS_PER_PAGE,
        )
        .await
    {
        Ok(page) => page,
        Err(error) => return unavailable(&state, error),
    };
    let mut live = String::new();
    let _ = write!(
        live,
        "<form class=\"filters\" method=\"get\"><label>Project<input name=\"project\" value=\"{}\"></label>\
<button type=\"submit\">Show</button></form><p>{} keys{}.</p><table id=\"keys\"><tr>",
        esc(project),
        page_of_keys.total,
        if project.is_empty() {
            String::new()
        } else {
            format!(" in project <code>{}</code>", esc(project))
        }
    );
    for column in KEY_COLUMNS {
        let _ = write!(live, "<th>{}</th>", column.heading);
    }
    live.push_str("</tr>");
    for view in &page_of_keys.items {
        let _ = write!(
            live,
            "<tr data-key-id=\"{}\">",
            esc(view.key.key_id.as_str())
        );
        for column in KEY_COLUMNS {
            let _ = write!(live, "<td>{}</td>", (column.cell)(view));
        }
        live.push_str("</tr>");
    }
    live.push_str("</table>");
    if let Some(next) = page_of_keys.next_after {
        let _ = write!(
            live,
            "<p><a id=\"next\" href=\"{PREFIX}/keys{}\">Next page</a></p>",
            esc(&query_string(&[
                ("project", project),
                ("after", &next.to_string())
            ]))
        );
    }
    html(StatusCode::OK, page(&state, "Keys", &live))
}

async fn key(State(state): State<AppState>, peer: Peer, Path(key_id): Path<String>) -> Response {
    if admit(&state, peer).is_none() {
        return forbidden();
    }
    let detail = match state.kms.console_key(&key_id).await {
        Ok(Some(detail)) => detail,
        Ok(None) => {
            return html(
                StatusCode::NOT_FOUND,
                page(
                    &state,
                    "Key not found",
                    &format!(
                        "<p class=\"notice\">No key has the ID <code>{}</code>.</p>",
                        esc(&key_id)
                    ),
                ),
            );
        }
        Err(error) => return unavailable(&state, error),
    };
    let key = &detail.key;
    let mut live = String::new();
    live.push_str("<table id=\"key\">");
    let rows: [(&str, String); 13] = [
        (
            "Key ID",
            format!("<code>{}</code>", esc(key.key_id.as_str())),
        ),
        (
            "Project",
            format!(
                "<a href=\"{PREFIX}/keys{}\"><code>{}</code></a>",
                esc(&query_string(&[("project", &key.project_id)])),
                esc(&key.project_id)
            ),
        ),
        (
            "Domain (Huawei)",
            format!("<code>{}</code>", esc(&key.domain_id)),
        ),
        (
            "Account (AWS)",
            format!("<code>{}</code>", esc(&detail.account)),
        ),
        (
            "Creator",
            format!("<code>{}</code>", esc(&key.creator_user_id)),
        ),
        ("Alias (Huawei)", esc(&key.key_alias)),
        ("Description", esc(&key.key_description)),
        (
            "State",
            format!(
                "<span class=\"state-{0}\">{0}</span>",
                state_name(key.key_state)
            ),
        ),
        ("Spec", esc(&key.key_spec)),
        ("Usage", esc(&key.key_usage)),
        ("Origin", esc(&key.origin)),
        ("Created", esc(&when(key.creation_date))),
        (
            "Deletion scheduled for",
            key.scheduled_deletion_date
                .map(|ms| esc(&when(ms)))
                .unwrap_or_default(),
        ),
    ];
    for (name, value) in rows {
        let _ = write!(live, "<tr><th>{name}</th><td>{value}</td></tr>");
    }
    live.push_str("</table>");
    let _ = write!(
        live,
        "<p><a href=\"{PREFIX}/audit{}\">Audit records of this key</a></p>",
        esc(&query_string(&[("key", key.key_id.as_str())]))
    );
    live.push_str("<h2>Aliases (AWS)</h2>");
    if detail.aliases.is_empty() {
        live.push_str("<p class=\"muted\" id=\"aliases\">None.</p>");
    } else {
        live.push_str(
            "<table id=\"aliases\"><tr><th>Alias</th><th>Created</th><th>Updated</th></tr>",
        );
        for alias in &detail.aliases {
            let _ = write!(
                live,
                "<tr><td><code class=\"alias\">{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&alias.alias_name),
                esc(&when(alias.creation_date)),
                esc(&when(alias.last_updated_date))
            );
        }
        live.push_str("</table>");
    }
    let _ = write!(live, "<h2>Grants ({})</h2>", detail.grants_total);
    if detail.grants_total > i64::from(KEY_PAGE_GRANTS) {
        let _ = write!(
            live,
            "<p class=\"notice\">The first {KEY_PAGE_GRANTS} of {} grants.</p>",
            detail.grants_total
        );
    }
    live.push_str(
        "<table id=\"grants\"><tr><th>Grant ID</th><th>Name</th><th>Grantee</th><th>Operations</th>\
<th>Constraint</th><th>Issuer</th><th>Retiring principal</th><th>Made through</th><th>Created</th></tr>",
    );
    for grant in &detail.grants {
        let operations: Vec<&str> = grant.operations.iter().map(|o| o.as_str()).collect();
        let _ = write!(
            live,
            "<tr class=\"grant\" data-grant-id=\"{id}\"><td class=\"id\"><code>{id}</code></td><td>{name}</td>\
<td>{grantee}</td><td>{operations}</td>\
<td><code>{constraint}</code></td><td>{issuer}</td><td>{retiring}</td>\
<td>{dialect}</td><td>{created}</td></tr>",
            id = esc(grant.grant_id.as_str()),
            name = esc(grant.name.as_deref().unwrap_or("")),
            grantee = principal(
                &state,
                &grant.grantee_principal,
                grant.grantee_principal_type
            ),
            operations = esc(&operations.join(", ")),
            constraint = esc(&grant
                .constraint
                .as_ref()
                .map(|c| c.to_stored())
                .unwrap_or_default()),
            issuer = principal(&state, &grant.issuing_principal, GranteeType::User),
            retiring = grant
                .retiring_principal
                .as_deref()
                .map(|p| principal(&state, p, grant.retiring_principal_type))
                .unwrap_or_default(),
            dialect = grant.dialect.map_or("(not recorded)", |d| d.as_str()),
            created = esc(&when(grant.creation_date)),
        );
    }
    live.push_str("</table>");
    html(StatusCode::OK, page(&state, "Key", &live))
}

async fn audit(State(state): State<AppState>, peer: Peer, Query(params): Params) -> Response {
    if admit(&state, peer).is_none() {
        return forbidden();
    }
    let project = param(&params, "project");
    let key_id = param(&params, "key");
    let event_name = param(&params, "event");
    let outcome_name = param(&params, "outcome");
    let event = match event_name {
        "" => None,
        name => match AuditEvent::parse(name) {
            Some(event) => Some(event),
            None => {
                return bad_request(
                    &state,
                    "Audit trail",
                    &format!("{name:?} is not an audit event."),
                );
            }
        },
    };
    let outcome = match outcome_name {
        "" => None,
        name => match AuditOutcome::parse(name) {
            Some(outcome) => Some(outcome),
            None => {
                return bad_request(
                    &state,
                    "Audit trail",
                    &format!("{name:?} is not an outcome (allowed or denied)."),
                );
            }
        },
    };
    let query = AuditQuery {
        key_id: (!key_id.is_empty()).then(|| key_id.to_owned()),
        actor_project_id: (!project.is_empty()).then(|| project.to_owned()),
        event,
        outcome,
        newest_first: true,
        ..AuditQuery::default()
    };
    let after = cursor(&params);
    let records = match state.kms.console_audit(&query, after, AUDIT_PER_PAGE).await {
        Ok(page) => page,
        Err(error) => return unavailable(&state, error),
    };
    let mut live = String::new();
    let _ = write!(
        live,
        "<form class=\"filters\" method=\"get\"><label>Project<input name=\"project\" value=\"{}\"></label>\
<label>Key ID<input name=\"key\" size=\"38\" value=\"{}\"></label><label>Event<select name=\"event\">\
<option value=\"\">any</option>",
        esc(project),
        esc(key_id)
    );
    for candidate in AuditEvent::ALL {
        let _ = write!(
            live,
            "<option{}>{}</option>",
            if Some(candidate) == event {
                " selected"
            } else {
                ""
            },
            candidate.as_str()
        );
    }
    live.push_str(
        "</select></label><label>Outcome<select name=\"outcome\"><option value=\"\">any</option>",
    );
    for candidate in [AuditOutcome::Allowed, AuditOutcome::Denied] {
        let _ = write!(
            live,
            "<option{}>{}</option>",
            if Some(candidate) == outcome {
                " selected"
            } else {
                ""
            },
            candidate.as_str()
        );
    }
    let _ = write!(
        live,
        "</select></label><button type=\"submit\">Filter</button></form>\
<p>{} matching records, newest first.</p><table id=\"audit\"><tr><th>Seq</th><th>Time</th>\
<th>Event</th><th>Outcome</th><th>Request</th><th>User</th><th>Project</th><th>Key</th>\
<th>Grant</th><th>Detail</th></tr>",
        records.total
    );
    for entry in &records.items {
        live.push_str(&audit_row(entry));
    }
    live.push_str("</table>");
    if let Some(next) = records.next_after {
        let _ = write!(
            live,
            "<p><a id=\"next\" href=\"{PREFIX}/audit{}\">Older records</a></p>",
            esc(&query_string(&[
                ("project", project),
                ("key", key_id),
                ("event", event_name),
                ("outcome", outcome_name),
                ("after", &next.to_string()),
            ]))
        );
    }
    html(StatusCode::OK, page(&state, "Audit trail", &live))
}

fn audit_row(entry: &AuditEntry) -> String {
    let record = match &entry.record {
        Ok(record) => record,
        Err(reason) => {
            // Not a row this service wrote: shown as stored, marked.
            return format!(
                "<tr class=\"unreadable\"><td class=\"num\">{}</td><td colspan=\"9\">unreadable row \
({}): <code>{}</code></td></tr>",
                entry.seq,
                esc(reason),
                esc(&serde_json::to_string(&entry.raw).unwrap_or_default())
            );
        }
    };
    let outcome = AuditOutcome::of(record.event);
    format!(
        "<tr class=\"record {outcome}\"><td class=\"num\">{seq}</td><td>{at}</td><td>{event}</td>\
<td>{outcome}</td><td><code>{request}</code></td><td><code>{user}</code></td><td><code>{project}</code></td>\
<td>{key}</td><td class=\"id\"><code>{grant}</code></td><td>{detail}</td></tr>",
        outcome = outcome.as_str(),
        seq = entry.seq,
        at = esc(&when(record.occurred_at)),
        event = record.event.as_str(),
        request = esc(&record.request_id),
        user = esc(&record.actor_user_id),
        project = esc(&record.actor_project_id),
        key = if record.key_id.is_empty() {
            String::new()
        } else {
            key_link(&record.key_id)
        },
        grant = esc(record.grant_id.as_deref().unwrap_or("")),
        detail = esc(&record.detail),
    )
}

#[cfg(test)]
mod tests {
    use super::{esc, query_string, url};

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(esc("plain 鍵"), "plain 鍵");
    }

    #[test]
    fn link_values_are_percent_encoded() {
        assert_eq!(url("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(
            query_string(&[("project", "p 1"), ("key", ""), ("after", "7")]),
            "?project=p%201&after=7"
        );
        assert_eq!(query_string(&[("key", "")]), "");
    }
}
