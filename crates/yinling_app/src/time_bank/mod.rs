//! The time bank (时间银行, 微山): minutes deposited for mutual-aid service (awarded from
//! completed orders through the ledger), withdrawn when one receives service, and given to
//! a member of one's household where the county allows it.

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use yinling_domain::{
    ids::{AccountId, Key, OrderId, PersonId},
    ledger::{Reason, SourceKind, Unit},
    org::OrgPath,
    role::Permission,
    scope::Scope,
    service::{HoursDisputeStatus, OrderState},
    time::{local_date, shanghai},
};
use yinling_store::{
    kernel::audit as store_audit,
    ledger::{self as store_ledger, TransferRow},
    lock_key,
    orders::{self as store_orders, HoursDisputeRow, OrderRow},
    people as store_people, services as store_services,
};

use crate::{
    App, AppError, AppResult, Caller,
    kernel::audit::Event,
    ledger::{Actor, Holder, Posting, Receipt, amount_text, apply_one, client_key, retrying},
};

mod hours;
mod input;
mod view;

pub use input::*;
pub use view::*;

/// The time bank (时间银行), reached as [`App::time_bank`].
#[derive(Clone, Copy)]
pub struct TimeBank<'a> {
    app: &'a App,
}

impl App {
    /// The time bank: hours given within a household, paid for service, and disputed.
    pub fn time_bank(&self) -> TimeBank<'_> {
        TimeBank { app: self }
    }
}
