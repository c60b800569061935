//! People files (一人一档): search, read (masked), reveal (audited), create, change, roles,
//! specialties, tags.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use yinling_domain::{
    id_number::{Gender, IdNumber, age_on},
    ids::{AccountId, Key, PersonId, PersonRoleId, PlaceId, TagId, UnitId},
    name::{PersonName, SearchKey, search_key},
    org::OrgPath,
    person::{DuplicateStatus, PersonRoleKind, PersonStatus, RoleDetails, TagSource},
    phone::Phone,
    region::CountyCode,
    role::Permission,
    scope::Scope,
};
use yinling_store::{
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    org as store_org,
    org::places as store_places,
    people::tags::{self as store_tags, NewPersonTag, PersonTagRow},
    people::{
        self as store_people, NewPerson, NewRole, PersonFilter, PersonListRow, PersonRow,
        PersonUpdate, RoleRow, SearchTerm,
    },
};

use crate::{
    App, AppError, AppResult, Caller, Page, PageRequest, kernel::audit::Event,
    kernel::text::TextKind, kernel::vault::Field,
};

mod duplicates;
mod export;
mod input;
mod records;
mod roster;
mod search;
mod tags;
mod view;

pub use duplicates::*;
pub use input::*;
use records::*;
pub use tags::*;
pub use view::*;

/// People (一人一档), reached as [`App::people`].
#[derive(Clone, Copy)]
pub struct People<'a> {
    app: &'a App,
}

impl App {
    /// People: one file per person, searched within scope, masked as the role requires.
    pub fn people(&self) -> People<'_> {
        People { app: self }
    }
}

/// The key of a person from the two numbers another capability still holds (a row's
/// `county_code` and `person_id`); numbers that cannot be a key find nobody.
pub fn person_key(county_code: i64, id: i64) -> AppResult<Key<PersonId>> {
    crate::kernel::key::found(county_code, id, "人员")
}
