//! The only place that reads the system clock. Everything else takes `now` from here, so
//! tests can move time (lockouts, idle timeouts) without sleeping.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use yinling_store::Micros;

#[derive(Debug, Clone)]
pub enum Clock {
    System,
    /// A clock that moves only when told to.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start: Micros) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start)))
    }

    pub fn now(&self) -> Micros {
        match self {
            Clock::System => chrono::Utc::now().timestamp_micros(),
            Clock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    pub fn today(&self) -> chrono::NaiveDate {
        yinling_domain::time::local_date(self.now())
    }

    /// Moves a manual clock forward; no effect on the system clock.
    pub fn advance(&self, micros: Micros) {
        if let Clock::Manual(t) = self {
            t.fetch_add(micros, Ordering::SeqCst);
        }
    }
}

pub const SECOND: Micros = 1_000_000;
pub const MINUTE: Micros = 60 * SECOND;
