//! One order: its history, the ranked candidates, the steps (接单 / 拒单 / 到达签到 …),
//! dispatch and rating.

use askama::Template;
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::{
    AppError,
    orders::DispatchInput,
    orders::{OrderDetail, OrderStep},
    time_bank::HoursDisputeView,
};
use yinling_domain::{role::Permission, service::OrderAction};
use yinling_store::orders::OrderRow;

use super::done_notice;
use super::hours::{DISPUTE_REASONS, HoursPay, hours_pay};
use super::mine::offered_page;
use crate::AppState;
use crate::ui::kernel::DoneQuery;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{
    FormError, Layout, PageCtx, PageResult, filters, opt, render, see_other, with_status,
};
use yinling_domain::ids::Key;
use yinling_domain::ids::OrderId;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/{county}/{id}", get(show_order))
        .route("/orders/{county}/{id}/step", post(order_step))
        .route("/orders/{county}/{id}/dispatch", post(dispatch_order))
}

// ---- one order ----

struct EventLine {
    at: i64,
    who: String,
    what: &'static str,
    to: &'static str,
    note: Option<String>,
}

struct CandidateLine {
    provider_id: i64,
    name: String,
    kind_label: &'static str,
    score: String,
    parts: Vec<(&'static str, String, String, String)>,
}

#[derive(Template)]
#[template(path = "orders/detail.html")]
struct DetailPage {
    l: Layout,
    /// The order row (a copy of `d.view.order`, shorter in the template).
    o: OrderRow,
    d: OrderDetail,
    events: Vec<EventLine>,
    candidates: Option<Vec<CandidateLine>>,
    error: Option<FormError>,
    note: String,
    star_choices: Vec<StarChoice>,
    hours: Option<HoursPay>,
    /// The dispute of the order's time-bank payment, for staff who may see it.
    dispute: Option<HoursDisputeView>,
}

/// One rating choice: "★★★★★ 5星 非常满意".
struct StarChoice {
    value: i64,
    glyphs: String,
    label: String,
    checked: bool,
}

fn star_choices(typed: &str) -> Vec<StarChoice> {
    STAR_CHOICES
        .iter()
        .map(|(n, words)| {
            let k = usize::try_from(*n).unwrap_or(0);
            StarChoice {
                value: *n,
                glyphs: format!("{}{}", "★".repeat(k), "☆".repeat(5 - k)),
                label: format!("{n}星 {words}"),
                checked: typed == n.to_string(),
            }
        })
        .collect()
}

impl DetailPage {
    fn can(&self, a: &str) -> bool {
        self.d.actions.contains(&a)
    }

    fn dispute_reasons(&self) -> &'static [&'static str] {
        &DISPUTE_REASONS
    }

    fn stars_text(&self) -> String {
        match self.d.view.order.rating {
            Some(n) => {
                let n = usize::try_from(n).unwrap_or(0).min(5);
                format!("{}{}（{n}星）", "★".repeat(n), "☆".repeat(5 - n))
            }
            None => String::new(),
        }
    }
}

const STAR_CHOICES: [(i64, &str); 5] = [
    (5, "非常满意"),
    (4, "满意"),
    (3, "一般"),
    (2, "不满意"),
    (1, "很不满意"),
];

pub(super) async fn detail_page(
    state: &AppState,
    ctx: PageCtx,
    key: Key<OrderId>,
    done: Option<&str>,
    typed: (String, String),
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let d = state.app.orders().detail(&ctx.caller, key).await?;
    let events = d
        .events
        .iter()
        .map(|e| EventLine {
            at: e.at,
            who: e.actor_name.clone(),
            what: e.action.label_zh(),
            to: e.to_state.label_zh(),
            note: e.note.clone(),
        })
        .collect();
    let may_dispatch = d
        .actions
        .iter()
        .any(|a| *a == "dispatch" || *a == "reassign");
    let candidates = if may_dispatch {
        match state.app.orders().candidates(&ctx.caller, key, 10).await {
            Ok(list) => Some(
                list.into_iter()
                    .map(|c| CandidateLine {
                        provider_id: c.ranked.key.id.get(),
                        name: c.name,
                        kind_label: c.kind_label,
                        score: format!("{:.1}", c.ranked.score),
                        parts: c
                            .ranked
                            .parts
                            .into_iter()
                            .map(|p| {
                                (
                                    p.factor,
                                    format!("{:.1}", p.points),
                                    format!("{:.0}", p.max),
                                    p.reason,
                                )
                            })
                            .collect(),
                    })
                    .collect(),
            ),
            Err(AppError::NotFound { .. } | AppError::Forbidden { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let mut l = ctx.layout(
        format!("订单 {} · {}", d.view.item_name, d.view.state_label),
        if ctx.caller.may(Permission::ViewServices) {
            "orders"
        } else {
            "orders-mine"
        },
    );
    l.notice = l.notice.or_else(|| done_notice(done));
    let hours = hours_pay(state, &ctx.caller, &d.view.order).await?;
    let dispute = state.app.time_bank().dispute(&ctx.caller, key).await?;
    let resp = render(&DetailPage {
        l,
        hours,
        dispute,
        o: d.view.order.clone(),
        d,
        events,
        candidates,
        error,
        star_choices: star_choices(&typed.1),
        note: typed.0,
    });
    Ok(with_status(resp, failed))
}

async fn show_order(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<OrderId>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    detail_page(
        &state,
        ctx,
        key,
        q.done.as_deref(),
        Default::default(),
        None,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
struct StepForm {
    action: Option<String>,
    note: Option<String>,
    stars: Option<String>,
    /// Where to return: `offered` (the volunteer's list) or the order page.
    back: Option<String>,
}

async fn order_step(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<OrderId>,
    Form(f): Form<StepForm>,
) -> PageResult {
    let action = opt(&f.action)
        .and_then(|a| OrderAction::parse(&a))
        .filter(|a| {
            matches!(
                a,
                OrderAction::Accept
                    | OrderAction::Decline
                    | OrderAction::CheckIn
                    | OrderAction::Rate
                    | OrderAction::Cancel
                    | OrderAction::Close
            )
        });
    let result = match action {
        None => Err(AppError::invalid(
            "invalid_action",
            "action",
            "请选择要做的操作",
        )),
        Some(a) => {
            let stars = match opt(&f.stars) {
                Some(s) => s.parse::<i64>().ok(),
                None => None,
            };
            state
                .app
                .orders()
                .step(
                    &ctx.caller,
                    key,
                    a,
                    OrderStep {
                        provider_id: None,
                        note: f.note.clone(),
                        stars,
                        photo_key: None,
                    },
                )
                .await
                .map(|_| a)
        }
    };
    let to_list = f.back.as_deref() == Some("offered");
    match result {
        Ok(a) if to_list => Ok(see_other(&format!("/orders/offered?done={}", a.as_str()))),
        Ok(a) => Ok(see_other(&format!("/orders/{key}?done={}", a.as_str()))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                if to_list {
                    offered_page(&state, ctx, None, Some(fe)).await
                } else {
                    let typed = (f.note.unwrap_or_default(), f.stars.unwrap_or_default());
                    detail_page(&state, ctx, key, None, typed, Some(fe)).await
                }
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Debug, Deserialize, Default)]
struct DispatchForm {
    provider_id: Option<String>,
}

async fn dispatch_order(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<OrderId>,
    Form(f): Form<DispatchForm>,
) -> PageResult {
    let input = DispatchInput {
        provider_id: opt(&f.provider_id).and_then(|p| p.parse().ok()),
        note: None,
    };
    match state.app.orders().dispatch(&ctx.caller, key, input).await {
        Ok(_) => Ok(see_other(&format!("/orders/{key}?done=dispatch"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => detail_page(&state, ctx, key, None, Default::default(), Some(fe)).await,
            None => Err(e.into()),
        },
    }
}
