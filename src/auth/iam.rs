//! IAM: password authentication for `POST /v3/auth/tokens`, the tokens it issues, and
//! resolving an `X-Auth-Token` (static from the identities file, or issued) to a caller.
//!
//! Issued tokens live in the database as SHA-256 hashes, so every process sharing the
//! database accepts them, and a leaked dump holds no usable token.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::auth::identities::{DomainEntry, Identities, ProjectEntry, User};
use crate::domain::ids::excerpt;
use crate::domain::{Caller, KmsError};
use crate::store::{StoredToken, TokenStore};

/// Why a token request failed; the HTTP layer picks the status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IamError {
    /// Unknown domain or user, no password, or a wrong one: deliberately one answer for all.
    BadCredentials,
    /// Too many failed logins of this user name in the lockout window (IAM's login
    /// protection): refused whatever the password, until the window has passed.
    Locked,
    /// The request is not a password authentication IAM understands.
    BadRequest(String),
    /// Authenticated, but the requested scope is not the user's.
    ScopeDenied(String),
    /// Storing the token failed.
    Kms(KmsError),
}

impl IamError {
    pub fn message(&self) -> String {
        match self {
            Self::BadCredentials => "The username or password is wrong.".into(),
            // IAM's answer to a password API call for a locked user (IAM FAQ "Why Is My Account Locked?").
            Self::Locked => "The account is locked.".into(),
            Self::BadRequest(m) | Self::ScopeDenied(m) => m.clone(),
            Self::Kms(e) => e.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    auth: AuthSection,
}

#[derive(Deserialize)]
struct AuthSection {
    identity: IdentitySection,
    #[serde(default)]
    scope: Option<ScopeSection>,
}

#[derive(Deserialize)]
struct IdentitySection {
    methods: Vec<String>,
    #[serde(default)]
    password: Option<PasswordSection>,
}

#[derive(Deserialize)]
struct PasswordSection {
    user: PasswordUser,
}

#[derive(Deserialize)]
struct PasswordUser {
    #[serde(default)]
    name: Option<String>,
    password: String,
    #[serde(default)]
    domain: Option<DomainRef>,
}

#[derive(Deserialize)]
struct DomainRef {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct ScopeSection {
    #[serde(default)]
    project: Option<ProjectRef>,
    #[serde(default)]
    domain: Option<DomainRef>,
}

#[derive(Deserialize)]
struct ProjectRef {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    domain: Option<DomainRef>,
}

/// A token just issued, with what the response body describes.
pub struct IssuedToken<'i> {
    /// The secret itself: goes into `X-Subject-Token` and nowhere else.
    pub token: String,
    pub user: &'i User,
    pub domain: &'i DomainEntry,
    /// `None` for a domain-scoped token.
    pub project: Option<&'i ProjectEntry>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Equal-length comparison whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn resolve_domain<'i>(
    identities: &'i Identities,
    reference: &DomainRef,
) -> Option<&'i DomainEntry> {
    match (&reference.id, &reference.name) {
        (Some(id), _) => identities.domain_by_id(id),
        (None, Some(name)) => identities.domain_by_name(name),
        (None, None) => None,
    }
}

/// The failed-login policy: `max_failures` within `window_ms` lock the user for `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLockout {
    pub max_failures: u32,
    pub window_ms: i64,
}

/// The user a password request names, if it exists.
fn find_user<'i>(identities: &'i Identities, user: &PasswordUser) -> Option<&'i User> {
    user.domain
        .as_ref()
        .and_then(|d| resolve_domain(identities, d))
        .zip(user.name.as_deref())
        .and_then(|(domain, name)| identities.user_by_name(&domain.id, name))
}

/// Whose failed logins a password request counts toward: the user's id, or, for a name that
/// is no user, a stand-in derived from the names given, counted and locked the same way, so
/// a lockout tells nothing about which users exist.
fn login_subject(identities: &Identities, user: &PasswordUser) -> String {
    match find_user(identities, user) {
        Some(found) => found.id.clone(),
        None => {
            let domain = user.domain.as_ref();
            let given = [
                domain.and_then(|d| d.id.as_deref()).unwrap_or(""),
                domain.and_then(|d| d.name.as_deref()).unwrap_or(""),
                user.name.as_deref().unwrap_or(""),
            ]
            .join("\u{0}");
            format!("unknown:{}", crate::crypto::sha256_hex(given.as_bytes()))
        }
    }
}

/// Checks the password of a token request and finds the user.
///
/// The password comparison runs whether or not the user exists (against a dummy when
/// it does not), so neither the answer nor its timing tells who has an account.
fn check_password<'i>(
    identities: &'i Identities,
    user: &PasswordUser,
) -> Result<&'i User, IamError> {
    let found = find_user(identities, user);
    let stored = found.and_then(|u| u.password.as_deref());
    // Hashing first makes both sides 32 bytes, so the compare's length check leaks nothing.
    let expected = Sha256::digest(stored.unwrap_or("\u{0}no password\u{0}").as_bytes());
    let given = Sha256::digest(user.password.as_bytes());
    let matches = constant_time_eq(&expected, &given);
    match found {
        Some(u) if matches && stored.is_some() => Ok(u),
        _ => Err(IamError::BadCredentials),
    }
}

/// The project (or `None` for the user's domain) a token request is scoped to.
fn resolve_scope<'i>(
    identities: &'i Identities,
    user: &User,
    scope: Option<&ScopeSection>,
) -> Result<Option<&'i ProjectEntry>, IamError> {
    let Some(scope) = scope else {
        return Ok(None);
    };
    match (&scope.project, &scope.domain) {
        (Some(_), Some(_)) => Err(IamError::BadRequest(
            "scope names both a project and a domain; give one.".into(),
        )),
        (Some(project), None) => {
            let denied = || {
                IamError::ScopeDenied(format!(
                    "user {} has no access to the requested project.",
                    user.name
                ))
            };
            let entry = match (&project.id, &project.name) {
                (Some(id), _) => identities.project_by_id(id),
                (None, Some(name)) => {
                    let domain_id = match &project.domain {
                        Some(d) => resolve_domain(identities, d).ok_or_else(denied)?.id.clone(),
                        None => user.domain_id.clone(),
                    };
                    identities
                        .projects()
                        .iter()
                        .find(|p| &p.name == name && p.domain_id == domain_id)
                }
                (None, None) => {
                    return Err(IamError::BadRequest(
                        "scope.project needs an id or a name.".into(),
                    ));
                }
            }
            .ok_or_else(denied)?;
            if !user.projects.contains(&entry.id) {
                return Err(denied());
            }
            Ok(Some(entry))
        }
        (None, Some(domain)) => match resolve_domain(identities, domain) {
            Some(d) if d.id == user.domain_id => Ok(None),
            _ => Err(IamError::ScopeDenied(format!(
                "user {} has no access to the requested domain.",
                user.name
            ))),
        },
        (None, None) => Err(IamError::BadRequest(
            "scope needs a project or a domain.".into(),
        )),
    }
}

fn new_token() -> Result<String, IamError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| IamError::Kms(KmsError::Internal))?;
    // Real IAM tokens are long opaque strings starting "MII"; clients treat them as opaque.
    Ok(format!("MIIkms{}", crate::hex::lower(&bytes)))
}

/// Decodes a `POST /v3/auth/tokens` body, checks the password and resolves the scope:
/// the user and the project (`None` for a domain-scoped token). Pure, so the fuzz
/// target `iam_token_request` can drive it without a store.
pub fn authenticate_token_request<'i>(
    identities: &'i Identities,
    body: &[u8],
) -> Result<(&'i User, Option<&'i ProjectEntry>), IamError> {
    let request = parse_token_request(body)?;
    let user = check_password(identities, password_user(&request)?)?;
    let project = resolve_scope(identities, user, request.auth.scope.as_ref())?;
    Ok((user, project))
}

fn parse_token_request(body: &[u8]) -> Result<TokenRequest, IamError> {
    serde_json::from_slice(body).map_err(|e| {
        IamError::BadRequest(format!(
            "the body is not a token request ({e}); send {{\"auth\":{{\"identity\":{{\"methods\":[\"password\"],\"password\":{{\"user\":{{\"name\":..,\"password\":..,\"domain\":{{\"name\":..}}}}}}}},\"scope\":{{\"project\":{{\"id\":..}}}}}}}}."
        ))
    })
}

fn password_user(request: &TokenRequest) -> Result<&PasswordUser, IamError> {
    let identity = &request.auth.identity;
    identity
        .password
        .as_ref()
        .filter(|_| identity.methods.iter().any(|m| m == "password"))
        .map(|p| &p.user)
        .ok_or_else(|| {
            IamError::BadRequest(
                "only the password method is supported: methods must list \"password\" and identity.password must be given.".into(),
            )
        })
}

/// Checks the password of a request under the lockout: a locked subject is refused before
/// its password is looked at; a failure is counted in the database (so every process sharing
/// it counts together); a success forgets the failures.
async fn check_password_guarded<'i>(
    identities: &'i Identities,
    store: &dyn TokenStore,
    user: &PasswordUser,
    now_ms: i64,
    lockout: Option<LoginLockout>,
) -> Result<&'i User, IamError> {
    let Some(lockout) = lockout else {
        return check_password(identities, user);
    };
    let kms = |e: crate::store::StoreError| IamError::Kms(e.into());
    let subject = login_subject(identities, user);
    let guard = store.login_guard(&subject).await.map_err(kms)?;
    if guard.is_some_and(|g| g.locked_until > now_ms) {
        return Err(IamError::Locked);
    }
    match check_password(identities, user) {
        Ok(found) => {
            if guard.is_some() {
                store.clear_login_failures(&subject).await.map_err(kms)?;
            }
            Ok(found)
        }
        Err(error) => {
            store
                .record_login_failure(&subject, now_ms, lockout.max_failures, lockout.window_ms)
                .await
                .map_err(kms)?;
            Err(error)
        }
    }
}

/// Handles a `POST /v3/auth/tokens` body: authenticates (under the lockout, when one is
/// set), resolves the scope, stores the token.
pub async fn issue_token<'i>(
    identities: &'i Identities,
    store: &dyn TokenStore,
    body: &[u8],
    now: OffsetDateTime,
    lifetime: Duration,
    lockout: Option<LoginLockout>,
) -> Result<IssuedToken<'i>, IamError> {
    let request = parse_token_request(body)?;
    let user = check_password_guarded(
        identities,
        store,
        password_user(&request)?,
        unix_ms(now),
        lockout,
    )
    .await?;
    let project = resolve_scope(identities, user, request.auth.scope.as_ref())?;
    let domain = identities
        .domain_by_id(&user.domain_id)
        .ok_or(IamError::Kms(KmsError::Internal))?;
    let token = new_token()?;
    let issued_at = now;
    let expires_at = now + lifetime;
    let record = StoredToken {
        token_sha256: crate::crypto::sha256_hex(token.as_bytes()),
        user_id: user.id.clone(),
        project_id: project.map(|p| p.id.clone()),
        issued_at: unix_ms(issued_at),
        expires_at: unix_ms(expires_at),
    };
    store
        .insert_token(&record, unix_ms(now))
        .await
        .map_err(|e| IamError::Kms(e.into()))?;
    Ok(IssuedToken {
        token,
        user,
        domain,
        project,
        issued_at,
        expires_at,
    })
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// What an `X-Auth-Token` may be used for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenScope {
    /// A static token with no project: any project the user belongs to.
    UsersProjects,
    Project(String),
    /// A domain-scoped IAM token: good for IAM calls, not for project services like KMS.
    Domain,
}

#[derive(Debug)]
pub struct TokenHolder<'i> {
    pub user: &'i User,
    pub scope: TokenScope,
}

/// Resolves an `X-Auth-Token`: the identities file's static tokens first, then issued ones.
pub async fn token_holder<'i>(
    identities: &'i Identities,
    store: &dyn TokenStore,
    token: Option<&str>,
    now: OffsetDateTime,
) -> Result<TokenHolder<'i>, KmsError> {
    let token = match token {
        None => {
            return Err(KmsError::AuthMissing(
                "send the X-Auth-Token header.".into(),
            ));
        }
        Some("") => {
            return Err(KmsError::AuthMissing(
                "the X-Auth-Token header is empty.".into(),
            ));
        }
        Some(token) => token,
    };
    if let Some((user, project, expires_at)) = identities.static_token(token) {
        if expires_at.is_some_and(|expiry| expiry <= now) {
            return Err(KmsError::AuthExpired);
        }
        let scope = match project {
            Some(p) => TokenScope::Project(p.to_owned()),
            None => TokenScope::UsersProjects,
        };
        return Ok(TokenHolder { user, scope });
    }
    let record = store
        .find_token(&crate::crypto::sha256_hex(token.as_bytes()))
        .await?
        .ok_or(KmsError::AuthInvalid)?;
    if record.expires_at <= unix_ms(now) {
        return Err(KmsError::AuthExpired);
    }
    // A user removed from the identities file loses its tokens too.
    let user = identities
        .user_by_id(&record.user_id)
        .ok_or(KmsError::AuthInvalid)?;
    let scope = match record.project_id {
        Some(p) => TokenScope::Project(p),
        None => TokenScope::Domain,
    };
    Ok(TokenHolder { user, scope })
}

/// The caller a token holder becomes in the URL's project.
pub fn caller_in_project(
    identities: &Identities,
    holder: &TokenHolder<'_>,
    url_project: &str,
    request_id: &str,
) -> Result<Caller, KmsError> {
    match &holder.scope {
        TokenScope::UsersProjects => {
            identities.caller_for_project(holder.user, None, url_project, request_id)
        }
        // Membership is checked again: an AK/SK caller names its project in a header,
        // and the identities file may have changed since a token was issued.
        TokenScope::Project(p) => identities
            .caller_for_project(holder.user, Some(p), url_project, request_id)
            .and_then(|_| {
                identities.caller_for_project(holder.user, None, url_project, request_id)
            }),
        TokenScope::Domain => Err(KmsError::ProjectMismatch(format!(
            "the token is scoped to a domain, not to project {}; request a project-scoped token.",
            excerpt(url_project)
        ))),
    }
}

/// The user's projects, optionally only those called `name` (IAM `GET /v3/projects?name=`).
pub fn projects_of<'i>(
    identities: &'i Identities,
    user: &User,
    name: Option<&str>,
) -> Vec<&'i ProjectEntry> {
    identities
        .projects()
        .iter()
        .filter(|p| user.projects.contains(&p.id))
        .filter(|p| name.is_none_or(|n| p.name == n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str, password: &str, domain: &str, scope: &str) -> Vec<u8> {
        format!(
            r#"{{"auth":{{"identity":{{"methods":["password"],"password":{{"user":{{"name":"{name}","password":"{password}","domain":{{"name":"{domain}"}}}}}}}}{scope}}}}}"#
        )
        .into_bytes()
    }

    fn parse(body: &[u8]) -> TokenRequest {
        serde_json::from_slice(body).unwrap()
    }

    #[test]
    fn wrong_user_password_or_domain_get_one_answer() {
        let ids = Identities::demo();
        let ok = parse(&request("alice", "alice-password", "demo-account", ""));
        assert_eq!(
            check_password(&ids, &ok.auth.identity.password.unwrap().user)
                .unwrap()
                .name,
            "alice"
        );
        for (name, password, domain) in [
            ("alice", "wrong", "demo-account"),
            ("alice", "", "demo-account"),
            ("nobody", "alice-password", "demo-account"),
            ("alice", "alice-password", "other-account"),
            ("alice", "alice-password", "no-such-account"),
            ("erin", "alice-password", "other-account"),
        ] {
            let r = parse(&request(name, password, domain, ""));
            let result = check_password(&ids, &r.auth.identity.password.unwrap().user);
            assert_eq!(
                result.err(),
                Some(IamError::BadCredentials),
                "{name}/{domain}"
            );
        }
    }

    #[test]
    fn scopes_resolve_to_the_users_own_projects_and_domain() {
        let ids = Identities::demo();
        let alice = ids
            .user_by_name("b168fe00ff56492495a7d22974df2d0b", "alice")
            .unwrap();
        let scope = |json: &str| -> Result<Option<String>, IamError> {
            let s: ScopeSection = serde_json::from_str(json).unwrap();
            resolve_scope(&ids, alice, Some(&s)).map(|p| p.map(|p| p.id.clone()))
        };
        let own = Some("0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c".to_owned());
        assert_eq!(
            scope(r#"{"project":{"id":"0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"}}"#),
            Ok(own.clone())
        );
        assert_eq!(scope(r#"{"project":{"name":"eu-de"}}"#), Ok(own.clone()));
        assert_eq!(
            scope(r#"{"project":{"name":"eu-de","domain":{"name":"demo-account"}}}"#),
            Ok(own)
        );
        assert_eq!(scope(r#"{"domain":{"name":"demo-account"}}"#), Ok(None));
        for denied in [
            r#"{"project":{"id":"7e1d2c3b4a5f4e6d8c9b0a1f2e3d4c5b"}}"#,
            r#"{"project":{"name":"eu-de","domain":{"name":"other-account"}}}"#,
            r#"{"project":{"name":"eu-nl"}}"#,
            r#"{"domain":{"id":"c279af11aa67403586b8e33085ae3e1c"}}"#,
        ] {
            assert!(
                matches!(scope(denied), Err(IamError::ScopeDenied(_))),
                "{denied}"
            );
        }
        assert!(matches!(scope(r#"{}"#), Err(IamError::BadRequest(_))));
    }

    #[test]
    fn domain_scoped_tokens_do_not_reach_projects() {
        let ids = Identities::demo();
        let alice = &ids.users()[0];
        let holder = TokenHolder {
            user: alice,
            scope: TokenScope::Domain,
        };
        assert!(matches!(
            caller_in_project(&ids, &holder, "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c", "r"),
            Err(KmsError::ProjectMismatch(_))
        ));
        assert_eq!(projects_of(&ids, alice, Some("eu-de")).len(), 1);
        assert!(projects_of(&ids, alice, Some("eu-nl")).is_empty());
    }

    #[test]
    fn constant_time_eq_compares_whole_slices() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
