//! Mediation cases (矛盾调解), end to end: intake, mediators, sessions, outcome, follow-up,
//! and success rates per studio, team and subtree for any period, on screen and in Excel.
//!
//! Who may do what: [`Permission::Mediate`] takes in cases and records everything after;
//! [`Permission::ViewServices`] reads cases and figures; [`Permission::Export`] exports.
//! A case belongs to the unit where the dispute arose and is visible exactly where that
//! unit is. Mediators come from the caller's scope: retired cadres living there, and the
//! cadre studios (老干部工作室) and volunteer teams of the case's county.
//!
//! The success rate is defined once, in [`yinling_domain::mediation`]: cases concluded as
//! 调解成功 in the period ÷ all cases concluded in the period, always shown with its counts.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use rust_xlsxwriter::{Format, Workbook};
use serde::{Deserialize, Serialize};
use yinling_domain::{
    ids::{AccountId, CaseId, FollowUpId, Key, PersonId, PlaceId, SessionId, UnitId},
    mediation::{
        CaseAction, CaseStatus, DisputeCategory, Mediator, MediatorKind, Outcome, OutcomeCounts,
        PartySide, Period, TransitionError, transition,
    },
    org::{OrgKind, OrgPath},
    region::CountyCode,
    role::Permission,
    scope::Scope,
};
use yinling_store::{
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    mediation::{
        self as store, CadreRow, CaseFilter, CaseRow, FollowupRow, MediatorRow, NewCase,
        NewFollowup, NewMediator, NewParty, NewSession, PickRow,
    },
    org::places as store_places,
    org::{self as store_org, NewOrgUnit, OrgUnitRow},
    people as store_people,
};

use crate::{
    App, AppError, AppResult, Caller, Page, PageRequest, kernel::audit::Event, people::parse_key,
};

mod cases;
mod checks;
mod demo;
mod export;
mod input;
mod intake;
mod mediators;
mod stats;
mod steps;
mod view;

pub use checks::case_key;
use checks::*;
pub use input::*;
use mediators::*;
pub use view::*;

/// Mediation cases (矛盾调解), reached as [`App::mediation`].
#[derive(Clone, Copy)]
pub struct Mediation<'a> {
    app: &'a App,
}

impl App {
    /// Mediation cases: intake, mediators, sessions, outcome, follow-up, success rates and
    /// their export.
    pub fn mediation(&self) -> Mediation<'_> {
        Mediation { app: self }
    }
}
