//! Login, logout, password change, 长辈模式 switch, session keep-alive.

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use yinling_app::AppError;

use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{FormError, Layout, PageCtx, anonymous_layout, render, see_other};
use crate::{
    AppState,
    kernel::{cookies, session},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/account", get(account_page))
        .route(
            "/account/password",
            get(password_page).post(change_password),
        )
        .route("/elder-mode", post(elder_mode))
        .route("/session/ping", post(ping))
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    l: Layout,
    next: String,
    username: String,
    error: Option<String>,
    expired: bool,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// Where to go after login or the 长辈模式 switch: `next` if it is a path on this site
/// ([`local_path`]), else the home page.
fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or("/").to_owned()
}

/// The longest redirect target kept (a page address with its query fits easily).
const MAX_TARGET: usize = 2048;

/// The one rule for every redirect target: `target` if it is a path on this site, else
/// `None`. Accepted: `/` alone, or a single `/` followed by a character other than `/` or
/// `\`, made of visible ASCII only (no control characters, spaces or raw non-ASCII — a
/// browser sends those percent-encoded), without `\`, at most [`MAX_TARGET`] bytes — and
/// the same holds after each round of percent-decoding, so `/%09/evil.example` (a tab the
/// browser drops, leaving `//evil.example`), `/%2F%2Fevil`, `/%5Cevil` and encoded CR/LF are
/// refused however often they are encoded. What is accepted is also a valid header value, so
/// a redirect never fails.
pub(crate) fn local_path(target: &str) -> Option<&str> {
    let local = |p: &str| {
        let mut bytes = p.bytes();
        bytes.next() == Some(b'/') && !matches!(bytes.next(), Some(b'/' | b'\\'))
    };
    if target.len() > MAX_TARGET || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let mut text = std::borrow::Cow::Borrowed(target);
    // Decode until nothing changes; a target still changing after eight rounds is no page
    // address of ours.
    for _ in 0..8 {
        if !local(&text) || text.contains('\\') || text.chars().any(char::is_control) {
            return None;
        }
        let decoded = urlencoding::decode_binary(text.as_bytes());
        if *decoded == *text.as_bytes() {
            return Some(target);
        }
        let decoded = String::from_utf8_lossy(&decoded).into_owned();
        text = std::borrow::Cow::Owned(decoded);
    }
    None
}

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let (csrf, set_cookie) = match cookies::get(&headers, cookies::CSRF) {
        Some(c) => (c, None),
        None => {
            let c = yinling_app::accounts::new_token();
            let set = cookies::set(cookies::CSRF, &c, state.config.secure_cookies, None);
            (c, Some(set))
        }
    };
    let page = LoginPage {
        l: anonymous_layout(&state, &headers, "登录", csrf, "/login"),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
        expired: q.expired.is_some(),
    };
    let mut resp = render(&page);
    if let Some(set) = set_cookie
        && let Ok(v) = set.parse()
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> Response {
    let ip = session::client_ip(&parts);
    let ua = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match state
        .app
        .accounts()
        .login(&form.username, &form.password, ip, ua)
        .await
    {
        Ok(s) => {
            let next = if s.must_change_password {
                "/account/password".to_owned()
            } else {
                safe_next(form.next.as_deref())
            };
            let secure = state.config.secure_cookies;
            let mut resp = see_other(&next);
            let h = resp.headers_mut();
            for c in [
                cookies::set(cookies::SESSION, &s.token, secure, None),
                cookies::set(cookies::CSRF, &s.csrf_token, secure, None),
                cookies::set(
                    cookies::ELDER,
                    if s.elder_mode { "1" } else { "0" },
                    secure,
                    Some(31_536_000),
                ),
            ] {
                if let Ok(v) = c.parse() {
                    h.append(header::SET_COOKIE, v);
                }
            }
            resp
        }
        Err(e) => {
            let message = match &e {
                AppError::LoginFailed { message } => message.clone(),
                other => other.to_string(),
            };
            let csrf = cookies::get(&parts.headers, cookies::CSRF).unwrap_or_default();
            let page = LoginPage {
                l: anonymous_layout(&state, &parts.headers, "登录", csrf, "/login"),
                next: safe_next(form.next.as_deref()),
                username: form.username,
                error: Some(message),
                expired: false,
            };
            let mut resp = render(&page);
            *resp.status_mut() = StatusCode::UNAUTHORIZED;
            resp
        }
    }
}

async fn logout(State(state): State<AppState>, ctx: PageCtx) -> Response {
    if let Err(e) = state.app.accounts().logout(&ctx.caller, &ctx.token).await {
        tracing::warn!(error = %e, "logout failed");
    }
    let mut resp = see_other("/login");
    for c in [
        cookies::clear(cookies::SESSION),
        cookies::clear(cookies::CSRF),
    ] {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    l: Layout,
    caller: yinling_app::Caller,
}

async fn account_page(ctx: PageCtx) -> Response {
    render(&AccountPage {
        l: ctx.layout("我的账号", "account"),
        caller: ctx.caller,
    })
}

#[derive(Template)]
#[template(path = "accounts/password.html")]
struct PasswordPage {
    l: Layout,
    forced: bool,
    error: Option<FormError>,
}

async fn password_page(State(state): State<AppState>, ctx: PageCtx) -> Response {
    let forced = must_change(&state, &ctx).await;
    render(&PasswordPage {
        l: ctx.layout("修改密码", "account"),
        forced,
        error: None,
    })
}

async fn must_change(state: &AppState, ctx: &PageCtx) -> bool {
    match ctx.caller.account_id {
        Some(id) => state
            .app
            .accounts()
            .by_id(id)
            .await
            .ok()
            .flatten()
            .is_some_and(|a| a.must_change_password),
        None => false,
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    old_password: String,
    new_password: String,
    confirm_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<PasswordForm>,
) -> Response {
    let result = if form.new_password != form.confirm_password {
        Err(AppError::invalid(
            "password_mismatch",
            "confirm_password",
            "两次输入的新密码不一致",
        ))
    } else {
        state
            .app
            .accounts()
            .change_password(
                &ctx.caller,
                &ctx.token,
                &form.old_password,
                &form.new_password,
            )
            .await
    };
    match result {
        Ok(()) => see_other("/?ok=password"),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) => {
                let forced = must_change(&state, &ctx).await;
                let mut resp = render(&PasswordPage {
                    l: ctx.layout("修改密码", "account"),
                    forced,
                    error: Some(fe),
                });
                *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                resp
            }
            None => crate::ui::kernel::error_page(&e),
        },
    }
}

#[derive(Deserialize)]
struct ElderForm {
    on: String,
    next: Option<String>,
}

/// Turns 长辈模式 on or off: remembered in a cookie, and on the account when signed in.
async fn elder_mode(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ElderForm>,
) -> Response {
    let on = form.on == "1";
    if let Some((token, _)) = session::token_of(&headers)
        && let Ok(s) = state.app.accounts().authenticate(&token, None).await
        && let Err(e) = state.app.accounts().set_elder_mode(&s.caller, on).await
    {
        tracing::warn!(error = %e, "could not save elder mode");
    }
    let mut resp = see_other(&safe_next(form.next.as_deref()));
    let cookie = cookies::set(
        cookies::ELDER,
        if on { "1" } else { "0" },
        state.config.secure_cookies,
        Some(31_536_000),
    );
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// Called by the page script while the user is active, so a session does not end while
/// someone is still reading or typing.
async fn ping(_ctx: PageCtx) -> impl IntoResponse {
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn redirect_targets_stay_on_the_site() {
        for ok in [
            "/",
            "/people",
            "/people?q=%E5%BC%A0&page=2",
            "/login?next=%2Fpeople%3Fq%3D%25E5%25BC%25A0",
            "/people?q=100%25",
        ] {
            assert_eq!(local_path(ok), Some(ok), "{ok}");
        }
        let long = format!("/{}", "a".repeat(5000));
        for bad in [
            "",
            "people",
            "//evil.example",
            "/\\evil.example",
            "/%09/evil.example",
            "/\t/evil.example",
            "\t/evil",
            "/%2F%2Fevil",
            "/%2f/evil",
            "/%252F%252Fevil",
            "/%5Cevil",
            "/a%5Cb",
            "https://evil.example",
            "/ok%0d%0aSet-Cookie:x",
            "/ok\r\nSet-Cookie:x",
            "/ok%00",
            "/a b",
            "/张三",
            long.as_str(),
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
