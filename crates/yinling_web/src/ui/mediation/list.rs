//! The case list with its filters.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use serde::Deserialize;
use yinling_app::{
    AppError, Page, PageRequest,
    mediation::{CaseListItem, CaseQuery},
};
use yinling_domain::role::Permission;

use super::forms::{category_choices, outcome_choices, status_choices};
use crate::AppState;
use crate::ui::kernel::extract::Query;
use crate::ui::kernel::{Choice, FormError, Layout, PageCtx, PageResult, opt, render};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/mediation", get(list))
}

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
