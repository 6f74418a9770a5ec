//! The ciphertext frame parser (`crypto::framed_key_id`, which decrypt-data runs on
//! whatever a client sends). The first byte picks a mode: raw bytes, or the bytes
//! wrapped in a well-formed header and SHA-256 trailer, so the fuzzer gets past the
//! checksum and into the key-ID parsing behind it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let _ = kms_emulator::crypto::framed_key_id(rest);
        return;
    }
    let Ok(length) = u16::try_from(rest.len() + 4) else {
        return;
    };
    let mut frame = vec![0x02, 0x00];
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(rest);
    frame.extend_from_slice(&[0, 0, 0, 0]);
    let digest = Sha256::digest(&frame);
    frame.extend_from_slice(&digest);
    if let Ok(key_id) = kms_emulator::crypto::framed_key_id(&frame) {
        // A frame only ever names a key ID that parses.
        assert!(kms_emulator::domain::KeyId::parse(key_id.as_str()).is_ok());
    }
});
