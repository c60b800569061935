//! The audit log, for administrators.

mod list;

use axum::Router;
use yinling_app::Caller;
use yinling_domain::role::Permission;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    list::router()
}

pub fn nav(caller: &Caller) -> Vec<NavItem> {
    let mut nav = Vec::new();
    if caller.may(Permission::ViewAudit) {
        nav.push(NavItem {
            rank: 41,
            href: "/audit",
            label: "审计",
            key: "audit",
        });
    }
    nav
}
