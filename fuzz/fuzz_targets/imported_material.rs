//! ImportKeyMaterial / import-key-material: what a client sends as wrapped material. The
//! first byte picks the key spec, the second the path: the material decoder alone (PKCS#8
//! of any spec, raw secrets), the RSA unwrap of raw input, an AES key wrap part behind a
//! valid RSA part, a fully valid wrapping of the input (so the decoder runs behind the
//! unwrap), and Huawei's two-part import.
#![no_main]

mod key_fixtures;

use kms_emulator::crypto::key_error::KeyTypeError;
use kms_emulator::crypto::key_import::{unwrap_key_material, unwrap_two_part};
use kms_emulator::crypto::key_material::validate_imported_material;
use kms_emulator::domain::key_spec::WrappingAlgorithm;
use libfuzzer_sys::fuzz_target;

const ALGORITHMS: [WrappingAlgorithm; 4] = [
    WrappingAlgorithm::RsaesOaepSha1,
    WrappingAlgorithm::RsaesOaepSha256,
    WrappingAlgorithm::RsaAesKeyWrapSha1,
    WrappingAlgorithm::RsaAesKeyWrapSha256,
];

fn expected(result: Result<Vec<u8>, KeyTypeError>) {
    match result {
        Ok(material) => assert!(!material.is_empty()),
        Err(KeyTypeError::IncorrectKeyMaterial(_) | KeyTypeError::UnwrappableKeyMaterial(_)) => {}
        Err(other) => panic!("imported material gave {other:?}"),
    }
}

/// RSA-OAEP-SHA-256 of a fixed AES-256 key under the fixture's wrapping key.
fn rsa_part(aes_key: &[u8]) -> Vec<u8> {
    use kms_emulator::crypto::asymmetric_encryption::encrypt;
    use kms_emulator::domain::key_spec::{EncryptionAlgorithm, KeySpec};
    encrypt(
        KeySpec::Rsa2048,
        &key_fixtures::WRAPPING.private_pkcs8_der,
        EncryptionAlgorithm::RsaesOaepSha256,
        aes_key,
    )
    .expect("32 bytes fit RSA-OAEP-SHA-256 under a 2048-bit key")
}

/// RFC 5649 wrapping of `material`, or None where the RFC has no wrapping: it wraps 1 to
/// 2^32 octets. (aes-kw "wraps" an empty key into the 8-byte integrity block alone, which
/// the service rightly refuses as unwrappable, while the decoder alone calls empty material
/// incorrect: not the same answer, and not a valid wrapping to compare with.)
fn kwp(aes_key: &[u8], material: &[u8]) -> Option<Vec<u8>> {
    use aes_kw::KeyInit;
    if material.is_empty() {
        return None;
    }
    let mut buffer = vec![0u8; material.len().div_ceil(8) * 8 + 8];
    let wrapped = aes_kw::KwpAes256::new_from_slice(aes_key)
        .ok()?
        .wrap_key(material, &mut buffer)
        .ok()?;
    Some(wrapped.to_vec())
}

fuzz_target!(|data: &[u8]| {
    let [spec_selector, path, rest @ ..] = data else {
        return;
    };
    let spec = key_fixtures::any_spec(*spec_selector);
    let algorithm = ALGORITHMS[usize::from(*path / 8) % ALGORITHMS.len()];
    let wrapping = &key_fixtures::WRAPPING.private_pkcs8_der;
    let aes_key = [0x42u8; 32];
    match path % 5 {
        0 => expected(validate_imported_material(spec, rest)),
        1 => expected(unwrap_key_material(spec, wrapping, algorithm, rest)),
        2 => {
            let mut wrapped = rsa_part(&aes_key);
            wrapped.extend_from_slice(rest);
            expected(unwrap_key_material(
                spec,
                wrapping,
                WrappingAlgorithm::RsaAesKeyWrapSha256,
                &wrapped,
            ));
            expected(unwrap_two_part(spec, wrapping, &rsa_part(&aes_key), rest));
        }
        3 => {
            if let Some(aes_part) = kwp(&aes_key, rest) {
                let mut wrapped = rsa_part(&aes_key);
                wrapped.extend_from_slice(&aes_part);
                let unwrapped = unwrap_key_material(
                    spec,
                    wrapping,
                    WrappingAlgorithm::RsaAesKeyWrapSha256,
                    &wrapped,
                );
                // A valid wrapping unwraps to exactly what the decoder alone makes of it.
                assert_eq!(unwrapped, validate_imported_material(spec, rest));
            }
        }
        _ => {
            if let Some(aes_part) = kwp(&aes_key, rest) {
                expected(unwrap_two_part(
                    spec,
                    wrapping,
                    &rsa_part(&aes_key),
                    &aes_part,
                ));
            }
        }
    }
});
