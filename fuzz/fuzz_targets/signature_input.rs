//! Sign / Verify / Decrypt / VerifyMac inputs from a client, and the algorithm names
//! around them. The first byte picks the key, the second the algorithm and message type;
//! the rest splits into message and signature (or is the ciphertext, or the MAC).
#![no_main]

mod key_fixtures;

use kms_emulator::crypto::key_error::KeyTypeError;
use kms_emulator::crypto::{asymmetric_encryption, mac, signing};
use kms_emulator::domain::key_spec::{
    Cloud, EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm, MessageType, SigningAlgorithm,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [key_selector, choice, split, rest @ ..] = data else {
        return;
    };
    let (spec, material) = key_fixtures::key_pair(*key_selector);
    let cloud = if choice & 1 == 0 {
        Cloud::Huawei
    } else {
        Cloud::Aws
    };
    let message_type = if choice & 2 == 0 {
        MessageType::Raw
    } else {
        MessageType::Digest
    };
    let at = usize::from(*split).min(rest.len());
    let (message, signature) = rest.split_at(at);

    // The names a request carries.
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = KeySpec::parse(cloud, text);
        let _ = SigningAlgorithm::parse(cloud, text);
        let _ = EncryptionAlgorithm::parse(cloud, text);
        let _ = MacAlgorithm::parse(cloud, text);
        let _ = MessageType::parse(cloud, text);
        let _ = KeyUsage::parse(cloud, text);
    }

    let algorithms = spec.signing_algorithms(KeyUsage::SignVerify);
    if !algorithms.is_empty() {
        let algorithm = algorithms[usize::from(choice >> 2) % algorithms.len()];
        // What the service does: the domain check first, then the cryptography.
        if algorithm
            .check_message(cloud, message_type, message.len())
            .is_ok()
        {
            match signing::verify(spec, material, algorithm, message_type, message, signature) {
                Ok(()) | Err(KeyTypeError::InvalidSignature) => {}
                Err(other) => panic!("{spec:?} {algorithm:?}: verify gave {other:?}"),
            }
            let signed = signing::sign(spec, material, algorithm, message_type, message)
                .unwrap_or_else(|e| {
                    panic!("{spec:?} {algorithm:?}: a checked message failed to sign: {e}")
                });
            signing::verify(spec, material, algorithm, message_type, message, &signed)
                .unwrap_or_else(|e| panic!("{spec:?} {algorithm:?}: own signature refused: {e}"));
        }
    }

    for &algorithm in spec.encryption_algorithms(KeyUsage::EncryptDecrypt) {
        match asymmetric_encryption::decrypt(spec, material, algorithm, rest) {
            Ok(_) | Err(KeyTypeError::UndecryptableCiphertext) => {}
            Err(other) => panic!("{spec:?} {algorithm:?}: decrypt gave {other:?}"),
        }
    }

    let mac_spec = [
        KeySpec::Hmac224,
        KeySpec::Hmac256,
        KeySpec::Hmac384,
        KeySpec::Hmac512,
        KeySpec::HmacSm3,
    ][usize::from(*key_selector) % 5];
    let mac_algorithm = mac_spec.mac_algorithms(KeyUsage::GenerateVerifyMac)[0];
    match mac::verify_mac(mac_spec, message, mac_algorithm, signature, rest) {
        Ok(()) | Err(KeyTypeError::InvalidMac) => {}
        Err(other) => panic!("{mac_spec:?}: verify_mac gave {other:?}"),
    }
});
