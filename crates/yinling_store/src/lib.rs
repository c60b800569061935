#![doc = include_str!("../README.md")]

// One line per capability: its rows and its SQL.
pub mod accounts;
pub mod jobs;
pub mod ledger;
pub mod mediation;
pub mod needs;
pub mod orders;
pub mod org;
pub mod people;
pub mod redeem;
pub mod services;

// What every capability shares.
pub mod kernel;

pub use kernel::{
    Result, StoreError,
    db::Exec,
    store::{Backend, Micros, Store, StoreOptions, Tx, lock_key, meta_get, meta_init, sqlite_path},
};

// Per-test databases (feature `test-support`), at the top for the tests of every crate.
#[cfg(feature = "test-support")]
pub use kernel::testing;

// The raw query builder: crate-private, public only with the feature `test-support`, the
// tests' escape to read and break the database directly (kernel/db.rs says more).
#[cfg(feature = "test-support")]
pub use kernel::db::{self, Arg, Query};
#[cfg(not(feature = "test-support"))]
pub(crate) use kernel::db::{self, Query, q};
