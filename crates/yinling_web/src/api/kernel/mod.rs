//! What every capability of the API shares: the extractors whose rejections are JSON errors,
//! the small envelope bodies (`Created`, `Paging`), and the OpenAPI document's frame. The
//! paged list envelope is the app's `Page<T>` over a wire item type; the error envelope is
//! `crate::kernel::error::ErrorBody`.

mod extract;
pub(super) mod openapi;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yinling_app::{Key, Page};
use yinling_domain::ids::{Id, IdError};

pub use extract::{ApiJson, ApiKey, ApiPath, ApiQuery};

/// The id of something just created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub county_code: Option<i64>,
    pub id: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page number, from 1.
    pub page: Option<i64>,
    /// Rows per page (1–200, default 20).
    pub per_page: Option<i64>,
}

/// A time on the wire: microseconds since the Unix epoch (published as the schema `i64`).
pub type Micros = i64;

/// A page of the app's items as a page of wire items. The envelope itself is the app's
/// `Page<T>` (items, total, total_is_lower_bound, page, per_page): it carries no storage
/// field, so the API serves it as it is, over its own item types.
pub fn page_of<A, B: From<A>>(p: Page<A>) -> Page<B> {
    Page {
        items: p.items.into_iter().map(Into::into).collect(),
        total: p.total,
        total_is_lower_bound: p.total_is_lower_bound,
        page: p.page,
        per_page: p.per_page,
    }
}

/// A list of the app's items as a list of wire items.
pub fn list_of<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
    v.into_iter().map(Into::into).collect()
}

/// A reference to a tenant-owned record (a person, a unit): its county and id.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[schema(as = Key)]
pub struct KeyBody {
    pub county_code: i64,
    pub id: i64,
}

impl KeyBody {
    /// The record `what` this body names; numbers no record can have answer as not found.
    pub fn key<T>(self, what: &'static str) -> Result<Key<T>, yinling_app::AppError>
    where
        T: Id + TryFrom<i64, Error = IdError>,
    {
        yinling_app::kernel::key::found(self.county_code, self.id, what)
    }
}

impl<T: Id> From<Key<T>> for KeyBody {
    fn from(k: Key<T>) -> Self {
        KeyBody {
            county_code: k.county(),
            id: k.id(),
        }
    }
}
