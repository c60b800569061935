//! The OpenAPI document's frame: its title, the schemas no handler names, the two ways to
//! authenticate, and the error answers every operation shares.

use std::sync::OnceLock;

use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use yinling_domain::{
    ledger::Unit,
    person::PersonRoleKind,
    service::{OrderAction, OrderState, ProviderKind},
};

use super::Created;
use crate::kernel::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "银龄 Yinling API",
        version = "1",
        description = "党建引领基层治理平台的数据接口。身份证号码与手机号码默认脱敏；完整查看须有权限并记入审计日志。所有列表都只返回调用者组织范围内的数据。"
    ),
    // Schemas named only by parameters are not collected from the handlers; list them here.
    components(schemas(ErrorBody, Created, OrderState, OrderAction, ProviderKind, PersonRoleKind, Unit)),
    modifiers(&SecurityAddon),
    security(("bearer" = []), ("cookie" = []))
)]
pub(crate) struct ApiDoc;

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
                crate::kernel::cookies::SESSION,
                "登录后的会话Cookie；此时写操作须带 X-CSRF-Token 请求头",
            ))),
        );
    }
}

/// The OpenAPI document (built once), with the shared error answers of every operation.
pub fn openapi() -> utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = crate::api::router().into_openapi();
        ErrorResponses.modify(&mut doc);
        doc
    })
    .clone()
}

/// Adds to every operation the error answers the web tier itself can give, each with the one
/// error envelope ([`ErrorBody`]), unless the operation already describes that status:
/// - 401 and 403 everywhere: no or an expired session; a role without the permission, an
///   initial password still to change, or a cookie write without its CSRF token (the login
///   included: it is exempt only as JSON);
/// - 400 where the request carries anything to read (an unreadable body, a non-numeric id in
///   the path, a malformed query parameter);
/// - 404 and 422 where it names something or sends values (out of scope answers like
///   missing; a value that breaks a rule);
/// - 409 on every write (a stale `version`, a duplicate, a step the state does not allow).
///
/// The anonymous login names nothing stored, so it gets neither 404 nor 409.
struct ErrorResponses;

impl ErrorResponses {
    const ANSWERS: [(&'static str, &'static str, &'static str); 6] = [
        (
            "400",
            "BadRequest",
            "请求无法读取：JSON格式有误，或地址、查询参数的格式不正确",
        ),
        (
            "401",
            "Unauthorized",
            "未登录、会话已过期，或用户名或密码不正确",
        ),
        (
            "403",
            "Forbidden",
            "无权进行此操作，须先修改初始密码，或缺少CSRF令牌",
        ),
        ("404", "NotFound", "不存在或您无权查看"),
        (
            "409",
            "Conflict",
            "与当前状态冲突：数据已被他人修改、重复登记，或当前状态不允许",
        ),
        (
            "422",
            "Unprocessable",
            "内容不符合要求（错误说明中指出哪一项）",
        ),
    ];
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            ContentBuilder, Ref, RefOr, ResponseBuilder, path::HttpMethod,
            security::SecurityRequirement,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description) in Self::ANSWERS {
            components.responses.insert(
                name.to_owned(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build(),
                ),
            );
        }
        for item in openapi.paths.paths.values_mut() {
            for (method, op) in [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Patch, &mut item.patch),
                (HttpMethod::Delete, &mut item.delete),
            ] {
                let Some(op) = op else { continue };
                let reads_input = op.request_body.is_some()
                    || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let write = method != HttpMethod::Get;
                // The login names nothing stored and changes nothing a client could race.
                let anonymous = op
                    .security
                    .as_ref()
                    .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
                for (status, name, _) in Self::ANSWERS {
                    let applies = match status {
                        "401" | "403" => true,
                        "400" | "422" => reads_input,
                        "404" => reads_input && !anonymous,
                        _ => write && !anonymous,
                    };
                    if applies {
                        op.responses
                            .responses
                            .entry(status.to_owned())
                            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                    }
                }
            }
        }
    }
}
