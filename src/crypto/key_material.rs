//! Key material for every key spec: generation, the parsed private key, the public key.
//!
//! Material formats, as stored (wrapped under the master key, like AES material today):
//! symmetric and HMAC keys are their raw bytes; key pairs are the private key as PKCS#8
//! DER (RFC 5208/5958), the format clients import and GenerateDataKeyPair returns, so
//! one decoder serves generated, imported and data key pairs alike. An ML-KEM key's
//! PKCS#8 holds its 64-byte seed d ‖ z (FIPS 203 §7.1) in the seed-only form of the IETF
//! LAMPS ML-KEM profile (`[0] IMPLICIT OCTET STRING`), from which both halves are derived.

use crypto_common::Generate;
use crypto_common::getrandom::SysRng;
use pkcs8::{DecodePrivateKey, EncodePrivateKey};
use spki::{DecodePublicKey, EncodePublicKey};

use super::key_error::KeyTypeError;
use crate::domain::key_spec::{Curve, KeySpec};

/// A parsed private key of any asymmetric spec.
pub(crate) enum PrivateKey {
    Rsa(Box<rsa::PrivateKey>),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
    Secp256k1(k256::SecretKey),
    Sm2(sm2::SecretKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
    MlKem512(Box<ml_kem::ml_kem_512::DecapsulationKey>),
    MlKem768(Box<ml_kem::ml_kem_768::DecapsulationKey>),
    MlKem1024(Box<ml_kem::ml_kem_1024::DecapsulationKey>),
}

/// A parsed public key of any asymmetric spec.
pub(crate) enum PublicKey {
    Rsa(Box<rsa::PublicKey>),
    P256(p256::PublicKey),
    P384(p384::PublicKey),
    P521(p521::PublicKey),
    Secp256k1(k256::PublicKey),
    Sm2(sm2::PublicKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    MlKem512(Box<ml_kem::ml_kem_512::EncapsulationKey>),
    MlKem768(Box<ml_kem::ml_kem_768::EncapsulationKey>),
    MlKem1024(Box<ml_kem::ml_kem_1024::EncapsulationKey>),
}

/// New material for a key of `spec`: random bytes for symmetric and HMAC keys, a fresh
/// key pair as PKCS#8 DER otherwise. RSA generation takes from milliseconds to seconds
/// (RSA_4096: see the README's figures); the caller runs it off the async executor.
pub fn generate_material(spec: KeySpec) -> Vec<u8> {
    if let Some(len) = spec.generated_secret_len() {
        return super::random_bytes(len);
    }
    let encoded = match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            let bits = spec.rsa_bits().unwrap_or(2048);
            rsa::PrivateKey::new(&mut SysRng, bits)
                .expect("RSA key generation with the system RNG")
                .to_pkcs8_der()
        }
        KeySpec::EccNistP256 => p256::SecretKey::generate().to_pkcs8_der(),
        KeySpec::EccNistP384 => p384::SecretKey::generate().to_pkcs8_der(),
        KeySpec::EccNistP521 => p521::SecretKey::generate().to_pkcs8_der(),
        KeySpec::EccSecgP256k1 => k256::SecretKey::generate().to_pkcs8_der(),
        KeySpec::Sm2 => sm2::SecretKey::generate().to_pkcs8_der(),
        KeySpec::Ed25519 => {
            let seed: [u8; 32] = super::random_bytes(32).try_into().expect("32 bytes");
            ed25519_dalek::SigningKey::from_bytes(&seed).to_pkcs8_der()
        }
        KeySpec::MlKem512 => {
            ml_kem::ml_kem_512::DecapsulationKey::from_seed(ml_kem_seed()).to_pkcs8_der()
        }
        KeySpec::MlKem768 => {
            ml_kem::ml_kem_768::DecapsulationKey::from_seed(ml_kem_seed()).to_pkcs8_der()
        }
        KeySpec::MlKem1024 => {
            ml_kem::ml_kem_1024::DecapsulationKey::from_seed(ml_kem_seed()).to_pkcs8_der()
        }
        _ => unreachable!("symmetric specs returned above"),
    };
    encoded
        .expect("a fresh key encodes as PKCS#8")
        .as_bytes()
        .to_vec()
}

/// A fresh ML-KEM seed d ‖ z (64 bytes from the system RNG): the whole private key.
fn ml_kem_seed() -> ml_kem::Seed {
    let bytes = super::random_bytes(64);
    ml_kem::Seed::try_from(bytes.as_slice()).expect("64 bytes")
}

/// A data key pair (GenerateDataKeyPair, create-rsa/ec-datakey-pair): the private key as
/// PKCS#8 DER and the public key as DER SubjectPublicKeyInfo, as both clouds return them.
pub struct DataKeyPair {
    pub private_key_der: Vec<u8>,
    pub public_key_der: Vec<u8>,
}

impl std::fmt::Debug for DataKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeyPair")
            .field("private_key_der", &"***")
            .field("public_key_der", &self.public_key_der.len())
            .finish()
    }
}

pub fn generate_data_key_pair(spec: KeySpec) -> Result<DataKeyPair, KeyTypeError> {
    if !spec.is_asymmetric() {
        return Err(KeyTypeError::WrongKeyType);
    }
    let private_key_der = generate_material(spec);
    let public_key_der = public_key_der(spec, &private_key_der)?;
    Ok(DataKeyPair {
        private_key_der,
        public_key_der,
    })
}

impl PrivateKey {
    /// Parses stored PKCS#8 material of `spec`. Stored material was validated when it was
    /// made or imported, so a failure here is damage, not a client error.
    pub(crate) fn from_stored(spec: KeySpec, pkcs8_der: &[u8]) -> Result<Self, KeyTypeError> {
        Self::parse(spec, pkcs8_der).map_err(|_| KeyTypeError::DamagedMaterial)
    }

    /// Parses PKCS#8 DER that must be a private key of `spec` (right algorithm, curve
    /// and modulus size). Used for imported material.
    pub(crate) fn parse(spec: KeySpec, pkcs8_der: &[u8]) -> Result<Self, KeyTypeError> {
        let wrong = |what: &str| {
            KeyTypeError::IncorrectKeyMaterial(format!(
                "{what}; a {spec} key takes a PKCS#8 DER private key of that type"
            ))
        };
        let key = match spec {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let key = rsa::PrivateKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|_| wrong("not an RSA private key"))?;
                let bits = rsa::traits::PublicKeyParts::size(&key) * 8;
                if Some(bits) != spec.rsa_bits() {
                    return Err(wrong(&format!("the RSA modulus has {bits} bits")));
                }
                Self::Rsa(Box::new(key))
            }
            KeySpec::EccNistP256 => Self::P256(
                p256::SecretKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|_| wrong("not a P-256 private key"))?,
            ),
            KeySpec::EccNistP384 => Self::P384(
                p384::SecretKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|_| wrong("not a P-384 private key"))?,
            ),
            KeySpec::EccNistP521 => Self::P521(
                p521::SecretKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|_| wrong("not a P-521 private key"))?,
            ),
            KeySpec::EccSecgP256k1 => Self::Secp256k1(
                k256::SecretKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|_| wrong("not a secp256k1 private key"))?,
            ),
            KeySpec::Sm2 => Self::Sm2(
                sm2::SecretKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|_| wrong("not an SM2 private key"))?,
            ),
            KeySpec::Ed25519 => Self::Ed25519(Box::new(
                ed25519_dalek::SigningKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|_| wrong("not an Ed25519 private key"))?,
            )),
            KeySpec::MlKem512 => Self::MlKem512(Box::new(
                ml_kem::ml_kem_512::DecapsulationKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|_| wrong("not an ML-KEM-512 private key in seed form"))?,
            )),
            KeySpec::MlKem768 => Self::MlKem768(Box::new(
                ml_kem::ml_kem_768::DecapsulationKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|_| wrong("not an ML-KEM-768 private key in seed form"))?,
            )),
            KeySpec::MlKem1024 => Self::MlKem1024(Box::new(
                ml_kem::ml_kem_1024::DecapsulationKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|_| wrong("not an ML-KEM-1024 private key in seed form"))?,
            )),
            _ => return Err(KeyTypeError::WrongKeyType),
        };
        Ok(key)
    }

    pub(crate) fn public_key(&self) -> PublicKey {
        match self {
            Self::Rsa(key) => PublicKey::Rsa(Box::new(key.to_public_key())),
            Self::P256(key) => PublicKey::P256(key.public_key()),
            Self::P384(key) => PublicKey::P384(key.public_key()),
            Self::P521(key) => PublicKey::P521(key.public_key()),
            Self::Secp256k1(key) => PublicKey::Secp256k1(key.public_key()),
            Self::Sm2(key) => PublicKey::Sm2(key.public_key()),
            Self::Ed25519(key) => PublicKey::Ed25519(key.verifying_key()),
            Self::MlKem512(key) => PublicKey::MlKem512(Box::new(key.encapsulation_key().clone())),
            Self::MlKem768(key) => PublicKey::MlKem768(Box::new(key.encapsulation_key().clone())),
            Self::MlKem1024(key) => PublicKey::MlKem1024(Box::new(key.encapsulation_key().clone())),
        }
    }
}

impl PublicKey {
    /// Parses a DER SubjectPublicKeyInfo from a client (a peer key for key agreement),
    /// which must be a key of `spec`'s algorithm and curve.
    pub(crate) fn parse(spec: KeySpec, spki_der: &[u8]) -> Result<Self, KeyTypeError> {
        let wrong = |what: &str| {
            KeyTypeError::InvalidPublicKey(format!(
                "{what}; expected a DER-encoded SubjectPublicKeyInfo of a {spec} key"
            ))
        };
        let key = match spec.curve() {
            None if spec == KeySpec::MlKem512 => Self::MlKem512(Box::new(
                ml_kem::ml_kem_512::EncapsulationKey::from_public_key_der(spki_der)
                    .map_err(|_| wrong("not an ML-KEM-512 public key"))?,
            )),
            None if spec == KeySpec::MlKem768 => Self::MlKem768(Box::new(
                ml_kem::ml_kem_768::EncapsulationKey::from_public_key_der(spki_der)
                    .map_err(|_| wrong("not an ML-KEM-768 public key"))?,
            )),
            None if spec == KeySpec::MlKem1024 => Self::MlKem1024(Box::new(
                ml_kem::ml_kem_1024::EncapsulationKey::from_public_key_der(spki_der)
                    .map_err(|_| wrong("not an ML-KEM-1024 public key"))?,
            )),
            None if spec.rsa_bits().is_some() => {
                let key = rsa::PublicKey::from_public_key_der(spki_der)
                    .map_err(|_| wrong("not an RSA public key"))?;
                let bits = rsa::traits::PublicKeyParts::size(&key) * 8;
                if Some(bits) != spec.rsa_bits() {
                    return Err(wrong(&format!("the RSA modulus has {bits} bits")));
                }
                Self::Rsa(Box::new(key))
            }
            None => return Err(KeyTypeError::WrongKeyType),
            Some(Curve::P256) => Self::P256(
                p256::PublicKey::from_public_key_der(spki_der)
                    .map_err(|_| wrong("not a P-256 public key"))?,
            ),
            Some(Curve::P384) => Self::P384(
                p384::PublicKey::from_public_key_der(spki_der)
                    .map_err(|_| wrong("not a P-384 public key"))?,
            ),
            Some(Curve::P521) => Self::P521(
                p521::PublicKey::from_public_key_der(spki_der)
                    .map_err(|_| wrong("not a P-521 public key"))?,
            ),
            Some(Curve::Secp256k1) => Self::Secp256k1(
                k256::PublicKey::from_public_key_der(spki_der)
                    .map_err(|_| wrong("not a secp256k1 public key"))?,
            ),
            Some(Curve::Sm2) => Self::Sm2(
                sm2::PublicKey::from_public_key_der(spki_der)
                    .map_err(|_| wrong("not an SM2 public key"))?,
            ),
            Some(Curve::Ed25519) => Self::Ed25519(
                ed25519_dalek::VerifyingKey::from_public_key_der(spki_der)
                    .map_err(|_| wrong("not an Ed25519 public key"))?,
            ),
        };
        Ok(key)
    }

    pub(crate) fn to_der(&self) -> Vec<u8> {
        let encoded = match self {
            Self::Rsa(key) => key.to_public_key_der(),
            Self::P256(key) => key.to_public_key_der(),
            Self::P384(key) => key.to_public_key_der(),
            Self::P521(key) => key.to_public_key_der(),
            Self::Secp256k1(key) => key.to_public_key_der(),
            Self::Sm2(key) => key.to_public_key_der(),
            Self::Ed25519(key) => key.to_public_key_der(),
            Self::MlKem512(key) => key.to_public_key_der(),
            Self::MlKem768(key) => key.to_public_key_der(),
            Self::MlKem1024(key) => key.to_public_key_der(),
        };
        encoded
            .expect("a valid public key encodes as SubjectPublicKeyInfo")
            .into_vec()
    }
}

/// The public key of stored key-pair material, as DER SubjectPublicKeyInfo
/// (GetPublicKey's PublicKey, get-publickey's public_key before Base64).
pub fn public_key_der(spec: KeySpec, private_pkcs8_der: &[u8]) -> Result<Vec<u8>, KeyTypeError> {
    Ok(PrivateKey::from_stored(spec, private_pkcs8_der)?
        .public_key()
        .to_der())
}

/// Checks imported material against the key spec and returns it in the stored format:
/// symmetric keys exactly their length, HMAC keys within their documented range, key
/// pairs a PKCS#8 DER private key of the spec's algorithm, curve and size (re-encoded,
/// so what is stored is canonical PKCS#8 whatever optional fields the client sent).
pub fn validate_imported_material(spec: KeySpec, material: &[u8]) -> Result<Vec<u8>, KeyTypeError> {
    if let Some(range) = spec.imported_secret_len() {
        if range.contains(&material.len()) {
            return Ok(material.to_vec());
        }
        let expected = if range.start() == range.end() {
            format!("{} bytes", range.start())
        } else {
            format!("{} to {} bytes", range.start(), range.end())
        };
        return Err(KeyTypeError::IncorrectKeyMaterial(format!(
            "a {spec} key takes {expected} of key material; got {} bytes",
            material.len()
        )));
    }
    let key = PrivateKey::parse(spec, material)?;
    Ok(key.to_pkcs8())
}

impl PrivateKey {
    fn to_pkcs8(&self) -> Vec<u8> {
        let encoded = match self {
            Self::Rsa(key) => key.to_pkcs8_der(),
            Self::P256(key) => key.to_pkcs8_der(),
            Self::P384(key) => key.to_pkcs8_der(),
            Self::P521(key) => key.to_pkcs8_der(),
            Self::Secp256k1(key) => key.to_pkcs8_der(),
            Self::Sm2(key) => key.to_pkcs8_der(),
            Self::Ed25519(key) => key.to_pkcs8_der(),
            Self::MlKem512(key) => key.to_pkcs8_der(),
            Self::MlKem768(key) => key.to_pkcs8_der(),
            Self::MlKem1024(key) => key.to_pkcs8_der(),
        };
        encoded
            .expect("a parsed private key encodes as PKCS#8")
            .as_bytes()
            .to_vec()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::LazyLock;

    /// One pre-generated pair per asymmetric spec, so the suite pays RSA generation once.
    pub(crate) static MATERIAL: LazyLock<Vec<(KeySpec, Vec<u8>)>> = LazyLock::new(|| {
        KeySpec::ALL
            .into_iter()
            .filter(|spec| spec.is_asymmetric())
            .map(|spec| (spec, generate_material(spec)))
            .collect()
    });

    pub(crate) fn material(spec: KeySpec) -> &'static [u8] {
        &MATERIAL
            .iter()
            .find(|(s, _)| *s == spec)
            .expect("asymmetric spec")
            .1
    }

    #[test]
    fn symmetric_and_hmac_material_has_the_spec_length_and_is_fresh() {
        for spec in KeySpec::ALL.into_iter().filter(|s| !s.is_asymmetric()) {
            let a = generate_material(spec);
            assert_eq!(Some(a.len()), spec.generated_secret_len());
            assert_ne!(a, generate_material(spec), "{spec:?}");
            assert_eq!(validate_imported_material(spec, &a), Ok(a));
        }
    }

    #[test]
    fn key_pairs_are_pkcs8_of_their_spec_and_export_spki() {
        for (spec, der) in MATERIAL.iter() {
            let key = PrivateKey::parse(*spec, der).unwrap_or_else(|e| panic!("{spec:?}: {e}"));
            let public = key.public_key().to_der();
            assert_eq!(public_key_der(*spec, der).unwrap(), public);
            PublicKey::parse(*spec, &public).unwrap();
            assert_eq!(
                validate_imported_material(*spec, der).as_deref(),
                Ok(der.as_slice())
            );
            for other in KeySpec::ALL
                .into_iter()
                .filter(|o| o.is_asymmetric() && o != spec)
            {
                assert!(
                    PrivateKey::parse(other, der).is_err(),
                    "{spec:?} material accepted as {other:?}"
                );
                assert!(
                    PublicKey::parse(other, &public).is_err(),
                    "{spec:?} public key accepted as {other:?}"
                );
            }
        }
    }

    #[test]
    fn rsa_sizes_are_checked() {
        let der = material(KeySpec::Rsa2048);
        assert!(matches!(
            validate_imported_material(KeySpec::Rsa3072, der),
            Err(KeyTypeError::IncorrectKeyMaterial(message)) if message.contains("2048 bits")
        ));
    }

    #[test]
    fn malformed_material_is_an_error_never_a_panic() {
        for spec in KeySpec::ALL {
            for bad in [
                &b""[..],
                b"\x30",
                b"\x30\x82\xff\xff",
                &[0u8; 300],
                b"not der at all",
            ] {
                let imported = validate_imported_material(spec, bad);
                if spec.is_asymmetric() || bad.is_empty() {
                    assert!(imported.is_err(), "{spec:?} {bad:?}");
                }
                if spec.is_asymmetric() {
                    assert_eq!(
                        public_key_der(spec, bad),
                        Err(KeyTypeError::DamagedMaterial)
                    );
                    assert!(matches!(
                        PublicKey::parse(spec, bad),
                        Err(KeyTypeError::InvalidPublicKey(_))
                    ));
                }
            }
        }
    }

    #[test]
    fn hmac_import_lengths() {
        assert!(validate_imported_material(KeySpec::Hmac224, &[1; 27]).is_err());
        assert!(validate_imported_material(KeySpec::Hmac224, &[1; 28]).is_ok());
        assert!(validate_imported_material(KeySpec::Hmac224, &[1; 64]).is_ok());
        assert!(validate_imported_material(KeySpec::Hmac224, &[1; 65]).is_err());
        assert!(validate_imported_material(KeySpec::Hmac512, &[1; 128]).is_ok());
        assert!(validate_imported_material(KeySpec::Hmac512, &[1; 129]).is_err());
        assert!(validate_imported_material(KeySpec::Aes256, &[1; 31]).is_err());
        assert!(validate_imported_material(KeySpec::Sm4, &[1; 16]).is_ok());
    }

    #[test]
    fn data_key_pairs_match_their_halves() {
        for spec in [
            KeySpec::EccNistP256,
            KeySpec::Sm2,
            KeySpec::Ed25519,
            KeySpec::EccSecgP256k1,
        ] {
            let pair = generate_data_key_pair(spec).unwrap();
            assert_eq!(
                public_key_der(spec, &pair.private_key_der).unwrap(),
                pair.public_key_der
            );
            assert!(!format!("{pair:?}").contains(&format!("{:?}", pair.private_key_der)));
        }
        assert_eq!(
            generate_data_key_pair(KeySpec::Aes256).unwrap_err(),
            KeyTypeError::WrongKeyType
        );
    }
}
