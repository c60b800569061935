//! The store crate's integration tests: one binary, a module per concern, on SQLite by default
//! and on PostgreSQL when YINLING_TEST_DATABASE_URL is set.

mod ledger_chains;
mod migrations;
mod story;
