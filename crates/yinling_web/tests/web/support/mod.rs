//! The in-process, browser-like HTTP client the web tests share: it keeps cookies, adds the
//! CSRF token to forms, and can hold an API Bearer token.
#![allow(dead_code)] // each test module uses some of it

use std::collections::BTreeMap;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use yinling_app::testing::PASSWORD;

mod fixtures;
pub use fixtures::*;

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn location(&self) -> String {
        self.headers[header::LOCATION].to_str().unwrap().to_owned()
    }

    /// The value of the hidden input `name` in the page.
    pub fn hidden(&self, name: &str) -> String {
        let html = self.text();
        let at = html
            .find(&format!("name=\"{name}\" value=\""))
            .unwrap_or_else(|| panic!("no {name} in {html}"));
        let rest = &html[at + name.len() + 15..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }
}

/// A browser-like client: keeps cookies, adds the CSRF token to forms.
pub struct Client {
    app: Router,
    pub cookies: BTreeMap<String, String>,
    bearer: Option<String>,
}

impl Client {
    pub fn new(app: Router) -> Client {
        Client {
            app,
            cookies: BTreeMap::new(),
            bearer: None,
        }
    }

    pub async fn send(&mut self, mut req: Request<Body>) -> Resp {
        if !self.cookies.is_empty() {
            let c = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req.headers_mut().insert(header::COOKIE, c.parse().unwrap());
        }
        if let Some(t) = &self.bearer {
            req.headers_mut().insert(
                header::AUTHORIZATION,
                format!("Bearer {t}").parse().unwrap(),
            );
        }
        let resp = self.app.clone().oneshot(req).await.unwrap();
        for v in resp.headers().get_all(header::SET_COOKIE) {
            let s = v.to_str().unwrap();
            let pair = s.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if s.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post_form(&mut self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        let csrf = self
            .cookies
            .get("yinling_csrf")
            .cloned()
            .unwrap_or_default();
        all.push(("csrf_token", &csrf));
        let body = serde_urlencoded::to_string(&all).unwrap();
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    pub async fn json(&mut self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        let body = body.map_or_else(Body::empty, |v| Body::from(v.to_string()));
        self.send(b.body(body).unwrap()).await
    }

    /// A client logged in through the login page.
    pub async fn login(app: &Router, user: &str) -> Client {
        let mut c = Client::new(app.clone());
        c.login_page(user).await;
        c
    }

    /// Logs in through the login page, as a browser does.
    pub async fn login_page(&mut self, user: &str) {
        let page = self.get("/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let r = self
            .post_form(
                "/login",
                &[("username", user), ("password", PASSWORD), ("next", "/")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }

    /// Logs in over the API and uses the Bearer token from then on.
    pub async fn login_api(&mut self, user: &str) {
        let r = self
            .json(
                Method::POST,
                "/api/v1/session",
                Some(json!({"username": user, "password": PASSWORD})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        self.bearer = Some(r.json()["token"].as_str().unwrap().to_owned());
        self.cookies.clear();
    }
}

/// The `.rs` files under `dir`, in its subfolders too (a capability's folder), sorted.
pub fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}
