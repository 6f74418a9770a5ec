//! The actions of the authorization core: one per operation either dialect serves,
//! each with its IAM name in each cloud's policy language and the grant operation
//! that can allow it.
//!
//! A dialect maps its wire operation to one of these and nothing else, so a policy
//! written in either language, and a grant made through either API, decides the same
//! request the same way whichever API it arrives through.

use std::fmt;

use crate::domain::GrantOperation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    CreateKey,
    DescribeKey,
    ListKeys,
    EnableKey,
    DisableKey,
    ScheduleKeyDeletion,
    CancelKeyDeletion,
    CreateGrant,
    ListGrants,
    ListRetirableGrants,
    RevokeGrant,
    RetireGrant,
    /// Huawei encrypt-data, AWS Encrypt.
    EncryptData,
    /// Huawei decrypt-data, AWS Decrypt.
    DecryptData,
    /// Huawei encrypt-datakey (AWS has no separate operation: its `Encrypt` covers it).
    EncryptDatakey,
    /// Huawei decrypt-datakey (AWS: `Decrypt`).
    DecryptDatakey,
    /// Huawei create-datakey, AWS GenerateDataKey.
    GenerateDataKey,
    /// Huawei create-datakey-without-plaintext, AWS GenerateDataKeyWithoutPlaintext.
    GenerateDataKeyWithoutPlaintext,
    /// Huawei gen-random, AWS GenerateRandom.
    GenerateRandom,
    GetKeyPolicy,
    PutKeyPolicy,
    ListKeyPolicies,
    /// Huawei sign, AWS Sign.
    Sign,
    /// Huawei verify, AWS Verify.
    Verify,
    /// Huawei get-publickey, AWS GetPublicKey.
    GetPublicKey,
    /// Huawei generate-mac, AWS GenerateMac.
    GenerateMac,
    /// Huawei verify-mac, AWS VerifyMac.
    VerifyMac,
    /// Huawei update-key-description, AWS UpdateKeyDescription.
    UpdateKeyDescription,
    /// Huawei user-quotas and user-instances: the project's key count and limits (AWS
    /// has no such operation; an AWS-language policy governs them as kms:ListKeys).
    ShowQuotas,
    /// AWS CreateAlias: decided on the key the alias names (Huawei has no aliases of this
    /// kind; its key_alias is a key attribute).
    CreateAlias,
    /// AWS DeleteAlias: decided on the key the alias names.
    DeleteAlias,
    /// AWS UpdateAlias: decided on both the key the alias named and the one it names next.
    UpdateAlias,
    /// AWS ListAliases: about the account.
    ListAliases,
    /// Huawei enable-key-rotation, AWS EnableKeyRotation.
    EnableKeyRotation,
    /// Huawei disable-key-rotation, AWS DisableKeyRotation.
    DisableKeyRotation,
    /// Huawei update-key-rotation-interval (AWS sets the period with EnableKeyRotation, so
    /// an AWS-language policy governs it as kms:EnableKeyRotation).
    UpdateKeyRotationInterval,
    /// Huawei get-key-rotation-status, AWS GetKeyRotationStatus.
    GetKeyRotationStatus,
    /// AWS ListKeyRotations (Huawei has none; its get-key-rotation-status counts them).
    ListKeyRotations,
    /// Huawei rotate-on-demand, AWS RotateKeyOnDemand.
    RotateKeyOnDemand,
    /// Huawei re-encrypt and AWS ReEncrypt, on the key that made the ciphertext.
    ReEncryptFrom,
    /// Huawei re-encrypt and AWS ReEncrypt, on the key that makes the new ciphertext.
    ReEncryptTo,
    /// Huawei update-key-alias: renames the key's key_alias attribute (AWS has no such
    /// attribute; an AWS-language policy governs it as kms:UpdateAlias).
    UpdateKeyAlias,
    /// AWS TagResource; Huawei create of {key_id}/tags and the batch action "create".
    TagResource,
    /// AWS UntagResource; Huawei DELETE {key_id}/tags/{key} and the batch action "delete".
    UntagResource,
    /// AWS ListResourceTags; Huawei GET {key_id}/tags.
    ListResourceTags,
    /// Huawei GET tags: every tag of the project's keys (no AWS operation; an
    /// AWS-language policy governs it as kms:ListResourceTags on `*`).
    ListProjectTags,
    /// Huawei resource_instances/action: keys filtered and counted by tags (no AWS
    /// operation; an AWS-language policy governs it as kms:ListKeys).
    ListKeysByTags,
    /// AWS GenerateDataKeyPair; Huawei create-rsa-datakey-pair and create-ec-datakey-pair
    /// with `with_plain_text` true (the default).
    GenerateDataKeyPair,
    /// AWS GenerateDataKeyPairWithoutPlaintext; Huawei's pair operations with
    /// `with_plain_text` false.
    GenerateDataKeyPairWithoutPlaintext,
    /// AWS DeriveSharedSecret, Huawei derive-shared-secret (ECDH with a KEY_AGREEMENT key).
    DeriveSharedSecret,
    /// AWS Encapsulate: a fresh shared secret and its ML-KEM ciphertext under an
    /// ENCAPSULATE_DECAPSULATE key's public half (no Huawei operation).
    Encapsulate,
    /// AWS Decapsulate: the shared secret of an ML-KEM ciphertext (no Huawei operation).
    Decapsulate,
    /// AWS GetKeyLastUsage: the key's last successful cryptographic operation (Huawei has
    /// no such operation; a Huawei-language policy governs it as reading the key).
    GetKeyLastUsage,
    /// AWS GetParametersForImport, Huawei get-parameters-for-import.
    GetParametersForImport,
    /// AWS ImportKeyMaterial, Huawei import-key-material.
    ImportKeyMaterial,
    /// AWS DeleteImportedKeyMaterial, Huawei delete-imported-key-material.
    DeleteImportedKeyMaterial,
    /// Huawei GET v2 kms/regions: the regions this service serves (AWS has no such
    /// operation; an AWS-language policy governs it as kms:ListKeys).
    ListSupportRegions,
    /// Huawei POST key-policies: a key policy of a trusted key space (no AWS operation).
    CreateKeyspacePolicy,
    /// Huawei GET key-policies?keyspace_id=.
    ListKeyspacePolicies,
    /// Huawei GET key-policies/{policy_id}.
    ShowKeyspacePolicy,
    /// Huawei PUT key-policies/{policy_id}.
    UpdateKeyspacePolicy,
    /// Huawei DELETE key-policies/{policy_id}.
    DeleteKeyspacePolicy,
    /// Huawei datakey-capsule/create: a data key sealed with a key policy, on the key.
    CreateDatakeyCapsule,
    /// Huawei datakey-capsule/decrypt: opens a capsule the key sealed.
    DecryptDatakeyCapsule,
    /// AWS ReplicateKey, Huawei POST v2 keys/{key_id}/replicate: decided on the primary
    /// key; the replica is also a new key of the replica's region (kms:CreateKey there).
    ReplicateKey,
    /// AWS UpdatePrimaryRegion, Huawei PUT v2 keys/{key_id}/update-primary-region:
    /// decided on the current primary key.
    UpdatePrimaryRegion,
}

impl Action {
    pub const ALL: [Action; 66] = [
        Self::CreateKey,
        Self::DescribeKey,
        Self::ListKeys,
        Self::EnableKey,
        Self::DisableKey,
        Self::ScheduleKeyDeletion,
        Self::CancelKeyDeletion,
        Self::CreateGrant,
        Self::ListGrants,
        Self::ListRetirableGrants,
        Self::RevokeGrant,
        Self::RetireGrant,
        Self::EncryptData,
        Self::DecryptData,
        Self::EncryptDatakey,
        Self::DecryptDatakey,
        Self::GenerateDataKey,
        Self::GenerateDataKeyWithoutPlaintext,
        Self::GenerateRandom,
        Self::GetKeyPolicy,
        Self::PutKeyPolicy,
        Self::ListKeyPolicies,
        Self::Sign,
        Self::Verify,
        Self::GetPublicKey,
        Self::GenerateMac,
        Self::VerifyMac,
        Self::UpdateKeyDescription,
        Self::ShowQuotas,
        Self::CreateAlias,
        Self::DeleteAlias,
        Self::UpdateAlias,
        Self::ListAliases,
        Self::EnableKeyRotation,
        Self::DisableKeyRotation,
        Self::UpdateKeyRotationInterval,
        Self::GetKeyRotationStatus,
        Self::ListKeyRotations,
        Self::RotateKeyOnDemand,
        Self::ReEncryptFrom,
        Self::ReEncryptTo,
        Self::UpdateKeyAlias,
        Self::TagResource,
        Self::UntagResource,
        Self::ListResourceTags,
        Self::ListProjectTags,
        Self::ListKeysByTags,
        Self::GenerateDataKeyPair,
        Self::GenerateDataKeyPairWithoutPlaintext,
        Self::DeriveSharedSecret,
        Self::Encapsulate,
        Self::Decapsulate,
        Self::GetKeyLastUsage,
        Self::GetParametersForImport,
        Self::ImportKeyMaterial,
        Self::DeleteImportedKeyMaterial,
        Self::ListSupportRegions,
        Self::CreateKeyspacePolicy,
        Self::ListKeyspacePolicies,
        Self::ShowKeyspacePolicy,
        Self::UpdateKeyspacePolicy,
        Self::DeleteKeyspacePolicy,
        Self::CreateDatakeyCapsule,
        Self::DecryptDatakeyCapsule,
        Self::ReplicateKey,
        Self::UpdatePrimaryRegion,
    ];

    /// The action's name in AWS IAM and key policies, as a one-element list (the form
    /// a policy query takes).
    pub fn aws_names(self) -> &'static [&'static str] {
        match self {
            Self::CreateKey => &["kms:CreateKey"],
            Self::DescribeKey => &["kms:DescribeKey"],
            Self::ListKeys => &["kms:ListKeys"],
            Self::EnableKey => &["kms:EnableKey"],
            Self::DisableKey => &["kms:DisableKey"],
            Self::ScheduleKeyDeletion => &["kms:ScheduleKeyDeletion"],
            Self::CancelKeyDeletion => &["kms:CancelKeyDeletion"],
            Self::CreateGrant => &["kms:CreateGrant"],
            Self::ListGrants => &["kms:ListGrants"],
            Self::ListRetirableGrants => &["kms:ListRetirableGrants"],
            Self::RevokeGrant => &["kms:RevokeGrant"],
            Self::RetireGrant => &["kms:RetireGrant"],
            Self::EncryptData | Self::EncryptDatakey => &["kms:Encrypt"],
            Self::DecryptData | Self::DecryptDatakey => &["kms:Decrypt"],
            Self::GenerateDataKey => &["kms:GenerateDataKey"],
            Self::GenerateDataKeyWithoutPlaintext => &["kms:GenerateDataKeyWithoutPlaintext"],
            Self::GenerateRandom => &["kms:GenerateRandom"],
            Self::GetKeyPolicy => &["kms:GetKeyPolicy"],
            Self::PutKeyPolicy => &["kms:PutKeyPolicy"],
            Self::ListKeyPolicies => &["kms:ListKeyPolicies"],
            Self::Sign => &["kms:Sign"],
            Self::Verify => &["kms:Verify"],
            Self::GetPublicKey => &["kms:GetPublicKey"],
            Self::GenerateMac => &["kms:GenerateMac"],
            Self::VerifyMac => &["kms:VerifyMac"],
            Self::UpdateKeyDescription => &["kms:UpdateKeyDescription"],
            Self::ShowQuotas | Self::ListSupportRegions => &["kms:ListKeys"],
            Self::CreateAlias => &["kms:CreateAlias"],
            Self::DeleteAlias => &["kms:DeleteAlias"],
            Self::UpdateAlias => &["kms:UpdateAlias"],
            Self::ListAliases => &["kms:ListAliases"],
            Self::EnableKeyRotation | Self::UpdateKeyRotationInterval => &["kms:EnableKeyRotation"],
            Self::DisableKeyRotation => &["kms:DisableKeyRotation"],
            Self::GetKeyRotationStatus => &["kms:GetKeyRotationStatus"],
            Self::ListKeyRotations => &["kms:ListKeyRotations"],
            Self::RotateKeyOnDemand => &["kms:RotateKeyOnDemand"],
            Self::ReEncryptFrom => &["kms:ReEncryptFrom"],
            Self::ReEncryptTo => &["kms:ReEncryptTo"],
            Self::UpdateKeyAlias => &["kms:UpdateAlias"],
            Self::TagResource => &["kms:TagResource"],
            Self::UntagResource => &["kms:UntagResource"],
            Self::ListResourceTags | Self::ListProjectTags => &["kms:ListResourceTags"],
            Self::ListKeysByTags => &["kms:ListKeys"],
            Self::GenerateDataKeyPair => &["kms:GenerateDataKeyPair"],
            Self::GenerateDataKeyPairWithoutPlaintext => {
                &["kms:GenerateDataKeyPairWithoutPlaintext"]
            }
            Self::DeriveSharedSecret => &["kms:DeriveSharedSecret"],
            Self::Encapsulate => &["kms:Encapsulate"],
            Self::Decapsulate => &["kms:Decapsulate"],
            Self::GetKeyLastUsage => &["kms:GetKeyLastUsage"],
            Self::GetParametersForImport => &["kms:GetParametersForImport"],
            Self::ImportKeyMaterial => &["kms:ImportKeyMaterial"],
            Self::DeleteImportedKeyMaterial => &["kms:DeleteImportedKeyMaterial"],
            // AWS has no trusted key spaces: names in AWS's style, which `kms:*` or a
            // `kms:*KeyspacePolicy*` pattern of an AWS-language policy covers.
            Self::CreateKeyspacePolicy => &["kms:CreateKeyspacePolicy"],
            Self::ListKeyspacePolicies => &["kms:ListKeyspacePolicies"],
            Self::ShowKeyspacePolicy => &["kms:DescribeKeyspacePolicy"],
            Self::UpdateKeyspacePolicy => &["kms:UpdateKeyspacePolicy"],
            Self::DeleteKeyspacePolicy => &["kms:DeleteKeyspacePolicy"],
            // A capsule is a data key made, or opened, under the key: the operations an
            // AWS-language policy already grants for that.
            Self::CreateDatakeyCapsule => &["kms:GenerateDataKey"],
            Self::DecryptDatakeyCapsule => &["kms:Decrypt"],
            Self::ReplicateKey => &["kms:ReplicateKey"],
            Self::UpdatePrimaryRegion => &["kms:UpdatePrimaryRegion"],
        }
    }

    /// The action's name in AWS IAM and key policies.
    pub fn aws_name(self) -> &'static str {
        self.aws_names()[0]
    }

    /// The names a Huawei/OTC identity policy may use for the action: the role-era
    /// names of OTC's permission table (`kms:cmk:crypto`, `kms:grant:create`, ...) and
    /// the fine-grained names of Huawei's identity policies (`kms:cmk:encryptData`, ...).
    /// A statement applies when any of them matches one of its action patterns.
    pub fn huawei_names(self) -> &'static [&'static str] {
        match self {
            Self::CreateKey => &["kms:cmk:create"],
            Self::DescribeKey => &["kms:cmk:get"],
            Self::ListKeys => &["kms:cmk:list"],
            Self::EnableKey => &["kms:cmk:enable"],
            Self::DisableKey => &["kms:cmk:disable"],
            Self::ScheduleKeyDeletion => &["kms:cmk:update", "kms:cmk:scheduleKeyDeletion"],
            Self::CancelKeyDeletion => &["kms:cmk:update", "kms:cmk:cancelKeyDeletion"],
            Self::CreateGrant => &["kms:grant:create", "kms:cmk:createGrant"],
            Self::ListGrants => &["kms:grant:list", "kms:cmk:listGrants"],
            // As Huawei's authorization page prints it: no resource type, hence `::`.
            Self::ListRetirableGrants => &["kms:grant:list", "kms::listRetirableGrants"],
            Self::RevokeGrant => &["kms:grant:revoke", "kms:cmk:revokeGrant"],
            Self::RetireGrant => &["kms:grant:retire", "kms:cmk:retireGrant"],
            Self::EncryptData => &["kms:cmk:crypto", "kms:cmk:encrypt", "kms:cmk:encryptData"],
            Self::DecryptData => &["kms:cmk:crypto", "kms:cmk:decrypt", "kms:cmk:decryptData"],
            Self::EncryptDatakey => &["kms:dek:crypto", "kms:cmk:encryptDataKey"],
            Self::DecryptDatakey => &["kms:dek:crypto", "kms:cmk:decryptDataKey"],
            Self::GenerateDataKey => &["kms:dek:create", "kms:cmk:createDataKey"],
            Self::GenerateDataKeyWithoutPlaintext => {
                &["kms:dek:create", "kms:cmk:createDataKeyWithoutPlaintext"]
            }
            Self::GenerateRandom => &["kms:cmk:generate"],
            // Huawei has no key policies in AWS's sense (its `key-policies` API is about
            // keyspace access points); these names let a Huawei policy govern the AWS
            // operations on the same keys.
            Self::GetKeyPolicy => &["kms:cmk:getKeyPolicy"],
            Self::PutKeyPolicy => &["kms:cmk:putKeyPolicy"],
            Self::ListKeyPolicies => &["kms:cmk:listKeyPolicies"],
            // Huawei's identity-policy names (ShowPublicKey, Sign, ... "Authorization
            // information"); OTC's role-era table files signing under kms:cmk:crypto.
            Self::Sign => &["kms:cmk:crypto", "kms:cmk:sign"],
            Self::Verify => &["kms:cmk:crypto", "kms:cmk:verify"],
            Self::GetPublicKey => &["kms:cmk:get", "kms:cmk:getPublicKey"],
            Self::GenerateMac => &["kms:cmk:crypto", "kms:cmk:generateMac"],
            Self::VerifyMac => &["kms:cmk:crypto", "kms:cmk:verifyMac"],
            Self::UpdateKeyDescription => &["kms:cmk:update", "kms:cmk:updateKeyDescription"],
            Self::ShowQuotas => &["kms:cmk:list", "kms:cmk:getQuota", "kms:cmk:getInstance"],
            // A listing about the account, as list-keys is; and a fine-grained name after
            // Huawei's API name (ListSupportRegions).
            Self::ListSupportRegions => &["kms:cmk:list", "kms:cmk:listSupportRegions"],
            // Huawei has no AWS-style alias resource: a `kms:alias:*` name for a policy
            // written about aliases, and a `kms:cmk:*` one for a policy about the key's
            // administration (the alias operations act on keys), in Huawei's naming style.
            Self::CreateAlias => &["kms:alias:create", "kms:cmk:createAlias"],
            Self::DeleteAlias => &["kms:alias:delete", "kms:cmk:deleteAlias"],
            Self::UpdateAlias => &["kms:alias:update", "kms:cmk:updateAlias"],
            Self::ListAliases => &["kms:alias:list", "kms:cmk:listAliases"],
            // Rotation: the role-era table files key changes under kms:cmk:update; the
            // read-only system policy names kms:cmk:getRotation (as do Huawei's RAM-sharing
            // docs); the fine-grained names follow Huawei's API names.
            Self::EnableKeyRotation => &["kms:cmk:update", "kms:cmk:enableKeyRotation"],
            Self::DisableKeyRotation => &["kms:cmk:update", "kms:cmk:disableKeyRotation"],
            Self::UpdateKeyRotationInterval => {
                &["kms:cmk:update", "kms:cmk:updateKeyRotationInterval"]
            }
            Self::GetKeyRotationStatus => &["kms:cmk:getRotation", "kms:cmk:getKeyRotationStatus"],
            Self::ListKeyRotations => &["kms:cmk:getRotation", "kms:cmk:listKeyRotations"],
            Self::RotateKeyOnDemand => &["kms:cmk:update", "kms:cmk:rotateOnDemand"],
            // re-encrypt decrypts with one key and encrypts with another: crypto on both.
            Self::ReEncryptFrom | Self::ReEncryptTo => &["kms:cmk:crypto", "kms:cmk:reEncrypt"],
            // Spec §12 / OTC permissions table: tag writes are kms:cmkTag:create and
            // kms:cmkTag:delete, the batch action kms:cmkTag:batch (either direction),
            // listings kms:cmkTag:list, resource_instances kms:cmkTag:listInstance.
            Self::UpdateKeyAlias => &["kms:cmk:update", "kms:cmk:updateKeyAlias"],
            Self::TagResource => &["kms:cmkTag:create", "kms:cmkTag:batch"],
            Self::UntagResource => &["kms:cmkTag:delete", "kms:cmkTag:batch"],
            Self::ListResourceTags | Self::ListProjectTags => &["kms:cmkTag:list"],
            Self::ListKeysByTags => &["kms:cmkTag:listInstance"],
            // Data key pairs are data keys: the role-era table's kms:dek:create, and
            // fine-grained names after Huawei's API names.
            Self::GenerateDataKeyPair => &["kms:dek:create", "kms:cmk:createDataKeyPair"],
            Self::GenerateDataKeyPairWithoutPlaintext => &[
                "kms:dek:create",
                "kms:cmk:createDataKeyPairWithoutPlaintext",
            ],
            Self::DeriveSharedSecret => &["kms:cmk:crypto", "kms:cmk:deriveSharedSecret"],
            // AWS-only operations on keys Huawei cannot make: a Huawei-language policy
            // governs them as key cryptography, with fine-grained names after AWS's.
            Self::Encapsulate => &["kms:cmk:crypto", "kms:cmk:encapsulate"],
            Self::Decapsulate => &["kms:cmk:crypto", "kms:cmk:decapsulate"],
            // Reading a fact about the key, as describe-key does.
            Self::GetKeyLastUsage => &["kms:cmk:get", "kms:cmk:getKeyLastUsage"],
            // Importing and deleting material change the key: the role-era table's
            // kms:cmk:update; fine-grained names after Huawei's API names (not confirmed by
            // a published permission table). get-parameters-for-import is a write too (it
            // issues a token), so kms:cmk:get (read-only) does not cover it.
            Self::GetParametersForImport => &["kms:cmk:update", "kms:cmk:getImportParameters"],
            Self::ImportKeyMaterial => &["kms:cmk:update", "kms:cmk:importKeyMaterial"],
            Self::DeleteImportedKeyMaterial => {
                &["kms:cmk:update", "kms:cmk:deleteImportedKeyMaterial"]
            }
            // Huawei's "Authorization information" of CreateKeyPolicy, ListKeyPolicy,
            // ShowKeyPolicy and UpdateKeyPolicy (resource type `policy`); delete by the same
            // pattern (its page was not found).
            Self::CreateKeyspacePolicy => &["kms:policy:create"],
            Self::ListKeyspacePolicies => &["kms:policy:list"],
            Self::ShowKeyspacePolicy => &["kms:policy:get"],
            Self::UpdateKeyspacePolicy => &["kms:policy:update"],
            Self::DeleteKeyspacePolicy => &["kms:policy:delete"],
            // Huawei's CreateDatakeyCapsule / DecryptDatakeyCapsule pages, and the role-era
            // data-key names (a capsule is a data key made or opened under the key).
            Self::CreateDatakeyCapsule => &["kms:dek:create", "kms:cmk:createDatakeyCapsule"],
            Self::DecryptDatakeyCapsule => &["kms:dek:crypto", "kms:cmk:decryptDatakeyCapsule"],
            // Multi-Region keys: Huawei's ReplicateKey page names kms:cmk:replicate (Write, on
            // the key); its UpdatePrimaryRegion page was not found, so that fine-grained name
            // follows the API name. Role-era names: replicating makes a key (kms:cmk:create),
            // moving the primary changes one (kms:cmk:update).
            Self::ReplicateKey => &["kms:cmk:create", "kms:cmk:replicate"],
            Self::UpdatePrimaryRegion => &["kms:cmk:update", "kms:cmk:updatePrimaryRegion"],
        }
    }

    /// The grant operation a grant must hold to allow this action, if grants can.
    /// AWS: grants confer the cryptographic operations, DescribeKey, CreateGrant and
    /// RetireGrant, never key administration, listing, revocation or policies.
    pub fn grant_operation(self) -> Option<GrantOperation> {
        use GrantOperation as Op;
        Some(match self {
            Self::DescribeKey => Op::DescribeKey,
            Self::CreateGrant => Op::CreateGrant,
            Self::RetireGrant => Op::RetireGrant,
            Self::EncryptData => Op::EncryptData,
            Self::DecryptData => Op::DecryptData,
            Self::EncryptDatakey => Op::EncryptDatakey,
            Self::DecryptDatakey => Op::DecryptDatakey,
            Self::GenerateDataKey => Op::CreateDatakey,
            Self::GenerateDataKeyWithoutPlaintext => Op::CreateDatakeyWithoutPlaintext,
            Self::Sign => Op::Sign,
            Self::Verify => Op::Verify,
            Self::GetPublicKey => Op::GetPublicKey,
            Self::GenerateMac => Op::GenerateMac,
            Self::VerifyMac => Op::VerifyMac,
            Self::ReEncryptFrom => Op::ReEncryptFrom,
            Self::ReEncryptTo => Op::ReEncryptTo,
            Self::GenerateDataKeyPair => Op::GenerateDataKeyPair,
            Self::GenerateDataKeyPairWithoutPlaintext => Op::GenerateDataKeyPairWithoutPlaintext,
            Self::DeriveSharedSecret => Op::DeriveSharedSecret,
            Self::Encapsulate => Op::Encapsulate,
            Self::Decapsulate => Op::Decapsulate,
            _ => return None,
        })
    }

    /// The name GetKeyLastUsage reports for a successful use of a key by this action
    /// (botocore's KeyLastUsageTrackingOperation), or `None` for an action that is not a
    /// tracked cryptographic operation (GetPublicKey, administration, listings). Both
    /// sides of a re-encryption report `ReEncrypt`, as AWS records both keys' use.
    pub fn tracked_use(self) -> Option<&'static str> {
        Some(match self {
            Self::EncryptData | Self::EncryptDatakey => "Encrypt",
            Self::DecryptData | Self::DecryptDatakey => "Decrypt",
            Self::GenerateDataKey => "GenerateDataKey",
            Self::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            Self::GenerateDataKeyPair => "GenerateDataKeyPair",
            Self::GenerateDataKeyPairWithoutPlaintext => "GenerateDataKeyPairWithoutPlaintext",
            Self::DeriveSharedSecret => "DeriveSharedSecret",
            Self::Encapsulate => "Encapsulate",
            Self::Decapsulate => "Decapsulate",
            Self::GenerateMac => "GenerateMac",
            Self::VerifyMac => "VerifyMac",
            Self::Sign => "Sign",
            Self::Verify => "Verify",
            Self::ReEncryptFrom | Self::ReEncryptTo => "ReEncrypt",
            _ => return None,
        })
    }

    /// Whether the action is about one key (its resource is the key), rather than the
    /// account (CreateKey, ListKeys, ListRetirableGrants, GenerateRandom: resource `*`).
    pub fn on_key(self) -> bool {
        !matches!(
            self,
            Self::CreateKey
                | Self::ListKeys
                | Self::ListRetirableGrants
                | Self::GenerateRandom
                | Self::ShowQuotas
                | Self::ListSupportRegions
                | Self::ListAliases
                | Self::ListProjectTags
                | Self::ListKeysByTags
                | Self::CreateKeyspacePolicy
                | Self::ListKeyspacePolicies
                | Self::ShowKeyspacePolicy
                | Self::UpdateKeyspacePolicy
                | Self::DeleteKeyspacePolicy
        )
    }

    /// Whether a key policy and IAM policy may give this action to a principal of
    /// another account (AWS: the cryptographic operations, CreateGrant, DescribeKey,
    /// ListGrants, RetireGrant and RevokeGrant; "other actions have no effect").
    pub fn crosses_accounts(self) -> bool {
        matches!(
            self,
            Self::DescribeKey
                | Self::CreateGrant
                | Self::ListGrants
                | Self::RetireGrant
                | Self::RevokeGrant
                | Self::EncryptData
                | Self::DecryptData
                | Self::EncryptDatakey
                | Self::DecryptDatakey
                | Self::GenerateDataKey
                | Self::GenerateDataKeyWithoutPlaintext
                | Self::Sign
                | Self::Verify
                | Self::GetPublicKey
                | Self::GenerateMac
                | Self::VerifyMac
                | Self::GetKeyRotationStatus
                | Self::ReEncryptFrom
                | Self::ReEncryptTo
                | Self::GenerateDataKeyPair
                | Self::GenerateDataKeyPairWithoutPlaintext
                | Self::DeriveSharedSecret
                | Self::Encapsulate
                | Self::Decapsulate
        )
    }

    /// Whether an encryption-context grant constraint applies (AWS: the cryptographic
    /// operations; never DescribeKey, CreateGrant or RetireGrant).
    pub fn takes_encryption_context(self) -> bool {
        matches!(
            self,
            Self::EncryptData
                | Self::DecryptData
                | Self::EncryptDatakey
                | Self::DecryptDatakey
                | Self::GenerateDataKey
                | Self::GenerateDataKeyWithoutPlaintext
                | Self::ReEncryptFrom
                | Self::ReEncryptTo
                | Self::GenerateDataKeyPair
                | Self::GenerateDataKeyPairWithoutPlaintext
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.aws_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_names_in_both_languages() {
        for action in Action::ALL {
            assert!(action.aws_name().starts_with("kms:"), "{action:?}");
            assert!(!action.huawei_names().is_empty(), "{action:?}");
            for name in action.huawei_names() {
                assert_eq!(name.matches(':').count(), 2, "{name}");
            }
        }
    }

    #[test]
    fn grants_never_confer_administration() {
        for action in [
            Action::CreateKey,
            Action::EnableKey,
            Action::DisableKey,
            Action::ScheduleKeyDeletion,
            Action::CancelKeyDeletion,
            Action::ListGrants,
            Action::ListRetirableGrants,
            Action::RevokeGrant,
            Action::PutKeyPolicy,
            Action::GetKeyPolicy,
            Action::GetParametersForImport,
            Action::ImportKeyMaterial,
            Action::DeleteImportedKeyMaterial,
            Action::ReplicateKey,
            Action::UpdatePrimaryRegion,
        ] {
            assert_eq!(action.grant_operation(), None, "{action:?}");
        }
    }
}
