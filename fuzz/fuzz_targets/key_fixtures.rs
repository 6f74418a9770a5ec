//! Key material the key-type targets share: one key pair per asymmetric spec and one
//! wrapping key, made once per fuzzing process.

// Each target is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::sync::LazyLock;

use kms_emulator::crypto::key_import::{WrappingKeyPair, generate_wrapping_key_pair};
use kms_emulator::crypto::key_material::generate_material;
use kms_emulator::domain::key_spec::{KeySpec, WrappingKeySpec};

/// RSA_3072 and RSA_4096 are left out: their decoders are RSA_2048's, and each of their
/// private operations would cost the fuzzer ten times the inputs.
pub static ASYMMETRIC: LazyLock<Vec<(KeySpec, Vec<u8>)>> = LazyLock::new(|| {
    KeySpec::ALL
        .into_iter()
        .filter(|spec| spec.is_asymmetric() && !matches!(spec, KeySpec::Rsa3072 | KeySpec::Rsa4096))
        .map(|spec| (spec, generate_material(spec)))
        .collect()
});

pub static WRAPPING: LazyLock<WrappingKeyPair> =
    LazyLock::new(|| generate_wrapping_key_pair(WrappingKeySpec::Rsa2048));

/// The asymmetric spec and its material that `selector` picks.
pub fn key_pair(selector: u8) -> (KeySpec, &'static [u8]) {
    let (spec, material) = &ASYMMETRIC[usize::from(selector) % ASYMMETRIC.len()];
    (*spec, material)
}

/// Any spec, symmetric ones included.
pub fn any_spec(selector: u8) -> KeySpec {
    KeySpec::ALL[usize::from(selector) % KeySpec::ALL.len()]
}
