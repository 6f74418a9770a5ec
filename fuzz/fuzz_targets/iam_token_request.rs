//! The IAM token request decoder (`POST /v3/auth/tokens`): JSON decoding, the
//! password check and the scope resolution, against the built-in demo identities.
#![no_main]

use std::sync::LazyLock;

use kms_emulator::auth::Identities;
use kms_emulator::auth::iam::authenticate_token_request;
use libfuzzer_sys::fuzz_target;

static IDENTITIES: LazyLock<Identities> = LazyLock::new(Identities::demo);

fuzz_target!(|data: &[u8]| {
    if let Ok((user, Some(project))) = authenticate_token_request(&IDENTITIES, data) {
        // A project-scoped token is only ever issued for one of the user's projects.
        assert!(user.projects.contains(&project.id));
    }
});
