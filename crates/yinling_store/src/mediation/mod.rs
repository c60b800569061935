//! Mediation cases (矛盾调解): cases, parties, mediators, sessions, follow-ups, and the
//! success-rate figures, aggregated in SQL with `GROUP BY` inside the caller's scope.

mod cases;
mod picks;
mod rows;
mod stats;

pub use cases::*;
pub use picks::*;
pub use rows::*;
pub use stats::*;

use serde::Serialize;
use yinling_domain::{
    ids::{AccountId, CaseId, FollowUpId, Key, PersonId, PlaceId, SessionId, UnitId},
    mediation::{
        CaseStatus, DisputeCategory, Mediator, MediatorKind, Outcome, OutcomeCounts, PartySide,
    },
    region::CountyCode,
    scope::Scope,
};

use crate::{Exec, Micros, Query, Result, StoreError, db, kernel::scope, q};
