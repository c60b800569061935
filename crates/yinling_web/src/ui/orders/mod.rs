//! Service orders (群众点单、老干部接单、一键调度).

mod show;

use axum::Router;
use yinling_app::{App, Caller};
use yinling_domain::role::Permission;

use super::NavItem;
use crate::AppState;

pub fn router() -> Router<AppState> {
    show::router()
}

/// The menu items for service orders; 我的接单 only for those on the resource list.
pub async fn nav(app: &App, caller: &Caller) -> Vec<NavItem> {
    let mut items = Vec::new();
    if caller.may(Permission::ViewServices) {
        items.push(NavItem {
            rank: 50,
            href: "/orders",
            label: "服务订单",
            key: "orders",
        });
    }
    if caller.person.is_some() && !caller.may(Permission::ViewServices) {
        items.push(NavItem {
            rank: 51,
            href: "/orders/new",
            label: "我要点单",
            key: "order-new",
        });
        items.push(NavItem {
            rank: 52,
            href: "/orders/mine",
            label: "我的订单",
            key: "orders-mine",
        });
    }
    match app.services().my_providers(caller).await {
        Ok(p) if !p.is_empty() => items.push(NavItem {
            rank: 53,
            href: "/orders/offered",
            label: "我的接单",
            key: "orders-offered",
        }),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "providers of caller"),
    }
    items
}
