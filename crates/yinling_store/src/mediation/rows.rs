//! The rows of cases, parties, mediators, sessions, follow-ups, counts and pick lists.

use super::*;

/// A case as stored, with the name of the unit where it arose.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CaseRow {
    pub county_code: CountyCode,
    pub id: CaseId,
    pub path: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub place_id: Option<PlaceId>,
    pub place_label: Option<String>,
    pub location: Option<String>,
    pub category: DisputeCategory,
    pub summary: String,
    pub intake_on: String,
    pub taken_by_name: String,
    pub status: CaseStatus,
    pub outcome: Option<Outcome>,
    pub concluded_on: Option<String>,
    pub outcome_note: Option<String>,
    pub referred_to: Option<String>,
    pub followed_up_on: Option<String>,
    pub agreement_holds: Option<bool>,
    pub synthetic: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
}

pub(super) const CASE_SELECT: &str =
    "SELECT c.county_code, c.id, c.path, c.unit_id, u.name AS unit_name, c.place_id,
        pl.label AS place_label, c.location, c.category, c.summary, c.intake_on, c.taken_by_name,
        c.status, c.outcome, c.concluded_on, c.outcome_note, c.referred_to, c.followed_up_on,
        c.agreement_holds, c.synthetic, c.created_at, c.updated_at, c.version
   FROM mediation_cases c
   JOIN org_units u ON u.county_code = c.county_code AND u.id = c.unit_id
   LEFT JOIN places pl ON pl.county_code = c.county_code AND pl.id = c.place_id";

/// A case to insert; ids come from [`crate::kernel::ids`].
#[derive(Debug, Clone)]
pub struct NewCase {
    pub county_code: CountyCode,
    pub id: CaseId,
    pub path: String,
    pub unit_id: UnitId,
    pub place_id: Option<PlaceId>,
    pub location: Option<String>,
    pub category: DisputeCategory,
    pub summary: String,
    pub intake_on: String,
    pub taken_by: Option<AccountId>,
    pub taken_by_name: String,
    pub status: CaseStatus,
    pub outcome: Option<Outcome>,
    pub concluded_on: Option<String>,
    pub outcome_note: Option<String>,
    pub referred_to: Option<String>,
    pub followed_up_on: Option<String>,
    pub agreement_holds: Option<bool>,
    pub synthetic: bool,
    pub now: Micros,
}

/// Filters for the case list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    pub category: Option<DisputeCategory>,
    pub outcome: Option<Outcome>,
    /// Intake dates, both ends included.
    pub intake_from: Option<String>,
    pub intake_to: Option<String>,
    /// Only cases this studio, team or cadre mediates.
    pub mediator: Option<Mediator>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PartyRow {
    pub seq: i64,
    pub side: PartySide,
    pub name: String,
    pub person_id: Option<PersonId>,
}

#[derive(Debug, Clone)]
pub struct NewParty {
    pub county_code: CountyCode,
    pub case_id: CaseId,
    pub seq: i64,
    pub side: PartySide,
    pub name: String,
    pub person_id: Option<PersonId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediatorRow {
    pub mediator: Mediator,
    pub name: String,
    pub assigned_at: Micros,
    pub assigned_by_name: String,
}

/// A mediator as its columns hold it: the kind and the number it qualifies.
#[derive(sqlx::FromRow)]
pub(super) struct MediatorColumns {
    kind: MediatorKind,
    mediator_id: i64,
    name: String,
    assigned_at: Micros,
    assigned_by_name: String,
}

impl From<MediatorColumns> for MediatorRow {
    fn from(r: MediatorColumns) -> Self {
        MediatorRow {
            mediator: Mediator::from_parts(r.kind, r.mediator_id),
            name: r.name,
            assigned_at: r.assigned_at,
            assigned_by_name: r.assigned_by_name,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewMediator {
    pub county_code: CountyCode,
    pub case_id: CaseId,
    pub mediator: Mediator,
    pub mediator_path: String,
    pub name: String,
    pub assigned_by_name: String,
    pub now: Micros,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SessionRow {
    pub id: SessionId,
    pub held_on: String,
    /// JSON array of `{"kind","id","name"}`: the assigned mediators who were there.
    pub present: String,
    pub note: String,
    pub recorded_at: Micros,
    pub recorded_by_name: String,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub county_code: CountyCode,
    pub id: SessionId,
    pub case_id: CaseId,
    pub held_on: String,
    pub present: String,
    pub note: String,
    pub recorded_by_name: String,
    pub now: Micros,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct FollowupRow {
    pub id: FollowUpId,
    pub visited_on: String,
    /// Whether the agreement holds; None when there was no agreement to keep.
    pub holds: Option<bool>,
    pub note: String,
    pub recorded_at: Micros,
    pub recorded_by_name: String,
}

#[derive(Debug, Clone)]
pub struct NewFollowup {
    pub county_code: CountyCode,
    pub id: FollowUpId,
    pub case_id: CaseId,
    pub visited_on: String,
    pub holds: Option<bool>,
    pub note: String,
    pub recorded_by_name: String,
    pub now: Micros,
}

#[derive(sqlx::FromRow)]
pub(super) struct CountsRow {
    concluded: i64,
    success: i64,
    partial: i64,
    failed: i64,
    referred: i64,
}

impl From<CountsRow> for OutcomeCounts {
    fn from(r: CountsRow) -> Self {
        OutcomeCounts {
            concluded: r.concluded,
            success: r.success,
            partial: r.partial,
            failed: r.failed,
            referred: r.referred,
        }
    }
}

/// A mediator's figures over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediatorCounts {
    pub county_code: CountyCode,
    pub mediator: Mediator,
    pub name: String,
    pub counts: OutcomeCounts,
}

/// A unit that can be picked (a studio or team as mediator, or where a case arose).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PickRow {
    pub county_code: CountyCode,
    pub id: UnitId,
    /// The org kind's code.
    pub kind: String,
    pub name: String,
    pub path: String,
}

/// A retired cadre that can be picked as mediator.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CadreRow {
    pub county_code: CountyCode,
    pub id: PersonId,
    pub name: String,
    pub path: String,
}
