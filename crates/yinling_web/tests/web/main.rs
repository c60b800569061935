//! The web crate's integration tests: one binary (so a change relinks once), a module per
//! concern, with the browser-like client they share in `support/`. On the backend the run
//! selected (SQLite by default; PostgreSQL when YINLING_TEST_DATABASE_URL is set).

mod support;

mod http;
mod isolation;
mod ledger_http;
mod ledger_pages;
mod openapi_snapshot;
