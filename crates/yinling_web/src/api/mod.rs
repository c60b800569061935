//! The JSON API, version 1: one folder per capability (routes in `mod.rs`, wire types in
//! `types.rs`), the shared parts in `kernel/`. Every handler is annotated for OpenAPI and
//! registered through `utoipa_axum::routes!`, so the served document is built from the very
//! route table the server runs.

mod kernel;

mod accounts;
mod audit;
mod ledger;
mod mediation;
mod needs;
mod orders;
mod org;
mod people;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub use kernel::{ApiJson, ApiPath, ApiQuery, openapi::openapi};

/// One line per capability.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(kernel::openapi::ApiDoc::openapi())
        .merge(accounts::router())
        .merge(org::router())
        .merge(people::router())
        .merge(audit::router())
        .merge(orders::router())
        .merge(needs::router())
        .merge(mediation::router())
        .merge(ledger::router())
}
