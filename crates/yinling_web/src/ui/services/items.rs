//! The service list (服务项目): the list and the form for a new item.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use serde::Deserialize;
use yinling_app::{
    AppError,
    people::parse_key,
    services::{ServiceItem, ServiceItemInput},
};
use yinling_domain::role::Permission;

use super::county_of;
use crate::AppState;
use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{
    Choice, DoneQuery, FormError, Layout, PageCtx, PageResult, choices, opt, render, see_other,
    with_status,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/service-items", get(list_service_items))
        .route("/service-items/new", get(new_item).post(create_item))
}

#[derive(Template)]
#[template(path = "services/items_list.html")]
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
#[template(path = "services/items_form.html")]
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
        Ok(((c, u), input)) => match yinling_domain::ids::Key::from_parts(c, u) {
            Ok(unit) => {
                state
                    .app
                    .services()
                    .create_item(&ctx.caller, unit, input)
                    .await
            }
            Err(_) => Err(AppError::NotFound { what: "组织" }),
        },
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
