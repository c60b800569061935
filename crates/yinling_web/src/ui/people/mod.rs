//! People: the list with search, a person's file and its actions, duplicates review
//! (`persons`); the tag vocabulary (`tags`).

mod persons;
mod tags;

use axum::Router;
use yinling_app::Caller;
use yinling_domain::role::Permission;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(persons::router()).merge(tags::router())
}

pub fn nav(caller: &Caller) -> Vec<NavItem> {
    let mut nav = Vec::new();
    if caller.may(Permission::ViewPeople) {
        nav.push(NavItem {
            rank: 11,
            href: "/people",
            label: "人员",
            key: "people",
        });
        nav.push(NavItem {
            rank: 12,
            href: "/tags",
            label: "标签",
            key: "tags",
        });
    }
    if caller.may(Permission::ReviewDuplicates) {
        nav.push(NavItem {
            rank: 13,
            href: "/people/duplicates",
            label: "重复登记复核",
            key: "duplicates",
        });
    }
    nav
}
