//! One error type, two renderings: a JSON envelope with a stable code for the API, an HTML
//! page for people. Internal details are logged, never sent.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;
use yinling_app::AppError;

/// The API's error body: `{"error": {"code", "message", "field", "request_id"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `invalid_id_number_checksum`.
    pub code: String,
    /// What went wrong, in Chinese, for the person at the screen.
    pub message: String,
    /// The input field concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request's id (also in the `x-request-id` header), to quote to the helpdesk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::NotFound { .. } => StatusCode::NOT_FOUND,
        AppError::Forbidden { .. } | AppError::PasswordChangeRequired => StatusCode::FORBIDDEN,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unauthenticated | AppError::SessionExpired | AppError::LoginFailed { .. } => {
            StatusCode::UNAUTHORIZED
        }
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error answered as JSON, with its HTTP status.
#[derive(Debug)]
pub struct ApiError {
    pub error: AppError,
    pub status: StatusCode,
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError {
            status: status_of(&error),
            error,
        }
    }
}

impl ApiError {
    /// A request the server could not even read (malformed JSON, a non-numeric id): 400.
    pub fn bad_request(
        code: &'static str,
        message: impl Into<String>,
        field: Option<&str>,
    ) -> ApiError {
        ApiError {
            error: AppError::Invalid {
                code,
                message: message.into(),
                field: field.map(str::to_owned),
            },
            status: StatusCode::BAD_REQUEST,
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        match r {
            J::MissingJsonContentType(_) => ApiError::bad_request(
                "unsupported_media_type",
                "请求须为JSON（Content-Type: application/json）",
                None,
            ),
            J::JsonDataError(e) => ApiError::from(AppError::Invalid {
                code: "invalid_body",
                message: format!("请求内容不符合要求：{}", e.body_text()),
                field: None,
            }),
            J::JsonSyntaxError(_) => {
                ApiError::bad_request("malformed_json", "请求内容不是有效的JSON", None)
            }
            _ => ApiError::bad_request("bad_request", "无法读取请求内容", None),
        }
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        ApiError::bad_request("invalid_path", "地址中的编号格式不正确", None)
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request(
            "invalid_query",
            format!("查询参数不正确：{}", r.body_text()),
            None,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self.error {
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.error.code().to_owned(),
                message: self.error.to_string(),
                field: self.error.field().map(str::to_owned),
                request_id: crate::kernel::request_id::current(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}
