//! Accounts over the API: logging in and the caller's own account (`session.rs`), account
//! administration (`users.rs`); their bodies in `types.rs`.

mod session;
mod types;
mod users;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(session::router())
        .merge(users::router())
}
