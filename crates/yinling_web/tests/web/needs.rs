//! The needs ledger through the pages: recorded, followed up, imported and exported.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use yinling_app::testing::PEOPLE_A;

use crate::support::{Client, setup, xlsx_text};

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
