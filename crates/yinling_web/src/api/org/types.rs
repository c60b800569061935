//! The wire types of the organisation tree and its places, mapped from the app's views and
//! the store's rows with `From` and into the app's inputs; each keeps its published schema
//! name (`#[schema(as = …)]`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yinling_app::{
    org::{
        ChildView, Crumb, NewUnitInput, PlaceInput, PlaceKind, PlaceView, UnitUpdateInput, UnitView,
    },
    people::RosterItem,
};
use yinling_domain::org::OrgKind;
use yinling_store::{
    org::places::PlaceRow,
    org::{ChildRow, OrgUnitRow},
};

use crate::api::{kernel::Micros, people::types::HouseholdMemberResponse};

#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveRequest {
    pub parent_county_code: i64,
    pub parent_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MoveResponse {
    /// Units moved (the unit and everything under it).
    pub moved: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BoundaryRequest {
    /// GeoJSON Polygon or MultiPolygon; null clears it.
    pub geojson: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrgUnitRow)]
pub struct OrgUnitResponse {
    pub county_code: i64,
    pub id: i64,
    pub parent_county_code: Option<i64>,
    pub parent_id: Option<i64>,
    pub kind: String,
    pub name: String,
    pub code: String,
    pub path: String,
    pub depth: i64,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub synthetic: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
}

impl From<OrgUnitRow> for OrgUnitResponse {
    fn from(v: OrgUnitRow) -> Self {
        OrgUnitResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            parent_county_code: v.parent_county_code.map(|c| c.as_i64()),
            parent_id: v.parent_id.map(|i| i.get()),
            kind: v.kind.as_str().to_owned(),
            name: v.name,
            code: v.code,
            path: v.path,
            depth: v.depth,
            region_code: v.region_code,
            address: v.address,
            lat: v.lat,
            lng: v.lng,
            synthetic: v.synthetic,
            created_at: v.created_at,
            updated_at: v.updated_at,
            version: v.version,
        }
    }
}

/// A unit with its place in the tree, for the tree browser.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnitView)]
pub struct UnitResponse {
    pub unit: OrgUnitResponse,
    pub kind_label: &'static str,
    /// From the root down to the parent; `visible` says whether the caller may open it.
    pub ancestors: Vec<CrumbResponse>,
    pub children: Vec<ChildUnitResponse>,
    /// People living in this subtree (visible to the caller).
    pub people_count: i64,
    pub geojson: Option<String>,
    pub can_manage: bool,
    pub allowed_child_kinds: Vec<OrgKind>,
    /// Whether people and places are registered here (a community, village, compound, grid
    /// or central household).
    pub is_area: bool,
}

impl From<UnitView> for UnitResponse {
    fn from(v: UnitView) -> Self {
        UnitResponse {
            unit: v.unit.into(),
            kind_label: v.kind_label,
            ancestors: v.ancestors.into_iter().map(Into::into).collect(),
            children: v.children.into_iter().map(Into::into).collect(),
            people_count: v.people_count,
            geojson: v.geojson,
            can_manage: v.can_manage,
            allowed_child_kinds: v.allowed_child_kinds,
            is_area: v.is_area,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChildView)]
pub struct ChildUnitResponse {
    #[serde(flatten)]
    pub row: ChildUnitRowResponse,
    pub kind_label: &'static str,
}

impl From<ChildView> for ChildUnitResponse {
    fn from(v: ChildView) -> Self {
        ChildUnitResponse {
            row: v.row.into(),
            kind_label: v.kind_label,
        }
    }
}

/// A unit's children with how many units and people each subtree holds, for the tree browser.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChildRow)]
pub struct ChildUnitRowResponse {
    pub county_code: i64,
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub path: String,
    pub region_code: Option<String>,
    pub child_count: i64,
}

impl From<ChildRow> for ChildUnitRowResponse {
    fn from(v: ChildRow) -> Self {
        ChildUnitRowResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            kind: v.kind.as_str().to_owned(),
            name: v.name,
            path: v.path,
            region_code: v.region_code,
            child_count: v.child_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Crumb)]
pub struct CrumbResponse {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
    pub visible: bool,
}

impl From<Crumb> for CrumbResponse {
    fn from(v: Crumb) -> Self {
        CrumbResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            name: v.name,
            visible: v.visible,
        }
    }
}

/// What a new unit needs.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NewUnitInput)]
pub struct NewUnit {
    pub kind: OrgKind,
    pub name: String,
    #[serde(default)]
    pub region_code: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    /// A grid's boundary as a GeoJSON Polygon or MultiPolygon.
    #[serde(default)]
    pub geojson: Option<String>,
}

impl From<NewUnit> for NewUnitInput {
    fn from(v: NewUnit) -> Self {
        NewUnitInput {
            kind: v.kind,
            name: v.name,
            region_code: v.region_code,
            address: v.address,
            lat: v.lat,
            lng: v.lng,
            geojson: v.geojson,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UnitUpdateInput)]
pub struct UnitUpdate {
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    pub version: i64,
}

impl From<UnitUpdate> for UnitUpdateInput {
    fn from(v: UnitUpdate) -> Self {
        UnitUpdateInput {
            name: v.name,
            address: v.address,
            lat: v.lat,
            lng: v.lng,
            version: v.version,
        }
    }
}

/// A member of a unit's roster as the caller may see them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RosterItem)]
pub struct RosterItemResponse {
    pub county_code: i64,
    pub person_id: i64,
    pub name: String,
    pub gender: String,
    /// The full birth date, only for a caller who may reveal this person's numbers.
    pub birth_date: Option<String>,
    pub birth_year: i32,
    pub age: u32,
    pub kind: String,
    pub unit_name: Option<String>,
    pub details: String,
}

impl From<RosterItem> for RosterItemResponse {
    fn from(v: RosterItem) -> Self {
        RosterItemResponse {
            county_code: v.county_code.as_i64(),
            person_id: v.person_id.get(),
            name: v.name,
            gender: v.gender.as_str().to_owned(),
            birth_date: v.birth_date,
            birth_year: v.birth_year,
            age: v.age,
            kind: v.kind.as_str().to_owned(),
            unit_name: v.unit_name,
            details: v.details,
        }
    }
}

/// A place with who lives there (households only).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PlaceView)]
pub struct PlaceViewResponse {
    #[serde(flatten)]
    pub place: PlaceResponse,
    pub kind_label: &'static str,
    pub residents: Vec<HouseholdMemberResponse>,
}

impl From<PlaceView> for PlaceViewResponse {
    fn from(v: PlaceView) -> Self {
        PlaceViewResponse {
            place: v.place.into(),
            kind_label: v.kind_label,
            residents: v.residents.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PlaceRow)]
pub struct PlaceResponse {
    pub county_code: i64,
    pub id: i64,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub unit_id: i64,
    pub path: String,
    pub label: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub synthetic: bool,
}

impl From<PlaceRow> for PlaceResponse {
    fn from(v: PlaceRow) -> Self {
        PlaceResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            kind: v.kind.as_str().to_owned(),
            parent_id: v.parent_id.map(|i| i.get()),
            unit_id: v.unit_id.get(),
            path: v.path,
            label: v.label,
            address: v.address,
            lat: v.lat,
            lng: v.lng,
            synthetic: v.synthetic,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PlaceInput)]
pub struct NewPlace {
    pub kind: PlaceKind,
    /// The containing place, if any (a building for an entrance, an entrance for a household).
    #[serde(default)]
    pub parent_id: Option<i64>,
    /// "3号楼", "2单元", "501室".
    pub label: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
}

impl From<NewPlace> for PlaceInput {
    fn from(v: NewPlace) -> Self {
        PlaceInput {
            kind: v.kind,
            parent_id: v.parent_id,
            label: v.label,
            address: v.address,
            lat: v.lat,
            lng: v.lng,
        }
    }
}
