//! The resource list (资源清单) pages: the list, and one form that puts a volunteer, team,
//! studio or partner on it or changes their entry — skills, how many orders at once, the
//! weekly hours, the areas served and where they are.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use serde::Deserialize;
use yinling_app::{
    AppError, Caller, Page, PageRequest,
    people::parse_key,
    services::{AreaChoice, AreaChoices, PersonListing, Provider, ProviderInput, ProviderUnit},
};
use yinling_domain::{
    ids::{Key, PersonId, ProviderId, UnitId},
    role::Permission,
    service::ProviderKind,
};

use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, choices, opt, render, see_other, with_status,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/providers", get(list_providers))
        .route("/providers/new", get(new_provider).post(create_provider))
        .route(
            "/providers/{county}/{id}/edit",
            get(edit_provider).post(update_provider),
        )
}

// ---- the list ----

#[derive(Debug, Deserialize, Default)]
struct ProvidersQuery {
    kind: Option<String>,
    skill: Option<String>,
    page: Option<i64>,
    /// After a save: `created` or `saved`.
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "services/providers_list.html")]
struct ProvidersPage {
    l: Layout,
    kinds: Vec<Choice>,
    skill: String,
    result: Page<Provider>,
    base_query: String,
    caller: Caller,
}

impl ProvidersPage {
    fn can_add(&self) -> bool {
        self.caller.may(Permission::ManageServices)
    }

    fn can_edit(&self, p: &Provider) -> bool {
        p.managed_by(&self.caller)
    }
}

async fn list_providers(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ProvidersQuery>,
) -> PageResult {
    if !ctx.caller.may(Permission::ViewServices) {
        return Err(AppError::forbidden("您无权查看资源清单").into());
    }
    let kind = opt(&q.kind).and_then(|k| ProviderKind::parse(&k));
    let skill = opt(&q.skill);
    let result = state
        .app
        .services()
        .providers(
            &ctx.caller,
            kind,
            skill.as_deref(),
            PageRequest::new(q.page, Some(20)),
        )
        .await?;
    let base_query = serde_urlencoded::to_string(
        [
            ("kind", kind.map(|k| k.as_str().to_owned())),
            ("skill", skill.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let mut l = ctx.layout("资源清单", "orders");
    let done = match q.done.as_deref() {
        Some("created") => Some("已加入资源清单。"),
        Some("saved") => Some("资源清单已保存。"),
        _ => None,
    };
    l.notice = l.notice.or_else(|| done.map(str::to_owned));
    Ok(render(&ProvidersPage {
        l,
        kinds: choices(
            ProviderKind::ALL.iter().map(|k| (k.as_str(), k.label_zh())),
            kind.map_or("", ProviderKind::as_str),
        ),
        skill: skill.unwrap_or_default(),
        result,
        base_query,
        caller: ctx.caller,
    }))
}

// ---- the form ----

/// The form as sent (or as prefilled), kept as typed so a refusal shows it again.
#[derive(Debug, Clone, Default)]
struct ProviderForm {
    /// A volunteer's person file, "370830/12".
    person: Option<String>,
    /// A team, studio or partner: what it is listed as and its unit, "team/370830/12".
    unit: String,
    name: String,
    /// Separated by commas, 顿号 or spaces.
    skills: String,
    capacity: String,
    /// One per line, or separated by ；、，.
    windows: String,
    /// Units served, "370830/12" each; `None` until the form is sent (then the entry's own
    /// areas are ticked).
    areas: Option<Vec<String>>,
    lat: String,
    lng: String,
    radius_m: String,
    active: bool,
    version: String,
}

impl ProviderForm {
    fn sent(pairs: Vec<(String, String)>) -> ProviderForm {
        let mut f = ProviderForm {
            areas: Some(Vec::new()),
            ..ProviderForm::default()
        };
        for (k, v) in pairs {
            match k.as_str() {
                "person" => f.person = Some(v).filter(|p| !p.trim().is_empty()),
                "unit" => f.unit = v,
                "name" => f.name = v,
                "skills" => f.skills = v,
                "capacity" => f.capacity = v,
                "windows" => f.windows = v,
                "areas" => f.areas.get_or_insert_with(Vec::new).push(v),
                "lat" => f.lat = v,
                "lng" => f.lng = v,
                "radius_m" => f.radius_m = v,
                "active" => f.active = true,
                "version" => f.version = v,
                _ => {}
            }
        }
        f
    }

    /// A provider's entry, to change.
    fn of(p: &Provider) -> ProviderForm {
        let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        ProviderForm {
            person: None,
            unit: String::new(),
            name: p.name.clone(),
            skills: p.skills.join("、"),
            capacity: p.capacity.to_string(),
            windows: p.windows_text.join("\n"),
            areas: None,
            lat: num(p.lat),
            lng: num(p.lng),
            radius_m: p.radius_m.map(|r| r.to_string()).unwrap_or_default(),
            active: p.active,
            version: p.version.to_string(),
        }
    }

    /// What a new entry is: a volunteer (their person file) or a unit listed as a team,
    /// studio or partner.
    #[allow(clippy::type_complexity)]
    fn subject(
        &self,
    ) -> Result<(ProviderKind, Option<Key<PersonId>>, Option<Key<UnitId>>), AppError> {
        if let Some(p) = &self.person {
            let key = parse_key(p)
                .and_then(|(c, id)| Key::from_parts(c, id).ok())
                .ok_or(AppError::NotFound { what: "人员" })?;
            return Ok((ProviderKind::Volunteer, Some(key), None));
        }
        let chosen = self.unit.split_once('/').and_then(|(kind, key)| {
            Some((
                ProviderKind::parse(kind).filter(|k| *k != ProviderKind::Volunteer)?,
                parse_key(key)?,
            ))
        });
        let (kind, key) = chosen.ok_or_else(|| {
            AppError::invalid(
                "unit_required",
                "unit",
                "请选择要加入的服务队、工作室或共建单位",
            )
        })?;
        let key =
            Key::from_parts(key.0, key.1).map_err(|_| AppError::NotFound { what: "组织" })?;
        Ok((kind, None, Some(key)))
    }

    fn input(&self, kind: ProviderKind) -> Result<ProviderInput, AppError> {
        let capacity = self.capacity.trim().parse::<i64>().map_err(|_| {
            AppError::invalid("invalid_number", "capacity", "同时可接单数请填1到50的整数")
        })?;
        let coordinate = |v: &str, field: &'static str| match v.trim() {
            "" => Ok(None),
            t => t.parse::<f64>().map(Some).map_err(|_| {
                AppError::invalid(
                    "invalid_number",
                    field,
                    "经纬度请填数字，如 纬度 35.4123、经度 116.4897",
                )
            }),
        };
        let radius_m = match self.radius_m.trim() {
            "" => None,
            t => Some(t.parse::<i64>().map_err(|_| {
                AppError::invalid("invalid_number", "radius_m", "服务半径请填整数（米）")
            })?),
        };
        let mut areas = Vec::new();
        for a in self.areas.iter().flatten() {
            let (c, id) = parse_key(a).ok_or_else(|| {
                AppError::invalid("invalid_area", "areas", "服务范围选择有误，请重新勾选")
            })?;
            areas.push(Key::from_parts(c, id).map_err(|_| {
                AppError::invalid("invalid_area", "areas", "服务范围选择有误，请重新勾选")
            })?);
        }
        Ok(ProviderInput {
            kind,
            person: None,
            unit: None,
            name: Some(self.name.trim().to_owned()).filter(|n| !n.is_empty()),
            skills: split(&self.skills, &[',', '，', '、', ';', '；'], true),
            areas,
            windows: split(&self.windows, &['\n', ';', '；', '、', ',', '，'], false),
            capacity,
            lat: coordinate(&self.lat, "lat")?,
            lng: coordinate(&self.lng, "lng")?,
            radius_m,
            active: self.active,
            version: None,
        })
    }
}

/// Splits a text field into its trimmed, non-empty parts; with `spaces`, whitespace
/// separates too (skills, but not windows: "周三 08:00-11:30" is one).
fn split(text: &str, by: &[char], spaces: bool) -> Vec<String> {
    text.split(|c: char| by.contains(&c) || (spaces && c.is_whitespace()))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Units of one kind in the 服务队/工作室/共建单位 select.
struct UnitGroup {
    label: &'static str,
    units: Vec<Choice>,
}

fn unit_groups(units: &[ProviderUnit], chosen: &str) -> Vec<UnitGroup> {
    [
        ProviderKind::Team,
        ProviderKind::Studio,
        ProviderKind::Partner,
    ]
    .into_iter()
    .map(|kind| UnitGroup {
        label: kind.label_zh(),
        units: units
            .iter()
            .filter(|u| u.kind == kind)
            .map(|u| {
                let value = format!("{}/{}/{}", kind.as_str(), u.county_code, u.id);
                Choice {
                    selected: value == chosen,
                    value,
                    label: u.name.clone(),
                }
            })
            .collect(),
    })
    .filter(|g| !g.units.is_empty())
    .collect()
}

#[derive(Template)]
#[template(path = "services/providers_form.html")]
struct ProviderFormPage {
    l: Layout,
    f: ProviderForm,
    /// The entry being changed.
    editing: Option<Provider>,
    /// Adding a volunteer: their name.
    person_name: Option<String>,
    units: Vec<UnitGroup>,
    areas: AreaChoices,
    error: Option<FormError>,
}

impl ProviderFormPage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is(field))
    }

    fn action(&self) -> String {
        match &self.editing {
            Some(p) => format!("/providers/{}/{}/edit", p.county_code, p.id),
            None => "/providers/new".to_owned(),
        }
    }

    fn ticked(&self, a: &AreaChoice) -> bool {
        match &self.f.areas {
            Some(keys) => keys.contains(&format!("{}/{}", a.county_code, a.id)),
            None => self
                .editing
                .as_ref()
                .is_some_and(|p| p.areas.contains(&a.path)),
        }
    }

    /// How far to indent an area (the stylesheet has five steps).
    fn indent(&self, a: &AreaChoice) -> i64 {
        a.level.clamp(0, 4)
    }
}

async fn provider_form(
    state: &AppState,
    ctx: PageCtx,
    editing: Option<Provider>,
    f: ProviderForm,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    if !ctx.caller.may(Permission::ManageServices) {
        return Err(AppError::forbidden("您无权管理资源清单").into());
    }
    let mut person_name = None;
    let mut units = Vec::new();
    let title = match (&editing, &f.person) {
        (Some(p), _) => format!("修改资源清单：{}", p.name),
        (None, Some(person)) => {
            let (c, id) = parse_key(person).ok_or(AppError::NotFound { what: "人员" })?;
            let person = yinling_app::people::person_key(c, id)?;
            let file = state.app.people().file(&ctx.caller, person).await?;
            match state
                .app
                .services()
                .person_listing(&ctx.caller, person)
                .await?
            {
                PersonListing::NotManaged => {
                    return Err(AppError::forbidden("您无权把这位居民加入资源清单").into());
                }
                PersonListing::Listed(k) if error.is_none() => {
                    return Ok(see_other(&format!(
                        "/providers/{}/{}/edit",
                        k.county_code, k.id
                    )));
                }
                _ => {}
            }
            person_name = Some(file.name);
            "把志愿者加入资源清单".to_owned()
        }
        (None, None) => {
            let offered = state
                .app
                .services()
                .provider_unit_choices(&ctx.caller)
                .await?;
            units = unit_groups(&offered, &f.unit);
            "添加服务队、工作室或共建单位".to_owned()
        }
    };
    let areas = state
        .app
        .services()
        .area_choices(&ctx.caller, editing.as_ref())
        .await?;
    let resp = render(&ProviderFormPage {
        l: ctx.layout(title, "orders"),
        f,
        editing,
        person_name,
        units,
        areas,
        error,
    });
    Ok(with_status(resp, failed))
}

/// A refused save: the form again with the message beside the field, or an error page
/// when the caller may not act at all.
async fn refused(
    state: &AppState,
    ctx: PageCtx,
    editing: Option<Provider>,
    f: ProviderForm,
    e: AppError,
) -> PageResult {
    match FormError::from_app(&e) {
        Some(fe) if !matches!(e, AppError::Forbidden { .. }) => {
            provider_form(state, ctx, editing, f, Some(fe)).await
        }
        _ => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
struct NewQuery {
    /// Add this person as a volunteer ("370830/12").
    person: Option<String>,
}

async fn new_provider(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let f = ProviderForm {
        person: opt(&q.person),
        capacity: "3".to_owned(),
        active: true,
        ..ProviderForm::default()
    };
    provider_form(&state, ctx, None, f, None).await
}

async fn create_provider(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let mut f = ProviderForm::sent(pairs);
    f.active = true;
    let result = async {
        let (kind, person, unit) = f.subject()?;
        let input = ProviderInput {
            person,
            unit,
            ..f.input(kind)?
        };
        state
            .app
            .services()
            .create_provider(&ctx.caller, input)
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/providers?done=created")),
        Err(e) => refused(&state, ctx, None, f, e).await,
    }
}

async fn edit_provider(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<ProviderId>,
) -> PageResult {
    let p = state
        .app
        .services()
        .provider_to_edit(&ctx.caller, key)
        .await?;
    let f = ProviderForm::of(&p);
    provider_form(&state, ctx, Some(p), f, None).await
}

async fn update_provider(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<ProviderId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = state
        .app
        .services()
        .provider_to_edit(&ctx.caller, key)
        .await?;
    let f = ProviderForm::sent(pairs);
    let result = async {
        let version = f.version.trim().parse::<i64>().map_err(|_| {
            AppError::invalid(
                "invalid_form",
                "version",
                "表单已过期，请刷新页面后重新填写",
            )
        })?;
        let input = ProviderInput {
            version: Some(version),
            ..f.input(p.kind)?
        };
        state
            .app
            .services()
            .update_provider(&ctx.caller, Key::new(p.county_code, p.id), input)
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/providers?done=saved")),
        Err(e) => refused(&state, ctx, Some(p), f, e).await,
    }
}
