//! The one error type of the key-type cryptography (asymmetric, MAC, import).

/// Why a key-type operation failed. Each variant corresponds to one documented error of
/// each cloud; the mapping is in the dialects (and in the wire notes, "Error mapping").
/// Messages never include key material, plaintext or secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyTypeError {
    /// AWS KMSInvalidSignatureException; Huawei's verify answers `signature_valid: false`.
    #[error("The signature is not valid for this message, key and signing algorithm.")]
    InvalidSignature,
    /// AWS KMSInvalidMacException; Huawei's verify-mac answers `mac_valid: false`.
    #[error("The MAC is not valid for this message, key and MAC algorithm.")]
    InvalidMac,
    /// A ciphertext this key cannot open (AWS InvalidCiphertextException; Huawei
    /// KMS.2201 "Invalid cipher_text" / KMS.0311 for RSA).
    #[error("The ciphertext cannot be decrypted with this key and encryption algorithm.")]
    UndecryptableCiphertext,
    /// A public key from the client that is not DER SubjectPublicKeyInfo of the expected
    /// curve (AWS ValidationException; Huawei KMS.0308 "Invalid parameter").
    #[error("Invalid public key: {0}")]
    InvalidPublicKey(String),
    /// Imported material that is malformed or does not fit the key spec, or differs from
    /// the material imported before (AWS IncorrectKeyMaterialException; Huawei KMS.26xx).
    #[error("Incorrect key material: {0}")]
    IncorrectKeyMaterial(String),
    /// Wrapped key material that the wrapping key cannot unwrap (AWS
    /// InvalidCiphertextException from ImportKeyMaterial; Huawei KMS.26xx).
    #[error("The wrapped key material cannot be unwrapped with the import parameters: {0}")]
    UnwrappableKeyMaterial(&'static str),
    /// Input whose size the algorithm cannot take (a plaintext over the OAEP limit, a
    /// digest of the wrong length); the domain checks these first, so reaching it means a
    /// rule and the cryptography disagree.
    #[error("Invalid input for this key: {0}")]
    InvalidInput(&'static str),
    /// The key spec cannot do the operation (the domain's checks come first).
    #[error("This key cannot perform this operation.")]
    WrongKeyType,
    /// Stored material that does not parse: damage in the store, never the client's fault
    /// (500 KMS.0105 / KMSInternalException).
    #[error("The stored key material is damaged.")]
    DamagedMaterial,
}
