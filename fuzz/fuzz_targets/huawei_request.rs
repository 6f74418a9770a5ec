//! Every action's request decoding, as the handlers do it before any store call
//! (`api::huawei::decode_request`): the body, `sequence`, then the action's fields
//! and their rules. The first byte picks the action; the rest is the body.
#![no_main]

use kms_emulator::api::huawei::decode_request;
use libfuzzer_sys::fuzz_target;

/// The dispatcher's actions (README, "API"), plus one it does not know.
const ACTIONS: [&str; 25] = [
    "create-key",
    "describe-key",
    "list-keys",
    "create-grant",
    "list-grants",
    "list-retirable-grants",
    "revoke-grant",
    "retire-grant",
    "enable-key",
    "disable-key",
    "schedule-key-deletion",
    "cancel-key-deletion",
    "encrypt-data",
    "decrypt-data",
    "create-datakey",
    "create-datakey-without-plaintext",
    "encrypt-datakey",
    "decrypt-datakey",
    "gen-random",
    "create-rsa-datakey-pair",
    "create-ec-datakey-pair",
    "derive-shared-secret",
    "get-parameters-for-import",
    "import-key-material",
    "no-such-action",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let action = ACTIONS[usize::from(pick) % ACTIONS.len()];
    let decoded = decode_request(action, body);
    assert_eq!(decoded.is_none(), action == "no-such-action");
});
