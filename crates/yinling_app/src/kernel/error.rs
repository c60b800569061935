//! The application's error: what a user did wrong (with a Chinese message and the field it
//! concerns), what they may not do, or an internal fault whose detail is logged, not shown.

use yinling_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input. `field` names the form or JSON field when there is one.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// Not there — or not in the caller's scope, which must look the same.
    #[error("{what}不存在或您无权查看")]
    NotFound { what: &'static str },
    #[error("{message}")]
    Forbidden { message: String },
    /// The write collides with existing data (duplicate, stale version).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("请先登录")]
    Unauthenticated,
    #[error("长时间未操作，为保护您的信息已自动退出，请重新登录")]
    SessionExpired,
    #[error("{message}")]
    LoginFailed { message: String },
    #[error("为了账号安全，请先修改初始密码")]
    PasswordChangeRequired,
    /// Too many attempts in a short time (see `throttle`); `until` is when it lifts.
    #[error("{message}")]
    TooMany { message: String, until: i64 },
    #[error("系统内部错误，请稍后再试")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AppError::Invalid {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden {
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, field: Option<&str>, message: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }

    /// A stable machine code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { code, .. } | AppError::Conflict { code, .. } => code,
            AppError::NotFound { .. } => "not_found",
            AppError::Forbidden { .. } => "forbidden",
            AppError::Unauthenticated => "unauthenticated",
            AppError::SessionExpired => "session_expired",
            AppError::LoginFailed { .. } => "login_failed",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::TooMany { .. } => "too_many_attempts",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } | AppError::Conflict { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Stale => {
                AppError::conflict("stale", None, "该记录已被他人修改，请刷新后重新填写")
            }
            StoreError::NotFound => AppError::Internal("row vanished".into()),
            other => AppError::Internal(other.to_string()),
        }
    }
}
