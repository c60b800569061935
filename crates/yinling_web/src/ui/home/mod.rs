//! The home page: the caller's area at a glance, or their own details.

mod overview;

use axum::Router;
use yinling_app::Caller;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    overview::router()
}

pub fn nav(_caller: &Caller) -> Vec<NavItem> {
    vec![NavItem {
        rank: 0,
        href: "/",
        label: "首页",
        key: "home",
    }]
}
