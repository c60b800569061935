//! 积分兑换超市: the partner shop's till, goods and settlement, and the county's watch over
//! redemption (locks, reports) (`shop`).

mod shop;

use axum::Router;
use yinling_app::Caller;
use yinling_domain::role::Role;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    shop::router()
}

pub fn nav(caller: &Caller) -> Vec<NavItem> {
    let mut nav = Vec::new();
    if caller.grants.iter().any(|g| g.role == Role::Merchant) {
        nav.push(NavItem {
            rank: 61,
            href: "/shop",
            label: "积分兑换",
            key: "shop",
        });
    }
    nav
}
