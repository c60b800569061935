//! Organisation units over the API; their bodies in `types.rs`.

pub(super) mod types;

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use yinling_app::{Page, PageRequest};
use yinling_domain::{ids::PlaceId, org::OrgKind, person::PersonRoleKind};
use yinling_store::org::UnitFilter;

use self::types::{
    BoundaryRequest, MoveRequest, MoveResponse, NewPlace, NewUnit, OrgUnitResponse, PlaceResponse,
    PlaceViewResponse, RosterItemResponse, UnitResponse, UnitUpdate,
};
use crate::api::kernel::ApiKey;
use crate::api::kernel::{ApiJson, ApiQuery, list_of, page_of};
use crate::{
    AppState,
    kernel::error::{ApiError, ErrorBody},
    kernel::session::ApiCaller,
};
use yinling_domain::ids::UnitId;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_units))
        .routes(routes!(find_unit, update_unit))
        .routes(routes!(create_unit))
        .routes(routes!(move_unit))
        .routes(routes!(unit_members))
        .routes(routes!(set_boundary))
        .routes(routes!(list_places, create_place))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUnitsQuery {
    /// Unit kind, e.g. `grid_party_group`.
    pub kind: Option<String>,
    /// Part of the name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Units in the caller's scope.
#[utoipa::path(get, path = "/api/v1/org/units", tag = "组织", params(ListUnitsQuery),
    responses((status = 200, body = Page<OrgUnitResponse>), (status = 401, body = ErrorBody)))]
async fn list_units(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<ListUnitsQuery>,
) -> Result<axum::Json<Page<OrgUnitResponse>>, ApiError> {
    let request = PageRequest::new(q.page, q.per_page);
    let kind = match q.kind.filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => match OrgKind::parse(&k) {
            Some(kind) => Some(kind),
            // No unit is of a kind that does not exist.
            None => {
                return Ok(axum::Json(Page {
                    items: Vec::new(),
                    total: 0,
                    total_is_lower_bound: false,
                    page: request.page,
                    per_page: request.per_page,
                }));
            }
        },
    };
    let filter = UnitFilter {
        kind,
        name_contains: q.q.filter(|k| !k.is_empty()),
    };
    Ok(axum::Json(
        state
            .app
            .org()
            .units(&c.caller, filter, request)
            .await
            .map(page_of)?,
    ))
}

/// A unit with its ancestors, children and head count.
#[utoipa::path(get, path = "/api/v1/org/units/{county}/{id}", tag = "组织",
    params(("county" = i64, Path, description = "县级区划代码"), ("id" = i64, Path)),
    responses((status = 200, body = UnitResponse), (status = 404, body = ErrorBody)))]
async fn find_unit(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
) -> Result<axum::Json<UnitResponse>, ApiError> {
    Ok(axum::Json(
        state.app.org().unit_view(&c.caller, key).await?.into(),
    ))
}

/// Create a unit under this one.
#[utoipa::path(post, path = "/api/v1/org/units/{county}/{id}/children", tag = "组织",
    params(("county" = i64, Path), ("id" = i64, Path)),
    request_body = NewUnit,
    responses((status = 201, body = OrgUnitResponse), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_unit(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiJson(input): ApiJson<NewUnit>,
) -> Result<(StatusCode, axum::Json<OrgUnitResponse>), ApiError> {
    let unit = state
        .app
        .org()
        .create_unit(&c.caller, key, input.into())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(unit.into())))
}

/// Rename a unit or change its address (`version` must match).
#[utoipa::path(patch, path = "/api/v1/org/units/{county}/{id}", tag = "组织",
    params(("county" = i64, Path), ("id" = i64, Path)),
    request_body = UnitUpdate,
    responses((status = 204, description = "已保存"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_unit(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiJson(input): ApiJson<UnitUpdate>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .org()
        .update_unit(&c.caller, key, input.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move a unit and its whole subtree under another parent in the same county.
#[utoipa::path(post, path = "/api/v1/org/units/{county}/{id}/move", tag = "组织",
    params(("county" = i64, Path), ("id" = i64, Path)),
    request_body = MoveRequest,
    responses((status = 200, body = MoveResponse), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn move_unit(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiJson(req): ApiJson<MoveRequest>,
) -> Result<axum::Json<MoveResponse>, ApiError> {
    let moved = state
        .app
        .org()
        .move_unit(
            &c.caller,
            key,
            yinling_app::org::unit_key(req.parent_county_code, req.parent_id)?,
        )
        .await?;
    Ok(axum::Json(MoveResponse { moved }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Role kind, e.g. `party_member`.
    pub kind: Option<PersonRoleKind>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// People holding a role in this unit or below (a branch's members), wherever they live.
#[utoipa::path(get, path = "/api/v1/org/units/{county}/{id}/members", tag = "组织",
    params(("county" = i64, Path), ("id" = i64, Path), MembersQuery),
    responses((status = 200, body = Page<RosterItemResponse>), (status = 404, body = ErrorBody)))]
async fn unit_members(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiQuery(q): ApiQuery<MembersQuery>,
) -> Result<axum::Json<Page<RosterItemResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .people()
            .roster(&c.caller, key, q.kind, PageRequest::new(q.page, q.per_page))
            .await
            .map(page_of)?,
    ))
}

/// Set or clear a grid's boundary.
#[utoipa::path(put, path = "/api/v1/org/units/{county}/{id}/boundary", tag = "组织",
    params(("county" = i64, Path), ("id" = i64, Path)),
    request_body = BoundaryRequest,
    responses((status = 204, description = "已保存"), (status = 422, body = ErrorBody)))]
async fn set_boundary(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiJson(req): ApiJson<BoundaryRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .org()
        .set_grid_boundary(&c.caller, key, req.geojson.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlacesQuery {
    /// List what lies inside this place (a building's entrances, an entrance's households);
    /// omitted, the places directly under the unit.
    pub parent: Option<i64>,
}

/// Buildings, entrances, households and addresses of an area, with who lives in each household.
#[utoipa::path(get, path = "/api/v1/org/units/{county}/{id}/places", tag = "组织",
    params(("county" = i64, Path), ("id" = i64, Path), PlacesQuery),
    responses((status = 200, body = Vec<PlaceViewResponse>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_places(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiQuery(q): ApiQuery<PlacesQuery>,
) -> Result<axum::Json<Vec<PlaceViewResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .org()
            .places(&c.caller, key, q.parent.map(PlaceId))
            .await
            .map(list_of)?,
    ))
}

/// Register a building, an entrance, a household or an address in an area.
#[utoipa::path(post, path = "/api/v1/org/units/{county}/{id}/places", tag = "组织",
    params(("county" = i64, Path), ("id" = i64, Path)),
    request_body = NewPlace,
    responses((status = 201, body = PlaceResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_place(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiJson(input): ApiJson<NewPlace>,
) -> Result<(StatusCode, axum::Json<PlaceResponse>), ApiError> {
    let place = state
        .app
        .org()
        .create_place(&c.caller, key, input.into())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(place.into())))
}
