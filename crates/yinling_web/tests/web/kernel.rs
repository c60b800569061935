//! What every route shares: JSON errors, the OpenAPI document (valid OpenAPI 3.1, every route
//! documented, matching what the server answers), health and metrics.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use serde_json::{Value, json};

use crate::support::{Client, refs_in, setup, validator_for};

#[tokio::test]
async fn api_errors_are_json_with_the_right_status() {
    let (city, app) = setup().await;
    let mut c = Client::new(app);
    let r = c.get("/api/v1/people").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "unauthenticated");

    let r = c
        .json(
            Method::POST,
            "/api/v1/session",
            Some(json!({"username": "workera", "password": "nope"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("用户名或密码不正确")
    );

    c.login_api("workera").await;
    let people = city.count("people").await;
    let r = c
        .send(
            Request::post("/api/v1/people")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "malformed_json");

    let body = json!({"name": "王小明", "id_number": "370830194403151234", "home_unit_county_code": city.grid_a.county_code.as_i64(), "home_unit_id": city.grid_a.id});
    let r = c.json(Method::POST, "/api/v1/people", Some(body)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = &r.json()["error"];
    assert_eq!(e["code"], "checksum_mismatch");
    assert_eq!(e["field"], "id_number");
    assert!(e["message"].as_str().unwrap().contains("第18位"), "{e}");

    let r = c
        .json(Method::POST, "/api/v1/people", Some(json!({"name": 5})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["code"], "invalid_body");

    let r = c.get("/api/v1/people/abc/def").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "invalid_path");
    assert_eq!(city.count("people").await, people);

    let body = json!({"name": "王小明", "id_number": yinling_app::testing::valid_id("37083019900101123"), "phone": "13800000000",
        "home_unit_county_code": city.grid_a.county_code.as_i64(), "home_unit_id": city.grid_a.id});
    let r = c.json(Method::POST, "/api/v1/people", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(city.count("people").await, people + 1);
}

/// The operations of the document: (method, path template, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.clone(), path.clone(), op.clone()));
        }
    }
    ops
}

#[tokio::test]
async fn the_openapi_document_is_valid_openapi_3_1() {
    let (_city, app) = setup().await;
    let doc = Client::new(app).get("/api/openapi.json").await.json();

    // The official schema of OpenAPI 3.1 documents (tests/web/data/README.md says where from).
    let schema: Value = serde_json::from_str(include_str!("data/openapi-3.1-schema.json")).unwrap();
    let oas = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = oas
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid OpenAPI 3.1 document:\n{}",
        errors.join("\n")
    );
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));

    // Every reference names something the document holds, and every schema is itself a
    // valid JSON Schema (2020-12, the dialect of OpenAPI 3.1).
    let mut refs = Vec::new();
    refs_in(&doc, "", &mut refs);
    assert!(refs.len() > 100, "only {} references", refs.len());
    for (at, r) in &refs {
        let target = r.strip_prefix('#').and_then(|p| doc.pointer(p));
        assert!(target.is_some(), "{at}: {r} does not exist in the document");
    }
    for (name, s) in doc["components"]["schemas"].as_object().unwrap() {
        let _ = std::panic::catch_unwind(|| validator_for(&doc, s))
            .unwrap_or_else(|_| panic!("components/schemas/{name} is not a valid schema"));
    }

    // Parameters: the path's are exactly the template's, every other one is a query
    // parameter (a generated client sends each where the document says).
    for (method, path, op) in operations(&doc) {
        let mut template: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let mut in_path: Vec<&str> = Vec::new();
        for p in &params {
            let name = p["name"].as_str().unwrap();
            match p["in"].as_str().unwrap() {
                "path" => {
                    assert_eq!(p["required"], true, "{method} {path}: {name}");
                    in_path.push(name);
                }
                "query" => assert!(
                    !template.contains(&name),
                    "{method} {path}: {name} is in the path, not the query"
                ),
                other => panic!("{method} {path}: {name} is a {other} parameter"),
            }
        }
        template.sort_unstable();
        in_path.sort_unstable();
        assert_eq!(template, in_path, "{method} {path}: path parameters");

        // The error answers a client must be ready for, each with the error envelope.
        let responses = op["responses"].as_object().unwrap();
        let mut needed = vec!["401", "403"];
        if !params.is_empty() || op.get("requestBody").is_some() {
            needed.extend(["400", "422"]);
        }
        for status in needed {
            let r = &responses
                .get(status)
                .unwrap_or_else(|| panic!("{method} {path}: {status} is not documented"));
            let r = match r["$ref"].as_str() {
                Some(to) => doc.pointer(&to[1..]).unwrap(),
                None => r,
            };
            // The envelope itself, or a choice that includes it (the import's report).
            let mut schema = r["content"]["application/json"]["schema"].clone();
            if let Some(to) = schema["$ref"].as_str() {
                schema = doc.pointer(&to[1..]).unwrap().clone();
            }
            let envelope = json!({"$ref": "#/components/schemas/ErrorBody"});
            assert!(
                schema == envelope
                    || schema["oneOf"]
                        .as_array()
                        .is_some_and(|c| c.contains(&envelope))
                    || r["content"]["application/json"]["schema"] == envelope,
                "{method} {path}: {status} does not answer the error envelope"
            );
        }
    }
}

/// Every route the API serves is in the document: handlers are registered only through
/// `utoipa_axum::routes!` (which documents them), never with a bare `.route(…)`, and the
/// one API route outside it is the document itself.
#[tokio::test]
async fn every_api_route_of_the_router_is_documented() {
    let (_city, app) = setup().await;
    let doc = Client::new(app.clone())
        .get("/api/openapi.json")
        .await
        .json();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut annotated = Vec::new();
    let mut files = vec![src.join("lib.rs")];
    for dir in [src.join("api"), src.join("ui")] {
        files.extend(crate::support::rust_files(&dir));
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.display();
        for (i, line) in text.lines().enumerate() {
            if let Some(at) = line.find(".route(\"") {
                let route = &line[at + 8..];
                assert!(
                    !route.starts_with("/api/") || route.starts_with("/api/openapi.json\""),
                    "{name}:{}: an API route outside utoipa_axum::routes! is not documented",
                    i + 1
                );
            }
            if let Some(rest) = line.trim_start().strip_prefix("#[utoipa::path(") {
                let method = rest.split(',').next().unwrap().trim().to_owned();
                let path = rest.split("path = \"").nth(1).unwrap();
                annotated.push((method, path[..path.find('"').unwrap()].to_owned()));
            }
        }
    }
    let documented: Vec<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    annotated.sort();
    let mut sorted = documented.clone();
    sorted.sort();
    assert_eq!(
        annotated, sorted,
        "annotated handlers and documented operations differ"
    );
    // And every documented operation is routed: none falls through to the page router.
    let mut c = Client::new(app);
    for (method, path) in documented {
        let url = path
            .replace("{action}", "accept")
            .replace("{decision}", "approve");
        let url: String = url
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let r = c
            .json(method.to_uppercase().parse().unwrap(), &url, None)
            .await;
        assert!(
            r.headers[header::CONTENT_TYPE] == "application/json"
                && r.json()["error"]["code"].is_string(),
            "{method} {url} is not answered by the API: {} {}",
            r.status,
            r.text()
        );
    }
}

#[tokio::test]
async fn the_openapi_document_matches_what_the_server_answers() {
    let (city, app) = setup().await;
    let mut c = Client::new(app);
    let doc = c.get("/api/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    c.login_api("countyadmin").await;
    let (pc, pid) = city.people_a[0];
    let concrete = |p: &str| {
        p.replace("{county}", &pc.to_string())
            .replace(
                "{id}",
                &if p.contains("/org/") {
                    city.grid_a.id.get()
                } else {
                    pid
                }
                .to_string(),
            )
            .replace("/org/units/".to_owned().as_str(), "/org/units/")
    };
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        if path.contains("{role_id}")
            || path.contains("{tag_row_id}")
            || path.contains("{grant_id}")
            || path.contains("export")
        {
            continue;
        }
        let url = if path.starts_with("/api/v1/users/{id}") {
            "/api/v1/users/1".to_owned()
        } else if path.contains("/org/units/{county}") {
            path.replace("{county}", &city.grid_a.county_code.to_string())
                .replace("{id}", &city.grid_a.id.to_string())
        } else {
            concrete(path)
        };
        let r = c.get(&url).await;
        let status = r.status.as_u16().to_string();
        let response = &get["responses"][&status];
        assert!(
            !response.is_null(),
            "GET {url} answered {status}, which the document does not list: {}",
            r.text()
        );
        if let Some(schema) = response.pointer("/content/application~1json/schema") {
            let v = validator_for(&doc, schema);
            let body = r.json();
            if let Err(e) = v.validate(&body) {
                panic!("GET {url}: response does not match its schema: {e}\n{body}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} responses validated");
}

#[tokio::test]
async fn health_and_metrics() {
    let (_city, app) = setup().await;
    let mut c = Client::new(app);
    let h = c.get("/healthz").await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["status"], "ok");
    c.get("/login").await;
    let m = c.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    let text = m.text();
    assert!(text.contains("yinling_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/login\""), "{text}");
}

/// A path's `{county}/{id}` is read once, by `KeyPath` (pages) and `ApiKey` (API): numbers no
/// record can have name that record, not found, like an id that does not exist; words are a
/// malformed path.
#[tokio::test]
async fn a_path_that_names_no_record_is_that_record_not_found() {
    let (_city, app) = setup().await;
    let mut c = Client::login(&app, "workera").await;
    for path in [
        "/api/v1/orders/370830/0",
        "/api/v1/orders/1/5",
        "/api/v1/providers/370830/-3",
        "/api/v1/people/370830/0",
        "/api/v1/people/370830/999999999",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "not_found", "{path}");
    }
    let r = c.get("/api/v1/orders/370830/x").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "invalid_path");

    for (path, what) in [
        ("/people/370830/0", "人员不存在"),
        ("/people/370830/abc", "人员不存在"),
        ("/orders/0/1", "订单不存在"),
        ("/org/370830/-1", "组织不存在"),
        ("/needs/370830/0", "需求不存在"),
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.text().contains(what), "{path}: {}", r.text());
    }
}
