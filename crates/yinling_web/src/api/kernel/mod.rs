//! What every capability of the API shares: the extractors whose rejections are JSON errors,
//! the small envelope bodies (`Created`, `Paging`), and the OpenAPI document's frame. The
//! paged list envelope is the app's `Page<T>` over a wire item type; the error envelope is
//! `crate::error::ErrorBody`.

mod extract;
pub(super) mod openapi;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use extract::{ApiJson, ApiPath, ApiQuery};

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
