//! Service order pages (群众点单、老干部接单、一键调度): a resident orders on a phone in
//! 长辈模式 (or a grid worker for them), sees their orders and rates the service
//! (`place`, `mine`); a volunteer's offered orders with 接单 / 拒单 / 到达签到 / 完成服务
//! (`mine`, `show`, `complete`); the staff order list with batch dispatch (`list`); an
//! order with its history and the ranked candidates (`show`); paying with time-bank hours
//! and its disputes (`hours`). The resource and service lists are in [`crate::ui::services`].

mod complete;
mod hours;
mod list;
mod mine;
mod place;
mod show;

use axum::Router;
use yinling_app::{App, Caller};
use yinling_domain::{role::Permission, service::OrderState};

use super::{Choice, NavItem, choices};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(complete::router())
        .merge(hours::router())
        .merge(list::router())
        .merge(mine::router())
        .merge(place::router())
        .merge(show::router())
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

/// Notices after a step (`?done=accept`), in words.
fn done_notice(done: Option<&str>) -> Option<String> {
    let text = match done? {
        "accept" => "您已接单。请按约定时间上门，到达后点“到达签到”。",
        "decline" => "您已拒单，这张订单会派给其他服务者。",
        "check_in" => "已签到，服务计时开始。服务结束后请点“完成服务”。",
        "complete" => "服务已完成，谢谢您！",
        "rate" => "谢谢您的评价！",
        "cancel" => "订单已取消。",
        "close" => "订单已办结。",
        "dispatch" => "已派单，等待服务者接单。",
        "paid" => "已用时间银行支付这次服务。",
        "disputed" => "已提出异议，工作人员会核实；异议成立会把时长退回给您。",
        "decided" => "异议已处理。",
        _ => return None,
    };
    Some(text.to_owned())
}

fn state_choices(current: &str) -> Vec<Choice> {
    choices(
        OrderState::ALL.iter().map(|s| (s.as_str(), s.label_zh())),
        current,
    )
}
