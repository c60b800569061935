//! The points and time-bank ledger: accounts, append-only transfers, per-county rules,
//! adjustments awaiting approval, and the checks `yinling ledger verify` runs.
//!
//! A batch of transfers is written with a handful of statements whatever its size: the
//! accounts it touches are locked and read at once (PostgreSQL `FOR UPDATE`, in id order so
//! two batches never deadlock; SQLite has one writer), the transfers go in as one insert
//! and the new balances in one `UPDATE … FROM`.
//!
//! An account's transfers form a chain (migration 0006): each transfer names the previous
//! transfer of its debit and of its credit account, each account its latest. There is no
//! index by account, so a transfer is written in one place; readers walk a chain back from
//! the latest by primary key ([`statement`], [`recent_sums`], [`expiry_candidates`]).
//! Along a chain `created_at` never decreases (the caller dates a batch no earlier than
//! the `last_at` of its accounts), so a walk back to a moment stops exactly there.

mod accounts;
mod adjustments;
mod rows;
mod rules;
mod transfers;
mod verify;

pub use accounts::*;
pub use adjustments::*;
pub use rows::*;
pub use rules::*;
pub use transfers::*;
pub use verify::*;

use serde::Serialize;
use yinling_domain::{
    ids::{AdjustmentId, Key, LedgerAccountId, TransferId},
    ledger::{AccountKind, AdjustmentStatus, SourceKind, Unit},
    region::CountyCode,
    scope::Scope,
};

use crate::{Exec, Micros, Query, Result, StoreError, db, kernel::scope, q};
