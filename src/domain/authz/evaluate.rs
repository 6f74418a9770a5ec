//! The one authorization decision both dialects use.
//!
//! Given the caller (with its identity policies in either language), the action, the
//! key (with its key policy), the caller's grants on it and what the request says
//! (encryption context, a new grant's properties), it answers allow or deny with the
//! reason. The order is AWS's, which Huawei's documented model is a case of:
//!
//! 1. An explicit `Deny` in an identity policy of the caller, or in the key policy for a
//!    statement naming the caller, refuses the request, whatever else allows it.
//! 2. A key policy statement naming the caller itself allows it, in the key's account.
//! 3. A key policy statement naming the caller or the caller's account (the default key
//!    policy names the key's own account: "enable IAM policies") allows it together
//!    with an identity policy that allows it. From another account, both are needed.
//! 4. A live grant naming the caller allows the operations it holds on its key, under
//!    its constraint (CreateGrant: the sub-grant rule of `grants::parent_for_sub_grant`).
//! 5. Otherwise the request is refused: "no identity-based policy allows" when the key
//!    policy left the decision to IAM, else "no resource-based policy allows".
//!
//! Actions on no key (CreateKey, ListKeys, ListRetirableGrants, GenerateRandom) are
//! decided by identity policies alone.
//!
//! Each cloud's own extra rules (Huawei: only the key's creator revokes; who retires)
//! are in `huawei` and `aws`, on top of this.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::Action;
use super::condition::ConditionFacts;
use super::grants::{self, GrantAnswer};
use super::policy::{
    Kind, Language, PolicyDocument, PrincipalFacts, PrincipalMatch, Query, Verdict,
};
use crate::domain::{Caller, ContextConstraint, Grant, GrantOperation, Key};

/// The identity policies attached to a caller (its own and its account's), in either
/// language. Parsed once, when the identities are loaded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityPolicies {
    documents: Vec<PolicyDocument>,
}

impl IdentityPolicies {
    pub fn new(documents: Vec<PolicyDocument>) -> Self {
        Self { documents }
    }

    pub fn none() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    pub fn documents(&self) -> &[PolicyDocument] {
        &self.documents
    }

    fn verdict(&self, request: &Request<'_>) -> Verdict {
        let mut verdict = Verdict::Silent;
        for document in &self.documents {
            let facts = RequestFacts {
                request,
                language: document.language(),
            };
            let query = request.query(document.language(), &facts);
            match document.verdict(&query) {
                Verdict::Deny => return Verdict::Deny,
                Verdict::Allow => verdict = Verdict::Allow,
                Verdict::Silent => {}
            }
        }
        verdict
    }
}

/// A key's policy: the default one (the key's account may do everything, so its IAM
/// policies decide), or one a user put.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyPolicy {
    Default,
    Custom(PolicyDocument),
}

impl KeyPolicy {
    /// The stored text of a key's policy (`None`: the default).
    pub fn parse(stored: Option<&str>) -> Result<Self, String> {
        match stored {
            None => Ok(Self::Default),
            Some(text) => PolicyDocument::parse(text, Language::Aws, Kind::Key).map(Self::Custom),
        }
    }

    /// The default key policy AWS gives a key created without one, as JSON text.
    pub fn default_text(account: &str) -> String {
        serde_json::to_string_pretty(&serde_json::json!({
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [{
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": "kms:*",
                "Resource": "*"
            }]
        }))
        .expect("a JSON value serializes")
    }
}

/// The key a request is about, with the names policies use for it.
pub struct KeyFacts<'a> {
    pub key: &'a Key,
    /// `arn:aws:kms:REGION:ACCOUNT:key/ID`.
    pub arn: &'a str,
    /// `KMS:REGION:DOMAIN_ID:KeyId:ID`, the resource of Huawei identity policies.
    pub huawei_resource: &'a str,
    /// The 12-digit AWS account ID of the key's account.
    pub account: &'a str,
    pub policy: &'a KeyPolicy,
}

/// The properties of a grant being created, in both languages' vocabularies, for the
/// condition keys that test them and for the sub-grant rule.
#[derive(Debug, Clone, Default)]
pub struct NewGrantFacts {
    pub operations: Vec<GrantOperation>,
    pub constraint: Option<ContextConstraint>,
    /// AWS operation names (`Encrypt`, ...), for `kms:GrantOperations` in AWS policies.
    pub aws_operations: Vec<String>,
    /// As the AWS dialect names principals (an ARN) and as Huawei does (an ID).
    pub grantee_aws: String,
    pub grantee_huawei: String,
    pub grantee_type: &'static str,
    pub retiring_aws: Option<String>,
    pub retiring_huawei: Option<String>,
}

/// One authorization question.
pub struct Request<'a> {
    pub caller: &'a Caller,
    pub action: Action,
    /// `None` for the actions on no key.
    pub key: Option<KeyFacts<'a>>,
    /// Grants on the key that may name the caller as grantee (others are ignored).
    pub grants: &'a [Grant],
    /// The request's encryption context, as string pairs (`None`: none in that form).
    pub context: Option<&'a BTreeMap<String, String>>,
    pub new_grant: Option<&'a NewGrantFacts>,
}

impl Request<'_> {
    fn query<'q>(&'q self, language: Language, facts: &'q dyn ConditionFacts) -> Query<'q> {
        let resource = match (&self.key, language) {
            (None, _) => "*",
            (Some(k), Language::Aws) => k.arn,
            (Some(k), Language::Huawei) => k.huawei_resource,
        };
        Query {
            action_names: match language {
                Language::Aws => self.action.aws_names(),
                Language::Huawei => self.action.huawei_names(),
            },
            resource,
            facts,
        }
    }
}

/// The condition keys of a request, in the vocabulary of one policy language.
struct RequestFacts<'a> {
    request: &'a Request<'a>,
    language: Language,
}

impl ConditionFacts for RequestFacts<'_> {
    fn values(&self, key: &str) -> Option<Vec<String>> {
        let request = self.request;
        let caller = request.caller;
        let one = |v: &str| Some(vec![v.to_owned()]);
        if let Some(context_key) = key.strip_prefix("kms:encryptioncontext:") {
            // The context key in the condition key compares without case, as AWS does.
            let values: Vec<String> = request
                .context?
                .iter()
                .filter(|(k, _)| k.to_lowercase() == context_key)
                .map(|(_, v)| v.clone())
                .collect();
            return (!values.is_empty()).then_some(values);
        }
        let grant = request.new_grant;
        match key {
            "kms:calleraccount" | "aws:principalaccount" => one(&caller.aws_account),
            "aws:principalarn" => one(&caller.aws_arn),
            "aws:username" => one(&caller.user_name),
            "aws:userid" | "g:userid" => one(&caller.user_id),
            "g:domainid" => one(&caller.domain_id),
            "g:projectid" => one(&caller.project_id),
            "kms:encryptioncontextkeys" => request
                .context
                .map(|context| context.keys().cloned().collect()),
            "kms:grantoperations" => grant.map(|g| match self.language {
                Language::Aws => g.aws_operations.clone(),
                Language::Huawei => g
                    .operations
                    .iter()
                    .map(|op| op.as_str().to_owned())
                    .collect(),
            }),
            "kms:granteeprincipal" => grant.map(|g| {
                vec![match self.language {
                    Language::Aws => g.grantee_aws.clone(),
                    Language::Huawei => g.grantee_huawei.clone(),
                }]
            }),
            "kms:granteeprincipaltype" => grant.map(|g| vec![g.grantee_type.to_owned()]),
            "kms:retiringprincipal" => grant.and_then(|g| {
                match self.language {
                    Language::Aws => g.retiring_aws.clone(),
                    Language::Huawei => g.retiring_huawei.clone(),
                }
                .map(|p| vec![p])
            }),
            "kms:grantconstrainttype" => grant.and_then(|g| {
                g.constraint.as_ref().map(|c| {
                    vec![match c {
                        ContextConstraint::Subset(_) => "EncryptionContextSubset".to_owned(),
                        ContextConstraint::Equals(_) => "EncryptionContextEquals".to_owned(),
                    }]
                })
            }),
            // No AWS service calls on anyone's behalf here.
            "kms:grantisforawsresource"
                if matches!(
                    request.action,
                    Action::CreateGrant | Action::ListGrants | Action::RevokeGrant
                ) =>
            {
                one("false")
            }
            _ => None,
        }
    }
}

/// Why a request was refused: which check said no. AWS words its message by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialBasis {
    ExplicitIdentityDeny,
    ExplicitResourceDeny,
    NoIdentityAllow,
    NoResourceAllow,
    /// A cloud's own rule beyond policies (creator-only revoke, who may retire, the
    /// sub-grant rule).
    Rule,
}

/// What a refused request was about, which decides how much the answer may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialScope {
    /// An action on no key (CreateKey, ListKeys, ...): Huawei answers `KMS.0307`.
    NoKey,
    /// A key of the caller's own account.
    OwnKey,
    /// A key of another account (or one that may not exist): AWS's answer then says
    /// neither which policy refused nor whether the key exists.
    ForeignKey,
}

impl DenialScope {
    pub fn of(caller: &Caller, key: &Key) -> Self {
        if caller.domain_id == key.domain_id {
            Self::OwnKey
        } else {
            Self::ForeignKey
        }
    }
}

/// A refusal: its basis, its scope, and a message for the person reading the client's
/// exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub basis: DenialBasis,
    pub scope: DenialScope,
    pub message: String,
    /// The ARN of the key the refusal is about, when the caller may know it (AWS's
    /// message names it; a request may not have, e.g. a Decrypt without `KeyId`).
    pub resource: Option<String>,
}

impl Denial {
    pub fn rule(scope: DenialScope, message: impl Into<String>) -> Self {
        Self {
            basis: DenialBasis::Rule,
            scope,
            message: message.into(),
            resource: None,
        }
    }

    /// The refusal, naming the key `arn` it is about if it names none yet.
    pub fn about(mut self, arn: &str) -> Self {
        self.resource.get_or_insert_with(|| arn.to_owned());
        self
    }

    /// The answer to a request naming a key of another account that the caller cannot
    /// see, or that does not exist: the same either way.
    pub fn foreign(action: Action, key_id: &crate::domain::KeyId) -> Self {
        Self {
            basis: DenialBasis::NoResourceAllow,
            scope: DenialScope::ForeignKey,
            message: format!(
                "{action} on key {key_id}: the key does not exist in this region, or no key policy or grant allows it to you."
            ),
            resource: None,
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// How a request was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    ByPolicy,
    ByGrant,
}

/// Whether the caller's identity policies allow the request (and none denies it),
/// whatever the key policy and grants say.
pub fn identity_allows(request: &Request<'_>) -> bool {
    request.caller.policies.verdict(request) == Verdict::Allow
}

/// The decision.
pub fn authorize(request: &Request<'_>) -> Result<Allowed, Denial> {
    let action = request.action;
    let caller = request.caller;
    let identity = caller.policies.verdict(request);
    let Some(key) = &request.key else {
        return match identity {
            Verdict::Allow => Ok(Allowed::ByPolicy),
            Verdict::Deny => Err(Denial {
                basis: DenialBasis::ExplicitIdentityDeny,
                scope: DenialScope::NoKey,
                message: format!("an identity policy of yours explicitly denies {action}."),
                resource: None,
            }),
            Verdict::Silent => Err(Denial {
                basis: DenialBasis::NoIdentityAllow,
                scope: DenialScope::NoKey,
                message: format!("no identity policy of yours allows {action}."),
                resource: None,
            }),
        };
    };
    let scope = DenialScope::of(caller, key.key);
    let key_id = &key.key.key_id;
    if identity == Verdict::Deny {
        return Err(Denial {
            basis: DenialBasis::ExplicitIdentityDeny,
            scope,
            message: format!(
                "an identity policy of yours explicitly denies {action} on key {key_id}."
            ),
            resource: None,
        });
    }
    let (key_verdict, named) = match key.policy {
        KeyPolicy::Default if caller.aws_account == key.account => {
            (Verdict::Allow, PrincipalMatch::Account)
        }
        KeyPolicy::Default => (Verdict::Silent, PrincipalMatch::No),
        KeyPolicy::Custom(document) => {
            let facts = RequestFacts {
                request,
                language: Language::Aws,
            };
            let who = PrincipalFacts {
                arn: &caller.aws_arn,
                account: &caller.aws_account,
            };
            document.key_verdict(&request.query(Language::Aws, &facts), &who)
        }
    };
    if key_verdict == Verdict::Deny {
        return Err(Denial {
            basis: DenialBasis::ExplicitResourceDeny,
            scope,
            message: format!("the key policy of key {key_id} explicitly denies {action} to you."),
            resource: None,
        });
    }
    let same_account = scope == DenialScope::OwnKey;
    let by_policy = key_verdict == Verdict::Allow
        && (same_account || action.crosses_accounts())
        && match named {
            PrincipalMatch::Direct => same_account || identity == Verdict::Allow,
            PrincipalMatch::Account => identity == Verdict::Allow,
            PrincipalMatch::No => false,
        };
    if by_policy {
        return Ok(Allowed::ByPolicy);
    }
    let by_grant = match (action, request.new_grant) {
        (Action::CreateGrant, Some(new)) => {
            let parent = grants::parent_for_sub_grant(
                caller,
                key.key,
                request.grants,
                &new.operations,
                new.constraint.as_ref(),
            );
            match (parent, grants::held(caller, key.key, request.grants).next()) {
                (Some(_), _) => GrantAnswer::Allows,
                (None, Some(_)) => GrantAnswer::LacksOperation,
                (None, None) => GrantAnswer::None,
            }
        }
        _ => grants::grant_answer(caller, key.key, request.grants, action, request.context),
    };
    if by_grant == GrantAnswer::Allows {
        return Ok(Allowed::ByGrant);
    }
    let basis = if key_verdict == Verdict::Allow {
        DenialBasis::NoIdentityAllow
    } else {
        DenialBasis::NoResourceAllow
    };
    let policies = match basis {
        DenialBasis::NoIdentityAllow => "no identity policy of yours allows it",
        _ if !same_account && !action.crosses_accounts() => {
            "it cannot be allowed to principals of another account"
        }
        _ => "the key policy does not allow it to you",
    };
    let grants_say = match (by_grant, action) {
        (GrantAnswer::None, _) => "",
        (_, Action::CreateGrant) => {
            "; and no single grant of yours holds CreateGrant and every requested operation with a constraint no stricter than the new grant's"
        }
        (GrantAnswer::WrongContext, _) => {
            "; and your grants allow it only with another encryption context"
        }
        _ => "; and none of your grants on the key allows it",
    };
    Err(Denial {
        basis,
        scope,
        message: format!("{action} on key {key_id}: {policies}{grants_say}."),
        resource: None,
    })
}
