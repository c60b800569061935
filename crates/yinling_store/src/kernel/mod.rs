//! What every capability shares: the database handle and its executor, errors, ids, the
//! scope predicate and the audit chain.

pub mod audit;
/// Crate-private: the raw query builder and executor. Public only with the feature
/// `test-support`, as the tests' escape (see the module's documentation).
#[cfg(feature = "test-support")]
pub mod db;
#[cfg(not(feature = "test-support"))]
pub(crate) mod db;
mod error;
pub mod ids;
pub mod scope;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{Result, StoreError};
