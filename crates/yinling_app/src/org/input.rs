//! What callers send: a new unit and a unit's changes.

use super::*;

/// What a new unit needs.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NewUnitInput {
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

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct UnitUpdateInput {
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    pub version: i64,
}
