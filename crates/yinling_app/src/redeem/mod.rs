//! Redemption at partner shops (积分兑换超市): goods priced in points with stock, the
//! six-digit code an elder shows (as a QR code) or reads out, the redemption itself — one
//! transaction taking the stock, using the code and moving the points — and each shop's
//! monthly settlement statement.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::Workbook;
use serde::{Deserialize, Serialize};
use yinling_domain::{
    ids::{
        AccountId, GoodsId, Key, RedeemLockId, RedemptionId, RedemptionReportId, TransferId, UnitId,
    },
    ledger::{self, LockKind, Reason, ReportState, SourceKind, Unit},
    mask::MaskPolicy,
    org::{OrgKind, OrgPath},
    region::CountyCode,
    role::Permission,
    time::{format_minutes, shanghai},
};
use yinling_store::{
    accounts::throttle as store_throttle,
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    ledger as store_ledger,
    org::{self as store_org, OrgUnitRow},
    people as store_people,
    redeem::shops::{self as store_shops, GoodsRow, LockRow, RedemptionRow, ReportRow},
};

use crate::{
    App, AppError, AppResult, Caller,
    kernel::audit::Event,
    kernel::clock::MINUTE,
    kernel::throttle::Limit,
    ledger::{Actor, Benefit, Holder, Posting, apply_one, client_key, retrying},
};

mod locks;
mod reports;
mod shops;
mod views;

pub use locks::*;
pub use reports::*;
pub use shops::*;
pub use views::*;

/// Redemption at partner shops (积分兑换超市), reached as [`App::redeem`].
#[derive(Clone, Copy)]
pub struct Redeem<'a> {
    app: &'a App,
}

impl App {
    /// Redemption: goods, codes, the redemption itself, settlements, wrong-code locks and
    /// reports of redemptions the elder did not make.
    pub fn redeem(&self) -> Redeem<'_> {
        Redeem { app: self }
    }
}
