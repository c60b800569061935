//! What callers get back: the case list, a case with its parties, mediators, sessions and
//! follow-ups, the allowed next steps, and success rates with their counts.

use super::*;

/// A row of the case list.
#[derive(Debug, Clone, Serialize)]
pub struct CaseListItem {
    pub county_code: CountyCode,
    pub id: CaseId,
    pub unit_name: String,
    pub category: DisputeCategory,
    pub category_label: &'static str,
    pub summary: String,
    pub intake_on: String,
    pub status: CaseStatus,
    pub status_label: &'static str,
    pub outcome: Option<Outcome>,
    pub outcome_label: Option<&'static str>,
    pub concluded_on: Option<String>,
    /// Mediators' names, joined with "、".
    pub mediators: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartyView {
    pub seq: i64,
    pub side: PartySide,
    pub side_label: &'static str,
    pub name: String,
    /// The linked person file, when there is one (same county as the case).
    pub person_id: Option<PersonId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MediatorView {
    pub mediator: Mediator,
    pub kind_label: &'static str,
    pub name: String,
    pub assigned_at: i64,
    pub assigned_by_name: String,
}

/// Someone present at a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresentMediator {
    /// Stored as its `kind` and `id` beside the name.
    #[serde(flatten)]
    pub mediator: Mediator,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: SessionId,
    pub held_on: String,
    pub present: Vec<PresentMediator>,
    pub note: String,
    pub recorded_at: i64,
    pub recorded_by_name: String,
}

/// What the caller may do next on a case (the state machine applied to its status).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AllowedActions {
    pub assign: bool,
    pub session: bool,
    pub conclude: bool,
    /// Only 移交 is possible (no session held yet).
    pub refer_only: bool,
    pub follow_up: bool,
}

/// A case with everything recorded on it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: CaseRow,
    pub category_label: &'static str,
    pub status_label: &'static str,
    pub outcome_label: Option<&'static str>,
    pub parties: Vec<PartyView>,
    pub mediators: Vec<MediatorView>,
    pub sessions: Vec<SessionView>,
    pub followups: Vec<FollowupRow>,
    pub allowed: AllowedActions,
}

/// A success rate with the counts it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    #[serde(flatten)]
    pub counts: OutcomeCounts,
    /// Tenths of a percent (905 = 90.5%); null when nothing was concluded.
    pub rate_permille: Option<i64>,
    /// "90.5%".
    pub rate_label: String,
    /// "42起，成功38起，90.5%".
    pub summary: String,
}

impl From<OutcomeCounts> for Rate {
    fn from(counts: OutcomeCounts) -> Self {
        Rate {
            rate_permille: counts.rate_permille(),
            rate_label: counts.rate_label(),
            summary: counts.summary_zh(),
            counts,
        }
    }
}

/// One line of a breakdown: a subtree, a studio, a team or a cadre.
#[derive(Debug, Clone, Serialize)]
pub struct RateLine {
    pub county_code: CountyCode,
    pub of: RateOf,
    pub name: String,
    /// For subtrees the unit kind; for mediators person, studio or team.
    pub kind: String,
    pub kind_label: &'static str,
    pub rate: Rate,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatsUnit {
    pub county_code: CountyCode,
    pub id: UnitId,
    pub name: String,
}

/// Success rates of a subtree over a period.
#[derive(Debug, Clone, Serialize)]
pub struct MediationStats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The unit whose subtree is counted; null for a caller with several separate areas.
    pub unit: Option<StatsUnit>,
    /// How the rate is defined, in words.
    pub definition: &'static str,
    pub total: Rate,
    /// Cases taken in during the period.
    pub taken_in: i64,
    /// Cases in the subtree still open (any intake date).
    pub open: i64,
    /// Per child unit of `unit`.
    pub subtrees: Vec<RateLine>,
    pub studios: Vec<RateLine>,
    pub teams: Vec<RateLine>,
    pub cadres: Vec<RateLine>,
}

pub const RATE_DEFINITION: &str = "调解成功率 = 统计期间内办结且结果为“调解成功”的案件数 ÷ 统计期间内办结的案件总数（含部分达成、调解不成、移交）。案件按办结日期计入期间，起止日期均包含在内；同一案件有多个调解组织或调解员时，分别计入各自的数字。";

/// What a line of a breakdown counts: a unit's subtree, or one mediator's cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RateOf {
    Subtree(UnitId),
    Mediator(Mediator),
}

impl RateLine {
    /// The unit's number, or the mediator's (person or unit) beside its kind.
    pub fn id(&self) -> i64 {
        match self.of {
            RateOf::Subtree(u) => u.get(),
            RateOf::Mediator(m) => m.id(),
        }
    }
}

/// A choice for the intake form's unit picker.
#[derive(Debug, Clone, Serialize)]
pub struct PickItem {
    pub county_code: CountyCode,
    pub id: UnitId,
    pub kind: String,
    pub kind_label: &'static str,
    pub name: String,
}

/// A choice for the mediator picker.
#[derive(Debug, Clone, Serialize)]
pub struct MediatorChoice {
    pub county_code: CountyCode,
    pub mediator: Mediator,
    /// The org kind's code for a studio or team, "person" for a cadre.
    pub kind: String,
    pub kind_label: &'static str,
    pub name: String,
}

/// Who may be assigned to a case.
#[derive(Debug, Clone, Serialize)]
pub struct MediatorChoices {
    pub studios: Vec<MediatorChoice>,
    pub teams: Vec<MediatorChoice>,
    pub cadres: Vec<MediatorChoice>,
}

/// What the demo seeding wrote.
#[derive(Debug, Clone, Default)]
pub struct DemoMediationSummary {
    /// Mediation cases were already there; nothing was written.
    pub already_seeded: bool,
    /// (county name, mediator, cases concluded, successes, cases open).
    pub counties: Vec<(String, String, usize, usize, usize)>,
    pub cases: usize,
    pub units_created: usize,
}

pub(super) fn pick(r: PickRow) -> PickItem {
    PickItem {
        kind_label: OrgKind::parse(&r.kind).map_or("其他", OrgKind::label_zh),
        county_code: r.county_code,
        id: r.id,
        kind: r.kind,
        name: r.name,
    }
}

/// A studio or team (`to` says which) as a mediator choice.
pub(super) fn unit_choice(r: PickRow, to: fn(UnitId) -> Mediator) -> MediatorChoice {
    MediatorChoice {
        kind_label: OrgKind::parse(&r.kind).map_or("其他", OrgKind::label_zh),
        county_code: r.county_code,
        mediator: to(r.id),
        kind: r.kind,
        name: r.name,
    }
}

pub(super) fn cadre_choice(r: CadreRow) -> MediatorChoice {
    MediatorChoice {
        kind_label: MediatorKind::Person.label_zh(),
        county_code: r.county_code,
        mediator: Mediator::Person(r.id),
        kind: MediatorKind::Person.as_str().to_owned(),
        name: r.name,
    }
}

pub(super) fn mediator_view(m: MediatorRow) -> MediatorView {
    MediatorView {
        kind_label: m.mediator.kind().label_zh(),
        mediator: m.mediator,
        name: m.name,
        assigned_at: m.assigned_at,
        assigned_by_name: m.assigned_by_name,
    }
}
