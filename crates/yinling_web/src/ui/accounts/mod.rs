//! Accounts: login, logout, password change, 长辈模式 and keep-alive (`auth`); account
//! administration (`users`).

pub(crate) mod auth;
mod users;

use axum::Router;
use yinling_app::Caller;
use yinling_domain::role::Permission;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(auth::router()).merge(users::router())
}

pub fn nav(caller: &Caller) -> Vec<NavItem> {
    let mut nav = Vec::new();
    if caller.may(Permission::ManageUsers) {
        nav.push(NavItem {
            rank: 40,
            href: "/users",
            label: "账号",
            key: "users",
        });
    }
    nav.push(NavItem {
        rank: 90,
        href: "/account",
        label: "我的账号",
        key: "account",
    });
    nav
}
