//! 我的订单 and 我的接单: a resident's orders, a volunteer's offered orders with their steps.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use yinling_app::orders::OrderView;
use yinling_domain::ids::Key;

use super::done_notice;
use crate::AppState;
use crate::ui::kernel::extract::Query;
use crate::ui::kernel::{DoneQuery, FormError, Layout, PageCtx, PageResult, render, with_status};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/mine", get(my_orders))
        .route("/orders/offered", get(offered_orders))
}

// ---- 我的订单 / 我的接单 ----

#[derive(Template)]
#[template(path = "orders/mine.html")]
struct MinePage {
    l: Layout,
    orders: Vec<OrderView>,
}

async fn my_orders(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let orders = state.app.orders().mine(&ctx.caller).await?;
    let mut l = ctx.layout("我的订单", "orders-mine");
    l.notice = l.notice.or_else(|| done_notice(q.done.as_deref()));
    Ok(render(&MinePage { l, orders }))
}

/// An order on the volunteer's list with what they may do now.
struct OfferedCard {
    v: OrderView,
    actions: Vec<&'static str>,
}

impl OfferedCard {
    fn can(&self, a: &str) -> bool {
        self.actions.contains(&a)
    }
}

#[derive(Template)]
#[template(path = "orders/offered.html")]
struct OfferedPage {
    l: Layout,
    cards: Vec<OfferedCard>,
    error: Option<FormError>,
}

pub(super) async fn offered_page(
    state: &AppState,
    ctx: PageCtx,
    done: Option<&str>,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let views = state
        .app
        .orders()
        .provider_orders(&ctx.caller, false)
        .await?;
    let mut cards = Vec::with_capacity(views.len());
    for v in views {
        let d = state
            .app
            .orders()
            .detail(&ctx.caller, Key::new(v.order.county_code, v.order.id))
            .await?;
        cards.push(OfferedCard {
            actions: d.actions,
            v: d.view,
        });
    }
    // Work still to do first, then what is finished.
    cards.sort_by_key(|c| !c.v.order.state.is_open());
    let mut l = ctx.layout("我的接单", "orders-offered");
    l.notice = l.notice.or_else(|| done_notice(done));
    Ok(with_status(
        render(&OfferedPage { l, cards, error }),
        failed,
    ))
}

async fn offered_orders(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    offered_page(&state, ctx, q.done.as_deref(), None).await
}
