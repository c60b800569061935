//! Service orders through the pages and the API: placed, served and rated; completion photos.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use serde_json::json;

use crate::support::{Client, Resp, setup, validator_for};

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
    // The API ranks the same candidates, each a flat record: its key, score and reasons.
    let cands = worker.get(&format!("/api/v1{order}/candidates")).await;
    assert_eq!(cands.status, StatusCode::OK, "{}", cands.text());
    let first = &cands.json()[0];
    assert_eq!(first["county_code"], city.community.county_code.as_i64());
    assert_eq!(first["id"], services.vol_a);
    assert_eq!(first["name"], "李四");
    assert!(
        first["score"].as_f64().unwrap() > 0.0 && first["parts"].is_array(),
        "{first}"
    );
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
        .set_files(yinling_app::kernel::files::FileStore::local(dir.path()).unwrap());
    let s = city.add_services().await;
    let resident = city.caller("resident").await;
    let vola = city.caller("vola").await;
    let order = city
        .app
        .orders()
        .place(
            &resident,
            yinling_app::orders::OrderInput {
                item_id: yinling_domain::ids::ServiceItemId(s.item.id.get()),
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
                yinling_domain::ids::Key::new(county, id),
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
    big.resize(yinling_app::kernel::files::MAX_PHOTO_BYTES + 100 * 1024, 0);
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
