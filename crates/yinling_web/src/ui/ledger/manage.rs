//! 积分管理 for staff: propose a manual adjustment from a person's file, approve or reject
//! the ones waiting (四眼原则: never one's own), and — for county administrators — the
//! county's ledger rules (daily caps, expiry, family transfers) and earning rules.

use askama::Template;
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::{
    AppError,
    ledger::AdjustmentView,
    ledger::{AdjustmentInput, Balances, EarningRuleInput, Rules, amount_text},
    people::parse_key,
};
use yinling_domain::{
    ids::{AdjustmentId, Key, PersonId},
    ledger::{SourceKind, Unit},
    region::CountyCode,
    role::Permission,
};
use yinling_store::ledger::EarningRuleRow;

use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, choices, filters, opt, render, see_other,
    with_status,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ledger/adjustments", get(list_adjustments))
        .route(
            "/ledger/adjustments/new",
            get(new_adjustment).post(propose_adjustment),
        )
        .route(
            "/ledger/adjustments/{county}/{id}/decide",
            post(decide_adjustment),
        )
        .route("/ledger/rules", get(rules).post(save_rules))
        .route("/ledger/rules/earning", post(save_earning_rule))
}

// ---- adjustments waiting ----

#[derive(Debug, Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "ledger/adjustments.html")]
struct AdjustmentsPage {
    l: Layout,
    items: Vec<AdjustmentView>,
    may_rules: bool,
    error: Option<FormError>,
}

async fn adjustments_page(
    state: &AppState,
    ctx: PageCtx,
    done: Option<&str>,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let may_rules = ctx.caller.may(Permission::ManageLedger);
    if !ctx.caller.may(Permission::AwardPoints) && !may_rules {
        return Err(AppError::forbidden("您无权管理积分").into());
    }
    let items = if ctx.caller.may(Permission::AwardPoints) {
        state.app.ledger().adjustments_waiting(&ctx.caller).await?
    } else {
        Vec::new()
    };
    let mut l = ctx.layout("积分管理", "ledger");
    let notice = match done {
        Some("proposed") => Some("调整申请已提交，须由另一位有审批权的人同意后才生效。"),
        Some("approved") => Some("已同意，积分已按申请调整。"),
        Some("rejected") => Some("已驳回，积分没有变动。"),
        _ => None,
    };
    l.notice = l.notice.or_else(|| notice.map(str::to_owned));
    let resp = render(&AdjustmentsPage {
        l,
        items,
        may_rules,
        error,
    });
    Ok(with_status(resp, failed))
}

async fn list_adjustments(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    adjustments_page(&state, ctx, q.done.as_deref(), None).await
}

#[derive(Debug, Deserialize)]
struct DecideForm {
    decision: Option<String>,
}

async fn decide_adjustment(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<AdjustmentId>,
    Form(f): Form<DecideForm>,
) -> PageResult {
    let approve = match f.decision.as_deref() {
        Some("approve") => Ok(true),
        Some("reject") => Ok(false),
        _ => Err(AppError::invalid(
            "decision_required",
            "decision",
            "请选择同意或驳回",
        )),
    };
    let result = match approve {
        Ok(a) => state
            .app
            .ledger()
            .decide_adjustment(&ctx.caller, key, a)
            .await
            .map(|_| a),
        Err(e) => Err(e),
    };
    match result {
        Ok(true) => Ok(see_other("/ledger/adjustments?done=approved")),
        Ok(false) => Ok(see_other("/ledger/adjustments?done=rejected")),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => adjustments_page(&state, ctx, None, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

// ---- proposing one ----

#[derive(Debug, Deserialize, Default, Clone)]
struct ProposeForm {
    person: Option<String>,
    unit: Option<String>,
    /// `add` or `subtract`.
    direction: Option<String>,
    amount: Option<String>,
    memo: Option<String>,
}

impl ProposeForm {
    fn input(&self, person: Key<PersonId>) -> Result<AdjustmentInput, AppError> {
        let unit = match opt(&self.unit).as_deref() {
            Some("minutes") => Unit::Minutes,
            _ => Unit::Points,
        };
        let sign = match opt(&self.direction).as_deref() {
            Some("add") => 1,
            Some("subtract") => -1,
            _ => {
                return Err(AppError::invalid(
                    "direction_required",
                    "direction",
                    "请选择增加还是扣减",
                ));
            }
        };
        let amount = opt(&self.amount)
            .and_then(|a| a.parse::<i64>().ok())
            .filter(|a| *a > 0)
            .ok_or_else(|| AppError::invalid("invalid_amount", "amount", "调整数量须为正整数"))?;
        Ok(AdjustmentInput {
            person,
            unit,
            amount: sign * amount,
            memo: self.memo.clone().unwrap_or_default(),
        })
    }
}

#[derive(Template)]
#[template(path = "ledger/adjust_form.html")]
struct ProposePage {
    l: Layout,
    f: ProposeForm,
    person_key: String,
    b: Balances,
    units: Vec<Choice>,
    directions: Vec<Choice>,
    error: Option<FormError>,
}

impl ProposePage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is(field))
    }
}

fn person_of(f: &ProposeForm) -> Result<Key<PersonId>, AppError> {
    let key = opt(&f.person).and_then(|p| parse_key(&p)).ok_or_else(|| {
        AppError::invalid(
            "person_required",
            "person",
            "请先打开人员档案，再点“积分调整”",
        )
    })?;
    // Two numbers that are no person's key name nobody.
    Key::from_parts(key.0, key.1).map_err(|_| AppError::NotFound { what: "人员" })
}

async fn propose_page(
    state: &AppState,
    ctx: PageCtx,
    f: ProposeForm,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    if !ctx.caller.may(Permission::AwardPoints) {
        return Err(AppError::forbidden("您无权调整积分").into());
    }
    let person = person_of(&f)?;
    let b = state.app.ledger().balances(&ctx.caller, person).await?;
    let unit = opt(&f.unit).unwrap_or_else(|| "points".to_owned());
    let direction = opt(&f.direction).unwrap_or_default();
    let resp = render(&ProposePage {
        l: ctx.layout(format!("积分调整 · {}", b.name), "ledger"),
        person_key: format!("{}/{}", person.county_code, person.id),
        units: choices([("points", "积分"), ("minutes", "时间银行（分钟）")], &unit),
        directions: choices([("add", "增加"), ("subtract", "扣减")], &direction),
        b,
        f,
        error,
    });
    Ok(with_status(resp, failed))
}

async fn new_adjustment(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(f): Query<ProposeForm>,
) -> PageResult {
    propose_page(&state, ctx, f, None).await
}

async fn propose_adjustment(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<ProposeForm>,
) -> PageResult {
    let result = async {
        let person = person_of(&f)?;
        let input = f.input(person)?;
        state
            .app
            .ledger()
            .propose_adjustment(&ctx.caller, input)
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/ledger/adjustments?done=proposed")),
        Err(e @ AppError::NotFound { .. }) => Err(e.into()),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => propose_page(&state, ctx, f, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

// ---- rules ----

#[derive(Debug, Deserialize, Default)]
struct RulesQuery {
    county: Option<i64>,
    /// An earning rule to change: `activity/theme_day`.
    edit: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
struct RulesForm {
    county: Option<String>,
    daily_points_cap: Option<String>,
    daily_minutes_cap: Option<String>,
    expiry_months: Option<String>,
    family_transfer: Option<String>,
    family_max_minutes_year: Option<String>,
    max_points_per_code: Option<String>,
    version: Option<String>,
}

impl RulesForm {
    fn of(r: &Rules) -> RulesForm {
        let text = |v: Option<i64>| v.map(|v| v.to_string());
        RulesForm {
            county: Some(r.county_code.to_string()),
            daily_points_cap: text(r.daily_points_cap),
            daily_minutes_cap: text(r.daily_minutes_cap),
            expiry_months: text(r.expiry_months),
            family_transfer: r.family_transfer.then(|| "on".to_owned()),
            family_max_minutes_year: Some(r.family_max_minutes_year.to_string()),
            max_points_per_code: Some(r.max_points_per_code.to_string()),
            version: Some(r.version.to_string()),
        }
    }

    fn rules(&self, county: CountyCode) -> Result<Rules, AppError> {
        let optional = |v: &Option<String>, field: &'static str, what: &str| match opt(v) {
            None => Ok(None),
            Some(t) => t.parse::<i64>().map(Some).map_err(|_| {
                AppError::invalid("invalid_rule", field, format!("{what}请填整数，或留空"))
            }),
        };
        Ok(Rules {
            county_code: county,
            daily_points_cap: optional(&self.daily_points_cap, "daily_points_cap", "每日积分上限")?,
            daily_minutes_cap: optional(
                &self.daily_minutes_cap,
                "daily_minutes_cap",
                "每日时长上限",
            )?,
            expiry_months: optional(&self.expiry_months, "expiry_months", "积分有效期")?,
            family_transfer: self.family_transfer.is_some(),
            family_max_minutes_year: optional(
                &self.family_max_minutes_year,
                "family_max_minutes_year",
                "每年转赠上限",
            )?
            .unwrap_or(0),
            max_points_per_code: optional(
                &self.max_points_per_code,
                "max_points_per_code",
                "每个兑换码最多可兑换的积分",
            )?
            .ok_or_else(|| {
                AppError::invalid(
                    "invalid_rule",
                    "max_points_per_code",
                    "请填写每个兑换码最多可兑换的积分",
                )
            })?,
            version: opt(&self.version).and_then(|v| v.parse().ok()).unwrap_or(0),
        })
    }
}

#[derive(Debug, Deserialize, Default, Clone)]
struct EarningForm {
    county: Option<String>,
    source_kind: Option<String>,
    code: Option<String>,
    label: Option<String>,
    points: Option<String>,
    minutes: Option<String>,
}

impl EarningForm {
    fn of(r: &EarningRuleRow) -> EarningForm {
        EarningForm {
            county: Some(r.county_code.to_string()),
            source_kind: Some(r.source_kind.as_str().to_owned()),
            code: Some(r.code.clone()),
            label: Some(r.label.clone()),
            points: Some(r.points.to_string()),
            minutes: Some(r.minutes.to_string()),
        }
    }

    fn input(&self, county: CountyCode) -> Result<EarningRuleInput, AppError> {
        let num = |v: &Option<String>, field: &'static str, what: &str| match opt(v) {
            None => Ok(0),
            Some(t) => t
                .parse::<i64>()
                .map_err(|_| AppError::invalid("invalid_rule", field, format!("{what}请填整数"))),
        };
        let source_kind = match opt(&self.source_kind).as_deref() {
            Some("mediation") => SourceKind::Mediation,
            _ => SourceKind::Activity,
        };
        Ok(EarningRuleInput {
            county_code: county,
            source_kind,
            code: self.code.clone().unwrap_or_default(),
            label: self.label.clone().unwrap_or_default(),
            points: num(&self.points, "points", "积分")?,
            minutes: num(&self.minutes, "minutes", "时长")?,
        })
    }
}

/// An earning rule as listed.
struct EarningLine {
    kind_label: &'static str,
    edit: String,
    r: EarningRuleRow,
    minutes_text: String,
}

#[derive(Template)]
#[template(path = "ledger/rules.html")]
struct RulesPage {
    l: Layout,
    county: i64,
    counties: Vec<Choice>,
    f: RulesForm,
    error: Option<FormError>,
    earning: Vec<EarningLine>,
    e: EarningForm,
    editing: bool,
    kinds: Vec<Choice>,
    earning_error: Option<FormError>,
    limit_text: String,
}

impl RulesPage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is(field))
    }

    fn earning_invalid(&self, field: &str) -> bool {
        self.earning_error.as_ref().is_some_and(|e| e.is(field))
    }

    fn family_on(&self) -> bool {
        self.f.family_transfer.is_some()
    }
}

/// What a refused save brings back to the page.
enum RulesRefused {
    Rules(RulesForm, FormError),
    Earning(EarningForm, FormError),
}

async fn rules_page(
    state: &AppState,
    ctx: PageCtx,
    county: Option<i64>,
    edit: Option<String>,
    refused: Option<RulesRefused>,
) -> PageResult {
    let failed = refused.as_ref().map(|r| match r {
        RulesRefused::Rules(_, e) | RulesRefused::Earning(_, e) => e.status,
    });
    if !ctx.caller.may(Permission::ManageLedger) {
        return Err(AppError::forbidden("只有县级管理员可以修改积分规则").into());
    }
    let counties = state.app.ledger().counties(&ctx.caller).await?;
    let county = match county {
        Some(c) if counties.iter().any(|(code, _)| code.as_i64() == c) => c,
        Some(_) => {
            return Err(AppError::NotFound {
                what: "县（市、区）",
            }
            .into());
        }
        None => counties
            .first()
            .map(|c| c.0.as_i64())
            .ok_or_else(|| AppError::forbidden("只有县级管理员可以修改积分规则"))?,
    };
    let code = CountyCode::from_i64(county).map_err(|_| AppError::NotFound {
        what: "县（市、区）",
    })?;
    let rules = state.app.ledger().rules(code).await?;
    let earning_rows = state.app.ledger().earning_rules(code).await?;
    let (mut f, mut error, mut earning_error) = (RulesForm::of(&rules), None, None);
    let mut e = EarningForm {
        county: Some(county.to_string()),
        ..EarningForm::default()
    };
    let mut editing = false;
    if let Some(edit) = edit.as_deref()
        && let Some(row) = earning_rows
            .iter()
            .find(|r| format!("{}/{}", r.source_kind, r.code) == edit)
    {
        e = EarningForm::of(row);
        editing = true;
    }
    match refused {
        Some(RulesRefused::Rules(typed, fe)) => {
            f = RulesForm {
                version: f.version.clone(),
                ..typed
            };
            error = Some(fe);
        }
        Some(RulesRefused::Earning(typed, fe)) => {
            editing = earning_rows.iter().any(|r| {
                typed.source_kind.as_deref() == Some(r.source_kind.as_str())
                    && Some(&r.code) == typed.code.as_ref()
            });
            e = typed;
            earning_error = Some(fe);
        }
        None => {}
    }
    let earning = earning_rows
        .into_iter()
        .map(|r| EarningLine {
            kind_label: r.source_kind.label_zh(),
            edit: format!(
                "/ledger/rules?county={county}&edit={}",
                urlencoding::encode(&format!("{}/{}", r.source_kind, r.code))
            ),
            minutes_text: amount_text(Unit::Minutes, r.minutes),
            r,
        })
        .collect();
    let kind = opt(&e.source_kind).unwrap_or_else(|| "activity".to_owned());
    let resp = render(&RulesPage {
        l: ctx.layout("积分规则", "ledger"),
        county,
        counties: choices(
            counties
                .iter()
                .map(|(c, n)| (c.as_i64().to_string(), n.clone()))
                .collect::<Vec<_>>()
                .iter()
                .map(|(c, n)| (c.as_str(), n.as_str())),
            &county.to_string(),
        ),
        limit_text: amount_text(Unit::Minutes, rules.family_max_minutes_year),
        f,
        error,
        earning,
        kinds: choices([("activity", "活动类型"), ("mediation", "调解结果")], &kind),
        e,
        editing,
        earning_error,
    });
    Ok(with_status(resp, failed))
}

async fn rules(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<RulesQuery>,
) -> PageResult {
    rules_page(&state, ctx, q.county, q.edit, None).await
}

/// The county a rules form is for: not a number, not found; a number that is no county,
/// one the caller does not administer.
fn county_of(v: &Option<String>) -> Result<CountyCode, AppError> {
    let n = opt(v)
        .and_then(|c| c.parse::<i64>().ok())
        .ok_or(AppError::NotFound {
            what: "县（市、区）",
        })?;
    CountyCode::from_i64(n).map_err(|_| AppError::forbidden("只有县级管理员可以修改积分规则"))
}

async fn save_rules(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<RulesForm>,
) -> PageResult {
    let county = county_of(&f.county)?;
    let result = match f.rules(county) {
        Ok(r) => state.app.ledger().set_rules(&ctx.caller, r).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/ledger/rules?county={county}&ok=saved"
        ))),
        Err(e @ AppError::Forbidden { .. }) => Err(e.into()),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                let refused = RulesRefused::Rules(f, fe);
                rules_page(&state, ctx, Some(county.as_i64()), None, Some(refused)).await
            }
            None => Err(e.into()),
        },
    }
}

async fn save_earning_rule(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<EarningForm>,
) -> PageResult {
    let county = county_of(&f.county)?;
    let result = match f.input(county) {
        Ok(input) => {
            state
                .app
                .ledger()
                .put_earning_rule(&ctx.caller, input)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/ledger/rules?county={county}&ok=saved"
        ))),
        Err(e @ AppError::Forbidden { .. }) => Err(e.into()),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                let refused = RulesRefused::Earning(f, fe);
                rules_page(&state, ctx, Some(county.as_i64()), None, Some(refused)).await
            }
            None => Err(e.into()),
        },
    }
}
