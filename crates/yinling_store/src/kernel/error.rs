use thiserror::Error;

/// What storage can report. Callers map `NotFound` and `Conflict` to user errors; the
/// rest are internal faults whose detail is logged, never shown.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write; `constraint` names it when the
    /// backend says which.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// Another writer changed the row first (optimistic version check failed).
    #[error("stale version")]
    Stale,
    #[error("database error: {0}")]
    Database(String),
    #[error("migration failed: {0}")]
    Migrate(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl StoreError {
    pub(crate) fn from_sqlx(err: sqlx::Error, sql: &str) -> StoreError {
        match err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => {
                let unique = db.is_unique_violation() || db.is_foreign_key_violation();
                // SQLite reports "UNIQUE constraint failed: people.county_code, people.id_bidx".
                let constraint = db
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned());
                if unique {
                    StoreError::Conflict { constraint }
                } else {
                    let first_line = sql.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                    StoreError::Database(format!("{} [{}]", db.message(), first_line.trim()))
                }
            }
            other => StoreError::Database(other.to_string()),
        }
    }

    pub fn is_conflict_on(&self, needle: &str) -> bool {
        matches!(self, StoreError::Conflict { constraint } if constraint.contains(needle))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::from_sqlx(err, "")
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
