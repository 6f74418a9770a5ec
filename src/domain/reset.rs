//! Resetting the emulator between test runs (`POST /_emulator/reset`, `kms-emulator reset`):
//! what a reset covers, what it reports, and who may ask for it over HTTP.

use std::net::IpAddr;

/// Whose keys and grants a reset deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetScope {
    /// Every key and grant.
    All,
    /// The keys of one project, and the grants on them.
    Project(String),
    /// The keys of one domain (a Huawei account, or the domain an AWS account ID names),
    /// and the grants on them.
    Domain(String),
}

impl ResetScope {
    /// The project and domain the store filters keys by (`None`: any).
    pub fn filters(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Self::All => (None, None),
            Self::Project(project) => (Some(project), None),
            Self::Domain(domain) => (None, Some(domain)),
        }
    }

    /// How the scope is named in answers and in the audit record.
    pub fn describe(&self) -> String {
        match self {
            Self::All => "all".to_owned(),
            Self::Project(project) => format!("project {project}"),
            Self::Domain(domain) => format!("domain {domain}"),
        }
    }
}

/// What one reset deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResetCounts {
    pub keys: u64,
    pub grants: u64,
}

impl ResetCounts {
    /// The detail of the reset's audit record.
    pub fn audit_detail(&self, scope: &ResetScope) -> String {
        format!(
            "reset {}: deleted {} keys and {} grants",
            scope.describe(),
            self.keys,
            self.grants
        )
    }
}

/// Whether the operator API answers a request: from a loopback peer always, from anywhere
/// else only when the service was started with `--operator-api`. A request whose peer is
/// unknown is treated as remote.
pub fn operator_api_allowed(peer: Option<IpAddr>, operator_api: bool) -> bool {
    operator_api || peer.is_some_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_peers_without_the_flag() {
        let ip = |text: &str| Some(text.parse::<IpAddr>().unwrap());
        for loopback in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
            assert!(operator_api_allowed(ip(loopback), false), "{loopback}");
        }
        for remote in [
            "10.0.0.5",
            "192.168.1.2",
            "0.0.0.0",
            "::",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!operator_api_allowed(ip(remote), false), "{remote}");
            assert!(operator_api_allowed(ip(remote), true), "{remote}");
        }
        assert!(!operator_api_allowed(None, false));
        assert!(operator_api_allowed(None, true));
    }

    #[test]
    fn scopes_filter_and_describe() {
        assert_eq!(ResetScope::All.filters(), (None, None));
        assert_eq!(ResetScope::Project("p".into()).filters(), (Some("p"), None));
        assert_eq!(ResetScope::Domain("d".into()).filters(), (None, Some("d")));
        let counts = ResetCounts { keys: 2, grants: 3 };
        assert_eq!(
            counts.audit_detail(&ResetScope::Project("p".into())),
            "reset project p: deleted 2 keys and 3 grants"
        );
    }
}
