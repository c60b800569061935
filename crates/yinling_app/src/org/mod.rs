//! The organisation tree: browsing, creating units and grids, moving subtrees.

use serde::{Deserialize, Serialize};
use yinling_domain::{
    ids::{Key, PlaceId, UnitId},
    org::{OrgKind, OrgPath},
    region::CountyCode,
    region::RegionCode,
    role::Permission,
};
use yinling_store::{
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    org::{self as store_org, ChildRow, NewOrgUnit, OrgUnitRow, OrgUnitUpdate, UnitFilter},
    people as store_people,
};

use crate::{
    App, AppError, AppResult, Caller, Page, PageRequest,
    kernel::audit::Event,
    kernel::text::{Label, Line, ReadField, TextKind},
};

mod input;
mod places;
mod regions;
mod units;
mod view;

pub use input::*;
pub use places::*;
pub use regions::*;
pub use units::*;
pub use view::*;

/// The organisation tree and its places (组织, 网格, 楼栋, 户), reached as [`App::org`].
#[derive(Clone, Copy)]
pub struct Org<'a> {
    app: &'a App,
}

impl App {
    /// The organisation tree, its places and the statistical divisions it rests on.
    pub fn org(&self) -> Org<'_> {
        Org { app: self }
    }
}

/// The key of a unit from the two numbers of a path or a form; numbers that cannot be a
/// key find no unit.
pub fn unit_key(
    county_code: i64,
    id: i64,
) -> AppResult<yinling_domain::ids::Key<yinling_domain::ids::UnitId>> {
    crate::kernel::key::found(county_code, id, "组织")
}
