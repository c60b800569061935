#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod demo;
pub mod jobs;
pub mod kernel;
pub mod ledger;
pub mod mediation;
pub mod needs;
pub mod orders;
pub mod org;
pub mod people;
pub mod redeem;
pub mod services;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod time_bank;

use std::sync::Arc;

pub use kernel::{
    caller::{Caller, Grant},
    clock::Clock,
    error::{AppError, AppResult},
    paging::{Page, PageRequest},
    settings::Settings,
    vault::Vault,
};
pub use yinling_domain::ids::Key;
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
    files: std::sync::RwLock<kernel::files::FileStore>,
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
                files: std::sync::RwLock::new(kernel::files::FileStore::default()),
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
    pub fn files(&self) -> kernel::files::FileStore {
        self.inner
            .files
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Chooses where photos and attachments are kept (at startup).
    pub fn set_files(&self, store: kernel::files::FileStore) {
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
