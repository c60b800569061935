//! Service orders (点单 → 接单), their offers, their event log and the awards they earn.
//!
//! State changes are conditional updates: `UPDATE … WHERE state IN (…) AND version = …`.
//! Whoever's update matches first wins; a concurrent second gets zero rows and is told the
//! order moved on. This is what makes "two volunteers accept at once, exactly one wins"
//! hold on both SQLite (one writer) and PostgreSQL (row locks, re-checked predicate).

mod dispatch;
mod disputes;
mod entitlements;
mod lifecycle;
mod offers;
mod photos;
mod rows;

pub use dispatch::*;
pub use disputes::*;
pub use entitlements::*;
pub use lifecycle::*;
pub use offers::*;
pub use photos::*;
pub use rows::*;

use serde::Serialize;
use yinling_domain::{
    ids::{
        AccountId, Key, NeedId, OrderId, PersonId, ProviderId, ServiceItemId, TransferId, UnitId,
    },
    region::CountyCode,
    scope::Scope,
    service::{
        self, HoursDisputeStatus, OfferStatus, OrderAction, OrderActor, OrderState, Urgency,
    },
};

use crate::{Exec, Micros, Query, Result, StoreError, db, kernel::scope, q, services::prefixed};
