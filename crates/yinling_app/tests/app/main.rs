//! The application crate's integration tests: one binary (so a change relinks once), a module
//! per capability, on the backend the run selected (SQLite by default; PostgreSQL when
//! YINLING_TEST_DATABASE_URL is set). Each test builds its own small city with
//! `yinling_app::testing::TestCity`.

mod accounts;
mod audit;
mod demo;
mod jobs;
mod kernel;
mod ledger;
mod mediation;
mod needs;
mod orders;
mod org;
mod people;
mod support;
mod tracing_spans;
