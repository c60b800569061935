//! Every request has an id: kept from a sane `x-request-id`, else made here; returned in the
//! response header and shown on error pages (请求编号) and in API error bodies
//! (`error.request_id`), so what a resident reads out finds the log lines.

use axum::{
    Router,
    body::Body,
    http::{HeaderValue, Request, StatusCode},
};
use yinling_app::testing::TestCity;
use yinling_web::{AppState, WebConfig, kernel::request_id, router};

use crate::support::{Client, Resp};

async fn setup() -> (TestCity, Router) {
    let city = TestCity::new().await;
    let app = router(AppState::new(city.app.clone(), WebConfig::default()));
    (city, app)
}

fn id_of(r: &Resp) -> String {
    r.headers
        .get("x-request-id")
        .expect("every response has x-request-id")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn get_with_id(c: &mut Client, path: &str, id: HeaderValue) -> Resp {
    c.send(
        Request::get(path)
            .header("x-request-id", id)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn every_response_has_a_new_id_when_none_was_sent() {
    let (_city, app) = setup().await;
    let mut c = Client::new(app);
    let a = id_of(&c.get("/healthz").await);
    let b = id_of(&c.get("/login").await);
    assert!(request_id::is_sane(&a) && a.len() == 14, "{a}");
    assert_ne!(a, b, "each request its own id");
}

#[tokio::test]
async fn a_page_error_shows_the_id_of_its_header() {
    let (_city, app) = setup().await;
    let mut c = Client::login(&app, "workera").await;
    let r = c.get("/people/abc/def").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let id = id_of(&r);
    let html = r.text();
    assert!(
        html.contains(&format!("<p class=\"request-id\">请求编号：{id}</p>")),
        "{html}"
    );

    // A refused form (no CSRF token) is an error page too.
    let r = c
        .send(
            Request::post("/tags")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("name=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text().contains(&format!("请求编号：{}", id_of(&r))),
        "{}",
        r.text()
    );

    // A page that is not an error does not show it.
    let r = c.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text().contains("请求编号"));
}

#[tokio::test]
async fn an_api_error_body_carries_the_id() {
    let (_city, app) = setup().await;
    let mut c = Client::new(app);
    let r = c.get("/api/v1/people").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let body = r.json();
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert_eq!(body["error"]["request_id"], id_of(&r).as_str(), "{body}");
}

#[tokio::test]
async fn a_sane_incoming_id_is_kept_and_an_insane_one_replaced() {
    let (_city, app) = setup().await;
    let mut c = Client::new(app);

    let sent = "9f1c2d3e-5b6a-4c7d-8e9f-0a1b2c3d4e5f";
    let r = get_with_id(&mut c, "/api/v1/people", HeaderValue::from_static(sent)).await;
    assert_eq!(id_of(&r), sent);
    assert_eq!(r.json()["error"]["request_id"], sent);

    let too_long = "a".repeat(request_id::MAX_LEN + 1);
    let non_ascii = HeaderValue::from_bytes("请求-1".as_bytes()).unwrap();
    let with_space = HeaderValue::from_static("a b");
    for bad in [
        HeaderValue::from_str(&too_long).unwrap(),
        non_ascii,
        with_space,
    ] {
        let r = get_with_id(&mut c, "/api/v1/people", bad.clone()).await;
        let id = id_of(&r);
        assert_ne!(id.as_bytes(), bad.as_bytes());
        assert!(request_id::is_sane(&id) && id.len() == 14, "{id}");
        assert_eq!(r.json()["error"]["request_id"], id.as_str());
    }
}
