//! Sign and Verify for every asymmetric signing spec.
//!
//! Wire formats, as AWS documents them and clients verify them: RSA signatures are the
//! modulus-sized octet string (RFC 8017), PSS with MGF1 of the same hash and a salt as long
//! as the hash; ECDSA and SM2DSA signatures are DER `SEQUENCE { r, s }`; Ed25519
//! signatures are the 64 bytes of RFC 8032.

use ed25519_dalek::Signer as _;
use sha2_next::Digest as _;

use super::key_error::KeyTypeError;
use super::key_material::{PrivateKey, PublicKey};
use crate::domain::key_spec::{HashAlgorithm, KeySpec, MessageType, SigningAlgorithm};

/// The distinguishing identifier of SM2 signatures: GB/T 32918's default user ID, which
/// AWS documents for SM2DSA ("1234567812345678") and Huawei uses through its SDKs.
pub const SM2_DEFAULT_DISTID: &str = "1234567812345678";

/// The digest of `data` with `hash`.
pub fn digest(hash: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    match hash {
        HashAlgorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
        HashAlgorithm::Sha224 => sha2_next::Sha224::digest(data).to_vec(),
        HashAlgorithm::Sha256 => sha2_next::Sha256::digest(data).to_vec(),
        HashAlgorithm::Sha384 => sha2_next::Sha384::digest(data).to_vec(),
        HashAlgorithm::Sha512 => sha2_next::Sha512::digest(data).to_vec(),
        HashAlgorithm::Sm3 => sm3::Sm3::digest(data).to_vec(),
    }
}

/// What is signed: the message, hashed here when RAW, or the caller's digest. The domain
/// has checked the message type and length (`SigningAlgorithm::check_message`).
struct Input<'a> {
    message_type: MessageType,
    message: &'a [u8],
}

impl Input<'_> {
    fn prehash(&self, algorithm: SigningAlgorithm) -> Result<Vec<u8>, KeyTypeError> {
        let hash = algorithm.hash();
        match self.message_type {
            MessageType::Raw => Ok(digest(hash, self.message)),
            MessageType::Digest if self.message.len() == hash.output_len() => {
                Ok(self.message.to_vec())
            }
            MessageType::Digest => Err(KeyTypeError::InvalidInput(
                "the digest does not have the length of the algorithm's hash",
            )),
        }
    }
}

macro_rules! ecdsa_curve {
    ($sign:ident, $verify:ident, $krate:ident) => {
        fn $sign(key: &$krate::SecretKey, prehash: &[u8]) -> Result<Vec<u8>, KeyTypeError> {
            use $krate::ecdsa::signature::hazmat::PrehashSigner;
            let signing_key = $krate::ecdsa::SigningKey::from(key);
            let signature: $krate::ecdsa::Signature = signing_key
                .sign_prehash(prehash)
                .map_err(|_| KeyTypeError::InvalidInput("the digest cannot be signed"))?;
            Ok(signature.to_der().as_bytes().to_vec())
        }

        fn $verify(
            key: &$krate::PublicKey,
            prehash: &[u8],
            signature: &[u8],
        ) -> Result<(), KeyTypeError> {
            use $krate::ecdsa::signature::hazmat::PrehashVerifier;
            let signature = $krate::ecdsa::Signature::from_der(signature)
                .map_err(|_| KeyTypeError::InvalidSignature)?;
            // (r, s) and (r, n − s) are the same ECDSA signature; secp256k1 verifiers insist
            // on the low-S form, but a client's signature made elsewhere need not have it.
            let signature = signature.normalize_s();
            $krate::ecdsa::VerifyingKey::from(key)
                .verify_prehash(prehash, &signature)
                .map_err(|_| KeyTypeError::InvalidSignature)
        }
    };
}

ecdsa_curve!(sign_p256, verify_p256, p256);
ecdsa_curve!(sign_p384, verify_p384, p384);
ecdsa_curve!(sign_p521, verify_p521, p521);
ecdsa_curve!(sign_k256, verify_k256, k256);

fn rsa_sign(
    key: &rsa::PrivateKey,
    algorithm: SigningAlgorithm,
    prehash: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    use SigningAlgorithm::*;
    use sha2_next::{Sha256, Sha384, Sha512};
    let signed = match algorithm {
        RsassaPssSha256 => key.pss_sign_prehash::<Sha256>(prehash),
        RsassaPssSha384 => key.pss_sign_prehash::<Sha384>(prehash),
        RsassaPssSha512 => key.pss_sign_prehash::<Sha512>(prehash),
        RsassaPkcs1V15Sha256 => key.pkcs1v15_sign_prehash::<Sha256>(prehash),
        RsassaPkcs1V15Sha384 => key.pkcs1v15_sign_prehash::<Sha384>(prehash),
        RsassaPkcs1V15Sha512 => key.pkcs1v15_sign_prehash::<Sha512>(prehash),
        _ => return Err(KeyTypeError::WrongKeyType),
    };
    signed.map_err(|_| KeyTypeError::InvalidInput("the digest cannot be signed with this key"))
}

fn rsa_verify(
    key: &rsa::PublicKey,
    algorithm: SigningAlgorithm,
    prehash: &[u8],
    signature: &[u8],
) -> Result<(), KeyTypeError> {
    use SigningAlgorithm::*;
    use sha2_next::{Sha256, Sha384, Sha512};
    let verified = match algorithm {
        RsassaPssSha256 => key.pss_verify_prehash::<Sha256>(prehash, signature),
        RsassaPssSha384 => key.pss_verify_prehash::<Sha384>(prehash, signature),
        RsassaPssSha512 => key.pss_verify_prehash::<Sha512>(prehash, signature),
        RsassaPkcs1V15Sha256 => key.pkcs1v15_verify_prehash::<Sha256>(prehash, signature),
        RsassaPkcs1V15Sha384 => key.pkcs1v15_verify_prehash::<Sha384>(prehash, signature),
        RsassaPkcs1V15Sha512 => key.pkcs1v15_verify_prehash::<Sha512>(prehash, signature),
        _ => return Err(KeyTypeError::WrongKeyType),
    };
    verified.map_err(|_| KeyTypeError::InvalidSignature)
}

/// SM2DSA: a RAW message is hashed here as SM3(Z(A) ‖ M) with the default distinguishing
/// ID; a DIGEST is that hash, computed by the caller (Huawei only signs such digests).
fn sm2_sign(key: &sm2::SecretKey, input: &Input<'_>) -> Result<Vec<u8>, KeyTypeError> {
    use sm2::dsa::signature::Signer;
    use sm2::dsa::signature::hazmat::PrehashSigner;
    let signing_key = sm2::dsa::SigningKey::new(SM2_DEFAULT_DISTID, key)
        .map_err(|_| KeyTypeError::DamagedMaterial)?;
    let signature: sm2::dsa::Signature = match input.message_type {
        MessageType::Raw => signing_key.try_sign(input.message),
        MessageType::Digest => signing_key.sign_prehash(&input.prehash(SigningAlgorithm::Sm2Dsa)?),
    }
    .map_err(|_| KeyTypeError::InvalidInput("the message cannot be signed"))?;
    Ok(signature.to_der().to_vec())
}

fn sm2_verify(
    key: &sm2::PublicKey,
    input: &Input<'_>,
    signature: &[u8],
) -> Result<(), KeyTypeError> {
    use sm2::dsa::signature::Verifier;
    use sm2::dsa::signature::hazmat::PrehashVerifier;
    let verifying_key = sm2::dsa::VerifyingKey::new(SM2_DEFAULT_DISTID, *key)
        .map_err(|_| KeyTypeError::InvalidSignature)?;
    let signature =
        sm2::dsa::Signature::from_der(signature).map_err(|_| KeyTypeError::InvalidSignature)?;
    match input.message_type {
        MessageType::Raw => verifying_key.verify(input.message, &signature),
        MessageType::Digest => {
            verifying_key.verify_prehash(&input.prehash(SigningAlgorithm::Sm2Dsa)?, &signature)
        }
    }
    .map_err(|_| KeyTypeError::InvalidSignature)
}

/// Ed25519ph's prehash: SHA-512 of the input. With a DIGEST, AWS documents that it still
/// applies this hash, so the caller's SHA-512 is hashed once more.
fn ed25519ph_prehash(input: &Input<'_>) -> sha2_next::Sha512 {
    let mut prehash = sha2_next::Sha512::new();
    prehash.update(input.message);
    prehash
}

fn ed25519_sign(
    key: &ed25519_dalek::SigningKey,
    algorithm: SigningAlgorithm,
    input: &Input<'_>,
) -> Result<Vec<u8>, KeyTypeError> {
    let signature = match algorithm {
        SigningAlgorithm::Ed25519Sha512 => key.sign(input.message),
        SigningAlgorithm::Ed25519PhSha512 => key
            .sign_prehashed(ed25519ph_prehash(input), None)
            .map_err(|_| KeyTypeError::InvalidInput("the message cannot be signed"))?,
        _ => return Err(KeyTypeError::WrongKeyType),
    };
    Ok(signature.to_bytes().to_vec())
}

fn ed25519_verify(
    key: &ed25519_dalek::VerifyingKey,
    algorithm: SigningAlgorithm,
    input: &Input<'_>,
    signature: &[u8],
) -> Result<(), KeyTypeError> {
    let signature = ed25519_dalek::Signature::from_slice(signature)
        .map_err(|_| KeyTypeError::InvalidSignature)?;
    match algorithm {
        SigningAlgorithm::Ed25519Sha512 => key.verify_strict(input.message, &signature),
        SigningAlgorithm::Ed25519PhSha512 => {
            key.verify_prehashed_strict(ed25519ph_prehash(input), None, &signature)
        }
        _ => return Err(KeyTypeError::WrongKeyType),
    }
    .map_err(|_| KeyTypeError::InvalidSignature)
}

/// Signs with stored key-pair material. The caller has checked that the key is a
/// SIGN_VERIFY key whose spec allows `algorithm`, and the message (type and length).
pub fn sign(
    spec: KeySpec,
    private_pkcs8_der: &[u8],
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Result<Vec<u8>, KeyTypeError> {
    if !spec
        .signing_algorithms(crate::domain::key_spec::KeyUsage::SignVerify)
        .contains(&algorithm)
    {
        return Err(KeyTypeError::WrongKeyType);
    }
    let input = Input {
        message_type,
        message,
    };
    match PrivateKey::from_stored(spec, private_pkcs8_der)? {
        PrivateKey::Rsa(key) => rsa_sign(&key, algorithm, &input.prehash(algorithm)?),
        PrivateKey::P256(key) => sign_p256(&key, &input.prehash(algorithm)?),
        PrivateKey::P384(key) => sign_p384(&key, &input.prehash(algorithm)?),
        PrivateKey::P521(key) => sign_p521(&key, &input.prehash(algorithm)?),
        PrivateKey::Secp256k1(key) => sign_k256(&key, &input.prehash(algorithm)?),
        PrivateKey::Sm2(key) => sm2_sign(&key, &input),
        PrivateKey::Ed25519(key) => ed25519_sign(&key, algorithm, &input),
        PrivateKey::MlKem512(_) | PrivateKey::MlKem768(_) | PrivateKey::MlKem1024(_) => {
            Err(KeyTypeError::WrongKeyType)
        }
    }
}

/// Verifies a signature with the public half of stored key-pair material: `Ok` when it
/// is valid, `InvalidSignature` when it is not or is malformed.
pub fn verify(
    spec: KeySpec,
    private_pkcs8_der: &[u8],
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<(), KeyTypeError> {
    let public = PrivateKey::from_stored(spec, private_pkcs8_der)?.public_key();
    verify_with_public_key(spec, &public, algorithm, message_type, message, signature)
}

pub(crate) fn verify_with_public_key(
    spec: KeySpec,
    public: &PublicKey,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<(), KeyTypeError> {
    if !spec
        .signing_algorithms(crate::domain::key_spec::KeyUsage::SignVerify)
        .contains(&algorithm)
    {
        return Err(KeyTypeError::WrongKeyType);
    }
    let input = Input {
        message_type,
        message,
    };
    match public {
        PublicKey::Rsa(key) => rsa_verify(key, algorithm, &input.prehash(algorithm)?, signature),
        PublicKey::P256(key) => verify_p256(key, &input.prehash(algorithm)?, signature),
        PublicKey::P384(key) => verify_p384(key, &input.prehash(algorithm)?, signature),
        PublicKey::P521(key) => verify_p521(key, &input.prehash(algorithm)?, signature),
        PublicKey::Secp256k1(key) => verify_k256(key, &input.prehash(algorithm)?, signature),
        PublicKey::Sm2(key) => sm2_verify(key, &input, signature),
        PublicKey::Ed25519(key) => ed25519_verify(key, algorithm, &input, signature),
        PublicKey::MlKem512(_) | PublicKey::MlKem768(_) | PublicKey::MlKem1024(_) => {
            Err(KeyTypeError::WrongKeyType)
        }
    }
}

/// Verifies with a client's DER public key: for tests and fuzzing of the decoders.
pub fn verify_with_public_key_der(
    spec: KeySpec,
    public_key_der: &[u8],
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<(), KeyTypeError> {
    let public = PublicKey::parse(spec, public_key_der)?;
    verify_with_public_key(spec, &public, algorithm, message_type, message, signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_material::tests::material;
    use crate::domain::key_spec::KeyUsage;

    fn signing_specs() -> impl Iterator<Item = KeySpec> {
        KeySpec::ALL
            .into_iter()
            .filter(|spec| !spec.signing_algorithms(KeyUsage::SignVerify).is_empty())
    }

    #[test]
    fn every_algorithm_signs_and_verifies_raw_and_digest_and_rejects_tampering() {
        let message = b"the quick brown fox";
        for spec in signing_specs() {
            let der = material(spec);
            for &algorithm in spec.signing_algorithms(KeyUsage::SignVerify) {
                let mut inputs = vec![];
                if algorithm != SigningAlgorithm::Ed25519PhSha512 {
                    inputs.push((MessageType::Raw, message.to_vec()));
                }
                if algorithm != SigningAlgorithm::Ed25519Sha512 {
                    let prehash = match algorithm {
                        SigningAlgorithm::Sm2Dsa => vec![7; 32],
                        _ => digest(algorithm.hash(), message),
                    };
                    inputs.push((MessageType::Digest, prehash));
                }
                for (message_type, input) in inputs {
                    let signature = sign(spec, der, algorithm, message_type, &input)
                        .unwrap_or_else(|e| panic!("{spec:?} {algorithm:?}: {e}"));
                    verify(spec, der, algorithm, message_type, &input, &signature)
                        .unwrap_or_else(|e| panic!("{spec:?} {algorithm:?} {message_type:?}: {e}"));
                    let mut other = input.clone();
                    other[0] ^= 1;
                    assert_eq!(
                        verify(spec, der, algorithm, message_type, &other, &signature),
                        Err(KeyTypeError::InvalidSignature),
                        "{spec:?} {algorithm:?}"
                    );
                    let mut bad = signature.clone();
                    let last = bad.len() - 1;
                    bad[last] ^= 1;
                    assert_eq!(
                        verify(spec, der, algorithm, message_type, &input, &bad),
                        Err(KeyTypeError::InvalidSignature)
                    );
                    assert_eq!(
                        verify(spec, der, algorithm, message_type, &input, b""),
                        Err(KeyTypeError::InvalidSignature)
                    );
                }
            }
        }
    }

    /// Keys and signatures made by OpenSSL 3.0 (`openssl genpkey`, `openssl dgst -sign`, SM2
    /// with `-sigopt distid:1234567812345678`, Ed25519 with `pkeyutl -rawin`, PSS with
    /// `rsa_pss_saltlen:digest`): imported here, each verifies, so the wire formats agree.
    #[test]
    fn openssl_keys_import_and_openssl_signatures_verify() {
        let message = include_bytes!("testdata/message.bin");
        for (spec, pkcs8, algorithm, signature) in [
            (
                KeySpec::EccNistP256,
                &include_bytes!("testdata/openssl-prime256v1.p8")[..],
                SigningAlgorithm::EcdsaSha256,
                &include_bytes!("testdata/p256.sig")[..],
            ),
            (
                KeySpec::EccSecgP256k1,
                include_bytes!("testdata/openssl-secp256k1.p8"),
                SigningAlgorithm::EcdsaSha256,
                include_bytes!("testdata/k256.sig"),
            ),
            (
                KeySpec::Sm2,
                include_bytes!("testdata/openssl-SM2.p8"),
                SigningAlgorithm::Sm2Dsa,
                include_bytes!("testdata/sm2.sig"),
            ),
            (
                KeySpec::Ed25519,
                include_bytes!("testdata/openssl-ed25519.p8"),
                SigningAlgorithm::Ed25519Sha512,
                include_bytes!("testdata/ed25519.sig"),
            ),
            (
                KeySpec::Rsa2048,
                include_bytes!("testdata/openssl-rsa2048.p8"),
                SigningAlgorithm::RsassaPssSha256,
                include_bytes!("testdata/rsapss.sig"),
            ),
            (
                KeySpec::Rsa2048,
                include_bytes!("testdata/openssl-rsa2048.p8"),
                SigningAlgorithm::RsassaPkcs1V15Sha256,
                include_bytes!("testdata/rsapkcs1.sig"),
            ),
        ] {
            let material = crate::crypto::key_material::validate_imported_material(spec, pkcs8)
                .unwrap_or_else(|e| panic!("{spec:?}: {e}"));
            verify(
                spec,
                &material,
                algorithm,
                MessageType::Raw,
                message,
                signature,
            )
            .unwrap_or_else(|e| panic!("{spec:?} {algorithm:?}: {e}"));
            assert_eq!(
                verify(
                    spec,
                    &material,
                    algorithm,
                    MessageType::Raw,
                    b"other",
                    signature
                ),
                Err(KeyTypeError::InvalidSignature)
            );
        }
    }

    #[test]
    fn raw_and_digest_signatures_are_interchangeable_where_the_hash_is_the_digest() {
        let message = b"payload";
        for (spec, algorithm) in [
            (KeySpec::Rsa2048, SigningAlgorithm::RsassaPssSha384),
            (KeySpec::Rsa2048, SigningAlgorithm::RsassaPkcs1V15Sha256),
            (KeySpec::EccNistP256, SigningAlgorithm::EcdsaSha256),
            (KeySpec::EccNistP521, SigningAlgorithm::EcdsaSha512),
            (KeySpec::EccSecgP256k1, SigningAlgorithm::EcdsaSha256),
        ] {
            let der = material(spec);
            let raw = sign(spec, der, algorithm, MessageType::Raw, message).unwrap();
            let prehash = digest(algorithm.hash(), message);
            verify(spec, der, algorithm, MessageType::Digest, &prehash, &raw).unwrap();
        }
    }

    #[test]
    fn sm2_raw_signatures_verify_as_digests_of_z_and_message() {
        let spec = KeySpec::Sm2;
        let der = material(spec);
        let raw = sign(
            spec,
            der,
            SigningAlgorithm::Sm2Dsa,
            MessageType::Raw,
            b"abc",
        )
        .unwrap();
        // e = SM3(Z(A) || M), Z(A) from the default ID, the curve and the public key.
        let public = PrivateKey::from_stored(spec, der).unwrap().public_key();
        let PublicKey::Sm2(public) = public else {
            unreachable!()
        };
        let point = sm2::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&public, false);
        let mut z_input = vec![0x00, 0x80];
        z_input.extend_from_slice(SM2_DEFAULT_DISTID.as_bytes());
        z_input.extend_from_slice(
            &crate::hex::decode(concat!(
                "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
                "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
                "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
                "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
            ))
            .unwrap(),
        );
        z_input.extend_from_slice(&point.as_bytes()[1..]);
        let z = digest(HashAlgorithm::Sm3, &z_input);
        let mut e_input = z;
        e_input.extend_from_slice(b"abc");
        let e = digest(HashAlgorithm::Sm3, &e_input);
        verify(
            spec,
            der,
            SigningAlgorithm::Sm2Dsa,
            MessageType::Digest,
            &e,
            &raw,
        )
        .unwrap();
    }

    #[test]
    fn ecdsa_signatures_are_der_and_high_s_ones_still_verify() {
        let spec = KeySpec::EccSecgP256k1;
        let der = material(spec);
        let prehash = digest(HashAlgorithm::Sha256, b"m");
        let signature = sign(
            spec,
            der,
            SigningAlgorithm::EcdsaSha256,
            MessageType::Digest,
            &prehash,
        )
        .unwrap();
        assert_eq!(signature[0], 0x30, "DER SEQUENCE");
        let parsed = k256::ecdsa::Signature::from_der(&signature).unwrap();
        let (r, s) = parsed.split_scalars();
        let high = k256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
        let high_der = high.to_der().as_bytes().to_vec();
        verify(
            spec,
            der,
            SigningAlgorithm::EcdsaSha256,
            MessageType::Digest,
            &prehash,
            &high_der,
        )
        .unwrap();
    }

    #[test]
    fn rsa_signatures_have_the_modulus_length_and_pss_is_randomized() {
        let spec = KeySpec::Rsa2048;
        let der = material(spec);
        let a = sign(
            spec,
            der,
            SigningAlgorithm::RsassaPssSha256,
            MessageType::Raw,
            b"m",
        )
        .unwrap();
        let b = sign(
            spec,
            der,
            SigningAlgorithm::RsassaPssSha256,
            MessageType::Raw,
            b"m",
        )
        .unwrap();
        assert_eq!(a.len(), 256);
        assert_ne!(a, b);
        let c = sign(
            spec,
            der,
            SigningAlgorithm::RsassaPkcs1V15Sha256,
            MessageType::Raw,
            b"m",
        )
        .unwrap();
        let d = sign(
            spec,
            der,
            SigningAlgorithm::RsassaPkcs1V15Sha256,
            MessageType::Raw,
            b"m",
        )
        .unwrap();
        assert_eq!(c, d, "PKCS#1 v1.5 is deterministic");
        // A PKCS#1 v1.5 signature is no PSS signature.
        assert_eq!(
            verify(
                spec,
                der,
                SigningAlgorithm::RsassaPssSha256,
                MessageType::Raw,
                b"m",
                &c
            ),
            Err(KeyTypeError::InvalidSignature)
        );
    }

    #[test]
    fn mismatched_specs_algorithms_and_digests_are_errors() {
        let der = material(KeySpec::EccNistP256);
        assert_eq!(
            sign(
                KeySpec::EccNistP256,
                der,
                SigningAlgorithm::EcdsaSha384,
                MessageType::Raw,
                b"m"
            ),
            Err(KeyTypeError::WrongKeyType)
        );
        assert_eq!(
            sign(
                KeySpec::Aes256,
                &[0; 32],
                SigningAlgorithm::EcdsaSha256,
                MessageType::Raw,
                b"m"
            ),
            Err(KeyTypeError::WrongKeyType)
        );
        assert!(matches!(
            sign(
                KeySpec::EccNistP256,
                der,
                SigningAlgorithm::EcdsaSha256,
                MessageType::Digest,
                &[0; 31]
            ),
            Err(KeyTypeError::InvalidInput(_))
        ));
        assert_eq!(
            sign(
                KeySpec::EccNistP256,
                b"garbage",
                SigningAlgorithm::EcdsaSha256,
                MessageType::Raw,
                b"m"
            ),
            Err(KeyTypeError::DamagedMaterial)
        );
    }

    #[test]
    fn verification_with_a_clients_public_key() {
        let spec = KeySpec::Ed25519;
        let der = material(spec);
        let public = crate::crypto::key_material::public_key_der(spec, der).unwrap();
        let signature = sign(
            spec,
            der,
            SigningAlgorithm::Ed25519Sha512,
            MessageType::Raw,
            b"hi",
        )
        .unwrap();
        assert_eq!(signature.len(), 64);
        verify_with_public_key_der(
            spec,
            &public,
            SigningAlgorithm::Ed25519Sha512,
            MessageType::Raw,
            b"hi",
            &signature,
        )
        .unwrap();
        assert!(matches!(
            verify_with_public_key_der(
                spec,
                b"\x30\x00",
                SigningAlgorithm::Ed25519Sha512,
                MessageType::Raw,
                b"hi",
                &signature
            ),
            Err(KeyTypeError::InvalidPublicKey(_))
        ));
    }
}
