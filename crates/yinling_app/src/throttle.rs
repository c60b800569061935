//! Limits on attempts that could be repeated to guess or mine something: exact searches by a
//! full ID number or phone, wrong redemption codes. Counts live in the database
//! (`yinling_store::throttle`), so every server process of a deployment shares them, and each
//! hit is committed on its own: a refused attempt still counts.

use yinling_store::throttle as store_throttle;

use crate::{App, AppError, AppResult, clock::MINUTE};

/// At most `max` hits per subject in a window of `window_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What is counted (`exact_search`, `redeem_wrong_code_till`…); one namespace per limit.
    pub bucket: &'static str,
    pub max: i64,
    pub window_minutes: i64,
}

impl Limit {
    fn window(&self) -> i64 {
        self.window_minutes * MINUTE
    }
}

/// The outcome of counting a hit that was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Hits in the current window, this one included.
    pub hits: i64,
    /// How many more the window allows.
    pub left: i64,
}

impl App {
    /// Counts one attempt by `subject` and refuses it when it goes over the limit. The count
    /// is committed before the attempt itself runs, so an attempt that then fails still counts.
    pub async fn throttle(&self, limit: &Limit, subject: &str) -> AppResult<Counted> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let h =
            store_throttle::hit(&mut tx.exec(), limit.bucket, subject, now, limit.window()).await?;
        tx.commit().await?;
        if h.hits > limit.max {
            return Err(too_many(h.window_start + limit.window()));
        }
        Ok(Counted {
            hits: h.hits,
            left: limit.max - h.hits,
        })
    }

    /// Refuses when `subject` has already used up the limit, without counting anything (for
    /// limits that count failures only: check first, count with [`App::throttle`] on failure).
    pub async fn throttle_check(&self, limit: &Limit, subject: &str) -> AppResult<()> {
        let now = self.now();
        match store_throttle::peek(
            &mut self.store().read(),
            limit.bucket,
            subject,
            now,
            limit.window(),
        )
        .await?
        {
            Some(h) if h.hits >= limit.max => Err(too_many(h.window_start + limit.window())),
            _ => Ok(()),
        }
    }

    /// Whether `subject` is over the limit now (for showing a lock, not for deciding).
    pub async fn throttled_until(&self, limit: &Limit, subject: &str) -> AppResult<Option<i64>> {
        let now = self.now();
        Ok(store_throttle::peek(
            &mut self.store().read(),
            limit.bucket,
            subject,
            now,
            limit.window(),
        )
        .await?
        .filter(|h| h.hits >= limit.max)
        .map(|h| h.window_start + limit.window()))
    }

    /// Deletes counts whose window began more than a day ago (every limit is shorter); run
    /// by `yinling serve` with its other periodic work.
    pub async fn purge_throttles(&self) -> AppResult<u64> {
        let mut tx = self.store().begin().await?;
        let n = store_throttle::purge(&mut tx.exec(), self.now() - 24 * 60 * MINUTE).await?;
        tx.commit().await?;
        Ok(n)
    }
}

fn too_many(until: i64) -> AppError {
    AppError::TooMany {
        message: format!(
            "尝试次数过多，请于{}后再试",
            yinling_domain::time::from_micros(until).format("%H:%M")
        ),
        until,
    }
}
