//! Who is calling, and CSRF protection.
//!
//! Pages authenticate with the HttpOnly session cookie; API clients may use the same cookie
//! or send the session token as `Authorization: Bearer`. Every state-changing request that
//! relies on the cookie must carry the CSRF token — the `csrf_token` form field or the
//! `X-CSRF-Token` header — equal to the token stored with the session (and sent to the
//! browser in the `yinling_csrf` cookie and in every form). Before login, the login form is
//! checked by double submit against the cookie alone. A cross-site form can send the
//! cookies but can read neither.

use std::net::SocketAddr;

use axum::{
    body::{Body, to_bytes},
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{HeaderMap, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use yinling_app::{AppError, Caller};

use crate::{AppState, kernel::cookies, kernel::error::ApiError};

/// The session token a request carries, from the Bearer header or the cookie.
pub fn token_of(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(t) = auth.strip_prefix("Bearer ")
    {
        return Some((t.trim().to_owned(), true));
    }
    cookies::get(headers, cookies::SESSION).map(|t| (t, false))
}

/// The client address for the audit log.
pub fn client_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}

/// An authenticated API caller.
pub struct ApiCaller {
    pub caller: Caller,
    pub token: String,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (token, _) =
            token_of(&parts.headers).ok_or(ApiError::from(AppError::Unauthenticated))?;
        let session = state
            .app
            .accounts()
            .authenticate(&token, client_ip(parts))
            .await?;
        if session.must_change_password && parts.uri.path() != "/api/v1/me/password" {
            return Err(ApiError::from(AppError::PasswordChangeRequired));
        }
        Ok(ApiCaller {
            caller: session.caller,
            token,
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Rejects state-changing cookie-authenticated requests without the matching CSRF token.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    if token_of(headers).is_some_and(|(_, bearer)| bearer) {
        return next.run(req).await;
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    // Logging in over the API with JSON needs no token: a cross-site page cannot send JSON
    // without a CORS preflight, which Yinling never grants.
    if req.uri().path() == "/api/v1/session" && req.method() == Method::POST && is_json {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    // Signed in: the token must be the one stored with the session (a planted cookie does
    // not help). Before login (the login form itself): the double-submit cookie.
    let expected = match cookies::get(headers, cookies::SESSION) {
        Some(token) => match state.app.accounts().session_csrf(&token).await {
            Ok(Some(csrf)) => Some(csrf),
            Ok(None) => cookies::get(headers, cookies::CSRF),
            Err(e) => {
                tracing::error!(error = %e, "csrf lookup failed");
                None
            }
        },
        None => cookies::get(headers, cookies::CSRF),
    };
    let Some(expected) = expected else {
        return csrf_failure(api);
    };
    if let Some(sent) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        if constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            return next.run(req).await;
        }
        return csrf_failure(api);
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    // A file upload form carries the token as its `csrf_token` field.
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::kernel::multipart::boundary);
    if !is_form && multipart.is_none() {
        return csrf_failure(api);
    }
    let (parts, body) = req.into_parts();
    let limit = if multipart.is_some() {
        crate::kernel::multipart::MAX_UPLOAD_BODY
    } else {
        2 * 1024 * 1024
    };
    let Ok(bytes) = to_bytes(body, limit).await else {
        if multipart.is_some() {
            return crate::ui::message_page(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "文件太大",
                "上传的文件超过5MB。照片请换一张小一些的；表格请分成几个文件，分别导入。",
            );
        }
        return csrf_failure(api);
    };
    let sent = match &multipart {
        Some(b) => crate::kernel::multipart::parse(&bytes, b)
            .into_iter()
            .find(|p| p.name == "csrf_token")
            .map(|p| String::from_utf8_lossy(p.data).into_owned()),
        None => serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == "csrf_token")
                    .map(|(_, v)| v)
            }),
    };
    match sent {
        Some(s) if constant_time_eq(s.as_bytes(), expected.as_bytes()) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => csrf_failure(api),
    }
}

fn csrf_failure(api: bool) -> Response {
    if api {
        ApiError::from(AppError::Forbidden {
            message: "请求缺少有效的CSRF令牌".into(),
        })
        .into_response()
    } else {
        crate::ui::message_page(
            axum::http::StatusCode::FORBIDDEN,
            "页面已过期",
            "为了您的账号安全，这个页面需要重新打开。请返回上一页，刷新后再提交；如果仍不行，请重新登录。",
        )
    }
}
