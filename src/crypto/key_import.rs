//! Imported key material: the wrapping key pair of GetParametersForImport /
//! get-parameters-for-import, and unwrapping what the client sends to ImportKeyMaterial /
//! import-key-material.
//!
//! Wrapping algorithms (AWS's AlgorithmSpec documentation):
//! - RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256: the material is encrypted directly with
//!   RSA-OAEP under the wrapping public key (MGF1 with the same hash, empty label).
//! - RSA_AES_KEY_WRAP_SHA_1 / RSA_AES_KEY_WRAP_SHA_256 (PKCS#11 CKM_RSA_AES_KEY_WRAP): an
//!   ephemeral AES key encrypted with RSA-OAEP, followed by the material wrapped under that
//!   AES key with AES key wrap with padding (RFC 5649). The first modulus-size bytes are
//!   the RSA part.
//!
//! Huawei's import of a key pair sends the two halves in two fields (encrypted_key_material:
//! the RSA-OAEP-SHA-256 wrapped temporary key; encrypted_privatekey: the private key
//! wrapped under it), which [`unwrap_two_part`] takes.

use pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use spki::EncodePublicKey;

use super::key_error::KeyTypeError;
use super::key_material::validate_imported_material;
use crate::domain::key_spec::{HashAlgorithm, KeySpec, WrappingAlgorithm, WrappingKeySpec};

/// A wrapping key pair: the private half stays in the service (wrapped under the master
/// key with the import token), the public half goes to the client as DER SPKI.
pub struct WrappingKeyPair {
    pub private_pkcs8_der: Vec<u8>,
    pub public_key_der: Vec<u8>,
}

impl std::fmt::Debug for WrappingKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappingKeyPair")
            .field("private_pkcs8_der", &"***")
            .field("public_key_der", &self.public_key_der.len())
            .finish()
    }
}

pub fn generate_wrapping_key_pair(spec: WrappingKeySpec) -> WrappingKeyPair {
    let key = rsa::PrivateKey::new(&mut crypto_common::getrandom::SysRng, spec.bits())
        .expect("RSA key generation with the system RNG");
    WrappingKeyPair {
        private_pkcs8_der: key
            .to_pkcs8_der()
            .expect("a fresh key encodes as PKCS#8")
            .as_bytes()
            .to_vec(),
        public_key_der: key
            .to_public_key()
            .to_public_key_der()
            .expect("a fresh key encodes as SPKI")
            .into_vec(),
    }
}

fn wrapping_key(private_pkcs8_der: &[u8]) -> Result<rsa::PrivateKey, KeyTypeError> {
    use pkcs8::DecodePrivateKey;
    rsa::PrivateKey::from_pkcs8_der(private_pkcs8_der).map_err(|_| KeyTypeError::DamagedMaterial)
}

fn oaep_decrypt(
    key: &rsa::PrivateKey,
    hash: HashAlgorithm,
    ciphertext: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, KeyTypeError> {
    let plaintext = match hash {
        HashAlgorithm::Sha1 => key.oaep_decrypt::<sha1::Sha1>(ciphertext),
        HashAlgorithm::Sha256 => key.oaep_decrypt::<sha2_next::Sha256>(ciphertext),
        _ => return Err(KeyTypeError::WrongKeyType),
    };
    plaintext
        .map(zeroize::Zeroizing::new)
        .map_err(|_| KeyTypeError::UnwrappableKeyMaterial("RSA-OAEP decryption failed"))
}

/// RFC 5649 unwrap under an AES-128, -192 or -256 key.
fn aes_kwp_unwrap(aes_key: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, KeyTypeError> {
    use aes_kw::KeyInit;
    let failed = |_| KeyTypeError::UnwrappableKeyMaterial("AES key wrap with padding failed");
    if wrapped.len() < 16 || !wrapped.len().is_multiple_of(8) {
        return Err(KeyTypeError::UnwrappableKeyMaterial(
            "the AES-wrapped part is not a whole number of 8-byte blocks of at least 16 bytes",
        ));
    }
    let mut buffer = vec![0u8; wrapped.len()];
    let len = match aes_key.len() {
        16 => aes_kw::KwpAes128::new_from_slice(aes_key)
            .map_err(|_| KeyTypeError::UnwrappableKeyMaterial("bad AES key"))?
            .unwrap_key(wrapped, &mut buffer)
            .map_err(failed)?
            .len(),
        24 => aes_kw::KwpAes192::new_from_slice(aes_key)
            .map_err(|_| KeyTypeError::UnwrappableKeyMaterial("bad AES key"))?
            .unwrap_key(wrapped, &mut buffer)
            .map_err(failed)?
            .len(),
        32 => aes_kw::KwpAes256::new_from_slice(aes_key)
            .map_err(|_| KeyTypeError::UnwrappableKeyMaterial("bad AES key"))?
            .unwrap_key(wrapped, &mut buffer)
            .map_err(failed)?
            .len(),
        _ => {
            return Err(KeyTypeError::UnwrappableKeyMaterial(
                "the RSA-wrapped ephemeral key is not a 128-, 192- or 256-bit AES key",
            ));
        }
    };
    buffer.truncate(len);
    Ok(buffer)
}

/// Unwraps `wrapped` (ImportKeyMaterial's EncryptedKeyMaterial) with the wrapping key of
/// the import token and checks that it is material for `spec`; returns the material in
/// the stored format.
pub fn unwrap_key_material(
    spec: KeySpec,
    wrapping_private_pkcs8_der: &[u8],
    algorithm: WrappingAlgorithm,
    wrapped: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    let key = wrapping_key(wrapping_private_pkcs8_der)?;
    let material = if algorithm.uses_aes_key_wrap() {
        let rsa_len = key.size();
        if wrapped.len() <= rsa_len {
            return Err(KeyTypeError::UnwrappableKeyMaterial(
                "RSA_AES_KEY_WRAP material is the RSA-wrapped AES key followed by the AES-wrapped material",
            ));
        }
        let (rsa_part, aes_part) = wrapped.split_at(rsa_len);
        let aes_key = oaep_decrypt(&key, algorithm.oaep_hash(), rsa_part)?;
        aes_kwp_unwrap(&aes_key, aes_part)?
    } else {
        oaep_decrypt(&key, algorithm.oaep_hash(), wrapped)?.to_vec()
    };
    let material = zeroize::Zeroizing::new(material);
    validate_imported_material(spec, &material)
}

/// Huawei's import of a key pair: `encrypted_key_material` is a temporary AES key wrapped
/// with RSAES_OAEP_SHA_256 under the wrapping key, `encrypted_private_key` the PKCS#8
/// private key wrapped under that temporary key with AES key wrap with padding.
pub fn unwrap_two_part(
    spec: KeySpec,
    wrapping_private_pkcs8_der: &[u8],
    encrypted_key_material: &[u8],
    encrypted_private_key: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    let key = wrapping_key(wrapping_private_pkcs8_der)?;
    let aes_key = oaep_decrypt(&key, HashAlgorithm::Sha256, encrypted_key_material)?;
    let material = zeroize::Zeroizing::new(aes_kwp_unwrap(&aes_key, encrypted_private_key)?);
    validate_imported_material(spec, &material)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::crypto::key_material::tests::material;
    use spki::DecodePublicKey;
    use std::sync::LazyLock;

    pub(crate) static WRAPPING: LazyLock<WrappingKeyPair> =
        LazyLock::new(|| generate_wrapping_key_pair(WrappingKeySpec::Rsa2048));

    fn public() -> rsa::PublicKey {
        rsa::PublicKey::from_public_key_der(&WRAPPING.public_key_der).unwrap()
    }

    fn oaep(hash: HashAlgorithm, plaintext: &[u8]) -> Vec<u8> {
        match hash {
            HashAlgorithm::Sha1 => public().oaep_encrypt::<sha1::Sha1>(plaintext),
            _ => public().oaep_encrypt::<sha2_next::Sha256>(plaintext),
        }
        .unwrap()
    }

    /// What a client does for RSA_AES_KEY_WRAP_SHA_*, as AWS's OpenSSL recipe describes.
    pub(crate) fn client_wrap(algorithm: WrappingAlgorithm, material: &[u8]) -> Vec<u8> {
        if !algorithm.uses_aes_key_wrap() {
            return oaep(algorithm.oaep_hash(), material);
        }
        use aes_kw::KeyInit;
        let aes_key = crate::crypto::random_bytes(32);
        let mut wrapped = vec![0u8; material.len().div_ceil(8) * 8 + 8];
        let aes_part = aes_kw::KwpAes256::new_from_slice(&aes_key)
            .unwrap()
            .wrap_key(material, &mut wrapped)
            .unwrap()
            .to_vec();
        let mut out = oaep(algorithm.oaep_hash(), &aes_key);
        out.extend_from_slice(&aes_part);
        out
    }

    const ALGORITHMS: [WrappingAlgorithm; 4] = [
        WrappingAlgorithm::RsaesOaepSha1,
        WrappingAlgorithm::RsaesOaepSha256,
        WrappingAlgorithm::RsaAesKeyWrapSha1,
        WrappingAlgorithm::RsaAesKeyWrapSha256,
    ];

    #[test]
    fn wrapping_keys_have_the_requested_size() {
        assert_eq!(public().size(), 256);
        assert!(!format!("{:?}", *WRAPPING).contains("private_pkcs8_der: ["));
    }

    #[test]
    fn symmetric_and_hmac_material_unwraps_with_every_algorithm() {
        for algorithm in ALGORITHMS {
            for (spec, len) in [
                (KeySpec::Aes256, 32),
                (KeySpec::Hmac384, 100),
                (KeySpec::Sm4, 16),
            ] {
                let material = crate::crypto::random_bytes(len);
                let wrapped = client_wrap(algorithm, &material);
                assert_eq!(
                    unwrap_key_material(spec, &WRAPPING.private_pkcs8_der, algorithm, &wrapped),
                    Ok(material),
                    "{algorithm:?} {spec:?}"
                );
            }
        }
    }

    #[test]
    fn key_pairs_import_with_aes_key_wrap_and_must_match_the_spec() {
        for spec in [
            KeySpec::Rsa2048,
            KeySpec::EccNistP384,
            KeySpec::Ed25519,
            KeySpec::Sm2,
        ] {
            let der = material(spec);
            let wrapped = client_wrap(WrappingAlgorithm::RsaAesKeyWrapSha256, der);
            assert_eq!(
                unwrap_key_material(
                    spec,
                    &WRAPPING.private_pkcs8_der,
                    WrappingAlgorithm::RsaAesKeyWrapSha256,
                    &wrapped
                )
                .as_deref(),
                Ok(der)
            );
        }
        let wrapped = client_wrap(
            WrappingAlgorithm::RsaAesKeyWrapSha1,
            material(KeySpec::EccNistP256),
        );
        assert!(matches!(
            unwrap_key_material(
                KeySpec::EccNistP384,
                &WRAPPING.private_pkcs8_der,
                WrappingAlgorithm::RsaAesKeyWrapSha1,
                &wrapped
            ),
            Err(KeyTypeError::IncorrectKeyMaterial(_))
        ));
        let wrapped = client_wrap(WrappingAlgorithm::RsaesOaepSha256, &[1; 31]);
        assert!(matches!(
            unwrap_key_material(
                KeySpec::Aes256,
                &WRAPPING.private_pkcs8_der,
                WrappingAlgorithm::RsaesOaepSha256,
                &wrapped
            ),
            Err(KeyTypeError::IncorrectKeyMaterial(_))
        ));
    }

    #[test]
    fn huawei_two_part_import() {
        use aes_kw::KeyInit;
        let der = material(KeySpec::EccNistP256);
        let temporary = crate::crypto::random_bytes(32);
        let mut buffer = vec![0u8; der.len().div_ceil(8) * 8 + 8];
        let encrypted_private_key = aes_kw::KwpAes256::new_from_slice(&temporary)
            .unwrap()
            .wrap_key(der, &mut buffer)
            .unwrap()
            .to_vec();
        let encrypted_key_material = oaep(HashAlgorithm::Sha256, &temporary);
        assert_eq!(
            unwrap_two_part(
                KeySpec::EccNistP256,
                &WRAPPING.private_pkcs8_der,
                &encrypted_key_material,
                &encrypted_private_key
            )
            .as_deref(),
            Ok(der)
        );
        assert!(matches!(
            unwrap_two_part(
                KeySpec::EccNistP256,
                &WRAPPING.private_pkcs8_der,
                &encrypted_key_material,
                &encrypted_private_key[8..]
            ),
            Err(KeyTypeError::UnwrappableKeyMaterial(_))
        ));
    }

    #[test]
    fn damaged_or_mismatched_wrapping_is_unwrappable_never_a_panic() {
        let material = crate::crypto::random_bytes(32);
        for algorithm in ALGORITHMS {
            let wrapped = client_wrap(algorithm, &material);
            for bad in [
                wrapped[..wrapped.len() - 1].to_vec(),
                {
                    let mut w = wrapped.clone();
                    let last = w.len() - 1;
                    w[last] ^= 1;
                    w
                },
                {
                    let mut w = wrapped.clone();
                    w[3] ^= 1;
                    w
                },
                vec![],
                vec![0; 256],
                vec![0; 300],
            ] {
                assert!(
                    matches!(
                        unwrap_key_material(
                            KeySpec::Aes256,
                            &WRAPPING.private_pkcs8_der,
                            algorithm,
                            &bad
                        ),
                        Err(KeyTypeError::UnwrappableKeyMaterial(_))
                    ),
                    "{algorithm:?} {}",
                    bad.len()
                );
            }
            // The other hash cannot open it either.
            let other = match algorithm {
                WrappingAlgorithm::RsaesOaepSha1 => WrappingAlgorithm::RsaesOaepSha256,
                WrappingAlgorithm::RsaesOaepSha256 => WrappingAlgorithm::RsaesOaepSha1,
                WrappingAlgorithm::RsaAesKeyWrapSha1 => WrappingAlgorithm::RsaAesKeyWrapSha256,
                WrappingAlgorithm::RsaAesKeyWrapSha256 => WrappingAlgorithm::RsaAesKeyWrapSha1,
            };
            assert!(
                unwrap_key_material(
                    KeySpec::Aes256,
                    &WRAPPING.private_pkcs8_der,
                    other,
                    &wrapped
                )
                .is_err()
            );
        }
        assert_eq!(
            unwrap_key_material(
                KeySpec::Aes256,
                b"junk",
                WrappingAlgorithm::RsaesOaepSha1,
                &[0; 256]
            ),
            Err(KeyTypeError::DamagedMaterial)
        );
    }
}
