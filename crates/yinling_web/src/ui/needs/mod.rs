//! Needs ledger pages (需求台账).

mod records;

use axum::Router;
use yinling_app::Caller;
use yinling_domain::role::Permission;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    records::router()
}

pub fn nav(caller: &Caller) -> Vec<NavItem> {
    let mut nav = Vec::new();
    if caller.may(Permission::ViewServices) {
        nav.push(NavItem {
            rank: 30,
            href: "/needs",
            label: "需求台账",
            key: "needs",
        });
    }
    nav
}
