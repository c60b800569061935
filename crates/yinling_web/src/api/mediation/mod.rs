//! Mediation cases (矛盾调解) over the API: intake, mediators, sessions, outcome, follow-up,
//! and success rates per studio, team and subtree for a period (also as Excel); their
//! bodies in `types.rs`.

mod types;

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};
use yinling_app::{
    Page, PageRequest,
    mediation::{CaseQuery, StatsQuery},
};

use self::types::{
    AssignRequest, CaseListItemResponse, CaseResponse, MediationStatsResponse,
    MediatorChoicesResponse, NewCase, NewCaseFollowUp, NewSession, OutcomeRequest,
    RecordedResponse,
};
use crate::api::kernel::ApiKey;
use crate::api::kernel::{ApiJson, ApiQuery, Created, Paging, page_of};
use crate::{
    AppState,
    kernel::error::{ApiError, ErrorBody},
    kernel::session::ApiCaller,
};
use yinling_domain::ids::CaseId;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases, create_case))
        .routes(routes!(find_case))
        .routes(routes!(mediator_choices))
        .routes(routes!(assign_mediators))
        .routes(routes!(record_session))
        .routes(routes!(conclude_case))
        .routes(routes!(follow_up_case))
        .routes(routes!(stats))
        .routes(routes!(export_stats))
}

/// Mediation cases in the caller's scope, newest intake first.
#[utoipa::path(get, path = "/api/v1/mediation/cases", tag = "矛盾调解", params(CaseQuery, Paging),
    responses((status = 200, body = Page<CaseListItemResponse>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_cases(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<CaseQuery>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<axum::Json<Page<CaseListItemResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .mediation()
            .list(&c.caller, &q, PageRequest::new(p.page, p.per_page))
            .await
            .map(page_of)?,
    ))
}

/// Take in a case (受理) at the community, village, compound or grid where it arose.
/// Parties are names, optionally linked to a person file; free text must not hold phone or
/// ID numbers.
#[utoipa::path(post, path = "/api/v1/mediation/cases", tag = "矛盾调解", request_body = NewCase,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_case(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<NewCase>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let key = state
        .app
        .mediation()
        .create(&c.caller, input.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            county_code: Some(key.county()),
            id: key.id(),
        }),
    ))
}

/// A case with its parties, mediators, sessions, outcome and follow-ups, and what the
/// caller may do next.
#[utoipa::path(get, path = "/api/v1/mediation/cases/{county}/{id}", tag = "矛盾调解",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = CaseResponse), (status = 404, body = ErrorBody)))]
async fn find_case(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<CaseId>,
) -> Result<axum::Json<CaseResponse>, ApiError> {
    Ok(axum::Json(
        state.app.mediation().case(&c.caller, key).await?.into(),
    ))
}

/// Who may be assigned to a case: the county's cadre studios and volunteer teams, and the
/// retired cadres living in the caller's scope.
#[utoipa::path(get, path = "/api/v1/mediation/cases/{county}/{id}/mediator-choices", tag = "矛盾调解",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = MediatorChoicesResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn mediator_choices(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<CaseId>,
) -> Result<axum::Json<MediatorChoicesResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .mediation()
            .mediator_choices(&c.caller, key)
            .await?
            .into(),
    ))
}

/// Assign mediators (retired cadres, studios, teams) to an open case.
#[utoipa::path(post, path = "/api/v1/mediation/cases/{county}/{id}/mediators", tag = "矛盾调解",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = AssignRequest,
    responses((status = 204, description = "已指派"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign_mediators(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<CaseId>,
    ApiJson(input): ApiJson<AssignRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .mediation()
        .assign(&c.caller, key, input.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record a mediation session. A concluded case refuses it (409 `case_closed`).
#[utoipa::path(post, path = "/api/v1/mediation/cases/{county}/{id}/sessions", tag = "矛盾调解",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = NewSession,
    responses((status = 201, body = RecordedResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_session(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<CaseId>,
    ApiJson(input): ApiJson<NewSession>,
) -> Result<(StatusCode, axum::Json<RecordedResponse>), ApiError> {
    let sid = state
        .app
        .mediation()
        .record_session(&c.caller, key, input.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(RecordedResponse { id: sid.get() }),
    ))
}

/// Record the outcome: success, partial, failed, or referred (with where to).
#[utoipa::path(post, path = "/api/v1/mediation/cases/{county}/{id}/outcome", tag = "矛盾调解",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = OutcomeRequest,
    responses((status = 204, description = "已办结"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn conclude_case(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<CaseId>,
    ApiJson(input): ApiJson<OutcomeRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .mediation()
        .conclude(&c.caller, key, input.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record a follow-up visit to a concluded case: does the agreement hold?
#[utoipa::path(post, path = "/api/v1/mediation/cases/{county}/{id}/follow-ups", tag = "矛盾调解",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = NewCaseFollowUp,
    responses((status = 201, body = RecordedResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn follow_up_case(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<CaseId>,
    ApiJson(input): ApiJson<NewCaseFollowUp>,
) -> Result<(StatusCode, axum::Json<RecordedResponse>), ApiError> {
    let fid = state
        .app
        .mediation()
        .follow_up(&c.caller, key, input.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(RecordedResponse { id: fid.get() }),
    ))
}

/// Success rates for a period (default: the last 365 days) and subtree (default: the
/// caller's area): success ÷ concluded, with counts, in total, per child unit, per studio,
/// per team and per retired cadre.
#[utoipa::path(get, path = "/api/v1/mediation/stats", tag = "矛盾调解", params(StatsQuery),
    responses((status = 200, body = MediationStatsResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn stats(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<axum::Json<MediationStatsResponse>, ApiError> {
    Ok(axum::Json(
        state.app.mediation().stats(&c.caller, &q).await?.into(),
    ))
}

/// The success rates and the ledger of cases concluded in the period, as an Excel workbook
/// (the export is audited).
#[utoipa::path(get, path = "/api/v1/mediation/stats/export", tag = "矛盾调解", params(StatsQuery),
    responses((status = 200, description = "Excel 工作簿", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_stats(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Response, ApiError> {
    let bytes = state.app.mediation().export_xlsx(&c.caller, &q).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"mediation.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}
