//! Fixtures loaded at start and after every reset (`--seed FILE`): keys with fixed IDs and
//! (optionally) fixed material, their AWS aliases, and grants, so that a ciphertext committed
//! to a test fixture decrypts on every run and on every machine.
//!
//! The file is JSON (see `examples/seed.json`). YAML is not read: the serde YAML crates are
//! unmaintained (serde_yaml was archived in 2024), and JSON is what the snapshot files use too.
//!
//! Loading is idempotent: the seed inserts what is missing and never changes what is stored.
//! A key whose ID is already stored is left as it is, even when the seed describes it
//! differently (a test that changed a seeded key keeps its change until the next reset).
//! Whatever cannot be inserted without overwriting something else (a key alias or an AWS
//! alias taken by another key) stops the load with a message naming the entry.

use serde::Deserialize;

use super::alias::{self, Alias};
use super::grant::{self, Grant, GrantOperation, GranteeType};
use super::ids::{GrantId, KeyId};
use super::key::{Key, KeyState, validate_key_alias, validate_key_description};
use super::key_spec::{Cloud, KeySpec, KeyUsage};
use super::tag::{self, Tag};

/// The seed file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    pub keys: Vec<SeedKeyEntry>,
    #[serde(default)]
    pub grants: Vec<SeedGrantEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedKeyEntry {
    /// The key's fixed ID (a lower-case UUID, as the clouds make them).
    pub key_id: String,
    /// The user (name or ID) who created the key: its account and project own the key, and
    /// it is the one who may revoke the key's grants.
    pub owner: String,
    /// The project of the key, when the owner belongs to several (default: the owner's first).
    #[serde(default)]
    pub project_id: Option<String>,
    /// Huawei `key_alias` (default: `seed-<key_id>`, unique in the project as Huawei requires).
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// A Huawei or AWS key spec name (default AES_256 / SYMMETRIC_DEFAULT).
    #[serde(default)]
    pub key_spec: Option<String>,
    /// ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC or KEY_AGREEMENT (default: the
    /// spec's Huawei default).
    #[serde(default)]
    pub key_usage: Option<String>,
    /// The key material in hex: the raw secret of a symmetric or HMAC key, or a PKCS#8 DER
    /// private key of a key pair. Without material the key gets fresh random material when
    /// it is first inserted, so its ciphertexts do not outlive the database.
    #[serde(default)]
    pub material_hex: Option<String>,
    /// The same, in standard Base64 (one of the two at most).
    #[serde(default)]
    pub material_base64: Option<String>,
    /// "Enabled" (default) or "Disabled".
    #[serde(default)]
    pub state: Option<String>,
    /// AWS aliases naming the key (`alias/orders`), in the owner's account.
    #[serde(default)]
    pub aws_aliases: Vec<String>,
    /// The key's tags, in order; each must be one both clouds accept (Huawei's limits are the
    /// narrower: 20 tags, keys of 36 and values of 43 characters), so either dialect can
    /// read and change them.
    #[serde(default)]
    pub tags: Vec<SeedTag>,
    /// An AWS key policy document (a JSON object); default: the default key policy.
    #[serde(default)]
    pub policy: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGrantEntry {
    /// The grant's fixed ID (64 hex characters). Default: derived from the key, grantee,
    /// operations and name, so the same entry is the same grant on every load.
    #[serde(default)]
    pub grant_id: Option<String>,
    /// A key of this seed.
    pub key_id: String,
    /// The grantee user (name or ID).
    pub grantee: String,
    /// Huawei grant operation names (`describe-key`, `encrypt-data`, ...), or AWS ones
    /// (`DescribeKey`, `Sign`, ...), which also cover key-pair and MAC operations.
    pub operations: Vec<String>,
    /// The retiring user (name or ID).
    #[serde(default)]
    pub retiring_principal: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// A user as the seed resolves names: its ID, account and projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedUser {
    pub id: String,
    pub domain_id: String,
    pub projects: Vec<String>,
}

/// A key to insert, with its material still in the clear: the service checks it against
/// the spec and wraps it under the master key.
#[derive(Debug, Clone)]
pub struct SeedKey {
    pub key: Key,
    pub material: Option<Vec<u8>>,
    /// Stored with the key when the key is inserted (a stored key keeps its own tags).
    pub tags: Vec<Tag>,
}

/// What a seed file asks the store to hold.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub keys: Vec<SeedKey>,
    pub grants: Vec<Grant>,
    pub aliases: Vec<Alias>,
}

/// What one load inserted (the rest was already there).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SeedCounts {
    pub keys: u64,
    pub grants: u64,
    pub aliases: u64,
}

impl SeedCounts {
    pub fn is_empty(&self) -> bool {
        self.keys == 0 && self.grants == 0 && self.aliases == 0
    }

    /// The detail of the load's audit record.
    pub fn audit_detail(&self) -> String {
        format!(
            "seed loaded: inserted {} keys, {} grants and {} aliases",
            self.keys, self.grants, self.aliases
        )
    }
}

/// Reads a seed file's text.
pub fn parse(text: &str) -> Result<SeedFile, String> {
    serde_json::from_str(text).map_err(|e| format!("the seed file is not valid: {e}"))
}

/// Checks every entry and resolves users with `user` (by name or ID); `now_ms` dates what
/// the plan creates. Every message names the entry it is about.
pub fn plan(
    file: &SeedFile,
    user: &dyn Fn(&str) -> Option<SeedUser>,
    now_ms: i64,
) -> Result<SeedPlan, String> {
    let mut keys: Vec<SeedKey> = Vec::new();
    let mut aliases: Vec<Alias> = Vec::new();
    for (index, entry) in file.keys.iter().enumerate() {
        let at = |message: String| format!("seed key #{} ({}): {message}", index + 1, entry.key_id);
        let key = plan_key(entry, user, now_ms).map_err(at)?;
        if keys.iter().any(|k| k.key.key_id == key.key.key_id) {
            return Err(at("the key ID appears twice".into()));
        }
        if keys
            .iter()
            .any(|k| k.key.project_id == key.key.project_id && k.key.key_alias == key.key.key_alias)
        {
            return Err(at(format!(
                "the alias {:?} is used by another seed key of the project",
                key.key.key_alias
            )));
        }
        for name in &entry.aws_aliases {
            alias::check_writable_name(name).map_err(|e| {
                let (alias::AliasNameError::Malformed(message)
                | alias::AliasNameError::Invalid(message)
                | alias::AliasNameError::Reserved(message)) = e;
                at(format!("aws_aliases: {message}"))
            })?;
            if aliases
                .iter()
                .any(|a| a.domain_id == key.key.domain_id && &a.alias_name == name)
            {
                return Err(at(format!("the AWS alias {name} appears twice")));
            }
            aliases.push(Alias {
                domain_id: key.key.domain_id.clone(),
                // The key's region, which the service knows (`Kms::load_seed`).
                region: String::new(),
                alias_name: name.clone(),
                key_id: key.key.key_id.clone(),
                creation_date: now_ms,
                last_updated_date: now_ms,
            });
        }
        keys.push(key);
    }
    let mut grants: Vec<Grant> = Vec::new();
    for (index, entry) in file.grants.iter().enumerate() {
        let at = |message: String| {
            format!(
                "seed grant #{} (key {}): {message}",
                index + 1,
                entry.key_id
            )
        };
        let key = keys
            .iter()
            .find(|k| k.key.key_id.as_str() == entry.key_id)
            .ok_or_else(|| at("the key is not one of the seed's keys".into()))?;
        let grant = plan_grant(entry, &key.key, user, now_ms).map_err(at)?;
        if grants.iter().any(|g| g.grant_id == grant.grant_id) {
            return Err(at(format!("the grant ID {} appears twice", grant.grant_id)));
        }
        grants.push(grant);
    }
    Ok(SeedPlan {
        keys,
        grants,
        aliases,
    })
}

fn plan_key(
    entry: &SeedKeyEntry,
    user: &dyn Fn(&str) -> Option<SeedUser>,
    now_ms: i64,
) -> Result<SeedKey, String> {
    let key_id = KeyId::parse(&entry.key_id).map_err(|e| e.to_string())?;
    let owner = user(&entry.owner).ok_or_else(|| format!("no user named {:?}", entry.owner))?;
    let project_id = match &entry.project_id {
        Some(project) if owner.projects.contains(project) => project.clone(),
        Some(project) => {
            return Err(format!(
                "user {:?} is not a member of project {project}",
                entry.owner
            ));
        }
        None => owner
            .projects
            .first()
            .cloned()
            .ok_or_else(|| format!("user {:?} belongs to no project", entry.owner))?,
    };
    let key_alias = entry
        .alias
        .clone()
        .unwrap_or_else(|| format!("seed-{key_id}"));
    validate_key_alias(&key_alias).map_err(|e| e.to_string())?;
    let key_description = entry.description.clone().unwrap_or_default();
    validate_key_description(&key_description).map_err(|e| e.to_string())?;
    let spec = match &entry.key_spec {
        None => KeySpec::default_for_create(),
        Some(name) => KeySpec::parse(Cloud::Huawei, name)
            .or_else(|_| KeySpec::parse(Cloud::Aws, name))
            .map_err(|e| format!("key_spec {name:?} is not a key spec: {e}"))?,
    };
    let usage = entry
        .key_usage
        .as_deref()
        .map(|name| KeyUsage::parse(Cloud::Huawei, name).map_err(|e| e.to_string()))
        .transpose()?;
    let usage = spec
        .resolve_usage(Cloud::Huawei, usage)
        .or_else(|_| spec.resolve_usage(Cloud::Aws, usage))
        .map_err(|e| e.to_string())?;
    let material = match (&entry.material_hex, &entry.material_base64) {
        (Some(_), Some(_)) => {
            return Err("give material_hex or material_base64, not both".into());
        }
        (Some(hex), None) => Some(
            crate::hex::decode(hex.trim())
                .ok_or("material_hex is not an even number of hex digits")?,
        ),
        (None, Some(text)) => {
            use base64::Engine as _;
            Some(
                base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|_| "material_base64 is not standard Base64")?,
            )
        }
        (None, None) => None,
    };
    let key_state = match entry.state.as_deref() {
        None | Some("Enabled") => KeyState::Enabled,
        Some("Disabled") => KeyState::Disabled,
        Some(other) => {
            return Err(format!(
                "state {other:?} is not one a seed may give: Enabled or Disabled"
            ));
        }
    };
    let tags: Vec<Tag> = entry
        .tags
        .iter()
        .map(|t| Tag::new(t.key.clone(), t.value.clone()))
        .collect();
    if !tags.is_empty() {
        for cloud in [Cloud::Huawei, Cloud::Aws] {
            tag::check_tags(cloud, &tags).map_err(|e| format!("tags: {e}"))?;
            let limit = tag::limits(cloud).max_tags;
            if tags.len() > limit {
                let error = tag::TagError::TooMany {
                    limit,
                    would_have: tags.len(),
                };
                return Err(format!("tags: {error}"));
            }
        }
    }
    let key_policy = match &entry.policy {
        None | Some(serde_json::Value::Null) => None,
        Some(document @ serde_json::Value::Object(_)) => Some(document.to_string()),
        Some(_) => return Err("policy must be a JSON object (a key policy document)".into()),
    };
    Ok(SeedKey {
        key: Key {
            key_id,
            project_id,
            // The project's region, which the service knows (`Kms::load_seed`).
            region: String::new(),
            domain_id: owner.domain_id,
            creator_user_id: owner.id,
            key_alias,
            key_description,
            key_spec: spec.stored_name().to_owned(),
            key_usage: usage.name().to_owned(),
            origin: "kms".into(),
            key_state,
            creation_date: now_ms,
            scheduled_deletion_date: None,
            wrapped_material: None,
            key_policy,
        },
        material,
        tags,
    })
}

fn plan_grant(
    entry: &SeedGrantEntry,
    key: &Key,
    user: &dyn Fn(&str) -> Option<SeedUser>,
    now_ms: i64,
) -> Result<Grant, String> {
    let grantee =
        user(&entry.grantee).ok_or_else(|| format!("no grantee user named {:?}", entry.grantee))?;
    let retiring = entry
        .retiring_principal
        .as_deref()
        .map(|name| user(name).ok_or_else(|| format!("no retiring user named {name:?}")))
        .transpose()?;
    let (operations, dialect) = seed_operations(&entry.operations)?;
    if let Some(name) = &entry.name {
        grant::validate_grant_name(name).map_err(|e| e.to_string())?;
    }
    let spec = KeySpec::from_stored(&key.key_spec).ok_or("the key's spec is unknown")?;
    let usage = KeyUsage::ALL
        .into_iter()
        .find(|u| u.name() == key.key_usage)
        .ok_or("the key's usage is unknown")?;
    if let Some(op) = operations
        .iter()
        .find(|op| !spec.allows_operation(usage, op.key_operation()))
    {
        return Err(format!(
            "a {} {} key cannot do {op}",
            key.key_spec, key.key_usage
        ));
    }
    let grant_id = match &entry.grant_id {
        Some(id) => GrantId::parse(id).map_err(|e| e.to_string())?,
        None => derived_grant_id(key, &grantee.id, &operations, entry.name.as_deref()),
    };
    Ok(Grant {
        grant_id,
        key_id: key.key_id.clone(),
        grantee_principal: grantee.id,
        grantee_principal_type: GranteeType::User,
        operations,
        issuing_principal: key.creator_user_id.clone(),
        retiring_principal_type: GranteeType::User,
        retiring_principal: retiring.map(|user| user.id),
        name: entry.name.clone(),
        creation_date: now_ms,
        constraint: None,
        dialect: Some(dialect),
    })
}

/// A seed grant's operations: Huawei names (`encrypt-data`), or AWS names (`Encrypt`,
/// `Sign`: the grant is then one the AWS dialect made, as only it can grant key-pair and
/// MAC operations).
fn seed_operations(names: &[String]) -> Result<(Vec<GrantOperation>, super::Dialect), String> {
    let huawei = grant::parse_operations(names.iter().map(String::as_str));
    if let Ok(operations) = huawei {
        return Ok((operations, super::Dialect::Huawei));
    }
    match grant::parse_aws_operations(names.iter().map(String::as_str)) {
        Ok(operations) => Ok((operations, super::Dialect::Aws)),
        Err(grant::AwsOperationsError::OnlyCreateGrant) => {
            Err("a grant of CreateGrant alone is refused, as both clouds refuse it".into())
        }
        // No names, or a name neither cloud has: the Huawei reading's message says which.
        Err(_) => Err(format!(
            "operations must all be Huawei grant operations or all AWS ones: {}",
            huawei.err().map(|e| e.to_string()).unwrap_or_default()
        )),
    }
}

/// The ID of a seed grant that names none: the same entry gives the same ID on every load
/// and every machine, so a reload finds the grant it inserted before.
fn derived_grant_id(
    key: &Key,
    grantee: &str,
    operations: &[GrantOperation],
    name: Option<&str>,
) -> GrantId {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [
        "kms-emulator seed grant",
        key.key_id.as_str(),
        grantee,
        &grant::join_operations(operations),
        name.unwrap_or(""),
    ] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    GrantId::parse(&crate::hex::lower(&hash.finalize())).expect("64 hex digits")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "5eed0000-0000-4000-8000-000000000001";

    fn users(name: &str) -> Option<SeedUser> {
        let user = |id: &str, domain: &str, projects: &[&str]| SeedUser {
            id: id.into(),
            domain_id: domain.into(),
            projects: projects.iter().map(|p| p.to_string()).collect(),
        };
        match name {
            "alice" | "a1" => Some(user("a1", "d1", &["p1", "p2"])),
            "bob" | "b2" => Some(user("b2", "d1", &["p1"])),
            "nobody" => Some(user("n9", "d1", &[])),
            _ => None,
        }
    }

    fn plan_of(text: &str) -> Result<SeedPlan, String> {
        plan(&parse(text)?, &users, 1_000)
    }

    #[test]
    fn a_full_entry_becomes_a_key_an_alias_and_a_grant() {
        let plan = plan_of(&format!(
            r#"{{"keys":[{{"key_id":"{KEY}","owner":"alice","project_id":"p2","alias":"orders",
                "description":"d","key_spec":"AES_256","material_hex":"{}","state":"Disabled",
                "aws_aliases":["alias/orders"],"policy":{{"Version":"2012-10-17","Statement":[]}},
                "tags":[{{"key":"team","value":"orders"}},{{"key":"env"}}]}}],
              "grants":[{{"key_id":"{KEY}","grantee":"bob","operations":["encrypt-data","decrypt-data"],
                "retiring_principal":"alice","name":"app"}}]}}"#,
            "00".repeat(32)
        ))
        .unwrap();
        let key = &plan.keys[0];
        assert_eq!(key.key.project_id, "p2");
        assert_eq!(key.key.domain_id, "d1");
        assert_eq!(key.key.creator_user_id, "a1");
        assert_eq!(key.key.key_alias, "orders");
        assert_eq!(key.key.key_state, KeyState::Disabled);
        assert_eq!(key.key.key_usage, "ENCRYPT_DECRYPT");
        assert_eq!(key.material.as_deref(), Some(&[0u8; 32][..]));
        assert!(
            key.key
                .key_policy
                .as_deref()
                .unwrap()
                .contains("2012-10-17")
        );
        assert_eq!(key.tags, [Tag::new("team", "orders"), Tag::new("env", "")]);
        assert_eq!(plan.aliases[0].alias_name, "alias/orders");
        assert_eq!(plan.aliases[0].domain_id, "d1");
        let grant = &plan.grants[0];
        assert_eq!(grant.grantee_principal, "b2");
        assert_eq!(grant.issuing_principal, "a1");
        assert_eq!(grant.retiring_principal.as_deref(), Some("a1"));
        assert_eq!(grant.grant_id.as_str().len(), 64);
    }

    #[test]
    fn defaults_and_derived_grant_ids_are_stable() {
        let text = format!(
            r#"{{"keys":[{{"key_id":"{KEY}","owner":"a1"}}],
              "grants":[{{"key_id":"{KEY}","grantee":"b2","operations":["describe-key"]}}]}}"#
        );
        let (first, second) = (plan_of(&text).unwrap(), plan_of(&text).unwrap());
        assert_eq!(first.keys[0].key.project_id, "p1");
        assert_eq!(first.keys[0].key.key_alias, format!("seed-{KEY}"));
        assert_eq!(first.keys[0].key.key_spec, "AES_256");
        assert_eq!(first.keys[0].key.key_state, KeyState::Enabled);
        assert!(first.keys[0].material.is_none());
        assert_eq!(first.grants[0].grant_id, second.grants[0].grant_id);
        let other = text.replace("describe-key", "encrypt-data");
        assert_ne!(
            plan_of(&other).unwrap().grants[0].grant_id,
            first.grants[0].grant_id
        );
    }

    #[test]
    fn aws_operation_names_make_an_aws_grant() {
        let plan = plan_of(&format!(
            r#"{{"keys":[{{"key_id":"{KEY}","owner":"alice","key_spec":"ECC_NIST_P256","key_usage":"SIGN_VERIFY"}}],
              "grants":[{{"key_id":"{KEY}","grantee":"bob","operations":["Sign","Verify","Sign"]}}]}}"#
        ))
        .unwrap();
        assert_eq!(
            plan.grants[0].operations,
            [GrantOperation::Sign, GrantOperation::Verify]
        );
        assert_eq!(plan.grants[0].dialect, Some(super::super::Dialect::Aws));
    }

    #[test]
    fn base64_material_and_aws_spec_names_are_read() {
        let plan = plan_of(&format!(
            r#"{{"keys":[{{"key_id":"{KEY}","owner":"alice","key_spec":"HMAC_256",
                "material_base64":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}}]}}"#
        ))
        .unwrap();
        assert_eq!(plan.keys[0].key.key_spec, "HMAC_256");
        assert_eq!(plan.keys[0].key.key_usage, "GENERATE_VERIFY_MAC");
        assert_eq!(plan.keys[0].material.as_ref().unwrap().len(), 32);
    }

    #[test]
    fn sm4_keys_may_be_seeded() {
        let plan = plan_of(&format!(
            r#"{{"keys":[{{"key_id":"{KEY}","owner":"alice","key_spec":"SM4",
                "material_hex":"000102030405060708090a0b0c0d0e0f"}}]}}"#
        ))
        .unwrap();
        assert_eq!(plan.keys[0].key.key_spec, "SM4");
        assert_eq!(plan.keys[0].key.key_usage, "ENCRYPT_DECRYPT");
        assert_eq!(plan.keys[0].material.as_ref().unwrap().len(), 16);
    }

    #[test]
    fn every_bad_entry_is_refused_with_its_place() {
        let key =
            |fields: &str| format!(r#"{{"keys":[{{"key_id":"{KEY}","owner":"alice"{fields}}}]}}"#);
        let grant = |fields: &str| {
            format!(
                r#"{{"keys":[{{"key_id":"{KEY}","owner":"alice"}}],"grants":[{{"key_id":"{KEY}"{fields}}}]}}"#
            )
        };
        let cases = [
            (r#"{"keys":[{"key_id":"nope","owner":"alice"}]}"#.to_owned(), "seed key #1"),
            (key(r#","extra":1"#), "unknown field"),
            (key(r#","key_spec":"AES_512""#), "key_spec"),
            (key(r#","key_spec":"RSA_2048","key_usage":"GENERATE_VERIFY_MAC""#), "GENERATE_VERIFY_MAC"),
            (key(r#","material_hex":"0g""#), "material_hex"),
            (key(r#","material_hex":"00","material_base64":"AA==""#), "not both"),
            (key(r#","material_base64":"***""#), "Base64"),
            (key(r#","state":"PendingDeletion""#), "Enabled or Disabled"),
            (key(r#","policy":"text""#), "JSON object"),
            (key(r#","project_id":"p9""#), "not a member"),
            (key(r#","aws_aliases":["alias/aws/x"]"#), "aws_aliases"),
            (key(r#","aws_aliases":["alias/a","alias/a"]"#), "appears twice"),
            (key(r#","alias":"""#), "key_alias"),
            (key(r#","tags":[{"key":"aws:x"}]"#), "tags: Tag keys starting with 'aws:'"),
            (key(r#","tags":[{"key":"a","value":"<"}]"#), "tags: Invalid value"),
            (key(r#","tags":[{"key":"a"},{"key":"a"}]"#), "more than once"),
            (r#"{"keys":[{"key_id":"5eed0000-0000-4000-8000-000000000001","owner":"zed"}]}"#.into(), "no user"),
            (r#"{"keys":[{"key_id":"5eed0000-0000-4000-8000-000000000001","owner":"nobody"}]}"#.into(), "no project"),
            (
                format!(r#"{{"keys":[{{"key_id":"{KEY}","owner":"alice"}},{{"key_id":"{KEY}","owner":"alice","alias":"x"}}]}}"#),
                "seed key #2",
            ),
            (
                format!(r#"{{"keys":[{{"key_id":"{KEY}","owner":"alice","alias":"x"}},{{"key_id":"5eed0000-0000-4000-8000-000000000002","owner":"alice","alias":"x"}}]}}"#),
                "another seed key",
            ),
            (grant(r#","grantee":"bob","operations":["fly"]"#), "not a grant operation"),
            (grant(r#","grantee":"bob","operations":["create-grant"]"#), "seed grant #1"),
            (grant(r#","grantee":"zed","operations":["describe-key"]"#), "no grantee"),
            (grant(r#","grantee":"bob","operations":["describe-key"],"retiring_principal":"zed""#), "no retiring"),
            (grant(r#","grantee":"bob","operations":["Sign"]"#), "cannot do"),
            (grant(r#","grantee":"bob","operations":["sign"]"#), "Huawei grant operations or all AWS ones"),
            (grant(r#","grantee":"bob","operations":["Sign","describe-key"]"#), "or all AWS ones"),
            (grant(r#","grantee":"bob","operations":["CreateGrant"]"#), "CreateGrant alone"),
            (grant(r#","grantee":"bob","operations":[]"#), "operations is required"),
            (grant(r#","grantee":"bob","operations":["describe-key"],"grant_id":"xyz""#), "64 hex"),
            (
                r#"{"grants":[{"key_id":"5eed0000-0000-4000-8000-000000000009","grantee":"bob","operations":["describe-key"]}]}"#.into(),
                "not one of the seed's keys",
            ),
        ];
        for (text, expected) in cases {
            let error = plan_of(&text).expect_err(&text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn counts_describe_themselves() {
        let counts = SeedCounts {
            keys: 2,
            grants: 1,
            aliases: 0,
        };
        assert!(!counts.is_empty());
        assert!(SeedCounts::default().is_empty());
        assert_eq!(
            counts.audit_detail(),
            "seed loaded: inserted 2 keys, 1 grants and 0 aliases"
        );
    }
}
