//! Page extractors whose rejections are Chinese error pages, not axum's English text.

use axum::{
    extract::{
        FromRequest, FromRequestParts,
        rejection::{FormRejection, PathRejection, QueryRejection},
    },
    http::request::Parts,
};
use yinling_app::AppError;
use yinling_domain::ids::{Id, IdError, Key};

use crate::kernel::key_path;

use super::PageError;

#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(PageError))]
pub struct Form<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(PageError))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(PageError))]
pub struct Query<T>(pub T);

impl From<FormRejection> for PageError {
    fn from(_: FormRejection) -> Self {
        PageError(AppError::Invalid {
            code: "invalid_form",
            message: "表单内容不完整或格式不正确，请返回上一页检查后重新提交".into(),
            field: None,
        })
    }
}

impl From<PathRejection> for PageError {
    fn from(_: PathRejection) -> Self {
        PageError(AppError::NotFound { what: "页面" })
    }
}

impl From<QueryRejection> for PageError {
    fn from(_: QueryRejection) -> Self {
        PageError(AppError::Invalid {
            code: "invalid_query",
            message: "网址中的参数格式不正确".into(),
            field: None,
        })
    }
}

/// The key of the record a page's `{county}/{id}` names. A path that names no record (not a
/// number, or numbers no record can have) is that record's "不存在" page.
pub struct KeyPath<T>(pub Key<T>);

impl<T, S> FromRequestParts<S> for KeyPath<T>
where
    T: Id + TryFrom<i64, Error = IdError> + Send,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, PageError> {
        match key_path::read(parts, state).await {
            Ok(key) => Ok(KeyPath(key)),
            Err(_) => Err(PageError(AppError::NotFound { what: T::NOUN })),
        }
    }
}
