//! People through the web: masked numbers cannot be rebuilt.

use crate::support::{setup, xlsx_text};

// ==== Issue 9, items 2 and 8 (web): a masked number cannot be rebuilt; pages are not cached ==

mod masked_numbers_web {
    use axum::http::{Method, StatusCode, header};
    use serde_json::json;
    use yinling_app::testing::person_key;
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
                yinling_domain::ids::Key::new(parent.county_code, parent.id),
                NewUnitInput {
                    region_code: region.map(str::to_owned),
                    ..yinling_app::testing::unit(kind, name)
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
                    "home_unit_county_code": grid_c.county_code.as_i64(), "home_unit_id": grid_c.id})),
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
        let file = city
            .app
            .people()
            .file(&worker, person_key((zc, reg)))
            .await
            .unwrap();
        assert_eq!(file.status.as_str(), "merged");
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
        let root = yinling_store::org::get(
            &mut city.app.store().read(),
            yinling_domain::ids::Key::from_parts(370800, root).unwrap(),
        )
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
                person_key((c, id)),
                RoleInput {
                    kind: PersonRoleKind::Volunteer,
                    unit_county_code: Some(city.branch.county_code.as_i64()),
                    unit_id: Some(city.branch.id.get()),
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
