//! People (one person, one file), their roles, specialties and household.

pub mod tags;

mod duplicates;
mod records;
mod roles;
mod rows;
mod search;

pub use duplicates::*;
pub use records::*;
pub use roles::*;
pub use rows::*;
pub use search::*;

use serde::Serialize;
use yinling_domain::{
    id_number::Gender,
    ids::{AccountId, Key, PersonId, PersonRoleId, PlaceId, TagId, UnitId},
    person::{DuplicateStatus, PersonRoleKind, PersonStatus},
    region::CountyCode,
    scope::Scope,
};

use crate::{Exec, Micros, Query, Result, StoreError, db, kernel::scope, q};
