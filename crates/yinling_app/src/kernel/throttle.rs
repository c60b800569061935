//! Limits on attempts that could be repeated to guess or mine something: exact searches by a
//! full ID number or phone, wrong redemption codes. Counts live in the database
//! (`yinling_store::accounts::throttle`), so every server process of a deployment shares them, and each
//! hit is committed on its own: a refused attempt still counts.

use yinling_store::accounts::throttle as store_throttle;

use crate::{App, AppError, AppResult, kernel::clock::MINUTE};

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

/// Attempt limits, reached as [`App::throttle`].
#[derive(Clone, Copy)]
pub struct Throttle<'a> {
    app: &'a App,
}

impl App {
    /// Limits on repeated attempts, counted in the database so every process shares them.
    pub fn throttle(&self) -> Throttle<'_> {
        Throttle { app: self }
    }
}

impl Throttle<'_> {
    /// Counts one attempt by `subject` and refuses it when it goes over the limit. The count
    /// is committed before the attempt itself runs, so an attempt that then fails still counts.
    pub async fn hit(self, limit: &Limit, subject: &str) -> AppResult<Counted> {
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
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
    /// limits that count failures only: check first, count with [`Throttle::hit`] on failure).
    pub async fn check(self, limit: &Limit, subject: &str) -> AppResult<()> {
        let now = self.app.now();
        match store_throttle::peek(
            &mut self.app.store().read(),
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
    pub async fn until(self, limit: &Limit, subject: &str) -> AppResult<Option<i64>> {
        let now = self.app.now();
        Ok(store_throttle::peek(
            &mut self.app.store().read(),
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
    pub async fn purge(self) -> AppResult<u64> {
        let mut tx = self.app.store().begin().await?;
        let n = store_throttle::purge(&mut tx.exec(), self.app.now() - 24 * 60 * MINUTE).await?;
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
