//! Counted attempts in a fixed window per (bucket, subject): how often an account searched by
//! a full ID number, how many wrong redemption codes a till or an address typed. The window
//! starts at the first hit and lasts `window` microseconds; a hit after it starts a new one.
//! Every process of a deployment counts in the same row, so a limit holds however many web
//! servers there are.

use crate::{Exec, Micros, Result, q};

/// The hits counted in the current window, and when it began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Hits {
    pub hits: i64,
    pub window_start: Micros,
}

/// Counts one hit and returns the window's count including it. One statement, so two
/// simultaneous hits are both counted (the row lock on PostgreSQL, the single writer on SQLite).
pub async fn hit(
    exec: &mut Exec<'_>,
    bucket: &str,
    subject: &str,
    now: Micros,
    window: Micros,
) -> Result<Hits> {
    exec.fetch_one(q!(
        "INSERT INTO throttles (bucket, subject, window_start, hits) VALUES ($1, $2, $3, 1)
         ON CONFLICT (bucket, subject) DO UPDATE SET
             hits = CASE WHEN throttles.window_start <= $4 THEN 1 ELSE throttles.hits + 1 END,
             window_start = CASE WHEN throttles.window_start <= $4 THEN $3
                                 ELSE throttles.window_start END
         RETURNING hits, window_start",
        bucket,
        subject,
        now,
        now - window
    ))
    .await
}

/// The hits of the current window, without counting one (`None`: none in the window).
pub async fn peek(
    exec: &mut Exec<'_>,
    bucket: &str,
    subject: &str,
    now: Micros,
    window: Micros,
) -> Result<Option<Hits>> {
    exec.fetch_optional(q!(
        "SELECT hits, window_start FROM throttles
          WHERE bucket = $1 AND subject = $2 AND window_start > $3",
        bucket,
        subject,
        now - window
    ))
    .await
}

/// Forgets a subject's count (a lock lifted by someone who may).
pub async fn clear(exec: &mut Exec<'_>, bucket: &str, subject: &str) -> Result<u64> {
    exec.execute(q!(
        "DELETE FROM throttles WHERE bucket = $1 AND subject = $2",
        bucket,
        subject
    ))
    .await
}

/// Deletes windows that began before `before` (every limit's window is shorter).
pub async fn purge(exec: &mut Exec<'_>, before: Micros) -> Result<u64> {
    exec.execute(q!("DELETE FROM throttles WHERE window_start < $1", before))
        .await
}
