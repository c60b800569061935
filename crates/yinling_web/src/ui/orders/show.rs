//! Service order pages (群众点单、老干部接单、一键调度): a resident orders on a phone in
//! 长辈模式 (or a grid worker for them), sees their orders and rates the service; a
//! volunteer's offered orders with 接单 / 拒单 / 到达签到 / 完成服务; the staff order list
//! with batch dispatch, an order with its history and the ranked candidates; the service
//! list. The resource list is in [`crate::ui::services`].

use askama::Template;
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::{
    AppError, Caller, Page, PageRequest,
    orders::{BatchReport, DispatchInput},
    orders::{OrderDetail, OrderInput, OrderStep, OrderView},
    people::parse_key,
    services::{ServiceItem, ServiceItemInput},
    time_bank::{DisputeDecision, DisputeInput, HoursCharge, HoursDisputeView},
};
use yinling_domain::{
    role::Permission,
    service::{OrderAction, OrderState},
    time::local_date,
};
use yinling_store::orders::{OrderFilter, OrderRow};

use crate::AppState;
use crate::ui::kernel::extract::{Form, Path, Query};
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, choices, filters, opt, render, see_other,
    with_status,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list_orders))
        .route("/orders/batch", post(batch_dispatch))
        .route("/orders/new", get(new_order).post(place_order))
        .route("/orders/mine", get(my_orders))
        .route("/orders/offered", get(offered_orders))
        .route("/orders/{county}/{id}", get(show_order))
        .route("/orders/{county}/{id}/placed", get(placed))
        .route("/orders/{county}/{id}/step", post(order_step))
        .route("/orders/{county}/{id}/dispatch", post(dispatch_order))
        .route(
            "/orders/{county}/{id}/pay-hours",
            get(confirm_hours).post(pay_with_hours),
        )
        .route("/orders/{county}/{id}/hours-dispute", post(dispute_hours))
        .route(
            "/orders/{county}/{id}/hours-dispute/decision",
            post(decide_dispute),
        )
        .route("/orders/disputes", get(list_disputes))
        .route(
            "/orders/{county}/{id}/complete",
            get(complete_form)
                .post(complete_order)
                .layer(DefaultBodyLimit::max(crate::multipart::MAX_UPLOAD_BODY)),
        )
        .route("/orders/{county}/{id}/photo", get(order_photo))
        .route("/service-items", get(list_service_items))
        .route("/service-items/new", get(new_item).post(create_item))
}

/// Notices after a step (`?done=accept`), in words.
fn done_notice(done: Option<&str>) -> Option<String> {
    let text = match done? {
        "accept" => "您已接单。请按约定时间上门，到达后点“到达签到”。",
        "decline" => "您已拒单，这张订单会派给其他服务者。",
        "check_in" => "已签到，服务计时开始。服务结束后请点“完成服务”。",
        "complete" => "服务已完成，谢谢您！",
        "rate" => "谢谢您的评价！",
        "cancel" => "订单已取消。",
        "close" => "订单已办结。",
        "dispatch" => "已派单，等待服务者接单。",
        "paid" => "已用时间银行支付这次服务。",
        "disputed" => "已提出异议，工作人员会核实；异议成立会把时长退回给您。",
        "decided" => "异议已处理。",
        _ => return None,
    };
    Some(text.to_owned())
}

fn state_choices(current: &str) -> Vec<Choice> {
    choices(
        OrderState::ALL.iter().map(|s| (s.as_str(), s.label_zh())),
        current,
    )
}

/// The county whose categories the list offers: the caller's first.
fn county_of(caller: &Caller) -> i64 {
    caller
        .scope(Permission::ViewServices)
        .ranges()
        .first()
        .and_then(|r| r.single_county())
        .unwrap_or(yinling_app::CITY_COUNTY_CODE)
}

// ---- 点单 ----

#[derive(Debug, Deserialize, Default, Clone)]
struct PlaceForm {
    person: Option<String>,
    item: Option<String>,
    /// A quick choice ("2026-07-02T12:00") or "other" for the `wanted_at` field.
    when: Option<String>,
    wanted_at: Option<String>,
    description: Option<String>,
}

/// Who an order is for.
struct Subject {
    county: i64,
    id: i64,
    name: String,
    path: String,
    address: Option<String>,
    proxy: bool,
}

async fn subject(
    state: &AppState,
    ctx: &PageCtx,
    person: &Option<String>,
) -> PageResultOf<Subject> {
    let (key, proxy) = match opt(person) {
        Some(p) => {
            let k = parse_key(&p).ok_or(AppError::NotFound { what: "人员" })?;
            (k, Some(k) != ctx.caller.person)
        }
        None => match ctx.caller.person {
            Some(k) => (k, false),
            None => {
                return Err(AppError::invalid(
                    "person_required",
                    "person",
                    "请先打开居民的档案，再点“代点单”为他（她）下单",
                ));
            }
        },
    };
    if proxy && !ctx.caller.may(Permission::Dispatch) {
        return Err(AppError::NotFound { what: "人员" });
    }
    let file = state.app.people().file(&ctx.caller, key.0, key.1).await?;
    Ok(Subject {
        county: file.county_code,
        id: file.id,
        name: file.name,
        path: file.home_unit.path,
        address: file.address,
        proxy,
    })
}

type PageResultOf<T> = Result<T, AppError>;

/// One quick time choice.
#[derive(Debug, Clone)]
struct TimeChoice {
    value: String,
    label: String,
    checked: bool,
}

const HOUR: i64 = 3_600_000_000;

/// Today's next full hour and tomorrow morning, noon and afternoon, as
/// `datetime-local` values in Beijing time.
fn time_choices(now: i64) -> (Vec<(String, String)>, String) {
    let fmt = "%Y-%m-%dT%H:%M";
    let next = (now / HOUR + 1) * HOUR;
    let next_local = yinling_domain::time::from_micros(next);
    let today = local_date(now);
    let next_text = next_local.format(fmt).to_string();
    let day = if next_local.date_naive() == today {
        "今天"
    } else {
        "明天"
    };
    let mut out = vec![(
        next_text.clone(),
        format!("{day} {}", next_local.format("%H:%M")),
    )];
    if let Some(tomorrow) = today.succ_opt() {
        for (h, label) in [
            (9, "明天上午 9:00"),
            (12, "明天中午 12:00"),
            (15, "明天下午 3:00"),
        ] {
            if let Some(t) = tomorrow.and_hms_opt(h, 0, 0) {
                let v = t.format(fmt).to_string();
                if v != next_text {
                    out.push((v, label.to_owned()));
                }
            }
        }
    }
    (out, next_text)
}

#[derive(Template)]
#[template(path = "orders_new.html")]
struct NewOrderPage {
    l: Layout,
    f: PlaceForm,
    person_name: String,
    proxy: bool,
    address: Option<String>,
    items: Vec<ServiceItem>,
    item: Option<ServiceItem>,
    times: Vec<TimeChoice>,
    other_checked: bool,
    other_value: String,
    error: Option<FormError>,
}

impl NewOrderPage {
    fn person_query(&self) -> String {
        match (&self.f.person, self.proxy) {
            (Some(p), true) => format!("&person={p}"),
            _ => String::new(),
        }
    }

    /// Back to step 1, for the same resident.
    fn change_query(&self) -> String {
        match (&self.f.person, self.proxy) {
            (Some(p), true) => format!("?person={p}"),
            _ => String::new(),
        }
    }
}

async fn order_form(
    state: &AppState,
    ctx: PageCtx,
    f: PlaceForm,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let who = match subject(state, &ctx, &f.person).await {
        Ok(s) => s,
        Err(e @ AppError::Invalid { .. }) => {
            return Ok(crate::ui::kernel::message_page(
                StatusCode::OK,
                "代点单",
                &e.to_string(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let items = state
        .app
        .services()
        .items_offered_at(who.county, &who.path)
        .await?;
    let item = opt(&f.item)
        .and_then(|i| i.parse::<i64>().ok())
        .and_then(|id| items.iter().find(|i| i.id == id).cloned());
    let (quick, next) = time_choices(state.app.now());
    let when = opt(&f.when);
    let other_checked = when.as_deref() == Some("other");
    let any_quick = quick.iter().any(|(v, _)| Some(v) == when.as_ref());
    let times = quick
        .into_iter()
        .enumerate()
        .map(|(i, (value, label))| TimeChoice {
            checked: Some(&value) == when.as_ref() || (i == 0 && !any_quick && !other_checked),
            value,
            label,
        })
        .collect();
    let title = if item.is_some() {
        "点单：选时间"
    } else {
        "点单：选服务"
    };
    let resp = render(&NewOrderPage {
        l: ctx.layout(title, "order-new"),
        other_value: opt(&f.wanted_at).unwrap_or(next),
        person_name: who.name,
        proxy: who.proxy,
        address: who.address,
        items,
        item,
        times,
        other_checked,
        f,
        error,
    });
    Ok(with_status(resp, failed))
}

async fn new_order(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(f): Query<PlaceForm>,
) -> PageResult {
    order_form(&state, ctx, f, None).await
}

async fn place_order(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<PlaceForm>,
) -> PageResult {
    let result = async {
        let who = subject(&state, &ctx, &f.person).await?;
        let item_id = opt(&f.item)
            .and_then(|i| i.parse::<i64>().ok())
            .ok_or_else(|| AppError::invalid("item_required", "item_id", "请先选择一项服务"))?;
        let wanted = match opt(&f.when).as_deref() {
            Some("other") | None => opt(&f.wanted_at),
            Some(v) => Some(v.to_owned()),
        }
        .ok_or_else(|| AppError::invalid("time_required", "wanted_at", "请选择服务时间"))?;
        state
            .app
            .orders()
            .place(
                &ctx.caller,
                OrderInput {
                    item_id,
                    person: Some((who.county, who.id).into()),
                    wanted_at: None,
                    wanted_at_text: Some(wanted),
                    description: f.description.clone(),
                    urgency: None,
                    address: None,
                    need_id: None,
                },
            )
            .await
    }
    .await;
    match result {
        Ok(v) => Ok(see_other(&format!(
            "/orders/{}/{}/placed",
            v.order.county_code, v.order.id
        ))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => order_form(&state, ctx, f, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "orders_placed.html")]
struct PlacedPage {
    l: Layout,
    v: OrderView,
    proxy: bool,
}

async fn placed(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
) -> PageResult {
    let d = state.app.orders().detail(&ctx.caller, county, id).await?;
    let proxy = ctx.caller.person != Some((d.view.order.county_code, d.view.order.person_id));
    Ok(render(&PlacedPage {
        l: ctx.layout("点单成功", "order-new"),
        v: d.view,
        proxy,
    }))
}

// ---- 我的订单 / 我的接单 ----

#[derive(Debug, Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "orders_mine.html")]
struct MinePage {
    l: Layout,
    orders: Vec<OrderView>,
}

async fn my_orders(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let orders = state.app.orders().mine(&ctx.caller).await?;
    let mut l = ctx.layout("我的订单", "orders-mine");
    l.notice = l.notice.or_else(|| done_notice(q.done.as_deref()));
    Ok(render(&MinePage { l, orders }))
}

/// An order on the volunteer's list with what they may do now.
struct OfferedCard {
    v: OrderView,
    actions: Vec<&'static str>,
}

impl OfferedCard {
    fn can(&self, a: &str) -> bool {
        self.actions.contains(&a)
    }
}

#[derive(Template)]
#[template(path = "orders_offered.html")]
struct OfferedPage {
    l: Layout,
    cards: Vec<OfferedCard>,
    error: Option<FormError>,
}

async fn offered_page(
    state: &AppState,
    ctx: PageCtx,
    done: Option<&str>,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let views = state
        .app
        .orders()
        .provider_orders(&ctx.caller, false)
        .await?;
    let mut cards = Vec::with_capacity(views.len());
    for v in views {
        let d = state
            .app
            .orders()
            .detail(&ctx.caller, v.order.county_code, v.order.id)
            .await?;
        cards.push(OfferedCard {
            actions: d.actions,
            v: d.view,
        });
    }
    // Work still to do first, then what is finished.
    cards.sort_by_key(|c| !OrderState::parse(&c.v.order.state).is_some_and(OrderState::is_open));
    let mut l = ctx.layout("我的接单", "orders-offered");
    l.notice = l.notice.or_else(|| done_notice(done));
    Ok(with_status(
        render(&OfferedPage { l, cards, error }),
        failed,
    ))
}

async fn offered_orders(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    offered_page(&state, ctx, q.done.as_deref(), None).await
}

// ---- one order ----

struct EventLine {
    at: i64,
    who: String,
    what: &'static str,
    to: &'static str,
    note: Option<String>,
}

struct CandidateLine {
    provider_id: i64,
    name: String,
    kind_label: &'static str,
    score: String,
    parts: Vec<(&'static str, String, String, String)>,
}

#[derive(Template)]
#[template(path = "orders_detail.html")]
struct DetailPage {
    l: Layout,
    /// The order row (a copy of `d.view.order`, shorter in the template).
    o: OrderRow,
    d: OrderDetail,
    events: Vec<EventLine>,
    candidates: Option<Vec<CandidateLine>>,
    error: Option<FormError>,
    note: String,
    star_choices: Vec<StarChoice>,
    hours: Option<HoursPay>,
    /// The dispute of the order's time-bank payment, for staff who may see it.
    dispute: Option<HoursDisputeView>,
}

/// Paying for a completed service with time-bank hours, for the resident who received it.
struct HoursPay {
    /// "已用时间银行支付1小时（2026-07-01 12:30）" once paid.
    paid: Option<String>,
    minutes_text: String,
    balance_text: String,
    enough: bool,
    /// The dispute of the payment, as the resident reads it.
    dispute: Option<String>,
}

fn minutes_text(m: i64) -> String {
    yinling_app::ledger::amount_text(yinling_domain::ledger::Unit::Minutes, m)
}

/// Reasons offered as one-tap 有异议 buttons.
const DISPUTE_REASONS: [&str; 3] = ["服务时长不对", "没有接受这次服务", "服务没有做完"];

/// What the resident may do with hours for this order: nothing (not theirs, not
/// completed, no service time, no hours), pay, or see that it was paid and dispute it.
async fn hours_pay(
    state: &AppState,
    caller: &Caller,
    o: &OrderRow,
) -> Result<Option<HoursPay>, AppError> {
    let done = matches!(
        OrderState::parse(&o.state),
        Some(OrderState::Completed | OrderState::Rated | OrderState::Closed)
    );
    let minutes = o.service_minutes.unwrap_or(0);
    if caller.person != Some((o.county_code, o.person_id)) || !done || minutes <= 0 {
        return Ok(None);
    }
    let charge = state
        .app
        .time_bank()
        .charge(caller, o.county_code, o.id)
        .await?;
    if let Some(t) = &charge.paid {
        let amount = minutes_text(t.amount);
        return Ok(Some(HoursPay {
            paid: Some(format!(
                "已用时间银行支付{amount}（{}）",
                yinling_domain::time::format_minutes(t.created_at)
            )),
            minutes_text: amount,
            balance_text: String::new(),
            enough: true,
            dispute: charge.dispute.as_ref().map(|d| match d.status.as_str() {
                "open" => format!("您提出的异议（{}）正在等工作人员核实。", d.reason),
                "upheld" => format!(
                    "异议成立，已把{}退回您的时间银行。",
                    minutes_text(d.minutes)
                ),
                _ => format!(
                    "异议不成立{}。",
                    d.decision_note
                        .as_ref()
                        .map(|n| format!("：{n}"))
                        .unwrap_or_default()
                ),
            }),
        }));
    }
    if charge.balance <= 0 {
        return Ok(None);
    }
    Ok(Some(HoursPay {
        paid: None,
        minutes_text: charge.minutes_text,
        balance_text: charge.balance_text,
        enough: charge.enough,
        dispute: None,
    }))
}

/// One rating choice: "★★★★★ 5星 非常满意".
struct StarChoice {
    value: i64,
    glyphs: String,
    label: String,
    checked: bool,
}

fn star_choices(typed: &str) -> Vec<StarChoice> {
    STAR_CHOICES
        .iter()
        .map(|(n, words)| {
            let k = usize::try_from(*n).unwrap_or(0);
            StarChoice {
                value: *n,
                glyphs: format!("{}{}", "★".repeat(k), "☆".repeat(5 - k)),
                label: format!("{n}星 {words}"),
                checked: typed == n.to_string(),
            }
        })
        .collect()
}

impl DetailPage {
    fn can(&self, a: &str) -> bool {
        self.d.actions.contains(&a)
    }

    fn dispute_reasons(&self) -> &'static [&'static str] {
        &DISPUTE_REASONS
    }

    fn stars_text(&self) -> String {
        match self.d.view.order.rating {
            Some(n) => {
                let n = usize::try_from(n).unwrap_or(0).min(5);
                format!("{}{}（{n}星）", "★".repeat(n), "☆".repeat(5 - n))
            }
            None => String::new(),
        }
    }
}

const STAR_CHOICES: [(i64, &str); 5] = [
    (5, "非常满意"),
    (4, "满意"),
    (3, "一般"),
    (2, "不满意"),
    (1, "很不满意"),
];

async fn detail_page(
    state: &AppState,
    ctx: PageCtx,
    (county, id): (i64, i64),
    done: Option<&str>,
    typed: (String, String),
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let d = state.app.orders().detail(&ctx.caller, county, id).await?;
    let events = d
        .events
        .iter()
        .map(|e| EventLine {
            at: e.at,
            who: e.actor_name.clone(),
            what: OrderAction::parse(&e.action).map_or("", OrderAction::label_zh),
            to: OrderState::parse(&e.to_state).map_or("", OrderState::label_zh),
            note: e.note.clone(),
        })
        .collect();
    let may_dispatch = d
        .actions
        .iter()
        .any(|a| *a == "dispatch" || *a == "reassign");
    let candidates = if may_dispatch {
        match state
            .app
            .orders()
            .candidates(&ctx.caller, county, id, 10)
            .await
        {
            Ok(list) => Some(
                list.into_iter()
                    .map(|c| CandidateLine {
                        provider_id: c.ranked.id,
                        name: c.name,
                        kind_label: c.kind_label,
                        score: format!("{:.1}", c.ranked.score),
                        parts: c
                            .ranked
                            .parts
                            .into_iter()
                            .map(|p| {
                                (
                                    p.factor,
                                    format!("{:.1}", p.points),
                                    format!("{:.0}", p.max),
                                    p.reason,
                                )
                            })
                            .collect(),
                    })
                    .collect(),
            ),
            Err(AppError::NotFound { .. } | AppError::Forbidden { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let mut l = ctx.layout(
        format!("订单 {} · {}", d.view.item_name, d.view.state_label),
        if ctx.caller.may(Permission::ViewServices) {
            "orders"
        } else {
            "orders-mine"
        },
    );
    l.notice = l.notice.or_else(|| done_notice(done));
    let hours = hours_pay(state, &ctx.caller, &d.view.order).await?;
    let dispute = state
        .app
        .time_bank()
        .dispute(&ctx.caller, county, id)
        .await?;
    let resp = render(&DetailPage {
        l,
        hours,
        dispute,
        o: d.view.order.clone(),
        d,
        events,
        candidates,
        error,
        star_choices: star_choices(&typed.1),
        note: typed.0,
    });
    Ok(with_status(resp, failed))
}

async fn show_order(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(key): Path<(i64, i64)>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    detail_page(
        &state,
        ctx,
        key,
        q.done.as_deref(),
        Default::default(),
        None,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
struct StepForm {
    action: Option<String>,
    note: Option<String>,
    stars: Option<String>,
    /// Where to return: `offered` (the volunteer's list) or the order page.
    back: Option<String>,
}

async fn order_step(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    Form(f): Form<StepForm>,
) -> PageResult {
    let action = opt(&f.action)
        .and_then(|a| OrderAction::parse(&a))
        .filter(|a| {
            matches!(
                a,
                OrderAction::Accept
                    | OrderAction::Decline
                    | OrderAction::CheckIn
                    | OrderAction::Rate
                    | OrderAction::Cancel
                    | OrderAction::Close
            )
        });
    let result = match action {
        None => Err(AppError::invalid(
            "invalid_action",
            "action",
            "请选择要做的操作",
        )),
        Some(a) => {
            let stars = match opt(&f.stars) {
                Some(s) => s.parse::<i64>().ok(),
                None => None,
            };
            state
                .app
                .orders()
                .step(
                    &ctx.caller,
                    county,
                    id,
                    a,
                    OrderStep {
                        provider_id: None,
                        note: f.note.clone(),
                        stars,
                        photo_key: None,
                    },
                )
                .await
                .map(|_| a)
        }
    };
    let to_list = f.back.as_deref() == Some("offered");
    match result {
        Ok(a) if to_list => Ok(see_other(&format!("/orders/offered?done={}", a.as_str()))),
        Ok(a) => Ok(see_other(&format!(
            "/orders/{county}/{id}?done={}",
            a.as_str()
        ))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                if to_list {
                    offered_page(&state, ctx, None, Some(fe)).await
                } else {
                    let typed = (f.note.unwrap_or_default(), f.stars.unwrap_or_default());
                    detail_page(&state, ctx, (county, id), None, typed, Some(fe)).await
                }
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Debug, Deserialize, Default)]
struct DispatchForm {
    provider_id: Option<String>,
}

async fn dispatch_order(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    Form(f): Form<DispatchForm>,
) -> PageResult {
    let input = DispatchInput {
        provider_id: opt(&f.provider_id).and_then(|p| p.parse().ok()),
        note: None,
    };
    match state
        .app
        .orders()
        .dispatch(&ctx.caller, county, id, input)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/orders/{county}/{id}?done=dispatch"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                detail_page(
                    &state,
                    ctx,
                    (county, id),
                    None,
                    Default::default(),
                    Some(fe),
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "orders_pay_hours.html")]
struct PayHoursPage {
    l: Layout,
    c: HoursCharge,
    error: Option<FormError>,
}

impl PayHoursPage {
    /// "服务者记录用时42分钟，按这项服务最多计30分钟" when the cap applies.
    fn capped(&self) -> Option<String> {
        (self.c.recorded_minutes > self.c.minutes).then(|| {
            format!(
                "服务者记录用时{}，这项服务最多按{}计。",
                minutes_text(self.c.recorded_minutes),
                minutes_text(self.c.cap_minutes)
            )
        })
    }

    fn after_text(&self) -> String {
        minutes_text(self.c.balance - self.c.minutes)
    }
}

/// The confirmation step of paying with hours: what will be taken, in words, before it
/// is; one button to confirm, one to go back. Already paid: back to the order.
async fn pay_page(
    state: &AppState,
    ctx: PageCtx,
    (county, id): (i64, i64),
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let c = state
        .app
        .time_bank()
        .charge(&ctx.caller, county, id)
        .await?;
    if c.paid.is_some() {
        return Ok(see_other(&format!("/orders/{county}/{id}#hours-pay")));
    }
    let resp = render(&PayHoursPage {
        l: ctx.layout("用时间银行支付", "orders-mine"),
        c,
        error,
    });
    Ok(with_status(resp, failed))
}

async fn confirm_hours(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(key): Path<(i64, i64)>,
) -> PageResult {
    pay_page(&state, ctx, key, None).await
}

#[derive(Debug, Deserialize, Default)]
struct PayForm {
    /// The minutes the confirmation step showed. Missing: show the step.
    minutes: Option<String>,
}

async fn pay_with_hours(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    Form(f): Form<PayForm>,
) -> PageResult {
    let Some(minutes) = opt(&f.minutes).and_then(|m| m.parse::<i64>().ok()) else {
        return pay_page(&state, ctx, (county, id), None).await;
    };
    match state
        .app
        .time_bank()
        .withdraw(&ctx.caller, county, id, minutes)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/orders/{county}/{id}?done=paid"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => pay_page(&state, ctx, (county, id), Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Debug, Deserialize, Default)]
struct DisputeForm {
    reason: Option<String>,
}

/// 有异议: one tap on a reason.
async fn dispute_hours(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    Form(f): Form<DisputeForm>,
) -> PageResult {
    let input = DisputeInput {
        reason: f.reason.unwrap_or_default(),
    };
    match state
        .app
        .time_bank()
        .raise_dispute(&ctx.caller, county, id, input)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/orders/{county}/{id}?done=disputed#hours-pay"
        ))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                detail_page(
                    &state,
                    ctx,
                    (county, id),
                    None,
                    Default::default(),
                    Some(fe),
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Debug, Deserialize, Default)]
struct DecisionForm {
    /// `uphold` or `reject`.
    decision: Option<String>,
    note: Option<String>,
}

async fn decide_dispute(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    Form(f): Form<DecisionForm>,
) -> PageResult {
    let result = match f.decision.as_deref() {
        Some(d @ ("uphold" | "reject")) => {
            state
                .app
                .time_bank()
                .decide_dispute(
                    &ctx.caller,
                    county,
                    id,
                    DisputeDecision {
                        uphold: d == "uphold",
                        note: f.note.clone(),
                    },
                )
                .await
        }
        _ => Err(AppError::invalid(
            "decision_required",
            "decision",
            "请选择异议成立或不成立",
        )),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/orders/{county}/{id}?done=decided"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                let typed = (f.note.unwrap_or_default(), String::new());
                detail_page(&state, ctx, (county, id), None, typed, Some(fe)).await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "orders_disputes.html")]
struct DisputesPage {
    l: Layout,
    disputes: Vec<HoursDisputeView>,
    all: bool,
}

#[derive(Debug, Deserialize, Default)]
struct DisputesQuery {
    all: Option<String>,
}

/// Disputes of time-bank payments the caller may see (Dispatch or ApproveAdjustments).
async fn list_disputes(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DisputesQuery>,
) -> PageResult {
    if !ctx.caller.may(Permission::Dispatch) && !ctx.caller.may(Permission::ApproveAdjustments) {
        return Err(AppError::forbidden("您无权处理时间银行异议").into());
    }
    let all = opt(&q.all).is_some();
    let disputes = state.app.time_bank().disputes(&ctx.caller, !all).await?;
    Ok(render(&DisputesPage {
        l: ctx.layout("时间银行异议", "orders"),
        disputes,
        all,
    }))
}

// ---- 完成服务 ----

#[derive(Template)]
#[template(path = "orders_complete.html")]
struct CompletePage {
    l: Layout,
    v: OrderView,
    note: String,
    error: Option<FormError>,
}

async fn complete_page(
    state: &AppState,
    ctx: PageCtx,
    (county, id): (i64, i64),
    note: String,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let d = state.app.orders().detail(&ctx.caller, county, id).await?;
    if !d.actions.contains(&"complete") && error.is_none() {
        return Ok(see_other(&format!("/orders/{county}/{id}")));
    }
    let resp = render(&CompletePage {
        l: ctx.layout("完成服务", "orders-offered"),
        v: d.view,
        note,
        error,
    });
    Ok(with_status(resp, failed))
}

async fn complete_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(key): Path<(i64, i64)>,
) -> PageResult {
    complete_page(&state, ctx, key, String::new(), None).await
}

async fn complete_order(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> PageResult {
    let mut note = String::new();
    let result = async {
        let body = body.map_err(|_| crate::multipart::photo_too_large())?;
        let boundary = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::multipart::boundary)
            .ok_or_else(|| {
                AppError::invalid("invalid_form", "note", "表单内容不完整，请重新提交")
            })?;
        let parts = crate::multipart::parse(&body, &boundary);
        note = parts
            .iter()
            .find(|p| p.name == "note")
            .map(|p| String::from_utf8_lossy(p.data).into_owned())
            .unwrap_or_default();
        let photo = parts
            .iter()
            .find(|p| p.name == "photo" && !p.data.is_empty())
            .map(|p| p.data.to_vec());
        // Stored only if the caller may complete the order now.
        let photo_key = match photo {
            Some(bytes) => Some(
                state
                    .app
                    .orders()
                    .upload_photo(&ctx.caller, county, id, bytes)
                    .await?,
            ),
            None => None,
        };
        let done = state
            .app
            .orders()
            .step(
                &ctx.caller,
                county,
                id,
                OrderAction::Complete,
                OrderStep {
                    provider_id: None,
                    note: Some(note.clone()),
                    stars: None,
                    photo_key: photo_key.clone(),
                },
            )
            .await;
        // Refused after all (a note too long, someone moved first): keep no unused photo.
        if done.is_err()
            && let Some(key) = &photo_key
            && let Err(e) = state
                .app
                .orders()
                .discard_photo(&ctx.caller, county, id, key)
                .await
        {
            tracing::warn!(error = %e, "photo of a refused completion left stored");
        }
        done
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/orders/offered?done=complete")),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => complete_page(&state, ctx, (county, id), note, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

/// The completion photo, only to callers who can see the order.
async fn order_photo(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
) -> PageResult {
    let d = state.app.orders().detail(&ctx.caller, county, id).await?;
    let key = d
        .view
        .order
        .photo_key
        .ok_or(AppError::NotFound { what: "照片" })?;
    let (bytes, content_type) = state.app.files().get(&key).await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

// ---- staff order list ----

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    state: Option<String>,
    category: Option<String>,
    escalated: Option<String>,
    page: Option<i64>,
    /// A batch dispatch's report: considered, dispatched, unmatched.
    considered: Option<usize>,
    dispatched: Option<usize>,
    unmatched: Option<usize>,
}

impl ListQuery {
    fn base_query(&self) -> String {
        let pairs: Vec<(&str, String)> = [
            ("state", opt(&self.state)),
            ("category", opt(&self.category)),
            ("escalated", opt(&self.escalated)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// A unit the caller may batch-dispatch in.
struct BatchUnit {
    key: String,
    name: String,
}

#[derive(Template)]
#[template(path = "orders_list.html")]
struct ListPage {
    l: Layout,
    states: Vec<Choice>,
    categories: Vec<Choice>,
    escalated: bool,
    result: Page<OrderView>,
    base_query: String,
    batch_units: Vec<BatchUnit>,
    report: Option<BatchReport>,
    error: Option<FormError>,
}

async fn list_page(
    state: &AppState,
    ctx: PageCtx,
    q: ListQuery,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    if !ctx.caller.may(Permission::ViewServices) {
        return Err(AppError::forbidden("您无权查看服务订单").into());
    }
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let filter = OrderFilter {
        states: opt(&q.state)
            .filter(|s| OrderState::parse(s).is_some())
            .into_iter()
            .collect(),
        category: opt(&q.category),
        escalated: opt(&q.escalated).is_some(),
    };
    let result = state
        .app
        .orders()
        .list(&ctx.caller, filter, PageRequest::new(q.page, Some(20)))
        .await?;
    let cats = state
        .app
        .services()
        .categories(county_of(&ctx.caller))
        .await?;
    let batch_units = ctx
        .caller
        .grants
        .iter()
        .filter(|g| g.role.allows(Permission::Dispatch))
        .map(|g| BatchUnit {
            key: format!("{}/{}", g.unit_county_code, g.unit_id),
            name: g.unit_name.clone(),
        })
        .collect();
    let report = match (q.considered, q.dispatched, q.unmatched) {
        (Some(considered), Some(dispatched), Some(unmatched)) => Some(BatchReport {
            considered,
            dispatched,
            unmatched,
        }),
        _ => None,
    };
    let resp = render(&ListPage {
        l: ctx.layout("服务订单", "orders"),
        states: state_choices(&s(&q.state)),
        categories: choices(
            cats.iter().map(|c| (c.code.as_str(), c.label.as_str())),
            &s(&q.category),
        ),
        escalated: opt(&q.escalated).is_some(),
        base_query: q.base_query(),
        result,
        batch_units,
        report,
        error,
    });
    Ok(with_status(resp, failed))
}

async fn list_orders(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> PageResult {
    list_page(&state, ctx, q, None).await
}

#[derive(Debug, Deserialize)]
struct BatchForm {
    unit: Option<String>,
}

async fn batch_dispatch(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<BatchForm>,
) -> PageResult {
    let unit = opt(&f.unit).and_then(|u| parse_key(&u));
    let result = match unit {
        Some((c, u)) => state.app.orders().batch_dispatch(&ctx.caller, c, u).await,
        None => Err(AppError::invalid(
            "unit_required",
            "unit",
            "请选择要派单的社区或网格",
        )),
    };
    match result {
        Ok(r) => Ok(see_other(&format!(
            "/orders?considered={}&dispatched={}&unmatched={}",
            r.considered, r.dispatched, r.unmatched
        ))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => list_page(&state, ctx, ListQuery::default(), Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

// ---- the service list ----

#[derive(Template)]
#[template(path = "service_items_list.html")]
struct ItemsPage {
    l: Layout,
    items: Vec<ServiceItem>,
    can_add: bool,
}

async fn list_service_items(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    if !ctx.caller.may(Permission::ViewServices) {
        return Err(AppError::forbidden("您无权查看服务清单").into());
    }
    let items = state.app.services().items(&ctx.caller).await?;
    let mut l = ctx.layout("服务清单", "orders");
    if l.notice.is_none() && q.done.as_deref() == Some("created") {
        l.notice = Some("服务项目已添加。".to_owned());
    }
    Ok(render(&ItemsPage {
        l,
        items,
        can_add: ctx.caller.may(Permission::ManageServices),
    }))
}

#[derive(Debug, Deserialize, Default, Clone)]
struct ItemForm {
    unit: Option<String>,
    category: Option<String>,
    name: Option<String>,
    description: Option<String>,
    /// Skills separated by commas or spaces (、，, ).
    skills: Option<String>,
    duration_minutes: Option<String>,
    points: Option<String>,
    hours_minutes: Option<String>,
    sla_minutes: Option<String>,
}

impl ItemForm {
    fn input(&self) -> Result<((i64, i64), ServiceItemInput), AppError> {
        let unit = opt(&self.unit)
            .and_then(|u| parse_key(&u))
            .ok_or_else(|| AppError::invalid("unit_required", "unit", "请选择在哪一级提供"))?;
        let num = |v: &Option<String>, field: &'static str, what: &str, default: i64| match opt(v) {
            None => Ok(default),
            Some(t) => t
                .parse::<i64>()
                .map_err(|_| AppError::invalid("invalid_number", field, format!("{what}请填整数"))),
        };
        let skills = self
            .skills
            .as_deref()
            .unwrap_or_default()
            .split(|c: char| c == ',' || c == '，' || c == '、' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Ok((
            unit,
            ServiceItemInput {
                category: opt(&self.category).unwrap_or_default(),
                name: self.name.clone().unwrap_or_default(),
                description: opt(&self.description),
                skills,
                duration_minutes: num(&self.duration_minutes, "duration_minutes", "预计时长", 60)?,
                points: num(&self.points, "points", "奖励积分", 0)?,
                hours_minutes: num(&self.hours_minutes, "hours_minutes", "时间银行时长", 0)?,
                sla_minutes: num(&self.sla_minutes, "sla_minutes", "接单时限", 120)?,
                active: true,
                version: None,
            },
        ))
    }
}

#[derive(Template)]
#[template(path = "service_items_form.html")]
struct ItemFormPage {
    l: Layout,
    f: ItemForm,
    units: Vec<Choice>,
    categories: Vec<Choice>,
    error: Option<FormError>,
}

impl ItemFormPage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is(field))
    }
}

async fn item_form(
    state: &AppState,
    ctx: PageCtx,
    f: ItemForm,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    if !ctx.caller.may(Permission::ManageServices) {
        return Err(AppError::forbidden("您无权添加服务项目").into());
    }
    let grants: Vec<(String, String)> = ctx
        .caller
        .grants
        .iter()
        .filter(|g| g.role.allows(Permission::ManageServices))
        .map(|g| {
            (
                format!("{}/{}", g.unit_county_code, g.unit_id),
                g.unit_name.clone(),
            )
        })
        .collect();
    let unit = opt(&f.unit).or_else(|| grants.first().map(|g| g.0.clone()));
    let county = unit
        .as_deref()
        .and_then(parse_key)
        .map_or_else(|| county_of(&ctx.caller), |k| k.0);
    let cats = state.app.services().categories(county).await?;
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let resp = render(&ItemFormPage {
        l: ctx.layout("添加服务项目", "orders"),
        units: choices(
            grants.iter().map(|(k, n)| (k.as_str(), n.as_str())),
            unit.as_deref().unwrap_or_default(),
        ),
        categories: choices(
            cats.iter().map(|c| (c.code.as_str(), c.label.as_str())),
            &s(&f.category),
        ),
        f,
        error,
    });
    Ok(with_status(resp, failed))
}

async fn new_item(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    item_form(&state, ctx, ItemForm::default(), None).await
}

async fn create_item(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<ItemForm>,
) -> PageResult {
    let result = match f.input() {
        Ok(((c, u), input)) => {
            state
                .app
                .services()
                .create_item(&ctx.caller, c, u, input)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other("/service-items?done=created")),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => item_form(&state, ctx, f, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}
