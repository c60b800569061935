//! The web crate's integration tests: one binary (so a change relinks once), a module per
//! capability, with the browser-like client they share in `support/`. On the backend the run
//! selected (SQLite by default; PostgreSQL when YINLING_TEST_DATABASE_URL is set).

mod support;

mod accounts;
mod isolation;
mod jobs;
mod kernel;
mod ledger_http;
mod ledger_pages;
mod mediation;
mod menu;
mod needs;
mod openapi_snapshot;
mod orders;
mod people;
mod request_id;
mod services;
