//! The three lists and service orders over the API: categories, the resource list
//! (providers), the service list (items), orders and their steps, ranking and dispatch.

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use yinling_app::{
    Page, PageRequest,
    orders::{BatchReport, Candidate, DispatchInput},
    orders::{OrderDetail, OrderInput, OrderStep, OrderView},
    services::{Category, CategoryInput},
    services::{Provider, ProviderInput, ServiceItem, ServiceItemInput},
    time_bank::{DisputeDecision, DisputeInput, HoursCharge, HoursDisputeView},
};
use yinling_domain::service::{OrderAction, OrderState, ProviderKind};
use yinling_store::orders::{EntitlementRow, HoursDisputeRow, OrderFilter};

use crate::api::kernel::{ApiJson, ApiPath, ApiQuery};
use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    session::ApiCaller,
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
                .layer(DefaultBodyLimit::max(crate::multipart::MAX_UPLOAD_BODY)),
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
    responses((status = 200, body = Vec<Category>), (status = 401, body = ErrorBody)))]
async fn list_categories(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<CategoriesQuery>,
) -> Result<axum::Json<Vec<Category>>, ApiError> {
    let county = q
        .county
        .or_else(|| c.caller.grants.first().map(|g| g.unit_county_code))
        .unwrap_or(yinling_app::CITY_COUNTY_CODE);
    Ok(axum::Json(state.app.services().categories(county).await?))
}

/// Add a category for a county (county administrators) or the whole city (city administrators).
#[utoipa::path(post, path = "/api/v1/service-categories", tag = "三张清单", request_body = CategoryInput,
    responses((status = 201, body = Category), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_category(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<CategoryInput>,
) -> Result<(StatusCode, axum::Json<Category>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.app.services().add_category(&c.caller, input).await?),
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
    responses((status = 200, body = Page<Provider>), (status = 401, body = ErrorBody)))]
async fn list_providers(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<ProvidersQuery>,
) -> Result<axum::Json<Page<Provider>>, ApiError> {
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
            .await?,
    ))
}

/// Put a volunteer, team, studio or partner on the resource list.
#[utoipa::path(post, path = "/api/v1/providers", tag = "三张清单", request_body = ProviderInput,
    responses((status = 201, body = Provider), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_provider(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<(StatusCode, axum::Json<Provider>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .services()
                .create_provider(&c.caller, input)
                .await?,
        ),
    ))
}

/// One provider.
#[utoipa::path(get, path = "/api/v1/providers/{county}/{id}", tag = "三张清单",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = Provider), (status = 404, body = ErrorBody)))]
async fn find_provider(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Provider>, ApiError> {
    Ok(axum::Json(
        state.app.services().provider(&c.caller, county, id).await?,
    ))
}

/// Change a provider's skills, areas, windows, capacity or status (`version` required).
#[utoipa::path(put, path = "/api/v1/providers/{county}/{id}", tag = "三张清单",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = ProviderInput,
    responses((status = 200, body = Provider), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_provider(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<axum::Json<Provider>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .services()
            .update_provider(&c.caller, county, id, input)
            .await?,
    ))
}

/// The service list (服务清单) defined in the caller's scope.
#[utoipa::path(get, path = "/api/v1/service-items", tag = "三张清单",
    responses((status = 200, body = Vec<ServiceItem>), (status = 401, body = ErrorBody)))]
async fn list_items(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<ServiceItem>>, ApiError> {
    Ok(axum::Json(state.app.services().items(&c.caller).await?))
}

/// Offer a service item under a unit (everyone living below it can order it).
#[utoipa::path(post, path = "/api/v1/org/units/{county}/{id}/service-items", tag = "三张清单",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = ServiceItemInput,
    responses((status = 201, body = ServiceItem), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_item(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<ServiceItemInput>,
) -> Result<(StatusCode, axum::Json<ServiceItem>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .services()
                .create_item(&c.caller, county, id, input)
                .await?,
        ),
    ))
}

/// Change a service item (`version` required).
#[utoipa::path(put, path = "/api/v1/service-items/{county}/{id}", tag = "三张清单",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = ServiceItemInput,
    responses((status = 200, body = ServiceItem), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_item(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<ServiceItemInput>,
) -> Result<axum::Json<ServiceItem>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .services()
            .update_item(&c.caller, county, id, input)
            .await?,
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
            states: self
                .state
                .map(|s| s.as_str().to_owned())
                .into_iter()
                .collect(),
            category: self.category.clone().filter(|c| !c.is_empty()),
            escalated: self.escalated.unwrap_or(false),
        }
    }
}

/// Orders in the caller's scope, most urgent and oldest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "点单接单", params(OrdersQuery),
    responses((status = 200, body = Page<OrderView>), (status = 401, body = ErrorBody)))]
async fn list_orders(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<OrdersQuery>,
) -> Result<axum::Json<Page<OrderView>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .list(&c.caller, q.filter(), PageRequest::new(q.page, q.per_page))
            .await?,
    ))
}

/// Place an order (点单) for oneself, or as staff for a resident in scope (代点单).
#[utoipa::path(post, path = "/api/v1/orders", tag = "点单接单", request_body = OrderInput,
    responses((status = 201, body = OrderView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn place_order(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<OrderInput>,
) -> Result<(StatusCode, axum::Json<OrderView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(state.app.orders().place(&c.caller, input).await?),
    ))
}

/// The caller's own orders as a resident, newest first.
#[utoipa::path(get, path = "/api/v1/orders/mine", tag = "点单接单",
    responses((status = 200, body = Vec<OrderView>), (status = 401, body = ErrorBody)))]
async fn my_orders(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<OrderView>>, ApiError> {
    Ok(axum::Json(state.app.orders().mine(&c.caller).await?))
}

/// Orders offered to or held by the caller as a provider (接单).
#[utoipa::path(get, path = "/api/v1/orders/offered", tag = "点单接单",
    responses((status = 200, body = Vec<OrderView>), (status = 401, body = ErrorBody)))]
async fn offered_orders(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<OrderView>>, ApiError> {
    Ok(axum::Json(
        state.app.orders().provider_orders(&c.caller, true).await?,
    ))
}

/// One order with its history and what the caller may do next.
#[utoipa::path(get, path = "/api/v1/orders/{county}/{id}", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = OrderDetail), (status = 404, body = ErrorBody)))]
async fn find_order(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<OrderDetail>, ApiError> {
    Ok(axum::Json(
        state.app.orders().detail(&c.caller, county, id).await?,
    ))
}

/// A step in the order's life: `accept`, `decline`, `check_in`, `complete`, `rate`,
/// `cancel` or `close`. Illegal steps answer 409 and change nothing.
#[utoipa::path(post, path = "/api/v1/orders/{county}/{id}/steps/{action}", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path), ("action" = OrderAction, Path)), request_body = OrderStep,
    responses((status = 200, body = OrderView), (status = 409, description = "状态不允许或已被他人接单", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn order_step(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id, action)): ApiPath<(i64, i64, String)>,
    ApiJson(step): ApiJson<OrderStep>,
) -> Result<axum::Json<OrderView>, ApiError> {
    let action = OrderAction::parse(&action).ok_or_else(|| {
        yinling_app::AppError::invalid("unknown_action", "action", "不认识的操作")
    })?;
    Ok(axum::Json(
        state
            .app
            .orders()
            .step(&c.caller, county, id, action, step)
            .await?,
    ))
}

/// A stored photo, to send as the `complete` step's `photo_key`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoKey {
    pub key: String,
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
    ApiPath((county, id)): ApiPath<(i64, i64)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, axum::Json<PhotoKey>), ApiError> {
    let body = body.map_err(|_| crate::multipart::photo_too_large())?;
    let key = state
        .app
        .orders()
        .upload_photo(&c.caller, county, id, body.to_vec())
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
    responses((status = 200, body = Vec<Candidate>), (status = 404, body = ErrorBody)))]
async fn candidates(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<CandidatesQuery>,
) -> Result<axum::Json<Vec<Candidate>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .candidates(&c.caller, county, id, q.k.unwrap_or(10))
            .await?,
    ))
}

/// Dispatch (or reassign) an order to a provider; without one, to the best-ranked (一键派单).
#[utoipa::path(post, path = "/api/v1/orders/{county}/{id}/dispatch", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = DispatchInput,
    responses((status = 200, body = OrderView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn dispatch(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<DispatchInput>,
) -> Result<axum::Json<OrderView>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .dispatch(&c.caller, county, id, input)
            .await?,
    ))
}

/// Awards owed for an order's service, waiting for the points ledger.
#[utoipa::path(get, path = "/api/v1/orders/{county}/{id}/entitlements", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = Vec<EntitlementRow>), (status = 404, body = ErrorBody)))]
async fn entitlements(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Vec<EntitlementRow>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .entitlements(&c.caller, county, id)
            .await?,
    ))
}

/// Dispatch every order awaiting dispatch under a unit, within everyone's capacity.
#[utoipa::path(post, path = "/api/v1/org/units/{county}/{id}/dispatch-all", tag = "点单接单",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = BatchReport), (status = 404, body = ErrorBody)))]
async fn batch_dispatch(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<BatchReport>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .orders()
            .batch_dispatch(&c.caller, county, id)
            .await?,
    ))
}

/// What paying for this completed service with time-bank hours takes (the minutes
/// recorded, at most the item's duration, in words too), or took, and any dispute of it:
/// the confirmation step before `pay-with-hours`.
#[utoipa::path(get, path = "/api/v1/orders/{county}/{id}/hours-charge", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = HoursCharge), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn hours_charge(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<HoursCharge>, ApiError> {
    Ok(axum::Json(
        state.app.time_bank().charge(&c.caller, county, id).await?,
    ))
}

/// Dispute the time-bank payment for an order (有异议): the resident who paid, or staff for
/// them. Once per order; other staff decide it.
#[utoipa::path(post, path = "/api/v1/orders/{county}/{id}/hours-dispute", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = DisputeInput,
    responses((status = 201, body = HoursDisputeRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn dispute_hours(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<DisputeInput>,
) -> Result<(StatusCode, axum::Json<HoursDisputeRow>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .time_bank()
                .raise_dispute(&c.caller, county, id, input)
                .await?,
        ),
    ))
}

/// Decide a dispute: upheld reverses the payment through the ledger; rejected leaves it.
/// Staff with Dispatch or ApproveAdjustments over the order, never the one who raised it
/// nor the resident or their household.
#[utoipa::path(post, path = "/api/v1/orders/{county}/{id}/hours-dispute/decision", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = DisputeDecision,
    responses((status = 200, body = HoursDisputeRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_dispute(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<DisputeDecision>,
) -> Result<axum::Json<HoursDisputeRow>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .time_bank()
            .decide_dispute(&c.caller, county, id, input)
            .await?,
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
    responses((status = 200, body = Vec<HoursDisputeView>), (status = 401, body = ErrorBody)))]
async fn list_disputes(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<DisputesQuery>,
) -> Result<axum::Json<Vec<HoursDisputeView>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .time_bank()
            .disputes(&c.caller, !q.all.unwrap_or(false))
            .await?,
    ))
}
