//! What callers send: the case list's filters, intake, assignment, sessions, outcomes,
//! follow-ups and the figures' period.

use super::*;

/// Filters for the case list. All optional; combined with AND.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct CaseQuery {
    /// Only cases that arose under this unit: "county/id".
    pub unit: Option<String>,
    /// intake, mediating, concluded, followed_up.
    pub status: Option<String>,
    /// neighbour, family, property, marriage, land, other.
    pub category: Option<String>,
    /// success, partial, failed, referred.
    pub outcome: Option<String>,
    /// Taken in on or after this day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Taken in on or before this day (YYYY-MM-DD).
    pub to: Option<String>,
    /// Only cases this mediator takes part in: "studio/12", "team/34" or "person/56".
    pub mediator: Option<String>,
}

/// A party to a dispute. With `person_id` (a person file of the case's county the caller
/// may see) the name is taken from the file.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PartyInput {
    pub side: PartySide,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub person_id: Option<PersonId>,
}

/// Taking in a case (受理).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CaseInput {
    /// The community, village, compound or grid where the dispute arose.
    pub unit_county_code: i64,
    pub unit_id: UnitId,
    /// A building or household of that unit, when it arose at one.
    #[serde(default)]
    pub place_id: Option<PlaceId>,
    /// Where exactly, in words ("3号楼楼道"); no phone or ID numbers.
    #[serde(default)]
    pub location: Option<String>,
    pub category: DisputeCategory,
    /// What the dispute is about; names only, no phone or ID numbers.
    pub summary: String,
    /// Defaults to today.
    #[serde(default)]
    pub intake_on: Option<NaiveDate>,
    /// Who took it in; defaults to the caller's name.
    #[serde(default)]
    pub taken_by_name: Option<String>,
    pub parties: Vec<PartyInput>,
    /// Mediators to assign at once (optional).
    #[serde(default)]
    pub mediators: Vec<Mediator>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AssignInput {
    /// The case version read.
    pub version: i64,
    pub mediators: Vec<Mediator>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SessionInput {
    pub version: i64,
    pub held_on: NaiveDate,
    /// Which of the assigned mediators were there.
    pub present: Vec<Mediator>,
    pub note: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OutcomeInput {
    pub version: i64,
    pub outcome: Outcome,
    pub concluded_on: NaiveDate,
    #[serde(default)]
    pub note: Option<String>,
    /// Where the case was handed to (司法所, 人民法院 …); required for 移交.
    #[serde(default)]
    pub referred_to: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FollowUpInput {
    pub version: i64,
    pub visited_on: NaiveDate,
    /// Whether the agreement holds; required when the outcome was 调解成功 or 部分达成.
    #[serde(default)]
    pub holds: Option<bool>,
    pub note: String,
}

/// The period and subtree of the figures.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct StatsQuery {
    /// First day (YYYY-MM-DD); default: 364 days before `to`.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD), included; default: today.
    pub to: Option<String>,
    /// The subtree: "county/id"; default: the caller's own area.
    pub unit: Option<String>,
}
