//! The partner shop's side of 积分兑换超市, on the till's phone: type the elder's six-digit
//! code, choose the goods, redeem, show the receipt; keep the goods, prices and stock; see
//! and export the monthly settlement. The form carries an idempotency key made when it was
//! shown, so sending it twice (a double tap, a reload) repeats the first receipt instead of
//! taking the points twice. Also the county's watch over redemption: the tills and
//! addresses locked after too many wrong codes (lifted early if need be), and elders'
//! reports of redemptions that were not theirs (不是我本人兑换), confirmed or dismissed.

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::{
    AppError,
    redeem::fresh_key,
    redeem::{
        GoodsInput, LockView, RedeemInput, ReportDecision, ReportView, ResolveInput, Settlement,
        ShopReceipt,
    },
};
use yinling_domain::{
    ids::{Key, UnitId},
    ledger::ReportState,
    time::local_date,
};
use yinling_store::{org::OrgUnitRow, redeem::shops::GoodsRow};

use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::extract::{Form, Path, Query};
use crate::ui::kernel::{
    FormError, Layout, PageCtx, PageResult, filters, opt, render, see_other, with_status,
};
use yinling_domain::ids::{RedeemLockId, RedemptionReportId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop", get(my_shops))
        .route("/shop/{county}/{id}", get(till))
        .route("/shop/{county}/{id}/redeem", post(redeem))
        .route("/shop/{county}/{id}/receipt", get(receipt))
        .route("/shop/{county}/{id}/goods", get(goods).post(add_goods))
        .route("/shop/{county}/{id}/goods/{goods}", post(update_goods))
        .route("/shop/{county}/{id}/settlement", get(settlement))
        .route("/shop/{county}/{id}/settlement.xlsx", get(settlement_xlsx))
        .route("/ledger/redeem-locks", get(locks))
        .route("/ledger/redeem-locks/{county}/{id}/lift", post(lift_lock))
        .route("/ledger/redeem-reports", get(reports))
        .route(
            "/ledger/redeem-reports/{county}/{id}/resolve",
            post(resolve_report),
        )
}

/// A shop's key from a page's path (a shop is an org unit); two numbers that are no key
/// name no shop.
fn shop_key((county, id): (i64, i64)) -> Result<Key<UnitId>, AppError> {
    Key::from_parts(county, id).map_err(|_| AppError::NotFound {
        what: "合作商户"
    })
}

fn shop_href(shop: &OrgUnitRow) -> String {
    format!("/shop/{}/{}", shop.county_code, shop.id)
}

// ---- choosing a shop ----

#[derive(Template)]
#[template(path = "redeem/shops.html")]
struct ListPage {
    l: Layout,
    shops: Vec<(String, String)>,
}

async fn my_shops(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    let shops = state.app.redeem().my_shops(&ctx.caller).await?;
    if let [one] = shops.as_slice() {
        return Ok(see_other(&shop_href(one)));
    }
    Ok(render(&ListPage {
        l: ctx.layout("积分兑换", "shop"),
        shops: shops
            .iter()
            .map(|s| (shop_href(s), s.name.clone()))
            .collect(),
    }))
}

// ---- the till ----

#[derive(Debug, Deserialize, Default, Clone)]
struct RedeemForm {
    code: Option<String>,
    goods_id: Option<String>,
    quantity: Option<String>,
    idempotency_key: Option<String>,
}

#[derive(Template)]
#[template(path = "redeem/till.html")]
struct TillPage {
    l: Layout,
    shop: OrgUnitRow,
    goods: Vec<GoodsRow>,
    f: RedeemForm,
    key: String,
    error: Option<FormError>,
}

impl TillPage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is(field))
    }

    fn is_goods(&self, g: &GoodsRow) -> bool {
        opt(&self.f.goods_id).as_deref() == Some(g.id.to_string().as_str())
    }
}

async fn till_page(
    state: &AppState,
    ctx: PageCtx,
    shop: Key<UnitId>,
    f: RedeemForm,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let unit = state.app.redeem().shop(&ctx.caller, shop).await?;
    let goods = state
        .app
        .redeem()
        .goods(&ctx.caller, shop)
        .await?
        .into_iter()
        .filter(|g| g.active && g.stock > 0)
        .collect();
    let resp = render(&TillPage {
        l: ctx.layout(format!("积分兑换 · {}", unit.name), "shop"),
        shop: unit,
        goods,
        f,
        key: fresh_key("till"),
        error,
    });
    Ok(with_status(resp, failed))
}

async fn till(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(shop): KeyPath<UnitId>,
) -> PageResult {
    till_page(&state, ctx, shop, RedeemForm::default(), None).await
}

async fn redeem(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(shop): KeyPath<UnitId>,
    Form(f): Form<RedeemForm>,
) -> PageResult {
    let key = opt(&f.idempotency_key).unwrap_or_else(|| fresh_key("till"));
    let result = async {
        let goods_id = opt(&f.goods_id)
            .and_then(|g| g.parse::<i64>().ok())
            .ok_or_else(|| AppError::invalid("goods_required", "goods_id", "请选择兑换的商品"))?;
        let quantity = match opt(&f.quantity) {
            None => 1,
            Some(q) => q.parse::<i64>().map_err(|_| {
                AppError::invalid("invalid_quantity", "quantity", "数量须为1至99的整数")
            })?,
        };
        state
            .app
            .redeem()
            .at_till(
                &ctx.caller,
                shop,
                RedeemInput {
                    code: f.code.clone().unwrap_or_default(),
                    goods_id,
                    quantity,
                    idempotency_key: key.clone(),
                },
            )
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/shop/{}/{}/receipt?key={}",
            shop.county_code,
            shop.id,
            urlencoding::encode(&key)
        ))),
        Err(e) => {
            // A locked till is told so beside the code, like a wrong code.
            let fe = match &e {
                AppError::TooMany { message, .. } => Some(FormError {
                    field: Some("code".to_owned()),
                    message: message.clone(),
                    status: StatusCode::TOO_MANY_REQUESTS,
                }),
                _ => FormError::from_app(&e),
            };
            match fe {
                Some(fe) => till_page(&state, ctx, shop, f, Some(fe)).await,
                None => Err(e.into()),
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct ReceiptQuery {
    key: Option<String>,
}

#[derive(Template)]
#[template(path = "redeem/receipt.html")]
struct ReceiptPage {
    l: Layout,
    shop_href: String,
    r: ShopReceipt,
}

async fn receipt(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(shop): KeyPath<UnitId>,
    Query(q): Query<ReceiptQuery>,
) -> PageResult {
    let key = opt(&q.key).ok_or(AppError::NotFound {
        what: "兑换记录"
    })?;
    let r = state
        .app
        .redeem()
        .shop_receipt(&ctx.caller, shop, &key)
        .await?;
    Ok(render(&ReceiptPage {
        l: ctx.layout("兑换成功", "shop"),
        shop_href: format!("/shop/{shop}"),
        r,
    }))
}

// ---- goods ----

#[derive(Debug, Deserialize, Default, Clone)]
struct GoodsForm {
    name: Option<String>,
    price_points: Option<String>,
    stock: Option<String>,
    /// The checkbox: present when on offer.
    active: Option<String>,
    version: Option<String>,
}

impl GoodsForm {
    fn of(g: &GoodsRow) -> GoodsForm {
        GoodsForm {
            name: Some(g.name.clone()),
            price_points: Some(g.price_points.to_string()),
            stock: Some(g.stock.to_string()),
            active: g.active.then(|| "on".to_owned()),
            version: Some(g.version.to_string()),
        }
    }

    fn input(&self, editing: bool) -> Result<GoodsInput, AppError> {
        let num = |v: &Option<String>, field: &'static str, what: &str| {
            opt(v)
                .ok_or_else(|| AppError::invalid("required", field, format!("请填写{what}")))?
                .parse::<i64>()
                .map_err(|_| AppError::invalid("invalid_number", field, format!("{what}请填整数")))
        };
        Ok(GoodsInput {
            name: self.name.clone().unwrap_or_default(),
            price_points: num(&self.price_points, "price_points", "兑换所需积分")?,
            stock: num(&self.stock, "stock", "库存")?,
            active: if editing { self.active.is_some() } else { true },
            version: if editing {
                opt(&self.version).and_then(|v| v.parse().ok())
            } else {
                None
            },
        })
    }
}

/// One goods row on the page, with what was typed if saving it was refused.
struct GoodsLine {
    id: i64,
    f: GoodsForm,
    error: Option<FormError>,
}

impl GoodsLine {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is(field))
    }

    fn active(&self) -> bool {
        self.f.active.is_some()
    }
}

#[derive(Template)]
#[template(path = "redeem/goods.html")]
struct GoodsPage {
    l: Layout,
    shop: OrgUnitRow,
    lines: Vec<GoodsLine>,
    new: GoodsForm,
    new_error: Option<FormError>,
}

impl GoodsPage {
    fn new_invalid(&self, field: &str) -> bool {
        self.new_error.as_ref().is_some_and(|e| e.is(field))
    }
}

/// What was refused: the new goods form, or the row of goods `id`.
enum Refused {
    New(GoodsForm, FormError),
    Row(i64, GoodsForm, FormError),
}

async fn goods_page(
    state: &AppState,
    ctx: PageCtx,
    shop: Key<UnitId>,
    refused: Option<Refused>,
) -> PageResult {
    let failed = refused.as_ref().map(|r| match r {
        Refused::New(_, e) | Refused::Row(_, _, e) => e.status,
    });
    let unit = state.app.redeem().shop(&ctx.caller, shop).await?;
    let rows = state.app.redeem().goods(&ctx.caller, shop).await?;
    let (mut new, mut new_error) = (GoodsForm::default(), None);
    let mut row_refused = None;
    match refused {
        Some(Refused::New(f, e)) => {
            new = f;
            new_error = Some(e);
        }
        Some(Refused::Row(id, f, e)) => row_refused = Some((id, f, e)),
        None => {}
    }
    let lines = rows
        .iter()
        .map(|g| match &row_refused {
            Some((id, f, e)) if *id == g.id.get() => GoodsLine {
                id: g.id.get(),
                f: GoodsForm {
                    version: Some(g.version.to_string()),
                    ..f.clone()
                },
                error: Some(e.clone()),
            },
            _ => GoodsLine {
                id: g.id.get(),
                f: GoodsForm::of(g),
                error: None,
            },
        })
        .collect();
    let resp = render(&GoodsPage {
        l: ctx.layout(format!("商品管理 · {}", unit.name), "shop"),
        shop: unit,
        lines,
        new,
        new_error,
    });
    Ok(with_status(resp, failed))
}

async fn goods(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(shop): KeyPath<UnitId>,
) -> PageResult {
    goods_page(&state, ctx, shop, None).await
}

async fn add_goods(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(shop): KeyPath<UnitId>,
    Form(f): Form<GoodsForm>,
) -> PageResult {
    let result = match f.input(false) {
        Ok(input) => state.app.redeem().add_goods(&ctx.caller, shop, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/shop/{}/{}/goods?ok=created",
            shop.county_code, shop.id
        ))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => goods_page(&state, ctx, shop, Some(Refused::New(f, fe))).await,
            None => Err(e.into()),
        },
    }
}

async fn update_goods(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id, goods)): Path<(i64, i64, i64)>,
    Form(f): Form<GoodsForm>,
) -> PageResult {
    let shop = shop_key((county, id))?;
    // The goods must be this shop's: the page lists only its own.
    state.app.redeem().shop(&ctx.caller, shop).await?;
    let owned = state
        .app
        .redeem()
        .goods(&ctx.caller, shop)
        .await?
        .iter()
        .any(|g| g.id.get() == goods);
    if !owned {
        return Err(AppError::NotFound { what: "商品" }.into());
    }
    let goods_key =
        Key::from_parts(county, goods).map_err(|_| AppError::NotFound { what: "商品" })?;
    let result = match f.input(true) {
        Ok(input) => {
            state
                .app
                .redeem()
                .update_goods(&ctx.caller, goods_key, input)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/shop/{county}/{id}/goods?ok=saved"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => goods_page(&state, ctx, shop, Some(Refused::Row(goods, f, fe))).await,
            None => Err(e.into()),
        },
    }
}

// ---- settlement ----

#[derive(Debug, Deserialize)]
struct MonthQuery {
    month: Option<String>,
}

#[derive(Template)]
#[template(path = "redeem/settlement.html")]
struct SettlementPage {
    l: Layout,
    shop_href: String,
    s: Settlement,
    month_query: String,
}

fn month_of(state: &AppState, q: &MonthQuery) -> String {
    opt(&q.month).unwrap_or_else(|| local_date(state.app.now()).format("%Y-%m").to_string())
}

async fn settlement(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(shop): KeyPath<UnitId>,
    Query(q): Query<MonthQuery>,
) -> PageResult {
    let month = month_of(&state, &q);
    let s = state
        .app
        .redeem()
        .settlement(&ctx.caller, shop, &month)
        .await?;
    Ok(render(&SettlementPage {
        l: ctx.layout(format!("结算单 · {} · {}", s.shop_name, s.month), "shop"),
        shop_href: format!("/shop/{shop}"),
        month_query: urlencoding::encode(&s.month).into_owned(),
        s,
    }))
}

async fn settlement_xlsx(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(shop): KeyPath<UnitId>,
    Query(q): Query<MonthQuery>,
) -> PageResult {
    let month = month_of(&state, &q);
    let (name, bytes) = state
        .app
        .redeem()
        .settlement_xlsx(&ctx.caller, shop, &month)
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
                    "attachment; filename*=UTF-8''{}",
                    urlencoding::encode(&name)
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---- the county's watch: locks and reports ----

#[derive(Debug, Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "redeem/locks.html")]
struct LocksPage {
    l: Layout,
    locks: Vec<LockView>,
    error: Option<FormError>,
}

async fn locks_page(
    state: &AppState,
    ctx: PageCtx,
    done: Option<&str>,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let locks = state.app.redeem().locks(&ctx.caller).await?;
    let mut l = ctx.layout("兑换码锁定", "ledger");
    if done == Some("lifted") {
        l.notice = Some("已解除锁定，该收银台可以重新兑换。".to_owned());
    }
    Ok(with_status(render(&LocksPage { l, locks, error }), failed))
}

async fn locks(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    locks_page(&state, ctx, q.done.as_deref(), None).await
}

async fn lift_lock(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<RedeemLockId>,
) -> PageResult {
    let lifted = state.app.redeem().lift_lock(&ctx.caller, key).await;
    match lifted {
        Ok(_) => Ok(see_other("/ledger/redeem-locks?done=lifted")),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => locks_page(&state, ctx, None, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Debug, Deserialize, Default, Clone)]
struct ResolveForm {
    decision: Option<String>,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "redeem/reports.html")]
struct ReportsPage {
    l: Layout,
    reports: Vec<ReportView>,
    /// The report whose decision was refused, what was typed, and why.
    refused: Option<(Key<RedemptionReportId>, ResolveForm, FormError)>,
}

impl ReportsPage {
    fn error_for(&self, r: &ReportView) -> Option<&FormError> {
        self.refused
            .as_ref()
            .filter(|(k, _, _)| *k == Key::new(r.report.county_code, r.report.id))
            .map(|x| &x.2)
    }

    fn note_for(&self, r: &ReportView) -> String {
        self.refused
            .as_ref()
            .filter(|(k, _, _)| *k == Key::new(r.report.county_code, r.report.id))
            .and_then(|x| x.1.note.clone())
            .unwrap_or_default()
    }
}

async fn reports_page(
    state: &AppState,
    ctx: PageCtx,
    done: Option<&str>,
    refused: Option<(Key<RedemptionReportId>, ResolveForm, FormError)>,
) -> PageResult {
    let failed = refused.as_ref().map(|(_, _, e)| e.status);
    let reports = state.app.redeem().reports(&ctx.caller).await?;
    let mut l = ctx.layout("冒用兑换报告", "ledger");
    l.notice = match done {
        Some("fraud") => Some("已认定冒用：这笔兑换已冲正，积分退回老人账户。".to_owned()),
        Some("dismissed") => Some("已驳回：认定为本人兑换，积分不变。".to_owned()),
        _ => l.notice,
    };
    Ok(with_status(
        render(&ReportsPage {
            l,
            reports,
            refused,
        }),
        failed,
    ))
}

async fn reports(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    reports_page(&state, ctx, q.done.as_deref(), None).await
}

async fn resolve_report(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<RedemptionReportId>,
    Form(f): Form<ResolveForm>,
) -> PageResult {
    let decision = match opt(&f.decision).as_deref() {
        Some("fraud") => Ok(ReportDecision::Fraud),
        Some("dismiss") => Ok(ReportDecision::Dismiss),
        _ => Err(AppError::invalid(
            "decision_required",
            "decision",
            "请选择认定冒用或驳回",
        )),
    };
    let result = match decision {
        Ok(decision) => {
            state
                .app
                .redeem()
                .resolve_report(
                    &ctx.caller,
                    key,
                    ResolveInput {
                        decision,
                        note: f.note.clone().unwrap_or_default(),
                    },
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => Ok(see_other(&format!(
            "/ledger/redeem-reports?done={}",
            if v.report.state == ReportState::Fraud {
                "fraud"
            } else {
                "dismissed"
            }
        ))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => reports_page(&state, ctx, None, Some((key, f, fe))).await,
            None => Err(e.into()),
        },
    }
}
