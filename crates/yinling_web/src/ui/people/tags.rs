//! Tag management: the vocabulary and how many people in scope carry each tag.

use askama::Template;
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::{
    AppError,
    people::{TAG_CATEGORIES, TagDefInput, TagUsage},
};

use crate::AppState;
use crate::ui::kernel::extract::{Form, Path};
use crate::ui::kernel::{FormError, Layout, PageCtx, PageResult, opt, render, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tags", get(list).post(create))
        .route("/tags/{id}", post(update))
}

#[derive(Template)]
#[template(path = "people/tags.html")]
struct TagsPage {
    l: Layout,
    tags: Vec<TagUsage>,
    categories: Vec<String>,
    can_manage: bool,
    error: Option<FormError>,
}

async fn page(state: &AppState, ctx: PageCtx, error: Option<FormError>) -> PageResult {
    let can_manage = yinling_app::people::may_define_tags(&ctx.caller);
    let tags = state
        .app
        .people()
        .tag_definitions(&ctx.caller, can_manage)
        .await?;
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&TagsPage {
        l: ctx.layout("标签", "tags"),
        tags,
        categories: TAG_CATEGORIES.iter().map(|c| (*c).to_owned()).collect(),
        can_manage,
        error,
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

async fn list(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    page(&state, ctx, None).await
}

#[derive(Deserialize)]
struct TagForm {
    code: Option<String>,
    name: String,
    category: String,
    description: Option<String>,
    archived: Option<String>,
}

impl TagForm {
    fn input(&self) -> TagDefInput {
        TagDefInput {
            code: self.code.clone().unwrap_or_default(),
            name: self.name.clone(),
            category: self.category.clone(),
            description: opt(&self.description).unwrap_or_default(),
            archived: self.archived.as_deref() == Some("1"),
        }
    }
}

async fn done(state: &AppState, ctx: PageCtx, result: Result<(), AppError>) -> PageResult {
    match result {
        Ok(()) => Ok(see_other("/tags?ok=saved")),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => page(state, ctx, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

async fn create(State(state): State<AppState>, ctx: PageCtx, Form(f): Form<TagForm>) -> PageResult {
    let result = state
        .app
        .people()
        .define_tag(&ctx.caller, f.input())
        .await
        .map(|_| ());
    done(&state, ctx, result).await
}

async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<i64>,
    Form(f): Form<TagForm>,
) -> PageResult {
    let result = state
        .app
        .people()
        .update_tag_definition(&ctx.caller, yinling_domain::ids::TagId(id), f.input())
        .await;
    done(&state, ctx, result).await
}
