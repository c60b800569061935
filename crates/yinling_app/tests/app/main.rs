//! The application crate's integration tests: one binary (so a change relinks once), a module
//! per capability, on the backend the run selected (SQLite by default; PostgreSQL when
//! YINLING_TEST_DATABASE_URL is set). Each test builds its own small city with
//! `yinling_app::testing::TestCity`.

mod app;
mod jobs;
mod ledger;
mod mediation;
mod needs;
mod orders;
mod tracing_spans;
