//! Points and hours: 我的积分 for residents and volunteers (`points`); 积分管理 for staff —
//! adjustments, ledger and earning rules (`manage`).

mod manage;
mod points;

use axum::Router;
use yinling_app::Caller;
use yinling_domain::role::Permission;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(points::router())
        .merge(manage::router())
}

pub fn nav(caller: &Caller) -> Vec<NavItem> {
    let mut nav = Vec::new();
    if caller.person.is_some() {
        nav.push(NavItem {
            rank: 60,
            href: "/points",
            label: "我的积分",
            key: "points",
        });
    }
    if caller.may(Permission::AwardPoints) || caller.may(Permission::ManageLedger) {
        nav.push(NavItem {
            rank: 62,
            href: "/ledger/adjustments",
            label: "积分管理",
            key: "ledger",
        });
    }
    nav
}
