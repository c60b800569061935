//! The web tier tested in-process (`router.oneshot`) on the backend the run selected:
//! sessions and CSRF, JSON errors, the OpenAPI document against the responses the server
//! really sends. Scope isolation through every route, as every role, is `tests/web/isolation.rs`.

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use serde_json::{Value, json};
use tower::ServiceExt;
use yinling_app::testing::{PASSWORD, PEOPLE_A, TestCity};
use yinling_web::{AppState, WebConfig, router};

use crate::support::{Client, Resp};

async fn setup() -> (TestCity, Router) {
    let city = TestCity::new().await;
    let app = router(AppState::new(city.app.clone(), WebConfig::default()));
    (city, app)
}

#[tokio::test]
async fn pages_need_a_session_and_forms_need_the_csrf_token() {
    let (city, app) = setup().await;
    let mut c = Client::new(app);
    let r = c.get("/people").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?next=%2Fpeople")
    );
    c.login_page("workera").await;
    let cookie_attrs = c
        .send(Request::get("/login").body(Body::empty()).unwrap())
        .await;
    let _ = cookie_attrs;
    let list = c.get("/people?q=zsf").await;
    assert_eq!(list.status, StatusCode::OK);
    let html = list.text();
    assert!(
        html.contains("张三丰") && html.contains("3***************38"),
        "{html}"
    );
    assert!(!html.contains(PEOPLE_A[0].1));

    // The grid worker can order a service or record a need for the person from their file.
    let (county, id) = city.people_a[0];
    let file = c.get(&format!("/people/{county}/{id}")).await.text();
    assert!(
        file.contains(&format!("/orders/new?person={county}/{id}"))
            && file.contains(&format!("/needs/new?person={county}/{id}")),
        "{file}"
    );

    // A form post without the token, or with a wrong one, is refused and changes nothing.
    let before = city.count("person_skills").await;
    let body = "skills=%E7%90%86%E5%8F%91";
    for token in ["", "&csrf_token=forged"] {
        let r = c
            .send(
                Request::post(format!("/people/{county}/{id}/skills"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(format!("{body}{token}")))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.text().contains("页面已过期"));
    }
    assert_eq!(city.count("person_skills").await, before);
    let ok = c
        .post_form(
            &format!("/people/{county}/{id}/skills"),
            &[("skills", "理发")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    assert_eq!(city.count("person_skills").await, before + 1);
}

#[tokio::test]
async fn session_cookies_are_http_only_and_pages_carry_security_headers() {
    let (_city, app) = setup().await;
    let mut c = Client::new(app.clone());
    c.get("/login").await;
    let csrf = c.cookies["yinling_csrf"].clone();
    let body = serde_urlencoded::to_string([
        ("username", "workera"),
        ("password", PASSWORD),
        ("csrf_token", &csrf),
    ])
    .unwrap();
    let resp = app
        .oneshot(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("yinling_csrf={csrf}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let cookies: Vec<&str> = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("yinling_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let page = c.get("/login").await;
    for h in [
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert!(page.headers.contains_key(h), "missing {h}");
    }
}

#[tokio::test]
async fn elder_mode_is_remembered_for_the_account() {
    let (_city, app) = setup().await;
    let mut c = Client::new(app.clone());
    c.login_page("resident").await;
    let home = c.get("/").await.text();
    assert!(home.contains("开启长辈模式") && !home.contains("class=\"elder\""));
    let r = c
        .post_form("/elder-mode", &[("on", "1"), ("next", "/")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let home = c.get("/").await.text();
    assert!(
        home.contains("<html lang=\"zh-CN\" class=\"elder\">"),
        "{home}"
    );
    assert!(home.contains("长辈模式：已开启"));
    // A fresh login (another device) gets it too.
    let mut other = Client::new(app);
    other.login_page("resident").await;
    assert!(other.get("/").await.text().contains("class=\"elder\""));
    // The resident's home shows their own details, masked.
    assert!(home.contains("张三丰") && home.contains("138****5678"));
}

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

    let body = json!({"name": "王小明", "id_number": "370830194403151234", "home_unit_county_code": city.grid_a.county_code, "home_unit_id": city.grid_a.id});
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
        "home_unit_county_code": city.grid_a.county_code, "home_unit_id": city.grid_a.id});
    let r = c.json(Method::POST, "/api/v1/people", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(city.count("people").await, people + 1);
}

/// A case in grid B with 赵六 as a party (so a leak would show his name); its id is 1.
async fn mediation_case_in_grid_b(city: &TestCity) {
    use yinling_app::mediation::{CaseInput, PartyInput};
    use yinling_domain::mediation::{DisputeCategory, PartySide};
    let key = city
        .app
        .mediation()
        .create(
            &city.system,
            CaseInput {
                unit_county_code: city.grid_b.county_code,
                unit_id: city.grid_b.id,
                place_id: None,
                location: None,
                category: DisputeCategory::Neighbour,
                summary: "楼道堆放杂物引发争吵".into(),
                intake_on: None,
                taken_by_name: None,
                parties: vec![PartyInput {
                    side: PartySide::Applicant,
                    name: String::new(),
                    person_id: Some(city.people_b[0].1),
                }],
                mediators: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(key, (city.grid_b.county_code, 1));
}

/// A needs workbook with the import template's required columns.
fn needs_xlsx(rows: &[[&str; 3]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in ["身份证号码", "类别", "需求内容"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect::<Vec<_>>()
        .join("|")
}

/// A multipart upload form body with the CSRF token and one file.
fn upload(csrf: Option<&str>, file: &[u8]) -> (String, Vec<u8>) {
    let b = "----yinlingtest7MA4YWxk";
    let mut body = Vec::new();
    if let Some(t) = csrf {
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{t}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"需求.xlsx\"\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

#[tokio::test]
async fn needs_are_recorded_followed_up_imported_and_exported_through_the_pages() {
    let (city, app) = setup().await;
    let mut c = Client::new(app);
    c.login_page("workera").await;
    let home = c.get("/").await.text();
    assert!(home.contains("href=\"/needs\""), "nav item");
    let form = c.get("/needs/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    assert!(form.text().contains("张三丰") && !form.text().contains("赵六"));
    let (ac, aid) = city.people_a[0];
    let r = c
        .post_form(
            "/needs/new",
            &[
                ("person", &format!("{ac}/{aid}")),
                ("category", "meals"),
                ("description", "  "),
                ("urgency", "high"),
                ("source", "door_knock"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请填写需求内容"));
    let r = c
        .post_form(
            "/needs/new",
            &[
                ("person", &format!("{ac}/{aid}")),
                ("category", "meals"),
                ("description", "中午送餐"),
                ("urgency", "high"),
                ("source", "door_knock"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let to = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    let page = c.get(&to).await.text();
    assert!(
        page.contains("中午送餐") && page.contains("待跟进"),
        "{page}"
    );
    let path = to.split('?').next().unwrap().to_owned();
    let r = c
        .post_form(
            &format!("{path}/followups"),
            &[("note", "已对接助餐点"), ("status", "resolved")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = c
        .post_form(
            &format!("{path}/followups"),
            &[("note", "重开"), ("status", "open")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains("需求已解决，不能改为待跟进"),
        "{}",
        r.text()
    );
    let list = c.get("/needs?status=resolved&category=meals").await.text();
    assert!(
        list.contains("张三丰") && list.contains("共 1 条"),
        "{list}"
    );

    // Import: the page says it is all-or-nothing; a bad file imports nothing and lists
    // every problem; the corrected file imports whole.
    let page = c.get("/needs/import").await.text();
    assert!(page.contains("整个文件都不会导入"));
    let csrf = c.cookies.get("yinling_csrf").cloned().unwrap();
    let bad = needs_xlsx(&[
        [PEOPLE_A[1].1, "养老服务", "需要上门看护"],
        [PEOPLE_A[2].1, "理发", ""],
    ]);
    let (ct, body) = upload(None, &bad);
    let r = c
        .send(
            Request::post("/needs/import")
                .header(header::CONTENT_TYPE, &ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an upload needs the CSRF token"
    );
    let (ct, body) = upload(Some(&csrf), &bad);
    let r = c
        .send(
            Request::post("/needs/import")
                .header(header::CONTENT_TYPE, &ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let text = r.text();
    assert!(
        text.contains("第3行") && text.contains("类别") && text.contains("需求内容"),
        "{text}"
    );
    assert!(text.contains("没有导入任何一条"));
    assert_eq!(city.count("needs").await, 1);
    let good = needs_xlsx(&[
        [PEOPLE_A[1].1, "养老服务", "需要上门看护"],
        [PEOPLE_A[2].1, "政策咨询", "咨询医保"],
    ]);
    let (ct, body) = upload(Some(&csrf), &good);
    let r = c
        .send(
            Request::post("/needs/import")
                .header(header::CONTENT_TYPE, &ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("已全部导入 2 条"));
    assert_eq!(city.count("needs").await, 3);
    let big = vec![b'x'; 6 * 1024 * 1024];
    let (ct, body) = upload(Some(&csrf), &big);
    let r = c
        .send(
            Request::post("/needs/import")
                .header(header::CONTENT_TYPE, &ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().contains("5MB"));

    let x = c.get("/needs/export.xlsx").await;
    assert_eq!(x.status, StatusCode::OK);
    let text = xlsx_text(&x.body);
    assert!(
        text.contains("李四") && text.contains("需要上门看护"),
        "{text}"
    );
    assert!(!text.contains(PEOPLE_A[1].1), "masked");
    let t = c.get("/needs/template.xlsx").await;
    assert_eq!(t.status, StatusCode::OK);
    assert!(xlsx_text(&t.body).contains("身份证号码"));
}

/// Resolves `$ref`s against the document's components for validation.
fn validator_for(doc: &Value, schema: &Value) -> jsonschema::Validator {
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
fn refs_in(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
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
    // The API and the pages keep a folder per capability: walk them to the bottom.
    let mut dirs = vec![src.join("api"), src.join("ui")];
    while let Some(dir) = dirs.pop() {
        for f in std::fs::read_dir(dir).unwrap() {
            let path = f.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
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
                    city.grid_a.id
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

#[tokio::test]
async fn an_idle_session_sends_the_user_back_to_login_with_an_explanation() {
    let (city, app) = setup().await;
    let mut c = Client::new(app);
    c.login_page("workera").await;
    assert_eq!(c.get("/people").await.status, StatusCode::OK);
    city.clock.advance(31 * yinling_app::clock::MINUTE);
    let r = c.get("/people?q=zsf").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let to = r.headers[header::LOCATION].to_str().unwrap();
    assert!(
        to.contains("expired=1") && to.contains("next=%2Fpeople%3Fq%3Dzsf"),
        "{to}"
    );
    let login = c.get(to).await.text();
    assert!(login.contains("长时间未操作"));
}

#[tokio::test]
async fn mediation_pages_run_a_case_in_elder_mode_and_refuse_the_other_grid() {
    let (city, app) = setup().await;
    mediation_case_in_grid_b(&city).await;
    let (lc, lid) = city.people_a[1];
    city.app
        .people()
        .add_role(
            &city.system,
            lc,
            lid,
            yinling_app::people::RoleInput {
                kind: yinling_domain::person::PersonRoleKind::RetiredCadre,
                unit_county_code: None,
                unit_id: None,
                since: None,
                details: yinling_domain::person::RoleDetails {
                    retire_kind: Some(yinling_domain::person::RetireKind::Tuixiu),
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap();
    let mut c = Client::new(app);
    c.login_page("workera").await;
    let r = c
        .post_form("/elder-mode", &[("on", "1"), ("next", "/mediation")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let list = c.get("/mediation").await;
    assert_eq!(list.status, StatusCode::OK);
    let text = list.text();
    assert!(text.contains("class=\"elder\"") && text.contains("矛盾调解"));
    assert!(!text.contains("楼道堆放杂物"), "grid B's case is listed");
    assert!(c.get("/").await.text().contains("href=\"/mediation\""));

    let unit = format!("{}/{}", city.grid_a.county_code, city.grid_a.id);
    assert_eq!(c.get("/mediation/new").await.status, StatusCode::OK);
    let form = |summary: &'static str| {
        vec![
            ("unit", unit.clone()),
            ("category", "neighbour".to_owned()),
            ("summary", summary.to_owned()),
            ("intake_on", "2026-07-01".to_owned()),
            ("party1_name", "王某某".to_owned()),
            ("party1_side", "applicant".to_owned()),
            ("party2_name", "刘某".to_owned()),
            ("party2_side", "respondent".to_owned()),
        ]
    };
    let pairs = |v: &Vec<(&'static str, String)>| {
        v.iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<(&str, String)>>()
    };
    let bad = pairs(&form("电话13812345678，噪音扰民"));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.post_form("/mediation/new", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("不能填写电话号码或身份证号码"));
    assert!(r.text().contains("王某某"), "what was typed is kept");
    let good = pairs(&form("楼上装修噪音扰民"));
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.post_form("/mediation/new", &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let to = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    let base = to.split('?').next().unwrap().to_owned();
    let page = c.get(&to).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("已受理") && text.contains("指派调解员") && text.contains("李四"));

    let person = format!("person/{lid}");
    let r = c
        .post_form(
            &format!("{base}/mediators"),
            &[("version", "1"), ("mediator", &person)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = c
        .post_form(
            &format!("{base}/sessions"),
            &[
                ("version", "2"),
                ("held_on", "2026-07-01"),
                ("present", &person),
                ("session_note", "拉家常式调解"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = c
        .post_form(
            &format!("{base}/outcome"),
            &[
                ("version", "3"),
                ("outcome", "success"),
                ("concluded_on", "2026-07-01"),
                ("referred_to", ""),
                ("outcome_note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = c
        .post_form(
            &format!("{base}/sessions"),
            &[
                ("version", "4"),
                ("held_on", "2026-07-01"),
                ("present", &person),
                ("session_note", "办结后再调解"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("该案件已办结，不能再记录调解过程"));
    let text = c.get(&base).await.text();
    assert!(text.contains("调解成功") && text.contains("登记回访"));

    let stats = c.get("/mediation/stats").await;
    assert_eq!(stats.status, StatusCode::OK);
    assert!(
        stats.text().contains("1起，成功1起，100.0%"),
        "{}",
        stats.text()
    );
    let xlsx = c.get("/mediation/stats.xlsx").await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx_text(&xlsx.body).contains("100.0%"));

    let gb = format!("/mediation/{}/1", city.grid_b.county_code);
    let r = c.get(&gb).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.text().contains("赵六"));
    let sessions = city.count("mediation_sessions").await;
    for (suffix, form) in [
        (
            "/mediators",
            vec![("version", "1"), ("mediator", person.as_str())],
        ),
        (
            "/sessions",
            vec![
                ("version", "1"),
                ("held_on", "2026-07-01"),
                ("session_note", "越权"),
            ],
        ),
        (
            "/outcome",
            vec![
                ("version", "1"),
                ("outcome", "referred"),
                ("concluded_on", "2026-07-01"),
            ],
        ),
        (
            "/follow-ups",
            vec![
                ("version", "1"),
                ("visited_on", "2026-07-01"),
                ("followup_note", "越权"),
            ],
        ),
    ] {
        let r = c.post_form(&format!("{gb}{suffix}"), &form).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "POST {gb}{suffix}");
        assert!(!r.text().contains("赵六"));
    }
    assert_eq!(city.count("mediation_sessions").await, sessions);
    assert_eq!(
        c.get(&format!(
            "/mediation/stats?unit={}/{}",
            city.grid_b.county_code, city.grid_b.id
        ))
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

/// A multipart body for the 完成服务 form: token, note and a photo.
fn completion_form(csrf: &str, note: &str, photo: &[u8]) -> (String, Vec<u8>) {
    let b = "----yinlingorder5Kq2";
    let mut body = Vec::new();
    for (name, value) in [("csrf_token", csrf), ("note", note)] {
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"门口.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(photo);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

#[tokio::test]
async fn an_order_is_placed_served_and_rated_through_the_pages() {
    let (city, app) = setup().await;
    let services = city.add_services().await;
    let item = services.item.id.to_string();

    // 张三丰 orders 助老送餐 for tomorrow noon, in two steps.
    let mut resident = Client::new(app.clone());
    resident.login_page("resident").await;
    let home = resident.get("/").await.text();
    assert!(home.contains("href=\"/orders/new\"") && home.contains("我要点单"));
    assert!(!home.contains("href=\"/orders\""), "no staff order list");
    let step1 = resident.get("/orders/new").await;
    assert_eq!(step1.status, StatusCode::OK, "{}", step1.text());
    assert!(step1.text().contains("助老送餐") && step1.text().contains("把午餐送到家"));
    let step2 = resident
        .get(&format!("/orders/new?item={item}"))
        .await
        .text();
    assert!(step2.contains("第2步") && step2.contains("name=\"when\""));
    let bad = resident
        .post_form(
            "/orders/new",
            &[
                ("item", &item),
                ("when", "other"),
                ("wanted_at", "明天中午"),
                ("description", "少放盐"),
            ],
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    assert!(bad.text().contains("请选择服务时间") && bad.text().contains("少放盐"));
    assert_eq!(
        city.count("orders").await,
        0,
        "a refused order stores nothing"
    );
    let tomorrow = yinling_domain::time::local_date(city.app.now())
        .succ_opt()
        .unwrap()
        .format("%Y-%m-%dT12:00")
        .to_string();
    let placed = resident
        .post_form(
            "/orders/new",
            &[
                ("item", &item),
                ("when", &tomorrow),
                ("description", "少放盐"),
            ],
        )
        .await;
    assert_eq!(placed.status, StatusCode::SEE_OTHER, "{}", placed.text());
    let to = placed.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let confirm = resident.get(&to).await.text();
    assert!(confirm.contains("点单成功") && confirm.contains("接下来"));
    let order = to.trim_end_matches("/placed").to_owned();
    let mine = resident.get("/orders/mine").await.text();
    assert!(
        mine.contains("助老送餐") && mine.contains("待派单"),
        "{mine}"
    );

    // The grid worker dispatches it with one click from the order page.
    let mut worker = Client::new(app.clone());
    worker.login_page("workera").await;
    let page = worker.get(&order).await.text();
    assert!(page.contains("一键派单") && page.contains("李四") && page.contains("技能"));
    let r = worker.post_form(&format!("{order}/dispatch"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(worker.get(&order).await.text().contains("待接单"));

    // Grid B's worker cannot see it.
    let mut other = Client::new(app.clone());
    other.login_page("workerb").await;
    assert_eq!(other.get(&order).await.status, StatusCode::NOT_FOUND);

    // 李四 accepts, checks in and completes with a note and a photo.
    let mut vol = Client::new(app.clone());
    vol.login_page("vola").await;
    let list = vol.get("/orders/offered").await.text();
    assert!(list.contains("我的接单") && list.contains("张三丰") && list.contains(">接单<"));
    for action in ["accept", "check_in"] {
        let r = vol
            .post_form(
                &format!("{order}/step"),
                &[("action", action), ("back", "offered")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.text());
    }
    let list = vol.get("/orders/offered?done=check_in").await.text();
    assert!(list.contains("服务中") && list.contains("完成服务") && !list.contains(">接单<"));
    // A refused step: accepting again changes nothing and says why.
    let again = vol
        .post_form(&format!("{order}/step"), &[("action", "accept")])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    assert!(again.text().contains("不能接单") && again.text().contains("服务中"));
    let csrf = vol.cookies["yinling_csrf"].clone();
    let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
    let (ct, body) = completion_form(&csrf, "饭菜已送到，老人吃得很好", &png);
    let r = vol
        .send(
            Request::post(format!("{order}/complete"))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // 张三丰 sees it done, cannot cancel any more, and gives five stars.
    let page = resident.get(&order).await.text();
    assert!(page.contains("已完成") && page.contains("饭菜已送到"));
    assert!(page.contains("5星 非常满意") && !page.contains("取消这张订单"));
    let photo = resident.get(&format!("{order}/photo")).await;
    assert_eq!(photo.status, StatusCode::OK);
    assert_eq!(photo.headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(photo.body, png);
    assert_eq!(
        other.get(&format!("{order}/photo")).await.status,
        StatusCode::NOT_FOUND
    );
    let refused = resident
        .post_form(&format!("{order}/step"), &[("action", "cancel")])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());
    assert!(refused.text().contains("已完成"));
    let no_stars = resident
        .post_form(
            &format!("{order}/step"),
            &[("action", "rate"), ("note", "很好")],
        )
        .await;
    assert_eq!(no_stars.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_stars.text().contains("请选择1到5颗星") && no_stars.text().contains("很好"));
    let r = resident
        .post_form(
            &format!("{order}/step"),
            &[("action", "rate"), ("stars", "5"), ("note", "很好")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let to = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    let page = resident.get(&to).await.text();
    assert!(page.contains("已评价") && page.contains("5星") && page.contains("谢谢"));
    let mine = resident.get("/orders/mine").await.text();
    assert!(mine.contains("已评价"));
}

#[tokio::test]
async fn a_secretary_adds_a_service_item_through_the_page() {
    let (city, app) = setup().await;
    let unit = format!("{}/{}", city.community.county_code, city.community.id);
    let mut c = Client::new(app.clone());
    c.login_page("secretary").await;
    let form = c.get("/service-items/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    let fields = |duration: &'static str| {
        vec![
            ("unit", unit.clone()),
            ("category", "elder_care".to_owned()),
            ("name", "上门理发".to_owned()),
            ("skills", "理发、剪发".to_owned()),
            ("duration_minutes", duration.to_owned()),
            ("points", "10".to_owned()),
            ("hours_minutes", "40".to_owned()),
            ("sla_minutes", "240".to_owned()),
        ]
    };
    let pairs = fields("一小时");
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bad = c.post_form("/service-items/new", &pairs).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("预计时长请填整数") && bad.text().contains("上门理发"));
    let pairs = fields("40");
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ok = c.post_form("/service-items/new", &pairs).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let list = c.get("/service-items?done=created").await.text();
    assert!(list.contains("上门理发") && list.contains("剪发") && list.contains("已添加"));

    let mut resident = Client::new(app);
    resident.login_page("resident").await;
    assert_eq!(
        resident.get("/service-items/new").await.status,
        StatusCode::FORBIDDEN
    );
    let step1 = resident.get("/orders/new").await.text();
    assert!(step1.contains("上门理发"), "the resident can order it");
}

/// Files under a folder, however deep.
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() { files_under(&path) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_completion_photo_is_uploaded_over_the_api_and_named_by_the_complete_step() {
    use yinling_domain::service::OrderAction;
    let (city, app) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    city.app
        .set_files(yinling_app::files::FileStore::local(dir.path()).unwrap());
    let s = city.add_services().await;
    let resident = city.caller("resident").await;
    let vola = city.caller("vola").await;
    let order = city
        .app
        .orders()
        .place(
            &resident,
            yinling_app::orders::OrderInput {
                item_id: s.item.id,
                person: None,
                wanted_at: None,
                wanted_at_text: None,
                description: None,
                urgency: None,
                address: None,
                need_id: None,
            },
        )
        .await
        .unwrap()
        .order;
    let (county, id) = (order.county_code, order.id);
    let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
    let photos = format!("/api/v1/orders/{county}/{id}/photos");
    let post = |body: Vec<u8>| {
        Request::post(&photos)
            .header(header::CONTENT_TYPE, "image/png")
            .body(Body::from(body))
            .unwrap()
    };
    let mut vol = Client::new(app.clone());
    vol.login_api("vola").await;
    let doc = vol.get("/api/openapi.json").await.json();
    let op = &doc["paths"]["/api/v1/orders/{county}/{id}/photos"]["post"];
    assert_eq!(op["tags"][0], "点单接单");
    let check = |r: &Resp| {
        let schema = op["responses"][r.status.as_str()]
            .pointer("/content/application~1json/schema")
            .unwrap_or_else(|| panic!("{} not documented", r.status));
        if let Err(e) = validator_for(&doc, schema).validate(&r.json()) {
            panic!("{}: {e}", r.text());
        }
    };

    // Before the volunteer has accepted it, the order cannot take a photo.
    let r = vol.send(post(png.clone())).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    check(&r);
    for action in [OrderAction::Accept, OrderAction::CheckIn] {
        city.app
            .orders()
            .step(
                &vola,
                county,
                id,
                action,
                yinling_app::orders::OrderStep {
                    provider_id: None,
                    note: None,
                    stars: None,
                    photo_key: None,
                },
            )
            .await
            .unwrap();
    }
    // Not a photo; too large; not the provider serving it: refused, nothing stored.
    let r = vol.send(post(b"<html>hello</html>".to_vec())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "unsupported_file");
    check(&r);
    let mut big = vec![0xFF, 0xD8, 0xFF];
    big.resize(yinling_app::files::MAX_PHOTO_BYTES + 100 * 1024, 0);
    let r = vol.send(post(big)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "file_too_large");
    assert!(r.text().contains("照片超过5MB"), "{}", r.text());
    check(&r);
    let mut worker = Client::new(app.clone());
    worker.login_api("workera").await;
    let r = worker.send(post(png.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    check(&r);
    let mut other = Client::new(app.clone());
    other.login_api("volb").await;
    let r = other.send(post(png.clone())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(files_under(dir.path()), 0);

    // The completion page stores nothing when the step is refused after the photo was
    // checked (here: a note past 500 characters).
    let mut page = Client::new(app.clone());
    page.login_page("vola").await;
    let csrf = page.cookies["yinling_csrf"].clone();
    let (ct, body) = completion_form(&csrf, &"很".repeat(501), &png);
    let r = page
        .send(
            Request::post(format!("/orders/{county}/{id}/complete"))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("备注最多500个字"), "{}", r.text());
    assert_eq!(
        files_under(dir.path()),
        0,
        "the refused completion's photo is removed"
    );

    // Uploaded, then named by the complete step.
    let r = vol.send(post(png.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    check(&r);
    let key = r.json()["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("orders/{county}/{id}/")), "{key}");
    assert_eq!(files_under(dir.path()), 1);
    let r = vol
        .json(
            Method::POST,
            &format!("/api/v1/orders/{county}/{id}/steps/complete"),
            Some(json!({"photo_key": key, "note": "已送到"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "completed");
    assert_eq!(r.json()["photo_key"], key.as_str());
    assert_eq!(city.app.files().get(&key).await.unwrap().0, png);
    // Completed: no more photos for it.
    let r = vol.send(post(png)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(files_under(dir.path()), 1);
}

#[tokio::test]
async fn a_secretary_lists_a_team_and_a_volunteer_and_edits_them_through_the_pages() {
    let (city, app) = setup().await;
    let s = city.add_services().await;
    let county = city.county.county_code;
    let team = city
        .app
        .org()
        .create_unit(
            &city.system,
            city.community.county_code,
            city.community.id,
            yinling_app::org::NewUnitInput {
                kind: yinling_domain::org::OrgKind::VolunteerTeam,
                name: "东门社区志愿服务队".into(),
                region_code: None,
                address: None,
                lat: None,
                lng: None,
                geojson: None,
            },
        )
        .await
        .unwrap();
    let key = |u: &yinling_store::org::OrgUnitRow| format!("{}/{}", u.county_code, u.id);
    let (grid_a, grid_b) = (key(&city.grid_a), key(&city.grid_b));
    let mut c = Client::new(app.clone());
    c.login_page("secretary").await;
    // In 长辈模式, as many of the secretaries using it are retired cadres themselves.
    c.post_form("/elder-mode", &[("on", "1"), ("next", "/")])
        .await;

    let list = c.get("/providers").await.text();
    assert!(
        list.contains("href=\"/providers/new\"")
            && list.contains("添加服务队、工作室或共建单位")
            && list.contains(&format!("href=\"/providers/{county}/{}/edit\"", s.vol_a)),
        "{list}"
    );
    let form = c.get("/providers/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    let html = form.text();
    let unit = format!("team/{}", key(&team));
    assert!(html.contains("class=\"elder\""));
    assert!(html.contains(&format!("value=\"{unit}\"")) && html.contains("东门社区志愿服务队"));
    assert!(
        html.contains(&format!("value=\"{grid_a}\"")) && html.contains("阳光小区第1网格党小组"),
        "{html}"
    );

    // A window the app cannot read: named in the message, 422, the form kept, nothing stored.
    let providers = city.count("providers").await;
    let fields = |windows: &'static str| {
        vec![
            ("unit", unit.clone()),
            ("skills", "助餐送餐、政策宣讲".to_owned()),
            ("capacity", "5".to_owned()),
            ("windows", windows.to_owned()),
            ("areas", grid_a.clone()),
        ]
    };
    let send = |v: &Vec<(&'static str, String)>| {
        v.iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<(&str, String)>>()
    };
    let pairs = send(&fields("周三 08:00-11:30\n周八 09:00-10:00"));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bad = c.post_form("/providers/new", &pairs).await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    let html = bad.text();
    assert!(html.contains("“周八 09:00-10:00”："), "{html}");
    assert!(html.contains(
        "<textarea id=\"windows\" name=\"windows\" rows=\"3\" aria-invalid=\"true\" aria-describedby=\"form-error\">"
    ));
    assert!(html.contains("助餐送餐、政策宣讲"));
    assert!(
        html.contains(&format!("value=\"{grid_a}\" checked")),
        "{html}"
    );
    assert_eq!(city.count("providers").await, providers);

    let pairs = send(&fields("周三 08:00-11:30；周五 14:00-17:00"));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ok = c.post_form("/providers/new", &pairs).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    assert_eq!(ok.headers[header::LOCATION], "/providers?done=created");
    assert_eq!(city.count("providers").await, providers + 1);
    let listed = city
        .app
        .services()
        .providers(&city.system, None, Some("政策宣讲"), Default::default())
        .await
        .unwrap()
        .items;
    let p = listed
        .iter()
        .find(|p| p.unit_id == Some(team.id))
        .expect("the team is listed");
    assert_eq!(
        (p.kind_label, p.name.as_str(), p.capacity),
        ("志愿服务队", "东门社区志愿服务队", 5)
    );
    assert_eq!(p.windows_text, ["周三 08:00-11:30", "周五 14:00-17:00"]);
    assert_eq!(p.areas, std::slice::from_ref(&city.grid_a.path));
    let edit = format!("/providers/{county}/{}/edit", p.id);
    let list = c.get("/providers?done=created").await.text();
    assert!(list.contains("已加入资源清单") && list.contains(&format!("href=\"{edit}\"")));
    // Another community's team or area is out of the secretary's reach: 404, nothing stored.
    let west = city
        .app
        .org()
        .create_unit(
            &city.system,
            city.street.county_code,
            city.street.id,
            yinling_app::org::NewUnitInput {
                kind: yinling_domain::org::OrgKind::CommunityCommittee,
                name: "西门社区党委".into(),
                region_code: None,
                address: None,
                lat: None,
                lng: None,
                geojson: None,
            },
        )
        .await
        .unwrap();
    let west_team = city
        .app
        .org()
        .create_unit(
            &city.system,
            west.county_code,
            west.id,
            yinling_app::org::NewUnitInput {
                kind: yinling_domain::org::OrgKind::VolunteerTeam,
                name: "西门社区志愿服务队".into(),
                region_code: None,
                address: None,
                lat: None,
                lng: None,
                geojson: None,
            },
        )
        .await
        .unwrap();
    let west_key = key(&west);
    let (lc, lid) = city.people_a[0];
    let person = format!("{lc}/{lid}");
    for pairs in [
        vec![
            ("unit", format!("team/{}", key(&west_team))),
            ("capacity", "2".into()),
        ],
        vec![
            ("person", person.clone()),
            ("capacity", "2".into()),
            ("areas", west_key.clone()),
        ],
    ] {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = c.post_form("/providers/new", &pairs).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{pairs:?}: {}", r.text());
    }
    assert!(!c.get("/providers/new").await.text().contains("西门社区"));
    assert_eq!(city.count("providers").await, providers + 1);
    // Listed, the team is no longer offered.
    assert!(!c.get("/providers/new").await.text().contains(&unit));

    // The edit form is prefilled; a save changes areas and stops it (停用).
    let html = c.get(&edit).await.text();
    let version = p.version.to_string();
    assert!(
        html.contains(&format!("name=\"version\" value=\"{version}\"")),
        "{html}"
    );
    assert!(html.contains(&format!("value=\"{grid_a}\" checked")));
    assert!(html.contains("name=\"active\" value=\"1\" checked"));
    assert!(html.contains("周三 08:00-11:30\n周五 14:00-17:00"));
    let saved = c
        .post_form(
            &edit,
            &[
                ("version", &version),
                ("skills", "助餐送餐"),
                ("capacity", "6"),
                ("areas", &grid_b),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let after = city
        .app
        .services()
        .provider(&city.system, county, p.id)
        .await
        .unwrap();
    assert_eq!(
        (after.capacity, after.active, after.areas.clone()),
        (6, false, vec![city.grid_b.path.clone()])
    );
    assert!(after.windows.is_empty() && after.skills == ["助餐送餐"]);
    // The same form sent again carries a stale version: the app's conflict, nothing changed.
    let audit = city.count("audit_events").await;
    let stale = c
        .post_form(
            &edit,
            &[
                ("version", &version),
                ("skills", "理发"),
                ("capacity", "9"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text());
    assert!(
        stale
            .text()
            .contains("该记录已被他人修改，请刷新后重新填写")
    );
    let now = city
        .app
        .services()
        .provider(&city.system, county, p.id)
        .await
        .unwrap();
    assert_eq!(
        (now.capacity, now.active, now.version, now.skills.clone()),
        (6, false, after.version, after.skills.clone())
    );
    assert_eq!(city.count("audit_events").await, audit);

    // A volunteer from their person file: 张三丰 is not listed yet, 李四 is.
    let (pc, pid) = city.people_a[0];
    let file = c.get(&format!("/people/{pc}/{pid}")).await.text();
    assert!(
        file.contains(&format!("href=\"/providers/new?person={pc}/{pid}\""))
            && file.contains("加入资源清单"),
        "{file}"
    );
    let (lc, lid) = city.people_a[1];
    let file = c.get(&format!("/people/{lc}/{lid}")).await.text();
    assert!(file.contains(&format!("href=\"/providers/{county}/{}/edit\"", s.vol_a)));
    let r = c.get(&format!("/providers/new?person={lc}/{lid}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let html = c
        .get(&format!("/providers/new?person={pc}/{pid}"))
        .await
        .text();
    assert!(
        html.contains("<strong id=\"person-name\">张三丰</strong>")
            && !html.contains("name=\"unit\"")
    );
    let person = format!("{pc}/{pid}");
    let r = c
        .post_form(
            "/providers/new",
            &[("person", &person), ("skills", "理发"), ("capacity", "2")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(city.count("providers").await, providers + 2);

    // A grid worker sees the list but neither the button, the links nor the form.
    let mut worker = Client::new(app);
    worker.login_page("workera").await;
    let list = worker.get("/providers").await.text();
    assert!(
        !list.contains("/providers/new") && !list.contains("/edit\""),
        "{list}"
    );
    assert_eq!(
        worker.get("/providers/new").await.status,
        StatusCode::FORBIDDEN
    );
    // 李四 lives in the worker's grid (seen, not changed); the team sits above it (unseen).
    let li_si = format!("/providers/{county}/{}/edit", s.vol_a);
    assert_eq!(worker.get(&li_si).await.status, StatusCode::FORBIDDEN);
    assert_eq!(worker.get(&edit).await.status, StatusCode::NOT_FOUND);
    let file = worker.get(&format!("/people/{pc}/{pid}")).await.text();
    assert!(!file.contains("资源清单"));
}

// ==== Issue 9: account takeover, login `next`, CSRF on cookie-authenticated JSON ===========

#[tokio::test]
async fn a_community_secretary_cannot_take_over_a_county_administrator_who_volunteers_there() {
    let (city, app) = setup().await;
    // The 汶上 county administrator also volunteers in the secretary's community.
    let target = city
        .app
        .account_by_username("countyadmin")
        .await
        .unwrap()
        .unwrap();
    city.app
        .add_grant(
            &city.system,
            target.id,
            yinling_domain::role::Role::Volunteer,
            city.community.county_code,
            city.community.id,
        )
        .await
        .unwrap();
    let mut c = Client::login(&app, "secretary").await;
    let list = c.get("/users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text().contains("countyadmin"), "{}", list.text());
    assert_eq!(
        c.get(&format!("/users/{}", target.id)).await.status,
        StatusCode::NOT_FOUND
    );
    let r = c
        .post_form(
            &format!("/users/{}/password", target.id),
            &[("password", "Taken-Over-2026")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    for (path, pairs) in [
        (
            format!("/users/{}/disabled", target.id),
            vec![("disabled", "1")],
        ),
        (
            format!("/users/{}/grants", target.id),
            vec![
                ("role", "volunteer"),
                (
                    "unit",
                    &*format!("{}/{}", city.grid_a.county_code, city.grid_a.id),
                ),
            ],
        ),
    ] {
        let r = c.post_form(&path, &pairs).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
    }
    // Over the API too.
    let mut api = Client::new(app.clone());
    api.login_api("secretary").await;
    let r = api
        .json(Method::GET, &format!("/api/v1/users/{}", target.id), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .json(Method::GET, "/api/v1/users?per_page=200", None)
        .await;
    assert!(
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["username"] != "countyadmin"),
        "{}",
        r.text()
    );
    // Nothing changed: the administrator's password, grants and state are as they were.
    let after = city.app.account_by_id(target.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash, target.password_hash);
    assert!(!after.disabled);
    assert!(
        city.app
            .login("countyadmin", "Taken-Over-2026", None, None)
            .await
            .is_err()
    );
    city.app
        .login("countyadmin", PASSWORD, None, None)
        .await
        .expect("the administrator's own password still works");
}

/// The values of every `next` field in a page (the login form's, and the 长辈模式 switch's,
/// which returns to the page itself).
fn next_fields(page: &Resp) -> Vec<String> {
    page.text()
        .split("name=\"next\" value=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn login_next_never_leaves_the_site_whatever_it_carries() {
    let (_city, app) = setup().await;
    let long = format!("/{}", "a".repeat(10_000));
    let hostile = [
        "//evil.example",
        "/\\evil.example",
        "/%09/evil.example",
        "/\t/evil.example",
        "\t/evil.example",
        "/%2F%2Fevil.example",
        "/%2f%2fevil.example",
        "/%252F%252Fevil.example",
        "https://evil.example",
        "/ok%0d%0aSet-Cookie:x=1",
        "/ok\r\nSet-Cookie:x=1",
        "/ok\nx",
        "/%5Cevil.example",
        "",
        long.as_str(),
        "/张三",
    ];
    for next in hostile {
        let mut c = Client::new(app.clone());
        // The login page puts only a safe target into its form.
        let page = c
            .get(&format!("/login?next={}", urlencoding::encode(next)))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{next:?}");
        assert_eq!(next_fields(&page), ["/login", "/"], "{next:?}");
        let r = c
            .post_form(
                "/login",
                &[
                    ("username", "workera"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}: {}", r.text());
        assert_eq!(r.location(), "/", "{next:?}");
        // The 长辈模式 switch takes the same rule.
        let r = c
            .post_form("/elder-mode", &[("on", "1"), ("next", next)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}: {}", r.text());
        assert_eq!(r.location(), "/", "{next:?}");
    }
    // A wrong password with a hostile target: the form comes back, never a server error.
    let mut c = Client::new(app.clone());
    c.get("/login").await;
    let r = c
        .post_form(
            "/login",
            &[
                ("username", "workera"),
                ("password", "wrong"),
                ("next", "/ok\r\nSet-Cookie:x=1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(next_fields(&r), ["/login", "/"]);
    // Ordinary targets still work.
    for next in ["/people?q=zsf", "/people?q=%E5%BC%A0&page=2", "/"] {
        let mut c = Client::new(app.clone());
        c.get("/login").await;
        let r = c
            .post_form(
                "/login",
                &[
                    ("username", "workera"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), next);
    }
}

#[tokio::test]
async fn a_cookie_authenticated_json_write_needs_the_csrf_header() {
    let (city, app) = setup().await;
    let mut c = Client::login(&app, "workera").await;
    let csrf = c.cookies["yinling_csrf"].clone();
    let body = json!({"name": "王小明", "id_number": yinling_app::testing::valid_id("37083019900101123"),
        "home_unit_county_code": city.grid_a.county_code, "home_unit_id": city.grid_a.id});
    let people = city.count("people").await;
    for header_value in [None, Some("forged")] {
        let mut req =
            Request::post("/api/v1/people").header(header::CONTENT_TYPE, "application/json");
        if let Some(v) = header_value {
            req = req.header("x-csrf-token", v);
        }
        let r = c
            .send(req.body(Body::from(body.to_string())).unwrap())
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{header_value:?}: {}",
            r.text()
        );
        assert_eq!(r.json()["error"]["code"], "forbidden");
        assert_eq!(city.count("people").await, people);
    }
    let r = c
        .send(
            Request::post("/api/v1/people")
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-csrf-token", &csrf)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(city.count("people").await, people + 1);
}

// ==== Issue 9, items 2 and 8 (web): a masked number cannot be rebuilt; pages are not cached ==

mod masked_numbers_web {
    use axum::http::{Method, StatusCode, header};
    use serde_json::json;
    use yinling_app::{
        PageRequest, Settings,
        org::NewUnitInput,
        people::RoleInput,
        testing::{PEOPLE_A, PEOPLE_B, TestCity, valid_id},
    };
    use yinling_domain::{
        org::OrgKind,
        person::{PersonRoleKind, RoleDetails},
        role::Role,
    };
    use yinling_store::org::OrgUnitRow;
    use yinling_web::{AppState, WebConfig, router};

    use super::{setup, xlsx_text};
    use crate::support::{Client, Resp};

    async fn unit(
        city: &TestCity,
        parent: &OrgUnitRow,
        kind: OrgKind,
        name: &str,
        region: Option<&str>,
    ) -> OrgUnitRow {
        city.app
            .org()
            .create_unit(
                &city.system,
                parent.county_code,
                parent.id,
                NewUnitInput {
                    kind,
                    name: name.into(),
                    region_code: region.map(str::to_owned),
                    address: None,
                    lat: None,
                    lng: None,
                    geojson: None,
                },
            )
            .await
            .expect("unit")
    }

    /// Another street of 汶上 with one grid and its grid worker `workerc`, who may not see
    /// grid A or B.
    async fn other_street(city: &TestCity) -> OrgUnitRow {
        let street = unit(
            city,
            &city.county,
            OrgKind::StreetCommittee,
            "南站街道党工委",
            None,
        )
        .await;
        let community = unit(
            city,
            &street,
            OrgKind::CommunityCommittee,
            "南站社区党委",
            None,
        )
        .await;
        let grid = unit(
            city,
            &community,
            OrgKind::GridPartyGroup,
            "南站第1网格党小组",
            None,
        )
        .await;
        city.add_account("workerc", Role::GridWorker, &grid, None)
            .await;
        grid
    }

    fn masked(id_number: &str) -> String {
        format!("{}{}{}", &id_number[..1], "*".repeat(15), &id_number[16..])
    }

    fn birth_dates() -> Vec<String> {
        PEOPLE_A
            .iter()
            .chain(PEOPLE_B.iter())
            .map(|(_, n, _)| format!("{}-{}-{}", &n[6..10], &n[10..12], &n[12..14]))
            .collect()
    }

    fn assert_no_clear_numbers(what: &str, text: &str) {
        for (_, idn, phone) in PEOPLE_A.iter().chain(PEOPLE_B.iter()) {
            assert!(
                !text.contains(idn) && !text.contains(phone),
                "{what} shows a number in clear"
            );
        }
    }

    fn no_store(r: &Resp) -> bool {
        r.headers
            .get(header::CACHE_CONTROL)
            .is_some_and(|v| v == "no-store")
    }

    #[tokio::test]
    async fn a_grid_worker_registering_a_number_held_elsewhere_is_answered_as_for_a_fresh_one() {
        let (city, app) = setup().await;
        let grid_c = other_street(&city).await;
        let mut c = Client::login(&app, "workerc").await;
        let unit = format!("{}/{}", grid_c.county_code, grid_c.id);
        // 张三丰's number lives in another street of the county; the other number nowhere.
        let elsewhere = PEOPLE_A[0].1.to_owned();
        let fresh = valid_id("37083019440315127");
        let mut outcomes = Vec::new();
        for number in [&elsewhere, &fresh] {
            let county = grid_c.county_code;
            let normalise = |text: String, id: &str| {
                text.replace(&format!("{county}/{id}"), "<key>")
                    .replace(&format!("档案编号{id}"), "档案编号<id>")
                    .replace(&masked(number), "<masked>")
                    .replace(number.as_str(), "<number>")
            };
            let form = c.get(&format!("/people/new?unit={unit}")).await;
            assert_eq!(form.status, StatusCode::OK);
            let fields = [
                ("name", "张三丰"),
                ("id_number", number.as_str()),
                ("unit", unit.as_str()),
            ];
            let saved = c.post_form("/people/new", &fields).await;
            assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
            let to = saved.location();
            let id = to
                .trim_start_matches(&format!("/people/{}/", grid_c.county_code))
                .trim_end_matches("?ok=created")
                .to_owned();
            assert!(id.parse::<i64>().is_ok(), "{to}");
            let file = c.get(&to).await;
            assert_eq!(file.status, StatusCode::OK);
            // Registering the same number again names the worker's own file, kindly.
            let again = c.post_form("/people/new", &fields).await;
            assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
            let again = again.text();
            assert!(
                again.contains("该身份证号码已登记：张三丰")
                    && again.contains("不必重复登记")
                    && again.contains("id=\"id_number\" name=\"id_number\"")
                    && again.contains("aria-invalid=\"true\""),
                "{again}"
            );
            outcomes.push((
                normalise(to, &id),
                normalise(file.text(), &id),
                normalise(again, &id),
            ));
        }
        assert_eq!(outcomes[0].0, outcomes[1].0);
        assert_eq!(outcomes[0].1, outcomes[1].1, "the new files differ");
        assert_eq!(outcomes[0].2, outcomes[1].2, "the second answers differ");
        for (_, file, again) in &outcomes {
            for text in [file, again] {
                assert!(
                    !text.contains("其他辖区") && !text.contains("复核") && !text.contains("转到"),
                    "{text}"
                );
            }
        }
        // The API answers alike too: 201 for a third number held elsewhere.
        let mut api = Client::new(app.clone());
        api.login_api("workerc").await;
        let r = api
            .json(
                Method::POST,
                "/api/v1/people",
                Some(json!({"name": "赵六", "id_number": PEOPLE_B[0].1,
                    "home_unit_county_code": grid_c.county_code, "home_unit_id": grid_c.id})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        // The county has the two registrations of numbers held elsewhere to review.
        let county = city.caller("countyadmin").await;
        assert_eq!(city.app.people().open_duplicates(&county).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn the_county_reviews_routed_duplicates_on_its_page_and_over_the_api() {
        let (city, app) = setup().await;
        let grid_c = other_street(&city).await;
        let worker = city.caller("workerc").await;
        for (name, number, phone) in [
            ("张三风", PEOPLE_A[0].1, Some("13800000001")),
            ("钱七", PEOPLE_B[1].1, None),
        ] {
            city.app
                .people()
                .create(&worker, city.person_input(&grid_c, name, number, phone))
                .await
                .expect("registered");
        }
        // County staff find the queue from the menu and from the people list.
        let mut county = Client::login(&app, "countyadmin").await;
        let people = county.get("/people").await.text();
        assert!(
            people.contains("有 2 条重复登记待本县（市、区）复核")
                && people.contains("href=\"/people/duplicates\">重复登记复核</a>")
                && people.contains("<a href=\"/people/duplicates\">去复核</a>"),
            "{people}"
        );
        let page = county.get("/people/duplicates").await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.text();
        assert!(html.contains("待复核 2 条"), "{html}");
        // Both files side by side, masked: names, units, year of birth, masked numbers.
        for shown in [
            "张三风",
            "张三丰",
            "钱七",
            "南站第1网格党小组",
            "阳光小区第1网格党小组",
            "阳光小区第2网格党小组",
            "82岁（1944年生）",
            &masked(PEOPLE_A[0].1),
            "138****0001",
            "138****5678",
            "新登记的档案",
            "已有档案",
            "value=\"merge\"",
            "value=\"reject\"",
        ] {
            assert!(html.contains(shown), "{shown} missing: {html}");
        }
        assert_no_clear_numbers("the review page", &html);
        for d in birth_dates() {
            assert!(!html.contains(&d), "{d} shown");
        }
        // The registrar has no such page, menu entry or banner.
        let mut registrar = Client::login(&app, "workerc").await;
        let r = registrar.get("/people/duplicates").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.text().contains("您无权复核重复登记"));
        let list = registrar.get("/people").await.text();
        assert!(!list.contains("重复登记"), "{list}");

        // The API lists the same, masked.
        let mut api = Client::new(app.clone());
        api.login_api("countyadmin").await;
        let r = api.get("/api/v1/people/duplicates?status=open").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let body = r.json();
        assert_eq!(body["total"], 2);
        let cases = body["items"].as_array().unwrap();
        let zsf = cases
            .iter()
            .find(|c| c["registration"]["name"] == "张三风")
            .unwrap();
        assert_eq!(zsf["existing"]["name"], "张三丰");
        assert_eq!(zsf["existing"]["id_number_masked"], masked(PEOPLE_A[0].1));
        assert_eq!(zsf["existing"]["birth_year"], 1944);
        assert_no_clear_numbers("the API list", &r.text());
        for d in birth_dates() {
            assert!(!r.text().contains(&d), "{d} in the API");
        }
        let r = api.get("/api/v1/people/duplicates?status=closed").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let mut worker_api = Client::new(app.clone());
        worker_api.login_api("workerc").await;
        let r = worker_api.get("/api/v1/people/duplicates").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // Deciding on the page: a choice is needed; merge closes the new file.
        let (zc, zid) = (
            zsf["county_code"].as_i64().unwrap(),
            zsf["id"].as_i64().unwrap(),
        );
        let version = zsf["version"].as_i64().unwrap().to_string();
        let action = format!("/people/duplicates/{zc}/{zid}");
        let r = county.post_form(&action, &[("version", &version)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("请选择“是同一人，并档”"), "{}", r.text());
        let r = county
            .post_form(
                &action,
                &[
                    ("decision", "merge"),
                    ("version", &version),
                    ("note", "同一人，已在东门社区登记"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(r.location(), "/people/duplicates?done=merge");
        let after = county.get("/people/duplicates?done=merge").await.text();
        assert!(
            after.contains("已并档：新登记的档案已关闭") && after.contains("待复核 1 条"),
            "{after}"
        );
        let all = county.get("/people/duplicates?status=all").await.text();
        assert!(
            all.contains("共 2 条") && all.contains("同一人，已在东门社区登记"),
            "{all}"
        );
        let reg = zsf["registration"]["id"].as_i64().unwrap();
        let file = city.app.people().file(&worker, zc, reg).await.unwrap();
        assert_eq!(file.status, "merged");
        // Deciding it again is refused beside the case, as a conflict.
        let r = county
            .post_form(&action, &[("decision", "reject"), ("version", &version)])
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.text().contains("该重复登记已经处理"));

        // The other case over the API: the registrar may not, the county rejects.
        let other = cases
            .iter()
            .find(|c| c["registration"]["name"] == "钱七")
            .unwrap();
        let decision = format!(
            "/api/v1/people/duplicates/{}/{}/decision",
            other["county_code"], other["id"]
        );
        let body = json!({"decision": "reject", "version": other["version"], "note": "号码填错"});
        let r = worker_api
            .json(Method::POST, &decision, Some(body.clone()))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = api.json(Method::POST, &decision, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        let r = api.json(Method::POST, &decision, Some(body)).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.json()["error"]["code"], "already_resolved");
        let left = city
            .app
            .people()
            .duplicates(
                &city.caller("countyadmin").await,
                Some("open"),
                PageRequest::default(),
            )
            .await
            .unwrap();
        assert_eq!(left.total, 0);
        let empty = county.get("/people/duplicates").await.text();
        assert!(empty.contains("没有待复核的重复登记"), "{empty}");
    }

    #[tokio::test]
    async fn a_file_outside_the_reviewers_scope_is_named_by_its_key_only_and_not_merged() {
        let (city, app) = setup().await;
        let root = city
            .app
            .store()
            .read()
            .scalar::<i64>(yinling_store::q!(
                "SELECT id FROM org_units WHERE depth = 1"
            ))
            .await
            .unwrap();
        let root = yinling_store::org::get(&mut city.app.store().read(), 370800, root)
            .await
            .unwrap()
            .unwrap();
        let qufu = unit(
            &city,
            &root,
            OrgKind::County,
            "中共曲阜市委组织部",
            Some("370881"),
        )
        .await;
        let street = unit(&city, &qufu, OrgKind::StreetCommittee, "鲁城街道", None).await;
        let community = unit(
            &city,
            &street,
            OrgKind::CommunityCommittee,
            "红星社区",
            None,
        )
        .await;
        city.add_account("qufuadmin", Role::CountyAdmin, &qufu, None)
            .await;
        city.add_account("qufuadmin2", Role::CountyAdmin, &qufu, None)
            .await;
        let registrar = city.caller("qufuadmin").await;
        city.app
            .people()
            .create(
                &registrar,
                city.person_input(&community, "张三风", PEOPLE_A[0].1, None),
            )
            .await
            .expect("registered");
        // The registrar does not review their own registration.
        let mut own = Client::login(&app, "qufuadmin").await;
        assert!(
            own.get("/people/duplicates")
                .await
                .text()
                .contains("没有待复核的重复登记")
        );
        let mut colleague = Client::login(&app, "qufuadmin2").await;
        let html = colleague.get("/people/duplicates").await.text();
        assert!(
            html.contains("张三风")
                && html.contains("红星社区")
                && html.contains("这份档案在您的辖区以外，您无权查看")
                && html.contains("不能在这里并档"),
            "{html}"
        );
        // Nothing of the 汶上 file: not its name, unit, phone or age.
        for hidden in ["张三丰", "阳光小区", "138****5678", "value=\"merge\""] {
            assert!(!html.contains(hidden), "{hidden} shown: {html}");
        }
        let mut api = Client::new(app.clone());
        api.login_api("qufuadmin2").await;
        let body = api.get("/api/v1/people/duplicates").await.json();
        let case = &body["items"][0];
        assert_eq!(case["existing"]["visible"], false);
        assert!(
            case["existing"]["name"].is_null() && case["existing"]["id_number_masked"].is_null()
        );
        // A merge posted anyway is refused, beside the case.
        let r = colleague
            .post_form(
                &format!("/people/duplicates/{}/{}", case["county_code"], case["id"]),
                &[
                    ("decision", "merge"),
                    ("version", &case["version"].to_string()),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.text().contains("已有档案不在您的辖区内"), "{}", r.text());
        // Another county's administrator cannot even find the case.
        let mut wenshang = Client::login(&app, "countyadmin").await;
        let r = wenshang
            .post_form(
                &format!("/people/duplicates/{}/{}", case["county_code"], case["id"]),
                &[("decision", "reject"), ("version", "1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn an_exact_number_search_on_the_people_page_needs_the_reveal_right_and_is_limited() {
        let mut settings = Settings::default();
        settings.privacy.exact_searches_per_hour = 2;
        let city = TestCity::with_settings(settings).await;
        let app = router(AppState::new(city.app.clone(), WebConfig::default()));
        // Without the reveal right: a clear refusal beside the search box, nobody found.
        let mut admin = Client::login(&app, "cityadmin").await;
        for number in [PEOPLE_A[0].1, PEOPLE_A[0].2] {
            let r = admin.get(&format!("/people?q={number}")).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
            let html = r.text();
            assert!(
                html.contains("按完整身份证号或手机号查找需要查看完整号码的权限")
                    && html.contains("可以按姓名、拼音首字母或身份证号后4位查找")
                    && html.contains("aria-describedby=\"q-error\""),
                "{html}"
            );
            assert!(!html.contains("张三丰"));
            let r = admin.get(&format!("/people/export.xlsx?q={number}")).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
        }
        let mut admin_api = Client::new(app.clone());
        admin_api.login_api("cityadmin").await;
        let r = admin_api
            .get(&format!("/api/v1/people?q={}", PEOPLE_A[0].1))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!r.text().contains("张三丰"));
        // The grid worker may, twice an hour here; then 429 with the time it lifts.
        let mut worker = Client::login(&app, "workera").await;
        for _ in 0..2 {
            let r = worker.get(&format!("/people?q={}", PEOPLE_A[0].1)).await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(r.text().contains("张三丰"));
        }
        let r = worker.get(&format!("/people?q={}", PEOPLE_A[0].1)).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        let html = r.text();
        assert!(
            html.contains("尝试次数过多，请于")
                && html.contains("每小时有次数限制")
                && html.contains("按姓名或拼音首字母查找不受限制")
                && html.contains("id=\"people-search\""),
            "{html}"
        );
        assert!(!html.contains("张三丰"));
        // Names still work.
        assert_eq!(worker.get("/people?q=zsf").await.status, StatusCode::OK);
        // A registration carries a full number: limited alike, the form kept.
        let unit = format!("{}/{}", city.grid_a.county_code, city.grid_a.id);
        let fresh = valid_id("37083019900101123");
        let r = worker
            .post_form(
                "/people/new",
                &[("name", "孙八"), ("id_number", &fresh), ("unit", &unit)],
            )
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        let html = r.text();
        assert!(
            html.contains("尝试次数过多") && html.contains("value=\"孙八\""),
            "{html}"
        );
        let mut worker_api = Client::new(app.clone());
        worker_api.login_api("workera").await;
        let r = worker_api
            .get(&format!("/api/v1/people?q={}", PEOPLE_A[1].2))
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.json()["error"]["code"], "too_many_attempts");
    }

    #[tokio::test]
    async fn no_page_export_or_answer_shows_a_full_birth_date_beside_a_masked_number() {
        let (city, app) = setup().await;
        let (c, id) = city.people_a[0];
        city.app
            .people()
            .add_role(
                &city.system,
                c,
                id,
                RoleInput {
                    kind: PersonRoleKind::Volunteer,
                    unit_county_code: Some(city.branch.county_code),
                    unit_id: Some(city.branch.id),
                    since: None,
                    details: RoleDetails::default(),
                },
            )
            .await
            .unwrap();
        let branch = (city.branch.county_code, city.branch.id);
        let pages = [
            "/people".to_owned(),
            "/people?q=zsf".to_owned(),
            format!("/people/{c}/{id}"),
            format!("/org/{}/{}/members", branch.0, branch.1),
        ];
        let api = [
            "/api/v1/people".to_owned(),
            format!("/api/v1/people/{c}/{id}"),
            format!("/api/v1/org/units/{}/{}/members", branch.0, branch.1),
        ];
        let exports = ["/people/export.xlsx", "/api/v1/people/export"];
        // Roles that view people but may not reveal their numbers.
        for who in ["cityadmin", "branchsec"] {
            let mut web = Client::login(&app, who).await;
            let mut json = Client::new(app.clone());
            json.login_api(who).await;
            let mut seen = Vec::new();
            for p in &pages {
                let r = web.get(p).await;
                assert_eq!(r.status, StatusCode::OK, "{who} {p}");
                seen.push((p.clone(), r.text()));
            }
            for p in &api {
                let r = json.get(p).await;
                assert_eq!(r.status, StatusCode::OK, "{who} {p}");
                seen.push((p.clone(), r.text()));
            }
            for p in exports {
                let client = if p.starts_with("/api") {
                    &mut json
                } else {
                    &mut web
                };
                let r = client.get(p).await;
                assert_eq!(r.status, StatusCode::OK, "{who} {p}");
                seen.push((p.to_owned(), xlsx_text(&r.body)));
            }
            for (p, text) in &seen {
                assert!(
                    text.contains("1944") || text.contains("82岁"),
                    "{who} {p}: no age or year of birth"
                );
                for d in birth_dates() {
                    assert!(!text.contains(&d), "{who} {p} shows {d}");
                }
                assert_no_clear_numbers(p, text);
            }
        }
        // Whoever may reveal over the person still sees the date (so the check above can see
        // one).
        let mut worker = Client::login(&app, "workera").await;
        let file = worker.get(&format!("/people/{c}/{id}")).await.text();
        assert!(file.contains("1944-03-15"), "{file}");
    }

    #[tokio::test]
    async fn responses_with_personal_data_are_not_stored_static_assets_are_cached() {
        let (city, app) = setup().await;
        let (c, id) = city.people_a[0];
        let mut web = Client::login(&app, "workera").await;
        let mut api = Client::new(app.clone());
        api.login_api("workera").await;
        let mut anonymous = Client::new(app.clone());
        let checks = [
            ("page", web.get("/people").await, StatusCode::OK),
            (
                "file",
                web.get(&format!("/people/{c}/{id}")).await,
                StatusCode::OK,
            ),
            (
                "excel",
                web.get("/people/export.xlsx").await,
                StatusCode::OK,
            ),
            (
                "error page",
                web.get("/people/370830/999999").await,
                StatusCode::NOT_FOUND,
            ),
            ("api list", api.get("/api/v1/people").await, StatusCode::OK),
            (
                "api file",
                api.get(&format!("/api/v1/people/{c}/{id}")).await,
                StatusCode::OK,
            ),
            (
                "api excel",
                api.get("/api/v1/people/export").await,
                StatusCode::OK,
            ),
            (
                "api error",
                api.get("/api/v1/people/370830/999999").await,
                StatusCode::NOT_FOUND,
            ),
            (
                "api unauthenticated",
                anonymous.get("/api/v1/people").await,
                StatusCode::UNAUTHORIZED,
            ),
            ("login page", anonymous.get("/login").await, StatusCode::OK),
            (
                "no such page",
                web.get("/no-such-page").await,
                StatusCode::NOT_FOUND,
            ),
        ];
        for (what, r, status) in &checks {
            assert_eq!(r.status, *status, "{what}");
            assert!(
                no_store(r),
                "{what}: Cache-Control {:?}",
                r.headers.get(header::CACHE_CONTROL)
            );
        }
        // What sets its own keeps it: the assets stay cacheable.
        for path in ["/static/yinling.css", "/static/yinling.js", "/favicon.ico"] {
            let r = anonymous.get(path).await;
            assert_eq!(r.status, StatusCode::OK);
            let cc = r.headers[header::CACHE_CONTROL].to_str().unwrap();
            assert!(cc.starts_with("public, max-age="), "{path}: {cc}");
        }
    }
}

/// 后台任务: the jobs page and 立即运行 are the city administrator's; the runner's figures
/// are on `/metrics`.
mod jobs_page {
    use super::*;
    use yinling_app::jobs::Runner;
    use yinling_store::jobs as store_jobs;

    #[tokio::test]
    async fn only_a_city_administrator_sees_the_jobs_and_runs_one_now() {
        let (city, app) = setup().await;
        let runner = Runner::new(city.app.clone());
        runner.run_due().await.unwrap();
        let mut admin = Client::login(&app, "cityadmin").await;
        let home = admin.get("/").await.text();
        assert!(home.contains("href=\"/jobs\""), "{home}");
        let page = admin.get("/jobs").await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.text();
        for label in [
            "超时订单上报",
            "清理未使用照片",
            "奖励入账",
            "积分到期",
            "会话清理",
        ] {
            assert!(html.contains(label), "{label}: {html}");
        }
        assert!(
            html.contains("action=\"/jobs/sweep_sessions/run\""),
            "{html}"
        );
        assert!(html.contains("上次运行"), "{html}");

        for who in ["countyadmin", "secretary", "workera", "resident"] {
            let mut c = Client::login(&app, who).await;
            assert!(!c.get("/").await.text().contains("href=\"/jobs\""), "{who}");
            assert_eq!(c.get("/jobs").await.status, StatusCode::FORBIDDEN, "{who}");
            let r = c.post_form("/jobs/sweep_sessions/run", &[]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}");
        }
        let due = |city: &TestCity| {
            let store = city.app.store().clone();
            async move {
                store_jobs::get(&mut store.read(), "sweep_sessions")
                    .await
                    .unwrap()
                    .unwrap()
                    .due_at
            }
        };
        let later = due(&city).await;
        assert!(later > city.app.now());

        // Without the form's token nothing changes.
        let r = admin
            .send(
                Request::post("/jobs/sweep_sessions/run")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("csrf_token=forged"))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(due(&city).await, later);
        let r = admin.post_form("/jobs/no_such_job/run", &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        let r = admin.post_form("/jobs/sweep_sessions/run", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), "/jobs?ok=queued");
        assert_eq!(due(&city).await, city.app.now());
        let html = admin.get("/jobs?ok=queued").await.text();
        assert!(html.contains("已安排立即运行"), "{html}");
        assert!(html.contains("cityadmin 已要求立即运行"), "{html}");
        let ran = runner.run_due().await.unwrap();
        assert_eq!(
            ran.iter().map(|r| r.name).collect::<Vec<_>>(),
            ["sweep_sessions"]
        );
        let audit = admin.get("/audit?action=job.").await.text();
        assert!(audit.contains("立即运行后台任务"), "{audit}");
    }

    #[tokio::test]
    async fn each_jobs_runs_failures_items_and_duration_are_on_metrics_by_name() {
        let (city, app) = setup().await;
        Runner::new(city.app.clone()).run_due().await.unwrap();
        let mut c = Client::new(app);
        let text = c.get("/metrics").await.text();
        for line in [
            "yinling_job_runs_total{job=\"claim_awards\",outcome=\"ok\"}",
            "yinling_job_failures_total{job=\"purge_photos\"} 0",
            "yinling_job_items_total{job=\"escalate_orders\",result=\"done\"}",
            "yinling_job_items_total{job=\"expire_points\",result=\"set_aside\"}",
            "yinling_job_last_duration_seconds{job=\"sweep_sessions\"}",
            "yinling_job_failures_in_a_row{job=\"purge_photos\"} 0",
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
    }
}

/// Issue 10, item 8: an authenticated read costs the database what the bare health check
/// does, one statement, and what changes an account counts from the next request.
mod one_read {
    use axum::http::{Method, StatusCode};
    use yinling_store::testing::statements_of;

    use super::{Client, setup};

    #[tokio::test]
    async fn an_authenticated_read_is_one_statement_like_the_health_check() {
        let (city, app) = setup().await;
        let mut c = Client::new(app.clone());
        c.login_api("workera").await;
        let (me, sql) = statements_of(c.json(Method::GET, "/api/v1/me", None)).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.text());
        assert_eq!(me.json()["username"], "workera");
        assert_eq!(sql.len(), 1, "{sql:#?}");
        let mut anonymous = Client::new(app);
        let (health, bare) = statements_of(anonymous.get("/healthz")).await;
        assert_eq!(health.status, StatusCode::OK);
        assert_eq!(bare.len(), 1, "{bare:#?}");

        // Disabled: the very next request is refused, and still with one read.
        let id = city.caller("workera").await.account_id.unwrap();
        yinling_store::accounts::set_disabled(&mut city.app.store().write(), id, true, 0)
            .await
            .unwrap();
        let (me, sql) = statements_of(c.json(Method::GET, "/api/v1/me", None)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.text());
        assert_eq!(sql.len(), 1, "{sql:#?}");
    }

    #[tokio::test]
    async fn logout_and_a_revoked_grant_count_from_the_next_request() {
        let (city, app) = setup().await;
        let id = city
            .add_account(
                "twogrids",
                yinling_domain::role::Role::GridWorker,
                &city.grid_a,
                None,
            )
            .await;
        let second = city
            .app
            .add_grant(
                &city.system,
                id,
                yinling_domain::role::Role::GridWorker,
                city.grid_b.county_code,
                city.grid_b.id,
            )
            .await
            .unwrap();
        let mut c = Client::new(app);
        c.login_api("twogrids").await;
        let me = c.json(Method::GET, "/api/v1/me", None).await.json();
        assert_eq!(me["grants"].as_array().unwrap().len(), 2, "{me}");
        city.app
            .remove_grant(&city.system, id, second)
            .await
            .unwrap();
        let me = c.json(Method::GET, "/api/v1/me", None).await.json();
        let grants = me["grants"].as_array().unwrap();
        assert_eq!(grants.len(), 1, "{me}");
        assert_eq!(grants[0]["unit_id"], city.grid_a.id, "{me}");

        let out = c.json(Method::DELETE, "/api/v1/session", None).await;
        assert!(out.status.is_success(), "{}", out.text());
        let me = c.json(Method::GET, "/api/v1/me", None).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.text());
    }
}
