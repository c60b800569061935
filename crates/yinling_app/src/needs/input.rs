//! What callers send: the ledger's filters, a new need and a follow-up.

use super::*;

/// Filters for the ledger. All optional; combined with AND.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct NeedQuery {
    /// Only needs recorded under this unit's subtree: "county/id".
    pub unit: Option<String>,
    /// A category code (`meals`, or one an administrator added).
    pub category: Option<String>,
    /// `open`, `following`, `resolved` or `closed`.
    pub status: Option<String>,
    /// `low`, `normal`, `high` or `urgent`.
    pub urgency: Option<String>,
    /// `door_knock`, `forum`, `survey` or `online`.
    pub source: Option<String>,
    /// The person's age, at least (needs of a household only have no age).
    pub age_min: Option<u32>,
    /// The person's age, at most.
    pub age_max: Option<u32>,
    /// Needs of one person: "county/id".
    pub person: Option<String>,
}

/// What recording a need takes. Give a person, a household, or both; the unit defaults to
/// the person's home unit (or the household's).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NeedInput {
    pub county_code: i64,
    #[serde(default)]
    pub person_id: Option<i64>,
    #[serde(default)]
    pub household_id: Option<i64>,
    /// The community, grid or compound the need is recorded under.
    #[serde(default)]
    pub unit_id: Option<i64>,
    /// A category code from `GET /api/v1/categories` or the built-in list (`meals`).
    pub category: String,
    pub description: String,
    #[serde(default = "default_urgency")]
    pub urgency: Urgency,
    #[serde(default = "default_source")]
    pub source: NeedSource,
}

pub(super) fn default_urgency() -> Urgency {
    Urgency::Normal
}

pub(super) fn default_source() -> NeedSource {
    NeedSource::DoorKnock
}

/// A follow-up: what was done, and optionally the new status.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FollowUpInput {
    pub note: String,
    /// The new status; omitted keeps the current one.
    #[serde(default)]
    pub status: Option<NeedStatus>,
    /// The version read, so two people following up at once are detected; omitted takes
    /// the current one.
    #[serde(default)]
    pub version: Option<i64>,
}
