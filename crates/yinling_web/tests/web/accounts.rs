//! Accounts and sessions through the web: sessions and CSRF, secure cookies and headers, elder
//! mode that sticks, idle sessions, no takeover by a lower rank, the login's next address, one
//! read per authenticated request.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use serde_json::json;
use tower::ServiceExt;
use yinling_app::testing::{PASSWORD, PEOPLE_A};

use crate::support::{Client, Resp, setup};

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
async fn an_idle_session_sends_the_user_back_to_login_with_an_explanation() {
    let (city, app) = setup().await;
    let mut c = Client::new(app);
    c.login_page("workera").await;
    assert_eq!(c.get("/people").await.status, StatusCode::OK);
    city.clock.advance(31 * yinling_app::kernel::clock::MINUTE);
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

// ==== Issue 9: account takeover, login `next`, CSRF on cookie-authenticated JSON ===========

#[tokio::test]
async fn a_community_secretary_cannot_take_over_a_county_administrator_who_volunteers_there() {
    let (city, app) = setup().await;
    // The 汶上 county administrator also volunteers in the secretary's community.
    let target = city
        .app
        .accounts()
        .by_username("countyadmin")
        .await
        .unwrap()
        .unwrap();
    city.app
        .accounts()
        .add_grant(
            &city.system,
            target.id.get(),
            yinling_domain::role::Role::Volunteer,
            city.community.county_code.as_i64(),
            city.community.id.get(),
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
    let after = city
        .app
        .accounts()
        .by_id(target.id.get())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.password_hash, target.password_hash);
    assert!(!after.disabled);
    assert!(
        city.app
            .accounts()
            .login("countyadmin", "Taken-Over-2026", None, None)
            .await
            .is_err()
    );
    city.app
        .accounts()
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
        "home_unit_county_code": city.grid_a.county_code.as_i64(), "home_unit_id": city.grid_a.id});
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
        yinling_store::accounts::set_disabled(
            &mut city.app.store().write(),
            yinling_domain::ids::AccountId(id),
            true,
            0,
        )
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
            .accounts()
            .add_grant(
                &city.system,
                id,
                yinling_domain::role::Role::GridWorker,
                city.grid_b.county_code.as_i64(),
                city.grid_b.id.get(),
            )
            .await
            .unwrap();
        let mut c = Client::new(app);
        c.login_api("twogrids").await;
        let me = c.json(Method::GET, "/api/v1/me", None).await.json();
        assert_eq!(me["grants"].as_array().unwrap().len(), 2, "{me}");
        city.app
            .accounts()
            .remove_grant(&city.system, id, second)
            .await
            .unwrap();
        let me = c.json(Method::GET, "/api/v1/me", None).await.json();
        let grants = me["grants"].as_array().unwrap();
        assert_eq!(grants.len(), 1, "{me}");
        assert_eq!(grants[0]["unit_id"], city.grid_a.id.get(), "{me}");

        let out = c.json(Method::DELETE, "/api/v1/session", None).await;
        assert!(out.status.is_success(), "{}", out.text());
        let me = c.json(Method::GET, "/api/v1/me", None).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.text());
    }
}
