//! The HTTP test suite: every test runs against both backends over a real socket.

mod helpers;

mod audit;
mod auth_and_errors;
mod authority;
mod aws;
mod concurrency;
mod connections;
mod faults;
mod grants;
mod hostile_input;
mod identity;
mod key_use;
mod keys;
mod master_key;
mod openapi;
mod races;
mod revoke_retire;
mod secrets;
