//! A caller's scope: the subtrees of the organisation tree they may see.
//!
//! Scope is data, not code: it is a short list of path ranges that storage turns into an
//! indexed range predicate inside the query itself
//! (`county_code BETWEEN lo AND hi AND path >= prefix AND path < prefix || '~'`), applied
//! before counting and paging. Nothing is ever filtered row by row in application code.

use serde::Serialize;

use crate::org::OrgPath;

/// One visible subtree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeRange {
    /// Tenants the subtree can touch (one county, or every county of a city).
    pub county_lo: i64,
    pub county_hi: i64,
    pub path: OrgPath,
}

impl ScopeRange {
    pub fn of(path: OrgPath) -> ScopeRange {
        let (lo, hi) = match (path.depth(), path.county_code()) {
            // A city path (`370800/`) spans every county code of the city: 370800..=370899.
            (1, Some(city)) => (city, city + 99),
            (_, Some(county)) => (county, county),
            (_, None) => (0, i64::MAX),
        };
        ScopeRange {
            county_lo: lo,
            county_hi: hi,
            path,
        }
    }

    pub fn covers(&self, path: &OrgPath) -> bool {
        path.is_within(&self.path)
    }

    /// A single county when the range is one tenant.
    pub fn single_county(&self) -> Option<i64> {
        (self.county_lo == self.county_hi).then_some(self.county_lo)
    }
}

/// The union of a caller's visible subtrees. Empty means nothing is visible.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    ranges: Vec<ScopeRange>,
}

impl Scope {
    pub fn none() -> Scope {
        Scope::default()
    }

    /// Builds a scope from granted subtree roots, dropping any root inside another.
    pub fn from_paths(paths: impl IntoIterator<Item = OrgPath>) -> Scope {
        let mut paths: Vec<OrgPath> = paths.into_iter().collect();
        paths.sort();
        paths.dedup();
        let mut kept: Vec<OrgPath> = Vec::new();
        for p in paths {
            if !kept.iter().any(|k| p.is_within(k)) {
                kept.push(p);
            }
        }
        Scope {
            ranges: kept.into_iter().map(ScopeRange::of).collect(),
        }
    }

    pub fn ranges(&self) -> &[ScopeRange] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn covers(&self, path: &OrgPath) -> bool {
        self.ranges.iter().any(|r| r.covers(path))
    }

    /// What lies inside both scopes (an exact search: where the caller may view and also
    /// reveal). Subtrees nest or are disjoint, so each pair gives the inner one or nothing.
    pub fn intersect(&self, other: &Scope) -> Scope {
        Scope::from_paths(self.ranges.iter().flat_map(|a| {
            other.ranges.iter().filter_map(move |b| {
                if a.path.is_within(&b.path) {
                    Some(a.path.clone())
                } else if b.path.is_within(&a.path) {
                    Some(b.path.clone())
                } else {
                    None
                }
            })
        }))
    }

    /// Whether everything in `other` lies inside this scope.
    pub fn includes(&self, other: &Scope) -> bool {
        other.ranges.iter().all(|r| self.covers(&r.path))
    }

    /// Narrows the scope to one subtree (e.g. "people under this community"): the result is
    /// what lies both under `root` and inside the scope.
    pub fn narrow_to(&self, root: &OrgPath) -> Scope {
        if self.covers(root) {
            return Scope::from_paths([root.clone()]);
        }
        Scope::from_paths(
            self.ranges
                .iter()
                .filter(|r| r.path.is_within(root))
                .map(|r| r.path.clone()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> OrgPath {
        OrgPath::parse(s).unwrap()
    }

    #[test]
    fn nested_grants_collapse() {
        let s = Scope::from_paths([p("370800/370830/370830001/"), p("370800/370830/")]);
        assert_eq!(s.ranges().len(), 1);
        assert_eq!(s.ranges()[0].single_county(), Some(370830));
    }

    #[test]
    fn city_scope_spans_all_counties() {
        let s = Scope::from_paths([p("370800/")]);
        assert_eq!(s.ranges()[0].county_lo, 370800);
        assert_eq!(s.ranges()[0].county_hi, 370899);
        assert!(s.covers(&p("370800/370881/370881001/")));
    }

    #[test]
    fn narrowing_never_widens() {
        let grid_a = p("370800/370830/370830001/370830001001/g1/");
        let s = Scope::from_paths([grid_a.clone()]);
        let community = p("370800/370830/370830001/370830001001/");
        assert_eq!(s.narrow_to(&community).ranges()[0].path, grid_a);
        let elsewhere = p("370800/370830/370830002/");
        assert!(s.narrow_to(&elsewhere).is_empty());
        assert!(!s.covers(&p("370800/370830/370830001/370830001001/g2/")));
    }

    #[test]
    fn intersecting_keeps_only_what_both_cover() {
        let county = Scope::from_paths([p("370800/370830/")]);
        let grid = Scope::from_paths([p("370800/370830/370830001/g1/"), p("370800/370881/")]);
        let both = county.intersect(&grid);
        assert_eq!(both.ranges().len(), 1);
        assert_eq!(both.ranges()[0].path, p("370800/370830/370830001/g1/"));
        assert_eq!(grid.intersect(&county), both);
        assert!(county.includes(&both) && grid.includes(&both));
        assert!(!both.includes(&county));
        assert!(county.intersect(&Scope::none()).is_empty());
        assert!(county.includes(&Scope::none()));
    }
}
