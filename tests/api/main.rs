//! The HTTP test suite: every test runs against both backends over a real socket.

mod helpers;

mod audit;
mod audit_chain;
mod auth_and_errors;
mod authority;
mod aws;
mod aws_aliases;
mod concurrency;
mod connections;
mod console;
mod faults;
mod free_text;
mod grants;
mod hostile_input;
mod huawei_aliases;
mod identity;
mod key_pairs;
mod key_types;
mod key_use;
mod keys;
mod login_guard;
mod master_key;
mod memory;
mod metrics;
mod openapi;
mod oracles;
mod races;
mod reset;
mod revoke_retire;
mod rotation;
mod secrets;
mod seed;
mod signature_replay;
mod snapshot;
mod tags;
