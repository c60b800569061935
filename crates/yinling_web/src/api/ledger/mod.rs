//! Points, the time bank and redemption over the API. Every movement carries an
//! idempotency key (or is keyed by its source), so a client may retry any request safely.
//! The bodies are in `types.rs`.

mod types;

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use yinling_app::{AppError, Page, PageRequest};
use yinling_domain::{
    ids::{Key, PersonId},
    ledger::Unit,
    region::CountyCode,
};

use self::types::{
    AdjustmentResponse, AwardResponse, BalancesResponse, EarnRequest, EarningRuleResponse,
    GiftRequest, GoodsResponse, GoodsUpdate, LockResponse, MyRedemptionResponse, NewAdjustment,
    NewEarningRule, NewGoods, PayHoursRequest, ReceiptResponse, RedeemCodeResponse, RedeemRequest,
    RedemptionReceiptResponse, ReportResponse, ReportRowResponse, ResolveRequest, ReverseRequest,
    RulesBody, SettlementResponse, ShopReceiptResponse, StatementLineResponse,
};
use crate::api::kernel::ApiKey;
use crate::api::{
    kernel::{ApiJson, ApiPath, ApiQuery, list_of, page_of},
    org::types::OrgUnitResponse,
};
use crate::{
    AppState,
    kernel::error::{ApiError, ErrorBody},
    kernel::session::ApiCaller,
};
use yinling_domain::ids::UnitId;
use yinling_domain::ids::{GoodsId, OrderId, RedeemLockId, RedemptionId, RedemptionReportId};

/// A person's key from a path or the caller; two numbers that are no key name nobody.
fn person_key(county: i64, id: i64) -> Result<Key<PersonId>, AppError> {
    Key::from_parts(county, id).map_err(|_| AppError::NotFound { what: "人员" })
}

/// A transfer's key from a path: a number that is no county is one the caller does not
/// administer, an id that is no id names no transfer.
fn transfer_key(county: i64, id: i64) -> Result<Key<yinling_domain::ids::TransferId>, AppError> {
    Key::from_parts(county, id).map_err(|e| match e {
        yinling_domain::ids::KeyError::County(_) => AppError::forbidden("只有县级管理员可以冲正"),
        yinling_domain::ids::KeyError::Id(_) => AppError::NotFound {
            what: "转账记录"
        },
    })
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_balances))
        .routes(routes!(balances))
        .routes(routes!(statement))
        .routes(routes!(earn))
        .routes(routes!(get_rules, set_rules))
        .routes(routes!(list_earning_rules, put_earning_rule))
        .routes(routes!(pending_adjustments, propose_adjustment))
        .routes(routes!(decide_adjustment))
        .routes(routes!(reverse))
        .routes(routes!(gift))
        .routes(routes!(pay_with_hours))
        .routes(routes!(new_code))
        .routes(routes!(my_receipt))
        .routes(routes!(my_shops))
        .routes(routes!(list_goods, add_goods))
        .routes(routes!(update_goods))
        .routes(routes!(redeem))
        .routes(routes!(settlement))
        .routes(routes!(settlement_xlsx))
        .routes(routes!(my_redemptions))
        .routes(routes!(report_redemption))
        .routes(routes!(list_locks))
        .routes(routes!(lift_lock))
        .routes(routes!(list_reports))
        .routes(routes!(resolve_report))
}

/// The caller's own points and time-bank balance.
#[utoipa::path(get, path = "/api/v1/ledger/me", tag = "积分与时间银行",
    responses((status = 200, body = BalancesResponse), (status = 403, body = ErrorBody)))]
async fn my_balances(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<BalancesResponse>, ApiError> {
    let (county, id) = c
        .caller
        .person
        .ok_or_else(|| yinling_app::AppError::forbidden("您的账号没有关联本人档案"))?;
    Ok(axum::Json(
        state
            .app
            .ledger()
            .balances(&c.caller, person_key(county, id)?)
            .await
            .map(Into::into)?,
    ))
}

/// A person's balances (themselves, or staff over them).
#[utoipa::path(get, path = "/api/v1/ledger/people/{county}/{id}", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = BalancesResponse), (status = 404, body = ErrorBody)))]
async fn balances(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<PersonId>,
) -> Result<axum::Json<BalancesResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .ledger()
            .balances(&c.caller, key)
            .await
            .map(Into::into)?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// `points` (default) or `minutes`.
    pub unit: Option<Unit>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A person's statement, newest first, with the balance after each line.
#[utoipa::path(get, path = "/api/v1/ledger/people/{county}/{id}/statement", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path), StatementQuery),
    responses((status = 200, body = Page<StatementLineResponse>), (status = 404, body = ErrorBody)))]
async fn statement(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<PersonId>,
    ApiQuery(q): ApiQuery<StatementQuery>,
) -> Result<axum::Json<Page<StatementLineResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .ledger()
            .statement(
                &c.caller,
                key,
                q.unit.unwrap_or(Unit::Points),
                PageRequest::new(q.page, q.per_page),
            )
            .await
            .map(page_of)?,
    ))
}

/// Award a person for an activity by the county's earning rule (daily caps apply). A retry
/// with the same idempotency key by the same caller returns the first award and moves
/// nothing; the key is the caller's own (another caller's same key is another request).
/// Nobody awards their own person file or a member of its household (403, audited).
#[utoipa::path(post, path = "/api/v1/ledger/earn", tag = "积分与时间银行", request_body = EarnRequest,
    responses((status = 200, body = AwardResponse), (status = 403, description = "不能给自己或同户家人发放积分", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "已达每日上限，或幂等键用于其他内容", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn earn(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<EarnRequest>,
) -> Result<axum::Json<AwardResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .ledger()
            .earn(&c.caller, input.try_into()?)
            .await
            .map(Into::into)?,
    ))
}

/// A county's ledger rules (daily caps, expiry, family transfers).
#[utoipa::path(get, path = "/api/v1/ledger/rules/{county}", tag = "积分与时间银行",
    params(("county" = i64, Path)), responses((status = 200, body = RulesBody)))]
async fn get_rules(
    State(state): State<AppState>,
    _c: ApiCaller,
    ApiPath(county): ApiPath<i64>,
) -> Result<axum::Json<RulesBody>, ApiError> {
    // Forced by the type: a number that is no county has no rules (it answered the
    // defaults before).
    let county = CountyCode::from_i64(county).map_err(|_| AppError::NotFound {
        what: "县（市、区）",
    })?;
    Ok(axum::Json(
        state.app.ledger().rules(county).await.map(Into::into)?,
    ))
}

/// Change a county's ledger rules (county administrators); `version` as read.
#[utoipa::path(put, path = "/api/v1/ledger/rules/{county}", tag = "积分与时间银行",
    params(("county" = i64, Path)), request_body = RulesBody,
    responses((status = 200, body = RulesBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_rules(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath(county): ApiPath<i64>,
    ApiJson(mut rules): ApiJson<RulesBody>,
) -> Result<axum::Json<RulesBody>, ApiError> {
    rules.county_code = county;
    Ok(axum::Json(
        state
            .app
            .ledger()
            .set_rules(&c.caller, rules.try_into()?)
            .await
            .map(Into::into)?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountyQuery {
    /// The county (e.g. 370830); omitted: the caller's first county.
    pub county: Option<i64>,
}

/// What activity types and mediation outcomes are worth in a county.
#[utoipa::path(get, path = "/api/v1/ledger/earning-rules", tag = "积分与时间银行",
    params(CountyQuery), responses((status = 200, body = Vec<EarningRuleResponse>)))]
async fn list_earning_rules(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<CountyQuery>,
) -> Result<axum::Json<Vec<EarningRuleResponse>>, ApiError> {
    let county = q
        .county
        .or_else(|| c.caller.grants.first().map(|g| g.unit_county_code))
        .unwrap_or(yinling_app::CITY_COUNTY_CODE);
    // A number that is no county has no earning rules.
    let Ok(county) = CountyCode::from_i64(county) else {
        return Ok(axum::Json(Vec::new()));
    };
    Ok(axum::Json(
        state
            .app
            .ledger()
            .earning_rules(county)
            .await
            .map(list_of)?,
    ))
}

/// Set what an activity type or mediation outcome is worth (county administrators).
#[utoipa::path(put, path = "/api/v1/ledger/earning-rules", tag = "积分与时间银行",
    request_body = NewEarningRule,
    responses((status = 200, body = EarningRuleResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_earning_rule(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<NewEarningRule>,
) -> Result<axum::Json<EarningRuleResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .ledger()
            .put_earning_rule(&c.caller, input.try_into()?)
            .await
            .map(Into::into)?,
    ))
}

/// Manual adjustments waiting for a second person's approval, in the caller's scope.
#[utoipa::path(get, path = "/api/v1/ledger/adjustments", tag = "积分与时间银行",
    responses((status = 200, body = Vec<AdjustmentResponse>)))]
async fn pending_adjustments(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<AdjustmentResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .ledger()
            .pending_adjustments(&c.caller)
            .await
            .map(list_of)?,
    ))
}

/// Propose a manual adjustment; it moves nothing until another person approves it. Not for
/// one's own person file or household (403, audited).
#[utoipa::path(post, path = "/api/v1/ledger/adjustments", tag = "积分与时间银行",
    request_body = NewAdjustment,
    responses((status = 201, body = AdjustmentResponse), (status = 403, description = "不能为自己或同户家人提出积分调整", body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn propose_adjustment(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<NewAdjustment>,
) -> Result<(StatusCode, axum::Json<AdjustmentResponse>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .ledger()
                .propose_adjustment(&c.caller, input.try_into()?)
                .await
                .map(Into::into)?,
        ),
    ))
}

/// Approve (`approve`) or reject (`reject`) an adjustment: not one's own proposal, not for
/// oneself or one's household; one the proposer made for his own file or household can only
/// be rejected (403, audited).
#[utoipa::path(post, path = "/api/v1/ledger/adjustments/{county}/{id}/{decision}", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path), ("decision" = String, Path, description = "approve 或 reject")),
    responses((status = 200, body = AdjustmentResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn decide_adjustment(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id, decision)): ApiPath<(i64, i64, String)>,
) -> Result<axum::Json<AdjustmentResponse>, ApiError> {
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(yinling_app::AppError::invalid(
                "unknown_decision",
                "decision",
                "只能是 approve（同意）或 reject（驳回）",
            )
            .into());
        }
    };
    Ok(axum::Json(
        state
            .app
            .ledger()
            .decide_adjustment(
                &c.caller,
                Key::from_parts(county, id).map_err(|_| AppError::NotFound {
                    what: "调整申请"
                })?,
                approve,
            )
            .await
            .map(Into::into)?,
    ))
}

/// Reverse a transfer (冲正): the same amount back, at most once; asking again returns the
/// first reversal. Not when it would pay the caller's own file or household (403, audited).
#[utoipa::path(post, path = "/api/v1/ledger/transfers/{county}/{id}/reverse", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = ReverseRequest,
    responses((status = 200, body = ReceiptResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reverse(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiPath((county, id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<ReverseRequest>,
) -> Result<axum::Json<ReceiptResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .ledger()
            .reverse_transfer(&c.caller, transfer_key(county, id)?, &input.memo)
            .await
            .map(Into::into)?,
    ))
}

/// Give some of one's own time-bank hours to a household member (if the county allows it).
#[utoipa::path(post, path = "/api/v1/timebank/gifts", tag = "积分与时间银行", request_body = GiftRequest,
    responses((status = 200, body = ReceiptResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn gift(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(input): ApiJson<GiftRequest>,
) -> Result<axum::Json<ReceiptResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .time_bank()
            .gift(&c.caller, input.try_into()?)
            .await
            .map(Into::into)?,
    ))
}

/// Pay for a completed service received with time-bank hours (once per order): send back
/// the `minutes` that `GET …/hours-charge` showed (at most the service item's duration); if
/// they differ, 409 and nothing moves.
#[utoipa::path(post, path = "/api/v1/orders/{county}/{id}/pay-with-hours", tag = "积分与时间银行",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = PayHoursRequest,
    responses((status = 200, body = ReceiptResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn pay_with_hours(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<OrderId>,
    ApiJson(input): ApiJson<PayHoursRequest>,
) -> Result<axum::Json<ReceiptResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .time_bank()
            .withdraw(&c.caller, key, input.minutes)
            .await
            .map(Into::into)?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CodeQuery {
    /// The most this code may spend (at most the county's cap per code); omitted: the cap.
    pub max_points: Option<i64>,
}

/// A six-digit code for the caller's points, valid five minutes and for one redemption of
/// at most `max_points`. Refused (403) while the caller has reported a redemption the county
/// has not looked at yet.
#[utoipa::path(post, path = "/api/v1/redeem/codes", tag = "积分兑换", params(CodeQuery),
    responses((status = 201, body = RedeemCodeResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn new_code(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<CodeQuery>,
) -> Result<(StatusCode, axum::Json<RedeemCodeResponse>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .redeem()
                .code_limited(&c.caller, q.max_points)
                .await
                .map(Into::into)?,
        ),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SinceQuery {
    /// Microseconds since the epoch: only a redemption at or after it; omitted: within the
    /// life of a code (the last five minutes).
    pub since: Option<i64>,
}

/// The caller's latest redemption since a moment (the elder's receipt after showing a code).
#[utoipa::path(get, path = "/api/v1/redeem/receipt", tag = "积分兑换", params(SinceQuery),
    responses((status = 200, body = Option<RedemptionReceiptResponse>)))]
async fn my_receipt(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiQuery(q): ApiQuery<SinceQuery>,
) -> Result<axum::Json<Option<RedemptionReceiptResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .redeem()
            .my_last_redemption(
                &c.caller,
                q.since
                    .unwrap_or_else(|| state.app.now() - yinling_app::redeem::CODE_TTL_MICROS),
            )
            .await?
            .map(Into::into),
    ))
}

/// The partner shops the caller works for.
#[utoipa::path(get, path = "/api/v1/shops/mine", tag = "积分兑换",
    responses((status = 200, body = Vec<OrgUnitResponse>)))]
async fn my_shops(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<OrgUnitResponse>>, ApiError> {
    Ok(axum::Json(
        state.app.redeem().my_shops(&c.caller).await.map(list_of)?,
    ))
}

/// A shop's goods.
#[utoipa::path(get, path = "/api/v1/shops/{county}/{id}/goods", tag = "积分兑换",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = Vec<GoodsResponse>), (status = 404, body = ErrorBody)))]
async fn list_goods(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
) -> Result<axum::Json<Vec<GoodsResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .redeem()
            .goods(&c.caller, key)
            .await
            .map(list_of)?,
    ))
}

/// Put goods on a shop's shelf.
#[utoipa::path(post, path = "/api/v1/shops/{county}/{id}/goods", tag = "积分兑换",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = NewGoods,
    responses((status = 201, body = GoodsResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_goods(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiJson(input): ApiJson<NewGoods>,
) -> Result<(StatusCode, axum::Json<GoodsResponse>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            state
                .app
                .redeem()
                .add_goods(&c.caller, key, input.into())
                .await
                .map(Into::into)?,
        ),
    ))
}

/// Change goods (name, price, stock, on offer); `version` as read.
#[utoipa::path(put, path = "/api/v1/goods/{county}/{id}", tag = "积分兑换",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = GoodsUpdate,
    responses((status = 200, body = GoodsResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_goods(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<GoodsId>,
    ApiJson(input): ApiJson<GoodsUpdate>,
) -> Result<axum::Json<GoodsResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .redeem()
            .update_goods(&c.caller, key, input.into())
            .await
            .map(Into::into)?,
    ))
}

/// Redeem an elder's code at the shop: stock, code and points move together or not at all.
/// A retry with the same idempotency key returns the first receipt (200, `replayed`). The
/// receipt names the elder masked and holds neither their balance nor their person id.
/// Wrong codes are limited per till account and per client address; past the limit every
/// code is refused (429) until the lock runs out or the county lifts it.
#[utoipa::path(post, path = "/api/v1/shops/{county}/{id}/redemptions", tag = "积分兑换",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = RedeemRequest,
    responses((status = 201, body = ShopReceiptResponse), (status = 200, description = "重试：返回第一次的回执", body = ShopReceiptResponse),
        (status = 409, description = "兑换码无效、超出兑换码额度、库存不足、积分不足", body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "兑换码输错次数过多，收银账号或网络地址已暂停兑换", body = ErrorBody)))]
async fn redeem(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiJson(input): ApiJson<RedeemRequest>,
) -> Result<(StatusCode, axum::Json<ShopReceiptResponse>), ApiError> {
    let r = state
        .app
        .redeem()
        .at_till(&c.caller, key, input.into())
        .await?;
    let status = if r.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(r.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// 2026-11; omitted: this month.
    pub month: Option<String>,
}

impl MonthQuery {
    fn month(&self, state: &AppState) -> String {
        self.month.clone().unwrap_or_else(|| {
            yinling_domain::time::local_date(state.app.now())
                .format("%Y-%m")
                .to_string()
        })
    }
}

/// A shop's redemptions in a month, for settlement.
#[utoipa::path(get, path = "/api/v1/shops/{county}/{id}/settlement", tag = "积分兑换",
    params(("county" = i64, Path), ("id" = i64, Path), MonthQuery),
    responses((status = 200, body = SettlementResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn settlement(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> Result<axum::Json<SettlementResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .redeem()
            .settlement(&c.caller, key, &q.month(&state))
            .await
            .map(Into::into)?,
    ))
}

/// The month's settlement statement as an Excel workbook (names masked).
#[utoipa::path(get, path = "/api/v1/shops/{county}/{id}/settlement.xlsx", tag = "积分兑换",
    params(("county" = i64, Path), ("id" = i64, Path), MonthQuery),
    responses((status = 200, description = "Excel 工作簿", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn settlement_xlsx(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<UnitId>,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> Result<Response, ApiError> {
    let month = q.month(&state);
    let (name, bytes) = state
        .app
        .redeem()
        .settlement_xlsx(&c.caller, key, &month)
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"settlement-{month}.xlsx\"; filename*=UTF-8''{}",
                    urlencoding::encode(&name)
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The caller's own latest redemptions (shop, goods, points, time), each with its report
/// if the caller said it was not theirs.
#[utoipa::path(get, path = "/api/v1/redeem/mine", tag = "积分兑换",
    responses((status = 200, body = Vec<MyRedemptionResponse>)))]
async fn my_redemptions(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<MyRedemptionResponse>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .redeem()
            .my_redemptions(&c.caller)
            .await
            .map(list_of)?,
    ))
}

/// 不是我本人兑换: report one of one's own redemptions. Voids one's live codes, pauses new
/// ones until the county has looked at it, and puts it on the county's list. Reporting it
/// again answers the first report.
#[utoipa::path(post, path = "/api/v1/redeem/redemptions/{county}/{id}/report", tag = "积分兑换",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = ReportRowResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn report_redemption(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<RedemptionId>,
) -> Result<axum::Json<ReportRowResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .redeem()
            .report(&c.caller, key)
            .await
            .map(Into::into)?,
    ))
}

/// Tills and addresses locked after too many wrong codes at shops in the caller's scope
/// (county administrators), newest first.
#[utoipa::path(get, path = "/api/v1/redeem/locks", tag = "积分兑换",
    responses((status = 200, body = Vec<LockResponse>), (status = 403, body = ErrorBody)))]
async fn list_locks(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<LockResponse>>, ApiError> {
    Ok(axum::Json(
        state.app.redeem().locks(&c.caller).await.map(list_of)?,
    ))
}

/// Lift a lock before it runs out (audited); the till's count starts afresh.
#[utoipa::path(post, path = "/api/v1/redeem/locks/{county}/{id}/lift", tag = "积分兑换",
    params(("county" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = LockResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn lift_lock(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<RedeemLockId>,
) -> Result<axum::Json<LockResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .redeem()
            .lift_lock(&c.caller, key)
            .await
            .map(Into::into)?,
    ))
}

/// Elders' reports of redemptions that were not theirs, at shops in the caller's scope
/// (county administrators); open ones first.
#[utoipa::path(get, path = "/api/v1/redeem/reports", tag = "积分兑换",
    responses((status = 200, body = Vec<ReportResponse>), (status = 403, body = ErrorBody)))]
async fn list_reports(
    State(state): State<AppState>,
    c: ApiCaller,
) -> Result<axum::Json<Vec<ReportResponse>>, ApiError> {
    Ok(axum::Json(
        state.app.redeem().reports(&c.caller).await.map(list_of)?,
    ))
}

/// Decide a report: `fraud` reverses the redemption (the points go back to the elder),
/// `dismiss` closes it; either way the elder may show codes again. Not for a report about
/// oneself or one's household.
#[utoipa::path(post, path = "/api/v1/redeem/reports/{county}/{id}/resolve", tag = "积分兑换",
    params(("county" = i64, Path), ("id" = i64, Path)), request_body = ResolveRequest,
    responses((status = 200, body = ReportResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn resolve_report(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiKey(key): ApiKey<RedemptionReportId>,
    ApiJson(input): ApiJson<ResolveRequest>,
) -> Result<axum::Json<ReportResponse>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .redeem()
            .resolve_report(&c.caller, key, input.into())
            .await
            .map(Into::into)?,
    ))
}
