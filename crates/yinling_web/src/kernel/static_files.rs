//! Static assets compiled into the binary: one stylesheet and one script, no build step.

use axum::{Router, http::header, response::IntoResponse, routing::get};

use crate::AppState;

const CSS: &str = include_str!("../../static/yinling.css");
const JS: &str = include_str!("../../static/yinling.js");
const ICON: &str = include_str!("../../static/favicon.svg");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/yinling.css", get(css))
        .route("/static/yinling.js", get(js))
        .route("/static/favicon.svg", get(icon))
        .route("/favicon.ico", get(icon))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        JS,
    )
}

async fn icon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
}
