//! Use-case tests on the backend the run selected (SQLite by default; PostgreSQL when
//! YINLING_TEST_DATABASE_URL is set). Each test builds its own small city.

use yinling_app::{
    AppError, PageRequest,
    clock::MINUTE,
    people::{PeopleQuery, RoleInput, SensitiveField, TagInput},
    tags::TagDefInput,
    testing::{PASSWORD, PEOPLE_A, PEOPLE_B, TestCity, valid_id},
};
use yinling_domain::person::{PersonRoleKind, RetireKind, RoleDetails};

fn q(text: &str) -> PeopleQuery {
    PeopleQuery {
        q: Some(text.to_owned()),
        ..PeopleQuery::default()
    }
}

async fn names(city: &TestCity, user: &str, query: PeopleQuery) -> Vec<String> {
    let caller = city.caller(user).await;
    let page = city
        .app
        .search_people(&caller, &query, PageRequest::default())
        .await
        .expect("search");
    let mut n: Vec<String> = page.items.into_iter().map(|p| p.name).collect();
    n.sort();
    n
}

#[tokio::test]
async fn search_by_name_initials_pinyin_and_id_digits() {
    let city = TestCity::new().await;
    assert_eq!(names(&city, "countyadmin", q("zsf")).await, ["张三丰"]);
    assert_eq!(
        names(&city, "countyadmin", q("ZSF")).await,
        ["张三丰"],
        "case does not matter"
    );
    assert_eq!(
        names(&city, "countyadmin", q("zhangsan")).await,
        ["张三丰"],
        "pinyin prefix"
    );
    assert_eq!(
        names(&city, "countyadmin", q("张")).await,
        ["张三丰"],
        "name prefix"
    );
    assert_eq!(
        names(&city, "countyadmin", q("1238")).await,
        ["张三丰"],
        "last four of the ID"
    );
    assert_eq!(
        names(&city, "countyadmin", q(PEOPLE_B[0].1)).await,
        ["赵六"],
        "full ID"
    );
    assert_eq!(
        names(&city, "countyadmin", q("13912345670")).await,
        ["李四"],
        "phone"
    );
    assert_eq!(
        names(&city, "countyadmin", q("ls")).await,
        ["李四"],
        "initials match whole"
    );
    assert_eq!(
        names(&city, "countyadmin", q("lisi")).await,
        ["李四"],
        "short pinyin matches whole"
    );
    assert!(
        names(&city, "countyadmin", q("l")).await.is_empty(),
        "a lone letter is no search"
    );
    assert!(names(&city, "countyadmin", q("qwxz")).await.is_empty());
    // A malformed number is a clear error, not an empty list.
    let caller = city.caller("countyadmin").await;
    let err = city
        .app
        .search_people(&caller, &q("123456"), PageRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Invalid { field: Some(ref f), .. } if f == "q"),
        "{err:?}"
    );
}

#[tokio::test]
async fn grid_worker_sees_only_their_grid() {
    let city = TestCity::new().await;
    assert_eq!(
        names(&city, "workera", PeopleQuery::default()).await,
        ["张三丰", "李四", "王五"]
    );
    assert_eq!(
        names(&city, "workerb", PeopleQuery::default()).await,
        ["赵六", "钱七"]
    );
    assert!(names(&city, "workerb", q("zsf")).await.is_empty());
    assert!(names(&city, "workerb", q("1238")).await.is_empty());
    assert_eq!(
        names(&city, "secretary", PeopleQuery::default())
            .await
            .len(),
        5
    );
    // Narrowing to the other grid never widens the scope.
    let b = city.caller("workerb").await;
    let other = PeopleQuery {
        unit: Some(format!("{}/{}", city.grid_a.county_code, city.grid_a.id)),
        ..PeopleQuery::default()
    };
    let page = city
        .app
        .search_people(&b, &other, PageRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());

    let (c, id) = city.people_a[0];
    let not_found = |r: Result<_, AppError>| matches!(r, Err(AppError::NotFound { .. }));
    assert!(not_found(city.app.person_file(&b, c, id).await.map(|_| ())));
    assert!(not_found(
        city.app
            .reveal(&b, c, id, SensitiveField::IdNumber)
            .await
            .map(|_| ())
    ));
    let mut input = city.person_input(&city.grid_a, "张三丰", PEOPLE_A[0].1, None);
    input.version = Some(1);
    assert!(not_found(city.app.update_person(&b, c, id, input).await));
    assert!(not_found(
        city.app.set_skills(&b, c, id, vec!["理发".into()]).await
    ));
    assert!(not_found(city.app.remove_role(&b, c, id, 1).await));
    assert!(not_found(
        city.app
            .tag_person(
                &b,
                c,
                id,
                TagInput {
                    tag_id: 1,
                    valid_from: None,
                    valid_to: None,
                    note: None
                }
            )
            .await
            .map(|_| ())
    ));
    assert!(not_found(
        city.app
            .unit_view(&b, city.grid_a.county_code, city.grid_a.id)
            .await
            .map(|_| ())
    ));
    // Creating someone in grid A from grid B is refused too.
    let err = city
        .app
        .create_person(
            &b,
            city.person_input(&city.grid_a, "孙八", &valid_id("37083019900101123"), None),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
    // Exports contain only the caller's grid.
    let bytes = city
        .app
        .export_people_xlsx(&b, &PeopleQuery::default())
        .await
        .unwrap();
    let text = xlsx_text(&bytes);
    assert!(text.contains("赵六") && text.contains("钱七"));
    assert!(!text.contains("张三丰"));
}

/// All cell text of the first sheet, read back with an independent reader.
fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let range = wb.worksheet_range_at(0).expect("sheet").expect("range");
    range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect::<Vec<_>>()
        .join("|")
}

#[tokio::test]
async fn numbers_are_masked_everywhere_and_reveals_are_audited() {
    let city = TestCity::new().await;
    let (c, id) = city.people_a[0];
    let worker = city.caller("workera").await;
    let file = city.app.person_file(&worker, c, id).await.unwrap();
    assert_eq!(file.id_number_masked, "3***************38");
    assert_eq!(file.phone_masked.as_deref(), Some("138****5678"));
    assert_eq!(file.gender, "male");
    assert_eq!(file.birth_date.as_deref(), Some("1944-03-15"));
    assert_eq!(file.age, 82);
    assert!(file.can_reveal);
    let json = serde_json::to_string(&file).unwrap();
    assert!(!json.contains(PEOPLE_A[0].1) && !json.contains(PEOPLE_A[0].2));

    let page = city
        .app
        .search_people(&worker, &PeopleQuery::default(), PageRequest::default())
        .await
        .unwrap();
    let json = serde_json::to_string(&page).unwrap();
    for (_, idn, phone) in PEOPLE_A {
        assert!(
            !json.contains(idn) && !json.contains(phone),
            "list leaks {idn}"
        );
    }
    let xlsx = xlsx_text(
        &city
            .app
            .export_people_xlsx(&worker, &PeopleQuery::default())
            .await
            .unwrap(),
    );
    assert!(xlsx.contains("3***************38") && !xlsx.contains(PEOPLE_A[0].1));

    let before = city.count("audit_events").await;
    let full = city
        .app
        .reveal(&worker, c, id, SensitiveField::IdNumber)
        .await
        .unwrap();
    assert_eq!(full.as_deref(), Some(PEOPLE_A[0].1));
    let phone = city
        .app
        .reveal(&worker, c, id, SensitiveField::Phone)
        .await
        .unwrap();
    assert_eq!(phone.as_deref(), Some(PEOPLE_A[0].2));
    assert_eq!(city.count("audit_events").await, before + 2);
    let admin = city.caller("countyadmin").await;
    let log = city
        .app
        .list_audit(
            &admin,
            yinling_app::audit::AuditQuery {
                action: Some("person.reveal".into()),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].actor_name, "workera");
    assert_eq!(log[0].ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        log[0].entity_key.as_deref(),
        Some(format!("{c}/{id}").as_str())
    );

    // The city administrator may see the file but, by default policy, not the full numbers.
    let city_admin = city.caller("cityadmin").await;
    assert!(
        !city
            .app
            .person_file(&city_admin, c, id)
            .await
            .unwrap()
            .can_reveal
    );
    let err = city
        .app
        .reveal(&city_admin, c, id, SensitiveField::IdNumber)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden { .. }));
    // The ciphertext in the database does not contain the number.
    let raw: Vec<u8> = city
        .app
        .store()
        .read()
        .scalar(yinling_store::q!(
            "SELECT id_enc FROM people WHERE county_code = $1 AND id = $2",
            c,
            id
        ))
        .await
        .unwrap();
    assert!(!raw.windows(6).any(|w| w == b"370830"));
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_message_and_changes_nothing() {
    let city = TestCity::new().await;
    let worker = city.caller("workera").await;
    let people = city.count("people").await;
    let audit = city.count("audit_events").await;
    let cases = [
        ("王小明", "370830194403151234", None, "id_number", "第18位"),
        ("王小明", "37083019440315123", None, "id_number", "18位"),
        (
            "王小明",
            "370830194402301232",
            None,
            "id_number",
            "出生日期",
        ),
        (
            "王小明",
            &*valid_id("37083019900101123"),
            Some("12345"),
            "phone",
            "手机",
        ),
        ("", &*valid_id("37083019900101123"), None, "name", "姓名"),
        (
            "Robert'); DROP TABLE people;--",
            &*valid_id("37083019900101123"),
            None,
            "name",
            "",
        ),
    ];
    for (name, idn, phone, field, needle) in cases {
        let err = city
            .app
            .create_person(&worker, city.person_input(&city.grid_a, name, idn, phone))
            .await
            .expect_err(name);
        match &err {
            AppError::Invalid {
                field: Some(f),
                message,
                ..
            } => {
                assert_eq!(f, field, "{name}/{idn}: {message}");
                assert!(
                    message.contains(needle),
                    "message {message:?} should mention {needle}"
                );
            }
            other => panic!("expected Invalid for {name}/{idn}, got {other:?}"),
        }
    }
    // A duplicate ID number conflicts, naming the existing person to someone who may see them.
    let err = city
        .app
        .create_person(
            &worker,
            city.person_input(&city.grid_a, "张三", PEOPLE_A[0].1, None),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Conflict { code: "duplicate_id_number", message, .. } if message.contains("张三丰")),
        "{err:?}"
    );
    // (To someone who may not reveal it, the registration says nothing about it: it is
    // routed to the county; see `masked_numbers`.)
    assert_eq!(city.count("people").await, people);
    assert_eq!(city.count("audit_events").await, audit);
}

#[tokio::test]
async fn concurrent_edits_are_detected_not_lost() {
    let city = TestCity::new().await;
    let worker = city.caller("workera").await;
    let (c, id) = city.people_a[1];
    let file = city.app.person_file(&worker, c, id).await.unwrap();
    let mut first = city.person_input(
        &city.grid_a,
        "李四",
        &file.id_number_masked,
        file.phone_masked.as_deref(),
    );
    first.version = Some(file.version);
    first.note = Some("第一次修改".into());
    let mut second = first.clone();
    second.note = Some("第二次修改".into());
    city.app.update_person(&worker, c, id, first).await.unwrap();
    let err = city
        .app
        .update_person(&worker, c, id, second)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict { code: "stale", .. }),
        "{err:?}"
    );
    let after = city.app.person_file(&worker, c, id).await.unwrap();
    assert_eq!(after.note.as_deref(), Some("第一次修改"));
    // Masked values sent back unchanged kept the stored numbers.
    assert_eq!(
        city.app
            .reveal(&worker, c, id, SensitiveField::IdNumber)
            .await
            .unwrap()
            .as_deref(),
        Some(PEOPLE_A[1].1)
    );
}

#[tokio::test]
async fn roles_skills_and_tags_with_provenance() {
    let city = TestCity::new().await;
    let worker = city.caller("workera").await;
    let admin = city.caller("countyadmin").await;
    let (c, id) = city.people_a[1];
    // A party member needs a branch; a retired cadre needs 离休/退休.
    let err = city
        .app
        .add_role(
            &worker,
            c,
            id,
            RoleInput {
                kind: PersonRoleKind::RetiredCadre,
                unit_county_code: None,
                unit_id: None,
                since: None,
                details: RoleDetails::default(),
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("离休或退休"), "{err}");
    city.app
        .add_role(
            &worker,
            c,
            id,
            RoleInput {
                kind: PersonRoleKind::PartyMember,
                unit_county_code: Some(city.branch.county_code),
                unit_id: Some(city.branch.id),
                since: None,
                details: RoleDetails {
                    join_date: chrono::NaiveDate::from_ymd_opt(1976, 7, 1),
                    ..RoleDetails::default()
                },
            },
        )
        .await
        .unwrap();
    city.app
        .add_role(
            &worker,
            c,
            id,
            RoleInput {
                kind: PersonRoleKind::RetiredCadre,
                unit_county_code: None,
                unit_id: None,
                since: None,
                details: RoleDetails {
                    retire_kind: Some(RetireKind::Tuixiu),
                    former_unit: Some("汶上县第一实验小学".into()),
                    ..RoleDetails::default()
                },
            },
        )
        .await
        .unwrap();
    city.app
        .set_skills(
            &worker,
            c,
            id,
            vec!["助餐送餐、教育辅导".into(), "教育辅导".into()],
        )
        .await
        .unwrap();
    let tag = city
        .app
        .create_tag(
            &admin,
            TagDefInput {
                code: "dujiu".into(),
                name: "独居".into(),
                category: "居住情况".into(),
                description: String::new(),
                archived: false,
            },
        )
        .await
        .unwrap();
    // Grid workers may not define tags, but may apply them.
    assert!(matches!(
        city.app
            .create_tag(
                &worker,
                TagDefInput {
                    code: "x".into(),
                    name: "某".into(),
                    category: "其他".into(),
                    description: String::new(),
                    archived: false
                }
            )
            .await,
        Err(AppError::Forbidden { .. })
    ));
    let row = city
        .app
        .tag_person(
            &worker,
            c,
            id,
            TagInput {
                tag_id: tag,
                valid_from: None,
                valid_to: None,
                note: Some("敲门走访确认".into()),
            },
        )
        .await
        .unwrap();
    let dup = city
        .app
        .tag_person(
            &worker,
            c,
            id,
            TagInput {
                tag_id: tag,
                valid_from: None,
                valid_to: None,
                note: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(dup, AppError::Conflict { .. }));
    let file = city.app.person_file(&worker, c, id).await.unwrap();
    assert_eq!(file.skills, ["助餐送餐", "教育辅导"]);
    let party = file
        .roles
        .iter()
        .find(|r| r.kind == "party_member")
        .unwrap();
    assert!(party.summary.contains("党龄50年"), "{}", party.summary);
    assert_eq!(file.tags.len(), 1);
    assert_eq!(file.tags[0].source, "manual");
    assert_eq!(file.tags[0].set_by_name.as_deref(), Some("workera"));
    assert_eq!(file.tags[0].note.as_deref(), Some("敲门走访确认"));
    // Filtering by tag and role.
    let tagged = PeopleQuery {
        tag: Some(tag),
        ..PeopleQuery::default()
    };
    assert_eq!(names(&city, "workera", tagged).await, ["李四"]);
    let cadres = PeopleQuery {
        role: Some("retired_cadre".into()),
        ..PeopleQuery::default()
    };
    assert_eq!(names(&city, "secretary", cadres).await, ["李四"]);
    // Removing keeps the history.
    city.app.untag_person(&worker, c, id, row).await.unwrap();
    let file = city.app.person_file(&worker, c, id).await.unwrap();
    assert_eq!(file.tags.len(), 1);
    assert!(file.tags[0].revoked_at.is_some());
    let tagged = PeopleQuery {
        tag: Some(tag),
        ..PeopleQuery::default()
    };
    assert!(names(&city, "workera", tagged).await.is_empty());
}

#[tokio::test]
async fn age_filters_count_whole_years() {
    let city = TestCity::new().await;
    // On 2026-07-01: 张三丰 82, 李四 67, 王五 46.
    let aged = |min: Option<u32>, max: Option<u32>| PeopleQuery {
        age_min: min,
        age_max: max,
        ..PeopleQuery::default()
    };
    assert_eq!(
        names(&city, "workera", aged(Some(80), None)).await,
        ["张三丰"]
    );
    assert_eq!(
        names(&city, "workera", aged(Some(46), Some(67))).await,
        ["李四", "王五"]
    );
    assert_eq!(
        names(&city, "workera", aged(None, Some(45))).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn lockout_after_five_failures_for_fifteen_minutes() {
    let city = TestCity::new().await;
    let unknown = city
        .app
        .login("nobody", "x", None, None)
        .await
        .unwrap_err()
        .to_string();
    for _ in 1..=4 {
        let err = city
            .app
            .login("workera", "wrong-password", None, None)
            .await
            .unwrap_err();
        // Exactly what an unknown username gets: the message does not reveal who exists.
        assert_eq!(err.to_string(), unknown);
        assert!(
            unknown.contains("用户名或密码不正确") && unknown.contains("锁定15分钟"),
            "{unknown}"
        );
    }
    let err = city
        .app
        .login("workera", "wrong-password", None, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("锁定"), "{err}");
    // Even the right password is refused while locked.
    let err = city
        .app
        .login("workera", PASSWORD, None, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("锁定"), "{err}");
    city.clock.advance(14 * MINUTE);
    assert!(
        city.app
            .login("workera", PASSWORD, None, None)
            .await
            .is_err()
    );
    city.clock.advance(2 * MINUTE);
    // After the lock runs out, one more mistake does not lock again at once.
    let err = city
        .app
        .login("workera", "wrong-password", None, None)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), unknown);
    city.app
        .login("workera", PASSWORD, None, None)
        .await
        .expect("unlocked after 15 minutes");
}

#[tokio::test]
async fn sessions_end_after_thirty_idle_minutes_but_not_while_used() {
    let city = TestCity::new().await;
    let s = city
        .app
        .login("workera", PASSWORD, None, None)
        .await
        .unwrap();
    for _ in 0..4 {
        city.clock.advance(20 * MINUTE);
        city.app
            .authenticate(&s.token, None)
            .await
            .expect("still active");
    }
    city.clock.advance(31 * MINUTE);
    let err = city.app.authenticate(&s.token, None).await.unwrap_err();
    assert!(matches!(err, AppError::SessionExpired));
    assert!(matches!(
        city.app.authenticate(&s.token, None).await.unwrap_err(),
        AppError::Unauthenticated
    ));
}

#[tokio::test]
async fn initial_passwords_must_be_changed_and_follow_the_policy() {
    let city = TestCity::new().await;
    let admin = city.caller("countyadmin").await;
    city.app
        .create_account(
            &admin,
            yinling_app::users::NewAccountInput {
                username: "NewWorker".into(),
                display_name: "新网格员".into(),
                password: "Initial-Pass-1".into(),
                role: yinling_domain::role::Role::GridWorker,
                unit_county_code: city.grid_a.county_code,
                unit_id: city.grid_a.id,
                must_change_password: true,
                person_county_code: None,
                person_id: None,
            },
        )
        .await
        .unwrap();
    let s = city
        .app
        .login("newworker", "Initial-Pass-1", None, None)
        .await
        .unwrap();
    assert!(s.must_change_password);
    let session = city.app.authenticate(&s.token, None).await.unwrap();
    assert!(session.must_change_password);
    let weak = city
        .app
        .change_password(&session.caller, &s.token, "Initial-Pass-1", "short")
        .await
        .unwrap_err();
    assert!(matches!(weak, AppError::Invalid { .. }));
    let wrong = city
        .app
        .change_password(&session.caller, &s.token, "nope", "Another-Pass-22")
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("当前密码不正确"));
    city.app
        .change_password(
            &session.caller,
            &s.token,
            "Initial-Pass-1",
            "Another-Pass-22",
        )
        .await
        .unwrap();
    assert!(
        !city
            .app
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .must_change_password
    );
    // A grid worker cannot create a county administrator.
    let worker = city.caller("workera").await;
    let err = city
        .app
        .create_account(
            &worker,
            yinling_app::users::NewAccountInput {
                username: "sneaky".into(),
                display_name: "某".into(),
                password: "Initial-Pass-1".into(),
                role: yinling_domain::role::Role::CountyAdmin,
                unit_county_code: city.county.county_code,
                unit_id: city.county.id,
                must_change_password: true,
                person_county_code: None,
                person_id: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden { .. }), "{err:?}");
    // Nor can a community secretary grant a role above their own.
    let secretary = city.caller("secretary").await;
    let err = city
        .app
        .add_grant(
            &secretary,
            session.caller.account_id.unwrap(),
            yinling_domain::role::Role::CountyAdmin,
            city.county.county_code,
            city.county.id,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::NotFound { .. } | AppError::Forbidden { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn moving_a_subtree_moves_its_people_and_scope_follows() {
    let city = TestCity::new().await;
    let admin = city.caller("countyadmin").await;
    // A second community in the same street; move grid B under it.
    let other = city
        .app
        .create_unit(
            &admin,
            city.street.county_code,
            city.street.id,
            yinling_app::org::NewUnitInput {
                kind: yinling_domain::org::OrgKind::CommunityCommittee,
                name: "北门社区党委".into(),
                region_code: Some("370830002003".into()),
                address: None,
                lat: None,
                lng: None,
                geojson: None,
            },
        )
        .await
        .unwrap();
    let moved = city
        .app
        .move_unit(
            &admin,
            city.grid_b.county_code,
            city.grid_b.id,
            other.county_code,
            other.id,
        )
        .await
        .unwrap();
    assert_eq!(moved, 1);
    let view = city
        .app
        .unit_view(&admin, other.county_code, other.id)
        .await
        .unwrap();
    assert_eq!(view.people_count, 2);
    // Grid B's worker still sees their people (their grant moved with the grid).
    assert_eq!(
        names(&city, "workerb", PeopleQuery::default()).await,
        ["赵六", "钱七"]
    );
    // The community secretary of 东门 no longer does.
    assert_eq!(
        names(&city, "secretary", PeopleQuery::default()).await,
        ["张三丰", "李四", "王五"]
    );
    // A unit cannot move under itself.
    let err = city
        .app
        .move_unit(
            &admin,
            city.community.county_code,
            city.community.id,
            city.grid_a.county_code,
            city.grid_a.id,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid { .. }), "{err:?}");
}

#[tokio::test]
async fn the_audit_chain_detects_changed_and_removed_rows() {
    let city = TestCity::new().await;
    let (reports, problems) = city.app.verify_audit().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let total: i64 = reports.iter().map(|r| r.events).sum();
    assert_eq!(total, city.count("audit_events").await);
    assert!(total > 10);

    // The application's own connection cannot change history.
    let store = city.app.store();
    let update = store
        .write()
        .execute(yinling_store::q!(
            "UPDATE audit_events SET actor_name = 'x'"
        ))
        .await;
    assert!(update.is_err(), "audit rows must not be updatable");
    let delete = store
        .write()
        .execute(yinling_store::q!("DELETE FROM audit_events"))
        .await;
    assert!(delete.is_err(), "audit rows must not be deletable");

    // Someone with direct database access switches the guard off and edits a row.
    let chain = city.county.county_code;
    let postgres = store.backend() == yinling_store::Backend::Postgres;
    let disable = if postgres {
        "ALTER TABLE audit_events DISABLE TRIGGER USER"
    } else {
        "DROP TRIGGER audit_events_append_only_update"
    };
    store
        .write()
        .execute(yinling_store::q!(disable))
        .await
        .unwrap();
    store
        .write()
        .execute(yinling_store::q!("UPDATE audit_events SET actor_name = 'someone else' WHERE county_code = $1 AND seq = 2", chain))
        .await
        .unwrap();
    let (_, problems) = city.app.verify_audit().await.unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.county_code == chain && p.seq == 2),
        "{problems:?}"
    );

    // Removing a row is detected too (and its successor's link breaks).
    let disable = if postgres {
        "SELECT 1"
    } else {
        "DROP TRIGGER audit_events_append_only_delete"
    };
    store
        .write()
        .execute(yinling_store::q!(disable))
        .await
        .unwrap();
    store
        .write()
        .execute(yinling_store::q!(
            "DELETE FROM audit_events WHERE county_code = $1 AND seq = 3",
            chain
        ))
        .await
        .unwrap();
    let (_, problems) = city.app.verify_audit().await.unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.county_code == chain && p.seq == 4 && p.problem.contains("缺失")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn the_demo_city_reproduces_the_source_figures() {
    use yinling_app::demo::DemoOptions;
    let db = yinling_store::testing::TestDb::new().await;
    let app = yinling_app::App::new(
        db.store.clone(),
        yinling_app::Vault::new(&[9u8; 32]),
        yinling_app::Settings::default(),
        yinling_app::Clock::manual(yinling_app::testing::START),
    );
    let opts = DemoOptions {
        people: 12_000,
        seed: 7,
        admin_password: Some("Demo-Pass-2026".into()),
    };
    let summary = app.load_demo(&opts, &|_, _, _| {}).await.unwrap();
    assert_eq!(summary.people, 12_002, "12,000 plus the two story people");
    let count = |sql: &'static str| {
        let store = app.store().clone();
        async move {
            store
                .read()
                .scalar::<i64>(yinling_store::q!(sql))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM regions WHERE project_code = FALSE").await,
        5098
    );
    let wenshang = |kind: &'static str| {
        let store = app.store().clone();
        async move {
            store
                .read()
                .scalar::<i64>(yinling_store::q!(
                    "SELECT COUNT(*) FROM org_units WHERE county_code = 370830 AND kind = $1",
                    kind
                ))
                .await
                .unwrap()
        }
    };
    assert_eq!(wenshang("grid_party_group").await, 270);
    assert_eq!(wenshang("compound_branch").await, 96);
    assert_eq!(wenshang("central_household").await, 2619);
    assert_eq!(wenshang("deliberation_spot").await, 44);
    assert_eq!(wenshang("station").await, 126);
    assert_eq!(wenshang("volunteer_team").await, 63);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM org_units WHERE county_code = 370811 AND kind = 'cadre_studio'"
        )
        .await,
        26
    );
    // Every synthetic ID number is valid and unique; the story people are where they belong.
    assert_eq!(
        count("SELECT COUNT(DISTINCT id_bidx) FROM people").await,
        12_002
    );
    let admin = {
        let s = app
            .login("admin", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.authenticate(&s.token, None).await.unwrap().caller
    };
    let found = app
        .search_people(
            &admin,
            &PeopleQuery {
                q: Some("张德顺".into()),
                ..PeopleQuery::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    let zhang = found
        .items
        .iter()
        .find(|p| p.age == 82)
        .expect("张德顺, 82");
    let file = app
        .person_file(&admin, zhang.county_code, zhang.id)
        .await
        .unwrap();
    let tags: Vec<&str> = file.tags.iter().map(|t| t.tag_name.as_str()).collect();
    assert!(tags.contains(&"高龄") && tags.contains(&"独居"), "{tags:?}");
    assert!(file.household.unwrap().members.is_empty(), "lives alone");
    // The grid worker of his grid sees him; the one next door does not.
    let worker = {
        let s = app
            .login("wangge", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.authenticate(&s.token, None).await.unwrap().caller
    };
    assert!(
        app.person_file(&worker, zhang.county_code, zhang.id)
            .await
            .is_ok()
    );
    let other = {
        let s = app
            .login("wangge2", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.authenticate(&s.token, None).await.unwrap().caller
    };
    assert!(matches!(
        app.person_file(&other, zhang.county_code, zhang.id).await,
        Err(AppError::NotFound { .. })
    ));
    // Points: 鱼台's 50+ partner shops with goods, a till near the story people, a history
    // that balances, 张德顺 with points to redeem and 李秀兰 with points from her services.
    assert!(
        count("SELECT COUNT(*) FROM org_units WHERE county_code = 370827 AND kind = 'merchant'")
            .await
            >= 50
    );
    assert!(
        count(
            "SELECT COUNT(*) FROM shop_goods g JOIN org_units u
               ON u.county_code = g.county_code AND u.id = g.shop_id WHERE u.county_code = 370827"
        )
        .await
            >= 200
    );
    assert!(summary.ledger.people >= 200, "{:?}", summary.ledger);
    assert!(summary.ledger.redemptions > 0, "{:?}", summary.ledger);
    let (findings, counts) = app.verify_ledger().await.unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    assert!(counts.transfers > 1_000, "{counts:?}");
    assert_eq!(
        app.expire_points().await.unwrap().points,
        0,
        "nothing is old enough"
    );
    let till = {
        let s = app
            .login("chaoshi", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.authenticate(&s.token, None).await.unwrap().caller
    };
    let shops = app.my_shops(&till).await.unwrap();
    assert_eq!(shops.len(), 1);
    assert!(shops[0].name.starts_with("东门社区"), "{}", shops[0].name);
    let goods = app
        .shop_goods(&till, (shops[0].county_code, shops[0].id).into())
        .await
        .unwrap();
    assert!(goods.iter().any(|g| g.name.contains("大米")), "{goods:?}");
    let zhang_points = app
        .balances(&admin, zhang.county_code, zhang.id)
        .await
        .unwrap()
        .points;
    assert!(zhang_points >= 60, "张德顺 has {zhang_points}");
    let li = {
        let s = app
            .login("lilaoshi", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.authenticate(&s.token, None).await.unwrap().caller
    };
    let (lc, lid) = li.person.expect("李秀兰's file");
    let lines = app
        .statement(
            &li,
            (lc, lid).into(),
            yinling_domain::ledger::Unit::Points,
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(
        lines
            .items
            .iter()
            .any(|l| l.source_kind == "order" && l.memo == "助老送餐"),
        "{:?}",
        lines.items
    );
    // Running it again changes nothing.
    let again = app.load_demo(&opts, &|_, _, _| {}).await.unwrap();
    assert!(again.already_loaded);
    let (_, problems) = app.verify_audit().await.unwrap();
    assert!(problems.is_empty());
}

#[tokio::test]
async fn buildings_entrances_and_households_nest_sensibly() {
    use yinling_app::places::{PlaceInput, PlaceKind};
    let city = TestCity::new().await;
    let worker = city.caller("workera").await;
    let (c, g) = (city.grid_a.county_code, city.grid_a.id);
    let place = |kind, parent, label: &str| PlaceInput {
        kind,
        parent_id: parent,
        label: label.into(),
        address: None,
        lat: None,
        lng: None,
    };
    let building = city
        .app
        .create_place(&worker, c, g, place(PlaceKind::Building, None, "3号楼"))
        .await
        .unwrap();
    let entrance = city
        .app
        .create_place(
            &worker,
            c,
            g,
            place(PlaceKind::Unit, Some(building.id), "2单元"),
        )
        .await
        .unwrap();
    let home = city
        .app
        .create_place(
            &worker,
            c,
            g,
            place(PlaceKind::Household, Some(entrance.id), "3号楼2单元501室"),
        )
        .await
        .unwrap();
    // An entrance cannot stand on its own, nor a building inside a household.
    let err = city
        .app
        .create_place(&worker, c, g, place(PlaceKind::Unit, None, "孤单元"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("单元不能登记在组织下"), "{err}");
    let err = city
        .app
        .create_place(
            &worker,
            c,
            g,
            place(PlaceKind::Building, Some(home.id), "楼中楼"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid { .. }));
    // Someone moves in.
    let (pc, pid) = city.people_a[2];
    let file = city.app.person_file(&worker, pc, pid).await.unwrap();
    let mut input = city.person_input(
        &city.grid_a,
        "王五",
        &file.id_number_masked,
        file.phone_masked.as_deref(),
    );
    input.household_id = Some(home.id);
    input.version = Some(file.version);
    city.app
        .update_person(&worker, pc, pid, input)
        .await
        .unwrap();
    let homes = city
        .app
        .places_of(&worker, c, g, Some(entrance.id))
        .await
        .unwrap();
    assert_eq!(homes.len(), 1);
    assert_eq!(
        homes[0]
            .residents
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["王五"]
    );
    let file = city.app.person_file(&worker, pc, pid).await.unwrap();
    assert_eq!(file.household.unwrap().label, "3号楼2单元501室");
    // The worker next door can neither list nor add here.
    let b = city.caller("workerb").await;
    assert!(city.app.places_of(&b, c, g, None).await.is_err());
    assert!(
        city.app
            .create_place(&b, c, g, place(PlaceKind::Building, None, "5号楼"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_id_number_cannot_be_changed_to_someone_elses() {
    let city = TestCity::new().await;
    let secretary = city.caller("secretary").await;
    let (c, id) = city.people_a[2];
    let file = city.app.person_file(&secretary, c, id).await.unwrap();
    let mut input = city.person_input(
        &city.grid_a,
        "王五",
        PEOPLE_B[1].1,
        file.phone_masked.as_deref(),
    );
    input.version = Some(file.version);
    let err = city
        .app
        .update_person(&secretary, c, id, input)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Conflict { code: "duplicate_id_number", message, .. } if message.contains("钱七")),
        "{err:?}"
    );
    // Correcting one's own number to a new valid one is fine.
    let mut input = city.person_input(
        &city.grid_a,
        "王五",
        &valid_id("37083019800101124"),
        file.phone_masked.as_deref(),
    );
    input.version = Some(file.version);
    city.app
        .update_person(&secretary, c, id, input)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_demo_password_the_policy_refuses_writes_nothing() {
    let db = yinling_store::testing::TestDb::new().await;
    let app = yinling_app::App::new(
        db.store.clone(),
        yinling_app::Vault::new(&[9u8; 32]),
        yinling_app::Settings::default(),
        yinling_app::Clock::manual(yinling_app::testing::START),
    );
    let opts = yinling_app::demo::DemoOptions {
        people: 100,
        seed: 1,
        admin_password: Some("Wenshang-2026".into()),
    };
    let err = app.load_demo(&opts, &|_, _, _| {}).await.unwrap_err();
    assert!(err.to_string().contains("密码"), "{err}");
    let units: i64 = app
        .store()
        .read()
        .scalar(yinling_store::q!("SELECT COUNT(*) FROM org_units"))
        .await
        .unwrap();
    assert_eq!(units, 0);
}

// ---------------------------------------------------------------------------------------
// Throttles: counted attempts shared by every process, a refused attempt still counts.

#[tokio::test]
async fn a_throttle_counts_in_its_window_refuses_beyond_the_limit_and_starts_afresh() {
    use yinling_app::throttle::Limit;
    let city = TestCity::new().await;
    let limit = Limit {
        bucket: "test_bucket",
        max: 3,
        window_minutes: 10,
    };
    for n in 1..=3 {
        let c = city.app.throttle(&limit, "acct:7").await.expect("within");
        assert_eq!((c.hits, c.left), (n, 3 - n));
    }
    city.app.throttle_check(&limit, "acct:7").await.unwrap_err();
    let err = city.app.throttle(&limit, "acct:7").await.unwrap_err();
    assert!(matches!(err, AppError::TooMany { .. }), "{err:?}");
    assert_eq!(err.code(), "too_many_attempts");
    assert!(err.to_string().contains("尝试次数过多"), "{err}");
    assert!(
        city.app.throttled_until(&limit, "acct:7").await.unwrap()
            == Some(yinling_app::testing::START + 10 * MINUTE)
    );
    // Another subject, and the same subject in another bucket, count apart.
    city.app
        .throttle(&limit, "acct:8")
        .await
        .expect("other subject");
    let other = Limit {
        bucket: "other_bucket",
        ..limit
    };
    city.app
        .throttle(&other, "acct:7")
        .await
        .expect("other bucket");
    // A new window starts once the old one has run out.
    city.clock.advance(10 * MINUTE);
    city.app
        .throttle_check(&limit, "acct:7")
        .await
        .expect("lifted");
    let c = city
        .app
        .throttle(&limit, "acct:7")
        .await
        .expect("new window");
    assert_eq!(c.hits, 1);
    // Clearing forgets the count.
    for _ in 0..3 {
        city.app.throttle(&limit, "acct:7").await.ok();
    }
    city.app.throttle_check(&limit, "acct:7").await.unwrap_err();
    city.app.throttle_clear(&limit, "acct:7").await.unwrap();
    city.app
        .throttle_check(&limit, "acct:7")
        .await
        .expect("cleared");
    // Old windows are purged after a day.
    city.clock.advance(24 * 60 * MINUTE + MINUTE);
    assert_eq!(city.app.purge_throttles().await.unwrap(), 2);
    assert_eq!(city.count("throttles").await, 0);
}

#[tokio::test]
async fn simultaneous_hits_are_all_counted() {
    use yinling_app::throttle::Limit;
    let city = TestCity::new().await;
    let limit = Limit {
        bucket: "race",
        max: 1000,
        window_minutes: 10,
    };
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let app = city.app.clone();
            tokio::spawn(async move {
                for _ in 0..5 {
                    app.throttle(&limit, "ip:10.0.0.1").await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let c = city.app.throttle(&limit, "ip:10.0.0.1").await.unwrap();
    assert_eq!(c.hits, 81);
}

// ---------------------------------------------------------------------------------------
// A masked number cannot be rebuilt (issue 9, item 2): no full birth date beside a masked
// number for those who may not reveal it; exact searches need the reveal right, are audited
// and limited; a registration does not tell whether a number exists elsewhere.

mod masked_numbers {
    use yinling_app::{
        AppError, PageRequest, Settings,
        audit::AuditQuery,
        org::NewUnitInput,
        people::{DuplicateDecision, PeopleQuery, ResolveDuplicateInput, RoleInput},
        testing::{PASSWORD, PEOPLE_A, PEOPLE_B, TestCity, valid_id},
        users::NewAccountInput,
    };
    use yinling_domain::{
        org::OrgKind,
        person::{PersonRoleKind, RoleDetails},
        role::Role,
    };
    use yinling_store::org::OrgUnitRow;

    use super::{q, xlsx_text};

    const BORN: &str = "1944-03-15";

    async fn audit_details(city: &TestCity, action: &str) -> Vec<String> {
        let admin = city.caller("cityadmin").await;
        city.app
            .list_audit(
                &admin,
                AuditQuery {
                    action: Some(action.into()),
                    ..Default::default()
                },
                PageRequest::default(),
            )
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == action)
            .map(|e| e.detail.unwrap_or_default())
            .collect()
    }

    async fn unit(
        city: &TestCity,
        parent: &OrgUnitRow,
        kind: OrgKind,
        name: &str,
        region: Option<&str>,
    ) -> OrgUnitRow {
        city.app
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

    async fn account(city: &TestCity, username: &str, role: Role, unit: &OrgUnitRow) {
        city.app
            .create_account(
                &city.system,
                NewAccountInput {
                    username: username.into(),
                    display_name: username.into(),
                    password: PASSWORD.into(),
                    role,
                    unit_county_code: unit.county_code,
                    unit_id: unit.id,
                    must_change_password: false,
                    person_county_code: None,
                    person_id: None,
                },
            )
            .await
            .expect("account");
    }

    /// Another street of the county with one grid and its grid worker `workerc`.
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
        account(city, "workerc", Role::GridWorker, &grid).await;
        grid
    }

    #[tokio::test]
    async fn a_city_admin_sees_the_year_of_birth_never_the_full_date() {
        let city = TestCity::new().await;
        let (c, id) = city.people_a[0];
        city.app
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
        let admin = city.caller("cityadmin").await;
        // The people list, the file, the export and a unit's roster.
        let page = city
            .app
            .search_people(&admin, &PeopleQuery::default(), PageRequest::default())
            .await
            .unwrap();
        let zsf = page.items.iter().find(|p| p.name == "张三丰").unwrap();
        assert_eq!(
            (zsf.birth_date.as_deref(), zsf.birth_year, zsf.age),
            (None, 1944, 82)
        );
        let file = city.app.person_file(&admin, c, id).await.unwrap();
        assert_eq!((file.birth_date.as_deref(), file.birth_year), (None, 1944));
        let roster = city
            .app
            .roster(
                &admin,
                city.branch.county_code,
                city.branch.id,
                None,
                PageRequest::default(),
            )
            .await
            .unwrap();
        assert_eq!(roster.items.len(), 1);
        assert_eq!(roster.items[0].birth_date, None);
        let xlsx = xlsx_text(
            &city
                .app
                .export_people_xlsx(&admin, &PeopleQuery::default())
                .await
                .unwrap(),
        );
        assert!(xlsx.contains("1944年"), "{xlsx}");
        for json in [
            serde_json::to_string(&page).unwrap(),
            serde_json::to_string(&file).unwrap(),
            serde_json::to_string(&roster).unwrap(),
            xlsx,
        ] {
            for (_, idn, _) in PEOPLE_A.iter().chain(PEOPLE_B.iter()) {
                let born = format!("{}-{}-{}", &idn[6..10], &idn[10..12], &idn[12..14]);
                assert!(!json.contains(&born), "{born} shown: {json}");
            }
        }
        // A branch secretary (may view, may not reveal) sees the year only as well.
        let branch = city.caller("branchsec").await;
        assert_eq!(
            city.app.person_file(&branch, c, id).await.unwrap().birth_date,
            None
        );
        // Whoever may reveal over the person sees the full date, as before; so does the
        // person in their own file.
        for who in ["workera", "secretary", "countyadmin", "resident"] {
            let caller = city.caller(who).await;
            let file = city.app.person_file(&caller, c, id).await.unwrap();
            assert_eq!(file.birth_date.as_deref(), Some(BORN), "{who}");
        }
        let worker = city.caller("workera").await;
        let page = city
            .app
            .search_people(&worker, &q("zsf"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(page.items[0].birth_date.as_deref(), Some(BORN));
        let xlsx = xlsx_text(
            &city
                .app
                .export_people_xlsx(&worker, &PeopleQuery::default())
                .await
                .unwrap(),
        );
        assert!(xlsx.contains(BORN));
    }

    #[tokio::test]
    async fn an_exact_search_without_the_reveal_right_is_refused_and_recorded() {
        let city = TestCity::new().await;
        for who in ["cityadmin", "branchsec"] {
            let caller = city.caller(who).await;
            for number in [PEOPLE_A[0].1, PEOPLE_A[0].2] {
                let err = city
                    .app
                    .search_people(&caller, &q(number), PageRequest::default())
                    .await
                    .unwrap_err();
                assert!(
                    matches!(&err, AppError::Forbidden { message } if message.contains("按完整身份证号或手机号查找需要查看完整号码的权限")),
                    "{who}: {err:?}"
                );
                let err = city
                    .app
                    .export_people_xlsx(&caller, &q(number))
                    .await
                    .unwrap_err();
                assert!(matches!(err, AppError::Forbidden { .. }), "{err:?}");
            }
        }
        // The last four still work, with the masked number.
        let admin = city.caller("cityadmin").await;
        let page = city
            .app
            .search_people(&admin, &q("1238"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].id_number_masked, "3***************38");
        let refused = audit_details(&city, "person.exact_search_refused").await;
        assert_eq!(refused.len(), 8);
        assert!(refused.iter().all(|d| d.contains("reason=no_reveal_right")));
        for d in &refused {
            assert!(!d.contains(PEOPLE_A[0].1) && !d.contains(PEOPLE_A[0].2), "{d}");
        }
    }

    #[tokio::test]
    async fn a_grid_worker_searches_exactly_in_their_grid_audited_and_limited() {
        let city = TestCity::new().await;
        let worker = city.caller("workera").await;
        let names = |page: yinling_app::Page<yinling_app::people::PersonListItem>| {
            page.items.into_iter().map(|p| p.name).collect::<Vec<_>>()
        };
        let found = city
            .app
            .search_people(&worker, &q(PEOPLE_A[0].1), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(names(found), ["张三丰"]);
        let found = city
            .app
            .search_people(&worker, &q(PEOPLE_A[1].2), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(names(found), ["李四"]);
        // Grid B's number is not found from grid A.
        let other = city
            .app
            .search_people(&worker, &q(PEOPLE_B[0].1), PageRequest::default())
            .await
            .unwrap();
        assert!(other.items.is_empty());
        // One event per search: kind, count, the files found, a digest — never the number.
        let (c, id) = city.people_a[0];
        let log = audit_details(&city, "person.exact_search").await;
        assert_eq!(log.len(), 3, "{log:?}");
        assert!(
            log.iter().any(|d| d.starts_with("field=id_number; results=1;")
                && d.contains(&format!("found={c}/{id};"))),
            "{log:?}"
        );
        assert!(log.iter().any(|d| d.starts_with("field=phone; results=1;")));
        assert!(log.iter().any(|d| d.contains("results=0")));
        for d in &log {
            assert!(d.contains("digest="), "{d}");
            for (_, idn, phone) in PEOPLE_A.iter().chain(PEOPLE_B.iter()) {
                assert!(!d.contains(idn) && !d.contains(phone), "{d}");
            }
        }
        // The same number searched twice leaves the same digest, so an investigator holding
        // the data key can find who looked a number up.
        city.app
            .search_people(&worker, &q(PEOPLE_A[0].1), PageRequest::default())
            .await
            .unwrap();
        let log = audit_details(&city, "person.exact_search").await;
        let digest = |d: &String| d.rsplit("digest=").next().unwrap().to_owned();
        let zsf: Vec<String> = log
            .iter()
            .filter(|d| d.contains(&format!("found={c}/{id};")))
            .map(digest)
            .collect();
        assert_eq!(zsf.len(), 2);
        assert_eq!(zsf[0], zsf[1]);

        // Twenty exact lookups an hour (the default), searches and registrations together;
        // the twenty-first is refused, recorded, and changes nothing.
        assert_eq!(Settings::default().privacy.exact_searches_per_hour, 20);
        let fresh = valid_id("37083019900101123");
        city.app
            .create_person(
                &worker,
                city.person_input(&city.grid_a, "孙八", &fresh, None),
            )
            .await
            .unwrap();
        // Four searches and one registration so far: up to twenty.
        for _ in 6..=20 {
            city.app
                .search_people(&worker, &q(PEOPLE_A[2].1), PageRequest::default())
                .await
                .unwrap();
        }
        let err = city
            .app
            .search_people(&worker, &q(PEOPLE_A[2].1), PageRequest::default())
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::TooMany { .. }), "{err:?}");
        assert_eq!(err.code(), "too_many_attempts");
        let refused = audit_details(&city, "person.exact_search_refused").await;
        assert_eq!(refused.len(), 1);
        assert!(refused[0].contains("reason=too_many"));
        let people = city.count("people").await;
        let err = city
            .app
            .create_person(
                &worker,
                city.person_input(
                    &city.grid_a,
                    "周九",
                    &valid_id("37083019910101123"),
                    None,
                ),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::TooMany { .. }), "{err:?}");
        assert_eq!(city.count("people").await, people);
        // Names and last four are not limited for someone who may reveal what they find.
        for _ in 0..40 {
            city.app
                .search_people(&worker, &q("1238"), PageRequest::default())
                .await
                .unwrap();
        }
        // The limit is per account, and lifts after the hour.
        let secretary = city.caller("secretary").await;
        city.app
            .search_people(&secretary, &q(PEOPLE_A[2].1), PageRequest::default())
            .await
            .unwrap();
        city.clock.advance(60 * yinling_app::clock::MINUTE);
        city.app
            .search_people(&worker, &q(PEOPLE_A[2].1), PageRequest::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn last_four_searches_beyond_the_reveal_scope_are_limited() {
        let mut settings = Settings::default();
        settings.privacy.last4_searches_per_hour = 3;
        let city = TestCity::with_settings(settings).await;
        assert_eq!(Settings::default().privacy.last4_searches_per_hour, 30);
        let admin = city.caller("cityadmin").await;
        for _ in 0..3 {
            city.app
                .search_people(&admin, &q("1238"), PageRequest::default())
                .await
                .unwrap();
        }
        let err = city
            .app
            .search_people(&admin, &q("1238"), PageRequest::default())
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::TooMany { .. }), "{err:?}");
        // Names stay free; a grid worker searching their own grid is not limited.
        city.app
            .search_people(&admin, &q("zsf"), PageRequest::default())
            .await
            .unwrap();
        let worker = city.caller("workera").await;
        for _ in 0..5 {
            city.app
                .search_people(&worker, &q("1238"), PageRequest::default())
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn a_registration_does_not_tell_whether_a_number_is_registered_elsewhere() {
        let city = TestCity::new().await;
        let grid_c = other_street(&city).await;
        let worker = city.caller("workerc").await;
        // 张三丰's number lives in another street; the other number nowhere. Both are
        // answered alike: a new file in the worker's grid, found by the number, editable.
        let elsewhere = PEOPLE_A[0].1.to_owned();
        let fresh = valid_id("37083019440315127");
        let mut outcomes = Vec::new();
        for number in [&elsewhere, &fresh] {
            let (c, id) = city
                .app
                .create_person(
                    &worker,
                    city.person_input(&grid_c, "张三丰", number, None),
                )
                .await
                .expect("registered");
            let file = city.app.person_file(&worker, c, id).await.unwrap();
            let found = city
                .app
                .search_people(&worker, &q(number), PageRequest::default())
                .await
                .unwrap();
            let again = city
                .app
                .create_person(
                    &worker,
                    city.person_input(&grid_c, "张三丰", number, None),
                )
                .await
                .unwrap_err();
            outcomes.push((
                file.status,
                file.can_edit,
                file.can_reveal,
                file.birth_date,
                found.items.len(),
                found.items[0].id == id,
                again.code(),
                again
                    .to_string()
                    .replace(&id.to_string(), "<id>"),
            ));
        }
        assert_eq!(outcomes[0], outcomes[1]);
        assert_eq!(outcomes[0].0, "active");
        assert_eq!(outcomes[0].6, "duplicate_id_number");
        assert!(!outcomes[0].7.contains("其他辖区"), "{}", outcomes[0].7);
        // Inside the worker's own grid a duplicate is named, as before.
        let worker_a = city.caller("workera").await;
        let err = city
            .app
            .create_person(
                &worker_a,
                city.person_input(&city.grid_a, "某某", PEOPLE_A[1].1, None),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AppError::Conflict { message, .. } if message.contains("李四")),
            "{err:?}"
        );

        // The county sees the routed registration; the registrar does not.
        let county = city.caller("countyadmin").await;
        let cases = city
            .app
            .list_duplicates(&county, Some("open"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(cases.total, 1);
        let case = &cases.items[0];
        let (zc, zid) = city.people_a[0];
        assert_eq!((case.existing.county_code, case.existing.id), (zc, zid));
        assert_eq!(case.existing.name.as_deref(), Some("张三丰"));
        assert_eq!(case.registered_by_name, "workerc");
        assert_eq!(city.app.open_duplicates(&county).await.unwrap(), 1);
        let err = city
            .app
            .list_duplicates(&worker, None, PageRequest::default())
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Forbidden { .. }));
        assert_eq!(city.app.open_duplicates(&worker).await.unwrap(), 0);
        assert!(
            audit_details(&city, "person.duplicate_routed")
                .await
                .iter()
                .any(|d| d.contains(&format!("existing={zc}/{zid}")))
        );

        // Merging closes the new file; it no longer holds the number, and is closed to edits.
        let (rc, rid) = (case.registration.county_code, case.registration.id);
        city.app
            .resolve_duplicate(
                &county,
                case.county_code,
                case.id,
                ResolveDuplicateInput {
                    decision: DuplicateDecision::Merge,
                    note: Some("同一人，已在东门社区登记".into()),
                    version: case.version,
                },
            )
            .await
            .unwrap();
        let closed = city.app.person_file(&worker, rc, rid).await.unwrap();
        assert_eq!(closed.status, "merged");
        assert_eq!(closed.status_label, "已并档");
        let found = city
            .app
            .search_people(&county, &q(&elsewhere), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(
            found.items.iter().map(|p| p.id).collect::<Vec<_>>(),
            [zid]
        );
        let mut edit = city.person_input(&grid_c, "张三丰", &elsewhere, None);
        edit.version = Some(closed.version);
        let err = city
            .app
            .update_person(&worker, rc, rid, edit)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "file_closed");
        let again = city
            .app
            .resolve_duplicate(
                &county,
                case.county_code,
                case.id,
                ResolveDuplicateInput {
                    decision: DuplicateDecision::Reject,
                    note: None,
                    version: case.version + 1,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(again.code(), "already_resolved");

        // Changing a file's number to one held elsewhere is routed the same way; rejecting
        // it voids the file.
        let (fc, fid) = city
            .app
            .search_people(&worker, &q(&fresh), PageRequest::default())
            .await
            .unwrap()
            .items
            .iter()
            .map(|p| (p.county_code, p.id))
            .next()
            .unwrap();
        let file = city.app.person_file(&worker, fc, fid).await.unwrap();
        let mut edit = city.person_input(&grid_c, "张三丰", PEOPLE_B[1].1, None);
        edit.version = Some(file.version);
        city.app
            .update_person(&worker, fc, fid, edit)
            .await
            .expect("saved like any change");
        let cases = city
            .app
            .list_duplicates(&county, Some("open"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(cases.total, 1);
        let case = &cases.items[0];
        assert_eq!(case.registration.id, fid);
        assert_eq!(case.existing.name.as_deref(), Some("钱七"));
        city.app
            .resolve_duplicate(
                &county,
                case.county_code,
                case.id,
                ResolveDuplicateInput {
                    decision: DuplicateDecision::Reject,
                    note: None,
                    version: case.version,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            city.app.person_file(&worker, fc, fid).await.unwrap().status,
            "voided"
        );
        let all = city
            .app
            .list_duplicates(&county, None, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(all.total, 2);
        assert!(all.items.iter().all(|c| c.status != "open"));
    }

    #[tokio::test]
    async fn a_duplicate_from_another_county_is_reviewed_by_someone_else_who_sees_both() {
        let city = TestCity::new().await;
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
        let community =
            unit(&city, &street, OrgKind::CommunityCommittee, "红星社区", None).await;
        account(&city, "qufuadmin", Role::CountyAdmin, &qufu).await;
        account(&city, "qufuadmin2", Role::CountyAdmin, &qufu).await;
        let registrar = city.caller("qufuadmin").await;
        // The 汶上 number is registered in 曲阜 without a word about 汶上.
        let (c, id) = city
            .app
            .create_person(
                &registrar,
                city.person_input(&community, "张三丰", PEOPLE_A[0].1, None),
            )
            .await
            .expect("registered");
        assert_eq!(c, 370881);
        // The registrar does not review their own registration.
        assert_eq!(city.app.open_duplicates(&registrar).await.unwrap(), 0);
        // A colleague sees it but not the 汶上 file, so may reject and not merge.
        let colleague = city.caller("qufuadmin2").await;
        let cases = city
            .app
            .list_duplicates(&colleague, Some("open"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(cases.total, 1);
        let case = cases.items[0].clone();
        assert_eq!((case.registration.county_code, case.registration.id), (c, id));
        assert!(!case.existing.visible && case.existing.name.is_none());
        let merge = ResolveDuplicateInput {
            decision: DuplicateDecision::Merge,
            note: None,
            version: case.version,
        };
        let err = city
            .app
            .resolve_duplicate(&colleague, case.county_code, case.id, merge.clone())
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Forbidden { .. }), "{err:?}");
        let err = city
            .app
            .resolve_duplicate(&registrar, case.county_code, case.id, merge.clone())
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Forbidden { .. }), "{err:?}");
        // 汶上's administrator does not see 曲阜's registrations at all.
        let wenshang = city.caller("countyadmin").await;
        assert_eq!(city.app.open_duplicates(&wenshang).await.unwrap(), 0);
        let err = city
            .app
            .resolve_duplicate(&wenshang, case.county_code, case.id, merge.clone())
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
        // The city sees both files and merges.
        let admin = city.caller("cityadmin").await;
        let cases = city
            .app
            .list_duplicates(&admin, Some("open"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(cases.items[0].existing.name.as_deref(), Some("张三丰"));
        city.app
            .resolve_duplicate(&admin, case.county_code, case.id, merge)
            .await
            .unwrap();
        assert_eq!(
            audit_details(&city, "person.duplicate_merge").await.len(),
            1
        );
    }
}
