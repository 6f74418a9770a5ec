//! Who is calling: identities loaded at start and the credentials that name them.

pub mod aksk;
pub mod iam;
pub mod identities;
pub mod sigv4;

pub use identities::Identities;
