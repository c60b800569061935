#![doc = include_str!("../README.md")]

pub mod api;
pub mod kernel;
pub mod ui;

use std::sync::{Arc, OnceLock};

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::IntoResponse,
    routing::get,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::set_header::SetResponseHeaderLayer;
use yinling_app::App;

use kernel::{metrics_layer, request_id, session, static_files};

/// Web settings, from the binary's configuration.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (serve behind HTTPS in production).
    pub secure_cookies: bool,
    /// Show the "synthetic demo data" banner.
    pub demo: bool,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<WebConfig>,
    metrics: PrometheusHandle,
}

impl AppState {
    pub fn new(app: App, config: WebConfig) -> AppState {
        AppState {
            app,
            config: Arc::new(config),
            metrics: metrics_handle(),
        }
    }
}

/// The Prometheus recorder is process-global; install it once.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests); then metrics go there.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The whole application: pages, API, health, metrics, static files.
///
/// Every response that does not set its own `Cache-Control` gets `no-store`: pages, API
/// answers, exports and error pages carry personal data, and a shared computer or a proxy
/// must not keep them. Only the static assets, which set their own, stay cacheable.
///
/// Every request gets an id ([`request_id`]), returned in `x-request-id`, carried by every
/// log line of the request and shown on error pages and in API error bodies.
pub fn router(state: AppState) -> Router {
    let (api_router, _) = api::router().split_for_parts();
    Router::new()
        .merge(ui::router())
        .merge(api_router)
        .route("/api/openapi.json", get(openapi_json))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .merge(static_files::router())
        // After routing, so the metric is labelled with the matched route template.
        .route_layer(middleware::from_fn(metrics_layer::track))
        .layer(middleware::from_fn_with_state(state.clone(), session::csrf_guard))
        .layer(DefaultBodyLimit::max(2 * 1024 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'"),
        ))
        // Outermost, so every response, error pages and refusals included, carries the id
        // and every log line of the request is inside its span.
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

async fn openapi_json() -> impl IntoResponse {
    axum::Json(api::openapi())
}

/// Liveness and readiness: the database answers.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.app.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(
                serde_json::json!({"status": "ok", "database": state.app.store().backend().name()}),
            ),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable"})),
            )
        }
    }
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
