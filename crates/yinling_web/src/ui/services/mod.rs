//! The resource list (资源清单): volunteers, teams, studios and partners (`providers`).

mod providers;

use axum::Router;
use yinling_app::Caller;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    providers::router()
}

/// No menu entry: the resource list is reached from the order pages.
pub fn nav(_caller: &Caller) -> Vec<NavItem> {
    Vec::new()
}
