//! 后台任务: the jobs runner's page, for city administrators.

mod list;

use axum::Router;
use yinling_app::Caller;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    list::router()
}

pub fn nav(caller: &Caller) -> Vec<NavItem> {
    let mut nav = Vec::new();
    if yinling_app::jobs::may_manage_jobs(caller) {
        nav.push(NavItem {
            rank: 42,
            href: "/jobs",
            label: "后台任务",
            key: "jobs",
        });
    }
    nav
}
