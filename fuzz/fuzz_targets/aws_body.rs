//! The AWS JSON 1.1 request decoder: `Body::parse`, then every accessor the operation
//! handlers use on every request member of the 20 operations, the `Operations` enum,
//! encryption contexts and constraints (with their stored form, which must read back
//! the same), and grant tokens, which are attacker-supplied ciphertext. Nothing here may
//! panic, whatever the body.
#![no_main]

use std::sync::LazyLock;

use kms_emulator::api::aws::body::Body;
use kms_emulator::api::aws::wire::parse_operations;
use kms_emulator::crypto::{MasterKey, context_bytes_of_map, context_map_of_bytes, open_grant_token};
use kms_emulator::domain::ContextConstraint;
use libfuzzer_sys::fuzz_target;

mod common;

static MASTER: LazyLock<MasterKey> = LazyLock::new(|| MasterKey::from_hex(&"5e".repeat(32)).unwrap());

/// Every request member of the operations the dialect serves, plus one nobody sends.
const MEMBERS: &[&str] = &[
    "KeyId",
    "Description",
    "KeySpec",
    "KeyUsage",
    "Origin",
    "Tags",
    "Policy",
    "PolicyName",
    "BypassPolicyLockoutSafetyCheck",
    "MultiRegion",
    "PendingWindowInDays",
    "Limit",
    "Marker",
    "GrantId",
    "GrantToken",
    "GrantTokens",
    "GranteePrincipal",
    "RetiringPrincipal",
    "Operations",
    "Constraints",
    "Name",
    "Plaintext",
    "CiphertextBlob",
    "EncryptionContext",
    "EncryptionAlgorithm",
    "NumberOfBytes",
    "DryRun",
    "Unknown",
];

fuzz_target!(|data: &[u8]| {
    let Ok(body) = Body::parse(data) else {
        return;
    };
    let _ = body.dry_run();
    let _ = body.keys().count();
    for &name in MEMBERS {
        let _ = body.has(name);
        let _ = body.optional_str(name);
        let _ = body.optional_bool(name);
        let _ = body.optional_int(name, 1, 1024);
        let _ = body.optional_blob(name, 1, 4096);
        let _ = body.optional_bounded_str(name, 1, 2048);
        if let Ok(Some(text)) = body.optional_str(name) {
            common::check_field(name, text);
            let _ = open_grant_token(&MASTER, text);
        }
        if let Ok(Some(list)) = body.optional_str_list(name) {
            let _ = parse_operations(&list);
            for token in list {
                let _ = open_grant_token(&MASTER, token);
            }
        }
        if let Ok(Some(map)) = body.optional_string_map(name) {
            // A context turned into the bytes that seal data reads back as itself.
            assert_eq!(context_map_of_bytes(&context_bytes_of_map(&map)).as_ref(), Some(&map));
        }
        if let Ok(Some(nested)) = body.optional_object(name) {
            for member in ["EncryptionContextSubset", "EncryptionContextEquals", "SourceArn"] {
                let Ok(Some(map)) = nested.optional_string_map(member) else {
                    continue;
                };
                let constraint = if member == "EncryptionContextEquals" {
                    ContextConstraint::Equals(map.clone())
                } else {
                    ContextConstraint::Subset(map.clone())
                };
                assert_eq!(ContextConstraint::from_stored(&constraint.to_stored()).as_ref(), Some(&constraint));
                assert!(constraint.allows(Some(&map)), "a context always satisfies its own constraint");
                let _ = constraint.allows(None);
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ContextConstraint::from_stored(text);
    }
    let _ = context_map_of_bytes(data);
});
