//! Account administration over the API.

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use yinling_app::{Page, PageRequest};

use super::types::{AccountListItemResponse, AccountViewResponse, GrantRequest, NewAccount};
use crate::api::kernel::{ApiJson, ApiPath, ApiQuery, Created, page_of};
use crate::{
    AppState,
    kernel::error::{ApiError, ErrorBody},
    kernel::session::ApiCaller,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(find_user))
        .routes(routes!(add_grant))
        .routes(routes!(remove_grant))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Accounts the caller administers.
#[utoipa::path(get, path = "/api/v1/users", tag = "账号", params(UsersQuery),
    responses((status = 200, body = Page<AccountListItemResponse>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<UsersQuery>,
) -> Result<axum::Json<Page<AccountListItemResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .accounts()
            .list(&c.caller, PageRequest::new(q.page, q.per_page))
            .await
            .map(page_of)?,
    ))
}

/// Create an account with one role on one unit. The initial password must be changed at
/// first login.
#[utoipa::path(post, path = "/api/v1/users", tag = "账号", request_body = NewAccount,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<NewAccount>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let id = state.app.accounts().create(&c.caller, input.into()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            county_code: None,
            id,
        }),
    ))
}

/// An account and its roles.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "账号", params(("id" = i64, Path)),
    responses((status = 200, body = AccountViewResponse), (status = 404, body = ErrorBody)))]
async fn find_user(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<AccountViewResponse>, ApiError> {
    Ok(axum::Json(
        state.app.accounts().get(&c.caller, id).await?.into(),
    ))
}

/// Grant a role on a unit (never above the caller's own).
#[utoipa::path(post, path = "/api/v1/users/{id}/grants", tag = "账号", params(("id" = i64, Path)), request_body = GrantRequest,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_grant(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<GrantRequest>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let grant = state
        .app
        .accounts()
        .add_grant(&c.caller, id, req.role, req.unit_county_code, req.unit_id)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            county_code: None,
            id: grant,
        }),
    ))
}

/// Revoke a role.
#[utoipa::path(delete, path = "/api/v1/users/{id}/grants/{grant_id}", tag = "账号",
    params(("id" = i64, Path), ("grant_id" = i64, Path)),
    responses((status = 204, description = "已撤销"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_grant(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((id, grant)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .accounts()
        .remove_grant(&c.caller, id, grant)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
