//! The HTTP test suite: every test runs against both backends over a real socket.

mod helpers;

mod auth_and_errors;
mod concurrency;
mod grants;
mod hostile_input;
mod identity;
mod key_use;
mod keys;
mod openapi;
mod revoke_retire;
