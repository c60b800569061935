//! The served OpenAPI document against a committed snapshot (`data/openapi.json`, pretty-printed
//! with sorted keys). The wire is not the table: the API's bodies are their own types
//! (`src/api/<capability>/types.rs`), so renaming a storage column or a field of an app view
//! leaves this file unchanged; a change to the wire shows here as a diff to review and explain.
//!
//! Regenerate after an intended change with `UPDATE_SNAPSHOTS=1 cargo test -p yinling_web
//! --test web openapi_snapshot`.

use std::path::PathBuf;

use serde_json::Value;
use yinling_app::testing::TestCity;
use yinling_web::{AppState, WebConfig, router};

use crate::support::Client;

/// The same value with every object's keys in sorted order, whatever map the JSON uses.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[tokio::test]
async fn the_served_openapi_document_matches_the_snapshot() {
    let city = TestCity::new().await;
    let app = router(AppState::new(city.app.clone(), WebConfig::default()));
    let doc = Client::new(app).get("/api/openapi.json").await.json();
    let served = serde_json::to_string_pretty(&sorted(doc)).unwrap() + "\n";

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/web/data/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &served).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if served != committed {
        let first = served
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| served.lines().count().min(committed.lines().count()));
        let around = |text: &str| {
            text.lines()
                .skip(first.saturating_sub(3))
                .take(8)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "the served /api/openapi.json differs from tests/web/data/openapi.json from line {}:\n\
             --- committed\n{}\n+++ served\n{}\n\
             If the change to the wire is intended, regenerate the snapshot with \
             UPDATE_SNAPSHOTS=1 cargo test -p yinling_web --test web openapi_snapshot \
             and explain the change in the commit message.",
            first + 1,
            around(&committed),
            around(&served),
        );
    }
}
