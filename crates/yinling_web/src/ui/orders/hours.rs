//! Paying for a completed service with time-bank hours, and the disputes of such payments.

use askama::Template;
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::{
    AppError, Caller,
    time_bank::{DisputeDecision, DisputeInput, HoursCharge, HoursDisputeView},
};
use yinling_domain::{
    ids::Key,
    role::Permission,
    service::{HoursDisputeStatus, OrderState},
};
use yinling_store::orders::OrderRow;

use super::show::detail_page;
use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{
    FormError, Layout, PageCtx, PageResult, filters, opt, render, see_other, with_status,
};
use yinling_domain::ids::OrderId;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/orders/{county}/{id}/pay-hours",
            get(confirm_hours).post(pay_with_hours),
        )
        .route("/orders/{county}/{id}/hours-dispute", post(dispute_hours))
        .route(
            "/orders/{county}/{id}/hours-dispute/decision",
            post(decide_dispute),
        )
        .route("/orders/disputes", get(list_disputes))
}

/// Paying for a completed service with time-bank hours, for the resident who received it.
pub(super) struct HoursPay {
    /// "已用时间银行支付1小时（2026-07-01 12:30）" once paid.
    pub(super) paid: Option<String>,
    pub(super) minutes_text: String,
    pub(super) balance_text: String,
    pub(super) enough: bool,
    /// The dispute of the payment, as the resident reads it.
    pub(super) dispute: Option<String>,
}

fn minutes_text(m: i64) -> String {
    yinling_app::ledger::amount_text(yinling_domain::ledger::Unit::Minutes, m)
}

/// Reasons offered as one-tap 有异议 buttons.
pub(super) const DISPUTE_REASONS: [&str; 3] = ["服务时长不对", "没有接受这次服务", "服务没有做完"];

/// What the resident may do with hours for this order: nothing (not theirs, not
/// completed, no service time, no hours), pay, or see that it was paid and dispute it.
pub(super) async fn hours_pay(
    state: &AppState,
    caller: &Caller,
    o: &OrderRow,
) -> Result<Option<HoursPay>, AppError> {
    let done = matches!(
        o.state,
        OrderState::Completed | OrderState::Rated | OrderState::Closed
    );
    let minutes = o.service_minutes.unwrap_or(0);
    if caller.person != Some((o.county_code.as_i64(), o.person_id.get())) || !done || minutes <= 0 {
        return Ok(None);
    }
    let charge = state
        .app
        .time_bank()
        .charge(caller, Key::new(o.county_code, o.id))
        .await?;
    if let Some(t) = &charge.paid {
        let amount = minutes_text(t.amount);
        return Ok(Some(HoursPay {
            paid: Some(format!(
                "已用时间银行支付{amount}（{}）",
                yinling_domain::time::format_minutes(t.created_at)
            )),
            minutes_text: amount,
            balance_text: String::new(),
            enough: true,
            dispute: charge.dispute.as_ref().map(|d| match d.status {
                HoursDisputeStatus::Open => {
                    format!("您提出的异议（{}）正在等工作人员核实。", d.reason)
                }
                HoursDisputeStatus::Upheld => format!(
                    "异议成立，已把{}退回您的时间银行。",
                    minutes_text(d.minutes)
                ),
                HoursDisputeStatus::Rejected => format!(
                    "异议不成立{}。",
                    d.decision_note
                        .as_ref()
                        .map(|n| format!("：{n}"))
                        .unwrap_or_default()
                ),
            }),
        }));
    }
    if charge.balance <= 0 {
        return Ok(None);
    }
    Ok(Some(HoursPay {
        paid: None,
        minutes_text: charge.minutes_text,
        balance_text: charge.balance_text,
        enough: charge.enough,
        dispute: None,
    }))
}

#[derive(Template)]
#[template(path = "orders/pay_hours.html")]
struct PayHoursPage {
    l: Layout,
    c: HoursCharge,
    error: Option<FormError>,
}

impl PayHoursPage {
    /// "服务者记录用时42分钟，按这项服务最多计30分钟" when the cap applies.
    fn capped(&self) -> Option<String> {
        (self.c.recorded_minutes > self.c.minutes).then(|| {
            format!(
                "服务者记录用时{}，这项服务最多按{}计。",
                minutes_text(self.c.recorded_minutes),
                minutes_text(self.c.cap_minutes)
            )
        })
    }

    fn after_text(&self) -> String {
        minutes_text(self.c.balance - self.c.minutes)
    }
}

/// The confirmation step of paying with hours: what will be taken, in words, before it
/// is; one button to confirm, one to go back. Already paid: back to the order.
async fn pay_page(
    state: &AppState,
    ctx: PageCtx,
    key: Key<OrderId>,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let c = state.app.time_bank().charge(&ctx.caller, key).await?;
    if c.paid.is_some() {
        return Ok(see_other(&format!("/orders/{key}#hours-pay")));
    }
    let resp = render(&PayHoursPage {
        l: ctx.layout("用时间银行支付", "orders-mine"),
        c,
        error,
    });
    Ok(with_status(resp, failed))
}

async fn confirm_hours(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<OrderId>,
) -> PageResult {
    pay_page(&state, ctx, key, None).await
}

#[derive(Debug, Deserialize, Default)]
struct PayForm {
    /// The minutes the confirmation step showed. Missing: show the step.
    minutes: Option<String>,
}

async fn pay_with_hours(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<OrderId>,
    Form(f): Form<PayForm>,
) -> PageResult {
    let Some(minutes) = opt(&f.minutes).and_then(|m| m.parse::<i64>().ok()) else {
        return pay_page(&state, ctx, key, None).await;
    };
    match state
        .app
        .time_bank()
        .withdraw(&ctx.caller, key, minutes)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/orders/{key}?done=paid"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => pay_page(&state, ctx, key, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Debug, Deserialize, Default)]
struct DisputeForm {
    reason: Option<String>,
}

/// 有异议: one tap on a reason.
async fn dispute_hours(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<OrderId>,
    Form(f): Form<DisputeForm>,
) -> PageResult {
    let input = DisputeInput {
        reason: f.reason.unwrap_or_default(),
    };
    match state
        .app
        .time_bank()
        .raise_dispute(&ctx.caller, key, input)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/orders/{key}?done=disputed#hours-pay"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => detail_page(&state, ctx, key, None, Default::default(), Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Debug, Deserialize, Default)]
struct DecisionForm {
    /// `uphold` or `reject`.
    decision: Option<String>,
    note: Option<String>,
}

async fn decide_dispute(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<OrderId>,
    Form(f): Form<DecisionForm>,
) -> PageResult {
    let result = match f.decision.as_deref() {
        Some(d @ ("uphold" | "reject")) => {
            state
                .app
                .time_bank()
                .decide_dispute(
                    &ctx.caller,
                    key,
                    DisputeDecision {
                        uphold: d == "uphold",
                        note: f.note.clone(),
                    },
                )
                .await
        }
        _ => Err(AppError::invalid(
            "decision_required",
            "decision",
            "请选择异议成立或不成立",
        )),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/orders/{key}?done=decided"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                let typed = (f.note.unwrap_or_default(), String::new());
                detail_page(&state, ctx, key, None, typed, Some(fe)).await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "orders/disputes.html")]
struct DisputesPage {
    l: Layout,
    disputes: Vec<HoursDisputeView>,
    all: bool,
}

#[derive(Debug, Deserialize, Default)]
struct DisputesQuery {
    all: Option<String>,
}

/// Disputes of time-bank payments the caller may see (Dispatch or ApproveAdjustments).
async fn list_disputes(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DisputesQuery>,
) -> PageResult {
    if !ctx.caller.may(Permission::Dispatch) && !ctx.caller.may(Permission::ApproveAdjustments) {
        return Err(AppError::forbidden("您无权处理时间银行异议").into());
    }
    let all = opt(&q.all).is_some();
    let disputes = state.app.time_bank().disputes(&ctx.caller, !all).await?;
    Ok(render(&DisputesPage {
        l: ctx.layout("时间银行异议", "orders"),
        disputes,
        all,
    }))
}
