//! One structured log line per request, and request counts and latencies for Prometheus,
//! labelled by route template, never by the concrete URL (which may carry ids or a number
//! typed into a search).

use std::time::Instant;

use axum::{extract::MatchedPath, extract::Request, middleware::Next, response::Response};

pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let elapsed = start.elapsed();
    // The route template, never the URL: a query string may hold a searched ID number.
    tracing::info!(target: "yinling::http", %method, %route, status = response.status().as_u16(), ms = elapsed.as_secs_f64() * 1000.0, "request");
    let status = response.status().as_u16().to_string();
    metrics::counter!("yinling_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("yinling_http_request_duration_seconds", "method" => method, "route" => route)
                .record(elapsed.as_secs_f64());
    response
}
