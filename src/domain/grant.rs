//! Grants: who may use a key for which operations.

use std::collections::BTreeMap;
use std::fmt;

use super::ids::excerpt;
use super::text::{self, HUAWEI_GRANT_NAME};
use super::{GrantId, KeyId, KmsError};

/// The nine operations a Huawei Cloud grant can allow (OTC's API reference lists
/// seven; its console offers all nine, and so do we).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantOperation {
    CreateDatakey,
    CreateDatakeyWithoutPlaintext,
    EncryptDatakey,
    DecryptDatakey,
    DescribeKey,
    CreateGrant,
    RetireGrant,
    EncryptData,
    DecryptData,
    // AWS-only operations: grantable on a symmetric key in the AWS dialect, with no
    // Huawei counterpart. Stored like the others; the Huawei dialect never accepts them
    // in a request but shows them when it lists a grant made through AWS.
    ReEncryptFrom,
    ReEncryptTo,
    GenerateDataKeyPair,
    GenerateDataKeyPairWithoutPlaintext,
    // Key-pair and MAC operations: AWS names them in grants; Huawei's SDK 3.1.219
    // CreateGrantRequestBody lists none of them, so, like the ones above, they are
    // AWS-only in requests and shown by their stored names in Huawei listings.
    Sign,
    Verify,
    GetPublicKey,
    GenerateMac,
    VerifyMac,
    DeriveSharedSecret,
    // ML-KEM operations (AWS only, like the key specs they apply to).
    Encapsulate,
    Decapsulate,
}

impl GrantOperation {
    /// The operations a Huawei/OTC request may name.
    pub const HUAWEI: [GrantOperation; 9] = [
        Self::CreateDatakey,
        Self::CreateDatakeyWithoutPlaintext,
        Self::EncryptDatakey,
        Self::DecryptDatakey,
        Self::DescribeKey,
        Self::CreateGrant,
        Self::RetireGrant,
        Self::EncryptData,
        Self::DecryptData,
    ];

    /// Every operation a stored grant may hold.
    pub const ALL: [GrantOperation; 21] = [
        Self::CreateDatakey,
        Self::CreateDatakeyWithoutPlaintext,
        Self::EncryptDatakey,
        Self::DecryptDatakey,
        Self::DescribeKey,
        Self::CreateGrant,
        Self::RetireGrant,
        Self::EncryptData,
        Self::DecryptData,
        Self::ReEncryptFrom,
        Self::ReEncryptTo,
        Self::GenerateDataKeyPair,
        Self::GenerateDataKeyPairWithoutPlaintext,
        Self::Sign,
        Self::Verify,
        Self::GetPublicKey,
        Self::GenerateMac,
        Self::VerifyMac,
        Self::DeriveSharedSecret,
        Self::Encapsulate,
        Self::Decapsulate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateDatakey => "create-datakey",
            Self::CreateDatakeyWithoutPlaintext => "create-datakey-without-plaintext",
            Self::EncryptDatakey => "encrypt-datakey",
            Self::DecryptDatakey => "decrypt-datakey",
            Self::DescribeKey => "describe-key",
            Self::CreateGrant => "create-grant",
            Self::RetireGrant => "retire-grant",
            Self::EncryptData => "encrypt-data",
            Self::DecryptData => "decrypt-data",
            Self::ReEncryptFrom => "aws:ReEncryptFrom",
            Self::ReEncryptTo => "aws:ReEncryptTo",
            Self::GenerateDataKeyPair => "aws:GenerateDataKeyPair",
            Self::GenerateDataKeyPairWithoutPlaintext => "aws:GenerateDataKeyPairWithoutPlaintext",
            Self::Sign => "aws:Sign",
            Self::Verify => "aws:Verify",
            Self::GetPublicKey => "aws:GetPublicKey",
            Self::GenerateMac => "aws:GenerateMac",
            Self::VerifyMac => "aws:VerifyMac",
            Self::DeriveSharedSecret => "aws:DeriveSharedSecret",
            Self::Encapsulate => "aws:Encapsulate",
            Self::Decapsulate => "aws:Decapsulate",
        }
    }

    /// The AWS name of the operation (AWS `Encrypt` is stored as both `encrypt-data` and
    /// `encrypt-datakey`, so both read back as `Encrypt`).
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::EncryptData | Self::EncryptDatakey => "Encrypt",
            Self::DecryptData | Self::DecryptDatakey => "Decrypt",
            Self::CreateDatakey => "GenerateDataKey",
            Self::CreateDatakeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            Self::DescribeKey => "DescribeKey",
            Self::CreateGrant => "CreateGrant",
            Self::RetireGrant => "RetireGrant",
            Self::ReEncryptFrom => "ReEncryptFrom",
            Self::ReEncryptTo => "ReEncryptTo",
            Self::GenerateDataKeyPair => "GenerateDataKeyPair",
            Self::GenerateDataKeyPairWithoutPlaintext => "GenerateDataKeyPairWithoutPlaintext",
            Self::Sign => "Sign",
            Self::Verify => "Verify",
            Self::GetPublicKey => "GetPublicKey",
            Self::GenerateMac => "GenerateMac",
            Self::VerifyMac => "VerifyMac",
            Self::DeriveSharedSecret => "DeriveSharedSecret",
            Self::Encapsulate => "Encapsulate",
            Self::Decapsulate => "Decapsulate",
        }
    }

    /// The stored operations an AWS grant operation stands for, or `None` for a name that
    /// is none of them (every value of botocore's GrantOperation is served). Whether the
    /// key can do them is decided when the grant is made, against the key's type.
    pub fn of_aws_name(aws: &str) -> Option<&'static [GrantOperation]> {
        use GrantOperation::*;
        Some(match aws {
            "Encrypt" => &[EncryptData, EncryptDatakey],
            "Decrypt" => &[DecryptData, DecryptDatakey],
            "GenerateDataKey" => &[CreateDatakey],
            "GenerateDataKeyWithoutPlaintext" => &[CreateDatakeyWithoutPlaintext],
            "DescribeKey" => &[DescribeKey],
            "CreateGrant" => &[CreateGrant],
            "RetireGrant" => &[RetireGrant],
            "ReEncryptFrom" => &[ReEncryptFrom],
            "ReEncryptTo" => &[ReEncryptTo],
            "GenerateDataKeyPair" => &[GenerateDataKeyPair],
            "GenerateDataKeyPairWithoutPlaintext" => &[GenerateDataKeyPairWithoutPlaintext],
            "Sign" => &[Sign],
            "Verify" => &[Verify],
            "GetPublicKey" => &[GetPublicKey],
            "GenerateMac" => &[GenerateMac],
            "VerifyMac" => &[VerifyMac],
            "DeriveSharedSecret" => &[DeriveSharedSecret],
            "Encapsulate" => &[Encapsulate],
            "Decapsulate" => &[Decapsulate],
            _ => return None,
        })
    }

    /// A Huawei/OTC operation name from a request.
    pub fn parse(value: &str) -> Result<Self, KmsError> {
        Self::HUAWEI
            .into_iter()
            .find(|op| op.as_str() == value)
            .ok_or_else(|| {
                KmsError::InvalidParameter(format!(
                    "operations contains '{}', which is not a grant operation; valid values are {}.",
                    excerpt(value),
                    Self::HUAWEI.map(Self::as_str).join(", ")
                ))
            })
    }

    /// What the operation does to a key, for the key type's rules (a grant for an
    /// operation the key cannot do is refused).
    pub fn key_operation(self) -> crate::domain::key_spec::KeyOperation {
        use crate::domain::key_spec::KeyOperation as K;
        match self {
            Self::CreateDatakey => K::GenerateDataKey,
            Self::CreateDatakeyWithoutPlaintext => K::GenerateDataKeyWithoutPlaintext,
            Self::EncryptDatakey | Self::EncryptData => K::Encrypt,
            Self::DecryptDatakey | Self::DecryptData => K::Decrypt,
            Self::DescribeKey => K::DescribeKey,
            Self::CreateGrant => K::CreateGrant,
            Self::RetireGrant => K::RetireGrant,
            Self::ReEncryptFrom => K::ReEncryptFrom,
            Self::ReEncryptTo => K::ReEncryptTo,
            Self::GenerateDataKeyPair => K::GenerateDataKeyPair,
            Self::GenerateDataKeyPairWithoutPlaintext => K::GenerateDataKeyPairWithoutPlaintext,
            Self::Sign => K::Sign,
            Self::Verify => K::Verify,
            Self::GetPublicKey => K::GetPublicKey,
            Self::GenerateMac => K::GenerateMac,
            Self::VerifyMac => K::VerifyMac,
            Self::DeriveSharedSecret => K::DeriveSharedSecret,
            Self::Encapsulate => K::Encapsulate,
            Self::Decapsulate => K::Decapsulate,
        }
    }

    /// An operation name as stored (any dialect's).
    pub fn from_stored(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == value)
    }
}

impl fmt::Display for GrantOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Validates a requested operation list. Duplicates are dropped (first occurrence
/// wins) rather than rejected: a client that repeats a value means the same grant.
pub fn parse_operations<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<GrantOperation>, KmsError> {
    let mut operations = Vec::new();
    for value in values {
        let op = GrantOperation::parse(value)?;
        if !operations.contains(&op) {
            operations.push(op);
        }
    }
    if operations.is_empty() {
        return Err(KmsError::MissingParameter("operations"));
    }
    if operations == [GrantOperation::CreateGrant] {
        return Err(KmsError::OnlyCreateGrant);
    }
    Ok(operations)
}

/// Why a list of AWS grant operation names does not make a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsOperationsError<'a> {
    /// No operation named.
    Empty,
    /// A name this emulator does not serve (or no AWS operation at all).
    Unserved(&'a str),
    /// CreateGrant alone, which both clouds refuse.
    OnlyCreateGrant,
}

/// The stored operations of AWS `Operations` (duplicates dropped, first occurrence wins),
/// with the rules both the AWS dialect and the seed apply to them.
pub fn parse_aws_operations<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<GrantOperation>, AwsOperationsError<'a>> {
    let mut operations = Vec::new();
    for name in names {
        let stored = GrantOperation::of_aws_name(name).ok_or(AwsOperationsError::Unserved(name))?;
        for op in stored {
            if !operations.contains(op) {
                operations.push(*op);
            }
        }
    }
    match operations.as_slice() {
        [] => Err(AwsOperationsError::Empty),
        [GrantOperation::CreateGrant] => Err(AwsOperationsError::OnlyCreateGrant),
        _ => Ok(operations),
    }
}

/// Joins operations for storage; the stored form is the wire names separated by commas.
pub fn join_operations(operations: &[GrantOperation]) -> String {
    operations
        .iter()
        .map(|op| op.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads the stored form back. Unknown names can only come from a corrupted row.
pub fn split_operations(stored: &str) -> Result<Vec<GrantOperation>, KmsError> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| GrantOperation::from_stored(s).ok_or(KmsError::Internal))
        .collect()
}

/// Whether the grantee principal names an IAM user or a whole account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GranteeType {
    User,
    Domain,
}

impl GranteeType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Domain => "domain",
        }
    }

    pub fn parse(value: &str) -> Result<Self, KmsError> {
        match value {
            "user" => Ok(Self::User),
            "domain" => Ok(Self::Domain),
            other => Err(KmsError::InvalidParameter(format!(
                "grantee_principal_type '{}' must be 'user' or 'domain'.",
                excerpt(other)
            ))),
        }
    }
}

/// Validates an optional grant name.
pub fn validate_grant_name(value: &str) -> Result<(), KmsError> {
    text::check(&HUAWEI_GRANT_NAME, value).map_err(|violation| {
        KmsError::InvalidParameter(format!(
            "name '{}': {}",
            excerpt(value),
            violation.huawei_message("name", &HUAWEI_GRANT_NAME)
        ))
    })
}

/// An AWS grant constraint on the encryption context of cryptographic operations.
/// AWS allows one of the two per grant. Huawei requests carry none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextConstraint {
    /// The request's context must contain every pair given here.
    Subset(BTreeMap<String, String>),
    /// The request's context must be exactly this (case-sensitive).
    Equals(BTreeMap<String, String>),
}

impl ContextConstraint {
    /// Whether a request whose encryption context is `context` satisfies the
    /// constraint. `None` means the context could not be read as string pairs (a
    /// Huawei `additional_authenticated_data` string, say): it satisfies no constraint.
    pub fn allows(&self, context: Option<&BTreeMap<String, String>>) -> bool {
        let Some(context) = context else {
            return false;
        };
        match self {
            Self::Equals(required) => context == required,
            Self::Subset(required) => required.iter().all(|(k, v)| context.get(k) == Some(v)),
        }
    }

    /// The stored form: `{"EncryptionContextSubset": {...}}` or `{"EncryptionContextEquals": {...}}`,
    /// the AWS wire shape, so a row reads the same as a ListGrants entry.
    pub fn to_stored(&self) -> String {
        let (name, map) = match self {
            Self::Subset(map) => ("EncryptionContextSubset", map),
            Self::Equals(map) => ("EncryptionContextEquals", map),
        };
        serde_json::json!({ name: map }).to_string()
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        let value: BTreeMap<String, BTreeMap<String, String>> = serde_json::from_str(text).ok()?;
        let mut entries = value.into_iter();
        let (name, map) = entries.next()?;
        if entries.next().is_some() {
            return None;
        }
        match name.as_str() {
            "EncryptionContextSubset" => Some(Self::Subset(map)),
            "EncryptionContextEquals" => Some(Self::Equals(map)),
            _ => None,
        }
    }
}

/// A stored grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub grant_id: GrantId,
    pub key_id: KeyId,
    pub grantee_principal: String,
    pub grantee_principal_type: GranteeType,
    pub operations: Vec<GrantOperation>,
    pub issuing_principal: String,
    pub retiring_principal: Option<String>,
    /// Whether `retiring_principal` names a user or a whole account (AWS
    /// `arn:aws:iam::ACCOUNT:root`): a user ID is never compared with an account ID.
    pub retiring_principal_type: GranteeType,
    pub name: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub creation_date: i64,
    /// AWS `Constraints`; `None` for every grant made through the Huawei dialect.
    pub constraint: Option<ContextConstraint>,
    /// The API the grant was created through (`None` for grants older than the record).
    pub dialect: Option<super::Dialect>,
}

impl Grant {
    /// Whether `other` is the same grant for a CreateGrant retry: same key, name, issuer,
    /// grantee, retiring principal, constraint and set of operations.
    pub fn same_properties(&self, other: &Grant) -> bool {
        let ops = |g: &Grant| {
            let mut ops = g.operations.clone();
            ops.sort();
            ops.dedup();
            ops
        };
        self.key_id == other.key_id
            && self.name == other.name
            && self.issuing_principal == other.issuing_principal
            && self.grantee_principal == other.grantee_principal
            && self.grantee_principal_type == other.grantee_principal_type
            && self.retiring_principal == other.retiring_principal
            && self.retiring_principal_type == other.retiring_principal_type
            && self.constraint == other.constraint
            && ops(self) == ops(other)
    }
}

impl Grant {
    pub fn allows(&self, operation: GrantOperation) -> bool {
        self.operations.contains(&operation)
    }

    /// Whether the grant allows `operation` for a request with `context`. Constraints
    /// apply to the cryptographic operations only (AWS ignores them for DescribeKey,
    /// CreateGrant and RetireGrant).
    pub fn allows_with_context(
        &self,
        operation: GrantOperation,
        context: Option<&BTreeMap<String, String>>,
    ) -> bool {
        let constrained = !matches!(
            operation,
            GrantOperation::DescribeKey | GrantOperation::CreateGrant | GrantOperation::RetireGrant
        );
        self.allows(operation)
            && (!constrained || self.constraint.as_ref().is_none_or(|c| c.allows(context)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_round_trips_through_its_wire_name() {
        for op in GrantOperation::HUAWEI {
            assert_eq!(GrantOperation::parse(op.as_str()).unwrap(), op);
        }
        for op in GrantOperation::ALL {
            assert_eq!(GrantOperation::from_stored(op.as_str()), Some(op));
        }
    }

    #[test]
    fn unknown_operation_names_list_the_valid_ones() {
        let err = GrantOperation::parse("encrypt").unwrap_err();
        let KmsError::InvalidParameter(message) = err else {
            panic!("{err:?}")
        };
        assert!(message.contains("decrypt-data"), "{message}");
    }

    #[test]
    fn operations_must_not_be_empty_or_only_create_grant() {
        assert_eq!(
            parse_operations([]),
            Err(KmsError::MissingParameter("operations"))
        );
        assert_eq!(
            parse_operations(["create-grant"]),
            Err(KmsError::OnlyCreateGrant)
        );
        assert_eq!(
            parse_operations(["create-grant", "create-grant"]),
            Err(KmsError::OnlyCreateGrant)
        );
        assert_eq!(
            parse_operations(["create-grant", "describe-key"]).unwrap(),
            vec![GrantOperation::CreateGrant, GrantOperation::DescribeKey]
        );
    }

    #[test]
    fn duplicate_operations_are_dropped_in_order() {
        assert_eq!(
            parse_operations(["encrypt-data", "decrypt-data", "encrypt-data"]).unwrap(),
            vec![GrantOperation::EncryptData, GrantOperation::DecryptData]
        );
    }

    #[test]
    fn stored_operations_round_trip() {
        let ops = GrantOperation::ALL.to_vec();
        assert_eq!(split_operations(&join_operations(&ops)).unwrap(), ops);
        assert_eq!(split_operations("bogus"), Err(KmsError::Internal));
    }

    #[test]
    fn huawei_requests_cannot_name_aws_only_operations() {
        assert!(GrantOperation::parse("aws:ReEncryptFrom").is_err());
        assert_eq!(
            GrantOperation::from_stored("aws:ReEncryptFrom"),
            Some(GrantOperation::ReEncryptFrom)
        );
    }

    #[test]
    fn context_constraints_match_as_aws_documents() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let subset = ContextConstraint::Subset(map(&[("app", "x")]));
        assert!(subset.allows(Some(&map(&[("app", "x"), ("more", "y")]))));
        assert!(!subset.allows(Some(&map(&[("app", "X")]))));
        assert!(!subset.allows(Some(&map(&[]))));
        assert!(!subset.allows(None));
        let equals = ContextConstraint::Equals(map(&[("app", "x")]));
        assert!(equals.allows(Some(&map(&[("app", "x")]))));
        assert!(!equals.allows(Some(&map(&[("app", "x"), ("more", "y")]))));
        for c in [subset, equals] {
            assert_eq!(ContextConstraint::from_stored(&c.to_stored()), Some(c));
        }
        assert_eq!(ContextConstraint::from_stored("{}"), None);
    }

    #[test]
    fn grantee_type_accepts_only_user_and_domain() {
        assert_eq!(GranteeType::parse("user").unwrap(), GranteeType::User);
        assert_eq!(GranteeType::parse("domain").unwrap(), GranteeType::Domain);
        assert!(GranteeType::parse("User").is_err());
        assert!(GranteeType::parse("agency").is_err());
    }

    #[test]
    fn grant_names_follow_the_documented_pattern() {
        assert!(validate_grant_name("my_grant").is_ok());
        assert!(validate_grant_name("a:b/c_d-e").is_ok());
        assert!(validate_grant_name(&"n".repeat(255)).is_ok());
        for bad in [
            "",
            "with space",
            "semi;colon",
            &"n".repeat(256),
            "'; drop table kms_grant; --",
            "nul\0",
        ] {
            assert!(validate_grant_name(bad).is_err(), "{bad:?}");
        }
    }
}
