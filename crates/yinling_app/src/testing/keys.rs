//! Keys for tests: the two numbers a test holds (a county code, an id of any type) as the
//! typed key a use case takes.

use yinling_domain::ids::{Id, IdError, Key};

/// `key(county, id)`: the key of the record `id` in `county`, its type inferred from where
/// it is passed. Panics on numbers no key has (a test's own mistake).
pub fn key<T>(county: impl Into<i64>, id: impl Into<i64>) -> Key<T>
where
    T: Id + TryFrom<i64, Error = IdError>,
{
    let (county, id) = (county.into(), id.into());
    Key::from_parts(county, id).unwrap_or_else(|e| panic!("key {county}/{id}: {e}"))
}
