//! 完成服务: the volunteer completes an order, with a photo.

use askama::Template;
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::{HeaderMap, header},
    response::IntoResponse,
    routing::get,
};
use yinling_app::{
    AppError,
    orders::{OrderStep, OrderView},
};
use yinling_domain::service::OrderAction;

use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::{FormError, Layout, PageCtx, PageResult, render, see_other, with_status};
use yinling_domain::ids::Key;
use yinling_domain::ids::OrderId;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/orders/{county}/{id}/complete",
            get(complete_form)
                .post(complete_order)
                .layer(DefaultBodyLimit::max(
                    crate::kernel::multipart::MAX_UPLOAD_BODY,
                )),
        )
        .route("/orders/{county}/{id}/photo", get(order_photo))
}

// ---- 完成服务 ----

#[derive(Template)]
#[template(path = "orders/complete.html")]
struct CompletePage {
    l: Layout,
    v: OrderView,
    note: String,
    error: Option<FormError>,
}

async fn complete_page(
    state: &AppState,
    ctx: PageCtx,
    key: Key<OrderId>,
    note: String,
    error: Option<FormError>,
) -> PageResult {
    let failed = error.as_ref().map(|e| e.status);
    let d = state.app.orders().detail(&ctx.caller, key).await?;
    if !d.actions.contains(&"complete") && error.is_none() {
        return Ok(see_other(&format!("/orders/{key}")));
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
    KeyPath(key): KeyPath<OrderId>,
) -> PageResult {
    complete_page(&state, ctx, key, String::new(), None).await
}

async fn complete_order(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<OrderId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> PageResult {
    let mut note = String::new();
    let result = async {
        let body = body.map_err(|_| crate::kernel::multipart::photo_too_large())?;
        let boundary = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::kernel::multipart::boundary)
            .ok_or_else(|| {
                AppError::invalid("invalid_form", "note", "表单内容不完整，请重新提交")
            })?;
        let parts = crate::kernel::multipart::parse(&body, &boundary);
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
                    .upload_photo(&ctx.caller, key, bytes)
                    .await?,
            ),
            None => None,
        };
        let done = state
            .app
            .orders()
            .step(
                &ctx.caller,
                key,
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
            && let Some(photo) = &photo_key
            && let Err(e) = state
                .app
                .orders()
                .discard_photo(&ctx.caller, key, photo)
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
            Some(fe) => complete_page(&state, ctx, key, note, Some(fe)).await,
            None => Err(e.into()),
        },
    }
}

/// The completion photo, only to callers who can see the order.
async fn order_photo(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<OrderId>,
) -> PageResult {
    let d = state.app.orders().detail(&ctx.caller, key).await?;
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
