#![doc = include_str!("../README.md")]

pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod caller;
pub mod clock;
pub mod demo;
pub mod error;
pub mod export;
pub mod files;
pub mod jobs;
pub mod ledger;
pub mod mediation;
pub mod needs;
pub mod orders;
pub mod org;
pub mod people;
pub mod redeem;
pub mod services;
pub mod settings;
pub mod tags;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod text;
pub mod throttle;
pub mod time_bank;
pub mod users;
pub mod vault;

use std::sync::Arc;

pub use caller::{Caller, Grant};
pub use clock::Clock;
pub use error::{AppError, AppResult};
pub use settings::Settings;
pub use vault::Vault;
use yinling_store::Store;

/// The city this deployment serves (济宁市). Paths start with it.
pub const CITY_CODE: &str = "370800";
pub const CITY_COUNTY_CODE: i64 = 370800;

/// Everything a use case needs. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<AppInner>,
}

struct AppInner {
    store: Store,
    vault: Vault,
    settings: Settings,
    clock: Clock,
    pools: orders::PoolCache,
    files: std::sync::RwLock<files::FileStore>,
    ledger: ledger::LedgerWriter,
}

impl App {
    pub fn new(store: Store, vault: Vault, settings: Settings, clock: Clock) -> App {
        App {
            inner: Arc::new(AppInner {
                store,
                vault,
                settings,
                clock,
                pools: orders::PoolCache::default(),
                files: std::sync::RwLock::new(files::FileStore::default()),
                ledger: ledger::LedgerWriter::default(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn vault(&self) -> &Vault {
        &self.inner.vault
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Where photos and attachments are kept (in memory until [`App::set_files`]).
    pub fn files(&self) -> files::FileStore {
        self.inner
            .files
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Chooses where photos and attachments are kept (at startup).
    pub fn set_files(&self, store: files::FileStore) {
        *self.inner.files.write().unwrap_or_else(|e| e.into_inner()) = store;
    }

    /// The in-memory matching pools (caches of the resource list).
    pub fn pools(&self) -> &orders::PoolCache {
        &self.inner.pools
    }

    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }
}

/// `370800/<county>/`: a county's subtree.
pub fn county_path(county: i64) -> yinling_domain::org::OrgPath {
    yinling_domain::org::OrgPath::root(CITY_CODE).child(&county.to_string())
}

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

/// A page request: 1-based page number and page size, clamped to sane bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            per_page: 20,
        }
    }
}

impl PageRequest {
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> PageRequest {
        PageRequest {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(20).clamp(1, 200),
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// One page of results and how many there are in all (capped for very large sets).
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    /// True when `total` stopped counting at the cap ("10000+").
    pub total_is_lower_bound: bool,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}
