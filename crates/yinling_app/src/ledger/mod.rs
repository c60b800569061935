//! The points and time-bank ledger (信用+积分, 时间银行): every award, redemption, gift,
//! withdrawal, expiry and correction is a [`Posting`] applied by [`apply`] inside a
//! transaction. [`apply`] is the one place that writes transfers, and it writes each
//! transfer's audit event (`ledger.<reason>`, who asked and from where) in the same
//! transaction, so every movement is in the hash-chained audit log by construction.
//!
//! Idempotency keys a client sends are stored in the client's namespace
//! ([`client_key`]: `c:<account>:<operation>:<key>`), apart from the keys the system derives
//! (`entitlement:…`, `adjustment:…`), so no request can take a key a job will need.
//! Staff never pay themselves: awards, adjustments, their approval and reversals in favour
//! of the caller's own file or household are refused and the refusal is audited.
//!
//! Standalone postings go through one writer task per process ([`LedgerWriter`]): callers
//! queue them and await their receipt; the writer takes whatever has queued, applies it in
//! one transaction and one durable commit, then answers each caller. This is group commit:
//! under load a single fsync acknowledges hundreds of transfers, and nothing is acknowledged
//! before it is committed. Work that must move points atomically with something else (a
//! redemption decrements stock; an entitlement is marked taken) calls [`apply`] inside its
//! own transaction instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use yinling_domain::{
    ids::{AccountId, AdjustmentId, Key, LedgerAccountId, PersonId, TransferId, UnitId},
    ledger::{
        self, AccountKind, AccountState, AdjustmentStatus, Content, Decision, FamilyTransfer,
        Reason, Refusal, SourceKind, Unit,
    },
    org::OrgPath,
    region::CountyCode,
    role::Permission,
    time::local_date,
};
use yinling_store::{
    Store, Tx, accounts as store_accounts,
    kernel::audit::{self as store_audit, NewAuditEvent},
    kernel::ids::{self, Seq},
    ledger::{
        self as store_ledger, AccountKey, AccountRow, AccountUpdate, EarningRuleRow, RulesRow,
        Side, TransferRow,
    },
    orders as store_orders, org as store_org, people as store_people,
};

use crate::{App, AppError, AppResult, Caller, Clock, Page, PageRequest, kernel::audit::Event};

mod corrections;
mod demo;
mod earning;
mod expiry;
mod kin;
mod posting;
mod rules;
mod statements;
mod views;
mod writer;

pub use corrections::*;
pub use demo::*;
pub use earning::*;
pub use expiry::*;
pub use kin::*;
pub use posting::*;
pub use rules::*;
pub use statements::*;
pub use views::*;
pub use writer::*;

/// The points and time-bank ledger, reached as [`App::ledger`].
#[derive(Clone, Copy)]
pub struct Ledger<'a> {
    app: &'a App,
}

/// The caller's own person file as a key (the caller still carries it as a pair).
pub(crate) fn caller_person(caller: &Caller) -> Option<Key<PersonId>> {
    caller.person.and_then(|(c, i)| Key::from_parts(c, i).ok())
}

/// The caller's login account.
pub(crate) fn caller_account(caller: &Caller) -> Option<AccountId> {
    caller.account_id.map(AccountId)
}

/// A person's accounts from another capability's pair of numbers.
pub(crate) fn person_holder(county: i64, id: i64) -> AppResult<Holder> {
    Ok(Holder::Person {
        county_code: crate::kernel::key::stored_county(county)?,
        id: PersonId::try_from(id).map_err(|e| AppError::Internal(e.to_string()))?,
    })
}

impl App {
    /// The ledger: postings, balances and statements, rules, earning, corrections, expiry.
    pub fn ledger(&self) -> Ledger<'_> {
        Ledger { app: self }
    }
}
