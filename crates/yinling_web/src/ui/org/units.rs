//! The organisation tree browser and unit management.

use askama::Template;
use axum::{
    Router,
    extract::State,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::{
    AppError, Page, PageRequest,
    org::{NewUnitInput, UnitUpdateInput, UnitView},
    org::{PlaceInput, PlaceKind, PlaceView},
    people::RosterItem,
};
use yinling_domain::{org::OrgKind, person::PersonRoleKind};
use yinling_store::org::OrgUnitRow;

use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, choices, opt, render, see_other,
};
use yinling_domain::ids::Key;
use yinling_domain::ids::UnitId;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/org", get(roots))
        .route("/org/{county}/{id}", get(show))
        .route("/org/{county}/{id}/children", post(create_child))
        .route("/org/{county}/{id}/edit", post(update))
        .route("/org/{county}/{id}/move", post(move_unit))
        .route("/org/{county}/{id}/boundary", post(boundary))
        .route("/org/{county}/{id}/members", get(members))
        .route("/org/{county}/{id}/places", get(places).post(create_place))
}

#[derive(Template)]
#[template(path = "org/roots.html")]
struct RootsPage {
    l: Layout,
    roots: Vec<OrgUnitRow>,
}

async fn roots(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    let roots = state.app.org().roots(&ctx.caller).await?;
    if let [only] = roots.as_slice() {
        return Ok(see_other(&format!("/org/{}/{}", only.county_code, only.id)));
    }
    Ok(render(&RootsPage {
        l: ctx.layout("组织", "org"),
        roots,
    }))
}

#[derive(Template)]
#[template(path = "org/unit.html")]
struct UnitPage {
    l: Layout,
    v: UnitView,
    kinds: Vec<Choice>,
    error: Option<FormError>,
}

async fn unit_page(
    state: &AppState,
    ctx: PageCtx,
    key: Key<UnitId>,
    error: Option<FormError>,
) -> PageResult {
    let v = state.app.org().unit_view(&ctx.caller, key).await?;
    let kinds = choices(
        v.allowed_child_kinds
            .iter()
            .map(|k| (k.as_str(), k.label_zh())),
        "",
    );
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&UnitPage {
        l: ctx.layout(v.unit.name.clone(), "org"),
        v,
        kinds,
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
    KeyPath(key): KeyPath<UnitId>,
) -> PageResult {
    unit_page(&state, ctx, key, None).await
}

async fn after(
    state: &AppState,
    ctx: PageCtx,
    key: Key<UnitId>,
    result: Result<String, AppError>,
) -> PageResult {
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => unit_page(state, ctx, key, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

fn coords(
    lat: &Option<String>,
    lng: &Option<String>,
) -> Result<(Option<f64>, Option<f64>), AppError> {
    let num = |s: &Option<String>| -> Result<Option<f64>, AppError> {
        match opt(s) {
            None => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .map(Some)
                .map_err(|_| AppError::invalid("invalid_coordinates", "lat", "经纬度须为数字")),
        }
    };
    Ok((num(lat)?, num(lng)?))
}

#[derive(Deserialize)]
struct ChildForm {
    kind: String,
    name: String,
    region_code: Option<String>,
    address: Option<String>,
    lat: Option<String>,
    lng: Option<String>,
    geojson: Option<String>,
}

async fn create_child(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<UnitId>,
    Form(f): Form<ChildForm>,
) -> PageResult {
    let result = async {
        let kind = OrgKind::parse(&f.kind)
            .ok_or_else(|| AppError::invalid("invalid_kind", "kind", "请选择组织类型"))?;
        let (lat, lng) = coords(&f.lat, &f.lng)?;
        let unit = state
            .app
            .org()
            .create_unit(
                &ctx.caller,
                key,
                NewUnitInput {
                    kind,
                    name: f.name.clone(),
                    region_code: opt(&f.region_code),
                    address: opt(&f.address),
                    lat,
                    lng,
                    geojson: opt(&f.geojson),
                },
            )
            .await?;
        Ok(format!("/org/{}/{}?ok=created", unit.county_code, unit.id))
    }
    .await;
    after(&state, ctx, key, result).await
}

#[derive(Deserialize)]
struct EditForm {
    name: String,
    address: Option<String>,
    lat: Option<String>,
    lng: Option<String>,
    version: i64,
}

async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<UnitId>,
    Form(f): Form<EditForm>,
) -> PageResult {
    let result = async {
        let (lat, lng) = coords(&f.lat, &f.lng)?;
        state
            .app
            .org()
            .update_unit(
                &ctx.caller,
                key,
                UnitUpdateInput {
                    name: f.name.clone(),
                    address: opt(&f.address),
                    lat,
                    lng,
                    version: f.version,
                },
            )
            .await?;
        Ok(format!("/org/{key}?ok=saved"))
    }
    .await;
    after(&state, ctx, key, result).await
}

#[derive(Deserialize)]
struct MoveForm {
    parent: String,
}

async fn move_unit(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<UnitId>,
    Form(f): Form<MoveForm>,
) -> PageResult {
    let result = async {
        let (pc, pid) = yinling_app::people::parse_key(&f.parent).ok_or_else(|| {
            AppError::invalid(
                "invalid_parent",
                "parent",
                "上级组织编号格式应为 县代码/编号，例如 370830/123",
            )
        })?;
        state
            .app
            .org()
            .move_unit(&ctx.caller, key, yinling_app::org::unit_key(pc, pid)?)
            .await?;
        Ok(format!("/org/{key}?ok=moved"))
    }
    .await;
    after(&state, ctx, key, result).await
}

#[derive(Deserialize)]
struct BoundaryForm {
    geojson: Option<String>,
}

async fn boundary(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<UnitId>,
    Form(f): Form<BoundaryForm>,
) -> PageResult {
    let result = state
        .app
        .org()
        .set_grid_boundary(&ctx.caller, key, opt(&f.geojson).as_deref())
        .await
        .map(|()| format!("/org/{key}?ok=saved"));
    after(&state, ctx, key, result).await
}

#[derive(Template)]
#[template(path = "org/members.html")]
struct MembersPage {
    l: Layout,
    unit: OrgUnitRow,
    kind: String,
    kinds: Vec<Choice>,
    result: Page<RosterItem>,
}

#[derive(Deserialize)]
struct MembersQuery {
    kind: Option<String>,
    page: Option<i64>,
}

/// The people who hold a role in this unit or below (a branch's members, a team's
/// volunteers), wherever they live.
async fn members(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<UnitId>,
    Query(q): Query<MembersQuery>,
) -> PageResult {
    let unit = state.app.org().find_unit(&ctx.caller, key).await?;
    let kind = opt(&q.kind).and_then(|k| PersonRoleKind::parse(&k));
    let result = state
        .app
        .people()
        .roster(&ctx.caller, key, kind, PageRequest::new(q.page, Some(50)))
        .await?;
    Ok::<Response, _>(render(&MembersPage {
        l: ctx.layout(format!("{}成员", unit.name), "org"),
        unit,
        kind: kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        kinds: choices(
            PersonRoleKind::ALL
                .iter()
                .map(|k| (k.as_str(), k.label_zh())),
            kind.map_or("", PersonRoleKind::as_str),
        ),
        result,
    }))
}

#[derive(Template)]
#[template(path = "org/places.html")]
struct PlacesPage {
    l: Layout,
    unit: OrgUnitRow,
    parent: Option<i64>,
    places: Vec<PlaceView>,
    kinds: Vec<Choice>,
    can_edit: bool,
    error: Option<FormError>,
}

#[derive(Deserialize)]
struct PlacesQuery {
    parent: Option<i64>,
}

async fn places_page(
    state: &AppState,
    ctx: PageCtx,
    key: Key<UnitId>,
    parent: Option<i64>,
    error: Option<FormError>,
) -> PageResult {
    let unit = state.app.org().find_unit(&ctx.caller, key).await?;
    let places = state
        .app
        .org()
        .places(&ctx.caller, key, parent.map(yinling_domain::ids::PlaceId))
        .await?;
    let can_edit = yinling_domain::org::OrgPath::parse(&unit.path).is_ok_and(|p| {
        ctx.caller
            .scope(yinling_domain::role::Permission::EditPeople)
            .covers(&p)
    });
    let kinds = choices(
        [
            PlaceKind::Building,
            PlaceKind::Unit,
            PlaceKind::Household,
            PlaceKind::Address,
        ]
        .iter()
        .map(|k| (k.as_str(), k.label_zh())),
        if parent.is_some() {
            "household"
        } else {
            "building"
        },
    );
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&PlacesPage {
        l: ctx.layout(format!("{}的楼栋与住户", unit.name), "org"),
        unit,
        parent,
        places,
        kinds,
        can_edit,
        error,
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

async fn places(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<UnitId>,
    Query(q): Query<PlacesQuery>,
) -> PageResult {
    places_page(&state, ctx, key, q.parent, None).await
}

#[derive(Deserialize)]
struct PlaceForm {
    kind: String,
    parent: Option<String>,
    label: String,
    address: Option<String>,
}

async fn create_place(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<UnitId>,
    Form(f): Form<PlaceForm>,
) -> PageResult {
    let parent = opt(&f.parent).and_then(|p| p.parse::<i64>().ok());
    let result = async {
        let kind = PlaceKind::parse(&f.kind)
            .ok_or_else(|| AppError::invalid("invalid_kind", "kind", "请选择类型"))?;
        state
            .app
            .org()
            .create_place(
                &ctx.caller,
                key,
                PlaceInput {
                    kind,
                    parent_id: parent,
                    label: f.label.clone(),
                    address: opt(&f.address),
                    lat: None,
                    lng: None,
                },
            )
            .await
    }
    .await;
    match result {
        Ok(_) => {
            let back = match parent {
                Some(p) => format!("/org/{key}/places?parent={p}&ok=created"),
                None => format!("/org/{key}/places?ok=created"),
            };
            Ok(see_other(&back))
        }
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => places_page(&state, ctx, key, parent, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}
