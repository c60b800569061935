//! The resource list (资源清单: volunteers, teams, studios, partners who serve) and the
//! service list (服务清单: what can be ordered, what it takes, what it awards).

use serde::{Deserialize, Serialize};
use yinling_domain::{
    ids::{Key, PersonId, ProviderId, ServiceItemId, UnitId},
    org::{OrgKind, OrgPath},
    region::CountyCode,
    role::Permission,
    service::{ProviderKind, WeeklyWindow},
};
use yinling_store::{
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    org as store_org, people as store_people,
    services::{self as store_services, ItemFields, ProviderFields, ProviderRow, ServiceItemRow},
};

use crate::{App, AppError, AppResult, Caller, Page, PageRequest, kernel::audit::Event};

mod categories;
mod demo;
mod items;
mod providers;

pub use categories::*;
pub use demo::*;
pub use items::*;
pub use providers::*;

/// The resource and service lists (资源清单, 服务清单) and the categories, reached as
/// [`App::services`].
#[derive(Clone, Copy)]
pub struct Services<'a> {
    app: &'a App,
}

impl App {
    /// The resource list, the service list and the categories of needs and services.
    pub fn services(&self) -> Services<'_> {
        Services { app: self }
    }
}
