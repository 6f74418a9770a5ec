//! A public key from a client: DeriveSharedSecret's / derive-shared-secret's peer key (DER
//! SubjectPublicKeyInfo of any curve, or anything else), also as the key a signature is
//! verified with. The first byte picks our key pair; the rest is the client's DER.
#![no_main]

mod key_fixtures;

use kms_emulator::crypto::key_error::KeyTypeError;
use kms_emulator::crypto::{key_agreement, signing};
use kms_emulator::domain::key_spec::{KeyUsage, MessageType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, der)) = data.split_first() else {
        return;
    };
    let (spec, material) = key_fixtures::key_pair(selector);
    match key_agreement::derive_shared_secret(spec, material, der) {
        Ok(secret) => assert!(!secret.is_empty()),
        Err(KeyTypeError::InvalidPublicKey(_) | KeyTypeError::WrongKeyType) => {}
        Err(other) => panic!("{spec:?}: a peer key gave {other:?}"),
    }
    if let Some(&algorithm) = spec.signing_algorithms(KeyUsage::SignVerify).first() {
        let message_type =
            if algorithm == kms_emulator::domain::key_spec::SigningAlgorithm::Ed25519PhSha512 {
                MessageType::Digest
            } else {
                MessageType::Raw
            };
        let message = vec![0x5a; algorithm.hash().output_len()];
        match signing::verify_with_public_key_der(
            spec,
            der,
            algorithm,
            message_type,
            &message,
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
        ) {
            Err(KeyTypeError::InvalidPublicKey(_) | KeyTypeError::InvalidSignature) => {}
            other => panic!("{spec:?}: a made-up signature gave {other:?}"),
        }
    }
});
