//! Needs ledger pages (需求台账): the list with filters, recording a need on a phone at the
//! door, a need with its follow-ups, Excel export, and the import with its per-row report.

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
    AppError, Page, PageRequest,
    needs::{FollowUpInput, NeedImportReport, NeedInput, NeedItem, NeedQuery, NeedView},
    people::{PeopleQuery, parse_key},
    services::Category,
};
use yinling_domain::{
    ids::{Key, NeedId},
    need::{NeedSource, NeedStatus},
    role::Permission,
    service::Urgency,
};

use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, choices, filters, opt, render, see_other,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/needs", get(list))
        .route("/needs/export.xlsx", get(export))
        .route("/needs/template.xlsx", get(template))
        .route(
            "/needs/import",
            get(import_page)
                .post(import_upload)
                .layer(DefaultBodyLimit::max(
                    crate::kernel::multipart::MAX_UPLOAD_BODY,
                )),
        )
        .route("/needs/new", get(new_form).post(create))
        .route("/needs/{county}/{id}", get(show))
        .route("/needs/{county}/{id}/followups", post(follow_up))
}

fn xlsx(bytes: Vec<u8>, name: &str) -> axum::response::Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{}", urlencoding::encode(name)),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The county whose categories a page offers: the unit's, or the caller's first.
fn county_of(ctx: &PageCtx, unit: Option<&str>) -> i64 {
    unit.and_then(parse_key)
        .map(|(c, _)| c)
        .or_else(|| {
            ctx.caller
                .scope(Permission::ViewServices)
                .ranges()
                .first()
                .and_then(|r| r.single_county())
        })
        .unwrap_or(yinling_app::CITY_COUNTY_CODE)
}

fn category_choices(cats: &[Category], current: &str) -> Vec<Choice> {
    choices(
        cats.iter().map(|c| (c.code.as_str(), c.label.as_str())),
        current,
    )
}

fn status_choices(current: &str) -> Vec<Choice> {
    choices(
        NeedStatus::ALL.iter().map(|s| (s.as_str(), s.label_zh())),
        current,
    )
}

fn urgency_choices(current: &str) -> Vec<Choice> {
    choices(
        Urgency::ALL.iter().map(|s| (s.as_str(), s.label_zh())),
        current,
    )
}

fn source_choices(current: &str) -> Vec<Choice> {
    choices(
        NeedSource::ALL.iter().map(|s| (s.as_str(), s.label_zh())),
        current,
    )
}

// ---- list ----

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    unit: Option<String>,
    category: Option<String>,
    status: Option<String>,
    urgency: Option<String>,
    source: Option<String>,
    age_min: Option<String>,
    age_max: Option<String>,
    page: Option<i64>,
}

impl ListQuery {
    fn need_query(&self) -> Result<NeedQuery, AppError> {
        let num = |s: &Option<String>, field: &'static str| -> Result<Option<u32>, AppError> {
            match opt(s) {
                None => Ok(None),
                Some(v) => v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n <= 150)
                    .map(Some)
                    .ok_or_else(|| {
                        AppError::invalid("invalid_age", field, "年龄须为0至150之间的整数")
                    }),
            }
        };
        Ok(NeedQuery {
            unit: opt(&self.unit),
            category: opt(&self.category),
            status: opt(&self.status),
            urgency: opt(&self.urgency),
            source: opt(&self.source),
            age_min: num(&self.age_min, "age_min")?,
            age_max: num(&self.age_max, "age_max")?,
            person: None,
        })
    }

    /// The query string without the page, for pagination and export links.
    fn base_query(&self) -> String {
        let pairs: Vec<(&str, String)> = [
            ("unit", opt(&self.unit)),
            ("category", opt(&self.category)),
            ("status", opt(&self.status)),
            ("urgency", opt(&self.urgency)),
            ("source", opt(&self.source)),
            ("age_min", opt(&self.age_min)),
            ("age_max", opt(&self.age_max)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "needs/list.html")]
struct ListPage {
    l: Layout,
    unit: String,
    unit_name: Option<String>,
    age_min: String,
    age_max: String,
    categories: Vec<Choice>,
    statuses: Vec<Choice>,
    urgencies: Vec<Choice>,
    sources: Vec<Choice>,
    filtered: bool,
    counts: Vec<(NeedStatus, i64)>,
    result: Option<Page<NeedItem>>,
    error: Option<FormError>,
    base_query: String,
    can_record: bool,
    can_export: bool,
}

async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> PageResult {
    if !ctx.caller.may(Permission::ViewServices) {
        return Err(AppError::forbidden("您无权查看需求台账").into());
    }
    let county = county_of(&ctx, q.unit.as_deref());
    let cats = state.app.services().categories(county).await?;
    let page = PageRequest::new(q.page, Some(20));
    let (result, error) = match q.need_query() {
        Ok(nq) => match state.app.needs().list(&ctx.caller, &nq, page).await {
            Ok(r) => (Some(r), None),
            Err(e) => match FormError::from_app(&e) {
                Some(fe) => (None, Some(fe)),
                None => return Err(e.into()),
            },
        },
        Err(e) => (None, FormError::from_app(&e)),
    };
    let unit_name = match opt(&q.unit).and_then(|u| parse_key(&u)) {
        Some((c, id)) => state
            .app
            .org()
            .find_unit(&ctx.caller, yinling_app::org::unit_key(c, id)?)
            .await
            .ok()
            .map(|u| u.name),
        None => None,
    };
    let counts = state.app.needs().status_counts(&ctx.caller).await?;
    let failed = error.as_ref().map(|e| e.status);
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let page = ListPage {
        l: ctx.layout("需求台账", "needs"),
        unit: s(&q.unit),
        unit_name,
        age_min: s(&q.age_min),
        age_max: s(&q.age_max),
        categories: category_choices(&cats, &s(&q.category)),
        statuses: status_choices(&s(&q.status)),
        urgencies: urgency_choices(&s(&q.urgency)),
        sources: source_choices(&s(&q.source)),
        filtered: [
            &q.category,
            &q.status,
            &q.urgency,
            &q.source,
            &q.age_min,
            &q.age_max,
        ]
        .iter()
        .any(|v| opt(v).is_some()),
        counts,
        result,
        error,
        base_query: q.base_query(),
        can_record: ctx.caller.may(Permission::Dispatch),
        can_export: ctx.caller.may(Permission::Export),
    };
    let mut resp = render(&page);
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

async fn export(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let nq = q.need_query()?;
    let bytes = state.app.needs().export_xlsx(&ctx.caller, &nq).await?;
    let name = format!(
        "需求台账-{}.xlsx",
        yinling_domain::time::local_date(state.app.now())
    );
    Ok(xlsx(bytes, &name))
}

async fn template(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    let bytes = state.app.needs().import_template(&ctx.caller).await?;
    Ok(xlsx(bytes, "需求台账导入模板.xlsx"))
}

// ---- record ----

#[derive(Debug, Deserialize, Default, Clone)]
struct NeedForm {
    unit: Option<String>,
    person: Option<String>,
    household_id: Option<String>,
    category: Option<String>,
    description: Option<String>,
    urgency: Option<String>,
    source: Option<String>,
}

impl NeedForm {
    fn input(&self) -> Result<NeedInput, AppError> {
        let unit = opt(&self.unit).and_then(|u| parse_key(&u));
        let person = match opt(&self.person) {
            Some(p) => Some(parse_key(&p).ok_or_else(|| {
                AppError::invalid("invalid_person", "person_id", "需求人选择有误")
            })?),
            None => None,
        };
        let household_id = match opt(&self.household_id) {
            Some(h) => Some(h.parse::<i64>().map_err(|_| {
                AppError::invalid("invalid_household", "household_id", "住户选择有误")
            })?),
            None => None,
        };
        let county = person.map(|p| p.0).or(unit.map(|u| u.0)).ok_or_else(|| {
            AppError::invalid(
                "subject_required",
                "person_id",
                "请选择提出需求的人员或住户",
            )
        })?;
        Ok(NeedInput {
            county_code: county,
            person_id: person.map(|p| p.1),
            household_id,
            unit_id: unit.filter(|u| u.0 == county).map(|u| u.1),
            category: opt(&self.category).unwrap_or_default(),
            description: self.description.clone().unwrap_or_default(),
            urgency: match opt(&self.urgency) {
                Some(u) => Urgency::parse(&u).ok_or_else(|| {
                    AppError::invalid("invalid_urgency", "urgency", "请选择紧急程度")
                })?,
                None => Urgency::Normal,
            },
            source: match opt(&self.source) {
                Some(s) => NeedSource::parse(&s)
                    .ok_or_else(|| AppError::invalid("invalid_source", "source", "请选择来源"))?,
                None => NeedSource::DoorKnock,
            },
        })
    }
}

#[derive(Template)]
#[template(path = "needs/form.html")]
struct FormPage {
    l: Layout,
    f: NeedForm,
    unit_name: String,
    person_name: Option<String>,
    people: Vec<Choice>,
    households: Vec<Choice>,
    categories: Vec<Choice>,
    urgencies: Vec<Choice>,
    sources: Vec<Choice>,
    error: Option<FormError>,
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    mut f: NeedForm,
    error: Option<FormError>,
) -> PageResult {
    if !ctx.caller.may(Permission::Dispatch) {
        return Err(AppError::forbidden("您无权登记需求").into());
    }
    // Coming from a person's file: that person, in their home unit.
    let mut person_name = None;
    if let Some((c, id)) = opt(&f.person).and_then(|p| parse_key(&p)) {
        let p = state
            .app
            .people()
            .file(&ctx.caller, yinling_app::people::person_key(c, id)?)
            .await?;
        if opt(&f.unit).is_none() {
            f.unit = Some(format!("{}/{}", p.home_unit.county_code, p.home_unit.id));
        }
        if opt(&f.household_id).is_none() {
            f.household_id = p.household.as_ref().map(|h| h.id.to_string());
        }
        person_name = Some(p.name);
    }
    // Otherwise the unit asked for, or where the caller works.
    if opt(&f.unit).is_none() {
        f.unit = ctx
            .caller
            .grants
            .iter()
            .find(|g| g.role.allows(Permission::Dispatch))
            .map(|g| format!("{}/{}", g.unit_county_code, g.unit_id));
    }
    let Some((c, u)) = opt(&f.unit).and_then(|u| parse_key(&u)) else {
        return Err(AppError::invalid("unit_required", "unit", "请先选择社区或网格").into());
    };
    let unit = state
        .app
        .org()
        .find_unit(&ctx.caller, yinling_app::org::unit_key(c, u)?)
        .await?;
    let people = if person_name.is_none() {
        let q = PeopleQuery {
            unit: Some(format!("{c}/{u}")),
            status: Some("active".into()),
            ..PeopleQuery::default()
        };
        state
            .app
            .people()
            .search(&ctx.caller, &q, PageRequest::new(Some(1), Some(200)))
            .await?
            .items
    } else {
        Vec::new()
    };
    let person_keys: Vec<(String, String)> = people
        .iter()
        .map(|p| {
            (
                format!("{}/{}", p.county_code, p.id),
                format!(
                    "{}（{}岁{}）",
                    p.name,
                    p.age,
                    p.household
                        .as_deref()
                        .map(|h| format!("，{h}"))
                        .unwrap_or_default()
                ),
            )
        })
        .collect();
    let people = choices(
        person_keys.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        f.person.as_deref().unwrap_or_default(),
    );
    let households = state
        .app
        .people()
        .households_under(&ctx.caller, yinling_app::org::unit_key(c, u)?)
        .await?;
    let house_ids: Vec<String> = households.iter().map(|h| h.id.to_string()).collect();
    let households = choices(
        house_ids
            .iter()
            .zip(&households)
            .map(|(id, h)| (id.as_str(), h.label.as_str())),
        f.household_id.as_deref().unwrap_or_default(),
    );
    let cats = state.app.services().categories(c).await?;
    let failed = error.as_ref().map(|e| e.status);
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut resp = render(&FormPage {
        l: ctx.layout("登记需求", "needs"),
        categories: category_choices(&cats, &s(&f.category)),
        urgencies: urgency_choices(opt(&f.urgency).as_deref().unwrap_or("normal")),
        sources: source_choices(opt(&f.source).as_deref().unwrap_or("door_knock")),
        unit_name: unit.name,
        person_name,
        people,
        households,
        f,
        error,
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

#[derive(Deserialize)]
struct NewQuery {
    unit: Option<String>,
    person: Option<String>,
}

async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let f = NeedForm {
        unit: q.unit,
        person: q.person,
        ..NeedForm::default()
    };
    form_page(&state, ctx, f, None).await
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<NeedForm>,
) -> PageResult {
    let result = match f.input() {
        Ok(input) => state.app.needs().record(&ctx.caller, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(key) => Ok(see_other(&format!("/needs/{key}?ok=created"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => form_page(&state, ctx, f, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

// ---- one need ----

#[derive(Template)]
#[template(path = "needs/detail.html")]
struct DetailPage {
    l: Layout,
    v: NeedView,
    next: Vec<Choice>,
    note: String,
    error: Option<FormError>,
}

async fn detail_page(
    state: &AppState,
    ctx: PageCtx,
    key: Key<NeedId>,
    note: String,
    error: Option<FormError>,
) -> PageResult {
    let v = state.app.needs().detail(&ctx.caller, key).await?;
    let next = choices(
        v.next_statuses.iter().map(|s| (s.as_str(), s.label_zh())),
        "",
    );
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&DetailPage {
        l: ctx.layout(
            format!("需求 {}-{}", v.need.county_code, v.need.id),
            "needs",
        ),
        v,
        next,
        note,
        error,
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<NeedId>,
) -> PageResult {
    detail_page(&state, ctx, key, String::new(), None).await
}

#[derive(Deserialize)]
struct FollowUpForm {
    note: Option<String>,
    status: Option<String>,
    version: Option<String>,
}

async fn follow_up(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<NeedId>,
    Form(f): Form<FollowUpForm>,
) -> PageResult {
    let status = match opt(&f.status) {
        Some(s) => match NeedStatus::parse(&s) {
            Some(s) => Some(s),
            None => {
                return Err(AppError::invalid("invalid_status", "status", "状态选择有误").into());
            }
        },
        None => None,
    };
    let input = FollowUpInput {
        note: f.note.clone().unwrap_or_default(),
        status,
        version: opt(&f.version).and_then(|v| v.parse().ok()),
    };
    match state.app.needs().follow_up(&ctx.caller, key, input).await {
        Ok(_) => Ok(see_other(&format!("/needs/{key}?ok=saved"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => detail_page(&state, ctx, key, f.note.unwrap_or_default(), Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

// ---- import ----

#[derive(Template)]
#[template(path = "needs/import.html")]
struct ImportPage {
    l: Layout,
    report: Option<NeedImportReport>,
    filename: Option<String>,
    error: Option<FormError>,
    max_rows: usize,
}

fn import_response(page: ImportPage, status: StatusCode) -> PageResult {
    let mut resp = render(&page);
    *resp.status_mut() = status;
    Ok(resp)
}

async fn import_page(ctx: PageCtx) -> PageResult {
    if !ctx.caller.may(Permission::Dispatch) {
        return Err(AppError::forbidden("您无权导入需求").into());
    }
    let page = ImportPage {
        l: ctx.layout("导入需求台账", "needs"),
        report: None,
        filename: None,
        error: None,
        max_rows: yinling_app::needs::MAX_IMPORT_ROWS,
    };
    import_response(page, StatusCode::OK)
}

async fn import_upload(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> PageResult {
    let too_large = || {
        AppError::invalid(
            "file_too_large",
            "file",
            "文件超过5MB，请分成几个文件分别导入",
        )
    };
    let result = match body {
        Err(_) => Err(too_large()),
        Ok(body) => {
            let boundary = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::kernel::multipart::boundary);
            let file = boundary.as_deref().and_then(|b| {
                crate::kernel::multipart::parse(&body, b)
                    .into_iter()
                    .find(|p| p.name == "file")
                    .map(|p| (p.filename, p.data.to_vec()))
            });
            match file {
                Some((name, data)) if !data.is_empty() => state
                    .app
                    .needs()
                    .import_xlsx(&ctx.caller, &data)
                    .await
                    .map(|r| (name, r)),
                _ => Err(AppError::invalid(
                    "file_required",
                    "file",
                    "请选择要导入的Excel文件",
                )),
            }
        }
    };
    let (filename, report, error) = match result {
        Ok((name, r)) => (name, Some(r), None),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => (None, None, Some(fe)),
            None => return Err(e.into()),
        },
    };
    let status = if error.is_some() || report.as_ref().is_some_and(|r| !r.ok()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ImportPage {
        l: ctx.layout("导入需求台账", "needs"),
        report,
        filename,
        error,
        max_rows: yinling_app::needs::MAX_IMPORT_ROWS,
    };
    import_response(page, status)
}
