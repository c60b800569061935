//! Mediation pages (矛盾调解): the case list with filters, the intake form, a case's page
//! with its mediators, sessions, outcome and follow-ups, and the success-rate page with a
//! period picker and Excel export. One task per form; every form keeps what was typed when
//! it is refused.

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use yinling_app::{
    AppError, Page, PageRequest,
    mediation::{
        AssignInput, CaseInput, CaseListItem, CaseQuery, CaseView, FollowUpInput, MediationStats,
        MediatorChoices, MediatorRef, OutcomeInput, PartyInput, PickItem, SessionInput, StatsQuery,
        case_key,
    },
    people::parse_key,
};
use yinling_domain::{
    ids::{CaseId, Key, PersonId, UnitId},
    mediation::{CaseStatus, DisputeCategory, MediatorKind, Outcome, PartySide},
    role::Permission,
};

use crate::AppState;
use crate::ui::kernel::extract::{Form, Path, Query};
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, choices, filters, opt, render, see_other,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mediation", get(list))
        .route("/mediation/new", get(new_form).post(create))
        .route("/mediation/stats", get(stats))
        .route("/mediation/stats.xlsx", get(export))
        .route("/mediation/{county}/{id}", get(show))
        .route("/mediation/{county}/{id}/mediators", post(assign))
        .route("/mediation/{county}/{id}/sessions", post(session))
        .route("/mediation/{county}/{id}/outcome", post(conclude))
        .route("/mediation/{county}/{id}/follow-ups", post(follow_up))
}

/// What a refused form held, so it can be shown again as typed.
#[derive(Debug, Clone, Default)]
struct Draft(Vec<(String, String)>);

impl Draft {
    fn get(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn or(&self, key: &str, default: &str) -> String {
        let v = self.get(key);
        if v.is_empty() { default.to_owned() } else { v }
    }

    fn has(&self, key: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == key && v == value)
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn day(s: &str, field: &'static str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            "invalid_date",
            field,
            "请选择日期（格式为 年-月-日，例如 2026-07-01）",
        )
    })
}

fn version(d: &Draft) -> Result<i64, AppError> {
    d.get("version").parse().map_err(|_| {
        AppError::invalid(
            "invalid_form",
            "version",
            "表单已过期，请刷新页面后重新填写",
        )
    })
}

/// "studio/12" → a mediator reference.
fn mediator_ref(s: &str, field: &'static str) -> Result<MediatorRef, AppError> {
    s.split_once('/')
        .and_then(|(k, id)| {
            Some(MediatorRef {
                kind: MediatorKind::parse(k)?,
                id: id.parse().ok()?,
            })
        })
        .ok_or_else(|| AppError::invalid("invalid_mediator", field, "调解员选择有误，请重新选择"))
}

fn status_choices(current: &str) -> Vec<Choice> {
    choices(
        CaseStatus::ALL.iter().map(|s| (s.as_str(), s.label_zh())),
        current,
    )
}

fn category_choices(current: &str) -> Vec<Choice> {
    choices(
        DisputeCategory::ALL
            .iter()
            .map(|c| (c.as_str(), c.label_zh())),
        current,
    )
}

fn outcome_choices(current: &str) -> Vec<Choice> {
    choices(
        Outcome::ALL.iter().map(|o| (o.as_str(), o.label_zh())),
        current,
    )
}

// ---------------------------------------------------------------------------------------
// The list

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    unit: Option<String>,
    status: Option<String>,
    category: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    mediator: Option<String>,
    page: Option<i64>,
}

impl ListQuery {
    fn case_query(&self) -> CaseQuery {
        CaseQuery {
            unit: opt(&self.unit),
            status: opt(&self.status),
            category: opt(&self.category),
            outcome: opt(&self.outcome),
            from: opt(&self.from),
            to: opt(&self.to),
            mediator: opt(&self.mediator),
        }
    }

    fn base_query(&self) -> String {
        let q = self.case_query();
        let pairs: Vec<(&str, String)> = [
            ("unit", q.unit),
            ("status", q.status),
            ("category", q.category),
            ("outcome", q.outcome),
            ("from", q.from),
            ("to", q.to),
            ("mediator", q.mediator),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "mediation/list.html")]
struct ListPage {
    l: Layout,
    q: CaseQuery,
    statuses: Vec<Choice>,
    categories: Vec<Choice>,
    outcomes: Vec<Choice>,
    result: Option<Page<CaseListItem>>,
    error: Option<FormError>,
    base_query: String,
    can_create: bool,
    filtered: bool,
}

async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(lq): Query<ListQuery>,
) -> PageResult {
    let q = lq.case_query();
    let page = PageRequest::new(lq.page, Some(20));
    let (result, error) = match state.app.mediation().list(&ctx.caller, &q, page).await {
        Ok(r) => (Some(r), None),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) if !matches!(e, AppError::Forbidden { .. }) => (None, Some(fe)),
            _ => return Err(e.into()),
        },
    };
    let failed = error.as_ref().map(|e| e.status);
    let filtered = q.status.is_some()
        || q.category.is_some()
        || q.outcome.is_some()
        || q.from.is_some()
        || q.to.is_some();
    let mut resp = render(&ListPage {
        l: ctx.layout("矛盾调解", "mediation"),
        statuses: status_choices(q.status.as_deref().unwrap_or_default()),
        categories: category_choices(q.category.as_deref().unwrap_or_default()),
        outcomes: outcome_choices(q.outcome.as_deref().unwrap_or_default()),
        result,
        error,
        base_query: lq.base_query(),
        can_create: ctx.caller.may(Permission::Mediate),
        filtered,
        q,
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

// ---------------------------------------------------------------------------------------
// Intake

#[derive(Template)]
#[template(path = "mediation/form.html")]
struct FormPage {
    l: Layout,
    units: Vec<Choice>,
    categories: Vec<Choice>,
    parties: Vec<PartyDraft>,
    draft: Draft,
    today: String,
    error: Option<FormError>,
}

/// One party's row of the intake form.
struct PartyDraft {
    i: usize,
    name: String,
    person: String,
    sides: Vec<Choice>,
}

fn party_drafts(d: &Draft) -> Vec<PartyDraft> {
    let defaults = [
        PartySide::Applicant,
        PartySide::Respondent,
        PartySide::Other,
    ];
    (1..=3)
        .map(|i| {
            let side = d.or(&format!("party{i}_side"), defaults[i - 1].as_str());
            PartyDraft {
                i,
                name: d.get(&format!("party{i}_name")),
                person: d.get(&format!("party{i}_person")),
                sides: choices(
                    PartySide::ALL.iter().map(|s| (s.as_str(), s.label_zh())),
                    &side,
                ),
            }
        })
        .collect()
}

#[derive(Debug, Deserialize, Default)]
struct NewQuery {
    unit: Option<String>,
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    draft: Draft,
    error: Option<FormError>,
) -> PageResult {
    let units: Vec<PickItem> = state.app.mediation().units(&ctx.caller).await?;
    let current = draft.get("unit");
    let keys: Vec<(String, String)> = units
        .iter()
        .map(|u| {
            (
                format!("{}/{}", u.county_code, u.id),
                format!("{}（{}）", u.name, u.kind_label),
            )
        })
        .collect();
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&FormPage {
        l: ctx.layout("受理矛盾纠纷", "mediation"),
        units: choices(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())), &current),
        categories: category_choices(&draft.get("category")),
        parties: party_drafts(&draft),
        today: state.app.clock().today().to_string(),
        draft,
        error,
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let draft = Draft(
        opt(&q.unit)
            .map(|u| vec![("unit".to_owned(), u)])
            .unwrap_or_default(),
    );
    form_page(&state, ctx, draft, None).await
}

fn case_input(d: &Draft) -> Result<CaseInput, AppError> {
    let (c, u) = parse_key(&d.get("unit"))
        .ok_or_else(|| AppError::invalid("invalid_unit", "unit", "请选择纠纷发生地所在的组织"))?;
    let category = DisputeCategory::parse_any(&d.get("category"))
        .ok_or_else(|| AppError::invalid("invalid_category", "category", "请选择纠纷类别"))?;
    let mut parties = Vec::new();
    for i in 1..=3 {
        let name = d.get(&format!("party{i}_name"));
        let person = d.get(&format!("party{i}_person"));
        if name.trim().is_empty() && person.trim().is_empty() {
            continue;
        }
        let side = PartySide::parse(&d.get(&format!("party{i}_side"))).unwrap_or(PartySide::Other);
        let person_id = match person.trim() {
            "" => None,
            p => Some(
                p.rsplit('/')
                    .next()
                    .and_then(|id| id.trim().parse::<i64>().ok())
                    .map(PersonId)
                    .ok_or_else(|| {
                        AppError::invalid(
                            "invalid_person",
                            "parties",
                            "档案编号格式不正确，例如 370830/123",
                        )
                    })?,
            ),
        };
        parties.push(PartyInput {
            side,
            name,
            person_id,
        });
    }
    let intake = d.get("intake_on");
    Ok(CaseInput {
        unit_county_code: c,
        unit_id: UnitId(u),
        place_id: None,
        location: Some(d.get("location")),
        category,
        summary: d.get("summary"),
        intake_on: if intake.trim().is_empty() {
            None
        } else {
            Some(day(&intake, "intake_on")?)
        },
        taken_by_name: Some(d.get("taken_by_name")),
        parties,
        mediators: Vec::new(),
    })
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let draft = Draft(pairs);
    let result = match case_input(&draft) {
        Ok(input) => state.app.mediation().create(&ctx.caller, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(key) => Ok(see_other(&format!("/mediation/{key}?ok=created"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) if !matches!(e, AppError::Forbidden { .. }) => {
                form_page(&state, ctx, draft, Some(fe)).await
            }
            _ => Err(e.into()),
        },
    }
}

// ---------------------------------------------------------------------------------------
// A case

#[derive(Template)]
#[template(path = "mediation/case.html")]
struct CasePage {
    l: Layout,
    v: CaseView,
    choices: Option<MediatorChoices>,
    outcomes: Vec<Choice>,
    draft: Draft,
    /// Which form the error belongs to.
    failed: &'static str,
    error: Option<FormError>,
    today: String,
}

impl CasePage {
    fn present_checked(&self, kind: &str, id: &i64) -> bool {
        let key = format!("{kind}/{id}");
        if self.failed == "session" {
            self.draft.has("present", &key)
        } else {
            true
        }
    }

    /// The error goes above everything when its form is not on the page (a session sent
    /// to a case concluded meanwhile, say).
    fn error_on_top(&self) -> bool {
        let a = self.v.allowed;
        match self.failed {
            "assign" => !(a.assign && self.choices.is_some()),
            "session" => !a.session,
            "outcome" => !a.conclude,
            "follow_up" => !a.follow_up,
            _ => true,
        }
    }

    fn has_agreement(&self) -> bool {
        self.v.case.outcome.is_some_and(Outcome::has_agreement)
    }
}

async fn case_page(
    state: &AppState,
    ctx: PageCtx,
    key: Key<CaseId>,
    failed: &'static str,
    draft: Draft,
    error: Option<FormError>,
) -> PageResult {
    let v = state.app.mediation().case(&ctx.caller, key).await?;
    let choices = if v.allowed.assign {
        Some(
            state
                .app
                .mediation()
                .mediator_choices(&ctx.caller, key)
                .await?,
        )
    } else {
        None
    };
    let status = match &error {
        None => StatusCode::OK,
        Some(_) if failed.is_empty() => StatusCode::OK,
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let outcome = draft.get("outcome");
    let title = format!("调解案件 {}/{}", v.case.county_code, v.case.id);
    let mut resp = render(&CasePage {
        l: ctx.layout(title, "mediation"),
        v,
        choices,
        outcomes: outcome_choices(&outcome),
        today: state.app.clock().today().to_string(),
        draft,
        failed,
        error,
    });
    *resp.status_mut() = status;
    Ok(resp)
}

async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
) -> PageResult {
    let key = case_key(county, id)?;
    case_page(&state, ctx, key, "", Draft::default(), None).await
}

/// Back to the case after a form, or the case with the error beside the form.
async fn after(
    state: &AppState,
    ctx: PageCtx,
    key: Key<CaseId>,
    form: &'static str,
    draft: Draft,
    result: Result<(), AppError>,
) -> PageResult {
    match result {
        Ok(()) => Ok(see_other(&format!("/mediation/{key}?ok=saved"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) if !matches!(e, AppError::Forbidden { .. }) => {
                let mut resp = case_page(state, ctx, key, form, draft, Some(fe)).await?;
                if matches!(e, AppError::Conflict { .. }) {
                    *resp.status_mut() = StatusCode::CONFLICT;
                }
                Ok(resp)
            }
            _ => Err(e.into()),
        },
    }
}

async fn assign(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let key = case_key(county, id)?;
    let d = Draft(pairs);
    let input = (|| -> Result<AssignInput, AppError> {
        let mediators = d
            .all("mediator")
            .iter()
            .map(|m| mediator_ref(m, "mediators"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AssignInput {
            version: version(&d)?,
            mediators,
        })
    })();
    let result = match input {
        Ok(i) => state.app.mediation().assign(&ctx.caller, key, i).await,
        Err(e) => Err(e),
    };
    after(&state, ctx, key, "assign", d, result).await
}

async fn session(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let key = case_key(county, id)?;
    let d = Draft(pairs);
    let input = (|| -> Result<SessionInput, AppError> {
        Ok(SessionInput {
            version: version(&d)?,
            held_on: day(&d.get("held_on"), "held_on")?,
            present: d
                .all("present")
                .iter()
                .map(|m| mediator_ref(m, "present"))
                .collect::<Result<Vec<_>, _>>()?,
            note: d.get("session_note"),
        })
    })();
    let result = match input {
        Ok(i) => state
            .app
            .mediation()
            .record_session(&ctx.caller, key, i)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after(&state, ctx, key, "session", d, result).await
}

async fn conclude(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let key = case_key(county, id)?;
    let d = Draft(pairs);
    let input = (|| -> Result<OutcomeInput, AppError> {
        Ok(OutcomeInput {
            version: version(&d)?,
            outcome: Outcome::parse(&d.get("outcome"))
                .ok_or_else(|| AppError::invalid("invalid_outcome", "outcome", "请选择调解结果"))?,
            concluded_on: day(&d.get("concluded_on"), "concluded_on")?,
            note: Some(d.get("outcome_note")),
            referred_to: Some(d.get("referred_to")),
        })
    })();
    let result = match input {
        Ok(i) => state.app.mediation().conclude(&ctx.caller, key, i).await,
        Err(e) => Err(e),
    };
    after(&state, ctx, key, "outcome", d, result).await
}

async fn follow_up(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let key = case_key(county, id)?;
    let d = Draft(pairs);
    let input = (|| -> Result<FollowUpInput, AppError> {
        Ok(FollowUpInput {
            version: version(&d)?,
            visited_on: day(&d.get("visited_on"), "visited_on")?,
            holds: match d.get("holds").as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            note: d.get("followup_note"),
        })
    })();
    let result = match input {
        Ok(i) => state
            .app
            .mediation()
            .follow_up(&ctx.caller, key, i)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after(&state, ctx, key, "follow_up", d, result).await
}

// ---------------------------------------------------------------------------------------
// Success rates

#[derive(Debug, Deserialize, Default)]
struct StatsForm {
    from: Option<String>,
    to: Option<String>,
    unit: Option<String>,
}

impl StatsForm {
    fn query(&self) -> StatsQuery {
        StatsQuery {
            from: opt(&self.from),
            to: opt(&self.to),
            unit: opt(&self.unit),
        }
    }
}

/// One breakdown table of the stats page.
struct RateGroup {
    title: &'static str,
    /// How a line links onward: "unit" drills into the subtree, else the case list of
    /// that mediator kind.
    drill: &'static str,
    lines: Vec<yinling_app::mediation::RateLine>,
}

/// A quick choice of period.
struct Preset {
    label: &'static str,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "mediation/stats.html")]
struct StatsPage {
    l: Layout,
    s: Option<MediationStats>,
    groups: Vec<RateGroup>,
    from: String,
    to: String,
    unit: String,
    presets: Vec<Preset>,
    export_query: String,
    can_export: bool,
    error: Option<FormError>,
}

async fn stats(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(f): Query<StatsForm>,
) -> PageResult {
    let q = f.query();
    let (s, error) = match state.app.mediation().stats(&ctx.caller, &q).await {
        Ok(s) => (Some(s), None),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) if !matches!(e, AppError::Forbidden { .. }) => (None, Some(fe)),
            _ => return Err(e.into()),
        },
    };
    let today = state.app.clock().today();
    let jan1 = |y: i32| NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(today);
    let dec31 = |y: i32| NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(today);
    let presets = vec![
        Preset {
            label: "近一年",
            from: (today - chrono::Days::new(364)).to_string(),
            to: today.to_string(),
        },
        Preset {
            label: "本年度",
            from: jan1(today.year()).to_string(),
            to: today.to_string(),
        },
        Preset {
            label: "上一年度",
            from: jan1(today.year() - 1).to_string(),
            to: dec31(today.year() - 1).to_string(),
        },
    ];
    let (from, to) = match &s {
        Some(s) => (s.from.to_string(), s.to.to_string()),
        None => (
            q.from.clone().unwrap_or_default(),
            q.to.clone().unwrap_or_default(),
        ),
    };
    let unit = q.unit.clone().unwrap_or_default();
    let groups = s
        .as_ref()
        .map(|s| {
            vec![
                RateGroup {
                    title: "下级组织",
                    drill: "unit",
                    lines: s.subtrees.clone(),
                },
                RateGroup {
                    title: "老干部工作室",
                    drill: "studio",
                    lines: s.studios.clone(),
                },
                RateGroup {
                    title: "志愿服务队",
                    drill: "team",
                    lines: s.teams.clone(),
                },
                RateGroup {
                    title: "离退休干部",
                    drill: "person",
                    lines: s.cadres.clone(),
                },
            ]
        })
        .unwrap_or_default();
    let export_query = serde_urlencoded::to_string(
        [
            ("from", from.as_str()),
            ("to", to.as_str()),
            ("unit", unit.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&StatsPage {
        l: ctx.layout("调解成功率", "mediation"),
        s,
        groups,
        from,
        to,
        unit,
        presets,
        export_query,
        can_export: ctx.caller.may(Permission::Export),
        error,
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

async fn export(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(f): Query<StatsForm>,
) -> PageResult {
    let q = f.query();
    let bytes = state.app.mediation().export_xlsx(&ctx.caller, &q).await?;
    let name = format!(
        "矛盾调解台账-{}.xlsx",
        yinling_domain::time::local_date(state.app.now())
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename*=UTF-8''{}",
                    urlencoding::encode(&name)
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
