//! The home page: the caller's area at a glance, or their own details.

use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};
use yinling_app::{Caller, people::PersonFile};
use yinling_domain::role::Permission;
use yinling_store::org::OrgUnitRow;

use crate::AppState;
use crate::ui::kernel::{Layout, PageCtx, PageResult, render};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template)]
#[template(path = "home/overview.html")]
struct HomePage {
    l: Layout,
    caller: Caller,
    staff: bool,
    roots: Vec<OrgUnitRow>,
    people_count: i64,
    unit_counts: Vec<(&'static str, i64)>,
    me: Option<PersonFile>,
    /// Works at a partner shop's till.
    merchant: bool,
}

async fn home(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    let staff = ctx.caller.may(Permission::ViewPeople);
    let (roots, people_count, unit_counts) = if staff {
        let o = state.app.org().overview(&ctx.caller).await?;
        (o.roots, o.people, o.units)
    } else {
        (Vec::new(), 0, Vec::new())
    };
    let me = match ctx.caller.person {
        Some((c, id)) if !staff => match yinling_app::people::person_key(c, id) {
            Ok(key) => state.app.people().file(&ctx.caller, key).await.ok(),
            Err(_) => None,
        },
        _ => None,
    };
    let merchant = ctx
        .caller
        .grants
        .iter()
        .any(|g| g.role == yinling_domain::role::Role::Merchant);
    let page = HomePage {
        merchant,
        l: ctx.layout("首页", "home"),
        caller: ctx.caller,
        staff,
        roots,
        people_count,
        unit_counts,
        me,
    };
    Ok::<Response, _>(render(&page))
}
