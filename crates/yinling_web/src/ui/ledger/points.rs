//! 我的积分 for residents and volunteers on a phone in 长辈模式: the points and time-bank
//! balances, a redemption code shown as large digits and a QR code (扫码或报码), the receipt
//! once the shop has redeemed it, each redemption with its one-tap 不是我本人兑换 (confirmed
//! on the same screen, no pop-up), the statements, and giving hours to a household member.
//! The shop's side is in [`crate::ui::redeem`], the staff's in [`super::manage`].

use askama::Template;
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::{
    AppError, Caller, PageRequest,
    ledger::FamilyMember,
    ledger::{Balances, amount_text},
    redeem::RedemptionReceipt,
    redeem::{MyRedemption, ShownCode, fresh_key},
    time_bank::GiftInput,
};
use yinling_domain::{
    ids::{Key, PersonId},
    ledger::Unit,
    region::CountyCode,
};

use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::extract::{Form, Path, Query};
use crate::ui::kernel::{
    FormError, Layout, PageCtx, PageResult, opt, render, see_other, with_status,
};
use yinling_domain::ids::RedemptionId;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/points", get(my_points))
        .route("/points/redeem", get(redeem_start).post(new_code))
        .route("/points/redeem/{code}", get(show_code))
        .route(
            "/points/redemptions/{county}/{id}/report",
            post(report_redemption),
        )
        .route("/points/receipt", get(my_receipt))
        .route("/points/statement", get(statement))
        .route("/points/gift", get(gift_form).post(give_hours))
        .route("/points/gift/confirm", get(gift_confirm))
}

/// The caller's own person file, or a plain explanation.
fn me(caller: &Caller) -> Result<(i64, i64), AppError> {
    caller.person.ok_or_else(|| {
        AppError::forbidden("您的账号没有关联本人档案，没有积分。如有疑问请联系网格员。")
    })
}

/// The caller's own person file as a key, and its county.
fn my_key(caller: &Caller) -> Result<(Key<PersonId>, CountyCode), AppError> {
    let (county, id) = me(caller)?;
    let key: Key<PersonId> =
        Key::from_parts(county, id).map_err(|_| AppError::NotFound { what: "人员" })?;
    Ok((key, key.county_code))
}

/// One statement line as people read it.
struct LineView {
    at_text: String,
    what: String,
    change_text: String,
    income: bool,
    balance_text: String,
}

fn line_views(unit: Unit, lines: Vec<yinling_app::ledger::StatementLine>) -> Vec<LineView> {
    lines
        .into_iter()
        .map(|l| LineView {
            what: if l.memo.is_empty() {
                l.reason_label.to_owned()
            } else {
                format!("{}：{}", l.reason_label, l.memo)
            },
            change_text: format!(
                "{}{}",
                if l.change >= 0 { "+" } else { "−" },
                amount_text(unit, l.change.abs())
            ),
            income: l.change >= 0,
            balance_text: amount_text(unit, l.balance_after),
            at_text: l.at_text,
        })
        .collect()
}

// ---- 我的积分 ----

#[derive(Debug, Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "ledger/points_home.html")]
struct HomePage {
    l: Layout,
    b: Balances,
    lines: Vec<LineView>,
    may_gift: bool,
    redemptions: Vec<MyRedemption>,
    /// New codes are paused by a report the county has not looked at.
    paused: bool,
}

async fn my_points(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let (person, county) = my_key(&ctx.caller)?;
    let b = state.app.ledger().balances(&ctx.caller, person).await?;
    let lines = state
        .app
        .ledger()
        .statement(
            &ctx.caller,
            person,
            Unit::Points,
            PageRequest::new(Some(1), Some(5)),
        )
        .await?
        .items;
    let rules = state.app.ledger().rules(county).await?;
    let may_gift = rules.family_transfer
        && !state
            .app
            .ledger()
            .my_household(&ctx.caller)
            .await?
            .is_empty();
    let redemptions = state.app.redeem().my_redemptions(&ctx.caller).await?;
    let paused = state.app.redeem().is_paused(&ctx.caller).await?;
    let mut l = ctx.layout("我的积分", "points");
    if l.notice.is_none() {
        l.notice = match q.done.as_deref() {
            Some("gift") => Some("时长已转赠。".to_owned()),
            Some("reported") => Some(
                "已报告县里：您没用的兑换码已作废，县里核实之前暂停出示兑换码。核实后会退回被冒用的积分。"
                    .to_owned(),
            ),
            _ => None,
        };
    }
    Ok(render(&HomePage {
        l,
        b,
        lines: line_views(Unit::Points, lines),
        may_gift,
        redemptions,
        paused,
    }))
}

/// 不是我本人兑换, confirmed on 我的积分 itself: the elder's live codes are void, new ones
/// wait for the county, and the county's list shows the report.
async fn report_redemption(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<RedemptionId>,
) -> PageResult {
    state.app.redeem().report(&ctx.caller, key).await?;
    Ok(see_other(&format!(
        "/points?done=reported#redemption-{}-{}",
        key.county(),
        key.id()
    )))
}

// ---- 出示兑换码 ----

#[derive(Template)]
#[template(path = "ledger/points_redeem.html")]
struct RedeemStartPage {
    l: Layout,
    points: i64,
    /// The county's cap per code: one tap on 出示兑换码 gives a code good for this much.
    cap: i64,
    /// Smaller limits the elder may choose instead.
    limits: Vec<i64>,
    paused: bool,
    error: Option<FormError>,
}

async fn redeem_page(state: &AppState, ctx: PageCtx, error: Option<FormError>) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let (person, county) = my_key(&ctx.caller)?;
    let points = state
        .app
        .ledger()
        .balances(&ctx.caller, person)
        .await?
        .points;
    let cap = state.app.ledger().rules(county).await?.max_points_per_code;
    let paused = state.app.redeem().is_paused(&ctx.caller).await?;
    let limits = [20, 50, 100]
        .into_iter()
        .filter(|m| *m < cap && *m < points)
        .collect();
    let resp = render(&RedeemStartPage {
        l: ctx.layout("出示兑换码", "points"),
        points,
        cap,
        limits,
        paused,
        error,
    });
    Ok(with_status(resp, failed))
}

async fn redeem_start(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    redeem_page(&state, ctx, None).await
}

#[derive(Debug, Deserialize, Default)]
struct CodeForm {
    /// A smaller limit for this code; empty: the county's cap.
    max_points: Option<String>,
}

async fn new_code(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<CodeForm>,
) -> PageResult {
    let result = match opt(&f.max_points).map(|m| m.parse::<i64>()) {
        None => state.app.redeem().code(&ctx.caller).await,
        Some(Ok(m)) => state.app.redeem().code_limited(&ctx.caller, Some(m)).await,
        Some(Err(_)) => Err(AppError::invalid(
            "invalid_code_limit",
            "max_points",
            "本次最多兑换的积分请填整数",
        )),
    };
    match result {
        Ok(code) => Ok(see_other(&format!("/points/redeem/{}", code.code))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => redeem_page(&state, ctx, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "ledger/points_code.html")]
struct CodePage {
    l: Layout,
    shown: ShownCode,
    /// "123 456"
    spaced: String,
    /// The digits as an inline SVG QR code.
    qr: String,
}

async fn show_code(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> PageResult {
    let shown = state
        .app
        .redeem()
        .my_code(&ctx.caller, &code)
        .await?
        .ok_or(AppError::NotFound { what: "兑换码" })?;
    let digits = &shown.code.code;
    let spaced = format!("{} {}", &digits[..3], &digits[3..]);
    let qr = crate::kernel::qr::svg(digits, &format!("兑换码 {spaced} 的二维码"));
    Ok(render(&CodePage {
        l: ctx.layout("出示兑换码", "points"),
        shown,
        spaced,
        qr,
    }))
}

#[derive(Debug, Deserialize)]
struct ReceiptQuery {
    since: Option<i64>,
}

#[derive(Template)]
#[template(path = "ledger/points_receipt.html")]
struct ReceiptPage {
    l: Layout,
    receipt: Option<RedemptionReceipt>,
    since: i64,
}

async fn my_receipt(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ReceiptQuery>,
) -> PageResult {
    me(&ctx.caller)?;
    // Without a starting time: redemptions of the last day.
    let since = q
        .since
        .unwrap_or_else(|| state.app.now() - 24 * 3_600_000_000);
    let receipt = state
        .app
        .redeem()
        .my_last_redemption(&ctx.caller, since)
        .await?;
    let title = if receipt.is_some() {
        "兑换回执"
    } else {
        "还没有兑换"
    };
    Ok(render(&ReceiptPage {
        l: ctx.layout(title, "points"),
        receipt,
        since,
    }))
}

// ---- 明细 ----

#[derive(Debug, Deserialize)]
struct StatementQuery {
    unit: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "ledger/points_statement.html")]
struct StatementPage {
    l: Layout,
    minutes: bool,
    lines: Vec<LineView>,
    page: i64,
    pages: i64,
    total: i64,
}

async fn statement(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<StatementQuery>,
) -> PageResult {
    let (person, _) = my_key(&ctx.caller)?;
    let unit = match q.unit.as_deref() {
        Some("minutes") => Unit::Minutes,
        _ => Unit::Points,
    };
    let result = state
        .app
        .ledger()
        .statement(
            &ctx.caller,
            person,
            unit,
            PageRequest::new(q.page, Some(20)),
        )
        .await?;
    let title = match unit {
        Unit::Points => "积分明细",
        Unit::Minutes => "时间银行明细",
    };
    Ok(render(&StatementPage {
        l: ctx.layout(title, "points"),
        minutes: unit == Unit::Minutes,
        page: result.page,
        pages: result.pages(),
        total: result.total,
        lines: line_views(unit, result.items),
    }))
}

// ---- 转赠时长 ----

#[derive(Debug, Deserialize, Default, Clone)]
struct GiftForm {
    /// The member, `county/id`.
    to: Option<String>,
    /// A quick choice in minutes, or "other" for `other_minutes`.
    minutes: Option<String>,
    other_minutes: Option<String>,
    memo: Option<String>,
    idempotency_key: Option<String>,
}

/// One quick choice of how long.
struct MinutesChoice {
    value: i64,
    label: String,
    checked: bool,
}

const QUICK_MINUTES: [i64; 4] = [30, 60, 120, 180];

impl GiftForm {
    /// The chosen member and minutes, checked against the household.
    fn parsed(&self, family: &[FamilyMember]) -> Result<(FamilyMember, i64), AppError> {
        let member = opt(&self.to)
            .and_then(|t| yinling_app::people::parse_key(&t))
            .and_then(|(c, i)| {
                family
                    .iter()
                    .find(|m| (m.key.county(), m.key.id()) == (c, i))
                    .cloned()
            })
            .ok_or_else(|| AppError::invalid("not_family", "to", "请选择要转给哪位家人"))?;
        let text = match opt(&self.minutes).as_deref() {
            Some("other") | None => opt(&self.other_minutes),
            Some(v) => Some(v.to_owned()),
        };
        let minutes = text
            .and_then(|t| t.parse::<i64>().ok())
            .filter(|m| *m > 0)
            .ok_or_else(|| {
                AppError::invalid(
                    "invalid_amount",
                    "minutes",
                    "请选择或填写要转赠的时长（分钟）",
                )
            })?;
        Ok((member, minutes))
    }
}

#[derive(Template)]
#[template(path = "ledger/points_gift.html")]
struct GiftPage {
    l: Layout,
    f: GiftForm,
    family: Vec<FamilyMember>,
    choices: Vec<MinutesChoice>,
    other_checked: bool,
    balance_text: String,
    limit_text: String,
    error: Option<FormError>,
}

impl GiftPage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is(field))
    }

    fn is_to(&self, m: &FamilyMember) -> bool {
        let key = format!("{}/{}", m.key.county_code, m.key.id);
        opt(&self.f.to).as_deref() == Some(key.as_str()) || self.family.len() == 1
    }
}

async fn gift_page(
    state: &AppState,
    ctx: PageCtx,
    f: GiftForm,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let (person, county) = my_key(&ctx.caller)?;
    let mut f = f;
    // A length typed before (or sent back from the confirmation) that is no quick choice.
    if let Some(v) = opt(&f.minutes)
        && v != "other"
        && !QUICK_MINUTES.iter().any(|m| m.to_string() == v)
    {
        f.other_minutes = Some(v);
        f.minutes = Some("other".to_owned());
    }
    let rules = state.app.ledger().rules(county).await?;
    if !rules.family_transfer {
        return Err(AppError::forbidden("本县（市、区）未开放时间银行亲属转赠").into());
    }
    let family = state.app.ledger().my_household(&ctx.caller).await?;
    let b = state.app.ledger().balances(&ctx.caller, person).await?;
    let chosen = opt(&f.minutes);
    let other_checked = chosen.as_deref() == Some("other");
    let choices = QUICK_MINUTES
        .iter()
        .map(|m| MinutesChoice {
            value: *m,
            label: amount_text(Unit::Minutes, *m),
            checked: chosen.as_deref() == Some(m.to_string().as_str())
                || (chosen.is_none() && *m == 60),
        })
        .collect();
    let resp = render(&GiftPage {
        l: ctx.layout("转赠时长", "points"),
        f,
        family,
        choices,
        other_checked,
        balance_text: b.minutes_text,
        limit_text: amount_text(Unit::Minutes, rules.family_max_minutes_year),
        error,
    });
    Ok(with_status(resp, failed))
}

async fn gift_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(f): Query<GiftForm>,
) -> PageResult {
    gift_page(&state, ctx, f, None).await
}

#[derive(Template)]
#[template(path = "ledger/points_gift_confirm.html")]
struct GiftConfirmPage {
    l: Layout,
    f: GiftForm,
    to_key: String,
    to_name: String,
    minutes: i64,
    minutes_text: String,
    key: String,
}

async fn gift_confirm(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(f): Query<GiftForm>,
) -> PageResult {
    me(&ctx.caller)?;
    let family = state.app.ledger().my_household(&ctx.caller).await?;
    match f.parsed(&family) {
        Ok((member, minutes)) => Ok(render(&GiftConfirmPage {
            l: ctx.layout("确认转赠", "points"),
            to_key: format!("{}/{}", member.key.county_code, member.key.id),
            to_name: member.name,
            minutes,
            minutes_text: amount_text(Unit::Minutes, minutes),
            key: fresh_key("gift"),
            f,
        })),
        Err(e) => gift_page(&state, ctx, f, FormError::from_app(&e)).await,
    }
}

async fn give_hours(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<GiftForm>,
) -> PageResult {
    let result = async {
        let family = state.app.ledger().my_household(&ctx.caller).await?;
        let (member, minutes) = f.parsed(&family)?;
        state
            .app
            .time_bank()
            .gift(
                &ctx.caller,
                GiftInput {
                    to: member.key,
                    minutes,
                    memo: opt(&f.memo),
                    idempotency_key: opt(&f.idempotency_key).unwrap_or_else(|| fresh_key("gift")),
                },
            )
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/points?done=gift")),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => gift_page(&state, ctx, f, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}
