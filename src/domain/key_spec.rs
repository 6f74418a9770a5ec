//! Key specs, key usages and the algorithms each allows, in both clouds' words.
//!
//! One key store serves both dialects, so a key has one [`KeySpec`] and one [`KeyUsage`]
//! whatever dialect created it; each dialect only *names* them its own way. Creation rules
//! differ between the clouds (Huawei lets a SECP256K1 key agree on secrets, AWS does not),
//! so the creation checks take a [`Cloud`]; the checks made when a key is *used* depend on
//! the key alone, so a key made through one dialect works the same through the other.
//!
//! Sources: Huawei's Python SDK 3.1.219 (CreateKeyRequestBody, SignRequestBody,
//! EncryptDataRequestBody, GenerateMacRequestBody, Create*DatakeyPairRequestBody,
//! GetParametersForImportRequestBody) and the DEW API reference; botocore 1.44.8's KMS
//! model (KeySpec, KeyUsageType, SigningAlgorithmSpec, ... and their documentation).
//! Where a cloud is silent the choice is written next to the rule.

use std::fmt;

use super::ids::excerpt;

/// Which dialect a wire name comes from or is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cloud {
    Huawei,
    Aws,
}

/// Why a spec, usage, algorithm or message is refused. Each dialect maps these to its
/// own documented error (see /work/notes/keytypes-wire.md, "Error mapping").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeySpecError {
    #[error("{field} '{value}' is not valid; valid values are {valid}.")]
    UnknownName {
        field: &'static str,
        value: String,
        valid: String,
    },
    /// A name the cloud documents that this emulator does not implement (ML-DSA, the
    /// retired RSAES_PKCS1_V1_5 wrapping algorithm, EXTERNAL_MU).
    #[error("{field} {value} is not supported by this emulator: {reason}")]
    Unsupported {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error(
        "KeyUsage {usage} is not compatible with KeySpec {spec}; valid key usages are {valid}."
    )]
    UsageNotAllowed {
        spec: String,
        usage: String,
        valid: String,
    },
    /// AWS: a KeyUsage is required for this spec (its default, ENCRYPT_DECRYPT, does not fit).
    #[error("KeyUsage is required for KeySpec {spec}; valid key usages are {valid}.")]
    UsageRequired { spec: String, valid: String },
    #[error(
        "{kind} {algorithm} is not valid for this key (KeySpec {spec}, KeyUsage {usage}); valid values are {valid}."
    )]
    AlgorithmNotAllowed {
        kind: &'static str,
        algorithm: String,
        spec: String,
        usage: String,
        valid: String,
    },
    /// The key cannot do the operation at all (Sign with a symmetric key, Encrypt with an
    /// HMAC key, GetPublicKey on a symmetric key).
    #[error("{operation} is not allowed on this key (KeySpec {spec}, KeyUsage {usage}).")]
    OperationNotAllowed {
        operation: &'static str,
        spec: String,
        usage: String,
    },
    #[error("The message must be 1 to {limit} bytes; it is {actual} bytes.")]
    MessageLength { limit: usize, actual: usize },
    #[error(
        "A DIGEST message for {algorithm} must be {expected} bytes (the length of its hash); it is {actual} bytes."
    )]
    DigestLength {
        algorithm: String,
        expected: usize,
        actual: usize,
    },
    #[error("{algorithm} requires MessageType {required}.")]
    MessageTypeNotAllowed {
        algorithm: String,
        required: &'static str,
    },
    #[error(
        "The plaintext must be 1 to {limit} bytes for {algorithm} with this key; it is {actual} bytes."
    )]
    PlaintextLength {
        algorithm: String,
        limit: usize,
        actual: usize,
    },
}

fn join_names<T: Copy>(items: &[T], name: impl Fn(T) -> &'static str) -> String {
    items
        .iter()
        .map(|&item| name(item))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Finds the item whose name in `cloud` is `value` among `candidates`, or names every
/// valid value in the error.
fn parse_among<T: Copy>(
    field: &'static str,
    value: &str,
    candidates: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, KeySpecError> {
    candidates
        .iter()
        .copied()
        .find(|&item| name(item) == value)
        .ok_or_else(|| KeySpecError::UnknownName {
            field,
            value: excerpt(value),
            valid: join_names(candidates, name),
        })
}

/// The hash a signing or MAC algorithm runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sm3,
}

impl HashAlgorithm {
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 | Self::Sm3 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The HMAC block size: the longest key HMAC uses without hashing it first.
    pub fn block_len(self) -> usize {
        match self {
            Self::Sha1 | Self::Sha224 | Self::Sha256 | Self::Sm3 => 64,
            Self::Sha384 | Self::Sha512 => 128,
        }
    }
}

/// The curve of an elliptic-curve key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
    P521,
    Secp256k1,
    Sm2,
    Ed25519,
}

/// The cipher of a symmetric key's ciphertexts, fixed by its spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymmetricCipher {
    Aes256Gcm,
    Sm4Gcm,
}

/// Every key spec either cloud can create, as one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySpec {
    /// AWS SYMMETRIC_DEFAULT, Huawei AES_256.
    Aes256,
    Sm4,
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EccNistP256,
    EccNistP384,
    EccNistP521,
    EccSecgP256k1,
    Sm2,
    /// AWS ECC_NIST_EDWARDS25519, Huawei ED25519.
    Ed25519,
    Hmac224,
    Hmac256,
    Hmac384,
    Hmac512,
    HmacSm3,
    /// ML-KEM (FIPS 203) key pairs, AWS only: ENCAPSULATE_DECAPSULATE.
    MlKem512,
    MlKem768,
    MlKem1024,
}

/// What a key spec is, for the rules that depend on its family rather than its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    /// AES-256 or SM4: symmetric encryption.
    Symmetric,
    Rsa,
    EllipticCurve,
    Hmac,
    /// ML-KEM key pairs: key encapsulation only.
    MlKem,
}

impl KeySpec {
    pub const ALL: [KeySpec; 19] = [
        Self::Aes256,
        Self::Sm4,
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
        Self::EccNistP256,
        Self::EccNistP384,
        Self::EccNistP521,
        Self::EccSecgP256k1,
        Self::Sm2,
        Self::Ed25519,
        Self::Hmac224,
        Self::Hmac256,
        Self::Hmac384,
        Self::Hmac512,
        Self::HmacSm3,
        Self::MlKem512,
        Self::MlKem768,
        Self::MlKem1024,
    ];

    /// The specs Huawei's CreateKeyRequestBody lists.
    pub const HUAWEI_CREATABLE: [KeySpec; 14] = [
        Self::Aes256,
        Self::Sm4,
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
        Self::EccNistP256,
        Self::EccNistP384,
        Self::EccSecgP256k1,
        Self::Sm2,
        Self::Ed25519,
        Self::Hmac256,
        Self::Hmac384,
        Self::Hmac512,
        Self::HmacSm3,
    ];

    /// The specs of botocore's KeySpec enum that this emulator implements (ML_DSA_* are
    /// recognized and refused as unsupported). Huawei's SDK has no ML-KEM spec, so they are
    /// AWS-only: a Huawei create-key naming one is refused as any unknown key_spec.
    pub const AWS_CREATABLE: [KeySpec; 17] = [
        Self::Aes256,
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
        Self::EccNistP256,
        Self::EccNistP384,
        Self::EccNistP521,
        Self::EccSecgP256k1,
        Self::Sm2,
        Self::Ed25519,
        Self::Hmac224,
        Self::Hmac256,
        Self::Hmac384,
        Self::Hmac512,
        Self::MlKem512,
        Self::MlKem768,
        Self::MlKem1024,
    ];

    /// Names AWS documents for key pairs this emulator does not implement.
    const AWS_UNSUPPORTED: [&'static str; 3] = ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"];

    /// The name a dialect reports for this spec (DescribeKey, describe-key). Every spec has
    /// one in both dialects, because a key made through one dialect is described by the
    /// other: SM4 is AWS's SYMMETRIC_DEFAULT (as in AWS's China regions); a P-521 or
    /// HMAC_224 key, which Huawei cannot create, is EC_P521 / HMAC_224 following Huawei's
    /// naming; HMAC_SM3, which AWS lacks, keeps its Huawei name.
    pub fn name(self, cloud: Cloud) -> &'static str {
        match (self, cloud) {
            (Self::Aes256, Cloud::Huawei) => "AES_256",
            (Self::Aes256 | Self::Sm4, Cloud::Aws) => "SYMMETRIC_DEFAULT",
            (Self::Sm4, Cloud::Huawei) => "SM4",
            (Self::Rsa2048, _) => "RSA_2048",
            (Self::Rsa3072, _) => "RSA_3072",
            (Self::Rsa4096, _) => "RSA_4096",
            (Self::EccNistP256, Cloud::Huawei) => "EC_P256",
            (Self::EccNistP384, Cloud::Huawei) => "EC_P384",
            (Self::EccNistP521, Cloud::Huawei) => "EC_P521",
            (Self::EccSecgP256k1, Cloud::Huawei) => "SECP256K1",
            (Self::EccNistP256, Cloud::Aws) => "ECC_NIST_P256",
            (Self::EccNistP384, Cloud::Aws) => "ECC_NIST_P384",
            (Self::EccNistP521, Cloud::Aws) => "ECC_NIST_P521",
            (Self::EccSecgP256k1, Cloud::Aws) => "ECC_SECG_P256K1",
            (Self::Sm2, _) => "SM2",
            (Self::Ed25519, Cloud::Huawei) => "ED25519",
            (Self::Ed25519, Cloud::Aws) => "ECC_NIST_EDWARDS25519",
            (Self::Hmac224, _) => "HMAC_224",
            (Self::Hmac256, _) => "HMAC_256",
            (Self::Hmac384, _) => "HMAC_384",
            (Self::Hmac512, _) => "HMAC_512",
            (Self::HmacSm3, _) => "HMAC_SM3",
            // Huawei has no name of its own: a key made through AWS keeps AWS's.
            (Self::MlKem512, _) => "ML_KEM_512",
            (Self::MlKem768, _) => "ML_KEM_768",
            (Self::MlKem1024, _) => "ML_KEM_1024",
        }
    }

    /// The specs a dialect's CreateKey accepts.
    pub fn creatable(cloud: Cloud) -> &'static [KeySpec] {
        match cloud {
            Cloud::Huawei => &Self::HUAWEI_CREATABLE,
            Cloud::Aws => &Self::AWS_CREATABLE,
        }
    }

    /// The spec a CreateKey without one gets: AES-256 in both clouds.
    pub fn default_for_create() -> Self {
        Self::Aes256
    }

    /// A key spec from a CreateKey request of `cloud`.
    pub fn parse(cloud: Cloud, value: &str) -> Result<Self, KeySpecError> {
        let field = match cloud {
            Cloud::Huawei => "key_spec",
            Cloud::Aws => "KeySpec",
        };
        if cloud == Cloud::Aws && Self::AWS_UNSUPPORTED.contains(&value) {
            return Err(KeySpecError::Unsupported {
                field,
                value: value.to_owned(),
                reason: "post-quantum ML-DSA key pairs are not implemented.",
            });
        }
        parse_among(field, value, Self::creatable(cloud), |spec| {
            spec.name(cloud)
        })
    }

    /// A key spec as stored: the Huawei name, which every spec has and which is what the
    /// store held before key types existed ("AES_256").
    pub fn stored_name(self) -> &'static str {
        self.name(Cloud::Huawei)
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|spec| spec.stored_name() == value)
    }

    pub fn family(self) -> KeyFamily {
        match self {
            Self::Aes256 | Self::Sm4 => KeyFamily::Symmetric,
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => KeyFamily::Rsa,
            Self::EccNistP256
            | Self::EccNistP384
            | Self::EccNistP521
            | Self::EccSecgP256k1
            | Self::Sm2
            | Self::Ed25519 => KeyFamily::EllipticCurve,
            Self::Hmac224 | Self::Hmac256 | Self::Hmac384 | Self::Hmac512 | Self::HmacSm3 => {
                KeyFamily::Hmac
            }
            Self::MlKem512 | Self::MlKem768 | Self::MlKem1024 => KeyFamily::MlKem,
        }
    }

    /// Whether the key is a key pair (it has a public key).
    pub fn is_asymmetric(self) -> bool {
        matches!(
            self.family(),
            KeyFamily::Rsa | KeyFamily::EllipticCurve | KeyFamily::MlKem
        )
    }

    /// The length of an ML-KEM ciphertext (FIPS 203 table 3; AWS's Encapsulate: 768,
    /// 1088 and 1568 bytes), the only length Decapsulate takes. `None` for other specs.
    pub fn ml_kem_ciphertext_len(self) -> Option<usize> {
        match self {
            Self::MlKem512 => Some(768),
            Self::MlKem768 => Some(1088),
            Self::MlKem1024 => Some(1568),
            _ => None,
        }
    }

    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
            Self::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    pub fn curve(self) -> Option<Curve> {
        match self {
            Self::EccNistP256 => Some(Curve::P256),
            Self::EccNistP384 => Some(Curve::P384),
            Self::EccNistP521 => Some(Curve::P521),
            Self::EccSecgP256k1 => Some(Curve::Secp256k1),
            Self::Sm2 => Some(Curve::Sm2),
            Self::Ed25519 => Some(Curve::Ed25519),
            _ => None,
        }
    }

    /// The hash of an HMAC key.
    pub fn mac_hash(self) -> Option<HashAlgorithm> {
        match self {
            Self::Hmac224 => Some(HashAlgorithm::Sha224),
            Self::Hmac256 => Some(HashAlgorithm::Sha256),
            Self::Hmac384 => Some(HashAlgorithm::Sha384),
            Self::Hmac512 => Some(HashAlgorithm::Sha512),
            Self::HmacSm3 => Some(HashAlgorithm::Sm3),
            _ => None,
        }
    }

    /// The length of material this service generates for a symmetric or HMAC key: 32 bytes
    /// of AES-256, 16 of SM4, and an HMAC key as long as its hash (AWS's key spec reference:
    /// HMAC_224 is a 224-bit key, and so on). `None` for key pairs.
    pub fn generated_secret_len(self) -> Option<usize> {
        match self.family() {
            KeyFamily::Symmetric => Some(if self == Self::Sm4 { 16 } else { 32 }),
            KeyFamily::Hmac => self.mac_hash().map(HashAlgorithm::output_len),
            KeyFamily::Rsa | KeyFamily::EllipticCurve | KeyFamily::MlKem => None,
        }
    }

    /// The lengths imported material may have for a symmetric or HMAC key. Symmetric keys
    /// take exactly their key length. HMAC keys take from the hash length up to the hash's
    /// block size (AWS: HMAC_224 28–64 bytes, HMAC_256 32–64, HMAC_384 48–128, HMAC_512
    /// 64–128); HMAC_SM3, undocumented, follows the same rule (32–64).
    pub fn imported_secret_len(self) -> Option<std::ops::RangeInclusive<usize>> {
        match self.family() {
            KeyFamily::Symmetric => self.generated_secret_len().map(|len| len..=len),
            KeyFamily::Hmac => self
                .mac_hash()
                .map(|hash| hash.output_len()..=hash.block_len()),
            KeyFamily::Rsa | KeyFamily::EllipticCurve | KeyFamily::MlKem => None,
        }
    }

    /// The key usages a CreateKey of `cloud` accepts for this spec.
    ///
    /// AWS (CreateKey's KeyUsage documentation): symmetric ENCRYPT_DECRYPT; HMAC
    /// GENERATE_VERIFY_MAC; RSA ENCRYPT_DECRYPT or SIGN_VERIFY; NIST curves SIGN_VERIFY or
    /// KEY_AGREEMENT; ECC_SECG_P256K1 and Ed25519 SIGN_VERIFY; SM2 all three.
    /// Huawei: the SDK lists ENCRYPT_DECRYPT and SIGN_VERIFY; derive-shared-secret needs a
    /// KEY_AGREEMENT key and takes EC_P256, EC_P384, SECP256K1 and SM2 peer keys, so those
    /// specs also allow KEY_AGREEMENT; HMAC keys can only be GENERATE_VERIFY_MAC.
    /// ML-KEM keys (AWS only) are ENCAPSULATE_DECAPSULATE, the one usage they have and one
    /// no other spec has (AWS's KeyUsage documentation: "For ML-KEM KMS keys,
    /// ENCAPSULATE_DECAPSULATE").
    pub fn allowed_usages(self, cloud: Cloud) -> &'static [KeyUsage] {
        use KeyUsage::*;
        match (self.family(), self, cloud) {
            (KeyFamily::Symmetric, _, _) => &[EncryptDecrypt],
            (KeyFamily::Hmac, _, _) => &[GenerateVerifyMac],
            (KeyFamily::MlKem, _, _) => &[EncapsulateDecapsulate],
            (KeyFamily::Rsa, _, _) => &[EncryptDecrypt, SignVerify],
            (_, Self::Sm2, _) => &[EncryptDecrypt, SignVerify, KeyAgreement],
            (_, Self::Ed25519, _) => &[SignVerify],
            (_, Self::EccSecgP256k1, Cloud::Aws) => &[SignVerify],
            (KeyFamily::EllipticCurve, _, _) => &[SignVerify, KeyAgreement],
        }
    }

    /// The usage a CreateKey without one gets. AWS documents ENCRYPT_DECRYPT as the
    /// default for every spec (so an RSA key defaults to it, and an ECC or HMAC key must
    /// name its usage); Huawei documents ENCRYPT_DECRYPT for symmetric keys and
    /// SIGN_VERIFY for key pairs, and HMAC keys have only GENERATE_VERIFY_MAC.
    pub fn default_usage(self, cloud: Cloud) -> KeyUsage {
        match (cloud, self.family()) {
            (Cloud::Aws, _) | (Cloud::Huawei, KeyFamily::Symmetric) => KeyUsage::EncryptDecrypt,
            (Cloud::Huawei, KeyFamily::Hmac) => KeyUsage::GenerateVerifyMac,
            (Cloud::Huawei, _) => KeyUsage::SignVerify,
        }
    }

    /// The usage a new key gets: the requested one when this spec allows it in `cloud`,
    /// else the cloud's default when the request named none and the default fits.
    pub fn resolve_usage(
        self,
        cloud: Cloud,
        requested: Option<KeyUsage>,
    ) -> Result<KeyUsage, KeySpecError> {
        let allowed = self.allowed_usages(cloud);
        let valid = || join_names(allowed, KeyUsage::name);
        match requested {
            Some(usage) if allowed.contains(&usage) => Ok(usage),
            Some(usage) => Err(KeySpecError::UsageNotAllowed {
                spec: self.name(cloud).to_owned(),
                usage: usage.name().to_owned(),
                valid: valid(),
            }),
            None => {
                let usage = self.default_usage(cloud);
                if allowed.contains(&usage) {
                    Ok(usage)
                } else {
                    Err(KeySpecError::UsageRequired {
                        spec: self.name(cloud).to_owned(),
                        valid: valid(),
                    })
                }
            }
        }
    }

    /// The signing algorithms a key supports (DescribeKey's SigningAlgorithms). AWS binds
    /// each curve to one hash; Huawei documents no binding, and follows AWS's.
    pub fn signing_algorithms(self, usage: KeyUsage) -> &'static [SigningAlgorithm] {
        use SigningAlgorithm::*;
        if usage != KeyUsage::SignVerify {
            return &[];
        }
        match self {
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => &[
                RsassaPssSha256,
                RsassaPssSha384,
                RsassaPssSha512,
                RsassaPkcs1V15Sha256,
                RsassaPkcs1V15Sha384,
                RsassaPkcs1V15Sha512,
            ],
            Self::EccNistP256 | Self::EccSecgP256k1 => &[EcdsaSha256],
            Self::EccNistP384 => &[EcdsaSha384],
            Self::EccNistP521 => &[EcdsaSha512],
            Self::Sm2 => &[Sm2Dsa],
            Self::Ed25519 => &[Ed25519Sha512, Ed25519PhSha512],
            _ => &[],
        }
    }

    /// The encryption algorithms a key supports (DescribeKey's EncryptionAlgorithms).
    pub fn encryption_algorithms(self, usage: KeyUsage) -> &'static [EncryptionAlgorithm] {
        use EncryptionAlgorithm::*;
        if usage != KeyUsage::EncryptDecrypt {
            return &[];
        }
        match self.family() {
            KeyFamily::Symmetric => &[SymmetricDefault],
            KeyFamily::Rsa => &[RsaesOaepSha1, RsaesOaepSha256],
            _ if self == Self::Sm2 => &[Sm2Pke],
            _ => &[],
        }
    }

    /// The MAC algorithms a key supports (DescribeKey's MacAlgorithms).
    pub fn mac_algorithms(self, usage: KeyUsage) -> &'static [MacAlgorithm] {
        use MacAlgorithm::*;
        if usage != KeyUsage::GenerateVerifyMac {
            return &[];
        }
        match self {
            Self::Hmac224 => &[HmacSha224],
            Self::Hmac256 => &[HmacSha256],
            Self::Hmac384 => &[HmacSha384],
            Self::Hmac512 => &[HmacSha512],
            Self::HmacSm3 => &[HmacSm3],
            _ => &[],
        }
    }

    /// The key agreement algorithms a key supports (DescribeKey's KeyAgreementAlgorithms).
    pub fn key_agreement_algorithms(self, usage: KeyUsage) -> &'static [KeyAgreementAlgorithm] {
        if usage == KeyUsage::KeyAgreement && self.curve().is_some() && self != Self::Ed25519 {
            &[KeyAgreementAlgorithm::Ecdh]
        } else {
            &[]
        }
    }

    /// The key encapsulation algorithms a key supports (DescribeKey's and GetPublicKey's
    /// EncapsulationAlgorithms): ML_KEM for an ML-KEM ENCAPSULATE_DECAPSULATE key.
    pub fn encapsulation_algorithms(self, usage: KeyUsage) -> &'static [EncapsulationAlgorithm] {
        if usage == KeyUsage::EncapsulateDecapsulate && self.family() == KeyFamily::MlKem {
            &[EncapsulationAlgorithm::MlKem]
        } else {
            &[]
        }
    }

    /// Checks that a key of this spec and usage supports `algorithm` for signing.
    pub fn check_signing_algorithm(
        self,
        usage: KeyUsage,
        algorithm: SigningAlgorithm,
        cloud: Cloud,
    ) -> Result<(), KeySpecError> {
        check_algorithm(
            "SigningAlgorithm",
            algorithm,
            self.signing_algorithms(usage),
            |alg| alg.name(cloud),
            self,
            usage,
            cloud,
        )
    }

    pub fn check_encryption_algorithm(
        self,
        usage: KeyUsage,
        algorithm: EncryptionAlgorithm,
        cloud: Cloud,
    ) -> Result<(), KeySpecError> {
        check_algorithm(
            "EncryptionAlgorithm",
            algorithm,
            self.encryption_algorithms(usage),
            |alg| alg.name(cloud),
            self,
            usage,
            cloud,
        )
    }

    pub fn check_mac_algorithm(
        self,
        usage: KeyUsage,
        algorithm: MacAlgorithm,
        cloud: Cloud,
    ) -> Result<(), KeySpecError> {
        check_algorithm(
            "MacAlgorithm",
            algorithm,
            self.mac_algorithms(usage),
            MacAlgorithm::name,
            self,
            usage,
            cloud,
        )
    }

    pub fn check_key_agreement_algorithm(
        self,
        usage: KeyUsage,
        algorithm: KeyAgreementAlgorithm,
        cloud: Cloud,
    ) -> Result<(), KeySpecError> {
        check_algorithm(
            "KeyAgreementAlgorithm",
            algorithm,
            self.key_agreement_algorithms(usage),
            KeyAgreementAlgorithm::name,
            self,
            usage,
            cloud,
        )
    }

    pub fn check_encapsulation_algorithm(
        self,
        usage: KeyUsage,
        algorithm: EncapsulationAlgorithm,
        cloud: Cloud,
    ) -> Result<(), KeySpecError> {
        check_algorithm(
            "EncapsulationAlgorithm",
            algorithm,
            self.encapsulation_algorithms(usage),
            EncapsulationAlgorithm::name,
            self,
            usage,
            cloud,
        )
    }

    /// A data key pair spec (GenerateDataKeyPair's KeyPairSpec, Huawei's
    /// create-rsa-datakey-pair / create-ec-datakey-pair key_spec, which use AWS's names).
    pub fn parse_data_key_pair(
        value: &str,
        family: DataKeyPairFamily,
    ) -> Result<Self, KeySpecError> {
        const UNSUPPORTED: [&str; 3] = ["ML_KEM_512", "ML_KEM_768", "ML_KEM_1024"];
        if family == DataKeyPairFamily::Any && UNSUPPORTED.contains(&value) {
            return Err(KeySpecError::Unsupported {
                field: "KeyPairSpec",
                value: value.to_owned(),
                reason: "ML-KEM key pairs are not implemented.",
            });
        }
        let candidates: &[KeySpec] = match family {
            DataKeyPairFamily::Rsa => &[Self::Rsa2048, Self::Rsa3072, Self::Rsa4096],
            DataKeyPairFamily::Ec => &[
                Self::EccNistP256,
                Self::EccNistP384,
                Self::EccNistP521,
                Self::EccSecgP256k1,
                Self::Sm2,
            ],
            DataKeyPairFamily::Any => &DATA_KEY_PAIR_SPECS,
        };
        let field = match family {
            DataKeyPairFamily::Any => "KeyPairSpec",
            DataKeyPairFamily::Rsa | DataKeyPairFamily::Ec => "key_spec",
        };
        parse_among(field, value, candidates, |spec| spec.name(Cloud::Aws))
    }

    /// Whether automatic and on-demand rotation apply to keys of this spec: symmetric
    /// encryption keys only, in both clouds (AWS: "asymmetric and HMAC KMS keys cannot be
    /// rotated"; Huawei KMS.0324 "RSA keys cannot be rotated"). Origin rules (imported
    /// material) are the service's: they depend on more than the spec.
    /// The cipher of a symmetric key's ciphertexts: AES-256-GCM, or SM4-GCM for SM4 keys.
    /// `None` for key pairs and HMAC keys.
    pub fn symmetric_cipher(self) -> Option<SymmetricCipher> {
        match self {
            Self::Aes256 => Some(SymmetricCipher::Aes256Gcm),
            Self::Sm4 => Some(SymmetricCipher::Sm4Gcm),
            _ => None,
        }
    }

    /// The digest that accompanies a data key in encrypt-datakey's `plain_text` and
    /// decrypt-datakey's `datakey_dgst`: SHA-256, SM3 for SM4 keys (Huawei's
    /// EncryptDatakeyRequestBody: "SHA256 ... or SM3 for SM4 keys").
    pub fn data_key_digest(self) -> HashAlgorithm {
        match self {
            Self::Sm4 => HashAlgorithm::Sm3,
            _ => HashAlgorithm::Sha256,
        }
    }

    pub fn supports_rotation(self) -> bool {
        self.family() == KeyFamily::Symmetric
    }

    /// Whether `operation` makes sense on a key of this spec and usage, both when a
    /// grant names it and when it is called. AWS refuses a grant for an operation the key
    /// cannot do (a symmetric key's grant cannot allow Sign).
    pub fn allows_operation(self, usage: KeyUsage, operation: KeyOperation) -> bool {
        use KeyOperation::*;
        match operation {
            DescribeKey | CreateGrant | RetireGrant => true,
            Encrypt | Decrypt | ReEncryptFrom | ReEncryptTo => {
                !self.encryption_algorithms(usage).is_empty()
            }
            GenerateDataKey | GenerateDataKeyWithoutPlaintext => {
                self.family() == KeyFamily::Symmetric && usage == KeyUsage::EncryptDecrypt
            }
            // A data key pair's private key is encrypted under a symmetric key.
            GenerateDataKeyPair | GenerateDataKeyPairWithoutPlaintext => {
                self.family() == KeyFamily::Symmetric && usage == KeyUsage::EncryptDecrypt
            }
            Sign | Verify => !self.signing_algorithms(usage).is_empty(),
            GenerateMac | VerifyMac => !self.mac_algorithms(usage).is_empty(),
            DeriveSharedSecret => !self.key_agreement_algorithms(usage).is_empty(),
            Encapsulate | Decapsulate => !self.encapsulation_algorithms(usage).is_empty(),
            GetPublicKey => self.is_asymmetric(),
        }
    }

    pub fn check_operation(
        self,
        usage: KeyUsage,
        operation: KeyOperation,
    ) -> Result<(), KeySpecError> {
        if self.allows_operation(usage, operation) {
            Ok(())
        } else {
            Err(KeySpecError::OperationNotAllowed {
                operation: operation.aws_name(),
                spec: self.name(Cloud::Aws).to_owned(),
                usage: usage.name().to_owned(),
            })
        }
    }

    /// The longest plaintext `algorithm` encrypts with a key of this spec: 4096 bytes for
    /// symmetric keys; for RSAES-OAEP k − 2·hLen − 2 (RFC 8017 §7.1.1: RSA_2048 214 bytes
    /// with SHA-1 and 190 with SHA-256, RSA_3072 342/318, RSA_4096 470/446, the figures
    /// AWS's asymmetric key spec reference lists); SM2PKE 1024 bytes (AWS).
    pub fn max_plaintext_len(self, algorithm: EncryptionAlgorithm) -> Option<usize> {
        match (algorithm, self.rsa_bits()) {
            (EncryptionAlgorithm::SymmetricDefault, _) if self.family() == KeyFamily::Symmetric => {
                Some(4096)
            }
            (
                EncryptionAlgorithm::RsaesOaepSha1 | EncryptionAlgorithm::RsaesOaepSha256,
                Some(bits),
            ) => {
                let hash = algorithm.oaep_hash()?.output_len();
                Some(bits / 8 - 2 * hash - 2)
            }
            (EncryptionAlgorithm::Sm2Pke, None) if self == Self::Sm2 => Some(1024),
            _ => None,
        }
    }

    pub fn check_plaintext_len(
        self,
        algorithm: EncryptionAlgorithm,
        len: usize,
        cloud: Cloud,
    ) -> Result<(), KeySpecError> {
        let limit = self.max_plaintext_len(algorithm).unwrap_or(0);
        if (1..=limit).contains(&len) {
            Ok(())
        } else {
            Err(KeySpecError::PlaintextLength {
                algorithm: algorithm.name(cloud).to_owned(),
                limit,
                actual: len,
            })
        }
    }
}

/// The specs GenerateDataKeyPair accepts (botocore's DataKeyPairSpec less ML-KEM).
const DATA_KEY_PAIR_SPECS: [KeySpec; 9] = [
    KeySpec::Rsa2048,
    KeySpec::Rsa3072,
    KeySpec::Rsa4096,
    KeySpec::EccNistP256,
    KeySpec::EccNistP384,
    KeySpec::EccNistP521,
    KeySpec::EccSecgP256k1,
    KeySpec::Sm2,
    KeySpec::Ed25519,
];

/// Which data key pair operation a spec is parsed for: Huawei has one for RSA and one
/// for EC pairs, AWS one for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKeyPairFamily {
    Rsa,
    Ec,
    Any,
}

fn check_algorithm<T: Copy + PartialEq>(
    kind: &'static str,
    algorithm: T,
    allowed: &[T],
    name: impl Fn(T) -> &'static str,
    spec: KeySpec,
    usage: KeyUsage,
    cloud: Cloud,
) -> Result<(), KeySpecError> {
    if allowed.contains(&algorithm) {
        Ok(())
    } else {
        Err(KeySpecError::AlgorithmNotAllowed {
            kind,
            algorithm: name(algorithm).to_owned(),
            spec: spec.name(cloud).to_owned(),
            usage: usage.name().to_owned(),
            valid: join_names(allowed, name),
        })
    }
}

impl fmt::Display for KeySpec {
    /// For messages and logs: the AWS name, except for SM4, which AWS calls SYMMETRIC_DEFAULT
    /// too and would be mistaken for AES.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sm4 => f.write_str("SM4"),
            _ => f.write_str(self.name(Cloud::Aws)),
        }
    }
}

/// What a key is for. The same names in both clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    EncryptDecrypt,
    SignVerify,
    GenerateVerifyMac,
    KeyAgreement,
    /// ML-KEM keys (AWS only).
    EncapsulateDecapsulate,
}

impl KeyUsage {
    pub const ALL: [KeyUsage; 5] = [
        Self::EncryptDecrypt,
        Self::SignVerify,
        Self::GenerateVerifyMac,
        Self::KeyAgreement,
        Self::EncapsulateDecapsulate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::EncryptDecrypt => "ENCRYPT_DECRYPT",
            Self::SignVerify => "SIGN_VERIFY",
            Self::GenerateVerifyMac => "GENERATE_VERIFY_MAC",
            Self::KeyAgreement => "KEY_AGREEMENT",
            Self::EncapsulateDecapsulate => "ENCAPSULATE_DECAPSULATE",
        }
    }

    pub fn parse(cloud: Cloud, value: &str) -> Result<Self, KeySpecError> {
        let field = match cloud {
            Cloud::Huawei => "key_usage",
            Cloud::Aws => "KeyUsage",
        };
        // Huawei's SDK has no ML-KEM keys, so its key_usage has no ENCAPSULATE_DECAPSULATE.
        let candidates: &[Self] = match cloud {
            Cloud::Aws => &Self::ALL,
            Cloud::Huawei => &Self::ALL[..4],
        };
        parse_among(field, value, candidates, Self::name)
    }

    /// A key usage as stored: any usage's name, whichever dialect made the key.
    pub fn from_stored(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|usage| usage.name() == value)
    }
}

/// A signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    RsassaPssSha256,
    RsassaPssSha384,
    RsassaPssSha512,
    RsassaPkcs1V15Sha256,
    RsassaPkcs1V15Sha384,
    RsassaPkcs1V15Sha512,
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
    /// SM2 signature with SM3 over Z(A) ‖ M (GB/T 32918), AWS SM2DSA, Huawei SM2DSA_SM3.
    Sm2Dsa,
    /// PureEdDSA (RFC 8032 Ed25519).
    Ed25519Sha512,
    /// HashEdDSA (RFC 8032 Ed25519ph) over SHA-512 of the message.
    Ed25519PhSha512,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 12] = [
        Self::RsassaPssSha256,
        Self::RsassaPssSha384,
        Self::RsassaPssSha512,
        Self::RsassaPkcs1V15Sha256,
        Self::RsassaPkcs1V15Sha384,
        Self::RsassaPkcs1V15Sha512,
        Self::EcdsaSha256,
        Self::EcdsaSha384,
        Self::EcdsaSha512,
        Self::Sm2Dsa,
        Self::Ed25519Sha512,
        Self::Ed25519PhSha512,
    ];

    pub fn name(self, cloud: Cloud) -> &'static str {
        match self {
            Self::RsassaPssSha256 => "RSASSA_PSS_SHA_256",
            Self::RsassaPssSha384 => "RSASSA_PSS_SHA_384",
            Self::RsassaPssSha512 => "RSASSA_PSS_SHA_512",
            Self::RsassaPkcs1V15Sha256 => "RSASSA_PKCS1_V1_5_SHA_256",
            Self::RsassaPkcs1V15Sha384 => "RSASSA_PKCS1_V1_5_SHA_384",
            Self::RsassaPkcs1V15Sha512 => "RSASSA_PKCS1_V1_5_SHA_512",
            Self::EcdsaSha256 => "ECDSA_SHA_256",
            Self::EcdsaSha384 => "ECDSA_SHA_384",
            Self::EcdsaSha512 => "ECDSA_SHA_512",
            Self::Sm2Dsa => match cloud {
                Cloud::Huawei => "SM2DSA_SM3",
                Cloud::Aws => "SM2DSA",
            },
            Self::Ed25519Sha512 => "ED25519_SHA_512",
            Self::Ed25519PhSha512 => "ED25519_PH_SHA_512",
        }
    }

    pub fn parse(cloud: Cloud, value: &str) -> Result<Self, KeySpecError> {
        let field = match cloud {
            Cloud::Huawei => "signing_algorithm",
            Cloud::Aws => "SigningAlgorithm",
        };
        if cloud == Cloud::Aws && value == "ML_DSA_SHAKE_256" {
            return Err(KeySpecError::Unsupported {
                field,
                value: value.to_owned(),
                reason: "ML-DSA key pairs are not implemented.",
            });
        }
        parse_among(field, value, &Self::ALL, |alg| alg.name(cloud))
    }

    /// The hash the algorithm applies to a RAW message, whose length a DIGEST must have.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::RsassaPssSha256 | Self::RsassaPkcs1V15Sha256 | Self::EcdsaSha256 => {
                HashAlgorithm::Sha256
            }
            Self::RsassaPssSha384 | Self::RsassaPkcs1V15Sha384 | Self::EcdsaSha384 => {
                HashAlgorithm::Sha384
            }
            Self::RsassaPssSha512
            | Self::RsassaPkcs1V15Sha512
            | Self::EcdsaSha512
            | Self::Ed25519Sha512
            | Self::Ed25519PhSha512 => HashAlgorithm::Sha512,
            Self::Sm2Dsa => HashAlgorithm::Sm3,
        }
    }

    /// Checks a message to sign or verify. RAW messages are 1 to 4096 bytes (AWS's
    /// Message shape; Huawei documents "under 4096 bytes" and is held to the same limit).
    /// A DIGEST has the length of the algorithm's hash (for SM2DSA, the 32-byte SM3 of
    /// Z(A) ‖ M). AWS: ED25519_SHA_512 takes only RAW, ED25519_PH_SHA_512 only DIGEST.
    /// Huawei signs SM2 keys over digests only ("仅支持对消息摘要签名").
    pub fn check_message(
        self,
        cloud: Cloud,
        message_type: MessageType,
        message_len: usize,
    ) -> Result<(), KeySpecError> {
        let required = match (self, cloud) {
            (Self::Ed25519Sha512, _) => Some(MessageType::Raw),
            (Self::Ed25519PhSha512, _) | (Self::Sm2Dsa, Cloud::Huawei) => Some(MessageType::Digest),
            _ => None,
        };
        if let Some(required) = required
            && required != message_type
        {
            return Err(KeySpecError::MessageTypeNotAllowed {
                algorithm: self.name(cloud).to_owned(),
                required: required.name(),
            });
        }
        match message_type {
            MessageType::Raw if !(1..=MAX_RAW_MESSAGE_BYTES).contains(&message_len) => {
                Err(KeySpecError::MessageLength {
                    limit: MAX_RAW_MESSAGE_BYTES,
                    actual: message_len,
                })
            }
            MessageType::Digest if message_len != self.hash().output_len() => {
                Err(KeySpecError::DigestLength {
                    algorithm: self.name(cloud).to_owned(),
                    expected: self.hash().output_len(),
                    actual: message_len,
                })
            }
            _ => Ok(()),
        }
    }
}

/// The longest RAW message Sign, Verify, GenerateMac and VerifyMac take (both clouds).
pub const MAX_RAW_MESSAGE_BYTES: usize = 4096;

/// Whether a message to sign is the message itself or its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Raw,
    Digest,
}

impl MessageType {
    pub fn name(self) -> &'static str {
        match self {
            Self::Raw => "RAW",
            Self::Digest => "DIGEST",
        }
    }

    /// What a request without a message type means: Huawei's sign defaults to DIGEST,
    /// AWS's Sign to RAW.
    pub fn default_for(cloud: Cloud) -> Self {
        match cloud {
            Cloud::Huawei => Self::Digest,
            Cloud::Aws => Self::Raw,
        }
    }

    pub fn parse(cloud: Cloud, value: &str) -> Result<Self, KeySpecError> {
        let field = match cloud {
            Cloud::Huawei => "message_type",
            Cloud::Aws => "MessageType",
        };
        if cloud == Cloud::Aws && value == "EXTERNAL_MU" {
            return Err(KeySpecError::Unsupported {
                field,
                value: value.to_owned(),
                reason: "it belongs to ML-DSA key pairs, which are not implemented.",
            });
        }
        parse_among(field, value, &[Self::Raw, Self::Digest], Self::name)
    }
}

/// An encryption algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncryptionAlgorithm {
    SymmetricDefault,
    RsaesOaepSha1,
    RsaesOaepSha256,
    /// SM2 public-key encryption (GB/T 32918.4), AWS SM2PKE, Huawei SM2_ENCRYPT.
    Sm2Pke,
}

impl EncryptionAlgorithm {
    pub const ALL: [EncryptionAlgorithm; 4] = [
        Self::SymmetricDefault,
        Self::RsaesOaepSha1,
        Self::RsaesOaepSha256,
        Self::Sm2Pke,
    ];

    pub fn name(self, cloud: Cloud) -> &'static str {
        match self {
            Self::SymmetricDefault => "SYMMETRIC_DEFAULT",
            Self::RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
            Self::RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
            Self::Sm2Pke => match cloud {
                Cloud::Huawei => "SM2_ENCRYPT",
                Cloud::Aws => "SM2PKE",
            },
        }
    }

    /// Huawei's encrypt-data and decrypt-data list SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_256
    /// and SM2_ENCRYPT; its re-encrypt also lists RSAES_OAEP_SHA_1, so the Huawei dialect
    /// accepts all four everywhere rather than refuse one operation what another takes.
    pub fn parse(cloud: Cloud, value: &str) -> Result<Self, KeySpecError> {
        let field = match cloud {
            Cloud::Huawei => "encryption_algorithm",
            Cloud::Aws => "EncryptionAlgorithm",
        };
        parse_among(field, value, &Self::ALL, |alg| alg.name(cloud))
    }

    /// The default when a request names none, in both clouds.
    pub fn default_for_request() -> Self {
        Self::SymmetricDefault
    }

    pub fn oaep_hash(self) -> Option<HashAlgorithm> {
        match self {
            Self::RsaesOaepSha1 => Some(HashAlgorithm::Sha1),
            Self::RsaesOaepSha256 => Some(HashAlgorithm::Sha256),
            Self::SymmetricDefault | Self::Sm2Pke => None,
        }
    }
}

/// A MAC algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacAlgorithm {
    HmacSha224,
    HmacSha256,
    HmacSha384,
    HmacSha512,
    /// Huawei only.
    HmacSm3,
}

impl MacAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            Self::HmacSha224 => "HMAC_SHA_224",
            Self::HmacSha256 => "HMAC_SHA_256",
            Self::HmacSha384 => "HMAC_SHA_384",
            Self::HmacSha512 => "HMAC_SHA_512",
            Self::HmacSm3 => "HMAC_SM3",
        }
    }

    /// Huawei lists HMAC_SHA_256/384/512 and HMAC_SM3; AWS HMAC_SHA_224/256/384/512.
    pub fn parse(cloud: Cloud, value: &str) -> Result<Self, KeySpecError> {
        let (field, candidates): (_, &[Self]) = match cloud {
            Cloud::Huawei => (
                "mac_algorithm",
                &[
                    Self::HmacSha256,
                    Self::HmacSha384,
                    Self::HmacSha512,
                    Self::HmacSm3,
                ],
            ),
            Cloud::Aws => (
                "MacAlgorithm",
                &[
                    Self::HmacSha224,
                    Self::HmacSha256,
                    Self::HmacSha384,
                    Self::HmacSha512,
                ],
            ),
        };
        parse_among(field, value, candidates, Self::name)
    }

    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::HmacSha224 => HashAlgorithm::Sha224,
            Self::HmacSha256 => HashAlgorithm::Sha256,
            Self::HmacSha384 => HashAlgorithm::Sha384,
            Self::HmacSha512 => HashAlgorithm::Sha512,
            Self::HmacSm3 => HashAlgorithm::Sm3,
        }
    }

    /// GenerateMac / generate-mac messages are 1 to 4096 bytes in both clouds.
    pub fn check_message(message_len: usize) -> Result<(), KeySpecError> {
        if (1..=MAX_RAW_MESSAGE_BYTES).contains(&message_len) {
            Ok(())
        } else {
            Err(KeySpecError::MessageLength {
                limit: MAX_RAW_MESSAGE_BYTES,
                actual: message_len,
            })
        }
    }
}

/// A key agreement algorithm: ECDH is the only one either cloud has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAgreementAlgorithm {
    Ecdh,
}

impl KeyAgreementAlgorithm {
    pub fn name(self) -> &'static str {
        "ECDH"
    }

    pub fn parse(cloud: Cloud, value: &str) -> Result<Self, KeySpecError> {
        let field = match cloud {
            Cloud::Huawei => "key_agreement_algorithm",
            Cloud::Aws => "KeyAgreementAlgorithm",
        };
        parse_among(field, value, &[Self::Ecdh], Self::name)
    }
}

/// A key encapsulation algorithm (botocore's EncapsulationAlgorithmSpec): ML_KEM is the
/// only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncapsulationAlgorithm {
    MlKem,
}

impl EncapsulationAlgorithm {
    pub fn name(self) -> &'static str {
        "ML_KEM"
    }

    /// AWS only (Huawei has no key encapsulation operations).
    pub fn parse(value: &str) -> Result<Self, KeySpecError> {
        parse_among("EncapsulationAlgorithm", value, &[Self::MlKem], Self::name)
    }
}

/// How imported key material is wrapped for transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WrappingAlgorithm {
    RsaesOaepSha1,
    RsaesOaepSha256,
    /// RSA-OAEP-SHA-1 wraps an ephemeral AES-256 key that wraps the material with AES key
    /// wrap with padding (RFC 5649).
    RsaAesKeyWrapSha1,
    RsaAesKeyWrapSha256,
}

impl WrappingAlgorithm {
    /// The same names in both clouds.
    pub fn name(self) -> &'static str {
        match self {
            Self::RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
            Self::RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
            Self::RsaAesKeyWrapSha1 => "RSA_AES_KEY_WRAP_SHA_1",
            Self::RsaAesKeyWrapSha256 => "RSA_AES_KEY_WRAP_SHA_256",
        }
    }

    /// AWS's AlgorithmSpec less RSAES_PKCS1_V1_5 (which AWS stopped accepting in 2023)
    /// and SM2PKE (China regions; not implemented); Huawei's wrapping_algorithm is
    /// RSAES_OAEP_SHA_256 (SM2_ENCRYPT, "not supported in some regions", is not implemented).
    pub fn parse(cloud: Cloud, value: &str) -> Result<Self, KeySpecError> {
        let field = match cloud {
            Cloud::Huawei => "wrapping_algorithm",
            Cloud::Aws => "WrappingAlgorithm",
        };
        let unsupported = match value {
            "RSAES_PKCS1_V1_5" => {
                Some("AWS no longer accepts RSAES_PKCS1_V1_5 for importing key material.")
            }
            "SM2PKE" | "SM2_ENCRYPT" => Some("SM2 wrapping keys are not implemented."),
            _ => None,
        };
        if let Some(reason) = unsupported {
            return Err(KeySpecError::Unsupported {
                field,
                value: value.to_owned(),
                reason,
            });
        }
        let candidates: &[Self] = match cloud {
            Cloud::Huawei => &[Self::RsaesOaepSha256],
            Cloud::Aws => &[
                Self::RsaesOaepSha1,
                Self::RsaesOaepSha256,
                Self::RsaAesKeyWrapSha1,
                Self::RsaAesKeyWrapSha256,
            ],
        };
        parse_among(field, value, candidates, Self::name)
    }

    pub fn oaep_hash(self) -> HashAlgorithm {
        match self {
            Self::RsaesOaepSha1 | Self::RsaAesKeyWrapSha1 => HashAlgorithm::Sha1,
            Self::RsaesOaepSha256 | Self::RsaAesKeyWrapSha256 => HashAlgorithm::Sha256,
        }
    }

    /// Whether this algorithm may wrap material of `spec`. AWS (GetParametersForImport's
    /// WrappingAlgorithm): "To import an RSA private key, you must use an RSA_AES wrapping
    /// algorithm"; the RSAES_OAEP ones take every other kind of material that fits (a
    /// P-521 key does not fit RSA-OAEP under RSA_2048, which the unwrap reports).
    pub fn can_wrap(self, spec: KeySpec) -> bool {
        spec.family() != KeyFamily::Rsa || self.uses_aes_key_wrap()
    }

    pub fn uses_aes_key_wrap(self) -> bool {
        matches!(self, Self::RsaAesKeyWrapSha1 | Self::RsaAesKeyWrapSha256)
    }
}

/// The RSA wrapping key of GetParametersForImport (AWS WrappingKeySpec). Huawei's
/// get-parameters-for-import names no size; its dialect picks one (see the wire notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WrappingKeySpec {
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl WrappingKeySpec {
    pub fn name(self) -> &'static str {
        match self {
            Self::Rsa2048 => "RSA_2048",
            Self::Rsa3072 => "RSA_3072",
            Self::Rsa4096 => "RSA_4096",
        }
    }

    pub fn bits(self) -> usize {
        match self {
            Self::Rsa2048 => 2048,
            Self::Rsa3072 => 3072,
            Self::Rsa4096 => 4096,
        }
    }

    pub fn parse(value: &str) -> Result<Self, KeySpecError> {
        if value == "SM2" {
            return Err(KeySpecError::Unsupported {
                field: "WrappingKeySpec",
                value: value.to_owned(),
                reason: "SM2 wrapping keys are not implemented.",
            });
        }
        parse_among(
            "WrappingKeySpec",
            value,
            &[Self::Rsa2048, Self::Rsa3072, Self::Rsa4096],
            Self::name,
        )
    }
}

/// The operations whose fit with a key's spec and usage is checked, when granted and when
/// called. Cloud-neutral; each dialect maps its grant operation names onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyOperation {
    Encrypt,
    Decrypt,
    ReEncryptFrom,
    ReEncryptTo,
    GenerateDataKey,
    GenerateDataKeyWithoutPlaintext,
    GenerateDataKeyPair,
    GenerateDataKeyPairWithoutPlaintext,
    Sign,
    Verify,
    GetPublicKey,
    GenerateMac,
    VerifyMac,
    DeriveSharedSecret,
    Encapsulate,
    Decapsulate,
    DescribeKey,
    CreateGrant,
    RetireGrant,
}

impl KeyOperation {
    pub const ALL: [KeyOperation; 19] = [
        Self::Encrypt,
        Self::Decrypt,
        Self::ReEncryptFrom,
        Self::ReEncryptTo,
        Self::GenerateDataKey,
        Self::GenerateDataKeyWithoutPlaintext,
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
        Self::DescribeKey,
        Self::CreateGrant,
        Self::RetireGrant,
    ];

    /// The AWS GrantOperation name.
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::Encrypt => "Encrypt",
            Self::Decrypt => "Decrypt",
            Self::ReEncryptFrom => "ReEncryptFrom",
            Self::ReEncryptTo => "ReEncryptTo",
            Self::GenerateDataKey => "GenerateDataKey",
            Self::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
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
            Self::DescribeKey => "DescribeKey",
            Self::CreateGrant => "CreateGrant",
            Self::RetireGrant => "RetireGrant",
        }
    }

    pub fn from_aws_name(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.aws_name() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOUDS: [Cloud; 2] = [Cloud::Huawei, Cloud::Aws];

    #[test]
    fn huawei_creates_exactly_the_sdk_key_specs() {
        let names: Vec<_> = KeySpec::HUAWEI_CREATABLE
            .iter()
            .map(|spec| spec.name(Cloud::Huawei))
            .collect();
        assert_eq!(
            names,
            [
                "AES_256",
                "SM4",
                "RSA_2048",
                "RSA_3072",
                "RSA_4096",
                "EC_P256",
                "EC_P384",
                "SECP256K1",
                "SM2",
                "ED25519",
                "HMAC_256",
                "HMAC_384",
                "HMAC_512",
                "HMAC_SM3"
            ]
        );
        for name in names {
            assert_eq!(
                KeySpec::parse(Cloud::Huawei, name)
                    .unwrap()
                    .name(Cloud::Huawei),
                name
            );
        }
    }

    #[test]
    fn aws_creates_botocore_key_specs_and_refuses_ml_dsa_as_unsupported() {
        let names: Vec<_> = KeySpec::AWS_CREATABLE
            .iter()
            .map(|spec| spec.name(Cloud::Aws))
            .collect();
        assert_eq!(
            names,
            [
                "SYMMETRIC_DEFAULT",
                "RSA_2048",
                "RSA_3072",
                "RSA_4096",
                "ECC_NIST_P256",
                "ECC_NIST_P384",
                "ECC_NIST_P521",
                "ECC_SECG_P256K1",
                "SM2",
                "ECC_NIST_EDWARDS25519",
                "HMAC_224",
                "HMAC_256",
                "HMAC_384",
                "HMAC_512",
                "ML_KEM_512",
                "ML_KEM_768",
                "ML_KEM_1024"
            ]
        );
        for name in names {
            assert_eq!(
                KeySpec::parse(Cloud::Aws, name).unwrap().name(Cloud::Aws),
                name
            );
        }
        for name in ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"] {
            assert!(matches!(
                KeySpec::parse(Cloud::Aws, name),
                Err(KeySpecError::Unsupported {
                    field: "KeySpec",
                    ..
                })
            ));
        }
    }

    #[test]
    fn one_clouds_names_are_refused_by_the_other_with_the_valid_list() {
        for (cloud, foreign) in [
            (Cloud::Huawei, "SYMMETRIC_DEFAULT"),
            (Cloud::Huawei, "ECC_NIST_P256"),
            (Cloud::Huawei, "EC_P521"),
            (Cloud::Huawei, "HMAC_224"),
            (Cloud::Aws, "AES_256"),
            (Cloud::Aws, "EC_P256"),
            (Cloud::Aws, "SM4"),
            (Cloud::Aws, "HMAC_SM3"),
            (Cloud::Aws, "ED25519"),
            (Cloud::Aws, ""),
            (Cloud::Aws, "rsa_2048"),
        ] {
            match KeySpec::parse(cloud, foreign) {
                Err(KeySpecError::UnknownName { valid, .. }) => {
                    assert!(valid.contains("RSA_2048"), "{valid}")
                }
                other => panic!("{cloud:?} {foreign}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_spec_has_a_name_in_both_dialects_and_round_trips_through_storage() {
        for spec in KeySpec::ALL {
            for cloud in CLOUDS {
                assert!(!spec.name(cloud).is_empty());
            }
            assert_eq!(KeySpec::from_stored(spec.stored_name()), Some(spec));
        }
        assert_eq!(KeySpec::from_stored("AES_256"), Some(KeySpec::Aes256));
        assert_eq!(KeySpec::from_stored("SYMMETRIC_DEFAULT"), None);
        assert_eq!(KeySpec::Sm4.name(Cloud::Aws), "SYMMETRIC_DEFAULT");
        assert_eq!(KeySpec::EccNistP521.name(Cloud::Huawei), "EC_P521");
        assert_eq!(KeySpec::HmacSm3.name(Cloud::Aws), "HMAC_SM3");
    }

    #[test]
    fn families_sizes_and_curves() {
        for spec in KeySpec::ALL {
            let family = spec.family();
            assert_eq!(
                spec.rsa_bits().is_some(),
                family == KeyFamily::Rsa,
                "{spec:?}"
            );
            assert_eq!(
                spec.curve().is_some(),
                family == KeyFamily::EllipticCurve,
                "{spec:?}"
            );
            assert_eq!(
                spec.mac_hash().is_some(),
                family == KeyFamily::Hmac,
                "{spec:?}"
            );
            assert_eq!(
                spec.is_asymmetric(),
                matches!(
                    family,
                    KeyFamily::Rsa | KeyFamily::EllipticCurve | KeyFamily::MlKem
                )
            );
            assert_eq!(spec.generated_secret_len().is_some(), !spec.is_asymmetric());
        }
        assert_eq!(KeySpec::Aes256.generated_secret_len(), Some(32));
        assert_eq!(KeySpec::Sm4.generated_secret_len(), Some(16));
        assert_eq!(KeySpec::Hmac224.generated_secret_len(), Some(28));
        assert_eq!(KeySpec::Hmac512.generated_secret_len(), Some(64));
        assert_eq!(KeySpec::HmacSm3.generated_secret_len(), Some(32));
        assert_eq!(KeySpec::Aes256.imported_secret_len(), Some(32..=32));
        assert_eq!(KeySpec::Hmac224.imported_secret_len(), Some(28..=64));
        assert_eq!(KeySpec::Hmac256.imported_secret_len(), Some(32..=64));
        assert_eq!(KeySpec::Hmac384.imported_secret_len(), Some(48..=128));
        assert_eq!(KeySpec::Hmac512.imported_secret_len(), Some(64..=128));
        assert_eq!(KeySpec::Rsa2048.imported_secret_len(), None);
    }

    #[test]
    fn usages_follow_each_clouds_create_key_rules() {
        use KeyUsage::*;
        let aws = |spec: KeySpec| KeySpec::allowed_usages(spec, Cloud::Aws).to_vec();
        let huawei = |spec: KeySpec| KeySpec::allowed_usages(spec, Cloud::Huawei).to_vec();
        assert_eq!(aws(KeySpec::Aes256), [EncryptDecrypt]);
        assert_eq!(aws(KeySpec::Rsa3072), [EncryptDecrypt, SignVerify]);
        assert_eq!(aws(KeySpec::EccNistP521), [SignVerify, KeyAgreement]);
        assert_eq!(aws(KeySpec::EccSecgP256k1), [SignVerify]);
        assert_eq!(
            aws(KeySpec::Sm2),
            [EncryptDecrypt, SignVerify, KeyAgreement]
        );
        assert_eq!(aws(KeySpec::Ed25519), [SignVerify]);
        assert_eq!(aws(KeySpec::Hmac224), [GenerateVerifyMac]);
        assert_eq!(huawei(KeySpec::Sm4), [EncryptDecrypt]);
        assert_eq!(huawei(KeySpec::EccSecgP256k1), [SignVerify, KeyAgreement]);
        assert_eq!(huawei(KeySpec::HmacSm3), [GenerateVerifyMac]);
        for spec in KeySpec::ALL {
            for cloud in CLOUDS {
                for usage in spec.allowed_usages(cloud) {
                    assert_eq!(spec.resolve_usage(cloud, Some(*usage)), Ok(*usage));
                }
                for usage in KeyUsage::ALL {
                    if !spec.allowed_usages(cloud).contains(&usage) {
                        assert!(matches!(
                            spec.resolve_usage(cloud, Some(usage)),
                            Err(KeySpecError::UsageNotAllowed { .. })
                        ));
                    }
                }
            }
        }
    }

    #[test]
    fn default_usages() {
        assert_eq!(
            KeySpec::Rsa2048.resolve_usage(Cloud::Aws, None),
            Ok(KeyUsage::EncryptDecrypt)
        );
        assert_eq!(
            KeySpec::Rsa2048.resolve_usage(Cloud::Huawei, None),
            Ok(KeyUsage::SignVerify)
        );
        assert_eq!(
            KeySpec::Aes256.resolve_usage(Cloud::Huawei, None),
            Ok(KeyUsage::EncryptDecrypt)
        );
        assert_eq!(
            KeySpec::EccNistP256.resolve_usage(Cloud::Huawei, None),
            Ok(KeyUsage::SignVerify)
        );
        assert_eq!(
            KeySpec::Hmac256.resolve_usage(Cloud::Huawei, None),
            Ok(KeyUsage::GenerateVerifyMac)
        );
        for spec in [KeySpec::EccNistP256, KeySpec::Ed25519, KeySpec::Hmac256] {
            assert!(matches!(
                spec.resolve_usage(Cloud::Aws, None),
                Err(KeySpecError::UsageRequired { .. })
            ));
        }
    }

    #[test]
    fn usages_parse_in_both_clouds() {
        for cloud in CLOUDS {
            for usage in KeyUsage::ALL {
                if cloud == Cloud::Huawei && usage == KeyUsage::EncapsulateDecapsulate {
                    continue;
                }
                assert_eq!(KeyUsage::parse(cloud, usage.name()), Ok(usage));
            }
            assert!(matches!(
                KeyUsage::parse(cloud, "sign_verify"),
                Err(KeySpecError::UnknownName { .. })
            ));
        }
        // Huawei has no ML-KEM keys, so neither their usage.
        assert!(matches!(
            KeyUsage::parse(Cloud::Huawei, "ENCAPSULATE_DECAPSULATE"),
            Err(KeySpecError::UnknownName { .. })
        ));
    }

    #[test]
    fn ml_kem_keys_are_aws_only_and_encapsulate_decapsulate_only() {
        use KeyUsage::*;
        for (name, spec, ciphertext) in [
            ("ML_KEM_512", KeySpec::MlKem512, 768),
            ("ML_KEM_768", KeySpec::MlKem768, 1088),
            ("ML_KEM_1024", KeySpec::MlKem1024, 1568),
        ] {
            assert_eq!(KeySpec::parse(Cloud::Aws, name), Ok(spec));
            assert!(matches!(
                KeySpec::parse(Cloud::Huawei, name),
                Err(KeySpecError::UnknownName {
                    field: "key_spec",
                    ..
                })
            ));
            assert_eq!(KeySpec::from_stored(spec.stored_name()), Some(spec));
            assert!(spec.is_asymmetric());
            assert_eq!(spec.ml_kem_ciphertext_len(), Some(ciphertext));
            assert_eq!(spec.allowed_usages(Cloud::Aws), [EncapsulateDecapsulate]);
            assert_eq!(
                spec.resolve_usage(Cloud::Aws, Some(EncapsulateDecapsulate)),
                Ok(EncapsulateDecapsulate)
            );
            // No default usage fits: KeyUsage is required, as for ECC and HMAC keys.
            assert!(matches!(
                spec.resolve_usage(Cloud::Aws, None),
                Err(KeySpecError::UsageRequired { .. })
            ));
            assert!(matches!(
                spec.resolve_usage(Cloud::Aws, Some(EncryptDecrypt)),
                Err(KeySpecError::UsageNotAllowed { .. })
            ));
            assert_eq!(
                spec.encapsulation_algorithms(EncapsulateDecapsulate),
                [EncapsulationAlgorithm::MlKem]
            );
            assert_eq!(
                spec.check_encapsulation_algorithm(
                    EncapsulateDecapsulate,
                    EncapsulationAlgorithm::MlKem,
                    Cloud::Aws
                ),
                Ok(())
            );
            assert!(
                spec.encryption_algorithms(EncapsulateDecapsulate)
                    .is_empty()
            );
            assert!(spec.signing_algorithms(EncapsulateDecapsulate).is_empty());
            let allowed: Vec<_> = KeyOperation::ALL
                .into_iter()
                .filter(|op| spec.allows_operation(EncapsulateDecapsulate, *op))
                .collect();
            assert_eq!(
                allowed,
                [
                    KeyOperation::GetPublicKey,
                    KeyOperation::Encapsulate,
                    KeyOperation::Decapsulate,
                    KeyOperation::DescribeKey,
                    KeyOperation::CreateGrant,
                    KeyOperation::RetireGrant
                ]
            );
        }
        // No other spec takes the usage, and no other key encapsulates.
        for spec in KeySpec::ALL {
            if spec.family() == KeyFamily::MlKem {
                continue;
            }
            for cloud in CLOUDS {
                assert!(!spec.allowed_usages(cloud).contains(&EncapsulateDecapsulate));
            }
            for usage in KeyUsage::ALL {
                assert!(spec.encapsulation_algorithms(usage).is_empty());
                assert!(!spec.allows_operation(usage, KeyOperation::Decapsulate));
            }
            assert_eq!(spec.ml_kem_ciphertext_len(), None);
        }
        assert!(matches!(
            KeySpec::Rsa2048.check_encapsulation_algorithm(
                EncryptDecrypt,
                EncapsulationAlgorithm::MlKem,
                Cloud::Aws
            ),
            Err(KeySpecError::AlgorithmNotAllowed { .. })
        ));
        assert_eq!(
            EncapsulationAlgorithm::parse("ML_KEM"),
            Ok(EncapsulationAlgorithm::MlKem)
        );
        assert!(matches!(
            EncapsulationAlgorithm::parse("ML_KEM_768"),
            Err(KeySpecError::UnknownName {
                field: "EncapsulationAlgorithm",
                ..
            })
        ));
    }

    #[test]
    fn describe_key_algorithm_lists() {
        use KeyUsage::*;
        assert_eq!(KeySpec::Rsa2048.signing_algorithms(SignVerify).len(), 6);
        assert!(
            KeySpec::Rsa2048
                .signing_algorithms(EncryptDecrypt)
                .is_empty()
        );
        assert_eq!(
            KeySpec::Rsa2048.encryption_algorithms(EncryptDecrypt),
            [
                EncryptionAlgorithm::RsaesOaepSha1,
                EncryptionAlgorithm::RsaesOaepSha256
            ]
        );
        assert_eq!(
            KeySpec::EccNistP384.signing_algorithms(SignVerify),
            [SigningAlgorithm::EcdsaSha384]
        );
        assert_eq!(
            KeySpec::EccSecgP256k1.signing_algorithms(SignVerify),
            [SigningAlgorithm::EcdsaSha256]
        );
        assert_eq!(
            KeySpec::EccNistP521.signing_algorithms(SignVerify),
            [SigningAlgorithm::EcdsaSha512]
        );
        assert_eq!(
            KeySpec::Sm2.encryption_algorithms(EncryptDecrypt),
            [EncryptionAlgorithm::Sm2Pke]
        );
        assert_eq!(
            KeySpec::Sm2.signing_algorithms(SignVerify),
            [SigningAlgorithm::Sm2Dsa]
        );
        assert_eq!(
            KeySpec::Sm2.key_agreement_algorithms(KeyAgreement),
            [KeyAgreementAlgorithm::Ecdh]
        );
        assert!(
            KeySpec::Ed25519
                .key_agreement_algorithms(KeyAgreement)
                .is_empty()
        );
        assert_eq!(
            KeySpec::Hmac384.mac_algorithms(GenerateVerifyMac),
            [MacAlgorithm::HmacSha384]
        );
        assert_eq!(
            KeySpec::Aes256.encryption_algorithms(EncryptDecrypt),
            [EncryptionAlgorithm::SymmetricDefault]
        );
        // Exactly one list is non-empty for every usage a spec allows.
        for spec in KeySpec::ALL {
            for usage in spec
                .allowed_usages(Cloud::Huawei)
                .iter()
                .chain(spec.allowed_usages(Cloud::Aws))
            {
                let lists = [
                    !spec.signing_algorithms(*usage).is_empty(),
                    !spec.encryption_algorithms(*usage).is_empty(),
                    !spec.mac_algorithms(*usage).is_empty(),
                    !spec.key_agreement_algorithms(*usage).is_empty(),
                    !spec.encapsulation_algorithms(*usage).is_empty(),
                ];
                assert_eq!(
                    lists.iter().filter(|x| **x).count(),
                    1,
                    "{spec:?} {usage:?}"
                );
            }
        }
    }

    #[test]
    fn algorithm_checks_name_the_valid_algorithms() {
        let err = KeySpec::EccNistP256
            .check_signing_algorithm(
                KeyUsage::SignVerify,
                SigningAlgorithm::EcdsaSha384,
                Cloud::Aws,
            )
            .unwrap_err();
        assert!(
            matches!(&err, KeySpecError::AlgorithmNotAllowed { valid, .. } if valid == "ECDSA_SHA_256")
        );
        assert!(
            KeySpec::Rsa4096
                .check_signing_algorithm(
                    KeyUsage::SignVerify,
                    SigningAlgorithm::RsassaPssSha512,
                    Cloud::Aws
                )
                .is_ok()
        );
        assert!(
            KeySpec::Rsa4096
                .check_signing_algorithm(
                    KeyUsage::EncryptDecrypt,
                    SigningAlgorithm::RsassaPssSha512,
                    Cloud::Aws
                )
                .is_err()
        );
        let err = KeySpec::Sm2
            .check_encryption_algorithm(
                KeyUsage::EncryptDecrypt,
                EncryptionAlgorithm::RsaesOaepSha1,
                Cloud::Huawei,
            )
            .unwrap_err();
        assert!(
            matches!(&err, KeySpecError::AlgorithmNotAllowed { valid, .. } if valid == "SM2_ENCRYPT")
        );
        assert!(
            KeySpec::Hmac256
                .check_mac_algorithm(
                    KeyUsage::GenerateVerifyMac,
                    MacAlgorithm::HmacSha512,
                    Cloud::Aws
                )
                .is_err()
        );
        assert!(
            KeySpec::Hmac256
                .check_mac_algorithm(
                    KeyUsage::GenerateVerifyMac,
                    MacAlgorithm::HmacSha256,
                    Cloud::Aws
                )
                .is_ok()
        );
        assert!(
            KeySpec::EccNistP256
                .check_key_agreement_algorithm(
                    KeyUsage::SignVerify,
                    KeyAgreementAlgorithm::Ecdh,
                    Cloud::Aws
                )
                .is_err()
        );
        assert!(
            KeySpec::EccNistP256
                .check_key_agreement_algorithm(
                    KeyUsage::KeyAgreement,
                    KeyAgreementAlgorithm::Ecdh,
                    Cloud::Aws
                )
                .is_ok()
        );
    }

    #[test]
    fn algorithm_names_differ_only_where_the_clouds_differ() {
        for alg in SigningAlgorithm::ALL {
            for cloud in CLOUDS {
                assert_eq!(SigningAlgorithm::parse(cloud, alg.name(cloud)), Ok(alg));
            }
        }
        assert_eq!(SigningAlgorithm::Sm2Dsa.name(Cloud::Huawei), "SM2DSA_SM3");
        assert_eq!(SigningAlgorithm::Sm2Dsa.name(Cloud::Aws), "SM2DSA");
        assert!(SigningAlgorithm::parse(Cloud::Aws, "SM2DSA_SM3").is_err());
        assert!(matches!(
            SigningAlgorithm::parse(Cloud::Aws, "ML_DSA_SHAKE_256"),
            Err(KeySpecError::Unsupported { .. })
        ));
        for alg in EncryptionAlgorithm::ALL {
            for cloud in CLOUDS {
                assert_eq!(EncryptionAlgorithm::parse(cloud, alg.name(cloud)), Ok(alg));
            }
        }
        assert_eq!(
            EncryptionAlgorithm::Sm2Pke.name(Cloud::Huawei),
            "SM2_ENCRYPT"
        );
        assert!(EncryptionAlgorithm::parse(Cloud::Huawei, "SM2PKE").is_err());
        assert_eq!(
            MacAlgorithm::parse(Cloud::Huawei, "HMAC_SM3"),
            Ok(MacAlgorithm::HmacSm3)
        );
        assert!(MacAlgorithm::parse(Cloud::Aws, "HMAC_SM3").is_err());
        assert!(MacAlgorithm::parse(Cloud::Huawei, "HMAC_SHA_224").is_err());
        assert_eq!(
            MacAlgorithm::parse(Cloud::Aws, "HMAC_SHA_224"),
            Ok(MacAlgorithm::HmacSha224)
        );
        assert_eq!(
            KeyAgreementAlgorithm::parse(Cloud::Aws, "ECDH"),
            Ok(KeyAgreementAlgorithm::Ecdh)
        );
        assert!(KeyAgreementAlgorithm::parse(Cloud::Huawei, "ECMQV").is_err());
        assert_eq!(
            MessageType::parse(Cloud::Aws, "DIGEST"),
            Ok(MessageType::Digest)
        );
        assert!(matches!(
            MessageType::parse(Cloud::Aws, "EXTERNAL_MU"),
            Err(KeySpecError::Unsupported { .. })
        ));
        assert_eq!(MessageType::default_for(Cloud::Huawei), MessageType::Digest);
        assert_eq!(MessageType::default_for(Cloud::Aws), MessageType::Raw);
    }

    #[test]
    fn raw_messages_are_1_to_4096_bytes_and_digests_match_the_hash() {
        use SigningAlgorithm::*;
        for cloud in CLOUDS {
            assert!(
                EcdsaSha256
                    .check_message(cloud, MessageType::Raw, 4096)
                    .is_ok()
            );
            assert!(
                EcdsaSha256
                    .check_message(cloud, MessageType::Raw, 1)
                    .is_ok()
            );
            assert_eq!(
                EcdsaSha256.check_message(cloud, MessageType::Raw, 4097),
                Err(KeySpecError::MessageLength {
                    limit: 4096,
                    actual: 4097
                })
            );
            assert!(
                EcdsaSha256
                    .check_message(cloud, MessageType::Raw, 0)
                    .is_err()
            );
            for (alg, len) in [
                (RsassaPssSha256, 32),
                (RsassaPkcs1V15Sha384, 48),
                (EcdsaSha512, 64),
                (Sm2Dsa, 32),
                (Ed25519PhSha512, 64),
            ] {
                assert!(
                    alg.check_message(cloud, MessageType::Digest, len).is_ok(),
                    "{alg:?}"
                );
                assert!(matches!(
                    alg.check_message(cloud, MessageType::Digest, len - 1),
                    Err(KeySpecError::DigestLength { .. })
                ));
                assert!(
                    alg.check_message(cloud, MessageType::Digest, len + 1)
                        .is_err()
                );
            }
            assert!(matches!(
                Ed25519Sha512.check_message(cloud, MessageType::Digest, 64),
                Err(KeySpecError::MessageTypeNotAllowed {
                    required: "RAW",
                    ..
                })
            ));
            assert!(matches!(
                Ed25519PhSha512.check_message(cloud, MessageType::Raw, 64),
                Err(KeySpecError::MessageTypeNotAllowed {
                    required: "DIGEST",
                    ..
                })
            ));
        }
        assert!(
            Sm2Dsa
                .check_message(Cloud::Aws, MessageType::Raw, 100)
                .is_ok()
        );
        assert!(
            Sm2Dsa
                .check_message(Cloud::Huawei, MessageType::Raw, 100)
                .is_err()
        );
        assert!(MacAlgorithm::check_message(4096).is_ok());
        assert!(MacAlgorithm::check_message(4097).is_err());
        assert!(MacAlgorithm::check_message(0).is_err());
    }

    #[test]
    fn oaep_plaintext_limits_match_the_documented_table() {
        use EncryptionAlgorithm::*;
        for (spec, sha1, sha256) in [
            (KeySpec::Rsa2048, 214, 190),
            (KeySpec::Rsa3072, 342, 318),
            (KeySpec::Rsa4096, 470, 446),
        ] {
            assert_eq!(spec.max_plaintext_len(RsaesOaepSha1), Some(sha1));
            assert_eq!(spec.max_plaintext_len(RsaesOaepSha256), Some(sha256));
            assert!(
                spec.check_plaintext_len(RsaesOaepSha256, sha256, Cloud::Aws)
                    .is_ok()
            );
            assert!(matches!(
                spec.check_plaintext_len(RsaesOaepSha256, sha256 + 1, Cloud::Aws),
                Err(KeySpecError::PlaintextLength { .. })
            ));
            assert!(
                spec.check_plaintext_len(RsaesOaepSha1, 0, Cloud::Aws)
                    .is_err()
            );
            assert_eq!(spec.max_plaintext_len(Sm2Pke), None);
        }
        assert_eq!(KeySpec::Sm2.max_plaintext_len(Sm2Pke), Some(1024));
        assert_eq!(
            KeySpec::Aes256.max_plaintext_len(SymmetricDefault),
            Some(4096)
        );
        assert_eq!(KeySpec::Aes256.max_plaintext_len(RsaesOaepSha1), None);
        assert_eq!(KeySpec::EccNistP256.max_plaintext_len(RsaesOaepSha1), None);
    }

    #[test]
    fn operations_fit_the_key() {
        use KeyOperation::*;
        use KeyUsage::*;
        let allowed = |spec: KeySpec, usage| -> Vec<KeyOperation> {
            KeyOperation::ALL
                .into_iter()
                .filter(|op| spec.allows_operation(usage, *op))
                .collect()
        };
        assert_eq!(
            allowed(KeySpec::Aes256, EncryptDecrypt),
            [
                Encrypt,
                Decrypt,
                ReEncryptFrom,
                ReEncryptTo,
                GenerateDataKey,
                GenerateDataKeyWithoutPlaintext,
                GenerateDataKeyPair,
                GenerateDataKeyPairWithoutPlaintext,
                DescribeKey,
                CreateGrant,
                RetireGrant
            ]
        );
        assert_eq!(
            allowed(KeySpec::Rsa2048, EncryptDecrypt),
            [
                Encrypt,
                Decrypt,
                ReEncryptFrom,
                ReEncryptTo,
                GetPublicKey,
                DescribeKey,
                CreateGrant,
                RetireGrant
            ]
        );
        assert_eq!(
            allowed(KeySpec::EccNistP256, SignVerify),
            [
                Sign,
                Verify,
                GetPublicKey,
                DescribeKey,
                CreateGrant,
                RetireGrant
            ]
        );
        assert_eq!(
            allowed(KeySpec::EccNistP384, KeyAgreement),
            [
                GetPublicKey,
                DeriveSharedSecret,
                DescribeKey,
                CreateGrant,
                RetireGrant
            ]
        );
        assert_eq!(
            allowed(KeySpec::Hmac512, GenerateVerifyMac),
            [
                GenerateMac,
                VerifyMac,
                DescribeKey,
                CreateGrant,
                RetireGrant
            ]
        );
        assert!(matches!(
            KeySpec::Aes256.check_operation(EncryptDecrypt, Sign),
            Err(KeySpecError::OperationNotAllowed {
                operation: "Sign",
                ..
            })
        ));
        for op in KeyOperation::ALL {
            assert_eq!(KeyOperation::from_aws_name(op.aws_name()), Some(op));
        }
        assert_eq!(
            KeyOperation::from_aws_name("Encapsulate"),
            Some(KeyOperation::Encapsulate)
        );
        assert_eq!(KeyOperation::from_aws_name("Encapsulation"), None);
    }

    #[test]
    fn data_key_pair_specs() {
        use DataKeyPairFamily::*;
        assert_eq!(
            KeySpec::parse_data_key_pair("RSA_3072", Rsa),
            Ok(KeySpec::Rsa3072)
        );
        assert!(KeySpec::parse_data_key_pair("ECC_NIST_P256", Rsa).is_err());
        assert_eq!(
            KeySpec::parse_data_key_pair("ECC_NIST_P521", Ec),
            Ok(KeySpec::EccNistP521)
        );
        assert_eq!(KeySpec::parse_data_key_pair("SM2", Ec), Ok(KeySpec::Sm2));
        assert!(KeySpec::parse_data_key_pair("ECC_NIST_EDWARDS25519", Ec).is_err());
        assert!(KeySpec::parse_data_key_pair("EC_P256", Ec).is_err());
        for spec in DATA_KEY_PAIR_SPECS {
            assert_eq!(
                KeySpec::parse_data_key_pair(spec.name(Cloud::Aws), Any),
                Ok(spec)
            );
        }
        assert!(matches!(
            KeySpec::parse_data_key_pair("ML_KEM_768", Any),
            Err(KeySpecError::Unsupported { .. })
        ));
        assert!(KeySpec::parse_data_key_pair("SYMMETRIC_DEFAULT", Any).is_err());
    }

    #[test]
    fn wrapping_algorithms_and_specs() {
        for name in [
            "RSAES_OAEP_SHA_1",
            "RSAES_OAEP_SHA_256",
            "RSA_AES_KEY_WRAP_SHA_1",
            "RSA_AES_KEY_WRAP_SHA_256",
        ] {
            assert_eq!(
                WrappingAlgorithm::parse(Cloud::Aws, name).unwrap().name(),
                name
            );
        }
        assert_eq!(
            WrappingAlgorithm::parse(Cloud::Huawei, "RSAES_OAEP_SHA_256"),
            Ok(WrappingAlgorithm::RsaesOaepSha256)
        );
        assert!(WrappingAlgorithm::parse(Cloud::Huawei, "RSAES_OAEP_SHA_1").is_err());
        for (cloud, name) in [
            (Cloud::Aws, "RSAES_PKCS1_V1_5"),
            (Cloud::Aws, "SM2PKE"),
            (Cloud::Huawei, "SM2_ENCRYPT"),
        ] {
            assert!(matches!(
                WrappingAlgorithm::parse(cloud, name),
                Err(KeySpecError::Unsupported { .. })
            ));
        }
        assert!(WrappingAlgorithm::RsaAesKeyWrapSha1.can_wrap(KeySpec::Rsa4096));
        assert!(!WrappingAlgorithm::RsaesOaepSha256.can_wrap(KeySpec::Rsa2048));
        assert!(WrappingAlgorithm::RsaesOaepSha1.can_wrap(KeySpec::EccNistP256));
        assert!(WrappingAlgorithm::RsaesOaepSha1.can_wrap(KeySpec::Hmac512));
        assert!(WrappingAlgorithm::RsaAesKeyWrapSha1.uses_aes_key_wrap());
        assert_eq!(
            WrappingAlgorithm::RsaAesKeyWrapSha256.oaep_hash(),
            HashAlgorithm::Sha256
        );
        assert_eq!(
            WrappingKeySpec::parse("RSA_4096").map(WrappingKeySpec::bits),
            Ok(4096)
        );
        assert!(matches!(
            WrappingKeySpec::parse("SM2"),
            Err(KeySpecError::Unsupported { .. })
        ));
        assert!(WrappingKeySpec::parse("RSA_1024").is_err());
    }

    #[test]
    fn symmetric_ciphers_and_data_key_digests_follow_the_spec() {
        assert_eq!(
            KeySpec::Aes256.symmetric_cipher(),
            Some(SymmetricCipher::Aes256Gcm)
        );
        assert_eq!(
            KeySpec::Sm4.symmetric_cipher(),
            Some(SymmetricCipher::Sm4Gcm)
        );
        for spec in KeySpec::ALL {
            assert_eq!(
                spec.symmetric_cipher().is_some(),
                spec.family() == KeyFamily::Symmetric,
                "{spec:?}"
            );
        }
        assert_eq!(KeySpec::Sm4.generated_secret_len(), Some(16));
        assert_eq!(KeySpec::Sm4.data_key_digest(), HashAlgorithm::Sm3);
        assert_eq!(KeySpec::Aes256.data_key_digest(), HashAlgorithm::Sha256);
    }

    #[test]
    fn only_symmetric_keys_rotate() {
        let rotating: Vec<_> = KeySpec::ALL
            .into_iter()
            .filter(|s| s.supports_rotation())
            .collect();
        assert_eq!(rotating, [KeySpec::Aes256, KeySpec::Sm4]);
    }

    #[test]
    fn unknown_names_are_excerpted() {
        let long = "x".repeat(500);
        match KeySpec::parse(Cloud::Aws, &long) {
            Err(KeySpecError::UnknownName { value, .. }) => assert!(value.chars().count() <= 81),
            other => panic!("{other:?}"),
        }
    }
}
