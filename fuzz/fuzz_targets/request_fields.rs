//! The field validators on raw strings: `<field name>\n<value>`. Reaches corner cases
//! (lengths, Unicode, separators) faster than going through JSON in `huawei_body`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (name, value) = text.split_once('\n').unwrap_or(("key_id", text));
    common::check_field(name, value);
    if let Some(bytes) = kms_emulator::hex::decode(value) {
        // Decoding then encoding must give the input back, in one case or the other.
        let lower = kms_emulator::hex::lower(&bytes);
        assert!(lower.eq_ignore_ascii_case(value), "hex round trip of {value:?}");
    }
});
