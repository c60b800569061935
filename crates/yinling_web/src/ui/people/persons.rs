//! People pages: the list with search, a person's file, the create/edit form, and the
//! actions on a file (reveal, roles, specialties, tags). Export to Excel.

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
    AppError, Page, PageRequest,
    people::{
        DuplicateCase, DuplicateDecision, PeopleQuery, PersonFile, PersonInput, PersonListItem,
        ResolveDuplicateInput, RoleInput, SensitiveField, TagInput, person_key,
    },
    services::PersonListing,
};
use yinling_domain::{
    ids::{Key, PersonId, PersonRoleId, TagId},
    person::{PersonRoleKind, PersonStatus, RetireKind, RoleDetails},
    region::CountyCode,
};
use yinling_store::people::tags::TagDefRow;

use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::extract::{Form, Path, Query};
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, choices, filters, opt, render, see_other,
    with_status,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/people", get(list))
        .route("/people/export.xlsx", get(export))
        .route("/people/new", get(new_form).post(create))
        .route("/people/{county}/{id}", get(show))
        .route("/people/{county}/{id}/edit", get(edit_form).post(update))
        .route("/people/{county}/{id}/reveal", post(reveal))
        .route("/people/{county}/{id}/roles", post(add_role))
        .route(
            "/people/{county}/{id}/roles/{role}/remove",
            post(remove_role),
        )
        .route("/people/{county}/{id}/skills", post(set_skills))
        .route("/people/{county}/{id}/tags", post(add_tag))
        .route("/people/{county}/{id}/tags/{tag}/remove", post(remove_tag))
        .route("/people/duplicates", get(list_duplicates))
        .route("/people/duplicates/{county}/{id}", post(decide_duplicate))
}

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    unit: Option<String>,
    tag: Option<String>,
    role: Option<String>,
    status: Option<String>,
    age_min: Option<String>,
    age_max: Option<String>,
    page: Option<i64>,
}

impl ListQuery {
    fn people_query(&self) -> Result<PeopleQuery, AppError> {
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
        Ok(PeopleQuery {
            q: opt(&self.q),
            unit: opt(&self.unit),
            tag: opt(&self.tag).and_then(|t| t.parse().ok()),
            role: opt(&self.role),
            status: opt(&self.status),
            gender: None,
            age_min: num(&self.age_min, "age_min")?,
            age_max: num(&self.age_max, "age_max")?,
        })
    }

    /// The query string without the page, for pagination and export links.
    fn base_query(&self) -> String {
        let pairs: Vec<(&str, String)> = [
            ("q", opt(&self.q)),
            ("unit", opt(&self.unit)),
            ("tag", opt(&self.tag)),
            ("role", opt(&self.role)),
            ("status", opt(&self.status)),
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
#[template(path = "people/list.html")]
struct ListPage {
    l: Layout,
    q: String,
    unit: String,
    unit_name: Option<String>,
    tag: String,
    role: String,
    status: String,
    age_min: String,
    age_max: String,
    tags: Vec<Choice>,
    roles: Vec<Choice>,
    statuses: Vec<Choice>,
    result: Option<Page<PersonListItem>>,
    error: Option<FormError>,
    base_query: String,
    can_create: bool,
    /// Duplicate registrations waiting for the caller's review (0 for those who may not).
    open_duplicates: i64,
}

fn role_choices(current: &str) -> Vec<Choice> {
    choices(
        PersonRoleKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label_zh())),
        current,
    )
}

fn status_choices(current: &str) -> Vec<Choice> {
    choices(
        [
            PersonStatus::Active,
            PersonStatus::MovedOut,
            PersonStatus::Deceased,
        ]
        .iter()
        .map(|s| (s.as_str(), s.label_zh())),
        current,
    )
}

async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let tag_defs: Vec<TagDefRow> = state
        .app
        .people()
        .tag_definitions(&ctx.caller, false)
        .await?
        .into_iter()
        .map(|t| t.def)
        .collect();
    let current_tag = q.tag.clone().unwrap_or_default();
    let tag_ids: Vec<String> = tag_defs.iter().map(|t| t.id.to_string()).collect();
    let tags = choices(
        tag_ids
            .iter()
            .zip(&tag_defs)
            .map(|(id, t)| (id.as_str(), t.name.as_str())),
        &current_tag,
    );
    let page = PageRequest::new(q.page, Some(20));
    let (result, refusal) = match q.people_query() {
        Ok(pq) => match state.app.people().search(&ctx.caller, &pq, page).await {
            Ok(r) => (Some(r), None),
            Err(e) => match search_refusal(&e) {
                Some(r) => (None, Some(r)),
                None => return Err(e.into()),
            },
        },
        Err(e) => (None, search_refusal(&e)),
    };
    let unit_name = match opt(&q.unit).and_then(|u| yinling_app::people::parse_key(&u)) {
        Some((c, id)) => state
            .app
            .org()
            .find_unit(&ctx.caller, yinling_app::org::unit_key(c, id)?)
            .await
            .ok()
            .map(|u| u.name),
        None => None,
    };
    let status = refusal.as_ref().map_or(StatusCode::OK, |e| e.status);
    let open_duplicates = state.app.people().open_duplicates(&ctx.caller).await?;
    let page = ListPage {
        l: ctx.layout("人员", "people"),
        q: q.q.clone().unwrap_or_default(),
        unit: q.unit.clone().unwrap_or_default(),
        unit_name,
        tag: q.tag.clone().unwrap_or_default(),
        role: q.role.clone().unwrap_or_default(),
        status: q.status.clone().unwrap_or_default(),
        age_min: q.age_min.clone().unwrap_or_default(),
        age_max: q.age_max.clone().unwrap_or_default(),
        tags,
        roles: role_choices(q.role.as_deref().unwrap_or_default()),
        statuses: status_choices(q.status.as_deref().unwrap_or_default()),
        result,
        error: refusal,
        base_query: q.base_query(),
        can_create: ctx.caller.may(yinling_domain::role::Permission::EditPeople),
        open_duplicates,
    };
    let mut resp = render(&page);
    *resp.status_mut() = status;
    Ok(resp)
}

/// A search the app refused, shown beside the search box with the status of the refusal:
/// 422 for a malformed query, 403 for an exact number without the reveal right, 429 when the
/// caller's searches by number are used up for the hour.
fn search_refusal(e: &AppError) -> Option<FormError> {
    let status = crate::kernel::error::status_of(e);
    match e {
        AppError::TooMany { message, .. } => Some(FormError {
            field: Some("q".into()),
            message: format!(
                "{message}。为保护个人信息，按完整号码或身份证后4位查找每小时有次数限制；按姓名或拼音首字母查找不受限制"
            ),
            status,
        }),
        AppError::Forbidden { message } => Some(FormError {
            field: Some("q".into()),
            message: message.clone(),
            status,
        }),
        _ => FormError::from_app(e),
    }
}

async fn export(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let pq = q.people_query()?;
    let bytes = state.app.people().export_xlsx(&ctx.caller, &pq).await?;
    let name = format!(
        "人员台账-{}.xlsx",
        yinling_domain::time::local_date(state.app.now())
    );
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

#[derive(Template)]
#[template(path = "people/person.html")]
struct PersonPage {
    l: Layout,
    p: PersonFile,
    revealed_id: Option<String>,
    revealed_phone: Option<String>,
    revealed_label: Option<&'static str>,
    tags: Vec<TagDefRow>,
    roles: Vec<Choice>,
    /// Putting the person on the resource list, or changing their entry there: (link, label).
    listing: Option<(String, &'static str)>,
    /// The caller may propose a points adjustment for the person.
    adjust: bool,
    error: Option<FormError>,
}

async fn person_page(
    state: &AppState,
    ctx: PageCtx,
    key: Key<PersonId>,
    revealed: Option<(SensitiveField, String)>,
    error: Option<FormError>,
) -> PageResult {
    let p = state.app.people().file(&ctx.caller, key).await?;
    let tags = if p.can_edit {
        state
            .app
            .people()
            .tag_definitions(&ctx.caller, false)
            .await?
            .into_iter()
            .map(|t| t.def)
            .collect()
    } else {
        Vec::new()
    };
    let listing = match state
        .app
        .services()
        .person_listing(&ctx.caller, key)
        .await?
    {
        PersonListing::NotManaged => None,
        PersonListing::Unlisted => Some((format!("/providers/new?person={key}"), "加入资源清单")),
        PersonListing::Listed(k) => Some((
            format!("/providers/{}/{}/edit", k.county_code, k.id),
            "资源清单信息",
        )),
    };
    let adjust = yinling_domain::org::OrgPath::parse(&p.home_unit.path).is_ok_and(|path| {
        ctx.caller
            .scope(yinling_domain::role::Permission::AwardPoints)
            .covers(&path)
    });
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&PersonPage {
        l: ctx.layout(p.name.clone(), "people"),
        p,
        revealed_label: revealed.as_ref().map(|(f, _)| f.label_zh()),
        revealed_id: revealed
            .as_ref()
            .filter(|(f, _)| *f == SensitiveField::IdNumber)
            .map(|(_, v)| v.clone()),
        revealed_phone: revealed
            .as_ref()
            .filter(|(f, _)| *f == SensitiveField::Phone)
            .map(|(_, v)| v.clone()),
        tags,
        roles: role_choices(""),
        listing,
        adjust,
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
    KeyPath(key): KeyPath<PersonId>,
) -> PageResult {
    person_page(&state, ctx, key, None, None).await
}

#[derive(Deserialize)]
struct RevealForm {
    field: String,
}

async fn reveal(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<PersonId>,
    Form(f): Form<RevealForm>,
) -> PageResult {
    let field = match f.field.as_str() {
        "id_number" => SensitiveField::IdNumber,
        "phone" => SensitiveField::Phone,
        _ => return Err(AppError::invalid("invalid_field", "field", "无法显示该项").into()),
    };
    let value = state.app.people().reveal(&ctx.caller, key, field).await?;
    let shown = value.map(|v| (field, v));
    person_page(&state, ctx, key, shown, None).await
}

/// The outcome of a form action on a person file: back to the file, or the file with the
/// error beside the form.
async fn after_action(
    state: &AppState,
    ctx: PageCtx,
    key: Key<PersonId>,
    result: Result<(), AppError>,
) -> PageResult {
    match result {
        Ok(()) => Ok(see_other(&format!("/people/{key}?ok=saved"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => person_page(state, ctx, key, None, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
struct RoleForm {
    kind: String,
    unit: Option<String>,
    since: Option<String>,
    join_date: Option<String>,
    retire_kind: Option<String>,
    former_unit: Option<String>,
    former_rank: Option<String>,
    position: Option<String>,
}

fn parse_date_field(
    s: &Option<String>,
    field: &'static str,
) -> Result<Option<chrono::NaiveDate>, AppError> {
    match opt(s) {
        None => Ok(None),
        Some(v) => chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                AppError::invalid(
                    "invalid_date",
                    field,
                    "日期格式应为 年-月-日，例如 1976-07-01",
                )
            }),
    }
}

fn role_input(f: &RoleForm) -> Result<RoleInput, AppError> {
    let kind = PersonRoleKind::parse(&f.kind)
        .ok_or_else(|| AppError::invalid("invalid_role", "kind", "请选择身份"))?;
    let unit = match opt(&f.unit) {
        Some(u) => Some(yinling_app::people::parse_key(&u).ok_or_else(|| {
            AppError::invalid(
                "invalid_unit",
                "unit",
                "所属组织编号格式应为 县代码/编号，例如 370830/123",
            )
        })?),
        None => None,
    };
    let retire_kind = match opt(&f.retire_kind) {
        Some(r) => Some(RetireKind::parse_any(&r).ok_or_else(|| {
            AppError::invalid("invalid_retire_kind", "retire_kind", "请选择离休或退休")
        })?),
        None => None,
    };
    Ok(RoleInput {
        kind,
        unit_county_code: unit.map(|u| u.0),
        unit_id: unit.map(|u| u.1),
        since: parse_date_field(&f.since, "since")?,
        details: RoleDetails {
            join_date: parse_date_field(&f.join_date, "join_date")?,
            probationary: false,
            retire_kind,
            former_unit: opt(&f.former_unit),
            former_rank: opt(&f.former_rank),
            retire_date: None,
            position: opt(&f.position),
        },
    })
}

async fn add_role(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<PersonId>,
    Form(f): Form<RoleForm>,
) -> PageResult {
    let result = match role_input(&f) {
        Ok(input) => state
            .app
            .people()
            .add_role(&ctx.caller, key, input)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after_action(&state, ctx, key, result).await
}

async fn remove_role(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id, role)): Path<(i64, i64, i64)>,
) -> PageResult {
    let key = person_key(county, id)?;
    let result = state
        .app
        .people()
        .remove_role(&ctx.caller, key, PersonRoleId(role))
        .await;
    after_action(&state, ctx, key, result).await
}

#[derive(Deserialize)]
struct SkillsForm {
    skills: String,
}

async fn set_skills(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<PersonId>,
    Form(f): Form<SkillsForm>,
) -> PageResult {
    let result = state
        .app
        .people()
        .set_skills(&ctx.caller, key, vec![f.skills])
        .await;
    after_action(&state, ctx, key, result).await
}

#[derive(Deserialize)]
struct TagForm {
    tag_id: String,
    valid_from: Option<String>,
    valid_to: Option<String>,
    note: Option<String>,
}

async fn add_tag(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<PersonId>,
    Form(f): Form<TagForm>,
) -> PageResult {
    let input = (|| {
        Ok::<_, AppError>(TagInput {
            tag_id: f
                .tag_id
                .parse::<i64>()
                .map(TagId)
                .map_err(|_| AppError::invalid("invalid_tag", "tag_id", "请选择标签"))?,
            valid_from: parse_date_field(&f.valid_from, "valid_from")?,
            valid_to: parse_date_field(&f.valid_to, "valid_to")?,
            note: opt(&f.note),
        })
    })();
    let result = match input {
        Ok(i) => state
            .app
            .people()
            .tag(&ctx.caller, key, i)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after_action(&state, ctx, key, result).await
}

async fn remove_tag(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id, tag)): Path<(i64, i64, i64)>,
) -> PageResult {
    let key = person_key(county, id)?;
    let result = state.app.people().untag(&ctx.caller, key, tag).await;
    after_action(&state, ctx, key, result).await
}

// ---- create / edit ----

#[derive(Debug, Deserialize, Default, Clone)]
struct PersonForm {
    name: String,
    id_number: String,
    phone: Option<String>,
    unit: String,
    household_id: Option<String>,
    ethnicity: Option<String>,
    education: Option<String>,
    address: Option<String>,
    note: Option<String>,
    status: Option<String>,
    version: Option<String>,
}

impl PersonForm {
    fn input(&self) -> Result<PersonInput, AppError> {
        let (c, u) = yinling_app::people::parse_key(&self.unit)
            .ok_or_else(|| AppError::invalid("invalid_unit", "unit", "请选择所属组织"))?;
        let household_id = match opt(&self.household_id) {
            Some(h) => Some(h.parse().map_err(|_| {
                AppError::invalid("invalid_household", "household_id", "户选择有误")
            })?),
            None => None,
        };
        let status = match opt(&self.status) {
            Some(s) => Some(
                PersonStatus::parse(&s)
                    .ok_or_else(|| AppError::invalid("invalid_status", "status", "状态选择有误"))?,
            ),
            None => None,
        };
        Ok(PersonInput {
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            phone: opt(&self.phone),
            home_unit_county_code: c,
            home_unit_id: u,
            household_id,
            ethnicity: opt(&self.ethnicity),
            education: opt(&self.education),
            address: opt(&self.address),
            note: opt(&self.note),
            status,
            version: opt(&self.version).and_then(|v| v.parse().ok()),
        })
    }
}

#[derive(Template)]
#[template(path = "people/person_form.html")]
struct PersonFormPage {
    l: Layout,
    editing: Option<Key<PersonId>>,
    f: PersonForm,
    unit_name: String,
    households: Vec<Choice>,
    statuses: Vec<Choice>,
    error: Option<FormError>,
}

#[derive(Deserialize)]
struct NewQuery {
    unit: Option<String>,
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    editing: Option<Key<PersonId>>,
    f: PersonForm,
    error: Option<FormError>,
) -> PageResult {
    let (unit_name, households) = match yinling_app::people::parse_key(&f.unit) {
        Some((c, u)) => {
            let unit = state
                .app
                .org()
                .find_unit(&ctx.caller, yinling_app::org::unit_key(c, u)?)
                .await?;
            let unit_key = Key::from_parts(c, u).map_err(|e| AppError::Internal(e.to_string()))?;
            let households = state
                .app
                .people()
                .households_under(&ctx.caller, unit_key)
                .await?;
            (unit.name, households)
        }
        None => (String::new(), Vec::new()),
    };
    let title = if editing.is_some() {
        "修改人员档案"
    } else {
        "登记人员"
    };
    let ids: Vec<String> = households.iter().map(|h| h.id.to_string()).collect();
    let households = choices(
        ids.iter()
            .zip(&households)
            .map(|(id, h)| (id.as_str(), h.label.as_str())),
        f.household_id.as_deref().unwrap_or_default(),
    );
    let statuses = status_choices(f.status.as_deref().unwrap_or_default());
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&PersonFormPage {
        l: ctx.layout(title, "people"),
        editing,
        f,
        unit_name,
        households,
        statuses,
        error,
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let Some(unit) = opt(&q.unit) else {
        return Err(AppError::invalid(
            "unit_required",
            "unit",
            "请先在组织页面选择居住的社区、小区或网格，再登记人员",
        )
        .into());
    };
    let f = PersonForm {
        unit,
        ..PersonForm::default()
    };
    form_page(&state, ctx, None, f, None).await
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<PersonForm>,
) -> PageResult {
    let result = match f.input() {
        Ok(input) => state.app.people().create(&ctx.caller, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(key) => Ok(see_other(&format!("/people/{key}?ok=created"))),
        Err(e) => match person_form_refusal(&e) {
            Some(fe) => form_page(&state, ctx, None, f, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

/// A registration or change the app refused, for the form, with the refusal's status. A
/// number already registered is named only where the registrar could read it anyway (their
/// own area); a number held anywhere else is no refusal at all (the app registers it and
/// routes it to the county), so nothing here can tell whether a number exists elsewhere.
fn person_form_refusal(e: &AppError) -> Option<FormError> {
    let status = crate::kernel::error::status_of(e);
    match e {
        AppError::Conflict { .. } if e.code() == "duplicate_id_number" => Some(FormError {
            field: Some("id_number".into()),
            message: format!(
                "{e}。请在人员列表中按姓名找到这份档案，核对或补充信息即可，不必重复登记"
            ),
            status,
        }),
        AppError::TooMany { message, .. } => Some(FormError {
            field: Some("id_number".into()),
            message: format!(
                "{message}。为保护个人信息，登记身份证号码与按完整号码查找合计每小时有次数限制；已填写的内容保留在下面，可到时再保存"
            ),
            status,
        }),
        _ => FormError::from_app(e),
    }
}

async fn edit_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<PersonId>,
) -> PageResult {
    let p = state.app.people().file(&ctx.caller, key).await?;
    if !p.can_edit {
        return Err(AppError::forbidden("您无权修改该人员档案").into());
    }
    // The form shows the ID number and phone masked; leaving them masked keeps them.
    let f = PersonForm {
        name: p.name.clone(),
        id_number: p.id_number_masked.clone(),
        phone: p.phone_masked.clone(),
        unit: format!("{}/{}", p.home_unit.county_code, p.home_unit.id),
        household_id: p.household.as_ref().map(|h| h.id.to_string()),
        ethnicity: p.ethnicity.clone(),
        education: p.education.clone(),
        address: p.address.clone(),
        note: p.note.clone(),
        status: Some(p.status.as_str().to_owned()),
        version: Some(p.version.to_string()),
    };
    form_page(&state, ctx, Some(key), f, None).await
}

async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<PersonId>,
    Form(f): Form<PersonForm>,
) -> PageResult {
    let result = match f.input() {
        Ok(input) => state.app.people().update(&ctx.caller, key, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/people/{key}?ok=saved"))),
        Err(e) => match person_form_refusal(&e) {
            Some(fe) => form_page(&state, ctx, Some(key), f, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

// ---- duplicate registrations: the county's review queue ----

#[derive(Template)]
#[template(path = "people/duplicates.html")]
struct DuplicatesPage {
    l: Layout,
    result: Page<DuplicateCase>,
    /// Showing every case, the closed ones too (otherwise the open ones only).
    all: bool,
    /// The case a refused decision was about, and why.
    error: Option<(i64, i64, FormError)>,
}

#[derive(Debug, Deserialize, Default)]
struct DuplicatesQuery {
    status: Option<String>,
    page: Option<i64>,
    done: Option<String>,
}

async fn duplicates_page(
    state: &AppState,
    ctx: PageCtx,
    q: DuplicatesQuery,
    error: Option<(i64, i64, FormError)>,
) -> PageResult {
    let all = q.status.as_deref() == Some("all");
    let result = state
        .app
        .people()
        .duplicates(
            &ctx.caller,
            if all { None } else { Some("open") },
            PageRequest::new(q.page, Some(20)),
        )
        .await?;
    let mut l = ctx.layout("重复登记复核", "duplicates");
    let notice = match q.done.as_deref() {
        Some("merge") => Some("已并档：新登记的档案已关闭，以原有档案为准。"),
        Some("reject") => Some("已驳回：新登记的档案已作废，号码不再占用。"),
        _ => None,
    };
    l.notice = l.notice.or_else(|| notice.map(str::to_owned));
    Ok(render(&DuplicatesPage {
        l,
        result,
        all,
        error,
    }))
}

async fn list_duplicates(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<DuplicatesQuery>,
) -> PageResult {
    duplicates_page(&state, ctx, q, None).await
}

#[derive(Debug, Deserialize)]
struct DecideDuplicateForm {
    decision: Option<String>,
    note: Option<String>,
    version: Option<String>,
}

async fn decide_duplicate(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((county, id)): Path<(i64, i64)>,
    Form(f): Form<DecideDuplicateForm>,
) -> PageResult {
    let input = match (f.decision.as_deref(), opt(&f.version).map(|v| v.parse())) {
        (Some("merge" | "reject"), Some(Ok(version))) => Ok(ResolveDuplicateInput {
            decision: if f.decision.as_deref() == Some("merge") {
                DuplicateDecision::Merge
            } else {
                DuplicateDecision::Reject
            },
            note: opt(&f.note),
            version,
        }),
        (Some("merge" | "reject"), _) => Err(AppError::invalid(
            "invalid_version",
            "version",
            "页面信息不完整，请刷新后重新处理",
        )),
        _ => Err(AppError::invalid(
            "decision_required",
            "decision",
            "请选择“是同一人，并档”或“不是同一人，驳回登记”",
        )),
    };
    let result = match input {
        Ok(input) => {
            let decision = input.decision;
            match CountyCode::from_i64(county) {
                Ok(county) => state
                    .app
                    .people()
                    .resolve_duplicate(&ctx.caller, county, id, input)
                    .await
                    .map(|()| decision),
                Err(_) => Err(AppError::NotFound {
                    what: "重复登记"
                }),
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(DuplicateDecision::Merge) => Ok(see_other("/people/duplicates?done=merge")),
        Ok(DuplicateDecision::Reject) => Ok(see_other("/people/duplicates?done=reject")),
        // Out of scope or missing answers as a page, like any other object.
        Err(e @ AppError::NotFound { .. }) => Err(e.into()),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                let status = fe.status;
                let resp = duplicates_page(
                    &state,
                    ctx,
                    DuplicatesQuery::default(),
                    Some((county, id, fe)),
                )
                .await?;
                Ok(with_status(resp, Some(status)))
            }
            None => Err(e.into()),
        },
    }
}
