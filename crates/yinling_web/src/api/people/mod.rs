//! People files over the API; the tag vocabulary in `tags.rs`; their bodies in `types.rs`.

mod tags;
pub(super) mod types;

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use yinling_app::{
    AppError, Page, PageRequest,
    people::{PeopleQuery, person_key},
};
use yinling_domain::{ids::PersonRoleId, region::CountyCode};

use self::types::{
    DuplicateCaseResponse, DuplicateDecisionRequest, NewPerson, NewPersonTag, NewRole,
    PersonListItemResponse, PersonResponse, PersonUpdate, RevealRequest, RevealResponse,
    SkillsRequest,
};
use crate::api::kernel::ApiKey;
use crate::api::kernel::{ApiJson, ApiPath, ApiQuery, Created, Paging, page_of};
use crate::{
    AppState,
    kernel::error::{ApiError, ErrorBody},
    kernel::session::ApiCaller,
};
use yinling_domain::ids::PersonId;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_people, create_person))
        .routes(routes!(export_people))
        .routes(routes!(find_person, update_person))
        .routes(routes!(reveal))
        .routes(routes!(add_role))
        .routes(routes!(remove_role))
        .routes(routes!(set_skills))
        .routes(routes!(add_tag))
        .routes(routes!(remove_tag))
        .routes(routes!(list_duplicates))
        .routes(routes!(decide_duplicate))
        .merge(tags::router())
}

/// Search and list people in the caller's scope (sensitive numbers masked).
#[utoipa::path(get, path = "/api/v1/people", tag = "人员", params(PeopleQuery, Paging),
    responses((status = 200, body = Page<PersonListItemResponse>), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "按完整身份证号或手机号查找须有查看完整号码的权限", body = ErrorBody),
        (status = 429, description = "按完整号码或身份证后4位查找次数过多，稍后再试", body = ErrorBody)))]
async fn list_people(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<PeopleQuery>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<axum::Json<Page<PersonListItemResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .people()
            .search(&c.caller, &q, PageRequest::new(p.page, p.per_page))
            .await
            .map(page_of)?,
    ))
}

/// Register a person. Gender and birth date are taken from the ID number.
#[utoipa::path(post, path = "/api/v1/people", tag = "人员", request_body = NewPerson,
    responses((status = 201, body = Created), (status = 409, description = "身份证号码已在您可查看完整号码的范围内登记", body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "带完整身份证号码的登记与查找次数过多，稍后再试", body = ErrorBody)))]
async fn create_person(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<NewPerson>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let key = state.app.people().create(&c.caller, input.into()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            county_code: Some(key.county()),
            id: key.id(),
        }),
    ))
}

/// The people list as an Excel workbook (masked; the export is audited).
#[utoipa::path(get, path = "/api/v1/people/export", tag = "人员", params(PeopleQuery),
    responses((status = 200, description = "Excel 工作簿", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 403, body = ErrorBody),
        (status = 429, description = "按完整号码或身份证后4位查找次数过多，稍后再试", body = ErrorBody)))]
async fn export_people(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<PeopleQuery>,
) -> Result<Response, ApiError> {
    let bytes = state.app.people().export_xlsx(&c.caller, &q).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"people.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A person's file (sensitive numbers masked).
#[utoipa::path(get, path = "/api/v1/people/{county}/{id}", tag = "人员",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = PersonResponse), (status = 404, body = ErrorBody)))]
async fn find_person(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<PersonId>,
) -> Result<axum::Json<PersonResponse>, ApiError> {
    Ok(axum::Json(
        state.app.people().file(&c.caller, key).await?.into(),
    ))
}

/// Change a person's file. `version` must be the one read; a masked ID number or phone
/// sent back unchanged keeps the stored value.
#[utoipa::path(put, path = "/api/v1/people/{county}/{id}", tag = "人员",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = PersonUpdate,
    responses((status = 204, description = "已保存"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_person(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<PersonId>,
    ApiJson(input): ApiJson<PersonUpdate>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .people()
        .update(&c.caller, key, input.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Show one sensitive field in full. Only roles the privacy policy allows; every call is
/// recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/people/{county}/{id}/reveal", tag = "人员",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = RevealRequest,
    responses((status = 200, body = RevealResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reveal(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<PersonId>,
    ApiJson(req): ApiJson<RevealRequest>,
) -> Result<axum::Json<RevealResponse>, ApiError> {
    let value = state.app.people().reveal(&c.caller, key, req.field).await?;
    Ok(axum::Json(RevealResponse {
        field: req.field,
        value,
    }))
}

/// Add a role (party member, retired cadre, volunteer...).
#[utoipa::path(post, path = "/api/v1/people/{county}/{id}/roles", tag = "人员",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = NewRole,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_role(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<PersonId>,
    ApiJson(input): ApiJson<NewRole>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let role = state
        .app
        .people()
        .add_role(&c.caller, key, input.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            county_code: Some(key.county()),
            id: role.get(),
        }),
    ))
}

/// Remove a role.
#[utoipa::path(delete, path = "/api/v1/people/{county}/{id}/roles/{role_id}", tag = "人员",
    params(("county" = i64, Path), ("id" = i64, Path), ("role_id" = i64, Path)),
    responses((status = 204, description = "已移除"), (status = 404, body = ErrorBody)))]
async fn remove_role(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id, role)): ApiPath<(i64, i64, i64)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .people()
        .remove_role(&c.caller, person_key(county, id)?, PersonRoleId(role))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace a person's specialties.
#[utoipa::path(put, path = "/api/v1/people/{county}/{id}/skills", tag = "人员",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = SkillsRequest,
    responses((status = 204, description = "已保存"), (status = 422, body = ErrorBody)))]
async fn set_skills(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<PersonId>,
    ApiJson(req): ApiJson<SkillsRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .people()
        .set_skills(&c.caller, key, req.skills)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tag a person (provenance: this caller, by hand).
#[utoipa::path(post, path = "/api/v1/people/{county}/{id}/tags", tag = "人员",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = NewPersonTag,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn add_tag(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<PersonId>,
    ApiJson(input): ApiJson<NewPersonTag>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let row = state.app.people().tag(&c.caller, key, input.into()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            county_code: Some(key.county()),
            id: row,
        }),
    ))
}

/// Remove a tag from a person (kept in the history as removed).
#[utoipa::path(delete, path = "/api/v1/people/{county}/{id}/tags/{tag_row_id}", tag = "人员",
    params(("county" = i64, Path), ("id" = i64, Path), ("tag_row_id" = i64, Path)),
    responses((status = 204, description = "已移除"), (status = 404, body = ErrorBody)))]
async fn remove_tag(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id, row)): ApiPath<(i64, i64, i64)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .people()
        .untag(&c.caller, person_key(county, id)?, row)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuplicatesQuery {
    /// `open` (待复核), `merged` (已并档) or `rejected` (已驳回); all when omitted.
    pub status: Option<String>,
}

/// The county's review queue of registrations whose ID number another file already held
/// (the registrar was not told). Each side shows only what the reviewer may see: a file
/// outside their people scope is named by its key only; numbers are masked, birth dates
/// reduced to the year. Nobody sees the cases they registered themselves.
#[utoipa::path(get, path = "/api/v1/people/duplicates", tag = "人员", params(DuplicatesQuery, Paging),
    responses((status = 200, body = Page<DuplicateCaseResponse>), (status = 403, description = "无权复核重复登记", body = ErrorBody)))]
async fn list_duplicates(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<DuplicatesQuery>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<axum::Json<Page<DuplicateCaseResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .people()
            .duplicates(
                &c.caller,
                q.status.as_deref(),
                PageRequest::new(p.page, p.per_page),
            )
            .await
            .map(page_of)?,
    ))
}

/// Decide a duplicate registration: `merge` (the same person; the new file becomes 已并档 —
/// needs the existing file in the caller's people scope) or `reject` (the new file becomes
/// 登记作废). `version` is the case's version as read. Audited.
#[utoipa::path(post, path = "/api/v1/people/duplicates/{county}/{id}/decision", tag = "人员",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = DuplicateDecisionRequest,
    responses((status = 204, description = "已处理"),
        (status = 403, description = "无权复核、复核自己登记的档案，或已有档案不在您的辖区内而选择了并档", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "已经处理，或已被他人修改", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn decide_duplicate(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<DuplicateDecisionRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .people()
        .resolve_duplicate(
            &c.caller,
            CountyCode::from_i64(county).map_err(|_| AppError::NotFound {
                what: "重复登记"
            })?,
            id,
            input.into(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
