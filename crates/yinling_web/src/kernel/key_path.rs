//! A record's key read from the `{county}/{id}` of its address, for the pages' [`KeyPath`] and
//! the API's `ApiKey`: the one place a path's two numbers become a typed [`Key`].
//!
//! [`KeyPath`]: crate::ui::kernel::extract::KeyPath

use axum::{
    extract::{FromRequestParts, RawPathParams},
    http::request::Parts,
};
use yinling_app::AppError;
use yinling_domain::ids::{Id, IdError, Key};

/// Why a path names no record.
pub(crate) enum KeyPathError {
    /// `county` or `id` is missing or not a number (`/people/abc/1`).
    Malformed,
    /// Two numbers no record can have (an id ≤ 0, a county code that is no code): the record
    /// is not found, exactly as an id that does not exist.
    Impossible(AppError),
}

/// The key that the route's `{county}` and `{id}` name.
pub(crate) async fn read<T, S>(parts: &mut Parts, state: &S) -> Result<Key<T>, KeyPathError>
where
    T: Id + TryFrom<i64, Error = IdError>,
    S: Send + Sync,
{
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| KeyPathError::Malformed)?;
    let number = |name: &str| {
        params
            .iter()
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value.parse::<i64>().ok())
    };
    let (Some(county), Some(id)) = (number("county"), number("id")) else {
        return Err(KeyPathError::Malformed);
    };
    yinling_app::kernel::key::found(county, id, T::NOUN).map_err(KeyPathError::Impossible)
}
