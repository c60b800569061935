//! The three lists and service orders over the API: categories, the resource list
//! (providers), the service list (items), orders and their steps, ranking and dispatch; their
//! bodies in `types.rs`.

pub(super) mod types;

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::StatusCode,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use yinling_app::{Page, PageRequest};
use yinling_domain::{
    ids::{Key, OrderId, ProviderId, ServiceItemId, UnitId},
    service::{OrderAction, OrderState, ProviderKind},
};
use yinling_store::orders::OrderFilter;

use self::types::{
    BatchReportResponse, CandidateResponse, CategoryResponse, DispatchRequest,
    DisputeDecisionRequest, EntitlementResponse, HoursChargeResponse, HoursDisputeResponse,
    HoursDisputeRowResponse, NewCategory, NewDispute, NewOrder, NewProvider, NewServiceItem,
    OrderDetailResponse, OrderResponse, OrderStepRequest, PhotoKey, ProviderResponse,
    ProviderUpdate, ServiceItemResponse, ServiceItemUpdate,
};
use crate::api::kernel::ApiKey;
use crate::api::kernel::{ApiJson, ApiPath, ApiQuery, list_of, page_of};
use crate::{
    AppState,
    kernel::error::{ApiError, ErrorBody},
    kernel::session::ApiCaller,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories, add_category))
        .routes(routes!(list_providers, create_provider))
        .routes(routes!(find_provider, update_provider))
        .routes(routes!(list_items))
        .routes(routes!(create_item))
        .routes(routes!(update_item))
        .routes(routes!(list_orders, place_order))
        .routes(routes!(my_orders))
        .routes(routes!(offered_orders))
        .routes(routes!(find_order))
        .routes(routes!(order_step))
        .routes(routes!(candidates))
        .routes(routes!(dispatch))
        .routes(routes!(entitlements))
        .routes(routes!(batch_dispatch))
        .routes(routes!(hours_charge))
        .routes(routes!(dispute_hours))
        .routes(routes!(decide_dispute))
        .routes(routes!(list_disputes))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload_photo))
                .layer(DefaultBodyLimit::max(
                    crate::kernel::multipart::MAX_UPLOAD_BODY,
                )),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoriesQuery {
    /// The county (e.g. 370830); omitted: the caller's first county.
    pub county: Option<i64>,
}

/// Need and service categories in use in a county: built-in, city-wide and the county's own.
#[utoipa::path(get, path = "/api/v1/service-categories", tag = "三张清单", params(CategoriesQuery),
    responses((status = 200, body = Vec<CategoryResponse>), (status = 401, body = ErrorBody)))]
async fn list_categories(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<CategoriesQuery>,
) -> Result<axum::Json<Vec<CategoryResponse>>, ApiError> {
    let county = q
        .county
        .or_else(|| c.caller.grants.first().map(|g| g.unit_county_code))
        .unwrap_or(yinling_app::CITY_COUNTY_CODE);
    Ok(axum::Json(
        state.app.services().categories(county).await.map(list_of)?,
    ))
}

/// Add a category for a county (county administrators) or the whole city (city administrators).
#[utoipa::path(post, path = "/api/v1/service-categories", tag = "三张清单", request_body = NewCategory,
    responses((status = 201, body = CategoryResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_category(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<NewCategory>,
) -> Result<(StatusCode, axum::Json<CategoryResponse>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .services()
                .add_category(&c.caller, input.into())
                .await
                .map(Into::into)?,
        ),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProvidersQuery {
    pub kind: Option<ProviderKind>,
    /// Only providers with this skill.
    pub skill: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The resource list (资源清单) in the caller's scope.
#[utoipa::path(get, path = "/api/v1/providers", tag = "三张清单", params(ProvidersQuery),
    responses((status = 200, body = Page<ProviderResponse>), (status = 401, body = ErrorBody)))]
async fn list_providers(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<ProvidersQuery>,
) -> Result<axum::Json<Page<ProviderResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .services()
            .providers(
                &c.caller,
                q.kind,
                q.skill.as_deref(),
                PageRequest::new(q.page, q.per_page),
            )
            .await
            .map(page_of)?,
    ))
}

/// Put a volunteer, team, studio or partner on the resource list.
#[utoipa::path(post, path = "/api/v1/providers", tag = "三张清单", request_body = NewProvider,
    responses((status = 201, body = ProviderResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_provider(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<NewProvider>,
) -> Result<(StatusCode, axum::Json<ProviderResponse>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .services()
                .create_provider(&c.caller, input.try_into()?)
                .await
                .map(Into::into)?,
        ),
    ))
}

/// One provider.
#[utoipa::path(get, path = "/api/v1/providers/{county}/{id}", tag = "三张清单",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = ProviderResponse), (status = 404, body = ErrorBody)))]
async fn find_provider(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<ProviderId>,
) -> Result<axum::Json<ProviderResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .services()
            .provider(&c.caller, key)
            .await
            .map(Into::into)?,
    ))
}

/// Change a provider's skills, areas, windows, capacity or status (`version` required).
#[utoipa::path(put, path = "/api/v1/providers/{county}/{id}", tag = "三张清单",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = ProviderUpdate,
    responses((status = 200, body = ProviderResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_provider(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<ProviderId>,
    ApiJson(input): ApiJson<ProviderUpdate>,
) -> Result<axum::Json<ProviderResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .services()
            .update_provider(&c.caller, key, input.try_into()?)
            .await
            .map(Into::into)?,
    ))
}

/// The service list (服务清单) defined in the caller's scope.
#[utoipa::path(get, path = "/api/v1/service-items", tag = "三张清单",
    responses((status = 200, body = Vec<ServiceItemResponse>), (status = 401, body = ErrorBody)))]
async fn list_items(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<ServiceItemResponse>>, ApiError> {
    Ok(axum::Json(
        state.app.services().items(&c.caller).await.map(list_of)?,
    ))
}

/// Offer a service item under a unit (everyone living below it can order it).
#[utoipa::path(post, path = "/api/v1/org/units/{county}/{id}/service-items", tag = "三张清单",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = NewServiceItem,
    responses((status = 201, body = ServiceItemResponse), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_item(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiJson(input): ApiJson<NewServiceItem>,
) -> Result<(StatusCode, axum::Json<ServiceItemResponse>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .services()
                .create_item(&c.caller, key, input.into())
                .await
                .map(Into::into)?,
        ),
    ))
}

/// Change a service item (`version` required).
#[utoipa::path(put, path = "/api/v1/service-items/{county}/{id}", tag = "三张清单",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = ServiceItemUpdate,
    responses((status = 200, body = ServiceItemResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_item(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<ServiceItemId>,
    ApiJson(input): ApiJson<ServiceItemUpdate>,
) -> Result<axum::Json<ServiceItemResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .services()
            .update_item(&c.caller, key, input.into())
            .await
            .map(Into::into)?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrdersQuery {
    /// Only orders in this state.
    pub state: Option<OrderState>,
    /// Only this category.
    pub category: Option<String>,
    /// Only orders escalated past their SLA.
    pub escalated: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl OrdersQuery {
    pub fn filter(&self) -> OrderFilter {
        OrderFilter {
            states: self.state.into_iter().collect(),
            category: self.category.clone().filter(|c| !c.is_empty()),
            escalated: self.escalated.unwrap_or(false),
        }
    }
}

/// Orders in the caller's scope, most urgent and oldest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "点单接单", params(OrdersQuery),
    responses((status = 200, body = Page<OrderResponse>), (status = 401, body = ErrorBody)))]
async fn list_orders(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<OrdersQuery>,
) -> Result<axum::Json<Page<OrderResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .list(&c.caller, q.filter(), PageRequest::new(q.page, q.per_page))
            .await
            .map(page_of)?,
    ))
}

/// Place an order (点单) for oneself, or as staff for a resident in scope (代点单).
#[utoipa::path(post, path = "/api/v1/orders", tag = "点单接单", request_body = NewOrder,
    responses((status = 201, body = OrderResponse), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn place_order(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<NewOrder>,
) -> Result<(StatusCode, axum::Json<OrderResponse>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .orders()
                .place(&c.caller, input.try_into()?)
                .await
                .map(Into::into)?,
        ),
    ))
}

/// The caller's own orders as a resident, newest first.
#[utoipa::path(get, path = "/api/v1/orders/mine", tag = "点单接单",
    responses((status = 200, body = Vec<OrderResponse>), (status = 401, body = ErrorBody)))]
async fn my_orders(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<OrderResponse>>, ApiError> {
    Ok(axum::Json(
        state.app.orders().mine(&c.caller).await.map(list_of)?,
    ))
}

/// Orders offered to or held by the caller as a provider (接单).
#[utoipa::path(get, path = "/api/v1/orders/offered", tag = "点单接单",
    responses((status = 200, body = Vec<OrderResponse>), (status = 401, body = ErrorBody)))]
async fn offered_orders(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<OrderResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .provider_orders(&c.caller, true)
            .await
            .map(list_of)?,
    ))
}

/// One order with its history and what the caller may do next.
#[utoipa::path(get, path = "/api/v1/orders/{county}/{id}", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = OrderDetailResponse), (status = 404, body = ErrorBody)))]
async fn find_order(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<OrderId>,
) -> Result<axum::Json<OrderDetailResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .detail(&c.caller, key)
            .await
            .map(Into::into)?,
    ))
}

/// A step in the order's life: `accept`, `decline`, `check_in`, `complete`, `rate`,
/// `cancel` or `close`. Illegal steps answer 409 and change nothing.
#[utoipa::path(post, path = "/api/v1/orders/{county}/{id}/steps/{action}", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path), ("action" = OrderAction, Path)), request_body = OrderStepRequest,
    responses((status = 200, body = OrderResponse), (status = 409, description = "状态不允许或已被他人接单", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn order_step(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id, action)): ApiPath<(i64, i64, String)>,
    ApiJson(step): ApiJson<OrderStepRequest>,
) -> Result<axum::Json<OrderResponse>, ApiError> {
    let action = OrderAction::parse(&action).ok_or_else(|| {
        yinling_app::AppError::invalid("unknown_action", "action", "不认识的操作")
    })?;
    let key = Key::<OrderId>::from_parts(county, id)
        .map_err(|_| yinling_app::AppError::NotFound { what: "订单" })?;
    Ok(axum::Json(
        state
            .app
            .orders()
            .step(&c.caller, key, action, step.into())
            .await
            .map(Into::into)?,
    ))
}

/// Upload a completion photo, the image itself as the request body (JPG, PNG or WebP,
/// recognised by its content; at most 5 MB), then send the answered key as `photo_key`
/// with the `complete` step. Only the provider serving the order, while it is in service;
/// anyone else is refused and nothing is stored.
#[utoipa::path(post, path = "/api/v1/orders/{county}/{id}/photos", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path)),
    request_body(description = "照片文件本身", content(
        (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))),
    responses((status = 201, body = PhotoKey),
        (status = 422, description = "不是 JPG、PNG 或 WebP 照片，空文件，或超过5MB", body = ErrorBody),
        (status = 409, description = "订单现在不能完成服务", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn upload_photo(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<OrderId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, axum::Json<PhotoKey>), ApiError> {
    let body = body.map_err(|_| crate::kernel::multipart::photo_too_large())?;
    let key = state
        .app
        .orders()
        .upload_photo(&c.caller, key, body.to_vec())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(PhotoKey { key })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidatesQuery {
    /// How many (1–50, default 10).
    pub k: Option<usize>,
}

/// Providers ranked for an order, with the reasons for each score.
#[utoipa::path(get, path = "/api/v1/orders/{county}/{id}/candidates", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path), CandidatesQuery),
    responses((status = 200, body = Vec<CandidateResponse>), (status = 404, body = ErrorBody)))]
async fn candidates(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<OrderId>,
    ApiQuery(q): ApiQuery<CandidatesQuery>,
) -> Result<axum::Json<Vec<CandidateResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .candidates(&c.caller, key, q.k.unwrap_or(10))
            .await
            .map(list_of)?,
    ))
}

/// Dispatch (or reassign) an order to a provider; without one, to the best-ranked (一键派单).
#[utoipa::path(post, path = "/api/v1/orders/{county}/{id}/dispatch", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = DispatchRequest,
    responses((status = 200, body = OrderResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn dispatch(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<OrderId>,
    ApiJson(input): ApiJson<DispatchRequest>,
) -> Result<axum::Json<OrderResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .dispatch(&c.caller, key, input.into())
            .await
            .map(Into::into)?,
    ))
}

/// Awards owed for an order's service, waiting for the points ledger.
#[utoipa::path(get, path = "/api/v1/orders/{county}/{id}/entitlements", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = Vec<EntitlementResponse>), (status = 404, body = ErrorBody)))]
async fn entitlements(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<OrderId>,
) -> Result<axum::Json<Vec<EntitlementResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .entitlements(&c.caller, key)
            .await
            .map(list_of)?,
    ))
}

/// Dispatch every order awaiting dispatch under a unit, within everyone's capacity.
#[utoipa::path(post, path = "/api/v1/org/units/{county}/{id}/dispatch-all", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = BatchReportResponse), (status = 404, body = ErrorBody)))]
async fn batch_dispatch(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(unit): ApiKey<UnitId>,
) -> Result<axum::Json<BatchReportResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .batch_dispatch(&c.caller, unit)
            .await
            .map(Into::into)?,
    ))
}

/// What paying for this completed service with time-bank hours takes (the minutes
/// recorded, at most the item's duration, in words too), or took, and any dispute of it:
/// the confirmation step before `pay-with-hours`.
#[utoipa::path(get, path = "/api/v1/orders/{county}/{id}/hours-charge", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = HoursChargeResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn hours_charge(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<OrderId>,
) -> Result<axum::Json<HoursChargeResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .time_bank()
            .charge(&c.caller, key)
            .await
            .map(Into::into)?,
    ))
}

/// Dispute the time-bank payment for an order (有异议): the resident who paid, or staff for
/// them. Once per order; other staff decide it.
#[utoipa::path(post, path = "/api/v1/orders/{county}/{id}/hours-dispute", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = NewDispute,
    responses((status = 201, body = HoursDisputeRowResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn dispute_hours(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<OrderId>,
    ApiJson(input): ApiJson<NewDispute>,
) -> Result<(StatusCode, axum::Json<HoursDisputeRowResponse>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .time_bank()
                .raise_dispute(&c.caller, key, input.into())
                .await
                .map(Into::into)?,
        ),
    ))
}

/// Decide a dispute: upheld reverses the payment through the ledger; rejected leaves it.
/// Staff with Dispatch or ApproveAdjustments over the order, never the one who raised it
/// nor the resident or their household.
#[utoipa::path(post, path = "/api/v1/orders/{county}/{id}/hours-dispute/decision", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = DisputeDecisionRequest,
    responses((status = 200, body = HoursDisputeRowResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_dispute(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<OrderId>,
    ApiJson(input): ApiJson<DisputeDecisionRequest>,
) -> Result<axum::Json<HoursDisputeRowResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .time_bank()
            .decide_dispute(&c.caller, key, input.into())
            .await
            .map(Into::into)?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisputesQuery {
    /// Also those already decided (default: only open ones).
    pub all: Option<bool>,
}

/// Disputes of time-bank payments over orders where the caller has Dispatch or
/// ApproveAdjustments, oldest first.
#[utoipa::path(get, path = "/api/v1/hours-disputes", tag = "积分与时间银行", params(DisputesQuery),
    responses((status = 200, body = Vec<HoursDisputeResponse>), (status = 401, body = ErrorBody)))]
async fn list_disputes(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<DisputesQuery>,
) -> Result<axum::Json<Vec<HoursDisputeResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .time_bank()
            .disputes(&c.caller, !q.all.unwrap_or(false))
            .await
            .map(list_of)?,
    ))
}
