//! The wire types of mediation, mapped from the app's views and the store's rows with `From`
//! and into the app's inputs; each keeps its published schema name (`#[schema(as = …)]`),
//! except the case's follow-up and its request (`CaseFollowUp`, `CaseFollowUpInput`), which
//! shared the names `FollowupRow` and `FollowUpInput` with the needs' own and were described
//! by them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yinling_app::mediation::{
    AllowedActions, AssignInput, CaseInput, CaseListItem, CaseView, FollowUpInput, MediationStats,
    MediatorChoice, MediatorChoices, MediatorView, OutcomeInput, PartyInput, PartyView, PickItem,
    PresentMediator, Rate, RateLine, SessionInput, SessionView, StatsUnit,
};
use yinling_domain::{
    ids::{PersonId, PlaceId, UnitId},
    mediation::{DisputeCategory, Mediator, MediatorKind, Outcome, OutcomeCounts, PartySide},
};
use yinling_store::mediation::{CaseRow, FollowupRow};

use crate::api::kernel::Micros;

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedResponse {
    pub id: i64,
}

/// A case with everything recorded on it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CaseView)]
pub struct CaseResponse {
    #[serde(flatten)]
    pub case: CaseRowResponse,
    pub category_label: &'static str,
    pub status_label: &'static str,
    pub outcome_label: Option<&'static str>,
    pub parties: Vec<PartyResponse>,
    pub mediators: Vec<MediatorResponse>,
    pub sessions: Vec<SessionResponse>,
    pub followups: Vec<CaseFollowUpResponse>,
    pub allowed: AllowedActionsResponse,
}

impl From<CaseView> for CaseResponse {
    fn from(v: CaseView) -> Self {
        CaseResponse {
            case: v.case.into(),
            category_label: v.category_label,
            status_label: v.status_label,
            outcome_label: v.outcome_label,
            parties: v.parties.into_iter().map(Into::into).collect(),
            mediators: v.mediators.into_iter().map(Into::into).collect(),
            sessions: v.sessions.into_iter().map(Into::into).collect(),
            followups: v.followups.into_iter().map(Into::into).collect(),
            allowed: v.allowed.into(),
        }
    }
}

/// A case as stored, with the name of the unit where it arose.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CaseRow)]
pub struct CaseRowResponse {
    pub county_code: i64,
    pub id: i64,
    pub path: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub place_id: Option<i64>,
    pub place_label: Option<String>,
    pub location: Option<String>,
    pub category: String,
    pub summary: String,
    pub intake_on: String,
    pub taken_by_name: String,
    pub status: String,
    pub outcome: Option<String>,
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

impl From<CaseRow> for CaseRowResponse {
    fn from(v: CaseRow) -> Self {
        CaseRowResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            path: v.path,
            unit_id: v.unit_id.get(),
            unit_name: v.unit_name,
            place_id: v.place_id.map(i64::from),
            place_label: v.place_label,
            location: v.location,
            category: v.category.as_str().to_owned(),
            summary: v.summary,
            intake_on: v.intake_on,
            taken_by_name: v.taken_by_name,
            status: v.status.as_str().to_owned(),
            outcome: v.outcome.map(|o| o.as_str().to_owned()),
            concluded_on: v.concluded_on,
            outcome_note: v.outcome_note,
            referred_to: v.referred_to,
            followed_up_on: v.followed_up_on,
            agreement_holds: v.agreement_holds,
            synthetic: v.synthetic,
            created_at: v.created_at,
            updated_at: v.updated_at,
            version: v.version,
        }
    }
}

/// A row of the case list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CaseListItem)]
pub struct CaseListItemResponse {
    pub county_code: i64,
    pub id: i64,
    pub unit_name: String,
    pub category: String,
    pub category_label: &'static str,
    pub summary: String,
    pub intake_on: String,
    pub status: String,
    pub status_label: &'static str,
    pub outcome: Option<String>,
    pub outcome_label: Option<&'static str>,
    pub concluded_on: Option<String>,
    /// Mediators' names, joined with "、".
    pub mediators: String,
}

impl From<CaseListItem> for CaseListItemResponse {
    fn from(v: CaseListItem) -> Self {
        CaseListItemResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            unit_name: v.unit_name,
            category: v.category.as_str().to_owned(),
            category_label: v.category_label,
            summary: v.summary,
            intake_on: v.intake_on,
            status: v.status.as_str().to_owned(),
            status_label: v.status_label,
            outcome: v.outcome.map(|o| o.as_str().to_owned()),
            outcome_label: v.outcome_label,
            concluded_on: v.concluded_on,
            mediators: v.mediators,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CaseFollowUp)]
pub struct CaseFollowUpResponse {
    pub id: i64,
    pub visited_on: String,
    /// Whether the agreement holds; None when there was no agreement to keep.
    pub holds: Option<bool>,
    pub note: String,
    pub recorded_at: Micros,
    pub recorded_by_name: String,
}

impl From<FollowupRow> for CaseFollowUpResponse {
    fn from(v: FollowupRow) -> Self {
        CaseFollowUpResponse {
            id: v.id.get(),
            visited_on: v.visited_on,
            holds: v.holds,
            note: v.note,
            recorded_at: v.recorded_at,
            recorded_by_name: v.recorded_by_name,
        }
    }
}

/// Success rates of a subtree over a period.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MediationStats)]
pub struct MediationStatsResponse {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The unit whose subtree is counted; null for a caller with several separate areas.
    pub unit: Option<StatsUnitResponse>,
    /// How the rate is defined, in words.
    pub definition: &'static str,
    pub total: RateResponse,
    /// Cases taken in during the period.
    pub taken_in: i64,
    /// Cases in the subtree still open (any intake date).
    pub open: i64,
    /// Per child unit of `unit`.
    pub subtrees: Vec<RateLineResponse>,
    pub studios: Vec<RateLineResponse>,
    pub teams: Vec<RateLineResponse>,
    pub cadres: Vec<RateLineResponse>,
}

impl From<MediationStats> for MediationStatsResponse {
    fn from(v: MediationStats) -> Self {
        MediationStatsResponse {
            from: v.from,
            to: v.to,
            unit: v.unit.map(Into::into),
            definition: v.definition,
            total: v.total.into(),
            taken_in: v.taken_in,
            open: v.open,
            subtrees: v.subtrees.into_iter().map(Into::into).collect(),
            studios: v.studios.into_iter().map(Into::into).collect(),
            teams: v.teams.into_iter().map(Into::into).collect(),
            cadres: v.cadres.into_iter().map(Into::into).collect(),
        }
    }
}

/// Who may be assigned to a case.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MediatorChoices)]
pub struct MediatorChoicesResponse {
    pub studios: Vec<PickItemResponse>,
    pub teams: Vec<PickItemResponse>,
    pub cadres: Vec<PickItemResponse>,
}

impl From<MediatorChoices> for MediatorChoicesResponse {
    fn from(v: MediatorChoices) -> Self {
        MediatorChoicesResponse {
            studios: v.studios.into_iter().map(Into::into).collect(),
            teams: v.teams.into_iter().map(Into::into).collect(),
            cadres: v.cadres.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MediatorView)]
pub struct MediatorResponse {
    pub kind: String,
    pub kind_label: &'static str,
    pub mediator_id: i64,
    pub name: String,
    pub assigned_at: i64,
    pub assigned_by_name: String,
}

impl From<MediatorView> for MediatorResponse {
    fn from(v: MediatorView) -> Self {
        MediatorResponse {
            kind: v.mediator.kind().as_str().to_owned(),
            kind_label: v.kind_label,
            mediator_id: v.mediator.id(),
            name: v.name,
            assigned_at: v.assigned_at,
            assigned_by_name: v.assigned_by_name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PartyView)]
pub struct PartyResponse {
    pub seq: i64,
    pub side: String,
    pub side_label: &'static str,
    pub name: String,
    /// The linked person file, when there is one (same county as the case).
    pub person_id: Option<i64>,
}

impl From<PartyView> for PartyResponse {
    fn from(v: PartyView) -> Self {
        PartyResponse {
            seq: v.seq,
            side: v.side.as_str().to_owned(),
            side_label: v.side_label,
            name: v.name,
            person_id: v.person_id.map(i64::from),
        }
    }
}

/// A choice for the mediator picker or the intake form's unit picker.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PickItem)]
pub struct PickItemResponse {
    pub county_code: i64,
    pub id: i64,
    pub kind: String,
    pub kind_label: &'static str,
    pub name: String,
}

impl From<MediatorChoice> for PickItemResponse {
    fn from(v: MediatorChoice) -> Self {
        PickItemResponse {
            county_code: v.county_code.as_i64(),
            id: v.mediator.id(),
            kind: v.kind,
            kind_label: v.kind_label,
            name: v.name,
        }
    }
}

impl From<PickItem> for PickItemResponse {
    fn from(v: PickItem) -> Self {
        PickItemResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            kind: v.kind,
            kind_label: v.kind_label,
            name: v.name,
        }
    }
}

/// Someone present at a session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PresentMediator)]
pub struct PresentMediatorResponse {
    pub kind: MediatorKind,
    pub id: i64,
    pub name: String,
}

impl From<PresentMediator> for PresentMediatorResponse {
    fn from(v: PresentMediator) -> Self {
        PresentMediatorResponse {
            kind: v.mediator.kind(),
            id: v.mediator.id(),
            name: v.name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SessionView)]
pub struct SessionResponse {
    pub id: i64,
    pub held_on: String,
    pub present: Vec<PresentMediatorResponse>,
    pub note: String,
    pub recorded_at: i64,
    pub recorded_by_name: String,
}

impl From<SessionView> for SessionResponse {
    fn from(v: SessionView) -> Self {
        SessionResponse {
            id: v.id.get(),
            held_on: v.held_on,
            present: v.present.into_iter().map(Into::into).collect(),
            note: v.note,
            recorded_at: v.recorded_at,
            recorded_by_name: v.recorded_by_name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StatsUnit)]
pub struct StatsUnitResponse {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
}

impl From<StatsUnit> for StatsUnitResponse {
    fn from(v: StatsUnit) -> Self {
        StatsUnitResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            name: v.name,
        }
    }
}

/// What the caller may do next on a case (the state machine applied to its status).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AllowedActions)]
pub struct AllowedActionsResponse {
    pub assign: bool,
    pub session: bool,
    pub conclude: bool,
    /// Only 移交 is possible (no session held yet).
    pub refer_only: bool,
    pub follow_up: bool,
}

impl From<AllowedActions> for AllowedActionsResponse {
    fn from(v: AllowedActions) -> Self {
        AllowedActionsResponse {
            assign: v.assign,
            session: v.session,
            conclude: v.conclude,
            refer_only: v.refer_only,
            follow_up: v.follow_up,
        }
    }
}

/// A success rate with the counts it comes from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Rate)]
pub struct RateResponse {
    #[serde(flatten)]
    pub counts: OutcomeCounts,
    /// Tenths of a percent (905 = 90.5%); null when nothing was concluded.
    pub rate_permille: Option<i64>,
    /// "90.5%".
    pub rate_label: String,
    /// "42起，成功38起，90.5%".
    pub summary: String,
}

impl From<Rate> for RateResponse {
    fn from(v: Rate) -> Self {
        RateResponse {
            counts: v.counts,
            rate_permille: v.rate_permille,
            rate_label: v.rate_label,
            summary: v.summary,
        }
    }
}

/// One line of a breakdown: a subtree, a studio, a team or a cadre.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RateLine)]
pub struct RateLineResponse {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
    /// For subtrees the unit kind; for mediators person, studio or team.
    pub kind: String,
    pub kind_label: &'static str,
    pub rate: RateResponse,
}

impl From<RateLine> for RateLineResponse {
    fn from(v: RateLine) -> Self {
        RateLineResponse {
            county_code: v.county_code.as_i64(),
            id: v.id(),
            name: v.name,
            kind: v.kind,
            kind_label: v.kind_label,
            rate: v.rate.into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = AssignInput)]
pub struct AssignRequest {
    /// The case version read.
    pub version: i64,
    pub mediators: Vec<MediatorRefRequest>,
}

impl From<AssignRequest> for AssignInput {
    fn from(v: AssignRequest) -> Self {
        AssignInput {
            version: v.version,
            mediators: v.mediators.into_iter().map(Into::into).collect(),
        }
    }
}

/// Taking in a case (受理).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CaseInput)]
pub struct NewCase {
    /// The community, village, compound or grid where the dispute arose.
    pub unit_county_code: i64,
    pub unit_id: i64,
    /// A building or household of that unit, when it arose at one.
    #[serde(default)]
    pub place_id: Option<i64>,
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
    pub parties: Vec<NewParty>,
    /// Mediators to assign at once (optional).
    #[serde(default)]
    pub mediators: Vec<MediatorRefRequest>,
}

impl From<NewCase> for CaseInput {
    fn from(v: NewCase) -> Self {
        CaseInput {
            unit_county_code: v.unit_county_code,
            unit_id: UnitId(v.unit_id),
            place_id: v.place_id.map(PlaceId),
            location: v.location,
            category: v.category,
            summary: v.summary,
            intake_on: v.intake_on,
            taken_by_name: v.taken_by_name,
            parties: v.parties.into_iter().map(Into::into).collect(),
            mediators: v.mediators.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = OutcomeInput)]
pub struct OutcomeRequest {
    pub version: i64,
    pub outcome: Outcome,
    pub concluded_on: NaiveDate,
    #[serde(default)]
    pub note: Option<String>,
    /// Where the case was handed to (司法所, 人民法院 …); required for 移交.
    #[serde(default)]
    pub referred_to: Option<String>,
}

impl From<OutcomeRequest> for OutcomeInput {
    fn from(v: OutcomeRequest) -> Self {
        OutcomeInput {
            version: v.version,
            outcome: v.outcome,
            concluded_on: v.concluded_on,
            note: v.note,
            referred_to: v.referred_to,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = SessionInput)]
pub struct NewSession {
    pub version: i64,
    pub held_on: NaiveDate,
    /// Which of the assigned mediators were there.
    pub present: Vec<MediatorRefRequest>,
    pub note: String,
}

impl From<NewSession> for SessionInput {
    fn from(v: NewSession) -> Self {
        SessionInput {
            version: v.version,
            held_on: v.held_on,
            present: v.present.into_iter().map(Into::into).collect(),
            note: v.note,
        }
    }
}

/// A party to a dispute. With `person_id` (a person file of the case's county the caller
/// may see) the name is taken from the file.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PartyInput)]
pub struct NewParty {
    pub side: PartySide,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub person_id: Option<i64>,
}

impl From<NewParty> for PartyInput {
    fn from(v: NewParty) -> Self {
        PartyInput {
            side: v.side,
            name: v.name,
            person_id: v.person_id.map(PersonId),
        }
    }
}

/// A mediator to assign: a retired cadre's person id, or a studio's or team's unit id.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = MediatorRef)]
pub struct MediatorRefRequest {
    pub kind: MediatorKind,
    pub id: i64,
}

impl From<MediatorRefRequest> for Mediator {
    fn from(v: MediatorRefRequest) -> Self {
        Mediator::from_parts(v.kind, v.id)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CaseFollowUpInput)]
pub struct NewCaseFollowUp {
    pub version: i64,
    pub visited_on: NaiveDate,
    /// Whether the agreement holds; required when the outcome was 调解成功 or 部分达成.
    #[serde(default)]
    pub holds: Option<bool>,
    pub note: String,
}

impl From<NewCaseFollowUp> for FollowUpInput {
    fn from(v: NewCaseFollowUp) -> Self {
        FollowUpInput {
            version: v.version,
            visited_on: v.visited_on,
            holds: v.holds,
            note: v.note,
        }
    }
}
