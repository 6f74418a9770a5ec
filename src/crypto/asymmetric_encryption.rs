//! Encrypt and Decrypt with key pairs: RSAES-OAEP (SHA-1 or SHA-256, MGF1 with the same
//! hash, empty label: what AWS documents and what a client does with the public key from
//! GetPublicKey) and SM2 public-key encryption.
//!
//! These ciphertexts are the bare algorithm output, not the service's frame: AWS returns
//! them as is (a client may make them offline with the public key), and Decrypt is told
//! the key and algorithm by the request.

use crypto_common::getrandom::SysRng;

use super::key_error::KeyTypeError;
use super::key_material::{PrivateKey, PublicKey};
use crate::domain::key_spec::{EncryptionAlgorithm, KeySpec, KeyUsage};

fn check(spec: KeySpec, algorithm: EncryptionAlgorithm) -> Result<(), KeyTypeError> {
    if algorithm != EncryptionAlgorithm::SymmetricDefault
        && spec
            .encryption_algorithms(KeyUsage::EncryptDecrypt)
            .contains(&algorithm)
    {
        Ok(())
    } else {
        Err(KeyTypeError::WrongKeyType)
    }
}

/// Encrypts with the public half of stored key-pair material.
pub fn encrypt(
    spec: KeySpec,
    private_pkcs8_der: &[u8],
    algorithm: EncryptionAlgorithm,
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    check(spec, algorithm)?;
    let public = PrivateKey::from_stored(spec, private_pkcs8_der)?.public_key();
    encrypt_with_public_key(&public, algorithm, plaintext)
}

pub(crate) fn encrypt_with_public_key(
    public: &PublicKey,
    algorithm: EncryptionAlgorithm,
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    let too_long = |_| KeyTypeError::InvalidInput("the plaintext is too long for this key");
    if plaintext.is_empty() {
        return Err(KeyTypeError::InvalidInput("the plaintext is empty"));
    }
    match (public, algorithm) {
        (PublicKey::Rsa(key), EncryptionAlgorithm::RsaesOaepSha1) => {
            key.oaep_encrypt::<sha1::Sha1>(plaintext).map_err(too_long)
        }
        (PublicKey::Rsa(key), EncryptionAlgorithm::RsaesOaepSha256) => key
            .oaep_encrypt::<sha2_next::Sha256>(plaintext)
            .map_err(too_long),
        (PublicKey::Sm2(key), EncryptionAlgorithm::Sm2Pke) => sm2::pke::EncryptingKey::new(*key)
            .encrypt_der(&mut SysRng, plaintext)
            .map_err(|_| KeyTypeError::InvalidInput("the plaintext cannot be encrypted")),
        _ => Err(KeyTypeError::WrongKeyType),
    }
}

/// Encrypts with RSAES-OAEP-SHA-256 to a client's RSA public key (DER SubjectPublicKeyInfo),
/// e.g. the data key of a capsule for the `public_key` of the request.
pub fn encrypt_to_client_rsa_key(
    spki_der: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    use spki::DecodePublicKey;
    let key = rsa::PublicKey::from_public_key_der(spki_der).map_err(|_| {
        KeyTypeError::InvalidInput("not an RSA public key (DER SubjectPublicKeyInfo, base64)")
    })?;
    encrypt_with_public_key(
        &PublicKey::Rsa(Box::new(key)),
        EncryptionAlgorithm::RsaesOaepSha256,
        plaintext,
    )
}

/// Decrypts a ciphertext made with the public key of stored key-pair material. Every
/// failure is the same `UndecryptableCiphertext`, whatever went wrong inside.
pub fn decrypt(
    spec: KeySpec,
    private_pkcs8_der: &[u8],
    algorithm: EncryptionAlgorithm,
    ciphertext: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    check(spec, algorithm)?;
    match (PrivateKey::from_stored(spec, private_pkcs8_der)?, algorithm) {
        (PrivateKey::Rsa(key), EncryptionAlgorithm::RsaesOaepSha1) => {
            key.oaep_decrypt::<sha1::Sha1>(ciphertext)
        }
        (PrivateKey::Rsa(key), EncryptionAlgorithm::RsaesOaepSha256) => {
            key.oaep_decrypt::<sha2_next::Sha256>(ciphertext)
        }
        (PrivateKey::Sm2(key), EncryptionAlgorithm::Sm2Pke) => {
            return sm2::pke::DecryptingKey::new(key)
                .decrypt_der(ciphertext)
                .map_err(|_| KeyTypeError::UndecryptableCiphertext);
        }
        _ => return Err(KeyTypeError::WrongKeyType),
    }
    .map_err(|_| KeyTypeError::UndecryptableCiphertext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_material::tests::material;

    #[test]
    fn oaep_round_trips_up_to_the_documented_limit_and_no_further() {
        for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072] {
            let der = material(spec);
            for algorithm in [
                EncryptionAlgorithm::RsaesOaepSha1,
                EncryptionAlgorithm::RsaesOaepSha256,
            ] {
                let limit = spec.max_plaintext_len(algorithm).unwrap();
                let plaintext = vec![0xa5; limit];
                let ciphertext = encrypt(spec, der, algorithm, &plaintext).unwrap();
                assert_eq!(ciphertext.len(), spec.rsa_bits().unwrap() / 8);
                assert_eq!(
                    decrypt(spec, der, algorithm, &ciphertext).unwrap(),
                    plaintext
                );
                assert!(matches!(
                    encrypt(spec, der, algorithm, &vec![0; limit + 1]),
                    Err(KeyTypeError::InvalidInput(_))
                ));
                let other = match algorithm {
                    EncryptionAlgorithm::RsaesOaepSha1 => EncryptionAlgorithm::RsaesOaepSha256,
                    _ => EncryptionAlgorithm::RsaesOaepSha1,
                };
                assert_eq!(
                    decrypt(spec, der, other, &ciphertext),
                    Err(KeyTypeError::UndecryptableCiphertext)
                );
            }
        }
    }

    #[test]
    fn sm2_round_trips_and_rejects_damage() {
        let spec = KeySpec::Sm2;
        let der = material(spec);
        let ciphertext = encrypt(spec, der, EncryptionAlgorithm::Sm2Pke, b"secret").unwrap();
        assert_eq!(ciphertext[0], 0x30, "GM/T 0009 DER");
        assert_eq!(
            decrypt(spec, der, EncryptionAlgorithm::Sm2Pke, &ciphertext).unwrap(),
            b"secret"
        );
        let mut bad = ciphertext.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            decrypt(spec, der, EncryptionAlgorithm::Sm2Pke, &bad),
            Err(KeyTypeError::UndecryptableCiphertext)
        );
    }

    #[test]
    fn garbage_ciphertexts_and_wrong_algorithms_are_errors() {
        let der = material(KeySpec::Rsa2048);
        for garbage in [&b""[..], b"x", &[0u8; 256], &[0xff; 256], &[1u8; 257]] {
            assert_eq!(
                decrypt(
                    KeySpec::Rsa2048,
                    der,
                    EncryptionAlgorithm::RsaesOaepSha256,
                    garbage
                ),
                Err(KeyTypeError::UndecryptableCiphertext)
            );
        }
        assert_eq!(
            encrypt(KeySpec::Rsa2048, der, EncryptionAlgorithm::Sm2Pke, b"x"),
            Err(KeyTypeError::WrongKeyType)
        );
        assert_eq!(
            encrypt(
                KeySpec::Rsa2048,
                der,
                EncryptionAlgorithm::SymmetricDefault,
                b"x"
            ),
            Err(KeyTypeError::WrongKeyType)
        );
        assert_eq!(
            decrypt(
                KeySpec::EccNistP256,
                material(KeySpec::EccNistP256),
                EncryptionAlgorithm::RsaesOaepSha1,
                b"x"
            ),
            Err(KeyTypeError::WrongKeyType)
        );
    }
}
