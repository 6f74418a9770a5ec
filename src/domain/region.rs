//! Regions: which ones this server serves, which one a Huawei project belongs to, and
//! which keys a request made in one region may see.
//!
//! One process serves every configured region over one store. A key belongs to one
//! region (the caller's when it was made); a request made in another region does not
//! find it, as a key of another region is not found through a regional AWS or Huawei
//! endpoint. Both dialects ask these rules, so they cannot drift apart.

/// The regions this server serves, the default (first) one first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regions {
    names: Vec<String>,
}

/// Why a `--regions` list cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionsError {
    #[error(
        "region {0:?} is not a region name: 1-32 lowercase letters, digits and hyphens, e.g. eu-de"
    )]
    Malformed(String),
}

impl Regions {
    /// The served regions: `default` (`--region`) first, then each of `others`
    /// (`--regions`) not already listed. `--region` stays the default so that a server
    /// started without `--regions` behaves as before, and one started with it still
    /// reports the same default region.
    pub fn new<'a>(
        default: &'a str,
        others: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, RegionsError> {
        let mut names: Vec<String> = Vec::new();
        for name in std::iter::once(default).chain(others) {
            let name = name.trim();
            if name.is_empty() && !names.is_empty() {
                // A trailing comma in KMS_REGIONS adds nothing.
                continue;
            }
            if !is_region_name(name) {
                return Err(RegionsError::Malformed(name.to_owned()));
            }
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        Ok(Self { names })
    }

    /// One region only (tests, tools).
    pub fn single(name: &str) -> Self {
        Self {
            names: vec![name.to_owned()],
        }
    }

    /// The default region: the one `--region` names, of keys stored before regions existed
    /// and of projects that name none.
    pub fn default_region(&self) -> &str {
        &self.names[0]
    }

    pub fn serves(&self, region: &str) -> bool {
        self.names.iter().any(|n| n == region)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The region of a Huawei project: the one its entry names; else its name when that
    /// is a served region, or a served region followed by `_` (Huawei names a project
    /// after its region, and sub-projects `eu-de_team`); else the default region.
    pub fn of_project<'a>(&'a self, configured: Option<&'a str>, project_name: &str) -> &'a str {
        if let Some(region) = configured {
            return region;
        }
        self.names
            .iter()
            .find(|region| {
                project_name == region.as_str()
                    || project_name
                        .strip_prefix(region.as_str())
                        .is_some_and(|rest| rest.starts_with('_'))
            })
            .map(String::as_str)
            .unwrap_or(self.default_region())
    }
}

/// Whether a key of `key_region` is seen by a request made in `request_region`: only in
/// its own region. A key of another region is answered as missing, not as forbidden.
pub fn key_visible_in(key_region: &str, request_region: &str) -> bool {
    key_region == request_region
}

/// AWS and Huawei region names: lowercase letters, digits and hyphens (`eu-de`,
/// `us-east-1`, `cn-north-4`), at most 32 characters.
pub fn is_region_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_region_comes_first_and_names_are_listed_once() {
        let regions = Regions::new("eu-de", ["eu-nl", "eu-de", " eu-ch2 ", ""]).unwrap();
        assert_eq!(regions.names(), ["eu-de", "eu-nl", "eu-ch2"]);
        assert_eq!(regions.default_region(), "eu-de");
        assert!(regions.serves("eu-nl"));
        assert!(!regions.serves("us-east-1"));
    }

    #[test]
    fn without_others_only_the_default_region_is_served() {
        let regions = Regions::new("eu-de", []).unwrap();
        assert_eq!(regions, Regions::single("eu-de"));
    }

    #[test]
    fn malformed_region_names_are_refused() {
        for bad in ["EU-DE", "eu_de", "-eu", "eu de", "", &"a".repeat(33)] {
            assert!(
                Regions::new("eu-de", [bad]).is_err() || bad.is_empty(),
                "{bad:?} was accepted"
            );
        }
        assert!(Regions::new("", []).is_err());
        assert!(Regions::new("eu-de", ["Eu-nl"]).is_err());
    }

    #[test]
    fn a_project_is_in_the_region_it_names_or_is_named_after_or_the_default() {
        let regions = Regions::new("eu-de", ["eu-nl"]).unwrap();
        assert_eq!(regions.of_project(Some("eu-nl"), "eu-de"), "eu-nl");
        assert_eq!(regions.of_project(None, "eu-nl"), "eu-nl");
        assert_eq!(regions.of_project(None, "eu-nl_team"), "eu-nl");
        assert_eq!(regions.of_project(None, "eu-nlx"), "eu-de");
        assert_eq!(regions.of_project(None, "my-project"), "eu-de");
    }

    #[test]
    fn keys_are_seen_only_in_their_region() {
        assert!(key_visible_in("eu-de", "eu-de"));
        assert!(!key_visible_in("eu-nl", "eu-de"));
    }
}
