//! DeriveSharedSecret / derive-shared-secret: ECDH between a stored private key and a
//! peer's public key sent as DER SubjectPublicKeyInfo.
//!
//! The result is the raw shared secret, the x-coordinate of the shared point (SEC 1
//! §3.3.1), as AWS documents: callers run their own KDF over it. SM2 keys agree with
//! the same primitive on the SM2 curve (AWS documents ECDH, not the SM2 key exchange
//! protocol of GB/T 32918.3, for SM2 KEY_AGREEMENT keys).

use super::key_error::KeyTypeError;
use super::key_material::{PrivateKey, PublicKey};
use crate::domain::key_spec::KeySpec;

pub fn derive_shared_secret(
    spec: KeySpec,
    private_pkcs8_der: &[u8],
    peer_public_key_der: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    if spec.curve().is_none() || spec == KeySpec::Ed25519 {
        return Err(KeyTypeError::WrongKeyType);
    }
    let private = PrivateKey::from_stored(spec, private_pkcs8_der)?;
    let peer = PublicKey::parse(spec, peer_public_key_der)?;
    let secret = match (private, peer) {
        (PrivateKey::P256(key), PublicKey::P256(peer)) => {
            p256::ecdh::diffie_hellman(key.to_nonzero_scalar(), peer.as_affine())
                .raw_secret_bytes()
                .to_vec()
        }
        (PrivateKey::P384(key), PublicKey::P384(peer)) => {
            p384::ecdh::diffie_hellman(key.to_nonzero_scalar(), peer.as_affine())
                .raw_secret_bytes()
                .to_vec()
        }
        (PrivateKey::P521(key), PublicKey::P521(peer)) => {
            p521::ecdh::diffie_hellman(key.to_nonzero_scalar(), peer.as_affine())
                .raw_secret_bytes()
                .to_vec()
        }
        (PrivateKey::Secp256k1(key), PublicKey::Secp256k1(peer)) => {
            k256::ecdh::diffie_hellman(key.to_nonzero_scalar(), peer.as_affine())
                .raw_secret_bytes()
                .to_vec()
        }
        (PrivateKey::Sm2(key), PublicKey::Sm2(peer)) => sm2_shared_x(&key, &peer),
        _ => return Err(KeyTypeError::WrongKeyType),
    };
    Ok(secret)
}

/// The x-coordinate of d·Q on the SM2 curve (the sm2 crate has no `ecdh` module).
fn sm2_shared_x(key: &sm2::SecretKey, peer: &sm2::PublicKey) -> Vec<u8> {
    use sm2::elliptic_curve::point::AffineCoordinates;
    let shared = (peer.to_projective() * *key.to_nonzero_scalar()).to_affine();
    shared.x().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_material::{generate_material, public_key_der, tests::material};

    #[test]
    fn both_sides_derive_the_same_secret_of_the_field_size() {
        for (spec, len) in [
            (KeySpec::EccNistP256, 32),
            (KeySpec::EccNistP384, 48),
            (KeySpec::EccNistP521, 66),
            (KeySpec::EccSecgP256k1, 32),
            (KeySpec::Sm2, 32),
        ] {
            let alice = material(spec);
            let bob = generate_material(spec);
            let alice_public = public_key_der(spec, alice).unwrap();
            let bob_public = public_key_der(spec, &bob).unwrap();
            let ours = derive_shared_secret(spec, alice, &bob_public).unwrap();
            let theirs = derive_shared_secret(spec, &bob, &alice_public).unwrap();
            assert_eq!(ours, theirs, "{spec:?}");
            assert_eq!(ours.len(), len, "{spec:?}");
        }
    }

    #[test]
    fn peer_keys_of_another_curve_or_malformed_are_invalid_public_keys() {
        let alice = material(KeySpec::EccNistP256);
        let p384_public =
            public_key_der(KeySpec::EccNistP384, material(KeySpec::EccNistP384)).unwrap();
        let rsa_public = public_key_der(KeySpec::Rsa2048, material(KeySpec::Rsa2048)).unwrap();
        for peer in [
            &p384_public[..],
            &rsa_public,
            b"",
            b"\x30\x03\x02\x01\x00",
            &[0x04; 65],
        ] {
            assert!(matches!(
                derive_shared_secret(KeySpec::EccNistP256, alice, peer),
                Err(KeyTypeError::InvalidPublicKey(_))
            ));
        }
        assert_eq!(
            derive_shared_secret(KeySpec::Rsa2048, material(KeySpec::Rsa2048), &rsa_public),
            Err(KeyTypeError::WrongKeyType)
        );
        assert_eq!(
            derive_shared_secret(KeySpec::Ed25519, material(KeySpec::Ed25519), &rsa_public),
            Err(KeyTypeError::WrongKeyType)
        );
    }
}
