//! The audit log, for administrators.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use serde::Deserialize;
use yinling_app::{PageRequest, kernel::audit::AuditQuery};
use yinling_store::kernel::audit::AuditRow;

use crate::AppState;
use crate::ui::kernel::extract::Query;
use crate::ui::kernel::{Layout, PageCtx, PageResult, filters, opt, render};

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

#[derive(Template)]
#[template(path = "audit/list.html")]
struct AuditPage {
    l: Layout,
    rows: Vec<(AuditRow, &'static str)>,
    action: String,
    entity_key: String,
    page: i64,
}

#[derive(Deserialize)]
struct AuditParams {
    action: Option<String>,
    entity_key: Option<String>,
    page: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(p): Query<AuditParams>,
) -> PageResult {
    let page = PageRequest::new(p.page, Some(50));
    let rows = state
        .app
        .audit()
        .list(
            &ctx.caller,
            AuditQuery {
                action: opt(&p.action),
                entity: None,
                entity_key: opt(&p.entity_key),
                actor_id: None,
            },
            page,
        )
        .await?;
    Ok(render(&AuditPage {
        l: ctx.layout("审计日志", "audit"),
        rows: rows
            .into_iter()
            .map(|r| {
                let label = yinling_app::kernel::audit::action_label(&r.action);
                (r, label)
            })
            .collect(),
        action: p.action.unwrap_or_default(),
        entity_key: p.entity_key.unwrap_or_default(),
        page: page.page,
    }))
}
