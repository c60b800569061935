//! Server-rendered pages in Simplified Chinese. One template struct per page, checked at
//! compile time. Every page works in 长辈模式 (larger text and targets, one task per
//! screen), on a phone, and from the keyboard; nothing pops up or expires while read.
//!
//! One folder per capability (the app crate's names), each with its `router()` and its
//! menu entries (`nav()`); what all pages share is in [`kernel`]. Adding a capability's
//! pages: a folder `ui/<capability>/` with `mod.rs` (`router()`, `nav()`), its page files
//! and `templates/<capability>/`, then one line in each list below.

mod accounts;
mod audit;
mod home;
mod jobs;
pub mod kernel;
mod ledger;
mod mediation;
mod needs;
mod orders;
mod org;
mod people;
mod redeem;
mod services;

use axum::Router;
use yinling_app::{App, Caller};

pub use kernel::*;

use crate::AppState;

/// Every capability's pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(accounts::router())
        .merge(home::router())
        .merge(org::router())
        .merge(people::router())
        .merge(audit::router())
        .merge(needs::router())
        .merge(mediation::router())
        .merge(orders::router())
        .merge(services::router())
        .merge(ledger::router())
        .merge(redeem::router())
        .merge(jobs::router())
}

/// The caller's main menu: every capability's entries, in rank order.
pub(crate) async fn nav(app: &App, caller: &Caller) -> Vec<NavItem> {
    let mut nav = Vec::new();
    nav.extend(accounts::nav(caller));
    nav.extend(home::nav(caller));
    nav.extend(org::nav(caller));
    nav.extend(people::nav(caller));
    nav.extend(audit::nav(caller));
    nav.extend(needs::nav(caller));
    nav.extend(mediation::nav(caller));
    nav.extend(orders::nav(app, caller).await);
    nav.extend(services::nav(caller));
    nav.extend(ledger::nav(caller));
    nav.extend(redeem::nav(caller));
    nav.extend(jobs::nav(caller));
    nav.sort_by_key(|n| n.rank);
    nav
}
