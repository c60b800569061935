//! The organisation tree: browsing, unit management, members, a unit's places.

mod units;

use axum::Router;
use yinling_app::Caller;
use yinling_domain::role::Permission;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    units::router()
}

pub fn nav(caller: &Caller) -> Vec<NavItem> {
    let mut nav = Vec::new();
    if caller.may(Permission::ViewPeople) {
        nav.push(NavItem {
            rank: 10,
            href: "/org",
            label: "组织",
            key: "org",
        });
    }
    nav
}
