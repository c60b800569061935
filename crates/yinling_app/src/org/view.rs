//! What callers get back: a unit with its place in the tree, its children, the overview.

use super::*;

/// A unit with its place in the tree, for the tree browser.
#[derive(Debug, Clone, Serialize)]
pub struct UnitView {
    pub unit: OrgUnitRow,
    pub kind_label: &'static str,
    /// From the root down to the parent; `visible` says whether the caller may open it.
    pub ancestors: Vec<Crumb>,
    pub children: Vec<ChildView>,
    /// People living in this subtree (visible to the caller).
    pub people_count: i64,
    pub geojson: Option<String>,
    pub can_manage: bool,
    pub allowed_child_kinds: Vec<OrgKind>,
    /// Whether people and places are registered here (a community, village, compound, grid
    /// or central household).
    pub is_area: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Crumb {
    pub county_code: CountyCode,
    pub id: UnitId,
    pub name: String,
    pub visible: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChildView {
    #[serde(flatten)]
    pub row: ChildRow,
    pub kind_label: &'static str,
}

/// The caller's area at a glance, for the home page.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub roots: Vec<OrgUnitRow>,
    pub people: i64,
    /// (kind label, count) for the kinds worth showing.
    pub units: Vec<(&'static str, i64)>,
}
