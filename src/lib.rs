//! kms-emulator: a KMS-compatible HTTP service whose grants are enforced for real.
//!
//! - `domain`: identifiers, keys, grants and the authorization rules (pure).
//! - `store`: the persistence trait with PostgreSQL and SQLite implementations.
//! - `service`: the use cases both API dialects share.
//! - `api`: the HTTP front ends (`api::huawei`) and shared middleware.
//! - `auth`: identities and credentials.
//! - `config`, `telemetry`, `app`, `server`: configuration, logging, and running the server.
//! - `operator`: commands for operators (the audit trail and its verification).
//! - `maintenance`: the periodic pruning of tokens, login counts and old audit records.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod hex;
pub mod maintenance;
pub mod operator;
pub mod server;
pub mod service;
pub mod store;
pub mod telemetry;

pub use app::App;
pub use config::Config;
