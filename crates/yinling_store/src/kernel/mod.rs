//! What every capability shares: the database handle and its executor, errors, ids, the
//! scope predicate and the audit chain.

pub mod audit;
pub mod db;
mod error;
pub mod ids;
pub mod scope;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{Result, StoreError};
