//! Users, projects, accounts (domains) and their credentials, from one JSON file.
//!
//! The file is read once at start; it is configuration, not mutable state, so every
//! process sharing a database can load the same file. The format is documented in
//! the README ("Identities file").

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use std::sync::Arc;

use serde_json::Value;

use crate::domain::authz::IdentityPolicies;
use crate::domain::authz::policy::{Kind, Language, PolicyDocument};
use crate::domain::authz::system;
use crate::domain::ids::excerpt;
use crate::domain::region::Regions;
use crate::domain::{Caller, Key, KmsError, PrincipalId};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentitiesFile {
    #[serde(default)]
    domains: Vec<DomainEntry>,
    #[serde(default)]
    projects: Vec<ProjectEntry>,
    users: Vec<UserEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainEntry {
    pub id: String,
    pub name: String,
    /// The 12-digit AWS account ID the AWS dialect shows for this domain (in ARNs).
    /// Optional: when absent, `default_aws_account_id` derives one from the domain ID.
    #[serde(default)]
    pub aws_account_id: Option<String>,
    /// Policies attached to every user of the account (see `UserEntry::policies`).
    #[serde(default)]
    pub policies: Vec<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectEntry {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    /// The region the project belongs to. Optional: when absent, the region the project is
    /// named after (`eu-nl`, `eu-nl_team`) if served, else the default region
    /// (`Regions::of_project`); set for every project by `Identities::with_regions`.
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    id: String,
    name: String,
    domain_id: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    projects: Vec<String>,
    #[serde(default)]
    tokens: Vec<TokenEntry>,
    #[serde(default)]
    access_keys: Vec<AccessKeyEntry>,
    /// The IAM principal ARN the AWS dialect shows for this user, e.g.
    /// `arn:aws:iam::111122223333:role/deployer`. Optional: the default is
    /// `arn:aws:iam::<account>:user/<name>`.
    #[serde(default)]
    aws_arn: Option<String>,
    /// Identity policies: the name of a system or managed policy ("KMS Administrator",
    /// "arn:aws:iam::aws:policy/ReadOnlyAccess", ...) or a policy document in either
    /// cloud's language (its `Version` says which: "1.1" Huawei, "2012-10-17" AWS).
    #[serde(default)]
    policies: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    token: String,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessKeyEntry {
    access_key: String,
    secret_key: String,
}

/// A user as the service knows it. Secrets are kept out of `Debug`.
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub password: Option<String>,
    /// IDs of the projects the user belongs to.
    pub projects: Vec<String>,
    pub access_keys: Vec<AccessKey>,
    /// The principal ARN of the AWS dialect (`arn:aws:iam::ACCOUNT:user/NAME` or a role).
    pub aws_arn: String,
    /// The 12-digit AWS account ID of the user's domain.
    pub aws_account: String,
    /// The user's own policies and its account's, parsed.
    pub policies: Arc<IdentityPolicies>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("domain_id", &self.domain_id)
            .field("projects", &self.projects)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct AccessKey {
    pub access_key: String,
    pub secret_key: String,
}

#[derive(Debug, Clone)]
struct StaticToken {
    user: usize,
    project_id: Option<String>,
    expires_at: Option<OffsetDateTime>,
}

/// Everyone the service will authenticate.
pub struct Identities {
    domains: Vec<DomainEntry>,
    projects: Vec<ProjectEntry>,
    users: Vec<User>,
    /// Keyed by SHA-256 of the token, so lookups never compare secrets byte by byte.
    tokens: HashMap<[u8; 32], StaticToken>,
    /// The served regions (`with_regions`); a single default region until then.
    regions: Regions,
}

fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// One attached policy: a name, or a document whose `Version` says its language.
fn parse_policy(entry: &Value, owner: &str) -> Result<PolicyDocument, String> {
    match entry {
        Value::String(name) => system::by_name(name).ok_or_else(|| {
            format!(
                "{owner}: no system or managed policy is named {name:?} (known: {})",
                system::NAMES.join(", ")
            )
        }),
        Value::Object(fields) => {
            let language = match fields.get("Version").and_then(Value::as_str) {
                Some("2012-10-17" | "2008-10-17") => Language::Aws,
                Some("1.0" | "1.1" | "5.0") => Language::Huawei,
                _ => {
                    return Err(format!(
                        "{owner}: a policy document needs a Version: \"1.1\" (Huawei) or \"2012-10-17\" (AWS)"
                    ));
                }
            };
            PolicyDocument::from_value(entry, language, Kind::Identity)
                .map_err(|e| format!("{owner}: invalid policy: {e}"))
        }
        _ => Err(format!(
            "{owner}: each policy is a name or a policy document"
        )),
    }
}

impl Identities {
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read identities file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("identities file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: IdentitiesFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Self::build(file)
    }

    fn build(mut file: IdentitiesFile) -> Result<Self, String> {
        for domain in &mut file.domains {
            match &domain.aws_account_id {
                Some(account) if !is_aws_account_id(account) => {
                    return Err(format!(
                        "domain {}: aws_account_id {account:?} must be 12 digits",
                        domain.name
                    ));
                }
                Some(_) => {}
                None => domain.aws_account_id = Some(default_aws_account_id(&domain.id)),
            }
        }
        for (i, domain) in file.domains.iter().enumerate() {
            if file.domains[..i]
                .iter()
                .any(|d| d.aws_account_id == domain.aws_account_id)
            {
                return Err(format!(
                    "domain {}: AWS account ID {} is used by another domain",
                    domain.name,
                    domain.aws_account_id.as_deref().unwrap_or("")
                ));
            }
        }
        let mut domain_policies: HashMap<String, Vec<PolicyDocument>> = HashMap::new();
        for domain in &file.domains {
            let documents = domain
                .policies
                .iter()
                .map(|p| parse_policy(p, &format!("domain {}", domain.name)))
                .collect::<Result<Vec<_>, _>>()?;
            domain_policies.insert(domain.id.clone(), documents);
        }
        let mut users = Vec::new();
        let mut tokens = HashMap::new();
        for entry in file.users {
            PrincipalId::parse("user id", &entry.id).map_err(|e| e.to_string())?;
            PrincipalId::parse("domain id", &entry.domain_id).map_err(|e| e.to_string())?;
            // Grants name users and accounts by ID (with a type); an ID that is both would
            // let a user pass for an account in a file that mixes them up.
            if file.domains.iter().any(|d| d.id == entry.id) {
                return Err(format!(
                    "user {}: its id {} is also a domain id; user and domain ids must differ",
                    entry.name, entry.id
                ));
            }
            if !file.domains.iter().any(|d| d.id == entry.domain_id) {
                return Err(format!(
                    "user {} names unknown domain {}",
                    entry.name, entry.domain_id
                ));
            }
            if users.iter().any(|u: &User| {
                u.id == entry.id || (u.name == entry.name && u.domain_id == entry.domain_id)
            }) {
                return Err(format!(
                    "user {} ({}) is listed twice",
                    entry.name, entry.id
                ));
            }
            for project in &entry.projects {
                if !file.projects.iter().any(|p| &p.id == project) {
                    return Err(format!(
                        "user {} names unknown project {project}",
                        entry.name
                    ));
                }
            }
            for token in entry.tokens {
                if token.token.is_empty() {
                    return Err(format!("user {} has an empty token", entry.name));
                }
                let expires_at = token
                    .expires_at
                    .map(|t| {
                        OffsetDateTime::parse(&t, &Rfc3339).map_err(|e| {
                            format!(
                                "token of user {}: expires_at {t:?} is not RFC 3339: {e}",
                                entry.name
                            )
                        })
                    })
                    .transpose()?;
                if let Some(project) = &token.project_id
                    && !entry.projects.contains(project)
                {
                    return Err(format!(
                        "a token of user {} is scoped to project {project}, which the user is not in",
                        entry.name
                    ));
                }
                let record = StaticToken {
                    user: users.len(),
                    project_id: token.project_id,
                    expires_at,
                };
                if tokens.insert(token_digest(&token.token), record).is_some() {
                    return Err(format!(
                        "a token of user {} is also used by another entry",
                        entry.name
                    ));
                }
            }
            let account = file
                .domains
                .iter()
                .find(|d| d.id == entry.domain_id)
                .and_then(|d| d.aws_account_id.clone())
                .unwrap_or_default();
            let aws_arn = match entry.aws_arn {
                Some(arn) => {
                    if !is_principal_arn_of(&arn, &account) {
                        return Err(format!(
                            "user {}: aws_arn {arn:?} must look like arn:aws:iam::{account}:user/NAME or arn:aws:iam::{account}:role/NAME",
                            entry.name
                        ));
                    }
                    arn
                }
                None => format!("arn:aws:iam::{account}:user/{}", entry.name),
            };
            if users.iter().any(|u: &User| u.aws_arn == aws_arn) {
                return Err(format!(
                    "user {}: AWS ARN {aws_arn} is used by another user",
                    entry.name
                ));
            }
            let mut documents = domain_policies
                .get(&entry.domain_id)
                .cloned()
                .unwrap_or_default();
            for policy in &entry.policies {
                documents.push(parse_policy(policy, &format!("user {}", entry.name))?);
            }
            users.push(User {
                aws_arn,
                aws_account: account.clone(),
                policies: Arc::new(IdentityPolicies::new(documents)),
                id: entry.id,
                name: entry.name,
                domain_id: entry.domain_id,
                password: entry.password,
                projects: entry.projects,
                access_keys: entry
                    .access_keys
                    .into_iter()
                    .map(|k| AccessKey {
                        access_key: k.access_key,
                        secret_key: k.secret_key,
                    })
                    .collect(),
            });
        }
        Ok(Self {
            domains: file.domains,
            projects: file.projects,
            users,
            tokens,
            regions: Regions::single(DEFAULT_REGION),
        })
    }

    /// Places every project in its region among `regions` (see `ProjectEntry::region`); a
    /// project naming a region this server does not serve is refused.
    pub fn with_regions(mut self, regions: &Regions) -> Result<Self, String> {
        for project in &mut self.projects {
            if let Some(region) = &project.region
                && !regions.serves(region)
            {
                return Err(format!(
                    "project {} ({}) is in region {region:?}, which this server does not serve \
                     (served: {}; see --regions)",
                    project.name,
                    project.id,
                    regions.names().join(", ")
                ));
            }
            let region = regions
                .of_project(project.region.as_deref(), &project.name)
                .to_owned();
            project.region = Some(region);
        }
        self.regions = regions.clone();
        Ok(self)
    }

    pub fn regions(&self) -> &Regions {
        &self.regions
    }

    /// The region of a project (the default region for an unknown one, which no
    /// credential can act in anyway).
    pub fn project_region(&self, project_id: &str) -> &str {
        self.project_by_id(project_id)
            .map(|p| self.regions.of_project(p.region.as_deref(), &p.name))
            .unwrap_or(self.regions.default_region())
    }

    /// The project an AWS request of `user` made in `region` acts in: the user's first
    /// project in that region, else its first project (an AWS account exists in every
    /// region; the keys it makes there still belong to `region`).
    pub fn aws_project<'u>(&self, user: &'u User, region: &str) -> Option<&'u String> {
        user.projects
            .iter()
            .find(|p| self.project_region(p) == region)
            .or_else(|| user.projects.first())
    }

    /// The identities used when no file is given: one account with four users in one
    /// project (alice the administrator who creates keys; bob and carol with no KMS
    /// permission, who reach keys only through grants, as the seeds' users B and C; dave
    /// read-only), and a second account with an administrator (erin) and a read-only user
    /// (frank), so every grant role can be tried within and across accounts.
    pub fn demo() -> Self {
        Self::parse(DEMO_IDENTITIES).expect("the built-in demo identities are valid")
    }

    pub fn users(&self) -> &[User] {
        &self.users
    }

    pub fn projects(&self) -> &[ProjectEntry] {
        &self.projects
    }

    pub fn domains(&self) -> &[DomainEntry] {
        &self.domains
    }

    /// The user owning an access key, and the key (whose secret signs requests).
    pub fn access_key(&self, access_key: &str) -> Option<(&User, &AccessKey)> {
        self.users.iter().find_map(|user| {
            user.access_keys
                .iter()
                .find(|k| k.access_key == access_key)
                .map(|k| (user, k))
        })
    }

    /// The AWS account ID of a domain (always set once the file is loaded).
    pub fn aws_account_id(&self, domain_id: &str) -> Option<&str> {
        self.domain_by_id(domain_id)
            .and_then(|d| d.aws_account_id.as_deref())
    }

    pub fn domain_by_aws_account(&self, account_id: &str) -> Option<&DomainEntry> {
        self.domains
            .iter()
            .find(|d| d.aws_account_id.as_deref() == Some(account_id))
    }

    pub fn user_by_aws_arn(&self, arn: &str) -> Option<&User> {
        self.users.iter().find(|u| u.aws_arn == arn)
    }

    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// User names are unique within an account, not across accounts.
    pub fn user_by_name(&self, domain_id: &str, name: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.domain_id == domain_id && u.name == name)
    }

    pub fn domain_by_id(&self, id: &str) -> Option<&DomainEntry> {
        self.domains.iter().find(|d| d.id == id)
    }

    pub fn domain_by_name(&self, name: &str) -> Option<&DomainEntry> {
        self.domains.iter().find(|d| d.name == name)
    }

    pub fn project_by_id(&self, id: &str) -> Option<&ProjectEntry> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// A token of the identities file: its user, project scope and expiry.
    pub fn static_token(
        &self,
        token: &str,
    ) -> Option<(&User, Option<&str>, Option<OffsetDateTime>)> {
        self.tokens.get(&token_digest(token)).map(|record| {
            (
                &self.users[record.user],
                record.project_id.as_deref(),
                record.expires_at,
            )
        })
    }

    /// Every user an administrator of KMS in both clouds' policy languages (the
    /// `--everyone-admin` switch, for teams that do not care about permissions).
    pub fn with_everyone_admin(mut self) -> Self {
        let admin: Vec<PolicyDocument> = [
            "KMS Administrator",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ]
        .into_iter()
        .map(|name| system::by_name(name).expect("a built-in policy"))
        .collect();
        for user in &mut self.users {
            let mut documents = user.policies.documents().to_vec();
            documents.extend(admin.iter().cloned());
            user.policies = Arc::new(IdentityPolicies::new(documents));
        }
        self
    }

    /// The AWS account ID of a domain: the file's, or the one derived from its ID.
    pub fn account_of(&self, domain_id: &str) -> String {
        self.aws_account_id(domain_id)
            .map(str::to_owned)
            .unwrap_or_else(|| default_aws_account_id(domain_id))
    }

    /// A key's ARN in `region`: `arn:aws:kms:REGION:ACCOUNT:key/ID`.
    pub fn key_arn(&self, region: &str, key: &Key) -> String {
        format!(
            "arn:aws:kms:{region}:{}:key/{}",
            self.account_of(&key.domain_id),
            key.key_id
        )
    }

    /// The caller a user becomes in `url_project` for the request `request_id`, given the
    /// project its credential is scoped to, if any.
    pub fn caller_for_project(
        &self,
        user: &User,
        scoped_project: Option<&str>,
        url_project: &str,
        request_id: &str,
    ) -> Result<Caller, KmsError> {
        let allowed = match scoped_project {
            Some(scope) => scope == url_project,
            None => user.projects.iter().any(|p| p == url_project),
        };
        if !allowed {
            return Err(KmsError::ProjectMismatch(format!(
                "the credential of user {} is not valid for project {}.",
                user.name,
                excerpt(url_project)
            )));
        }
        Ok(Caller {
            user_id: user.id.clone(),
            user_name: user.name.clone(),
            domain_id: user.domain_id.clone(),
            project_id: url_project.to_owned(),
            region: self.project_region(url_project).to_owned(),
            request_id: request_id.to_owned(),
            aws_arn: user.aws_arn.clone(),
            aws_account: user.aws_account.clone(),
            policies: user.policies.clone(),
        })
    }

    /// Printed at start when the demo identities are in use.
    pub fn demo_usage(&self, base_url: &str) -> String {
        let mut text =
            String::from("No --identities file given: using the built-in demo identities.\n");
        for user in &self.users {
            let project = user.projects.first().map(String::as_str).unwrap_or("");
            text.push_str(&format!(
                "  {:<6} user_id={} domain_id={} project_id={} X-Auth-Token: demo-token-{}\n",
                user.name, user.id, user.domain_id, project, user.name
            ));
        }
        text.push_str(
            "AWS dialect (POST / with SigV4, e.g. boto3 endpoint_url=the address above):\n",
        );
        for user in &self.users {
            if let Some(key) = user.access_keys.first() {
                text.push_str(&format!(
                    "  {:<6} {} aws_access_key_id={} aws_secret_access_key={}\n",
                    user.name, user.aws_arn, key.access_key, key.secret_key
                ));
            }
        }
        if let Some(alice) = self.users.first() {
            let project = alice.projects.first().map(String::as_str).unwrap_or("");
            text.push_str(&format!(
                "Try: curl -s -X POST {base_url}/v1.0/{project}/kms/create-key -H 'X-Auth-Token: demo-token-{}' -H 'Content-Type: application/json' -d '{{\"key_alias\":\"my-key\"}}'\n",
                alice.name
            ));
        }
        text
    }
}

fn is_aws_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:aws:iam::ACCOUNT:user/NAME` or `...:role/NAME` (NAME may carry a path).
fn is_principal_arn_of(arn: &str, account: &str) -> bool {
    let Some(rest) = arn.strip_prefix(&format!("arn:aws:iam::{account}:")) else {
        return false;
    };
    let name = rest
        .strip_prefix("user/")
        .or_else(|| rest.strip_prefix("role/"));
    name.is_some_and(|n| {
        !n.is_empty()
            && n.len() <= 200
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
    })
}

/// The AWS account ID of a domain whose file entry names none: the first 12 decimal
/// digits of SHA-256(domain ID), so it is stable across restarts and processes.
pub fn default_aws_account_id(domain_id: &str) -> String {
    let digest = Sha256::digest(domain_id.as_bytes());
    let mut number = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    number %= 1_000_000_000_000;
    format!("{number:012}")
}

/// Fixed so the README's walk-through gives the same IDs on every machine.
/// The region of projects until `with_regions` places them (`--region`'s default).
const DEFAULT_REGION: &str = "eu-de";

const DEMO_IDENTITIES: &str = r#"{
  "domains": [
    {"id": "b168fe00ff56492495a7d22974df2d0b", "name": "demo-account", "aws_account_id": "111122223333"},
    {"id": "c279af11aa67403586b8e33085ae3e1c", "name": "other-account", "aws_account_id": "444455556666"}
  ],
  "projects": [
    {"id": "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c", "name": "eu-de", "domain_id": "b168fe00ff56492495a7d22974df2d0b"},
    {"id": "7e1d2c3b4a5f4e6d8c9b0a1f2e3d4c5b", "name": "eu-de", "domain_id": "c279af11aa67403586b8e33085ae3e1c"}
  ],
  "users": [
    {"id": "a11ce000000000000000000000000001", "name": "alice", "domain_id": "b168fe00ff56492495a7d22974df2d0b",
     "password": "alice-password", "projects": ["0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"],
     "policies": ["KMS Administrator"],
     "tokens": [{"token": "demo-token-alice"}],
     "access_keys": [{"access_key": "DEMOALICEACCESSKEY01", "secret_key": "demo-alice-secret-key-0000000000000001"}]},
    {"id": "b0b00000000000000000000000000002", "name": "bob", "domain_id": "b168fe00ff56492495a7d22974df2d0b",
     "password": "bob-password", "projects": ["0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"],
     "tokens": [{"token": "demo-token-bob"}],
     "access_keys": [{"access_key": "DEMOBOBACCESSKEY0002", "secret_key": "demo-bob-secret-key-00000000000000002"}]},
    {"id": "ca401000000000000000000000000003", "name": "carol", "domain_id": "b168fe00ff56492495a7d22974df2d0b",
     "password": "carol-password", "projects": ["0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"],
     "tokens": [{"token": "demo-token-carol"}],
     "access_keys": [{"access_key": "DEMOCAROLACCESSKEY03", "secret_key": "demo-carol-secret-key-000000000000003"}]},
    {"id": "da7e0000000000000000000000000004", "name": "dave", "domain_id": "b168fe00ff56492495a7d22974df2d0b",
     "password": "dave-password", "projects": ["0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"],
     "policies": ["KMS CMKReadOnlyAccess"],
     "tokens": [{"token": "demo-token-dave"}],
     "access_keys": [{"access_key": "DEMODAVEACCESSKEY004", "secret_key": "demo-dave-secret-key-000000000000004"}]},
    {"id": "e4140000000000000000000000000005", "name": "erin", "domain_id": "c279af11aa67403586b8e33085ae3e1c",
     "password": "erin-password", "projects": ["7e1d2c3b4a5f4e6d8c9b0a1f2e3d4c5b"],
     "policies": ["KMS Administrator"],
     "tokens": [{"token": "demo-token-erin"}],
     "access_keys": [{"access_key": "DEMOERINACCESSKEY005", "secret_key": "demo-erin-secret-key-000000000000005"}]},
    {"id": "f4a4c000000000000000000000000006", "name": "frank", "domain_id": "c279af11aa67403586b8e33085ae3e1c",
     "password": "frank-password", "projects": ["7e1d2c3b4a5f4e6d8c9b0a1f2e3d4c5b"],
     "policies": ["KMS CMKReadOnlyAccess"],
     "tokens": [{"token": "demo-token-frank"}],
     "access_keys": [{"access_key": "DEMOFRANKACCESSKEY06", "secret_key": "demo-frank-secret-key-00000000000000006"}]}
  ]
}"#;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const PROJECT: &str = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c";
    const OTHER_PROJECT: &str = "7e1d2c3b4a5f4e6d8c9b0a1f2e3d4c5b";
    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    #[test]
    fn projects_are_placed_in_their_regions_and_unserved_ones_refused() {
        let file = r#"{
          "domains": [{"id": "d1", "name": "acct"}],
          "projects": [
            {"id": "p1", "name": "eu-de", "domain_id": "d1"},
            {"id": "p2", "name": "eu-nl_team", "domain_id": "d1"},
            {"id": "p3", "name": "anything", "domain_id": "d1", "region": "eu-nl"},
            {"id": "p4", "name": "anything-else", "domain_id": "d1"}
          ],
          "users": [{"id": "u1", "name": "u", "domain_id": "d1", "projects": ["p1", "p2", "p3", "p4"]}]
        }"#;
        let regions = Regions::new("eu-de", ["eu-nl"]).unwrap();
        let ids = Identities::parse(file)
            .unwrap()
            .with_regions(&regions)
            .unwrap();
        let placed: Vec<&str> = ["p1", "p2", "p3", "p4"]
            .iter()
            .map(|p| ids.project_region(p))
            .collect();
        assert_eq!(placed, ["eu-de", "eu-nl", "eu-nl", "eu-de"]);
        let user = &ids.users()[0];
        assert_eq!(ids.aws_project(user, "eu-nl").unwrap(), "p2");
        assert_eq!(ids.aws_project(user, "eu-de").unwrap(), "p1");
        let error = Identities::parse(file)
            .unwrap()
            .with_regions(&Regions::single("eu-de"))
            .err()
            .unwrap();
        assert!(error.contains("region \"eu-nl\""), "{error}");
    }

    #[test]
    fn demo_tokens_name_their_user_and_its_projects() {
        let ids = Identities::demo();
        let (user, scope, expiry) = ids.static_token("demo-token-alice").unwrap();
        assert_eq!((scope, expiry), (None, None));
        let caller = ids.caller_for_project(user, scope, PROJECT, "r").unwrap();
        assert_eq!(caller.user_id, "a11ce000000000000000000000000001");
        assert_eq!(caller.domain_id, "b168fe00ff56492495a7d22974df2d0b");
        assert_eq!(caller.project_id, PROJECT);
        assert!(matches!(
            ids.caller_for_project(user, scope, OTHER_PROJECT, "r"),
            Err(KmsError::ProjectMismatch(_))
        ));
        assert!(ids.static_token("nope").is_none());
        assert!(ids.static_token("").is_none());
    }

    const FILE: &str = r#"{
      "domains": [{"id": "d1", "name": "acct"}],
      "projects": [{"id": "p1", "name": "eu-de", "domain_id": "d1"}, {"id": "p2", "name": "eu-nl", "domain_id": "d1"}],
      "users": [{"id": "u1", "name": "ann", "domain_id": "d1", "projects": ["p1", "p2"],
                 "tokens": [{"token": "t-scoped", "project_id": "p2"},
                            {"token": "t-old", "expires_at": "2025-12-31T23:59:59Z"},
                            {"token": "t-new", "expires_at": "2026-01-01T00:00:01Z"}]}]
    }"#;

    #[test]
    fn tokens_carry_their_expiry_and_may_be_scoped_to_one_project() {
        let ids = Identities::parse(FILE).unwrap();
        let (_, _, old) = ids.static_token("t-old").unwrap();
        assert!(old.unwrap() <= NOW);
        let (user, scope, new) = ids.static_token("t-new").unwrap();
        assert!(new.unwrap() > NOW);
        assert_eq!(
            ids.caller_for_project(user, scope, "p2", "r")
                .unwrap()
                .project_id,
            "p2"
        );
        let (user, scope, _) = ids.static_token("t-scoped").unwrap();
        assert_eq!(scope, Some("p2"));
        assert!(matches!(
            ids.caller_for_project(user, scope, "p1", "r"),
            Err(KmsError::ProjectMismatch(_))
        ));
        assert!(ids.caller_for_project(user, scope, "p2", "r").is_ok());
    }

    #[test]
    fn inconsistent_files_are_rejected_with_a_reason() {
        let cases = [
            (
                r#"{"users": [{"id": "u1", "name": "a", "domain_id": "nod"}]}"#,
                "unknown domain",
            ),
            (
                r#"{"domains": [{"id": "d1", "name": "x"}], "users": [{"id": "u-1", "name": "a", "domain_id": "d1"}]}"#,
                "user id",
            ),
            (
                r#"{"domains": [{"id": "d1", "name": "x"}], "users": [{"id": "u1", "name": "a", "domain_id": "d1", "projects": ["p9"]}]}"#,
                "unknown project",
            ),
            (r#"{"users": [], "extra": 1}"#, "unknown field"),
            (
                r#"{"domains": [{"id": "d1", "name": "x"}], "projects": [{"id": "p1", "name": "n", "domain_id": "d1"}],
                   "users": [{"id": "u1", "name": "a", "domain_id": "d1", "projects": ["p1"], "tokens": [{"token": "t", "expires_at": "tomorrow"}]}]}"#,
                "RFC 3339",
            ),
        ];
        for (text, expected) in cases {
            let err = Identities::parse(text).err().unwrap();
            assert!(err.contains(expected), "{err} should mention {expected}");
        }
    }

    #[test]
    fn aws_accounts_and_arns_have_documented_defaults() {
        let ids = Identities::demo();
        let alice = ids
            .user_by_name("b168fe00ff56492495a7d22974df2d0b", "alice")
            .unwrap();
        assert_eq!(alice.aws_arn, "arn:aws:iam::111122223333:user/alice");
        assert_eq!(
            ids.user_by_aws_arn("arn:aws:iam::111122223333:user/bob")
                .unwrap()
                .name,
            "bob"
        );
        assert_eq!(
            ids.domain_by_aws_account("444455556666").unwrap().name,
            "other-account"
        );
        let ids = Identities::parse(FILE).unwrap();
        let account = default_aws_account_id("d1");
        assert_eq!(account.len(), 12);
        assert_eq!(ids.aws_account_id("d1"), Some(account.as_str()));
        assert_eq!(
            ids.users()[0].aws_arn,
            format!("arn:aws:iam::{account}:user/ann")
        );
    }

    #[test]
    fn aws_fields_are_validated() {
        let base = |domain_extra: &str, user_extra: &str| {
            format!(
                r#"{{"domains": [{{"id": "d1", "name": "x"{domain_extra}}}], "users": [{{"id": "u1", "name": "a", "domain_id": "d1"{user_extra}}}]}}"#
            )
        };
        assert!(Identities::parse(&base(r#", "aws_account_id": "12345""#, "")).is_err());
        assert!(
            Identities::parse(&base(
                r#", "aws_account_id": "123456789012""#,
                r#", "aws_arn": "arn:aws:iam::999999999999:role/r""#
            ))
            .is_err()
        );
        let ids = Identities::parse(&base(
            r#", "aws_account_id": "123456789012""#,
            r#", "aws_arn": "arn:aws:iam::123456789012:role/deployer""#,
        ))
        .unwrap();
        assert_eq!(
            ids.users()[0].aws_arn,
            "arn:aws:iam::123456789012:role/deployer"
        );
    }

    #[test]
    fn user_debug_output_hides_secrets() {
        let ids = Identities::demo();
        let shown = format!("{:?}", ids.users()[0]);
        assert!(!shown.contains("alice-password"));
        assert!(!shown.contains("secret"));
    }
}
