//! 点单: a resident (or a grid worker for them) orders a service, on a phone in 长辈模式.

use askama::Template;
use axum::{Router, extract::State, http::StatusCode, routing::get};
use serde::Deserialize;
use yinling_app::{
    AppError,
    orders::{OrderInput, OrderView},
    people::parse_key,
    services::ServiceItem,
};
use yinling_domain::{
    ids::{Key, ServiceItemId},
    role::Permission,
    time::local_date,
};

use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{
    FormError, Layout, PageCtx, PageResult, opt, render, see_other, with_status,
};
use yinling_domain::ids::OrderId;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/new", get(new_order).post(place_order))
        .route("/orders/{county}/{id}/placed", get(placed))
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
    let file = state
        .app
        .people()
        .file(&ctx.caller, yinling_app::people::person_key(key.0, key.1)?)
        .await?;
    Ok(Subject {
        county: file.county_code.as_i64(),
        id: file.id.get(),
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
#[template(path = "orders/new.html")]
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
        .items_offered_at(
            yinling_domain::region::CountyCode::from_i64(who.county)
                .map_err(|_| AppError::NotFound { what: "人员" })?,
            &who.path,
        )
        .await?;
    let item = opt(&f.item)
        .and_then(|i| i.parse::<i64>().ok())
        .and_then(|id| items.iter().find(|i| i.id.get() == id).cloned());
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
                    item_id: ServiceItemId(item_id),
                    person: Some(
                        Key::from_parts(who.county, who.id)
                            .map_err(|_| AppError::NotFound { what: "人员" })?,
                    ),
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
#[template(path = "orders/placed.html")]
struct PlacedPage {
    l: Layout,
    v: OrderView,
    proxy: bool,
}

async fn placed(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<OrderId>,
) -> PageResult {
    let d = state.app.orders().detail(&ctx.caller, key).await?;
    let proxy = ctx.caller.person
        != Some((
            d.view.order.county_code.as_i64(),
            d.view.order.person_id.get(),
        ));
    Ok(render(&PlacedPage {
        l: ctx.layout("点单成功", "order-new"),
        v: d.view,
        proxy,
    }))
}
