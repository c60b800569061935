//! Page plumbing shared by every capability's pages: the base [`Layout`] and its menu
//! ([`NavItem`]), the signed-in [`PageCtx`] extractor, rendering, error and message pages,
//! redirects, form errors and `<select>` choices, the template filters, and
//! [`extract`] (`Form`, `Path`, `Query` whose rejections are Chinese error pages).
//! A capability's own pages live in `ui/<capability>/`; the kernel reaches them only through
//! the menu list in `ui/mod.rs` (`nav`) and the redirect rule `accounts::auth::local_path`.

pub mod extract;

use askama::Template;
use axum::{
    extract::{FromRequestParts, OriginalUri},
    http::{StatusCode, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
};
use yinling_app::{AppError, Caller};

use crate::{
    AppState,
    kernel::{cookies, error::status_of, session},
};

/// What the base layout needs on every page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub elder: bool,
    pub csrf: String,
    pub demo: bool,
    /// The signed-in user's display name and role labels.
    pub user: Option<String>,
    pub roles: String,
    pub nav: Vec<NavItem>,
    pub active: &'static str,
    /// Where the 长辈模式 switch returns to.
    pub here: String,
    pub notice: Option<String>,
}

/// One entry of the main menu. Each capability lists its own in its `nav()`; the menu
/// shows them sorted by `rank` (ties keep the order of `ui/mod.rs`):
/// 0 首页, 10–19 organisation and people, 30–39 needs and mediation, 40–49 administration,
/// 50–59 service orders, 60–69 points and the shop, 90 我的账号.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub rank: u16,
    pub href: &'static str,
    pub label: &'static str,
    pub key: &'static str,
}

/// A signed-in page request: the caller, the CSRF token for forms, the layout basics.
pub struct PageCtx {
    pub caller: Caller,
    pub token: String,
    pub layout: Layout,
}

impl PageCtx {
    pub fn layout(&self, title: impl Into<String>, active: &'static str) -> Layout {
        Layout {
            title: title.into(),
            active,
            ..self.layout.clone()
        }
    }
}

/// Notices shown after a redirect (`?ok=...`), so nothing pops up.
fn notice_for(query: Option<&str>) -> Option<String> {
    let code = query?.split('&').find_map(|kv| kv.strip_prefix("ok="))?;
    let text = match code {
        "saved" => "已保存。",
        "created" => "已创建。",
        "removed" => "已移除。",
        "password" => "密码已修改。",
        "moved" => "已调整隶属关系。",
        "granted" => "已授予角色。",
        "reset" => "密码已重置，请把新的初始密码当面告知本人。",
        "queued" => "已安排立即运行，稍后刷新本页查看结果。",
        _ => return None,
    };
    Some(text.to_owned())
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let here = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.to_string(), |u| u.0.to_string());
        let login = |expired: bool| {
            let next = urlencoding::encode(&here).into_owned();
            let mut to = format!("/login?next={next}");
            if expired {
                to.push_str("&expired=1");
            }
            Redirect::to(&to).into_response()
        };
        let Some((token, _)) = session::token_of(&parts.headers) else {
            return Err(login(false));
        };
        let session = match state
            .app
            .accounts()
            .authenticate(&token, session::client_ip(parts))
            .await
        {
            Ok(s) => s,
            Err(AppError::SessionExpired) => return Err(login(true)),
            Err(AppError::Unauthenticated) => return Err(login(false)),
            Err(e) => return Err(error_page(&e)),
        };
        if session.must_change_password
            && parts.uri.path() != "/account/password"
            && parts.uri.path() != "/logout"
        {
            return Err(Redirect::to("/account/password").into_response());
        }
        let caller = session.caller;
        let elder = caller.elder_mode;
        let roles = caller
            .grants
            .iter()
            .map(|g| format!("{}（{}）", g.role.label_zh(), g.unit_name))
            .collect::<Vec<_>>()
            .join("、");
        let nav = super::nav(&state.app, &caller).await;
        let layout = Layout {
            title: String::new(),
            elder,
            csrf: session.csrf_token,
            demo: state.config.demo,
            user: Some(caller.display_name.clone()),
            roles,
            nav,
            active: "",
            notice: notice_for(parts.uri.query()),
            here,
        };
        Ok(PageCtx {
            caller,
            token,
            layout,
        })
    }
}

/// Layout for pages shown before login.
pub fn anonymous_layout(
    state: &AppState,
    parts_headers: &axum::http::HeaderMap,
    title: &str,
    csrf: String,
    here: &str,
) -> Layout {
    Layout {
        title: title.to_owned(),
        elder: cookies::get(parts_headers, cookies::ELDER).as_deref() == Some("1"),
        csrf,
        demo: state.config.demo,
        user: None,
        roles: String::new(),
        nav: Vec::new(),
        active: "",
        here: here.to_owned(),
        notice: None,
    }
}

/// Renders a template, or an error page if rendering fails.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "出错了",
                "页面暂时无法显示，请稍后再试。",
            )
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    l: Layout,
    heading: &'a str,
    body: &'a str,
    /// 请求编号, for the helpdesk.
    request_id: Option<String>,
}

/// A plain page with one message and a way back, for errors outside a session.
pub fn message_page(status: StatusCode, heading: &str, body: &str) -> Response {
    let l = Layout {
        title: heading.to_owned(),
        elder: false,
        csrf: String::new(),
        demo: false,
        user: None,
        roles: String::new(),
        nav: Vec::new(),
        active: "",
        here: "/".into(),
        notice: None,
    };
    let html = MessagePage {
        l,
        heading,
        body,
        request_id: crate::kernel::request_id::current(),
    }
    .render()
    .unwrap_or_else(|_| body.to_owned());
    (status, Html(html)).into_response()
}

/// An application error as a page.
pub fn error_page(e: &AppError) -> Response {
    let status = status_of(e);
    if let AppError::Internal(detail) = e {
        tracing::error!(%detail, "internal error");
    }
    let heading = match status {
        StatusCode::NOT_FOUND => "没有找到",
        StatusCode::FORBIDDEN => "无权操作",
        StatusCode::CONFLICT => "无法保存",
        StatusCode::UNPROCESSABLE_ENTITY => "填写有误",
        _ => "出错了",
    };
    message_page(status, heading, &e.to_string())
}

/// A page handler's result: a page, or an error shown as a page.
pub type PageResult = Result<Response, PageError>;

pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(&self.0)
    }
}

/// A re-rendered form with the status of what refused it (422 for bad input, 409 for a
/// conflict …).
pub fn with_status(mut resp: Response, failed: Option<StatusCode>) -> Response {
    if let Some(s) = failed {
        *resp.status_mut() = s;
    }
    resp
}

/// Redirect after a successful form post (POST → redirect → GET). Every target passes
/// [`local_path`](crate::ui::accounts::auth::local_path), so no redirect leaves the site
/// or fails to become a header.
pub fn see_other(to: &str) -> Response {
    let to = crate::ui::accounts::auth::local_path(to).unwrap_or_else(|| {
        tracing::warn!("redirect target refused; sent to /");
        "/"
    });
    Redirect::to(to).into_response()
}

/// Template helpers.
pub mod filters {
    /// Microseconds since the epoch as Shanghai time.
    pub fn datetime(us: &i64) -> askama::Result<String> {
        Ok(yinling_domain::time::format_minutes(*us))
    }

    pub fn opt_datetime(us: &Option<i64>) -> askama::Result<String> {
        Ok(us
            .map(yinling_domain::time::format_minutes)
            .unwrap_or_default())
    }
}

/// The step just done, after a redirect (`?done=accept`), for a notice in words.
#[derive(Debug, serde::Deserialize, Default)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// A form field's error, to show beside it.
#[derive(Debug, Clone, Default)]
pub struct FormError {
    pub field: Option<String>,
    pub message: String,
    /// The status the re-rendered form answers with: 422 for bad input, 409 for a
    /// conflict, 403 for a refusal — a refused form must not pass for a typo.
    pub status: StatusCode,
}

impl FormError {
    pub fn from_app(e: &AppError) -> Option<FormError> {
        match e {
            AppError::Invalid { .. } | AppError::Conflict { .. } | AppError::Forbidden { .. } => {
                Some(FormError {
                    field: e.field().map(str::to_owned),
                    message: e.to_string(),
                    status: crate::kernel::error::status_of(e),
                })
            }
            _ => None,
        }
    }

    pub fn is(&self, field: &str) -> bool {
        self.field.as_deref() == Some(field)
    }
}

/// One option of a `<select>`, with whether it is the current value.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub fn choices<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
    current: &str,
) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == current,
            value: value.to_owned(),
            label: label.to_owned(),
        })
        .collect()
}

/// Empty form text as None.
pub fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
