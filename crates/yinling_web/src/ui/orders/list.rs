//! The staff order list with filters and batch dispatch.

use askama::Template;
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::{
    AppError, Page, PageRequest, orders::BatchReport, orders::OrderView, people::parse_key,
};
use yinling_domain::{
    ids::{Key, UnitId},
    role::Permission,
    service::OrderState,
};
use yinling_store::orders::OrderFilter;

use super::state_choices;
use crate::AppState;
use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, choices, opt, render, see_other, with_status,
};
use crate::ui::services::county_of;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list_orders))
        .route("/orders/batch", post(batch_dispatch))
}

// ---- staff order list ----

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    state: Option<String>,
    category: Option<String>,
    escalated: Option<String>,
    page: Option<i64>,
    /// A batch dispatch's report: considered, dispatched, unmatched.
    considered: Option<usize>,
    dispatched: Option<usize>,
    unmatched: Option<usize>,
}

impl ListQuery {
    fn base_query(&self) -> String {
        let pairs: Vec<(&str, String)> = [
            ("state", opt(&self.state)),
            ("category", opt(&self.category)),
            ("escalated", opt(&self.escalated)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// A unit the caller may batch-dispatch in.
struct BatchUnit {
    key: String,
    name: String,
}

#[derive(Template)]
#[template(path = "orders/list.html")]
struct ListPage {
    l: Layout,
    states: Vec<Choice>,
    categories: Vec<Choice>,
    escalated: bool,
    result: Page<OrderView>,
    base_query: String,
    batch_units: Vec<BatchUnit>,
    report: Option<BatchReport>,
    error: Option<FormError>,
}

async fn list_page(
    state: &AppState,
    ctx: PageCtx,
    q: ListQuery,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    if !ctx.caller.may(Permission::ViewServices) {
        return Err(AppError::forbidden("您无权查看服务订单").into());
    }
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let filter = OrderFilter {
        states: opt(&q.state)
            .and_then(|s| OrderState::parse(&s))
            .into_iter()
            .collect(),
        category: opt(&q.category),
        escalated: opt(&q.escalated).is_some(),
    };
    let result = state
        .app
        .orders()
        .list(&ctx.caller, filter, PageRequest::new(q.page, Some(20)))
        .await?;
    let cats = state
        .app
        .services()
        .categories(county_of(&ctx.caller))
        .await?;
    let batch_units = ctx
        .caller
        .grants
        .iter()
        .filter(|g| g.role.allows(Permission::Dispatch))
        .map(|g| BatchUnit {
            key: format!("{}/{}", g.unit_county_code, g.unit_id),
            name: g.unit_name.clone(),
        })
        .collect();
    let report = match (q.considered, q.dispatched, q.unmatched) {
        (Some(considered), Some(dispatched), Some(unmatched)) => Some(BatchReport {
            considered,
            dispatched,
            unmatched,
        }),
        _ => None,
    };
    let resp = render(&ListPage {
        l: ctx.layout("服务订单", "orders"),
        states: state_choices(&s(&q.state)),
        categories: choices(
            cats.iter().map(|c| (c.code.as_str(), c.label.as_str())),
            &s(&q.category),
        ),
        escalated: opt(&q.escalated).is_some(),
        base_query: q.base_query(),
        result,
        batch_units,
        report,
        error,
    });
    Ok(with_status(resp, failed))
}

async fn list_orders(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> PageResult {
    list_page(&state, ctx, q, None).await
}

#[derive(Debug, Deserialize)]
struct BatchForm {
    unit: Option<String>,
}

async fn batch_dispatch(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<BatchForm>,
) -> PageResult {
    let unit = opt(&f.unit).and_then(|u| parse_key(&u));
    let result = match unit {
        Some((c, u)) => match Key::<UnitId>::from_parts(c, u) {
            Ok(unit) => state.app.orders().batch_dispatch(&ctx.caller, unit).await,
            Err(_) => Err(AppError::NotFound { what: "单位" }),
        },
        None => Err(AppError::invalid(
            "unit_required",
            "unit",
            "请选择要派单的社区或网格",
        )),
    };
    match result {
        Ok(r) => Ok(see_other(&format!(
            "/orders?considered={}&dispatched={}&unmatched={}",
            r.considered, r.dispatched, r.unmatched
        ))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => list_page(&state, ctx, ListQuery::default(), Some(fe)).await,
            None => Err(e.into()),
        },
    }
}
