//! Mediation cases (矛盾调解), end to end: intake, mediators, sessions, outcome, follow-up,
//! and success rates per studio, team and subtree for any period, on screen and in Excel.
//!
//! Who may do what: [`Permission::Mediate`] takes in cases and records everything after;
//! [`Permission::ViewServices`] reads cases and figures; [`Permission::Export`] exports.
//! A case belongs to the unit where the dispute arose and is visible exactly where that
//! unit is. Mediators come from the caller's scope: retired cadres living there, and the
//! cadre studios (老干部工作室) and volunteer teams of the case's county.
//!
//! The success rate is defined once, in [`yinling_domain::mediation`]: cases concluded as
//! 调解成功 in the period ÷ all cases concluded in the period, always shown with its counts.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde::{Deserialize, Serialize};
use yinling_domain::{
    mediation::{
        CaseAction, CaseStatus, DisputeCategory, MediatorKind, Outcome, OutcomeCounts, PartySide,
        Period, TransitionError, transition,
    },
    org::{OrgKind, OrgPath},
    role::Permission,
    scope::Scope,
};
use yinling_store::{
    audit as store_audit,
    ids::{self, Seq},
    mediation::{
        self as store, CaseFilter, CaseRow, FollowupRow, MediatorRow, NewCase, NewFollowup,
        NewMediator, NewParty, NewSession, PickRow,
    },
    org::{self as store_org, NewOrgUnit, OrgUnitRow},
    people as store_people, places as store_places,
};

use crate::{
    App, AppError, AppResult, Caller, Page, PageRequest, audit::Event, people::parse_key,
    text::TextKind,
};

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

/// A row of the case list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseListItem {
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

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyView {
    pub seq: i64,
    pub side: String,
    pub side_label: &'static str,
    pub name: String,
    /// The linked person file, when there is one (same county as the case).
    pub person_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediatorView {
    pub kind: String,
    pub kind_label: &'static str,
    pub mediator_id: i64,
    pub name: String,
    pub assigned_at: i64,
    pub assigned_by_name: String,
}

/// Someone present at a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresentMediator {
    pub kind: MediatorKind,
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    pub id: i64,
    pub held_on: String,
    pub present: Vec<PresentMediator>,
    pub note: String,
    pub recorded_at: i64,
    pub recorded_by_name: String,
}

/// What the caller may do next on a case (the state machine applied to its status).
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A party to a dispute. With `person_id` (a person file of the case's county the caller
/// may see) the name is taken from the file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyInput {
    pub side: PartySide,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub person_id: Option<i64>,
}

/// A mediator to assign: a retired cadre's person id, or a studio's or team's unit id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediatorRef {
    pub kind: MediatorKind,
    pub id: i64,
}

/// Taking in a case (受理).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseInput {
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
    pub parties: Vec<PartyInput>,
    /// Mediators to assign at once (optional).
    #[serde(default)]
    pub mediators: Vec<MediatorRef>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignInput {
    /// The case version read.
    pub version: i64,
    pub mediators: Vec<MediatorRef>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInput {
    pub version: i64,
    pub held_on: NaiveDate,
    /// Which of the assigned mediators were there.
    pub present: Vec<MediatorRef>,
    pub note: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A success rate with the counts it comes from.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateLine {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
    /// For subtrees the unit kind; for mediators person, studio or team.
    pub kind: String,
    pub kind_label: &'static str,
    pub rate: Rate,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsUnit {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
}

/// Success rates of a subtree over a period.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A choice for the mediator picker or the intake form's unit picker.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PickItem {
    pub county_code: i64,
    pub id: i64,
    pub kind: String,
    pub kind_label: &'static str,
    pub name: String,
}

/// Who may be assigned to a case.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediatorChoices {
    pub studios: Vec<PickItem>,
    pub teams: Vec<PickItem>,
    pub cadres: Vec<PickItem>,
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

fn category_label(s: &str) -> &'static str {
    DisputeCategory::parse(s).map_or("其他", DisputeCategory::label_zh)
}

fn status_label(s: &str) -> &'static str {
    CaseStatus::parse(s).map_or("未知", CaseStatus::label_zh)
}

fn outcome_label(s: Option<&str>) -> Option<&'static str> {
    s.and_then(Outcome::parse).map(Outcome::label_zh)
}

fn parse_day(s: &str, field: &'static str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            "invalid_date",
            field,
            "日期格式不正确，请按“年-月-日”填写，例如2026-07-01",
        )
    })
}

fn opt_day(s: &Option<String>, field: &'static str) -> AppResult<Option<NaiveDate>> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => parse_day(v, field).map(Some),
        None => Ok(None),
    }
}

/// Free text: trimmed, within `min..=max` characters, through the one text checker (no
/// invisible characters; no phone or ID numbers; newlines only where `kind` allows them).
fn text(
    s: &str,
    kind: TextKind,
    field: &'static str,
    what: &str,
    min: usize,
    max: usize,
) -> AppResult<String> {
    let t = s.trim().to_owned();
    let n = t.chars().count();
    if n < min {
        return Err(AppError::invalid(
            "required",
            field,
            if min <= 1 {
                format!("请填写{what}")
            } else {
                format!("请填写{what}，至少{min}个字")
            },
        ));
    }
    if n > max {
        return Err(AppError::invalid(
            "too_long",
            field,
            format!("{what}最多{max}个字"),
        ));
    }
    crate::text::check(&t, kind, field, what)?;
    Ok(t)
}

fn opt_text(
    s: Option<&str>,
    kind: TextKind,
    field: &'static str,
    what: &str,
    max: usize,
) -> AppResult<Option<String>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => text(v, kind, field, what, 1, max).map(Some),
        None => Ok(None),
    }
}

fn refused(e: TransitionError) -> AppError {
    let code = match e {
        TransitionError::Closed { .. } => "case_closed",
        TransitionError::NoMediators => "no_mediators",
        TransitionError::NotMediatedYet => "not_mediated_yet",
        TransitionError::NotConcluded => "not_concluded",
    };
    AppError::conflict(code, Some("status"), e.to_string())
}

fn org_path(s: &str) -> AppResult<OrgPath> {
    OrgPath::parse(s).map_err(|e| AppError::Internal(e.to_string()))
}

fn pick(r: PickRow) -> PickItem {
    PickItem {
        kind_label: match r.kind.as_str() {
            "person" => MediatorKind::Person.label_zh(),
            k => OrgKind::parse(k).map_or("其他", OrgKind::label_zh),
        },
        county_code: r.county_code,
        id: r.id,
        kind: r.kind,
        name: r.name,
    }
}

/// A mediator resolved and checked, ready to insert.
struct Resolved {
    kind: MediatorKind,
    id: i64,
    path: String,
    name: String,
}

impl App {
    /// A case the caller may read (`ViewServices`) or work on (`Mediate`). Out of scope
    /// looks the same as missing; readable but not workable is forbidden.
    async fn case_for(
        &self,
        caller: &Caller,
        p: Permission,
        county: i64,
        id: i64,
    ) -> AppResult<CaseRow> {
        let not_found = AppError::NotFound {
            what: "调解案件"
        };
        let case = store::get_case(&mut self.store().read(), county, id)
            .await?
            .ok_or(not_found)?;
        let path = org_path(&case.path)?;
        if caller.scope(p).covers(&path) {
            return Ok(case);
        }
        if caller.scope(Permission::ViewServices).covers(&path) {
            return Err(AppError::forbidden("您无权办理该调解案件"));
        }
        Err(AppError::NotFound {
            what: "调解案件"
        })
    }

    /// The caller's scope for `p`, narrowed to a unit ("county/id") when one is given.
    async fn mediation_scope(
        &self,
        caller: &Caller,
        p: Permission,
        unit: Option<&str>,
    ) -> AppResult<(Scope, Option<OrgUnitRow>)> {
        let scope = caller.scope(p);
        if scope.is_empty() {
            return Err(AppError::forbidden("您无权查看矛盾调解案件"));
        }
        match unit.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok((scope, None)),
            Some(key) => {
                let (c, i) = parse_key(key).ok_or_else(|| {
                    AppError::invalid("invalid_unit", "unit", "组织参数格式不正确")
                })?;
                let unit = store_org::get(&mut self.store().read(), c, i)
                    .await?
                    .ok_or(AppError::NotFound { what: "组织" })?;
                let path = org_path(&unit.path)?;
                let narrowed = scope.narrow_to(&path);
                if narrowed.is_empty() {
                    return Err(AppError::NotFound { what: "组织" });
                }
                Ok((narrowed, Some(unit)))
            }
        }
    }

    /// The case list: filters inside the caller's scope, newest intake first.
    pub async fn list_mediation_cases(
        &self,
        caller: &Caller,
        q: &CaseQuery,
        page: PageRequest,
    ) -> AppResult<Page<CaseListItem>> {
        let (scope, _) = self
            .mediation_scope(caller, Permission::ViewServices, q.unit.as_deref())
            .await?;
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let status = nonempty(&q.status);
        if status
            .as_deref()
            .is_some_and(|s| CaseStatus::parse(s).is_none())
        {
            return Err(AppError::invalid(
                "invalid_status",
                "status",
                "请选择有效的办理状态",
            ));
        }
        let category = nonempty(&q.category);
        let category = match category {
            Some(c) => Some(
                DisputeCategory::parse(&c)
                    .ok_or_else(|| {
                        AppError::invalid("invalid_category", "category", "请选择有效的纠纷类别")
                    })?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        };
        let outcome = nonempty(&q.outcome);
        if outcome
            .as_deref()
            .is_some_and(|s| Outcome::parse(s).is_none())
        {
            return Err(AppError::invalid(
                "invalid_outcome",
                "outcome",
                "请选择有效的调解结果",
            ));
        }
        let from = opt_day(&q.from, "from")?;
        let to = opt_day(&q.to, "to")?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(AppError::invalid(
                "invalid_period",
                "from",
                "开始日期不能晚于结束日期",
            ));
        }
        let mediator = match nonempty(&q.mediator) {
            Some(m) => {
                let (k, id) = m
                    .split_once('/')
                    .and_then(|(k, id)| Some((MediatorKind::parse(k)?, id.parse::<i64>().ok()?)))
                    .ok_or_else(|| {
                        AppError::invalid("invalid_mediator", "mediator", "调解员参数格式不正确")
                    })?;
                Some((k.as_str().to_owned(), id))
            }
            None => None,
        };
        let filter = CaseFilter {
            status,
            category,
            outcome,
            intake_from: from.map(|d| d.to_string()),
            intake_to: to.map(|d| d.to_string()),
            mediator,
        };
        let mut exec = self.store().read();
        let (rows, total) =
            store::list_cases(&mut exec, &scope, &filter, page.per_page, page.offset()).await?;
        let keys: Vec<(i64, i64)> = rows.iter().map(|r| (r.county_code, r.id)).collect();
        let names = store::mediator_names(&mut exec, &keys).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let mediators = names
                    .iter()
                    .filter(|(c, id, _)| *c == r.county_code && *id == r.id)
                    .map(|(_, _, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join("、");
                CaseListItem {
                    category_label: category_label(&r.category),
                    status_label: status_label(&r.status),
                    outcome_label: outcome_label(r.outcome.as_deref()),
                    county_code: r.county_code,
                    id: r.id,
                    unit_name: r.unit_name,
                    category: r.category,
                    summary: r.summary,
                    intake_on: r.intake_on,
                    status: r.status,
                    outcome: r.outcome,
                    concluded_on: r.concluded_on,
                    mediators,
                }
            })
            .collect();
        Ok(Page {
            items,
            total,
            total_is_lower_bound: false,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// A case with its parties, mediators, sessions and follow-ups.
    pub async fn mediation_case(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
    ) -> AppResult<CaseView> {
        let case = self
            .case_for(caller, Permission::ViewServices, county, id)
            .await?;
        let mut exec = self.store().read();
        let parties = store::parties(&mut exec, county, id)
            .await?
            .into_iter()
            .map(|p| PartyView {
                side_label: PartySide::parse(&p.side).map_or("当事人", PartySide::label_zh),
                seq: p.seq,
                side: p.side,
                name: p.name,
                person_id: p.person_id,
            })
            .collect();
        let mediators: Vec<MediatorView> = store::mediators(&mut exec, county, id)
            .await?
            .into_iter()
            .map(mediator_view)
            .collect();
        let sessions = store::sessions(&mut exec, county, id)
            .await?
            .into_iter()
            .map(|s| SessionView {
                present: serde_json::from_str(&s.present).unwrap_or_default(),
                id: s.id,
                held_on: s.held_on,
                note: s.note,
                recorded_at: s.recorded_at,
                recorded_by_name: s.recorded_by_name,
            })
            .collect();
        let followups = store::followups(&mut exec, county, id).await?;
        let may = caller
            .scope(Permission::Mediate)
            .covers(&org_path(&case.path)?);
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Intake);
        let ok = |a| may && transition(status, a).is_ok();
        let allowed = AllowedActions {
            assign: ok(CaseAction::AssignMediators),
            session: ok(CaseAction::RecordSession {
                has_mediators: !mediators.is_empty(),
            }),
            conclude: ok(CaseAction::Conclude(Outcome::Referred)),
            refer_only: status == CaseStatus::Intake,
            follow_up: ok(CaseAction::FollowUp),
        };
        Ok(CaseView {
            category_label: category_label(&case.category),
            status_label: status_label(&case.status),
            outcome_label: outcome_label(case.outcome.as_deref()),
            case,
            parties,
            mediators,
            sessions,
            followups,
            allowed,
        })
    }

    /// Units where the caller may take in a case (community and below), for the form.
    pub async fn mediation_units(&self, caller: &Caller) -> AppResult<Vec<PickItem>> {
        let scope = caller.scope(Permission::Mediate);
        if scope.is_empty() {
            return Err(AppError::forbidden("您无权受理矛盾纠纷"));
        }
        let kinds: Vec<&str> = OrgKind::ALL
            .into_iter()
            .filter(|k| k.is_home())
            .map(OrgKind::as_str)
            .collect();
        Ok(
            store::units_of_kinds(&mut self.store().read(), &scope, &kinds, 500)
                .await?
                .into_iter()
                .map(pick)
                .collect(),
        )
    }

    /// Who may be assigned to a case: the case county's studios and teams, and the retired
    /// cadres living in the caller's scope.
    pub async fn mediator_choices(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
    ) -> AppResult<MediatorChoices> {
        let case = self
            .case_for(caller, Permission::Mediate, county, id)
            .await?;
        let mut exec = self.store().read();
        let county_scope = Scope::from_paths([crate::county_path(case.county_code)]);
        let units = store::units_of_kinds(
            &mut exec,
            &county_scope,
            &[
                OrgKind::CadreStudio.as_str(),
                OrgKind::VolunteerTeam.as_str(),
            ],
            500,
        )
        .await?;
        let (studios, teams): (Vec<PickRow>, Vec<PickRow>) = units
            .into_iter()
            .partition(|u| u.kind == OrgKind::CadreStudio.as_str());
        let cadres = store::retired_cadres(
            &mut exec,
            &caller
                .scope(Permission::Mediate)
                .narrow_to(&crate::county_path(case.county_code)),
            300,
        )
        .await?;
        Ok(MediatorChoices {
            studios: studios.into_iter().map(pick).collect(),
            teams: teams.into_iter().map(pick).collect(),
            cadres: cadres.into_iter().map(pick).collect(),
        })
    }

    /// Checks each mediator exists, fits its kind and lies in the caller's reach: a retired
    /// cadre living in the caller's `Mediate` scope, or a studio or team of the case's county.
    async fn resolve_mediators(
        &self,
        caller: &Caller,
        county: i64,
        refs: &[MediatorRef],
        already: &[MediatorRow],
    ) -> AppResult<Vec<Resolved>> {
        if refs.len() > 10 {
            return Err(AppError::invalid(
                "too_many_mediators",
                "mediators",
                "一次最多指派10名（个）调解员",
            ));
        }
        let scope = caller.scope(Permission::Mediate);
        let mut exec = self.store().read();
        let mut out: Vec<Resolved> = Vec::with_capacity(refs.len());
        for r in refs {
            if out.iter().any(|m| m.kind == r.kind && m.id == r.id)
                || already
                    .iter()
                    .any(|m| m.kind == r.kind.as_str() && m.mediator_id == r.id)
            {
                return Err(AppError::conflict(
                    "mediator_assigned",
                    Some("mediators"),
                    "该调解员已指派到本案，不能重复指派",
                ));
            }
            let resolved = match r.kind {
                MediatorKind::Person => {
                    let p = store_people::get(&mut exec, county, r.id)
                        .await?
                        .filter(|p| OrgPath::parse(&p.path).is_ok_and(|pp| scope.covers(&pp)))
                        .ok_or(AppError::NotFound { what: "调解员" })?;
                    if !store::is_retired_cadre(&mut exec, county, r.id).await? {
                        return Err(AppError::invalid(
                            "not_a_retired_cadre",
                            "mediators",
                            format!("{}的档案中没有“离退休干部”身份，不能指派为调解员", p.name),
                        ));
                    }
                    if p.status != "active" {
                        return Err(AppError::invalid(
                            "person_inactive",
                            "mediators",
                            format!("{}的档案已不在册，不能指派为调解员", p.name),
                        ));
                    }
                    Resolved {
                        kind: r.kind,
                        id: r.id,
                        path: p.path,
                        name: p.name,
                    }
                }
                MediatorKind::Studio | MediatorKind::Team => {
                    let want = if r.kind == MediatorKind::Studio {
                        OrgKind::CadreStudio
                    } else {
                        OrgKind::VolunteerTeam
                    };
                    // Any studio or team of the case's county: the county's bureau keeps
                    // them, not the community where the dispute arose.
                    let u = store_org::get(&mut exec, county, r.id).await?.ok_or(
                        AppError::NotFound {
                            what: "调解组织"
                        },
                    )?;
                    if u.kind != want.as_str() {
                        return Err(AppError::invalid(
                            "wrong_mediator_kind",
                            "mediators",
                            format!("“{}”不是{}", u.name, want.label_zh()),
                        ));
                    }
                    Resolved {
                        kind: r.kind,
                        id: r.id,
                        path: u.path,
                        name: u.name,
                    }
                }
            };
            out.push(resolved);
        }
        Ok(out)
    }

    /// Takes in a case (受理). Returns (county, id).
    pub async fn create_mediation_case(
        &self,
        caller: &Caller,
        input: CaseInput,
    ) -> AppResult<(i64, i64)> {
        if !caller.may(Permission::Mediate) {
            return Err(AppError::forbidden("您无权受理矛盾纠纷"));
        }
        let county = input.unit_county_code;
        let unit = store_org::get(&mut self.store().read(), county, input.unit_id)
            .await?
            .ok_or(AppError::NotFound { what: "组织" })?;
        let path = org_path(&unit.path)?;
        if !caller.scope(Permission::Mediate).covers(&path) {
            if caller.scope(Permission::ViewServices).covers(&path) {
                return Err(AppError::forbidden("您无权在该组织受理矛盾纠纷"));
            }
            return Err(AppError::NotFound { what: "组织" });
        }
        if !OrgKind::parse(&unit.kind).is_some_and(OrgKind::is_home) {
            return Err(AppError::invalid(
                "not_an_area",
                "unit",
                "矛盾纠纷须登记在发生地所在的社区、村、小区或网格",
            ));
        }
        if let Some(pid) = input.place_id {
            store_places::get(&mut self.store().read(), county, pid)
                .await?
                .filter(|pl| OrgPath::parse(&pl.path).is_ok_and(|pp| pp.is_within(&path)))
                .ok_or(AppError::NotFound { what: "住所" })?;
        }
        let summary = text(
            &input.summary,
            TextKind::Lines,
            "summary",
            "纠纷简要情况",
            5,
            500,
        )?;
        let location = opt_text(
            input.location.as_deref(),
            TextKind::Line,
            "location",
            "发生地点",
            60,
        )?;
        let today = self.clock().today();
        let intake_on = input.intake_on.unwrap_or(today);
        if intake_on > today {
            return Err(AppError::invalid(
                "date_in_future",
                "intake_on",
                "受理日期不能晚于今天",
            ));
        }
        if intake_on < today - chrono::Days::new(3660) {
            return Err(AppError::invalid(
                "date_too_old",
                "intake_on",
                "受理日期不能早于十年前",
            ));
        }
        let taken_by_name = match input.taken_by_name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => text(n, TextKind::Line, "taken_by_name", "受理人", 1, 20)?,
            _ => caller.display_name.clone(),
        };
        if input.parties.is_empty() {
            return Err(AppError::invalid(
                "no_parties",
                "parties",
                "请至少填写一名当事人",
            ));
        }
        if input.parties.len() > 10 {
            return Err(AppError::invalid(
                "too_many_parties",
                "parties",
                "当事人最多10名",
            ));
        }
        let view_people = caller.scope(Permission::ViewPeople);
        let mediate = caller.scope(Permission::Mediate);
        let mut parties = Vec::with_capacity(input.parties.len());
        for (i, p) in input.parties.iter().enumerate() {
            let name = match p.person_id {
                Some(pid) => {
                    store_people::get(&mut self.store().read(), county, pid)
                        .await?
                        .filter(|person| {
                            OrgPath::parse(&person.path)
                                .is_ok_and(|pp| view_people.covers(&pp) || mediate.covers(&pp))
                        })
                        .ok_or(AppError::NotFound {
                            what: "当事人档案"
                        })?
                        .name
                }
                None => {
                    let n = text(&p.name, TextKind::Line, "parties", "当事人姓名", 1, 20)?;
                    if n.chars().any(|c| c.is_ascii_digit()) {
                        return Err(AppError::invalid(
                            "invalid_party_name",
                            "parties",
                            "当事人姓名中不能有数字",
                        ));
                    }
                    n
                }
            };
            parties.push((i as i64 + 1, p.side, name, p.person_id));
        }
        let mediators = self
            .resolve_mediators(caller, county, &input.mediators, &[])
            .await?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let id = ids::next(&mut tx.exec(), Seq::MediationCases).await?;
        let new = NewCase {
            county_code: county,
            id,
            path: unit.path.clone(),
            unit_id: unit.id,
            place_id: input.place_id,
            location,
            category: input.category.as_str().to_owned(),
            summary,
            intake_on: intake_on.to_string(),
            taken_by: caller.account_id,
            taken_by_name,
            status: CaseStatus::Intake.as_str().to_owned(),
            outcome: None,
            concluded_on: None,
            outcome_note: None,
            referred_to: None,
            followed_up_on: None,
            agreement_holds: None,
            synthetic: false,
            now,
        };
        store::insert_cases(&mut tx.exec(), std::slice::from_ref(&new)).await?;
        let party_rows: Vec<NewParty> = parties
            .iter()
            .map(|(seq, side, name, person)| NewParty {
                county_code: county,
                case_id: id,
                seq: *seq,
                side: side.as_str().to_owned(),
                name: name.clone(),
                person_id: *person,
            })
            .collect();
        store::insert_parties(&mut tx.exec(), &party_rows).await?;
        store::insert_mediators(
            &mut tx.exec(),
            &new_mediators(county, id, &mediators, &caller.display_name, now),
        )
        .await?;
        let after = serde_json::json!({
            "unit": new.path, "category": new.category, "summary": new.summary,
            "intake_on": new.intake_on, "parties": parties.iter().map(|p| &p.2).collect::<Vec<_>>(),
            "mediators": mediators.iter().map(|m| format!("{}/{}", m.kind.as_str(), m.id)).collect::<Vec<_>>(),
        });
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "mediation.create",
                entity: "mediation_case",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(&after),
                detail: Some(format!("category={}", new.category)),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok((county, id))
    }

    /// Assigns mediators to an open case.
    pub async fn assign_mediators(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: AssignInput,
    ) -> AppResult<()> {
        let case = self
            .case_for(caller, Permission::Mediate, county, id)
            .await?;
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Intake);
        let next = transition(status, CaseAction::AssignMediators).map_err(refused)?;
        if input.mediators.is_empty() {
            return Err(AppError::invalid(
                "no_mediators",
                "mediators",
                "请选择要指派的调解员或调解组织",
            ));
        }
        let already = store::mediators(&mut self.store().read(), county, id).await?;
        let resolved = self
            .resolve_mediators(caller, county, &input.mediators, &already)
            .await?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        store::bump(
            &mut tx.exec(),
            county,
            id,
            input.version,
            next.as_str(),
            now,
        )
        .await?;
        store::insert_mediators(
            &mut tx.exec(),
            &new_mediators(county, id, &resolved, &caller.display_name, now),
        )
        .await?;
        let after = serde_json::json!({"mediators": resolved.iter().map(|m| format!("{}/{}", m.kind.as_str(), m.id)).collect::<Vec<_>>()});
        self.case_event(&mut tx, caller, county, id, "mediation.assign", &after)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a mediation session (调解过程). Refused on a concluded case.
    pub async fn record_session(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: SessionInput,
    ) -> AppResult<i64> {
        let case = self
            .case_for(caller, Permission::Mediate, county, id)
            .await?;
        let assigned = store::mediators(&mut self.store().read(), county, id).await?;
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Intake);
        let next = transition(
            status,
            CaseAction::RecordSession {
                has_mediators: !assigned.is_empty(),
            },
        )
        .map_err(refused)?;
        self.check_day(
            input.held_on,
            &case.intake_on,
            "held_on",
            "调解日期",
            "受理日期",
        )?;
        if input.present.is_empty() {
            return Err(AppError::invalid(
                "no_one_present",
                "present",
                "请选择到场的调解员",
            ));
        }
        let mut present = Vec::with_capacity(input.present.len());
        for r in &input.present {
            let m = assigned
                .iter()
                .find(|m| m.kind == r.kind.as_str() && m.mediator_id == r.id)
                .ok_or_else(|| {
                    AppError::invalid(
                        "not_assigned",
                        "present",
                        "到场的调解员须是本案已指派的调解员或调解组织",
                    )
                })?;
            if !present
                .iter()
                .any(|p: &PresentMediator| p.kind == r.kind && p.id == r.id)
            {
                present.push(PresentMediator {
                    kind: r.kind,
                    id: r.id,
                    name: m.name.clone(),
                });
            }
        }
        let note = text(&input.note, TextKind::Lines, "note", "调解情况", 2, 1000)?;
        let present_json =
            serde_json::to_string(&present).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        store::bump(
            &mut tx.exec(),
            county,
            id,
            input.version,
            next.as_str(),
            now,
        )
        .await?;
        let sid = ids::next(&mut tx.exec(), Seq::MediationSessions).await?;
        store::insert_sessions(
            &mut tx.exec(),
            &[NewSession {
                county_code: county,
                id: sid,
                case_id: id,
                held_on: input.held_on.to_string(),
                present: present_json.clone(),
                note: note.clone(),
                recorded_by_name: caller.display_name.clone(),
                now,
            }],
        )
        .await?;
        let after = serde_json::json!({"session": sid, "held_on": input.held_on, "present": present_json, "note": note});
        self.case_event(&mut tx, caller, county, id, "mediation.session", &after)
            .await?;
        tx.commit().await?;
        Ok(sid)
    }

    /// Records how mediation ended.
    pub async fn conclude_case(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: OutcomeInput,
    ) -> AppResult<()> {
        let case = self
            .case_for(caller, Permission::Mediate, county, id)
            .await?;
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Intake);
        let next = transition(status, CaseAction::Conclude(input.outcome)).map_err(refused)?;
        self.check_day(
            input.concluded_on,
            &case.intake_on,
            "concluded_on",
            "办结日期",
            "受理日期",
        )?;
        let sessions = store::sessions(&mut self.store().read(), county, id).await?;
        if let Some(last) = sessions.iter().map(|s| s.held_on.as_str()).max() {
            self.check_day(
                input.concluded_on,
                last,
                "concluded_on",
                "办结日期",
                "最后一次调解的日期",
            )?;
        }
        let note = opt_text(
            input.note.as_deref(),
            TextKind::Lines,
            "note",
            "结果说明",
            500,
        )?;
        let referred_to = if input.outcome == Outcome::Referred {
            Some(
                opt_text(
                    input.referred_to.as_deref(),
                    TextKind::Line,
                    "referred_to",
                    "移交单位",
                    40,
                )?
                .ok_or_else(|| {
                    AppError::invalid(
                        "referred_to_required",
                        "referred_to",
                        "选择“移交”时，请填写移交到哪个单位（如司法所、人民法院）",
                    )
                })?,
            )
        } else {
            None
        };
        let now = self.now();
        let mut tx = self.store().begin().await?;
        store::bump(
            &mut tx.exec(),
            county,
            id,
            input.version,
            next.as_str(),
            now,
        )
        .await?;
        store::set_outcome(
            &mut tx.exec(),
            county,
            id,
            input.outcome.as_str(),
            &input.concluded_on.to_string(),
            note.as_deref(),
            referred_to.as_deref(),
        )
        .await?;
        let after = serde_json::json!({"outcome": input.outcome.as_str(), "concluded_on": input.concluded_on, "note": note, "referred_to": referred_to});
        self.case_event(&mut tx, caller, county, id, "mediation.conclude", &after)
            .await?;
        self.entitle_mediators(&mut tx, county, id, input.outcome, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records what the county's earning rule for this outcome awards each mediator who is a
    /// person (信用+积分 for 参与调解纠纷), once per case and person; the ledger job takes it.
    async fn entitle_mediators(
        &self,
        tx: &mut yinling_store::Tx,
        county: i64,
        id: i64,
        outcome: Outcome,
        now: i64,
    ) -> AppResult<()> {
        let Some(rule) = yinling_store::ledger::earning_rule(
            &mut tx.exec(),
            county,
            "mediation",
            outcome.as_str(),
        )
        .await?
        .filter(|r| r.points > 0 || r.minutes > 0) else {
            return Ok(());
        };
        for m in store::mediators(&mut tx.exec(), county, id).await? {
            if m.kind != "person" {
                continue;
            }
            let eid = yinling_store::ids::next(
                &mut tx.exec(),
                yinling_store::ids::Seq::AwardEntitlements,
            )
            .await?;
            yinling_store::orders::insert_entitlement(
                &mut tx.exec(),
                &yinling_store::orders::EntitlementRow {
                    county_code: county,
                    id: eid,
                    source_kind: "mediation".to_owned(),
                    source_id: id,
                    person_id: m.mediator_id,
                    points: rule.points,
                    hours_minutes: rule.minutes,
                    status: "pending".to_owned(),
                    created_at: now,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Records a follow-up visit (回访) to a concluded case.
    pub async fn follow_up_case(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: FollowUpInput,
    ) -> AppResult<i64> {
        let case = self
            .case_for(caller, Permission::Mediate, county, id)
            .await?;
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Intake);
        let next = transition(status, CaseAction::FollowUp).map_err(refused)?;
        let concluded_on = case.concluded_on.clone().unwrap_or(case.intake_on.clone());
        self.check_day(
            input.visited_on,
            &concluded_on,
            "visited_on",
            "回访日期",
            "办结日期",
        )?;
        let has_agreement = case
            .outcome
            .as_deref()
            .and_then(Outcome::parse)
            .is_some_and(Outcome::has_agreement);
        let holds = match (has_agreement, input.holds) {
            (true, None) => {
                return Err(AppError::invalid(
                    "holds_required",
                    "holds",
                    "请选择调解协议是否得到履行",
                ));
            }
            (true, h) => h,
            (false, _) => None,
        };
        let note = text(&input.note, TextKind::Lines, "note", "回访情况", 2, 500)?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        store::bump(
            &mut tx.exec(),
            county,
            id,
            input.version,
            next.as_str(),
            now,
        )
        .await?;
        let fid = ids::next(&mut tx.exec(), Seq::MediationFollowups).await?;
        store::insert_followups(
            &mut tx.exec(),
            &[NewFollowup {
                county_code: county,
                id: fid,
                case_id: id,
                visited_on: input.visited_on.to_string(),
                holds,
                note: note.clone(),
                recorded_by_name: caller.display_name.clone(),
                now,
            }],
        )
        .await?;
        store::set_followed_up(
            &mut tx.exec(),
            county,
            id,
            &input.visited_on.to_string(),
            holds,
        )
        .await?;
        let after = serde_json::json!({"follow_up": fid, "visited_on": input.visited_on, "holds": holds, "note": note});
        self.case_event(&mut tx, caller, county, id, "mediation.follow_up", &after)
            .await?;
        tx.commit().await?;
        Ok(fid)
    }

    /// A date that may be neither in the future nor before `not_before` (an ISO date).
    fn check_day(
        &self,
        day: NaiveDate,
        not_before: &str,
        field: &'static str,
        what: &str,
        before_what: &str,
    ) -> AppResult<()> {
        if day > self.clock().today() {
            return Err(AppError::invalid(
                "date_in_future",
                field,
                format!("{what}不能晚于今天"),
            ));
        }
        if day.to_string().as_str() < not_before {
            return Err(AppError::invalid(
                "date_too_early",
                field,
                format!("{what}不能早于{before_what}（{not_before}）"),
            ));
        }
        Ok(())
    }

    async fn case_event(
        &self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        county: i64,
        id: i64,
        action: &'static str,
        after: &serde_json::Value,
    ) -> AppResult<()> {
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action,
                entity: "mediation_case",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        Ok(())
    }

    /// The period of a stats query: both ends included; by default the 365 days to today.
    pub fn stats_period(&self, q: &StatsQuery) -> AppResult<Period> {
        let today = self.clock().today();
        let to = opt_day(&q.to, "to")?.unwrap_or(today);
        let from = opt_day(&q.from, "from")?.unwrap_or(Period::last_year(to).from);
        Period::new(from, to)
            .map_err(|e| AppError::invalid("invalid_period", "from", e.to_string()))
    }

    /// Success rates over a period: the subtree's total, each child unit, each studio, team
    /// and cadre. Every figure is one grouped query inside the caller's scope.
    pub async fn mediation_stats(
        &self,
        caller: &Caller,
        q: &StatsQuery,
    ) -> AppResult<MediationStats> {
        let period = self.stats_period(q)?;
        let (scope, unit) = self
            .mediation_scope(caller, Permission::ViewServices, q.unit.as_deref())
            .await?;
        let mut exec = self.store().read();
        // Without a unit, a caller with one area looks at that area.
        let unit = match unit {
            Some(u) => Some(u),
            None => match scope.ranges() {
                [only] => match only.path.county_code() {
                    Some(c) => store_org::get_by_path(&mut exec, c, only.path.as_str()).await?,
                    None => None,
                },
                _ => None,
            },
        };
        let (from, to) = (period.from.to_string(), period.to.to_string());
        let total = store::outcome_counts(&mut exec, &scope, &from, &to).await?;
        let (taken_in, open) = store::intake_and_open(&mut exec, &scope, &from, &to).await?;
        let children = match &unit {
            Some(u) => store_org::children(&mut exec, u)
                .await?
                .into_iter()
                .filter(|c| OrgKind::parse(&c.kind).is_some_and(OrgKind::is_area))
                .collect(),
            None => Vec::new(),
        };
        let buckets: Vec<(i64, String)> = children
            .iter()
            .map(|c| (c.county_code, c.path.clone()))
            .collect();
        let by_bucket =
            store::outcome_counts_by_subtree(&mut exec, &scope, &buckets, &from, &to).await?;
        let subtrees = children
            .into_iter()
            .enumerate()
            .map(|(i, c)| RateLine {
                kind_label: OrgKind::parse(&c.kind).map_or("其他", OrgKind::label_zh),
                rate: by_bucket
                    .iter()
                    .find(|(b, _)| *b == i)
                    .map(|(_, n)| *n)
                    .unwrap_or_default()
                    .into(),
                county_code: c.county_code,
                id: c.id,
                name: c.name,
                kind: c.kind,
            })
            .collect();
        let mut studios = Vec::new();
        let mut teams = Vec::new();
        let mut cadres = Vec::new();
        for m in store::outcome_counts_by_mediator(&mut exec, &scope, &from, &to).await? {
            let kind = MediatorKind::parse(&m.kind).unwrap_or(MediatorKind::Person);
            let line = RateLine {
                county_code: m.county_code,
                id: m.mediator_id,
                name: m.name,
                kind: m.kind,
                kind_label: kind.label_zh(),
                rate: m.counts.into(),
            };
            match kind {
                MediatorKind::Studio => studios.push(line),
                MediatorKind::Team => teams.push(line),
                MediatorKind::Person => cadres.push(line),
            }
        }
        Ok(MediationStats {
            from: period.from,
            to: period.to,
            unit: unit.map(|u| StatsUnit {
                county_code: u.county_code,
                id: u.id,
                name: u.name,
            }),
            definition: RATE_DEFINITION,
            total: total.into(),
            taken_in,
            open,
            subtrees,
            studios,
            teams,
            cadres,
        })
    }

    /// The figures and the ledger of cases concluded in the period, as an .xlsx workbook.
    /// The export is audited.
    pub async fn export_mediation_xlsx(
        &self,
        caller: &Caller,
        q: &StatsQuery,
    ) -> AppResult<Vec<u8>> {
        if !caller.may(Permission::Export) {
            return Err(AppError::forbidden("您无权导出台账"));
        }
        let stats = self.mediation_stats(caller, q).await?;
        // Export scope: what the caller may both see and export.
        let (scope, _) = self
            .mediation_scope(caller, Permission::ViewServices, q.unit.as_deref())
            .await?;
        let export_scope = caller.scope(Permission::Export);
        if scope.ranges().iter().any(|r| !export_scope.covers(&r.path)) {
            return Err(AppError::forbidden("您无权导出该范围的台账"));
        }
        let limit = crate::export::MAX_EXPORT_ROWS;
        let cases = store::concluded_cases(
            &mut self.store().read(),
            &scope,
            &stats.from.to_string(),
            &stats.to.to_string(),
            limit + 1,
        )
        .await?;
        if cases.len() as i64 > limit {
            return Err(AppError::invalid(
                "export_too_large",
                "from",
                format!("导出结果超过{limit}条，请缩短统计期间后再导出"),
            ));
        }
        let keys: Vec<(i64, i64)> = cases.iter().map(|c| (c.county_code, c.id)).collect();
        let names = store::mediator_names(&mut self.store().read(), &keys).await?;
        let bytes = mediation_workbook(caller, self.now(), &stats, &cases, &names)
            .map_err(|e| AppError::Internal(format!("xlsx: {e}")))?;
        let county = scope
            .ranges()
            .first()
            .and_then(|r| r.single_county())
            .unwrap_or(0);
        let mut tx = self.store().begin().await?;
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "mediation.export",
                entity: "mediation_case",
                entity_key: "stats".into(),
                before: None,
                after: None,
                detail: Some(format!(
                    "from={} to={} unit={} rows={}",
                    stats.from,
                    stats.to,
                    q.unit.as_deref().unwrap_or(""),
                    cases.len()
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(bytes)
    }
}

fn mediator_view(m: MediatorRow) -> MediatorView {
    MediatorView {
        kind_label: MediatorKind::parse(&m.kind).map_or("调解员", MediatorKind::label_zh),
        kind: m.kind,
        mediator_id: m.mediator_id,
        name: m.name,
        assigned_at: m.assigned_at,
        assigned_by_name: m.assigned_by_name,
    }
}

fn new_mediators(
    county: i64,
    case_id: i64,
    resolved: &[Resolved],
    by: &str,
    now: i64,
) -> Vec<NewMediator> {
    resolved
        .iter()
        .map(|m| NewMediator {
            county_code: county,
            case_id,
            kind: m.kind.as_str().to_owned(),
            mediator_id: m.id,
            mediator_path: m.path.clone(),
            name: m.name.clone(),
            assigned_by_name: by.to_owned(),
            now,
        })
        .collect()
}

fn mediation_workbook(
    caller: &Caller,
    now: i64,
    stats: &MediationStats,
    cases: &[CaseRow],
    names: &[(i64, i64, String)],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_background_color("#DDEBF7");
    let wrap = Format::new().set_text_wrap();
    let sheet = wb.add_worksheet();
    sheet.set_name("调解成功率")?;
    let scope_name = stats
        .unit
        .as_ref()
        .map_or_else(|| "本人管辖范围".to_owned(), |u| u.name.clone());
    sheet.write_string_with_format(0, 0, format!("矛盾调解成功率（{scope_name}）"), &title)?;
    sheet.write_string(
        1,
        0,
        format!(
            "统计期间：{} 至 {}（按办结日期，起止日均含）　导出人：{}　导出时间：{}",
            stats.from,
            stats.to,
            caller.display_name,
            yinling_domain::time::format_minutes(now)
        ),
    )?;
    sheet.write_string_with_format(2, 0, stats.definition, &wrap)?;
    sheet.write_string(
        3,
        0,
        format!(
            "合计：{}　期间受理{}起　目前在办{}起",
            stats.total.summary, stats.taken_in, stats.open
        ),
    )?;
    let headers = [
        "类型",
        "名称",
        "办结",
        "调解成功",
        "部分达成",
        "调解不成",
        "移交",
        "成功率",
    ];
    let mut row = 5u32;
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(row, c as u16, *h, &head)?;
    }
    let groups: [(&str, &Vec<RateLine>); 4] = [
        ("下级组织", &stats.subtrees),
        ("老干部工作室", &stats.studios),
        ("志愿服务队", &stats.teams),
        ("离退休干部", &stats.cadres),
    ];
    for (group, lines) in groups {
        for l in lines {
            row += 1;
            sheet.write_string(row, 0, group)?;
            sheet.write_string(row, 1, &l.name)?;
            let c = l.rate.counts;
            for (i, n) in [c.concluded, c.success, c.partial, c.failed, c.referred]
                .iter()
                .enumerate()
            {
                sheet.write_number(row, 2 + i as u16, *n as f64)?;
            }
            sheet.write_string(row, 7, &l.rate.rate_label)?;
        }
    }
    for (c, w) in [12.0, 36.0, 8.0, 10.0, 10.0, 10.0, 8.0, 10.0]
        .iter()
        .enumerate()
    {
        sheet.set_column_width(c as u16, *w)?;
    }

    let ledger = wb.add_worksheet();
    ledger.set_name("办结案件台账")?;
    ledger.write_string_with_format(0, 0, "矛盾调解办结案件台账", &title)?;
    ledger.write_string(
        1,
        0,
        format!(
            "办结日期 {} 至 {}，共{}起",
            stats.from,
            stats.to,
            cases.len()
        ),
    )?;
    let headers = [
        "序号",
        "案件编号",
        "受理日期",
        "发生地",
        "纠纷类别",
        "简要情况",
        "调解组织/调解员",
        "办结日期",
        "调解结果",
        "移交单位",
        "回访日期",
        "协议履行",
    ];
    for (c, h) in headers.iter().enumerate() {
        ledger.write_string_with_format(3, c as u16, *h, &head)?;
    }
    for (i, c) in cases.iter().enumerate() {
        let r = 4 + i as u32;
        let mediators = names
            .iter()
            .filter(|(cc, id, _)| *cc == c.county_code && *id == c.id)
            .map(|(_, _, n)| n.as_str())
            .collect::<Vec<_>>()
            .join("、");
        ledger.write_number(r, 0, (i + 1) as f64)?;
        ledger.write_string(r, 1, format!("{}/{}", c.county_code, c.id))?;
        ledger.write_string(r, 2, &c.intake_on)?;
        ledger.write_string(r, 3, &c.unit_name)?;
        ledger.write_string(r, 4, category_label(&c.category))?;
        ledger.write_string(r, 5, &c.summary)?;
        ledger.write_string(r, 6, &mediators)?;
        ledger.write_string(r, 7, c.concluded_on.as_deref().unwrap_or(""))?;
        ledger.write_string(r, 8, outcome_label(c.outcome.as_deref()).unwrap_or(""))?;
        ledger.write_string(r, 9, c.referred_to.as_deref().unwrap_or(""))?;
        ledger.write_string(r, 10, c.followed_up_on.as_deref().unwrap_or(""))?;
        ledger.write_string(
            r,
            11,
            match c.agreement_holds {
                Some(true) => "履行",
                Some(false) => "未履行",
                None => "",
            },
        )?;
    }
    for (c, w) in [
        6.0, 14.0, 12.0, 24.0, 10.0, 40.0, 28.0, 12.0, 10.0, 14.0, 12.0, 10.0,
    ]
    .iter()
    .enumerate()
    {
        ledger.set_column_width(c as u16, *w)?;
    }
    ledger.set_freeze_panes(4, 0)?;
    wb.save_to_buffer()
}

/// One county's demo figures, from the source page.
struct DemoPlan {
    county: i64,
    /// The mediating studio or team, created under the county's 老干部局 when missing.
    mediator_kind: OrgKind,
    mediator_name: &'static str,
    concluded: usize,
    success: usize,
    partial: usize,
    failed: usize,
    /// Cases still open (taken in or being mediated): not in any rate.
    open: usize,
    summaries: &'static [(DisputeCategory, &'static str)],
}

const DEMO_PLANS: &[DemoPlan] = &[
    // 鱼台: 老当益壮“和事佬”老党员服务队, 调解矛盾42起，成功率90%以上 → 38 of 42 (90.5%).
    DemoPlan {
        county: 370827,
        mediator_kind: OrgKind::VolunteerTeam,
        mediator_name: "老当益壮“和事佬”老党员服务队",
        concluded: 42,
        success: 38,
        partial: 2,
        failed: 1,
        open: 3,
        summaries: &[
            (
                DisputeCategory::Neighbour,
                "邻居在楼道堆放杂物，双方多次争吵",
            ),
            (
                DisputeCategory::Neighbour,
                "楼上漏水殃及楼下，维修费用分担有分歧",
            ),
            (
                DisputeCategory::Land,
                "宅基地边界界桩位置不清，两户发生争执",
            ),
            (
                DisputeCategory::Family,
                "兄弟三人对老人赡养费用分担意见不一",
            ),
            (
                DisputeCategory::Neighbour,
                "邻里因饲养宠物噪音和卫生问题产生矛盾",
            ),
            (DisputeCategory::Property, "老旧小区停车位划分引发住户不满"),
        ],
    },
    // 曲阜: 参与“和为贵”调解46次，调解率达到96% → 44 of 46 (95.7%).
    DemoPlan {
        county: 370881,
        mediator_kind: OrgKind::CadreStudio,
        mediator_name: "“和为贵”调解工作室",
        concluded: 46,
        success: 44,
        partial: 1,
        failed: 1,
        open: 2,
        summaries: &[
            (DisputeCategory::Family, "婆媳因照看孩子方式不同产生矛盾"),
            (DisputeCategory::Neighbour, "相邻两户因排水沟走向发生争执"),
            (
                DisputeCategory::Property,
                "业主与物业因公共收益分配产生纠纷",
            ),
            (DisputeCategory::Family, "子女对老人房产处置意见不一"),
            (DisputeCategory::Marriage, "婚约解除后彩礼返还数额有争议"),
        ],
    },
    // 微山: 在社区设立“老幼矛盾调解”等工作室，解决邻里矛盾40余件 → 42 of 45.
    DemoPlan {
        county: 370826,
        mediator_kind: OrgKind::CadreStudio,
        mediator_name: "“老幼矛盾调解”工作室",
        concluded: 45,
        success: 42,
        partial: 2,
        failed: 0,
        open: 3,
        summaries: &[
            (
                DisputeCategory::Neighbour,
                "孩子在楼下踢球吵闹，老人午休受扰",
            ),
            (
                DisputeCategory::Neighbour,
                "广场舞音响音量过大，邻里意见较大",
            ),
            (DisputeCategory::Family, "祖孙两代在孩子教育问题上产生分歧"),
            (DisputeCategory::Neighbour, "电动车在楼道充电，邻居担心安全"),
            (DisputeCategory::Other, "渔船停靠位置引发两户渔民争执"),
        ],
    },
];

const PARTY_SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "孔", "颜", "孟"];
const PARTY_GIVEN: &[&str] = &["某某", "某", "某华", "某英", "某强", "某兰"];

impl App {
    /// Seeds synthetic mediation cases reproducing the source's figures: 鱼台 42 cases by
    /// the 老当益壮“和事佬”老党员服务队 with 38 successes (90.5%); 曲阜 46 by the “和为贵”调解
    /// 工作室 with 44 (95.7%, reported as 96%); 微山 45 by the “老幼矛盾调解”工作室 with 42, plus a
    /// few open cases each. Outcomes fall in the 330 days before today, so the stats page's
    /// default period (the last 365 days) shows exactly these figures. A studio or team the
    /// demo city lacks is created under the county's 老干部局. Counties absent from the
    /// database are skipped; a database that already holds mediation cases is left alone.
    /// Deterministic for a given `seed`. Parties are synthetic names (王某某), never linked to
    /// person files.
    pub async fn seed_demo_mediation(&self, seed: u64) -> AppResult<DemoMediationSummary> {
        let mut summary = DemoMediationSummary::default();
        let mut rng = StdRng::seed_from_u64(seed ^ 0x3ed1);
        let today = self.clock().today();
        let now = self.now();
        let system = Caller::system("demo");
        for plan in DEMO_PLANS {
            let mut exec = self.store().read();
            if store::count_in_county(&mut exec, plan.county).await? > 0 {
                summary.already_seeded = true;
                continue;
            }
            let cpath = crate::county_path(plan.county);
            let Some(county_unit) =
                store_org::get_by_path(&mut exec, plan.county, cpath.as_str()).await?
            else {
                continue;
            };
            let scope = Scope::from_paths([cpath.clone()]);
            let homes: Vec<PickRow> = store::units_of_kinds(
                &mut exec,
                &scope,
                &[
                    OrgKind::CommunityCommittee.as_str(),
                    OrgKind::VillageCommittee.as_str(),
                ],
                400,
            )
            .await?;
            if homes.is_empty() {
                continue;
            }
            let existing =
                store::units_of_kinds(&mut exec, &scope, &[plan.mediator_kind.as_str()], 1000)
                    .await?
                    .into_iter()
                    .find(|u| u.name == plan.mediator_name);
            let bureau =
                store::units_of_kinds(&mut exec, &scope, &[OrgKind::VeteranBureau.as_str()], 1)
                    .await?
                    .into_iter()
                    .next();
            let cadres = store::retired_cadres(&mut exec, &scope, 40).await?;

            let mut tx = self.store().begin().await?;
            let (mediator_id, mediator_path) = match existing {
                Some(u) => (u.id, u.path),
                None => {
                    let (parent_id, parent_path) = match &bureau {
                        Some(b) => (b.id, b.path.clone()),
                        None => (county_unit.id, county_unit.path.clone()),
                    };
                    let id = ids::next(&mut tx.exec(), Seq::OrgUnits).await?;
                    let code = OrgPath::segment_for(plan.mediator_kind, None, id);
                    let path = org_path(&parent_path)?.child(&code);
                    store_org::insert_many(
                        &mut tx.exec(),
                        &[NewOrgUnit {
                            county_code: plan.county,
                            id,
                            parent_county_code: Some(plan.county),
                            parent_id: Some(parent_id),
                            kind: plan.mediator_kind.as_str().to_owned(),
                            name: plan.mediator_name.to_owned(),
                            code,
                            path: path.to_string(),
                            depth: path.depth() as i64,
                            region_code: None,
                            address: None,
                            lat: None,
                            lng: None,
                            synthetic: true,
                            now,
                        }],
                    )
                    .await?;
                    summary.units_created += 1;
                    (id, path.to_string())
                }
            };
            let mediator_kind = if plan.mediator_kind == OrgKind::CadreStudio {
                MediatorKind::Studio
            } else {
                MediatorKind::Team
            };
            let n = plan.concluded + plan.open;
            let case_ids = ids::allocate(&mut tx.exec(), Seq::MediationCases, n).await?;
            let session_ids = ids::allocate(&mut tx.exec(), Seq::MediationSessions, n * 2).await?;
            let followup_ids = ids::allocate(&mut tx.exec(), Seq::MediationFollowups, n).await?;
            let mut outcomes: Vec<Outcome> = std::iter::repeat_n(Outcome::Success, plan.success)
                .chain(std::iter::repeat_n(Outcome::Partial, plan.partial))
                .chain(std::iter::repeat_n(Outcome::Failed, plan.failed))
                .chain(std::iter::repeat_n(
                    Outcome::Referred,
                    plan.concluded - plan.success - plan.partial - plan.failed,
                ))
                .collect();
            outcomes.shuffle(&mut rng);
            let (mut cases, mut parties, mut mediators, mut sessions, mut followups) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut sid = session_ids.into_iter();
            for (i, case_id) in case_ids.iter().copied().enumerate() {
                let home = &homes[rng.gen_range(0..homes.len())];
                let (category, summary_text) =
                    plan.summaries[rng.gen_range(0..plan.summaries.len())];
                let outcome = outcomes.get(i).copied();
                // Concluded cases: outcome 5–330 days ago; open ones taken in lately.
                let (intake, concluded) = match outcome {
                    Some(_) => {
                        let done = today - chrono::Days::new(rng.gen_range(5..=330));
                        (done - chrono::Days::new(rng.gen_range(1..=20)), Some(done))
                    }
                    None => (today - chrono::Days::new(rng.gen_range(0..=10)), None),
                };
                let first_session = intake + chrono::Days::new(1);
                let mediating = outcome.is_none() && i % 2 == 0;
                let followed = outcome.is_some_and(Outcome::has_agreement)
                    && concluded.is_some_and(|d| d + chrono::Days::new(30) <= today);
                let followed_on = concluded.map(|d| d + chrono::Days::new(30));
                let holds = followed.then(|| outcome != Some(Outcome::Partial) || i % 2 == 0);
                let status = match (outcome, followed, mediating) {
                    (Some(_), true, _) => CaseStatus::FollowedUp,
                    (Some(_), false, _) => CaseStatus::Concluded,
                    (None, _, true) => CaseStatus::Mediating,
                    (None, _, false) => CaseStatus::Intake,
                };
                cases.push(NewCase {
                    county_code: plan.county,
                    id: case_id,
                    path: home.path.clone(),
                    unit_id: home.id,
                    place_id: None,
                    location: None,
                    category: category.as_str().to_owned(),
                    summary: summary_text.to_owned(),
                    intake_on: intake.to_string(),
                    taken_by: None,
                    taken_by_name: "网格员".to_owned(),
                    status: status.as_str().to_owned(),
                    outcome: outcome.map(|o| o.as_str().to_owned()),
                    concluded_on: concluded.map(|d| d.to_string()),
                    outcome_note: outcome.map(|o| {
                        match o {
                            Outcome::Success => "双方达成调解协议，握手言和",
                            Outcome::Partial => "主要争议达成一致，个别事项约定另行协商",
                            Outcome::Failed => "双方分歧较大，告知通过其他途径解决",
                            Outcome::Referred => "涉及法律程序，移交司法所处理",
                        }
                        .to_owned()
                    }),
                    referred_to: (outcome == Some(Outcome::Referred)).then(|| "司法所".to_owned()),
                    followed_up_on: followed
                        .then(|| followed_on.map(|d| d.to_string()))
                        .flatten(),
                    agreement_holds: holds,
                    synthetic: true,
                    now,
                });
                for (seq, side) in [(1, PartySide::Applicant), (2, PartySide::Respondent)] {
                    let name = format!(
                        "{}{}",
                        PARTY_SURNAMES[rng.gen_range(0..PARTY_SURNAMES.len())],
                        PARTY_GIVEN[rng.gen_range(0..PARTY_GIVEN.len())]
                    );
                    parties.push(NewParty {
                        county_code: plan.county,
                        case_id,
                        seq,
                        side: side.as_str().to_owned(),
                        name,
                        person_id: None,
                    });
                }
                mediators.push(NewMediator {
                    county_code: plan.county,
                    case_id,
                    kind: mediator_kind.as_str().to_owned(),
                    mediator_id,
                    mediator_path: mediator_path.clone(),
                    name: plan.mediator_name.to_owned(),
                    assigned_by_name: "网格员".to_owned(),
                    now,
                });
                let mut present = vec![PresentMediator {
                    kind: mediator_kind,
                    id: mediator_id,
                    name: plan.mediator_name.to_owned(),
                }];
                if !cadres.is_empty() && i % 3 == 0 {
                    let c = &cadres[rng.gen_range(0..cadres.len())];
                    mediators.push(NewMediator {
                        county_code: plan.county,
                        case_id,
                        kind: MediatorKind::Person.as_str().to_owned(),
                        mediator_id: c.id,
                        mediator_path: c.path.clone(),
                        name: c.name.clone(),
                        assigned_by_name: "网格员".to_owned(),
                        now,
                    });
                    present.push(PresentMediator {
                        kind: MediatorKind::Person,
                        id: c.id,
                        name: c.name.clone(),
                    });
                }
                let present = serde_json::to_string(&present)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                let held: Vec<NaiveDate> = match concluded {
                    Some(done) if done > first_session => vec![first_session, done],
                    Some(done) => vec![done],
                    None if mediating => vec![intake],
                    None => Vec::new(),
                };
                for (k, day) in held.iter().enumerate() {
                    sessions.push(NewSession {
                        county_code: plan.county,
                        id: sid.next().unwrap_or_default(),
                        case_id,
                        held_on: day.to_string(),
                        present: present.clone(),
                        note: if k == 0 {
                            "上门了解情况，拉家常式分别做双方工作".to_owned()
                        } else {
                            "召集双方面对面协商，讲清情理法".to_owned()
                        },
                        recorded_by_name: "网格员".to_owned(),
                        now,
                    });
                }
                if followed && let Some(day) = followed_on {
                    followups.push(NewFollowup {
                        county_code: plan.county,
                        id: followup_ids[i],
                        case_id,
                        visited_on: day.to_string(),
                        holds,
                        note: if holds == Some(true) {
                            "回访双方，协议履行良好，关系和睦".to_owned()
                        } else {
                            "回访发现约定事项尚未完全落实，已再次督促".to_owned()
                        },
                        recorded_by_name: "网格员".to_owned(),
                        now,
                    });
                }
            }
            store::insert_cases(&mut tx.exec(), &cases).await?;
            store::insert_parties(&mut tx.exec(), &parties).await?;
            store::insert_mediators(&mut tx.exec(), &mediators).await?;
            store::insert_sessions(&mut tx.exec(), &sessions).await?;
            store::insert_followups(&mut tx.exec(), &followups).await?;
            let event = self.audit_event(
                &system,
                Event {
                    county_code: plan.county,
                    action: "demo.mediation",
                    entity: "mediation_case",
                    entity_key: plan.county.to_string(),
                    before: None,
                    after: None,
                    detail: Some(format!(
                        "cases={} concluded={} success={}",
                        n, plan.concluded, plan.success
                    )),
                },
            );
            store_audit::append(&mut tx.exec(), &[event]).await?;
            tx.commit().await?;
            summary.cases += n;
            summary.counties.push((
                county_unit.name.clone(),
                plan.mediator_name.to_owned(),
                plan.concluded,
                plan.success,
                plan.open,
            ));
        }
        Ok(summary)
    }
}
