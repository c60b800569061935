//! The needs ledger (需求清单 / 需求台账, 鱼台's 敲门问需): grid workers record what a person
//! or household needs, follow it up until it is resolved or closed, and keep the ledger in
//! Excel — exported masked and audited, imported all-or-nothing with a report of every bad
//! cell, so a corrected file can simply be uploaded again.

use std::collections::HashMap;

use chrono::NaiveDate;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde::{Deserialize, Serialize};
use yinling_domain::{
    id_number::{IdNumber, age_on},
    ids::{AccountId, Key, NeedId, OrderId, PersonId, PlaceId, UnitId},
    need::{self as rules, NeedSource, NeedStatus},
    org::{OrgKind, OrgPath},
    region::CountyCode,
    role::Permission,
    scope::Scope,
    service::Urgency,
};
use yinling_store::{
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    needs::{self as store_needs, FollowupRow, NeedFilter, NeedRow, NewFollowup, NewNeed},
    org as store_org,
    org::places as store_places,
    people as store_people,
};

use crate::{
    App, AppError, AppResult, CITY_COUNTY_CODE, Caller, Page, PageRequest, kernel::audit::Event,
    kernel::vault::Field, people::parse_key, services::Category,
};

/// Uploads larger than this are refused before they are opened.
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// Data rows one import may hold.
pub const MAX_IMPORT_ROWS: usize = 5_000;
/// Problems listed in one report; the count says how many there were in all.
pub const MAX_REPORTED_PROBLEMS: usize = 1_000;

mod demo;
mod export;
mod import;
mod input;
mod records;
mod view;

pub use import::*;
pub use input::*;
use records::*;
pub use view::*;

/// The needs ledger (需求清单), reached as [`App::needs`].
#[derive(Clone, Copy)]
pub struct Needs<'a> {
    app: &'a App,
}

impl App {
    /// The needs ledger: record, follow up, export and import what residents need.
    pub fn needs(&self) -> Needs<'_> {
        Needs { app: self }
    }
}
