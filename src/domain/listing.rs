//! Listings: keyset-paginated pages, and the filters a grant listing takes.

use super::{GrantId, GranteeType};

/// One page of a keyset-paginated listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Every matching row, not just this page.
    pub total: i64,
    /// Position to pass back to get the next page; `None` on the last page.
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            next_after: self.next_after,
        }
    }
}

/// Narrows a grant listing (AWS ListGrants' `GrantId` and `GranteePrincipal`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    pub grant_id: Option<GrantId>,
    pub grantee: Option<(String, GranteeType)>,
}
