//! Account administration pages.

use askama::Template;
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::{
    AppError, Page, PageRequest,
    accounts::{AccountView, NewAccountInput},
};
use yinling_domain::role::Role;
use yinling_store::accounts::AccountListRow;

use crate::AppState;
use crate::ui::kernel::extract::{Form, Path, Query};
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, choices, filters, opt, render, see_other,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list))
        .route("/users/new", get(new_form).post(create))
        .route("/users/{id}", get(show))
        .route("/users/{id}/grants", post(add_grant))
        .route("/users/{id}/grants/{grant}/remove", post(remove_grant))
        .route("/users/{id}/password", post(reset_password))
        .route("/users/{id}/disabled", post(set_disabled))
}

fn role_choices(current: &str) -> Vec<Choice> {
    choices(
        Role::ALL.iter().map(|r| (r.as_str(), r.label_zh())),
        current,
    )
}

#[derive(Template)]
#[template(path = "accounts/users.html")]
struct UsersPage {
    l: Layout,
    result: Page<AccountListRow>,
    now: i64,
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let result = state
        .app
        .accounts()
        .list(&ctx.caller, PageRequest::new(q.page, Some(50)))
        .await?;
    Ok(render(&UsersPage {
        l: ctx.layout("账号", "users"),
        result,
        now: state.app.now(),
    }))
}

#[derive(Debug, Deserialize, Default, Clone)]
struct NewUserForm {
    username: String,
    display_name: String,
    password: String,
    role: String,
    unit: String,
    person: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/user_new.html")]
struct NewUserPage {
    l: Layout,
    f: NewUserForm,
    roles: Vec<Choice>,
    error: Option<FormError>,
}

#[derive(Deserialize)]
struct NewUserQuery {
    unit: Option<String>,
}

async fn new_form(ctx: PageCtx, Query(q): Query<NewUserQuery>) -> PageResult {
    Ok(render(&NewUserPage {
        l: ctx.layout("新建账号", "users"),
        f: NewUserForm {
            unit: q.unit.unwrap_or_default(),
            password: yinling_app::demo::random_password(),
            ..NewUserForm::default()
        },
        roles: role_choices(""),
        error: None,
    }))
}

fn key(s: &str, field: &'static str) -> Result<(i64, i64), AppError> {
    yinling_app::people::parse_key(s).ok_or_else(|| {
        AppError::invalid(
            "invalid_key",
            field,
            "编号格式应为 县代码/编号，例如 370830/123",
        )
    })
}

fn role(s: &str) -> Result<Role, AppError> {
    Role::parse(s).ok_or_else(|| AppError::invalid("invalid_role", "role", "请选择角色"))
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(f): Form<NewUserForm>,
) -> PageResult {
    let result = async {
        let (uc, uid) = key(&f.unit, "unit")?;
        let person = match opt(&f.person) {
            Some(p) => Some(key(&p, "person")?),
            None => None,
        };
        state
            .app
            .accounts()
            .create(
                &ctx.caller,
                NewAccountInput {
                    username: f.username.clone(),
                    display_name: f.display_name.clone(),
                    password: f.password.clone(),
                    role: role(&f.role)?,
                    unit_county_code: uc,
                    unit_id: uid,
                    must_change_password: true,
                    person_county_code: person.map(|p| p.0),
                    person_id: person.map(|p| p.1),
                },
            )
            .await
    }
    .await;
    match result {
        Ok(id) => Ok(see_other(&format!("/users/{id}?ok=created"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                let roles = role_choices(&f.role);
                let status = fe.status;
                let mut resp = render(&NewUserPage {
                    l: ctx.layout("新建账号", "users"),
                    f,
                    roles,
                    error: Some(fe),
                });
                *resp.status_mut() = status;
                Ok(resp)
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "accounts/user.html")]
struct UserPage {
    l: Layout,
    v: AccountView,
    roles: Vec<Choice>,
    new_password: String,
    error: Option<FormError>,
    now: i64,
}

async fn user_page(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    error: Option<FormError>,
) -> PageResult {
    let v = state.app.accounts().get(&ctx.caller, id).await?;
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&UserPage {
        l: ctx.layout(v.account.display_name.clone(), "users"),
        v,
        roles: role_choices(""),
        new_password: yinling_app::demo::random_password(),
        error,
        now: state.app.now(),
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

async fn show(State(state): State<AppState>, ctx: PageCtx, Path(id): Path<i64>) -> PageResult {
    user_page(&state, ctx, id, None).await
}

async fn after(
    state: &AppState,
    ctx: PageCtx,
    id: i64,
    ok: &str,
    result: Result<(), AppError>,
) -> PageResult {
    match result {
        Ok(()) => Ok(see_other(&format!("/users/{id}?ok={ok}"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => user_page(state, ctx, id, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
struct GrantForm {
    role: String,
    unit: String,
}

async fn add_grant(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<i64>,
    Form(f): Form<GrantForm>,
) -> PageResult {
    let result = async {
        let (uc, uid) = key(&f.unit, "unit")?;
        state
            .app
            .accounts()
            .add_grant(&ctx.caller, id, role(&f.role)?, uc, uid)
            .await
            .map(|_| ())
    }
    .await;
    after(&state, ctx, id, "granted", result).await
}

async fn remove_grant(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((id, grant)): Path<(i64, i64)>,
) -> PageResult {
    let result = state
        .app
        .accounts()
        .remove_grant(&ctx.caller, id, grant)
        .await;
    after(&state, ctx, id, "removed", result).await
}

#[derive(Deserialize)]
struct ResetForm {
    password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<i64>,
    Form(f): Form<ResetForm>,
) -> PageResult {
    let result = state
        .app
        .accounts()
        .reset_password(&ctx.caller, id, &f.password, true)
        .await;
    after(&state, ctx, id, "reset", result).await
}

#[derive(Deserialize)]
struct DisableForm {
    disabled: String,
}

async fn set_disabled(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<i64>,
    Form(f): Form<DisableForm>,
) -> PageResult {
    let result = state
        .app
        .accounts()
        .set_disabled(&ctx.caller, id, f.disabled == "1")
        .await;
    after(&state, ctx, id, "saved", result).await
}
