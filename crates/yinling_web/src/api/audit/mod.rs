//! The audit log over the API; its bodies in `types.rs`.

mod types;

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use yinling_app::{PageRequest, kernel::audit::AuditQuery};

use self::types::AuditEventResponse;
use crate::api::kernel::ApiQuery;
use crate::{
    AppState,
    kernel::error::{ApiError, ErrorBody},
    kernel::session::ApiCaller,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Action, or a prefix of it (`person.`).
    pub action: Option<String>,
    pub entity: Option<String>,
    /// e.g. `370830/123`.
    pub entity_key: Option<String>,
    pub actor_id: Option<i64>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Audit events in the caller's counties, newest first (administrators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "审计", params(AuditParams),
    responses((status = 200, body = Vec<AuditEventResponse>), (status = 403, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<axum::Json<Vec<AuditEventResponse>>, ApiError> {
    let q = AuditQuery {
        action: p.action,
        entity: p.entity,
        entity_key: p.entity_key,
        actor_id: p.actor_id,
    };
    Ok(axum::Json(
        state
            .app
            .audit()
            .list(&c.caller, q, PageRequest::new(p.page, p.per_page))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}
