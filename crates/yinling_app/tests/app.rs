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
    assert_eq!(file.birth_date, "1944-03-15");
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
    let b = city.caller("workerb").await;
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
    // ...and without naming them to someone who may not.
    let err = city
        .app
        .create_person(
            &b,
            city.person_input(&city.grid_b, "张三", PEOPLE_A[0].1, None),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Conflict { message, .. } if !message.contains("张三丰")),
        "{err:?}"
    );
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
    // An age no one reaches is refused with a message, not a crash (schemathesis sent
    // age_min=2147483648 and the subtraction overflowed).
    let worker = city.caller("workera").await;
    for (min, max) in [
        (Some(2_147_483_648u32), None),
        (None, Some(u32::MAX)),
        (Some(151), None),
    ] {
        let e = city
            .app
            .search_people(&worker, &aged(min, max), PageRequest::default())
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("age_min"), "{e}");
        assert!(e.to_string().contains("0至150"), "{e}");
    }
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
