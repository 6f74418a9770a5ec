//! The Huawei request body decoder: `Body::parse`, then every field accessor the
//! action handlers use, on every documented field name, then the domain validators
//! the handlers run on the fields' values. Nothing here may panic, whatever the body.
#![no_main]

use kms_emulator::api::huawei::body::Body;
use kms_emulator::domain::KmsError;
use libfuzzer_sys::fuzz_target;

mod common;

/// Every request field of the Huawei dialect (spec §8), plus one nobody sends.
const FIELDS: &[&str] = &[
    "key_id",
    "key_alias",
    "key_description",
    "key_spec",
    "key_usage",
    "origin",
    "grant_id",
    "grantee_principal",
    "grantee_principal_type",
    "retiring_principal",
    "operations",
    "name",
    "limit",
    "marker",
    "key_state",
    "pending_days",
    "plain_text",
    "cipher_text",
    "datakey_length",
    "datakey_plain_length",
    "datakey_cipher_length",
    "random_data_length",
    "additional_authenticated_data",
    "encryption_context",
    "sequence",
    "unknown",
];

fuzz_target!(|data: &[u8]| {
    let Ok(body) = Body::parse(data) else {
        return;
    };
    let _ = body.check_sequence();
    for &name in FIELDS {
        let _ = body.given(name);
        let _ = body.optional_integer(name, KmsError::InvalidParameter);
        let _ = body.required_str_array(name, KmsError::InvalidParameter);
        if let Ok(Some(value)) = body.optional_str(name, KmsError::InvalidParameter) {
            common::check_field(name, value);
        }
    }
    if let Ok(operations) = body.required_str_array("operations", KmsError::InvalidParameter) {
        let _ = kms_emulator::domain::grant::parse_operations(operations);
    }
    for name in ["pending_days", "key_state"] {
        if let Ok(Some(n)) = body.optional_integer(name, KmsError::InvalidParameter) {
            let _ = kms_emulator::domain::key::validate_pending_days(n);
            let _ = kms_emulator::domain::KeyState::from_code(n);
        }
    }
});
