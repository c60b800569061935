//! The needs ledger (需求台账) over the API; its bodies in `types.rs`.

mod types;

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};
use yinling_app::{AppError, Page, PageRequest, needs::NeedQuery};
use yinling_domain::ids::NeedId;

use self::types::{
    ImportRefused, NeedImportReportResponse, NeedItemResponse, NeedResponse, NewFollowUp, NewNeed,
};
use crate::api::kernel::ApiKey;
use crate::api::kernel::{ApiJson, ApiQuery, Created, Paging, page_of};
use crate::{
    AppState,
    kernel::error::{ApiError, ErrorBody},
    kernel::session::ApiCaller,
};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_needs, record_need))
        .routes(routes!(export_needs))
        .routes(routes!(import_template))
        .routes(routes!(find_need))
        .routes(routes!(follow_up_need))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import_needs))
                .layer(DefaultBodyLimit::max(
                    crate::kernel::multipart::MAX_UPLOAD_BODY,
                )),
        )
}

/// List needs in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/needs", tag = "需求台账", params(NeedQuery, Paging),
    responses((status = 200, body = Page<NeedItemResponse>), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_needs(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<NeedQuery>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<axum::Json<Page<NeedItemResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .needs()
            .list(&c.caller, &q, PageRequest::new(p.page, p.per_page))
            .await
            .map(page_of)?,
    ))
}

/// Record a need heard from a person or household (敲门问需 and the like).
#[utoipa::path(post, path = "/api/v1/needs", tag = "需求台账", request_body = NewNeed,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn record_need(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<NewNeed>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let key = state.app.needs().record(&c.caller, input.into()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            county_code: Some(key.county()),
            id: key.id(),
        }),
    ))
}

fn xlsx_response(bytes: Vec<u8>, filename: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, XLSX.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The ledger as an Excel workbook (ID numbers and phones masked; the export is audited).
#[utoipa::path(get, path = "/api/v1/needs/export", tag = "需求台账", params(NeedQuery),
    responses((status = 200, description = "Excel 工作簿", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_needs(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<NeedQuery>,
) -> Result<Response, ApiError> {
    let bytes = state.app.needs().export_xlsx(&c.caller, &q).await?;
    Ok(xlsx_response(bytes, "needs.xlsx"))
}

/// The import template: the columns to fill in and the allowed values.
#[utoipa::path(get, path = "/api/v1/needs/import-template", tag = "需求台账",
    responses((status = 200, description = "Excel 工作簿", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 403, body = ErrorBody)))]
async fn import_template(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<Response, ApiError> {
    let bytes = state.app.needs().import_template(&c.caller).await?;
    Ok(xlsx_response(bytes, "needs-template.xlsx"))
}

/// Import needs from an .xlsx file sent as the request body (at most 5 MB and 5,000 rows).
/// All or nothing: if any row has a problem, nothing is imported and the report lists
/// every problem by row and column (422); correct the file and send it again.
#[utoipa::path(post, path = "/api/v1/needs/import", tag = "需求台账",
    request_body(description = "Excel 文件本身", content(
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (Vec<u8> = "application/octet-stream"))),
    responses((status = 200, description = "全部导入", body = NeedImportReportResponse),
        (status = 422, description = "未导入：报告逐行列出问题；文件本身无法读取时为 ErrorBody", body = ImportRefused),
        (status = 413, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn import_needs(
    State(state): State<AppState>,
    c: ApiCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|_| ApiError {
        error: AppError::invalid(
            "file_too_large",
            "file",
            "文件超过5MB，请分成几个文件分别导入",
        ),
        status: StatusCode::PAYLOAD_TOO_LARGE,
    })?;
    let report = state.app.needs().import_xlsx(&c.caller, &body).await?;
    let status = if report.ok() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, axum::Json(NeedImportReportResponse::from(report))).into_response())
}

/// One need with its follow-ups.
#[utoipa::path(get, path = "/api/v1/needs/{county}/{id}", tag = "需求台账",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = NeedResponse), (status = 404, body = ErrorBody)))]
async fn find_need(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<NeedId>,
) -> Result<axum::Json<NeedResponse>, ApiError> {
    Ok(axum::Json(
        state.app.needs().detail(&c.caller, key).await?.into(),
    ))
}

/// Record a follow-up, optionally changing the status (待跟进 → 跟进中 → 已解决 → 已关闭;
/// 已解决 may be reopened; 已关闭 is final). Refused changes change nothing.
#[utoipa::path(post, path = "/api/v1/needs/{county}/{id}/followups", tag = "需求台账",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = NewFollowUp,
    responses((status = 204, description = "已记录"), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn follow_up_need(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<NeedId>,
    ApiJson(input): ApiJson<NewFollowUp>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .needs()
        .follow_up(&c.caller, key, input.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
