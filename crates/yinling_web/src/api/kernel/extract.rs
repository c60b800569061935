//! Extractors whose rejections are the API's JSON errors, not axum's plain text.

use axum::{
    extract::{FromRequest, FromRequestParts},
    http::request::Parts,
};
use yinling_domain::ids::{Id, IdError, Key};

use crate::kernel::{
    error::ApiError,
    key_path::{self, KeyPathError},
};

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// The key of the record a route's `{county}/{id}` names: a path that is not two numbers is a
/// 400 `invalid_path`, as for [`ApiPath`]; numbers no record can have are that record's 404.
pub struct ApiKey<T>(pub Key<T>);

impl<T, S> FromRequestParts<S> for ApiKey<T>
where
    T: Id + TryFrom<i64, Error = IdError> + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match key_path::read(parts, state).await {
            Ok(key) => Ok(ApiKey(key)),
            Err(KeyPathError::Malformed) => Err(ApiError::bad_request(
                "invalid_path",
                "地址中的编号格式不正确",
                None,
            )),
            Err(KeyPathError::Impossible(e)) => Err(e.into()),
        }
    }
}
