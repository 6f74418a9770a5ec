//! One AWS request's context, and the wire checks several operations share: how a
//! `KeyId` names a key, grant tokens, encryption contexts, algorithms and paging.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Operation;
use super::body::{Body, constraint_failed};
use super::error::{AwsError, Context, from_kms};
use crate::api::AppState;
use crate::domain::alias;
use crate::domain::authz::KeyNaming;
use crate::domain::ids::excerpt;
use crate::domain::key_spec::{Cloud, EncryptionAlgorithm};
use crate::domain::{Caller, Key, KeyId, KeyRef, KmsError};

/// AWS: at most 10 grant tokens of 1–8192 characters.
const MAX_GRANT_TOKENS: usize = 10;

/// One request: who calls, which operation, and its body.
pub(super) struct Call<'a> {
    pub state: &'a AppState,
    pub caller: Caller,
    pub operation: Operation,
    pub body: Body,
}

/// A key as the request named it, with the ARN messages about it show.
pub(super) struct NamedKey {
    pub key: KeyRef,
    /// The ARN given, or the one a bare key ID has in the caller's account.
    pub arn: String,
}

impl Call<'_> {
    /// The region the request is made in: its SigV4 scope's.
    pub fn region(&self) -> &str {
        &self.caller.region
    }

    /// `kms:<Operation>`, as policies and AccessDenied messages name it.
    fn action(&self) -> String {
        format!("kms:{}", self.operation.name())
    }

    /// A domain error in AWS's words, about the key whose ARN is `key_arn`.
    pub fn kms_error(&self, key_arn: Option<&str>, error: KmsError) -> AwsError {
        let action = self.action();
        from_kms(
            error,
            &Context {
                key_arn,
                caller_arn: &self.caller.aws_arn,
                action: &action,
            },
        )
    }

    /// An error of an operation on `named`.
    pub fn key_error(&self, named: &NamedKey) -> impl Fn(KmsError) -> AwsError + '_ {
        let arn = named.arn.clone();
        move |error| self.kms_error(Some(&arn), error)
    }

    pub fn key_arn(&self, key: &Key) -> String {
        self.state.kms.key_arn(key)
    }

    /// `KeyId` as a key ID or key ARN. A bare ID names a key of the caller's account;
    /// an ARN names its account, which the authorization core holds the key to. AWS
    /// answers NotFoundException for a malformed ID and for an ARN of another region.
    pub fn named_key(&self, value: &str) -> Result<NamedKey, AwsError> {
        if names_alias(value) {
            return Err(AwsError::new(
                "NotFoundException",
                format!(
                    "{} does not accept an alias ({}): use a key ID or key ARN.",
                    self.operation.name(),
                    excerpt(value)
                ),
            ));
        }
        if let Some(rest) = value.strip_prefix("arn:aws:kms:") {
            let mut fields = rest.splitn(3, ':');
            let (region, account, resource) = (
                fields.next().unwrap_or(""),
                fields.next().unwrap_or(""),
                fields.next().unwrap_or(""),
            );
            if region != self.region() {
                return Err(AwsError::new(
                    "NotFoundException",
                    format!("Invalid arn {}", excerpt(region)),
                ));
            }
            let id = resource
                .strip_prefix("key/")
                .and_then(|id| KeyId::parse(id).ok())
                .filter(|_| account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    AwsError::new(
                        "NotFoundException",
                        format!("Invalid arn {}", excerpt(value)),
                    )
                })?;
            let domain = self
                .state
                .identities
                .domain_by_aws_account(account)
                .map(|d| d.id.clone());
            return Ok(NamedKey {
                key: KeyRef {
                    id: id.in_region(self.region()),
                    naming: KeyNaming::InAccount(domain),
                },
                arn: value.to_owned(),
            });
        }
        let id = KeyId::parse(value).map_err(|_| {
            AwsError::new(
                "NotFoundException",
                format!("Invalid keyId '{}'", excerpt(value)),
            )
        })?;
        Ok(NamedKey {
            arn: format!(
                "arn:aws:kms:{}:{}:key/{id}",
                self.region(),
                self.caller.aws_account
            ),
            key: KeyRef {
                id: id.in_region(self.region()),
                naming: KeyNaming::InAccount(Some(self.caller.domain_id.clone())),
            },
        })
    }

    /// `KeyId` as a key ID, key ARN, alias name (`alias/...`, in the caller's account) or
    /// alias ARN (in the account it names), for the operations AWS lets name a key by
    /// alias. The alias is resolved to its key here; who may use that key is decided on
    /// the key, as for a key named directly.
    pub async fn key_or_alias(&self, value: &str) -> Result<NamedKey, AwsError> {
        if !names_alias(value) {
            return self.named_key(value);
        }
        let (domain, account, alias_name) = match value.strip_prefix("arn:aws:kms:") {
            None => (
                Some(self.caller.domain_id.clone()),
                self.caller.aws_account.clone(),
                value,
            ),
            Some(rest) => {
                let mut fields = rest.splitn(3, ':');
                let (region, account, resource) = (
                    fields.next().unwrap_or(""),
                    fields.next().unwrap_or(""),
                    fields.next().unwrap_or(""),
                );
                if region != self.region() {
                    return Err(AwsError::new(
                        "NotFoundException",
                        format!("Invalid arn {}", excerpt(region)),
                    ));
                }
                let domain = self
                    .state
                    .identities
                    .domain_by_aws_account(account)
                    .map(|d| d.id.clone());
                (domain, account.to_owned(), resource)
            }
        };
        let alias_arn = format!("arn:aws:kms:{}:{account}:{alias_name}", self.region());
        let not_found = || {
            AwsError::new(
                "NotFoundException",
                format!("Alias {} is not found.", excerpt(&alias_arn)),
            )
        };
        let Some(domain) = domain.filter(|_| alias::check_name(alias_name).is_ok()) else {
            return Err(not_found());
        };
        let id = self
            .state
            .kms
            .resolve_alias(&domain, self.region(), alias_name)
            .await
            .map_err(|e| self.kms_error(None, e))?
            .ok_or_else(not_found)?;
        Ok(NamedKey {
            arn: format!("arn:aws:kms:{}:{account}:key/{id}", self.region()),
            key: KeyRef {
                id,
                naming: KeyNaming::InAccount(Some(domain)),
            },
        })
    }

    pub async fn required_key_or_alias(&self, name: &str) -> Result<NamedKey, AwsError> {
        let value = self.body.required_bounded_str(name, 1, 2048)?;
        self.key_or_alias(value).await
    }

    pub async fn optional_key_or_alias(&self, name: &str) -> Result<Option<NamedKey>, AwsError> {
        match self.body.optional_bounded_str(name, 1, 2048)? {
            Some(value) => self.key_or_alias(value).await.map(Some),
            None => Ok(None),
        }
    }

    /// A key this service named itself (in a ciphertext or grant token), which, like
    /// AWS's, identifies its key in whatever account it is.
    pub fn issued_key(&self, id: KeyId) -> NamedKey {
        NamedKey {
            arn: format!("arn:aws:kms:{}:*:key/{id}", self.region()),
            key: KeyRef {
                id: id.in_region(self.region()),
                naming: KeyNaming::Issued,
            },
        }
    }

    pub fn required_key(&self, name: &str) -> Result<NamedKey, AwsError> {
        let value = self.body.required_bounded_str(name, 1, 2048)?;
        self.named_key(value)
    }

    pub fn optional_key(&self, name: &str) -> Result<Option<NamedKey>, AwsError> {
        self.body
            .optional_bounded_str(name, 1, 2048)?
            .map(|v| self.named_key(v))
            .transpose()
    }

    /// Validates `GrantTokens`: each must be a token this service issued. Grants take
    /// effect at once here, so a valid token adds no permission the grant lacks.
    pub fn check_grant_tokens(&self) -> Result<(), AwsError> {
        let Some(tokens) = self.body.optional_str_list("GrantTokens")? else {
            return Ok(());
        };
        if tokens.len() > MAX_GRANT_TOKENS {
            return Err(constraint_failed(
                "GrantTokens",
                &format!("[{} tokens]", tokens.len()),
                &format!("Member must have length less than or equal to {MAX_GRANT_TOKENS}"),
            ));
        }
        for token in tokens {
            if token.is_empty() || token.chars().count() > 8192 {
                return Err(constraint_failed(
                    "GrantTokens",
                    token,
                    "Member must satisfy constraint: [Member must have length less than or equal to 8192, Member must have length greater than or equal to 1]",
                ));
            }
            if self.state.kms.open_grant_token(token).is_none() {
                return Err(invalid_grant_token());
            }
        }
        Ok(())
    }

    pub fn encryption_context(&self) -> Result<BTreeMap<String, String>, AwsError> {
        Ok(self
            .body
            .optional_string_map("EncryptionContext")?
            .unwrap_or_default())
    }

    /// `EncryptionAlgorithm`, SYMMETRIC_DEFAULT when absent. Whether the key supports it
    /// is the service's question.
    pub fn encryption_algorithm(&self) -> Result<EncryptionAlgorithm, AwsError> {
        self.encryption_algorithm_field("EncryptionAlgorithm")
    }

    /// An encryption algorithm field (ReEncrypt has a source and a destination one),
    /// SYMMETRIC_DEFAULT when absent.
    pub fn encryption_algorithm_field(&self, field: &str) -> Result<EncryptionAlgorithm, AwsError> {
        match self.body.optional_str(field)? {
            None => Ok(EncryptionAlgorithm::default_for_request()),
            Some(name) => EncryptionAlgorithm::parse(Cloud::Aws, name)
                .map_err(|e| self.kms_error(None, KmsError::KeyType(e))),
        }
    }

    /// `(after, limit)` from `Marker` and `Limit`. Markers are the keyset positions
    /// that `NextMarker` hands out.
    pub fn page(&self, max: i64, default: i64) -> Result<(i64, u32), AwsError> {
        let limit = self.body.optional_int("Limit", 1, max)?.unwrap_or(default);
        let after = match self.body.optional_bounded_str("Marker", 1, 1024)? {
            None => 0,
            Some(marker) => marker
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    AwsError::new(
                        "InvalidMarkerException",
                        format!("Marker {} was not issued by this service.", excerpt(marker)),
                    )
                })?,
        };
        Ok((after, limit as u32))
    }
}

/// Whether a `KeyId` names an alias (`alias/...` or an alias ARN).
fn names_alias(value: &str) -> bool {
    value.starts_with("alias/") || value.starts_with("arn:aws:kms:") && value.contains(":alias/")
}

pub(super) fn invalid_grant_token() -> AwsError {
    AwsError::new(
        "InvalidGrantTokenException",
        "The grant token is not valid.",
    )
}

/// A listing with AWS's pagination fields: `Truncated` always, `NextMarker` when true.
pub(super) fn paged(field: &str, items: Vec<Value>, next_after: Option<i64>) -> Value {
    paged_by(field, items, next_after.map(|n| n.to_string()))
}

/// As `paged`, with a marker of any form.
pub(super) fn paged_by(field: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut value = json!({ field: items, "Truncated": next.is_some() });
    if let Some(next) = next {
        value["NextMarker"] = json!(next);
    }
    value
}
