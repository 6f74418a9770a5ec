//! What the action handlers do with a string field once the body has been read.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use kms_emulator::domain::grant::validate_grant_name;
use kms_emulator::domain::key::{validate_key_alias, validate_key_description};
use kms_emulator::domain::{GrantId, GranteeType, KeyId, PrincipalId};

/// Runs the validators and decoders the handlers apply to field `name`. Some are
/// skipped by the handlers for some fields; running all of them on every value is
/// harmless and finds more.
pub fn check_field(name: &str, value: &str) {
    let _ = KeyId::parse(value);
    let _ = GrantId::parse(value);
    let _ = PrincipalId::parse(name, value);
    let _ = GranteeType::parse(value);
    let _ = validate_key_alias(value);
    let _ = validate_key_description(value);
    let _ = validate_grant_name(value);
    let _ = kms_emulator::domain::ids::validate_sequence(value);
    let _ = kms_emulator::domain::grant::parse_operations(value.split(','));
    if let Some(bytes) = kms_emulator::hex::decode(value) {
        let _ = kms_emulator::crypto::framed_key_id(&bytes);
    }
    if let Ok(bytes) = BASE64.decode(value) {
        let _ = kms_emulator::crypto::framed_key_id(&bytes);
    }
}
