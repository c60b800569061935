//! Keys of tenant-owned records.

/// A reference to a tenant-owned record (a person, a unit): its county and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
pub struct Key {
    pub county_code: i64,
    pub id: i64,
}

impl From<(i64, i64)> for Key {
    fn from((county_code, id): (i64, i64)) -> Key {
        Key { county_code, id }
    }
}
