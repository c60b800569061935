//! Logging in over the API, and the caller's own account.

use axum::{
    extract::State,
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::types::{LoginRequest, MeResponse, PasswordRequest, SessionResponse};
use crate::api::kernel::ApiJson;
use crate::{
    AppState,
    kernel::cookies,
    kernel::error::{ApiError, ErrorBody},
    kernel::session::{ApiCaller, client_ip},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

/// Log in. Five wrong passwords in a row lock the account for 15 minutes.
#[utoipa::path(post, path = "/api/v1/session", tag = "账号",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "已登录", body = SessionResponse),
        (status = 401, description = "用户名或密码不正确、账号锁定或停用", body = ErrorBody),
    ),
    security(()))]
async fn login(
    State(state): State<AppState>,
    parts: Parts,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let ua = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let s = state
        .app
        .accounts()
        .login(&req.username, &req.password, client_ip(&parts), ua)
        .await?;
    let secure = state.config.secure_cookies;
    let mut resp = axum::Json(SessionResponse {
        token: s.token.clone(),
        csrf_token: s.csrf_token.clone(),
        must_change_password: s.must_change_password,
    })
    .into_response();
    for c in [
        cookies::set(cookies::SESSION, &s.token, secure, None),
        cookies::set(cookies::CSRF, &s.csrf_token, secure, None),
    ] {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

/// Log out (end this session).
#[utoipa::path(delete, path = "/api/v1/session", tag = "账号",
    responses((status = 204, description = "已退出"), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, c: ApiCaller) -> Result<StatusCode, ApiError> {
    state.app.accounts().logout(&c.caller, &c.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who am I: the account and the roles it holds.
#[utoipa::path(get, path = "/api/v1/me", tag = "账号",
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
async fn me(c: ApiCaller) -> axum::Json<MeResponse> {
    let caller = c.caller;
    axum::Json(MeResponse {
        account_id: caller.account_id,
        username: caller.username,
        display_name: caller.display_name,
        grants: caller.grants.into_iter().map(Into::into).collect(),
        elder_mode: caller.elder_mode,
        person: caller.person.map(|(c, id)| format!("{c}/{id}")),
    })
}

/// Change my password (required after the first login).
#[utoipa::path(post, path = "/api/v1/me/password", tag = "账号",
    request_body = PasswordRequest,
    responses((status = 204, description = "已修改"), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    c: ApiCaller,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .accounts()
        .change_password(&c.caller, &c.token, &req.old_password, &req.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
