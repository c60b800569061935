//! Mediation through the pages, in elder mode, refused to the other grid.

use axum::http::{StatusCode, header};
use yinling_app::testing::TestCity;
use yinling_app::testing::person_key;

use crate::support::{Client, setup, xlsx_text};

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
                unit_county_code: city.grid_b.county_code.into(),
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
                    person_id: Some(yinling_domain::ids::PersonId(city.people_b[0].1)),
                }],
                mediators: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!((key.county_code, key.id()), (city.grid_b.county_code, 1));
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
            person_key((lc, lid)),
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
