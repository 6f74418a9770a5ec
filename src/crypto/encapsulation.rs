//! Encapsulate / Decapsulate: ML-KEM (FIPS 203) with a stored seed-form key.
//!
//! Encapsulation uses the public half derived from the seed and a fresh 32-byte message
//! from the system RNG; decapsulation answers the shared secret, or, for a ciphertext of
//! the right length that this key did not make (another key's, altered), the implicit
//! rejection secret FIPS 203 prescribes: never an error. Only a ciphertext of the wrong
//! length is refused, as AWS documents.

use crypto_common::getrandom::{SysRng, rand_core::UnwrapErr};
use ml_kem::{Decapsulate, Encapsulate};

use super::key_error::KeyTypeError;
use super::key_material::PrivateKey;
use crate::domain::key_spec::KeySpec;

/// An ML-KEM ciphertext and the 32-byte shared secret it encapsulates.
pub struct Encapsulated {
    pub ciphertext: Vec<u8>,
    pub shared_secret: Vec<u8>,
}

impl std::fmt::Debug for Encapsulated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encapsulated")
            .field("ciphertext", &self.ciphertext.len())
            .field("shared_secret", &"***")
            .finish()
    }
}

/// A fresh shared secret and its ciphertext under the public half of `private_pkcs8_der`.
pub fn encapsulate(spec: KeySpec, private_pkcs8_der: &[u8]) -> Result<Encapsulated, KeyTypeError> {
    if spec.ml_kem_ciphertext_len().is_none() {
        return Err(KeyTypeError::WrongKeyType);
    }
    let mut rng = UnwrapErr(SysRng);
    let (ciphertext, shared_secret) = match PrivateKey::from_stored(spec, private_pkcs8_der)? {
        PrivateKey::MlKem512(key) => {
            let (ct, ss) = key.encapsulation_key().encapsulate_with_rng(&mut rng);
            (ct.to_vec(), ss.to_vec())
        }
        PrivateKey::MlKem768(key) => {
            let (ct, ss) = key.encapsulation_key().encapsulate_with_rng(&mut rng);
            (ct.to_vec(), ss.to_vec())
        }
        PrivateKey::MlKem1024(key) => {
            let (ct, ss) = key.encapsulation_key().encapsulate_with_rng(&mut rng);
            (ct.to_vec(), ss.to_vec())
        }
        _ => return Err(KeyTypeError::WrongKeyType),
    };
    Ok(Encapsulated {
        ciphertext,
        shared_secret,
    })
}

/// The shared secret of `ciphertext` under `private_pkcs8_der`. A ciphertext whose length
/// is not the spec's is `UndecryptableCiphertext`; any other gives a secret.
pub fn decapsulate(
    spec: KeySpec,
    private_pkcs8_der: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    let expected = spec
        .ml_kem_ciphertext_len()
        .ok_or(KeyTypeError::WrongKeyType)?;
    if ciphertext.len() != expected {
        return Err(KeyTypeError::UndecryptableCiphertext);
    }
    let wrong_length = |_| KeyTypeError::UndecryptableCiphertext;
    let secret = match PrivateKey::from_stored(spec, private_pkcs8_der)? {
        PrivateKey::MlKem512(key) => key.decapsulate_slice(ciphertext).map_err(wrong_length)?,
        PrivateKey::MlKem768(key) => key.decapsulate_slice(ciphertext).map_err(wrong_length)?,
        PrivateKey::MlKem1024(key) => key.decapsulate_slice(ciphertext).map_err(wrong_length)?,
        _ => return Err(KeyTypeError::WrongKeyType),
    };
    Ok(secret.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_material::{generate_material, public_key_der};

    const SPECS: [KeySpec; 3] = [KeySpec::MlKem512, KeySpec::MlKem768, KeySpec::MlKem1024];

    #[test]
    fn encapsulated_secrets_decapsulate_and_wrong_ones_are_implicitly_rejected() {
        for spec in SPECS {
            let material = generate_material(spec);
            let sealed = encapsulate(spec, &material).unwrap();
            assert_eq!(Some(sealed.ciphertext.len()), spec.ml_kem_ciphertext_len());
            assert_eq!(sealed.shared_secret.len(), 32);
            assert_eq!(
                decapsulate(spec, &material, &sealed.ciphertext).unwrap(),
                sealed.shared_secret
            );
            assert!(!format!("{sealed:?}").contains(&format!("{:?}", sealed.shared_secret)));
            // Fresh randomness every time.
            let again = encapsulate(spec, &material).unwrap();
            assert_ne!(again.shared_secret, sealed.shared_secret);
            // An altered ciphertext gives another 32-byte secret, not an error.
            let mut altered = sealed.ciphertext.clone();
            altered[0] ^= 1;
            let rejected = decapsulate(spec, &material, &altered).unwrap();
            assert_eq!(rejected.len(), 32);
            assert_ne!(rejected, sealed.shared_secret);
            // Implicit rejection is deterministic for a key and ciphertext.
            assert_eq!(decapsulate(spec, &material, &altered).unwrap(), rejected);
            // Only the length is an error.
            for len in [
                0,
                1,
                sealed.ciphertext.len() - 1,
                sealed.ciphertext.len() + 1,
            ] {
                assert_eq!(
                    decapsulate(spec, &material, &vec![0; len]),
                    Err(KeyTypeError::UndecryptableCiphertext)
                );
            }
        }
    }

    #[test]
    fn the_seed_is_the_key_and_the_public_key_is_lamps_spki() {
        for (spec, oid_last, ek_len) in [
            (KeySpec::MlKem512, 1u8, 800),
            (KeySpec::MlKem768, 2, 1184),
            (KeySpec::MlKem1024, 3, 1568),
        ] {
            let material = generate_material(spec);
            // PKCS#8 holding the 64-byte seed as [0] IMPLICIT OCTET STRING (0x80 0x40).
            let seed_at = material
                .windows(2)
                .position(|w| w == [0x80, 0x40])
                .expect("seed-form private key");
            assert_eq!(material.len(), seed_at + 2 + 64);
            let spki = public_key_der(spec, &material).unwrap();
            // id-alg-ml-kem-* = 2.16.840.1.101.3.4.4.{1,2,3}, no parameters.
            let oid = [
                0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, oid_last,
            ];
            assert!(spki.windows(oid.len()).any(|w| w == oid), "{spec:?}");
            // The BIT STRING holds the raw encapsulation key.
            assert!(spki.len() > ek_len && spki.len() < ek_len + 30, "{spec:?}");
            // The same seed always derives the same key pair.
            assert_eq!(public_key_der(spec, &material).unwrap(), spki);
        }
    }

    #[test]
    fn other_key_types_do_not_encapsulate() {
        let material = generate_material(KeySpec::EccNistP256);
        assert!(matches!(
            encapsulate(KeySpec::EccNistP256, &material),
            Err(KeyTypeError::WrongKeyType)
        ));
        assert_eq!(
            decapsulate(KeySpec::EccNistP256, &material, &[0; 768]),
            Err(KeyTypeError::WrongKeyType)
        );
        assert_eq!(
            decapsulate(KeySpec::MlKem512, b"damaged", &[0; 768]),
            Err(KeyTypeError::DamagedMaterial)
        );
    }
}
