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
    db::{Arg, Exec, Query},
    store::{Backend, Micros, Store, StoreOptions, Tx, lock_key, meta_get, meta_init, sqlite_path},
};

// The paths other crates imported before the capability folders, kept so the move renamed
// nothing they use (see README.md, "Paths").
pub use accounts::{caller, sessions, throttle};
#[cfg(feature = "test-support")]
pub use kernel::testing;
pub use kernel::{audit, db, ids, scope};
pub use org::{places, regions};
pub use people::tags;
pub use redeem::shops;
