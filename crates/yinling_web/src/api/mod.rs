//! The JSON API, version 1. Every handler is annotated for OpenAPI and registered through
//! `utoipa_axum::routes!`, so the served document is built from the very route table the
//! server runs.

mod audit;
mod extract;
mod ledger;
mod mediation;
mod needs;
mod orders;
mod org;
mod people;
mod session;
mod tags;
mod users;

use std::sync::OnceLock;

use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::router::OpenApiRouter;

use crate::{AppState, error::ErrorBody};

pub use extract::{ApiJson, ApiPath, ApiQuery};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "银龄 Yinling API",
        version = "1",
        description = "党建引领基层治理平台的数据接口。身份证号码与手机号码默认脱敏；完整查看须有权限并记入审计日志。所有列表都只返回调用者组织范围内的数据。"
    ),
    components(schemas(ErrorBody, Created)),
    modifiers(&SecurityAddon),
    security(("bearer" = []), ("cookie" = []))
)]
struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::cookies::SESSION,
                "登录后的会话Cookie；此时写操作须带 X-CSRF-Token 请求头",
            ))),
        );
    }
}

/// The id of something just created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub county_code: Option<i64>,
    pub id: i64,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::router())
        .merge(org::router())
        .merge(people::router())
        .merge(tags::router())
        .merge(users::router())
        .merge(audit::router())
        .merge(orders::router())
        .merge(needs::router())
        .merge(mediation::router())
        .merge(ledger::router())
}

/// The OpenAPI document (built once).
pub fn openapi() -> utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| router().into_openapi()).clone()
}
