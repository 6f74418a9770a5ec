use thiserror::Error;

/// Every way a KMS request can fail, independent of the wire dialect.
///
/// Each API front end maps these to its own status codes and error bodies
/// (`api::huawei::error` for the Huawei/OTC dialect). Messages are written for the
/// person reading the client's exception, so they say what was wrong and what is valid.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KmsError {
    #[error("Invalid JSON format of the request message: {0}")]
    MalformedJson(String),
    #[error("Request message too long: the body exceeds {limit} bytes.")]
    BodyTooLarge { limit: usize },
    #[error("Parameters missing in the request message: {0} is required.")]
    MissingParameter(&'static str),
    #[error("Invalid key ID: {0}")]
    InvalidKeyId(String),
    #[error("Invalid sequence number: sequence must be a 36-character string.")]
    InvalidSequence,
    #[error("Invalid grant ID: {0}")]
    InvalidGrantId(String),
    #[error("The grant does not exist: no grant {0} is visible to you.")]
    GrantNotFound(String),
    #[error("grant_id and key_id do not match: grant {grant_id} does not belong to key {key_id}.")]
    GrantKeyMismatch { grant_id: String, key_id: String },
    #[error("Invalid user ID: {0}")]
    InvalidPrincipal(String),
    #[error("Invalid parameter: {0}")]
    InvalidParameter(String),
    #[error("Specify an operation in addition to create-grant.")]
    OnlyCreateGrant,
    #[error("Invalid limit: {0}")]
    InvalidLimit(String),
    #[error("marker must be greater than or equals 0: {0}")]
    InvalidMarker(String),
    #[error("Invalid key_alias: {0}")]
    InvalidKeyAlias(String),
    #[error("Invalid key_description: {0}")]
    InvalidKeyDescription(String),
    #[error("Duplicate key aliases: a key with alias {0} already exists in this project.")]
    DuplicateKeyAlias(String),
    /// AWS AlreadyExistsException: the account already has this alias.
    #[error("An alias with the name {0} already exists")]
    AliasExists(String),
    /// AWS NotFoundException: no such alias in the account.
    #[error("Alias {0} is not found.")]
    AliasNotFound(String),
    /// AWS InvalidAliasNameException.
    #[error("{0}")]
    InvalidAliasName(String),
    /// AWS NotAuthorizedException: an alias reserved for AWS managed keys.
    #[error("{0}")]
    ReservedAliasName(String),
    /// A tag request the tag rules refuse (`domain::tag`); each dialect names its code.
    #[error("{0}")]
    Tag(super::tag::TagError),
    #[error("Too many keys: a project may hold at most {0} keys.")]
    TooManyKeys(u32),
    #[error("Too many CMK grants: key {key_id} already holds the maximum of {limit} grants.")]
    TooManyGrants { key_id: String, limit: u32 },
    #[error("The key does not exist: {0}")]
    KeyNotFound(String),
    #[error("The key has been disabled.")]
    KeyDisabled,
    #[error("The key is in Scheduled deletion state and cannot be used.")]
    KeyPendingDeletion,
    #[error("The key is in Pending import state and cannot be used.")]
    KeyPendingImport,
    /// A refusal by the authorization core (403 `KMS.0306`, AWS AccessDeniedException).
    #[error("No access permissions: {0}")]
    AccessDenied(super::authz::Denial),
    #[error("Invalid or null X-Auth-Token: {0}")]
    AuthMissing(String),
    #[error("Invalid X-Auth-Token.")]
    AuthInvalid,
    #[error("X-Auth-Token expired.")]
    AuthExpired,
    /// An AK/SK signature the API gateway would refuse (401 `APIGW.0301`, flat body).
    #[error("Incorrect IAM authentication information: {0}")]
    SignatureRejected(String),
    #[error("URIs in URL and X-Auth-Token do not match: {0}")]
    ProjectMismatch(String),
    #[error("Invalid request URL: {0}")]
    UnknownAction(String),
    #[error("Request method not supported.")]
    MethodNotAllowed,
    /// A feature of the cloud this emulator leaves out on purpose (dedicated and custom key
    /// stores, access points, PIN, data-key capsules): AWS UnsupportedOperationException,
    /// Huawei 501 `EMULATOR.0501` (Huawei documents no code for a feature a region lacks).
    #[error(
        "{0} are not served by kms-emulator: they are out of its scope (see the README, \"Not served\")."
    )]
    NotServed(&'static str),
    #[error("The key is not disabled.")]
    KeyNotDisabled,
    #[error("The key is not enabled.")]
    KeyNotEnabled,
    #[error("Set the pending deletion period between 7 to 1096 days: {0}")]
    InvalidPendingDays(String),
    #[error("The key is already in Pending deletion state.")]
    KeyAlreadyPendingDeletion,
    #[error("The key is not in Pending deletion state.")]
    KeyNotPendingDeletion,
    #[error("Invalid value of encryption_context: {0}")]
    InvalidEncryptionContext(String),
    #[error("Invalid plain_text: {0}")]
    InvalidPlainText(String),
    #[error(
        "Failed to verify the DEK hash: the last 32 bytes of plain_text must be the SHA-256 of the data key."
    )]
    DekHashMismatch,
    #[error("The length of plain_text does not match datakey_plain_length: {0}")]
    DekPlainLengthMismatch(String),
    #[error("Invalid datakey length: {0}")]
    InvalidDekLength(String),
    #[error("Invalid cipher_text: {0}")]
    InvalidCipherText(String),
    #[error("The length of cipher_text does not match datakey_cipher_length: {0}")]
    DekCipherLengthMismatch(String),
    #[error("datakey_length must be in the range 8 bits to 8,192 bits: {0}")]
    DatakeyLengthOutOfRange(String),
    #[error(
        "key_spec can only be AES_256, AES_128, SM4, HMAC_256, HMAC_384, HMAC_512 or HMAC_SM3."
    )]
    InvalidDatakeySpec,
    #[error("datakey_length must be a multiple of 8.")]
    DatakeyLengthNotByteAligned,
    #[error("random_data_length must be in the range 8 bits to 8,192 bits: {0}")]
    RandomLengthOutOfRange(String),
    #[error("random_data_length must be a multiple of 8.")]
    RandomLengthNotByteAligned,
    /// An AWS `DryRun` request that passed every check: nothing was changed. Raised
    /// inside the store's transaction so that it rolls back.
    #[error("The request would have succeeded, but the DryRun option is set.")]
    DryRunSucceeded,
    /// AWS MalformedPolicyDocumentException (key policies).
    #[error("{0}")]
    MalformedPolicy(String),
    /// AWS: a key policy over 32 KB is a LimitExceededException.
    #[error("The key policy exceeds the limit of {limit} bytes.")]
    PolicyTooLarge { limit: usize },
    /// A key spec, usage, algorithm or message a key type refuses (domain::key_spec).
    #[error("{0}")]
    KeyType(super::key_spec::KeySpecError),
    /// AWS KMSInvalidSignatureException (Huawei's verify answers `signature_valid: "false"`).
    #[error("The signature is not valid for this message, key and signing algorithm.")]
    InvalidSignature,
    /// AWS KMSInvalidMacException (Huawei's verify-mac answers `mac_valid: false`).
    #[error("The MAC is not valid for this message, key and MAC algorithm.")]
    InvalidMac,
    /// AWS IncorrectKeyException: the request names another key than the ciphertext's.
    #[error("The key ID in the request does not identify the key that encrypted the ciphertext.")]
    IncorrectKey,
    /// A key type that does not rotate (AWS UnsupportedOperationException, Huawei KMS.0324).
    #[error("Key rotation is not supported for this key: {0}")]
    RotationUnsupportedKeyType(String),
    /// A key of imported material (AWS UnsupportedOperationException, Huawei KMS.0312).
    #[error("External keys cannot be rotated: {0}")]
    RotationUnsupportedOrigin(String),
    /// Huawei KMS.0313: update-key-rotation-interval on a key whose rotation is disabled.
    #[error("Key rotation is not enabled.")]
    RotationNotEnabled,
    /// AWS LimitExceededException: the on-demand rotation limit of a key.
    #[error("Rotation limit exceeded: {0}")]
    RotationLimitExceeded(String),
    /// Imported material on a key whose material KMS made (AWS UnsupportedOperationException,
    /// Huawei KMS.0309 "External keys required.").
    #[error("External keys required: {0}")]
    ExternalKeyRequired(String),
    /// An import token this service did not issue or cannot read (AWS
    /// InvalidImportTokenException, Huawei KMS.2601 "Invalid token.").
    #[error("Invalid import token: {0}")]
    InvalidImportToken(String),
    /// An import token issued for another key (AWS InvalidImportTokenException, Huawei
    /// KMS.2603).
    #[error("The key_id does not match the key_id value in the import token.")]
    ImportTokenKeyMismatch,
    /// An import token past its 24 hours (AWS ExpiredImportTokenException, Huawei KMS.2601).
    #[error("The import token has expired; get new import parameters.")]
    ExpiredImportToken,
    /// Unwrapped material that does not fit the key spec (AWS IncorrectKeyMaterialException,
    /// Huawei KMS.2604).
    #[error("Incorrect key material: {0}")]
    IncorrectKeyMaterial(String),
    /// Material other than what the key held before (AWS IncorrectKeyMaterialException,
    /// Huawei KMS.2606).
    #[error("When you re-import the material of a key, it must be the material imported earlier.")]
    DifferentKeyMaterial,
    /// Wrapped material the token's wrapping key cannot open (AWS InvalidCiphertextException,
    /// Huawei KMS.2605 "Token verification failed.").
    #[error("The encrypted key material cannot be unwrapped with the import parameters: {0}")]
    UnwrappableKeyMaterial(String),
    /// A bad expiry of imported material (AWS ValidationException, Huawei KMS.2602).
    #[error("Invalid expiration of the key material: {0}")]
    InvalidExpiration(String),
    /// Huawei KMS.2701: material is deleted only from Enabled or Disabled keys.
    #[error("Key material can be deleted only when the key is in Enabled or Disabled status.")]
    MaterialNotDeletable,
    /// Huawei key-policies: a `policy` that is not JSON of the documented shape, or another
    /// field of a key policy request out of its documented range.
    #[error("Invalid key policy: {0}")]
    InvalidKeyspacePolicy(String),
    /// Huawei key-policies: no such policy in the caller's project and region.
    #[error("The key policy {0} does not exist.")]
    KeyspacePolicyNotFound(String),
    /// Huawei datakey-capsule/decrypt: the capsule's key policy does not admit the caller now.
    #[error("The data key capsule may not be opened: {0}.")]
    CapsuleDenied(String),
    /// A multi-Region operation on a key it does not apply to (a single-Region key, a
    /// replica where the primary is needed, a region not served): AWS
    /// UnsupportedOperationException, Huawei KMS.0308.
    #[error("{0}")]
    MultiRegionUnsupported(String),
    /// ReplicateKey into a region that already holds the key (its primary or a replica):
    /// AWS AlreadyExistsException, Huawei KMS.0308.
    #[error("{0}")]
    ReplicaExists(String),
    /// UpdatePrimaryRegion to a region where the key has no replica: AWS
    /// NotFoundException, Huawei 404 KMS.0207.
    #[error("{0}")]
    NoReplicaInRegion(String),
    /// ScheduleKeyDeletion of a primary key that still has replicas: AWS
    /// KMSInvalidStateException, Huawei KMS.0308.
    #[error("{0}")]
    PrimaryHasReplicas(String),
    #[error("The database is unavailable; retry the request.")]
    StoreUnavailable,
    /// The service is at its connection limit (`--max-connections`).
    #[error("The service is at its connection limit; retry the request later.")]
    Overloaded,
    /// A write that may or may not have happened: the client must look before retrying.
    #[error("{0} It may or may not have taken effect; check before retrying.")]
    OutcomeUnknown(String),
    #[error("A system exception occurred. Contact technical support.")]
    Internal,
}
