//! Fixtures the web tests share: a small city behind the router, the text of a workbook, a
//! validator for the served OpenAPI document.

use axum::Router;
use serde_json::Value;
use yinling_app::testing::TestCity;
use yinling_web::{AppState, WebConfig, router};

pub async fn setup() -> (TestCity, Router) {
    let city = TestCity::new().await;
    let app = router(AppState::new(city.app.clone(), WebConfig::default()));
    (city, app)
}

pub fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect::<Vec<_>>()
        .join("|")
}

/// Resolves `$ref`s against the document's components for validation.
pub fn validator_for(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    root.as_object_mut()
        .unwrap()
        .insert("components".into(), doc["components"].clone());
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("bad schema: {e}"))
}

/// Every `$ref` in `v`, with where it was found.
pub fn refs_in(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push((at.to_owned(), r.clone())),
                    _ => refs_in(x, &format!("{at}/{k}"), out),
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs_in(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
