//! The tag vocabulary over the API.

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use yinling_domain::ids::TagId;

use super::types::{NewTag, TagUpdate, TagUsageResponse};
use crate::api::kernel::{ApiJson, ApiPath, ApiQuery, Created};
use crate::{
    AppState,
    kernel::error::{ApiError, ErrorBody},
    kernel::session::ApiCaller,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tags, create_tag))
        .routes(routes!(update_tag))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TagsQuery {
    /// Include archived tags.
    pub archived: Option<bool>,
}

/// Tags, with how many people in the caller's scope carry each.
#[utoipa::path(get, path = "/api/v1/tags", tag = "标签", params(TagsQuery),
    responses((status = 200, body = Vec<TagUsageResponse>), (status = 403, body = ErrorBody)))]
async fn list_tags(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<TagsQuery>,
) -> Result<axum::Json<Vec<TagUsageResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .people()
            .tag_definitions(&c.caller, q.archived.unwrap_or(false))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Define a tag (city and county administrators).
#[utoipa::path(post, path = "/api/v1/tags", tag = "标签", request_body = NewTag,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_tag(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<NewTag>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let id = state
        .app
        .people()
        .define_tag(&c.caller, input.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            county_code: None,
            id: id.get(),
        }),
    ))
}

/// Rename, recategorise or archive a tag (its code never changes).
#[utoipa::path(put, path = "/api/v1/tags/{id}", tag = "标签", params(("id" = i64, Path)), request_body = TagUpdate,
    responses((status = 204, description = "已保存"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_tag(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<TagUpdate>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .people()
        .update_tag_definition(&c.caller, TagId(id), input.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
