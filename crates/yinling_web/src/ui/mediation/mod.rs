//! Mediation pages (矛盾调解): the case list with filters (`list`), the intake form
//! (`intake`), a case's page with its mediators, sessions, outcome and follow-ups (`show`,
//! its forms in `steps`), and the success-rate page with a period picker and Excel export
//! (`stats`); `forms` is what the forms share. One task per form; every form keeps what was
//! typed when it is refused.

mod forms;
mod intake;
mod list;
mod show;
mod stats;
mod steps;

use axum::Router;
use yinling_app::Caller;
use yinling_domain::role::Permission;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(intake::router())
        .merge(list::router())
        .merge(show::router())
        .merge(stats::router())
        .merge(steps::router())
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
