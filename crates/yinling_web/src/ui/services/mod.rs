//! The resource list (资源清单): volunteers, teams, studios and partners (`providers`); the
//! service list (服务项目, `items`).

mod items;
mod providers;

use axum::Router;
use yinling_app::Caller;
use yinling_domain::role::Permission;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(providers::router())
        .merge(items::router())
}

/// No menu entry: the resource list is reached from the order pages.
pub fn nav(_caller: &Caller) -> Vec<NavItem> {
    Vec::new()
}

/// The county whose categories the list offers: the caller's first.
pub(crate) fn county_of(caller: &Caller) -> i64 {
    caller
        .scope(Permission::ViewServices)
        .ranges()
        .first()
        .and_then(|r| r.single_county())
        .unwrap_or(yinling_app::CITY_COUNTY_CODE)
}
