//! Every use case is a tracing span named `<capability>.<use case>`, with the caller's
//! account and the key of the object it touches, so a log line says who did what to which.

use std::sync::{Arc, Mutex};
use yinling_app::testing::person_key;

use tracing::{
    field::{Field, Visit},
    span,
};
use tracing_subscriber::{Registry, layer::Context, prelude::*};
use yinling_app::testing::TestCity;

/// Records each new span's name and fields, in order.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<(String, String)>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, _: &span::Id, _: Context<'_, S>) {
        let mut fields = Fields(String::new());
        attrs.record(&mut fields);
        self.0
            .lock()
            .unwrap()
            .push((attrs.metadata().name().to_owned(), fields.0));
    }
}

#[tokio::test]
async fn a_use_case_is_a_span_with_the_caller_and_the_objects_key() {
    let city = TestCity::new().await;
    let worker = city.caller("workera").await;
    let (county, id) = city.people_a[0];
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(Registry::default().with(spans.clone()));

    city.app
        .people()
        .file(&worker, person_key((county, id)))
        .await
        .unwrap();
    let outside = city.people_b[0];
    assert!(
        city.app
            .people()
            .file(&worker, person_key(outside))
            .await
            .is_err()
    );

    let recorded = spans.0.lock().unwrap().clone();
    let files: Vec<&(String, String)> = recorded
        .iter()
        .filter(|(name, _)| name == "people.file")
        .collect();
    assert_eq!(files.len(), 2, "{recorded:?}");
    let account = format!("caller=Some({})", worker.account_id.unwrap());
    assert!(files[0].1.contains(&account), "{:?}", files[0]);
    assert!(
        files[0].1.contains(&format!("county={county}"))
            && files[0].1.contains(&format!("id={id}")),
        "{:?}",
        files[0]
    );
    assert!(
        files[1].1.contains(&format!("id={}", outside.1)),
        "{:?}",
        files[1]
    );
}
