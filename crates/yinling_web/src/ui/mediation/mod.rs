//! Mediation pages (矛盾调解).

mod cases;

use axum::Router;
use yinling_app::Caller;
use yinling_domain::role::Permission;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    cases::router()
}

pub fn nav(caller: &Caller) -> Vec<NavItem> {
    let mut nav = Vec::new();
    if caller.may(Permission::ViewServices) {
        nav.push(NavItem {
            rank: 31,
            href: "/mediation",
            label: "矛盾调解",
            key: "mediation",
        });
    }
    nav
}
