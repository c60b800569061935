//! Keys from the numbers a path, a form or another capability's table holds: the one place a
//! pair of numbers becomes a [`Key`], and what an impossible pair means.

use yinling_domain::{
    ids::{Id, IdError, Key},
    region::CountyCode,
};

use crate::{AppError, AppResult};

/// The record `what` (人员, 组织 …) that a path or a form names by two numbers. Numbers no
/// record can have (an id ≤ 0, a county code that is no code) name nothing, so they answer as
/// that record not found, exactly as an id that does not exist.
pub fn found<T>(county: i64, id: i64, what: &'static str) -> AppResult<Key<T>>
where
    T: Id + TryFrom<i64, Error = IdError>,
{
    Key::from_parts(county, id).map_err(|_| AppError::NotFound { what })
}

/// A key read back from a column that holds two numbers: an impossible pair there is a broken
/// row, an internal error.
pub(crate) fn stored<T>(county: i64, id: i64) -> AppResult<Key<T>>
where
    T: Id + TryFrom<i64, Error = IdError>,
{
    Key::from_parts(county, id).map_err(|e| AppError::Internal(format!("key {county}/{id}: {e}")))
}

/// A county code read back from a column or a constant: an impossible one is an internal error.
pub(crate) fn stored_county(code: i64) -> AppResult<CountyCode> {
    CountyCode::from_i64(code).map_err(|e| AppError::Internal(e.to_string()))
}
