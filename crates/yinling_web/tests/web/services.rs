//! The service list and the resource list through the pages.

use axum::http::{StatusCode, header};

use crate::support::{Client, setup};

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
            yinling_domain::ids::Key::new(city.community.county_code, city.community.id),
            yinling_app::testing::unit(
                yinling_domain::org::OrgKind::VolunteerTeam,
                "东门社区志愿服务队",
            ),
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
            yinling_domain::ids::Key::new(city.street.county_code, city.street.id),
            yinling_app::testing::unit(
                yinling_domain::org::OrgKind::CommunityCommittee,
                "西门社区党委",
            ),
        )
        .await
        .unwrap();
    let west_team = city
        .app
        .org()
        .create_unit(
            &city.system,
            yinling_domain::ids::Key::new(west.county_code, west.id),
            yinling_app::testing::unit(
                yinling_domain::org::OrgKind::VolunteerTeam,
                "西门社区志愿服务队",
            ),
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
        .provider(
            &city.system,
            yinling_domain::ids::Key::new(p.county_code, p.id),
        )
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
        .provider(
            &city.system,
            yinling_domain::ids::Key::new(p.county_code, p.id),
        )
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
