//! Use-case tests on the backend the run selected (SQLite by default; PostgreSQL when
//! YINLING_TEST_DATABASE_URL is set). Each test builds its own small city.

use yinling_app::testing::{
    assert_conflict, assert_forbidden, assert_invalid, assert_not_found, assert_too_many,
};
use yinling_app::{
    AppError, PageRequest,
    kernel::clock::MINUTE,
    people::TagDefInput,
    people::{PeopleQuery, RoleInput, SensitiveField, TagInput},
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
        .people()
        .search(&caller, &query, PageRequest::default())
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
        .people()
        .search(&caller, &q("123456"), PageRequest::default())
        .await
        .unwrap_err();
    assert_invalid(&err, "q");
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
        .people()
        .search(&b, &other, PageRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());

    let (c, id) = city.people_a[0];
    let not_found = |r: Result<_, AppError>| matches!(r, Err(AppError::NotFound { .. }));
    assert!(not_found(
        city.app.people().file(&b, c, id).await.map(|_| ())
    ));
    assert!(not_found(
        city.app
            .people()
            .reveal(&b, c, id, SensitiveField::IdNumber)
            .await
            .map(|_| ())
    ));
    let mut input = city.person_input(&city.grid_a, "张三丰", PEOPLE_A[0].1, None);
    input.version = Some(1);
    assert!(not_found(city.app.people().update(&b, c, id, input).await));
    assert!(not_found(
        city.app
            .people()
            .set_skills(&b, c, id, vec!["理发".into()])
            .await
    ));
    assert!(not_found(city.app.people().remove_role(&b, c, id, 1).await));
    assert!(not_found(
        city.app
            .people()
            .tag(
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
            .org()
            .unit_view(&b, city.grid_a.county_code, city.grid_a.id)
            .await
            .map(|_| ())
    ));
    // Creating someone in grid A from grid B is refused too.
    let err = city
        .app
        .people()
        .create(
            &b,
            city.person_input(&city.grid_a, "孙八", &valid_id("37083019900101123"), None),
        )
        .await
        .unwrap_err();
    assert_not_found(&err);
    // Exports contain only the caller's grid.
    let bytes = city
        .app
        .people()
        .export_xlsx(&b, &PeopleQuery::default())
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
    let file = city.app.people().file(&worker, c, id).await.unwrap();
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
        .people()
        .search(&worker, &PeopleQuery::default(), PageRequest::default())
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
            .people()
            .export_xlsx(&worker, &PeopleQuery::default())
            .await
            .unwrap(),
    );
    assert!(xlsx.contains("3***************38") && !xlsx.contains(PEOPLE_A[0].1));

    let before = city.count("audit_events").await;
    let full = city
        .app
        .people()
        .reveal(&worker, c, id, SensitiveField::IdNumber)
        .await
        .unwrap();
    assert_eq!(full.as_deref(), Some(PEOPLE_A[0].1));
    let phone = city
        .app
        .people()
        .reveal(&worker, c, id, SensitiveField::Phone)
        .await
        .unwrap();
    assert_eq!(phone.as_deref(), Some(PEOPLE_A[0].2));
    assert_eq!(city.count("audit_events").await, before + 2);
    let admin = city.caller("countyadmin").await;
    let log = city
        .app
        .audit()
        .list(
            &admin,
            yinling_app::kernel::audit::AuditQuery {
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
            .people()
            .file(&city_admin, c, id)
            .await
            .unwrap()
            .can_reveal
    );
    let err = city
        .app
        .people()
        .reveal(&city_admin, c, id, SensitiveField::IdNumber)
        .await
        .unwrap_err();
    assert_forbidden(&err);
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
            .people()
            .create(&worker, city.person_input(&city.grid_a, name, idn, phone))
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
        .people()
        .create(
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
    let file = city.app.people().file(&worker, c, id).await.unwrap();
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
    city.app
        .people()
        .update(&worker, c, id, first)
        .await
        .unwrap();
    let err = city
        .app
        .people()
        .update(&worker, c, id, second)
        .await
        .unwrap_err();
    assert_conflict(&err, "stale");
    let after = city.app.people().file(&worker, c, id).await.unwrap();
    assert_eq!(after.note.as_deref(), Some("第一次修改"));
    // Masked values sent back unchanged kept the stored numbers.
    assert_eq!(
        city.app
            .people()
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
    let (c, id) = city.people_a[1];
    // A party member needs a branch; a retired cadre needs 离休/退休.
    let err = city
        .app
        .people()
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
    // The branch sits above grid A, outside the grid worker's scope: the community
    // secretary attaches the party member to it.
    city.app
        .people()
        .add_role(
            &city.caller("secretary").await,
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
        .people()
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
        .people()
        .set_skills(
            &worker,
            c,
            id,
            vec!["助餐送餐、教育辅导".into(), "教育辅导".into()],
        )
        .await
        .unwrap();
    // Tag definitions are city-wide: the city administrator defines them.
    let city_admin = city.caller("cityadmin").await;
    let tag = city
        .app
        .people()
        .define_tag(
            &city_admin,
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
    assert_forbidden(
        city.app
            .people()
            .define_tag(
                &worker,
                TagDefInput {
                    code: "x".into(),
                    name: "某".into(),
                    category: "其他".into(),
                    description: String::new(),
                    archived: false,
                },
            )
            .await,
    );
    let row = city
        .app
        .people()
        .tag(
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
        .people()
        .tag(
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
    let file = city.app.people().file(&worker, c, id).await.unwrap();
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
    city.app.people().untag(&worker, c, id, row).await.unwrap();
    let file = city.app.people().file(&worker, c, id).await.unwrap();
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
            .people()
            .search(&worker, &aged(min, max), PageRequest::default())
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
        .accounts()
        .login("nobody", "x", None, None)
        .await
        .unwrap_err()
        .to_string();
    for _ in 1..=4 {
        let err = city
            .app
            .accounts()
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
        .accounts()
        .login("workera", "wrong-password", None, None)
        .await
        .unwrap_err();
    // The fifth failure says the account is now locked — not the generic words, which also
    // mention 锁定 (as a warning).
    assert_ne!(err.to_string(), unknown);
    assert_eq!(err.to_string(), "连续输错密码5次，账号已锁定15分钟");
    // Even the right password is refused while locked, with the locked message.
    let err = city
        .app
        .accounts()
        .login("workera", PASSWORD, None, None)
        .await
        .unwrap_err();
    assert_ne!(err.to_string(), unknown);
    assert!(
        err.to_string()
            .starts_with("连续输错密码次数过多，账号已锁定，请于"),
        "{err}"
    );
    city.clock.advance(14 * MINUTE);
    let err = city
        .app
        .accounts()
        .login("workera", PASSWORD, None, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("账号已锁定，请于"), "{err}");
    city.clock.advance(2 * MINUTE);
    // After the lock runs out, one more mistake does not lock again at once.
    let err = city
        .app
        .accounts()
        .login("workera", "wrong-password", None, None)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), unknown);
    city.app
        .accounts()
        .login("workera", PASSWORD, None, None)
        .await
        .expect("unlocked after 15 minutes");
}

#[tokio::test]
async fn sessions_end_after_thirty_idle_minutes_but_not_while_used() {
    let city = TestCity::new().await;
    let s = city
        .app
        .accounts()
        .login("workera", PASSWORD, None, None)
        .await
        .unwrap();
    for _ in 0..4 {
        city.clock.advance(20 * MINUTE);
        city.app
            .accounts()
            .authenticate(&s.token, None)
            .await
            .expect("still active");
    }
    city.clock.advance(31 * MINUTE);
    let err = city
        .app
        .accounts()
        .authenticate(&s.token, None)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::SessionExpired));
    assert!(matches!(
        city.app
            .accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap_err(),
        AppError::Unauthenticated
    ));
}

#[tokio::test]
async fn initial_passwords_must_be_changed_and_follow_the_policy() {
    let city = TestCity::new().await;
    let admin = city.caller("countyadmin").await;
    city.app
        .accounts()
        .create(
            &admin,
            yinling_app::accounts::NewAccountInput {
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
        .accounts()
        .login("newworker", "Initial-Pass-1", None, None)
        .await
        .unwrap();
    assert!(s.must_change_password);
    let session = city
        .app
        .accounts()
        .authenticate(&s.token, None)
        .await
        .unwrap();
    assert!(session.must_change_password);
    // Eight characters of all four classes: it breaks the length rule and nothing else.
    let weak = city
        .app
        .accounts()
        .change_password(&session.caller, &s.token, "Initial-Pass-1", "Sh0rt!pw")
        .await
        .unwrap_err();
    assert!(
        matches!(
            weak,
            AppError::Invalid {
                code: "weak_password",
                ..
            }
        ),
        "{weak:?}"
    );
    assert!(weak.to_string().contains("至少需要10位"), "{weak}");
    let wrong = city
        .app
        .accounts()
        .change_password(&session.caller, &s.token, "nope", "Another-Pass-22")
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("当前密码不正确"));
    city.app
        .accounts()
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
            .accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .must_change_password
    );
    // A grid worker cannot create a county administrator.
    let worker = city.caller("workera").await;
    let err = city
        .app
        .accounts()
        .create(
            &worker,
            yinling_app::accounts::NewAccountInput {
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
    assert_forbidden(&err);
    // Nor can a community secretary grant a role above their own.
    let secretary = city.caller("secretary").await;
    let err = city
        .app
        .accounts()
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
        .org()
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
        .org()
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
        .org()
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
        .org()
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
    let (reports, problems) = city.app.audit().verify().await.unwrap();
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
    let (_, problems) = city.app.audit().verify().await.unwrap();
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
    let (_, problems) = city.app.audit().verify().await.unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.county_code == chain && p.seq == 4 && p.problem.contains("缺失")),
        "{problems:?}"
    );
}

/// Switches off the append-only guard of `audit_events`, as someone with direct database
/// access could.
async fn disable_audit_guard(city: &TestCity) {
    let store = city.app.store();
    let statements: &[&'static str] = if store.backend() == yinling_store::Backend::Postgres {
        &["ALTER TABLE audit_events DISABLE TRIGGER USER"]
    } else {
        &[
            "DROP TRIGGER audit_events_append_only_update",
            "DROP TRIGGER audit_events_append_only_delete",
        ]
    };
    for sql in statements {
        store
            .write()
            .execute(yinling_store::q!(*sql))
            .await
            .unwrap();
    }
}

/// The problems `audit verify` reports on one chain.
async fn chain_problems(city: &TestCity, chain: i64) -> Vec<yinling_store::audit::ChainProblem> {
    let (_, problems) = city.app.audit().verify().await.unwrap();
    problems
        .into_iter()
        .filter(|p| p.county_code == chain)
        .collect()
}

#[tokio::test]
async fn the_audit_chain_detects_a_broken_link_a_truncated_tail_and_an_altered_head() {
    use yinling_store::audit::AuditRow;
    const COLUMNS: &str = "county_code, seq, at, actor_id, actor_name, ip, action, entity, \
        entity_key, before_digest, after_digest, detail, prev_hash, hash";

    // A row rewritten with a hash recomputed over its new content: the row itself verifies,
    // only the next row's link to it shows the change.
    let city = TestCity::new().await;
    let chain = city.county.county_code;
    assert!(chain_problems(&city, chain).await.is_empty());
    disable_audit_guard(&city).await;
    let store = city.app.store();
    let mut row: AuditRow = store
        .read()
        .fetch_one(yinling_store::q!(
            format!("SELECT {COLUMNS} FROM audit_events WHERE county_code = $1 AND seq = 2"),
            chain
        ))
        .await
        .unwrap();
    row.actor_name = "someone else".into();
    let forged = yinling_domain::audit::event_hash(&row.prev_hash, &row.fields());
    store
        .write()
        .execute(yinling_store::q!(
            "UPDATE audit_events SET actor_name = $3, hash = $4 WHERE county_code = $1 AND seq = $2",
            chain,
            2_i64,
            &row.actor_name,
            &forged
        ))
        .await
        .unwrap();
    let problems = chain_problems(&city, chain).await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].seq, 3, "{problems:?}");
    assert!(problems[0].problem.contains("链接不符"), "{problems:?}");

    // The newest events removed: no gap, no broken link — only the head tells.
    let city = TestCity::new().await;
    let chain = city.county.county_code;
    disable_audit_guard(&city).await;
    let store = city.app.store();
    let last: i64 = store
        .read()
        .scalar(yinling_store::q!(
            "SELECT MAX(seq) FROM audit_events WHERE county_code = $1",
            chain
        ))
        .await
        .unwrap();
    store
        .write()
        .execute(yinling_store::q!(
            "DELETE FROM audit_events WHERE county_code = $1 AND seq >= $2",
            chain,
            last - 1
        ))
        .await
        .unwrap();
    let problems = chain_problems(&city, chain).await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].seq, last, "{problems:?}");
    assert!(
        problems[0]
            .problem
            .contains(&format!("实际最后一条为第{}条", last - 2)),
        "{problems:?}"
    );

    // The head rewritten (the events untouched), then removed.
    let city = TestCity::new().await;
    let chain = city.county.county_code;
    let store = city.app.store();
    let previous: String = store
        .read()
        .scalar(yinling_store::q!(
            "SELECT prev_hash FROM audit_events WHERE county_code = $1 AND seq = (SELECT seq FROM audit_heads WHERE county_code = $1)",
            chain
        ))
        .await
        .unwrap();
    store
        .write()
        .execute(yinling_store::q!(
            "UPDATE audit_heads SET hash = $2 WHERE county_code = $1",
            chain,
            &previous
        ))
        .await
        .unwrap();
    let problems = chain_problems(&city, chain).await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].problem.contains("链头"), "{problems:?}");
    store
        .write()
        .execute(yinling_store::q!(
            "DELETE FROM audit_heads WHERE county_code = $1",
            chain
        ))
        .await
        .unwrap();
    let problems = chain_problems(&city, chain).await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].problem.contains("缺少链头"), "{problems:?}");
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
            .accounts()
            .login("admin", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    };
    let found = app
        .people()
        .search(
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
        .people()
        .file(&admin, zhang.county_code, zhang.id)
        .await
        .unwrap();
    let tags: Vec<&str> = file.tags.iter().map(|t| t.tag_name.as_str()).collect();
    assert!(tags.contains(&"高龄") && tags.contains(&"独居"), "{tags:?}");
    assert!(file.household.unwrap().members.is_empty(), "lives alone");
    // The grid worker of his grid sees him; the one next door does not.
    let worker = {
        let s = app
            .accounts()
            .login("wangge", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    };
    assert!(
        app.people()
            .file(&worker, zhang.county_code, zhang.id)
            .await
            .is_ok()
    );
    let other = {
        let s = app
            .accounts()
            .login("wangge2", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    };
    assert_not_found(app.people().file(&other, zhang.county_code, zhang.id).await);
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
    let (findings, counts) = app.ledger().verify().await.unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    assert!(counts.transfers > 1_000, "{counts:?}");
    assert_eq!(
        app.ledger().expire_points().await.unwrap().points,
        0,
        "nothing is old enough"
    );
    let till = {
        let s = app
            .accounts()
            .login("chaoshi", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    };
    let shops = app.redeem().my_shops(&till).await.unwrap();
    assert_eq!(shops.len(), 1);
    assert!(shops[0].name.starts_with("东门社区"), "{}", shops[0].name);
    let goods = app
        .redeem()
        .goods(&till, (shops[0].county_code, shops[0].id).into())
        .await
        .unwrap();
    assert!(goods.iter().any(|g| g.name.contains("大米")), "{goods:?}");
    let zhang_points = app
        .ledger()
        .balances(&admin, zhang.county_code, zhang.id)
        .await
        .unwrap()
        .points;
    assert!(zhang_points >= 60, "张德顺 has {zhang_points}");
    let li = {
        let s = app
            .accounts()
            .login("lilaoshi", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    };
    let (lc, lid) = li.person.expect("李秀兰's file");
    let lines = app
        .ledger()
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
    let (_, problems) = app.audit().verify().await.unwrap();
    assert!(problems.is_empty());
}

#[tokio::test]
async fn buildings_entrances_and_households_nest_sensibly() {
    use yinling_app::org::{PlaceInput, PlaceKind};
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
        .org()
        .create_place(&worker, c, g, place(PlaceKind::Building, None, "3号楼"))
        .await
        .unwrap();
    let entrance = city
        .app
        .org()
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
        .org()
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
        .org()
        .create_place(&worker, c, g, place(PlaceKind::Unit, None, "孤单元"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("单元不能登记在组织下"), "{err}");
    let err = city
        .app
        .org()
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
    let file = city.app.people().file(&worker, pc, pid).await.unwrap();
    let mut input = city.person_input(
        &city.grid_a,
        "王五",
        &file.id_number_masked,
        file.phone_masked.as_deref(),
    );
    input.household_id = Some(home.id);
    input.version = Some(file.version);
    city.app
        .people()
        .update(&worker, pc, pid, input)
        .await
        .unwrap();
    let homes = city
        .app
        .org()
        .places(&worker, c, g, Some(entrance.id))
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
    let file = city.app.people().file(&worker, pc, pid).await.unwrap();
    assert_eq!(file.household.unwrap().label, "3号楼2单元501室");
    // The worker next door can neither list nor add here.
    let b = city.caller("workerb").await;
    assert!(city.app.org().places(&b, c, g, None).await.is_err());
    assert!(
        city.app
            .org()
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
    let file = city.app.people().file(&secretary, c, id).await.unwrap();
    let mut input = city.person_input(
        &city.grid_a,
        "王五",
        PEOPLE_B[1].1,
        file.phone_masked.as_deref(),
    );
    input.version = Some(file.version);
    let err = city
        .app
        .people()
        .update(&secretary, c, id, input)
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
        .people()
        .update(&secretary, c, id, input)
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
    use yinling_app::kernel::throttle::Limit;
    let city = TestCity::new().await;
    let limit = Limit {
        bucket: "test_bucket",
        max: 3,
        window_minutes: 10,
    };
    for n in 1..=3 {
        let c = city
            .app
            .throttle()
            .hit(&limit, "acct:7")
            .await
            .expect("within");
        assert_eq!((c.hits, c.left), (n, 3 - n));
    }
    city.app
        .throttle()
        .check(&limit, "acct:7")
        .await
        .unwrap_err();
    let err = city.app.throttle().hit(&limit, "acct:7").await.unwrap_err();
    assert_too_many(&err);
    assert_eq!(err.code(), "too_many_attempts");
    assert!(err.to_string().contains("尝试次数过多"), "{err}");
    assert!(
        city.app.throttle().until(&limit, "acct:7").await.unwrap()
            == Some(yinling_app::testing::START + 10 * MINUTE)
    );
    // Another subject, and the same subject in another bucket, count apart.
    city.app
        .throttle()
        .hit(&limit, "acct:8")
        .await
        .expect("other subject");
    let other = Limit {
        bucket: "other_bucket",
        ..limit
    };
    city.app
        .throttle()
        .hit(&other, "acct:7")
        .await
        .expect("other bucket");
    // A new window starts once the old one has run out.
    city.clock.advance(10 * MINUTE);
    city.app
        .throttle()
        .check(&limit, "acct:7")
        .await
        .expect("lifted");
    let c = city
        .app
        .throttle()
        .hit(&limit, "acct:7")
        .await
        .expect("new window");
    assert_eq!(c.hits, 1);
    // Clearing forgets the count.
    for _ in 0..3 {
        city.app.throttle().hit(&limit, "acct:7").await.ok();
    }
    city.app
        .throttle()
        .check(&limit, "acct:7")
        .await
        .unwrap_err();
    // (as lifting a redemption lock does, inside its own transaction)
    let mut tx = city.app.store().begin().await.unwrap();
    yinling_store::throttle::clear(&mut tx.exec(), limit.bucket, "acct:7")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    city.app
        .throttle()
        .check(&limit, "acct:7")
        .await
        .expect("cleared");
    // Old windows are purged after a day.
    city.clock.advance(24 * 60 * MINUTE + MINUTE);
    assert_eq!(city.app.throttle().purge().await.unwrap(), 2);
    assert_eq!(city.count("throttles").await, 0);
}

#[tokio::test]
async fn simultaneous_hits_are_all_counted() {
    use yinling_app::kernel::throttle::Limit;
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
                    app.throttle().hit(&limit, "ip:10.0.0.1").await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let c = city
        .app
        .throttle()
        .hit(&limit, "ip:10.0.0.1")
        .await
        .unwrap();
    assert_eq!(c.hits, 81);
}

// =======================================================================================
// Issue 9, item 6: moving a unit moves everything under it. The tables that carry paths
// come from the schema; the checks below enumerate the schema themselves, so a table added
// later with a path column the mover missed fails them.
// =======================================================================================

mod moving {
    use std::collections::HashSet;

    use yinling_app::{App, AppError, Caller, PageRequest, testing::TestCity};
    use yinling_store::{
        org::{self as store_org, PathShape},
        q,
    };

    /// Every text column of every table, from the catalogue.
    pub async fn text_columns(app: &App) -> Vec<(String, String)> {
        let mut exec = app.store().read();
        let sql = if exec.is_postgres() {
            "SELECT table_name::text, column_name::text FROM information_schema.columns
              WHERE table_schema = current_schema() AND data_type = 'text'
              ORDER BY table_name, column_name"
        } else {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
              WHERE m.type = 'table' AND upper(p.type) = 'TEXT' ORDER BY m.name, p.name"
        };
        exec.fetch_all::<(String, String)>(q!(sql)).await.unwrap()
    }

    /// `table.column: rows` for every text column anywhere that still mentions `needle`.
    pub async fn mentions(app: &App, needle: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (t, c) in text_columns(app).await {
            let n: i64 = app
                .store()
                .read()
                .scalar(q!(
                    format!("SELECT COUNT(*) FROM {t} WHERE {c} LIKE $1"),
                    format!("%{needle}%")
                ))
                .await
                .unwrap();
            if n > 0 {
                out.push(format!("{t}.{c}: {n}"));
            }
        }
        out
    }

    /// Scope invariants over every path-bearing column the schema shows: each path names
    /// an existing unit; a path kept above a row's own is a prefix of it; a row naming its
    /// unit carries that unit's path; the tree's paths and depths agree with its parents.
    pub async fn path_invariants(app: &App) -> Vec<String> {
        let mut exec = app.store().read();
        let schema = store_org::schema_columns(&mut exec).await.unwrap();
        let units: HashSet<String> = exec
            .scalars::<String>(q!("SELECT path FROM org_units"))
            .await
            .unwrap()
            .into_iter()
            .collect();
        let mut problems = Vec::new();
        for c in store_org::path_columns(&schema) {
            let (t, col) = (&c.table, &c.column);
            let values: Vec<String> = exec
                .scalars(q!(format!("SELECT {col} FROM {t} WHERE {col} IS NOT NULL")))
                .await
                .unwrap();
            for v in values {
                let paths: Vec<String> = match c.shape {
                    PathShape::List => serde_json::from_str(&v).unwrap_or_else(|_| vec![v.clone()]),
                    _ => vec![v],
                };
                for p in paths {
                    if !units.contains(&p) {
                        problems.push(format!("{t}.{col} names no unit: {p}"));
                    }
                }
            }
            if c.shape == PathShape::AncestorOfPath {
                let n: i64 = exec
                    .scalar(q!(format!(
                        "SELECT COUNT(*) FROM {t} WHERE {col} IS NOT NULL
                            AND substr(path, 1, length({col})) <> {col}"
                    )))
                    .await
                    .unwrap();
                if n > 0 {
                    problems.push(format!("{t}.{col} is not above the row's path in {n} rows"));
                }
            }
        }
        for (t, columns) in &schema {
            let has = |c: &str| columns.iter().any(|x| x == c);
            if !has("path") {
                continue;
            }
            let Some(id_col) = ["unit_id", "home_unit_id"].into_iter().find(|c| has(c)) else {
                continue;
            };
            let cc = if has("unit_county_code") {
                "unit_county_code"
            } else {
                "county_code"
            };
            let n: i64 = exec
                .scalar(q!(format!(
                    "SELECT COUNT(*) FROM {t} x JOIN org_units u
                        ON u.county_code = x.{cc} AND u.id = x.{id_col}
                      WHERE x.path <> u.path"
                )))
                .await
                .unwrap();
            if n > 0 {
                problems.push(format!("{t}: {n} rows whose path is not their {id_col}'s"));
            }
        }
        let n: i64 = exec
            .scalar(q!(
                "SELECT COUNT(*) FROM org_units c JOIN org_units p
                    ON p.county_code = c.parent_county_code AND p.id = c.parent_id
                  WHERE c.path <> p.path || c.code || '/'
                     OR c.depth <> length(c.path) - length(replace(c.path, '/', ''))"
            ))
            .await
            .unwrap();
        if n > 0 {
            problems.push(format!(
                "org_units: {n} units out of line with their parent"
            ));
        }
        problems
    }

    /// Path columns with no row at or under `prefix` (for the ancestor-kept shape: no row
    /// naming a unit above `prefix` from a row under it) — a city missing rows there would
    /// not prove the mover covers them.
    pub async fn uncovered(app: &App, prefix: &str) -> Vec<String> {
        let mut exec = app.store().read();
        let schema = store_org::schema_columns(&mut exec).await.unwrap();
        let mut out = Vec::new();
        for c in store_org::path_columns(&schema) {
            let (t, col) = (&c.table, &c.column);
            let q = match c.shape {
                PathShape::AncestorOfPath => q!(
                    format!(
                        "SELECT COUNT(*) FROM {t} WHERE path LIKE $1 AND {col} IS NOT NULL
                            AND {col} NOT LIKE $1"
                    ),
                    format!("{prefix}%")
                ),
                _ => q!(
                    format!("SELECT COUNT(*) FROM {t} WHERE {col} LIKE $1"),
                    format!("%{prefix}%")
                ),
            };
            let n: i64 = exec.scalar(q).await.unwrap();
            if n == 0 {
                out.push(format!("{t}.{col}"));
            }
        }
        out
    }

    /// What a caller sees of the moved kinds of rows: orders, needs, providers, ledger
    /// accounts, mediation cases (totals of each list).
    pub async fn seen(app: &App, caller: &Caller) -> [i64; 5] {
        let page = PageRequest::default();
        [
            app.orders()
                .list(caller, Default::default(), page)
                .await
                .unwrap()
                .total,
            app.needs()
                .list(caller, &Default::default(), page)
                .await
                .unwrap()
                .total,
            app.services()
                .providers(caller, None, None, page)
                .await
                .unwrap()
                .total,
            app.ledger()
                .accounts(caller, yinling_domain::ledger::Unit::Points, page)
                .await
                .unwrap()
                .total,
            app.mediation()
                .list(caller, &Default::default(), page)
                .await
                .unwrap()
                .total,
        ]
    }

    /// A street secretary account on `unit`.
    pub async fn street_secretary(
        app: &App,
        system: &Caller,
        username: &str,
        unit: (i64, i64),
        password: &str,
    ) -> Caller {
        app.accounts()
            .create(
                system,
                yinling_app::accounts::NewAccountInput {
                    username: username.to_owned(),
                    display_name: username.to_owned(),
                    password: password.to_owned(),
                    role: yinling_domain::role::Role::StreetSecretary,
                    unit_county_code: unit.0,
                    unit_id: unit.1,
                    must_change_password: false,
                    person_county_code: None,
                    person_id: None,
                },
            )
            .await
            .unwrap();
        let s = app
            .accounts()
            .login(username, password, None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    }

    pub fn is_not_found<T: std::fmt::Debug>(r: Result<T, AppError>) -> bool {
        matches!(r, Err(AppError::NotFound { .. }))
    }

    /// The test city with rows in every path-bearing table under its community.
    pub async fn busy_city() -> (TestCity, Busy) {
        use yinling_app::{
            ledger::AdjustmentInput,
            mediation::{CaseInput, MediatorRef, PartyInput},
            needs::NeedInput,
            orders::OrderInput,
            people::TagDefInput,
            people::{RoleInput, TagInput},
        };
        use yinling_domain::{
            mediation::{DisputeCategory, MediatorKind, PartySide},
            person::{PersonRoleKind, RetireKind, RoleDetails},
        };
        let city = TestCity::new().await;
        let s = city.add_services().await;
        let system = city.system.clone();
        let county = city.county.county_code;
        let admin = city.caller("countyadmin").await;
        // A completed order, its award taken into the ledger (accounts with paths).
        city.complete_an_order(&s).await;
        city.app.ledger().claim_entitlements(100).await.unwrap();
        // An open order nobody takes, escalated three times: grid → compound → community
        // → street, so it names the street above the community. It is for 王五 (李四 may
        // not serve 张三丰, who shares his household once the shop is added).
        let resident = city.caller("resident").await;
        let open = city
            .app
            .orders()
            .place(
                &city.caller("workera").await,
                OrderInput {
                    item_id: s.item.id,
                    person: Some(city.people_a[2].into()),
                    wanted_at: None,
                    wanted_at_text: Some("2026-07-01 18:00".into()),
                    description: None,
                    urgency: None,
                    address: None,
                    need_id: None,
                },
            )
            .await
            .unwrap()
            .order
            .id;
        for _ in 0..3 {
            city.clock.advance(61 * yinling_app::kernel::clock::MINUTE);
            assert!(city.app.orders().escalate_overdue(&system).await.unwrap() >= 1);
        }
        // A need, a party-member role on the branch, a tag, places and a shop.
        let (nc, nid) = city
            .app
            .needs()
            .record(
                &system,
                NeedInput {
                    county_code: county,
                    person_id: Some(city.people_a[2].1),
                    household_id: None,
                    unit_id: None,
                    category: "meals".into(),
                    description: "腿脚不便，需要助餐".into(),
                    urgency: yinling_domain::service::Urgency::Normal,
                    source: yinling_domain::need::NeedSource::DoorKnock,
                },
            )
            .await
            .unwrap();
        city.app
            .people()
            .add_role(
                &system,
                city.people_a[0].0,
                city.people_a[0].1,
                RoleInput {
                    kind: PersonRoleKind::PartyMember,
                    unit_county_code: Some(city.branch.county_code),
                    unit_id: Some(city.branch.id),
                    since: None,
                    details: RoleDetails::default(),
                },
            )
            .await
            .unwrap();
        let tag = city
            .app
            .people()
            .define_tag(
                &system,
                TagDefInput {
                    code: "gaoling".into(),
                    name: "高龄".into(),
                    category: "人群特征".into(),
                    description: String::new(),
                    archived: false,
                },
            )
            .await
            .unwrap();
        city.app
            .people()
            .tag(
                &system,
                city.people_a[0].0,
                city.people_a[0].1,
                TagInput {
                    tag_id: tag,
                    valid_from: None,
                    valid_to: None,
                    note: None,
                },
            )
            .await
            .unwrap();
        let shop = city.add_shop().await;
        // A mediation case in grid A, mediated by 李四 (a retired cadre living there).
        city.app
            .people()
            .add_role(
                &system,
                city.people_a[1].0,
                city.people_a[1].1,
                RoleInput {
                    kind: PersonRoleKind::RetiredCadre,
                    unit_county_code: None,
                    unit_id: None,
                    since: None,
                    details: RoleDetails {
                        retire_kind: Some(RetireKind::Tuixiu),
                        ..RoleDetails::default()
                    },
                },
            )
            .await
            .unwrap();
        let case = city
            .app
            .mediation()
            .create(
                &system,
                CaseInput {
                    unit_county_code: county,
                    unit_id: city.grid_a.id,
                    place_id: None,
                    location: Some("3号楼楼道".into()),
                    category: DisputeCategory::Neighbour,
                    summary: "楼道堆放杂物引发邻里争吵".into(),
                    intake_on: None,
                    taken_by_name: None,
                    parties: vec![
                        PartyInput {
                            side: PartySide::Applicant,
                            name: "王某某".into(),
                            person_id: None,
                        },
                        PartyInput {
                            side: PartySide::Respondent,
                            name: "刘某".into(),
                            person_id: None,
                        },
                    ],
                    mediators: vec![MediatorRef {
                        kind: MediatorKind::Person,
                        id: city.people_a[1].1,
                    }],
                },
            )
            .await
            .unwrap();
        // A pending adjustment for 王五.
        city.app
            .ledger()
            .propose_adjustment(
                &admin,
                AdjustmentInput {
                    person: city.people_a[2].into(),
                    unit: yinling_domain::ledger::Unit::Points,
                    amount: 5,
                    memo: "补记入户走访积分".into(),
                },
            )
            .await
            .unwrap();
        // At the shop under the community: a redemption its elder reports as not theirs
        // (不是我本人兑换) and a till locked by wrong codes.
        let till = yinling_app::Key::from((shop.county_code, shop.id));
        let keeper = city.caller("shopkeeper").await;
        let zhang = city.people_a[0];
        city.app
            .ledger()
            .post_now(&[yinling_app::ledger::Posting {
                unit: yinling_domain::ledger::Unit::Points,
                debit: yinling_app::ledger::Holder::Pool {
                    county_code: county,
                },
                credit: yinling_app::ledger::Holder::Person {
                    county_code: zhang.0,
                    id: zhang.1,
                },
                amount: 100,
                reason: yinling_domain::ledger::Reason::Earn,
                source_kind: yinling_domain::ledger::SourceKind::Activity,
                source_ref: "move/seed".into(),
                memo: String::new(),
                key: "move-seed-points".into(),
                reverses: None,
                actor: yinling_app::ledger::Actor::system("test"),
                daily_cap: None,
            }])
            .await
            .unwrap()
            .remove(0)
            .unwrap();
        let goods = city
            .app
            .redeem()
            .add_goods(
                &keeper,
                till,
                yinling_app::redeem::GoodsInput {
                    name: "挂面".into(),
                    price_points: 10,
                    stock: 10,
                    active: true,
                    version: None,
                },
            )
            .await
            .unwrap();
        let code = city.app.redeem().code(&resident).await.unwrap();
        let redeem = |key: &str| yinling_app::redeem::RedeemInput {
            code: code.code.clone(),
            goods_id: goods.id,
            quantity: 1,
            idempotency_key: key.into(),
        };
        let receipt = city
            .app
            .redeem()
            .at_till(&keeper, till, redeem("move-till-0001"))
            .await
            .unwrap();
        city.app
            .redeem()
            .report(&resident, county, receipt.redemption.id)
            .await
            .unwrap();
        // The used code is a wrong code now: five of them lock the till.
        for n in 0..5 {
            let _ = city
                .app
                .redeem()
                .at_till(&keeper, till, redeem(&format!("move-wrong-{n:04}")))
                .await;
        }
        let busy = Busy {
            open_order: open,
            need: (nc, nid),
            case,
            vol_a: s.vol_a,
        };
        (city, busy)
    }

    pub struct Busy {
        pub open_order: i64,
        pub need: (i64, i64),
        pub case: (i64, i64),
        pub vol_a: i64,
    }
}

#[tokio::test]
async fn moving_a_community_moves_everything_scoped_under_it() {
    use moving::*;
    use yinling_app::{needs::FollowUpInput, orders::DispatchInput, org::NewUnitInput};
    use yinling_domain::org::OrgKind;

    let (city, busy) = busy_city().await;
    let county = city.county.county_code;
    let system = city.system.clone();
    let admin = city.caller("countyadmin").await;
    let old_prefix = city.community.path.clone();
    // The city has rows in every path-bearing column under the community, so the checks
    // below prove the mover covers each; a new table with a path column needs rows here.
    assert_eq!(
        uncovered(&city.app, &old_prefix).await,
        Vec::<String>::new(),
        "give the test city rows of these columns under the community"
    );
    let street2 = city
        .app
        .org()
        .create_unit(
            &system,
            county,
            city.county.id,
            NewUnitInput {
                kind: OrgKind::StreetCommittee,
                name: "中都街道党工委".into(),
                region_code: Some("370830001".into()),
                address: None,
                lat: None,
                lng: None,
                geojson: None,
            },
        )
        .await
        .unwrap();
    let old_sec = street_secretary(
        &city.app,
        &system,
        "streetold",
        (county, city.street.id),
        yinling_app::testing::PASSWORD,
    )
    .await;
    let new_sec = street_secretary(
        &city.app,
        &system,
        "streetnew",
        (county, street2.id),
        yinling_app::testing::PASSWORD,
    )
    .await;
    let before = seen(&city.app, &old_sec).await;
    assert!(before.iter().all(|n| *n > 0), "{before:?}");
    assert_eq!(seen(&city.app, &new_sec).await, [0; 5]);
    // The matching pool is built before the move (李四 serves the whole community).
    let ranked = city
        .app
        .orders()
        .candidates(&old_sec, county, busy.open_order, 5)
        .await
        .unwrap();
    assert!(
        ranked.iter().any(|c| c.ranked.id == busy.vol_a),
        "{ranked:?}"
    );

    let moved = city
        .app
        .org()
        .move_unit(&admin, county, city.community.id, county, street2.id)
        .await
        .unwrap();
    assert!(moved >= 4, "community, branch, two grids, shop: {moved}");
    let new_prefix = format!("{}{}/", street2.path, city.community.code);

    // Nothing anywhere still names the old place — except the audit log, history under a
    // hash chain, whose free-text detail records what was done where at the time (an
    // account granted `grid_worker@<path>`); it scopes nothing. Every path is consistent.
    let left: Vec<String> = mentions(&city.app, &old_prefix)
        .await
        .into_iter()
        .filter(|m| !m.starts_with("audit_events.detail:"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
    assert_eq!(path_invariants(&city.app).await, Vec::<String>::new());
    // The order escalated to the old street now stands escalated to the new one.
    let o = city
        .app
        .orders()
        .detail(&new_sec, county, busy.open_order)
        .await
        .unwrap()
        .view
        .order;
    assert_eq!(
        o.path,
        format!("{new_prefix}{}/{}/", city.branch.code, city.grid_a.code)
    );
    assert_eq!(o.escalated_to.as_deref(), Some(street2.path.as_str()));

    // The old street's secretary sees and acts on none of it; the new one does.
    assert_eq!(seen(&city.app, &old_sec).await, [0; 5]);
    assert_eq!(seen(&city.app, &new_sec).await, before);
    assert!(is_not_found(
        city.app
            .orders()
            .detail(&old_sec, county, busy.open_order)
            .await
    ));
    assert!(is_not_found(
        city.app
            .orders()
            .dispatch(&old_sec, county, busy.open_order, DispatchInput::default())
            .await
    ));
    assert!(is_not_found(
        city.app
            .needs()
            .follow_up(
                &old_sec,
                busy.need.0,
                busy.need.1,
                FollowUpInput {
                    note: "电话回访".into(),
                    status: None,
                    version: None,
                },
            )
            .await
    ));
    assert!(is_not_found(
        city.app
            .mediation()
            .case(&old_sec, busy.case.0, busy.case.1)
            .await
    ));
    assert!(is_not_found(
        city.app
            .services()
            .provider(&old_sec, county, busy.vol_a)
            .await
    ));
    // The pool followed the move: 李四 still reaches the order, and one click dispatches it.
    let ranked = city
        .app
        .orders()
        .candidates(&new_sec, county, busy.open_order, 5)
        .await
        .unwrap();
    assert!(
        ranked.iter().any(|c| c.ranked.id == busy.vol_a),
        "{ranked:?}"
    );
    city.app
        .orders()
        .dispatch(&new_sec, county, busy.open_order, DispatchInput::default())
        .await
        .unwrap();
    city.app
        .needs()
        .follow_up(
            &new_sec,
            busy.need.0,
            busy.need.1,
            FollowUpInput {
                note: "已上门了解情况".into(),
                status: None,
                version: None,
            },
        )
        .await
        .unwrap();
    // The community's own staff keep everything: their grants moved with it.
    let secretary = city.caller("secretary").await;
    assert_eq!(seen(&city.app, &secretary).await, before);
    assert_eq!(
        names(&city, "workera", PeopleQuery::default()).await,
        ["张三丰", "李四", "王五"]
    );
    let (_, problems) = city.app.audit().verify().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

// =======================================================================================
// Issue 9, item 7: every write checks every reference it stores, and city-wide
// vocabularies are changed only by the city.
// =======================================================================================

/// A unit created by the system under `parent`.
async fn new_unit(
    city: &TestCity,
    parent: &yinling_store::org::OrgUnitRow,
    kind: yinling_domain::org::OrgKind,
    name: &str,
    region: Option<&str>,
) -> yinling_store::org::OrgUnitRow {
    city.app
        .org()
        .create_unit(
            &city.system,
            parent.county_code,
            parent.id,
            yinling_app::org::NewUnitInput {
                kind,
                name: name.to_owned(),
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

#[tokio::test]
async fn roles_and_households_attach_only_to_units_in_the_callers_scope() {
    use yinling_domain::org::OrgKind;
    let city = TestCity::new().await;
    let worker = city.caller("workera").await;
    let admin = city.caller("countyadmin").await;
    // Another street with its own community and branch.
    let street2 = new_unit(
        &city,
        &city.county,
        OrgKind::StreetCommittee,
        "中都街道党工委",
        Some("370830001"),
    )
    .await;
    let community2 = new_unit(
        &city,
        &street2,
        OrgKind::CommunityCommittee,
        "西关社区党委",
        Some("370830001001"),
    )
    .await;
    let branch2 = new_unit(
        &city,
        &community2,
        OrgKind::CompoundBranch,
        "幸福小区党支部",
        None,
    )
    .await;
    let (c, id) = city.people_a[0];
    let party = |unit: Option<&yinling_store::org::OrgUnitRow>| RoleInput {
        kind: PersonRoleKind::PartyMember,
        unit_county_code: unit.map(|u| u.county_code),
        unit_id: unit.map(|u| u.id),
        since: None,
        details: RoleDetails::default(),
    };
    let roles_before = city.count("person_roles").await;
    let audit_before = city.count("audit_events").await;
    // Grid worker A may not attach 张三丰 to a branch in another street, to grid B next
    // door or to the branch above the grid: each answers like a missing unit.
    for unit in [&branch2, &city.grid_b, &city.branch] {
        let err = city
            .app
            .people()
            .add_role(&worker, c, id, party(Some(unit)))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::NotFound { .. }),
            "{}: {err:?}",
            unit.name
        );
    }
    // Half a reference is refused, not silently dropped.
    let err = city
        .app
        .people()
        .add_role(
            &worker,
            c,
            id,
            RoleInput {
                unit_id: None,
                ..party(Some(&city.grid_a))
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid { .. }), "{err:?}");
    assert_eq!(city.count("person_roles").await, roles_before);
    assert_eq!(city.count("audit_events").await, audit_before);
    // Inside the grid it works; the county administrator reaches the other street.
    city.app
        .people()
        .add_role(&worker, c, id, party(Some(&city.grid_a)))
        .await
        .unwrap();
    city.app
        .people()
        .add_role(
            &admin,
            c,
            id,
            RoleInput {
                kind: PersonRoleKind::Volunteer,
                ..party(Some(&branch2))
            },
        )
        .await
        .unwrap();

    // A household is a reference too: one registered directly in the community lies above
    // grid A, outside the grid worker's scope.
    use yinling_app::org::{PlaceInput, PlaceKind};
    let house = city
        .app
        .org()
        .create_place(
            &city.system,
            city.community.county_code,
            city.community.id,
            PlaceInput {
                kind: PlaceKind::Household,
                parent_id: None,
                label: "东门村12号".into(),
                address: None,
                lat: None,
                lng: None,
            },
        )
        .await
        .unwrap();
    let mut input = city.person_input(&city.grid_a, "孙八", &valid_id("37083019500505123"), None);
    input.household_id = Some(house.id);
    let err = city
        .app
        .people()
        .create(&worker, input.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::Invalid {
                code: "invalid_household",
                ..
            }
        ),
        "{err:?}"
    );
    // The community secretary, whose scope holds it, may.
    city.app
        .people()
        .create(&city.caller("secretary").await, input)
        .await
        .unwrap();
}

#[tokio::test]
async fn only_the_city_defines_the_city_wide_vocabularies() {
    use yinling_app::services::CategoryInput;
    let city = TestCity::new().await;
    let county_admin = city.caller("countyadmin").await;
    let city_admin = city.caller("cityadmin").await;
    let def = |name: &str| TagDefInput {
        code: "dujiu".into(),
        name: name.into(),
        category: "居住情况".into(),
        description: String::new(),
        archived: false,
    };
    // A county administrator's ManageTags reaches only the county: the vocabulary every
    // county shares is not theirs to create or rename.
    let err = city
        .app
        .people()
        .define_tag(&county_admin, def("独居"))
        .await
        .unwrap_err();
    assert_forbidden(&err);
    assert_eq!(city.count("tag_defs").await, 0);
    let tag = city
        .app
        .people()
        .define_tag(&city_admin, def("独居"))
        .await
        .unwrap();
    let err = city
        .app
        .people()
        .update_tag_definition(&county_admin, tag, def("独居老人（汶上）"))
        .await
        .unwrap_err();
    assert_forbidden(&err);
    let tags = city
        .app
        .people()
        .tag_definitions(&county_admin, true)
        .await
        .unwrap();
    assert_eq!(
        tags[0].def.name, "独居",
        "unchanged for all eleven counties"
    );
    // They still apply it to people in scope; the city renames it.
    let (c, id) = city.people_a[0];
    city.app
        .people()
        .tag(
            &county_admin,
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
        .unwrap();
    city.app
        .people()
        .update_tag_definition(&city_admin, tag, def("独居老人"))
        .await
        .unwrap();

    // Categories: a county adds its own; only the city adds for the city, and a city-wide
    // category may not collide with one a county already has.
    let cat = |code: &str, label: &str, county: Option<i64>| CategoryInput {
        code: code.into(),
        label: label.into(),
        county_code: county,
    };
    let err = city
        .app
        .services()
        .add_category(&county_admin, cat("haircut", "理发", None))
        .await
        .unwrap_err();
    assert_forbidden(&err);
    city.app
        .services()
        .add_category(&county_admin, cat("haircut", "理发", Some(c)))
        .await
        .unwrap();
    let err = city
        .app
        .services()
        .add_category(&city_admin, cat("haircut", "理发剃须", None))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict { .. }), "{err:?}");
    city.app
        .services()
        .add_category(&city_admin, cat("bath", "助浴", None))
        .await
        .unwrap();
    let codes: Vec<String> = city
        .app
        .services()
        .categories(c)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();
    assert_eq!(
        codes.iter().filter(|c| *c == "haircut").count(),
        1,
        "{codes:?}"
    );
}

// =======================================================================================
// Issue 9, items 7 and 8: text enters through one checker. Free text refuses phone and ID
// numbers (the rule mediation used) and invisible control or direction characters; names,
// titles and labels refuse the invisible characters. Field by field.
// =======================================================================================

mod text_fields {
    use std::future::Future;

    use yinling_app::{AppError, AppResult, testing::TestCity};

    /// Free text that must be refused, each with the code it is refused with.
    pub const BAD_FREE: [(&str, &str); 4] = [
        ("张三电话13812345678，请联系", "personal_number_in_text"),
        ("身份证370830194403151238核实", "personal_number_in_text"),
        ("说明\u{202E}情况如下，请核实", "invisible_character"),
        ("说明\u{0}情况如下，请核实", "invisible_character"),
    ];

    /// Refused: each of `bad` with its code, writing nothing; then `good` is taken.
    pub async fn check_field<T, F, Fut>(
        city: &TestCity,
        what: &str,
        bad: &[(&str, &str)],
        good: &str,
        mut f: F,
    ) where
        T: std::fmt::Debug,
        F: FnMut(String) -> Fut,
        Fut: Future<Output = AppResult<T>>,
    {
        let audit = city.count("audit_events").await;
        for (text, code) in bad {
            match f((*text).to_owned()).await {
                Err(AppError::Invalid {
                    code: c, message, ..
                }) => {
                    assert_eq!(c, *code, "{what}: {text:?} → {message}");
                    assert!(!message.is_empty());
                }
                other => panic!("{what} took {text:?}: {other:?}"),
            }
        }
        assert_eq!(
            city.count("audit_events").await,
            audit,
            "{what}: a refusal wrote something"
        );
        if let Err(e) = f(good.to_owned()).await {
            panic!("{what} refused ordinary text {good:?}: {e:?}");
        }
    }
}

#[tokio::test]
async fn every_free_text_field_refuses_numbers_and_invisible_characters() {
    use text_fields::*;
    use yinling_app::{
        ledger::AdjustmentInput,
        mediation::{CaseInput, PartyInput},
        needs::{FollowUpInput, NeedInput},
        orders::DispatchInput,
        orders::{OrderInput, OrderStep},
        org::{PlaceInput, PlaceKind},
        services::ServiceItemInput,
        time_bank::GiftInput,
    };
    use yinling_domain::{
        ledger::Unit,
        mediation::{DisputeCategory, PartySide},
        org::OrgKind,
        service::OrderAction,
    };
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let county = city.county.county_code;
    let c = &city;
    let system = &city.system;
    let admin = &city.caller("countyadmin").await;
    let resident = &city.caller("resident").await;
    let worker = &city.caller("workera").await;
    let vola = &city.caller("vola").await;
    let good = "3号楼2单元501室，午饭少盐，2026-07-01送到";
    let order = |description: Option<String>, address: Option<String>| OrderInput {
        item_id: s.item.id,
        person: None,
        wanted_at: None,
        wanted_at_text: Some("2026-07-01 12:00".into()),
        description,
        urgency: None,
        address,
        need_id: None,
    };
    let step = |note: String, stars: Option<i64>| OrderStep {
        provider_id: None,
        note: Some(note),
        stars,
        photo_key: None,
    };
    let place = || async {
        c.app
            .orders()
            .place(resident, order(None, None))
            .await
            .unwrap()
            .order
            .id
    };

    // Orders: description, address, dispatch note, cancel reason, completion note, rating.
    check_field(c, "需求说明", &BAD_FREE, good, |t| async move {
        c.app.orders().place(resident, order(Some(t), None)).await
    })
    .await;
    check_field(c, "服务地址", &BAD_FREE, good, |t| async move {
        c.app.orders().place(resident, order(None, Some(t))).await
    })
    .await;
    let to_dispatch = place().await;
    check_field(c, "派单备注", &BAD_FREE, good, |t| async move {
        c.app
            .orders()
            .dispatch(
                worker,
                county,
                to_dispatch,
                DispatchInput {
                    provider_id: None,
                    note: Some(t),
                },
            )
            .await
    })
    .await;
    let to_cancel = place().await;
    check_field(c, "取消原因", &BAD_FREE, good, |t| async move {
        c.app
            .orders()
            .step(
                resident,
                county,
                to_cancel,
                OrderAction::Cancel,
                step(t, None),
            )
            .await
    })
    .await;
    for action in [OrderAction::Accept, OrderAction::CheckIn] {
        c.app
            .orders()
            .step(vola, county, to_dispatch, action, step(String::new(), None))
            .await
            .unwrap();
    }
    check_field(c, "完成情况", &BAD_FREE, good, |t| async move {
        c.app
            .orders()
            .step(
                vola,
                county,
                to_dispatch,
                OrderAction::Complete,
                step(t, None),
            )
            .await
    })
    .await;
    check_field(c, "评价", &BAD_FREE, good, |t| async move {
        c.app
            .orders()
            .step(
                resident,
                county,
                to_dispatch,
                OrderAction::Rate,
                step(t, Some(5)),
            )
            .await
    })
    .await;

    // Needs: description and follow-up.
    let need = |description: String| NeedInput {
        county_code: county,
        person_id: Some(city.people_a[2].1),
        household_id: None,
        unit_id: None,
        category: "meals".into(),
        description,
        urgency: yinling_domain::service::Urgency::Normal,
        source: yinling_domain::need::NeedSource::DoorKnock,
    };
    check_field(c, "需求内容", &BAD_FREE, good, |t| async move {
        c.app.needs().record(worker, need(t)).await
    })
    .await;
    let (nc, nid) = c
        .app
        .needs()
        .record(worker, need("需要助餐".into()))
        .await
        .unwrap();
    check_field(c, "跟进情况", &BAD_FREE, good, |t| async move {
        c.app
            .needs()
            .follow_up(
                worker,
                nc,
                nid,
                FollowUpInput {
                    note: t,
                    status: None,
                    version: None,
                },
            )
            .await
    })
    .await;

    // People: note and address; a tag's note.
    let mut n = 0;
    let mut next_id = || {
        n += 1;
        valid_id(&format!("37083019500101{n:03}"))
    };
    let (id1, id2) = (next_id(), next_id());
    check_field(c, "人员备注", &BAD_FREE, good, |t| {
        let mut input = c.person_input(&c.grid_a, "周九", &id1, None);
        input.note = Some(t);
        async move { c.app.people().create(worker, input).await }
    })
    .await;
    check_field(
        c,
        "住址",
        &BAD_FREE[..3],
        "阳光小区3号楼2单元501室",
        |t| {
            let mut input = c.person_input(&c.grid_a, "吴十", &id2, None);
            input.address = Some(t);
            async move { c.app.people().create(worker, input).await }
        },
    )
    .await;
    let tag = c
        .app
        .people()
        .define_tag(
            system,
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
    check_field(c, "标签备注", &BAD_FREE, good, |t| async move {
        c.app
            .people()
            .tag(
                worker,
                c.people_a[2].0,
                c.people_a[2].1,
                TagInput {
                    tag_id: tag,
                    valid_from: None,
                    valid_to: None,
                    note: Some(t),
                },
            )
            .await
    })
    .await;

    // Places and units: addresses (one line).
    check_field(
        c,
        "住所地址",
        &BAD_FREE[..3],
        "阳光小区3号楼",
        |t| async move {
            c.app
                .org()
                .create_place(
                    worker,
                    county,
                    c.grid_a.id,
                    PlaceInput {
                        kind: PlaceKind::Building,
                        parent_id: None,
                        label: "9号楼".into(),
                        address: Some(t),
                        lat: None,
                        lng: None,
                    },
                )
                .await
        },
    )
    .await;
    check_field(
        c,
        "组织地址",
        &BAD_FREE[..3],
        "东门大街88号",
        |t| async move {
            c.app
                .org()
                .create_unit(
                    system,
                    county,
                    c.branch.id,
                    yinling_app::org::NewUnitInput {
                        kind: OrgKind::GridPartyGroup,
                        name: "阳光小区第3网格党小组".into(),
                        region_code: None,
                        address: Some(t),
                        lat: None,
                        lng: None,
                        geojson: None,
                    },
                )
                .await
        },
    )
    .await;

    // Service items: description.
    check_field(c, "服务说明", &BAD_FREE, good, |t| async move {
        c.app
            .services()
            .create_item(
                system,
                county,
                c.community.id,
                ServiceItemInput {
                    category: "meals".into(),
                    name: "午餐配送".into(),
                    description: Some(t),
                    skills: vec![],
                    duration_minutes: 30,
                    points: 5,
                    hours_minutes: 30,
                    sla_minutes: 60,
                    active: true,
                    version: None,
                },
            )
            .await
    })
    .await;

    // Ledger: an adjustment's memo, a reversal's, a family gift's.
    // The shop puts 张三丰 and 李四 in one household (so 李四 may give him hours); after
    // the orders, since a volunteer does not serve their own household.
    check_field(
        c,
        "调整原因",
        &BAD_FREE,
        "补记2026年7月入户走访",
        |t| async move {
            c.app
                .ledger()
                .propose_adjustment(
                    admin,
                    AdjustmentInput {
                        person: c.people_a[2].into(),
                        unit: Unit::Points,
                        amount: 5,
                        memo: t,
                    },
                )
                .await
        },
    )
    .await;
    city.complete_an_order(&s).await;
    city.add_shop().await;
    city.app.ledger().claim_entitlements(100).await.unwrap();
    let transfer: i64 = city
        .app
        .store()
        .read()
        .scalar(yinling_store::q!(
            "SELECT MIN(id) FROM ledger_transfers WHERE county_code = $1",
            county
        ))
        .await
        .unwrap();
    check_field(
        c,
        "冲正原因",
        &BAD_FREE,
        "重复发放，予以冲正",
        |t| async move {
            c.app
                .ledger()
                .reverse_transfer(admin, county, transfer, &t)
                .await
        },
    )
    .await;
    let mut k = 0;
    check_field(c, "转赠附言", &BAD_FREE, "给老伴的", |t| {
        k += 1;
        let input = GiftInput {
            to: c.people_a[0].into(),
            minutes: 10,
            memo: Some(t),
            idempotency_key: format!("gift-test-{k:04}"),
        };
        async move { c.app.time_bank().gift(vola, input).await }
    })
    .await;

    // Mediation (which had the rule first): summary and location.
    let case = |summary: String, location: Option<String>| CaseInput {
        unit_county_code: county,
        unit_id: c.grid_a.id,
        place_id: None,
        location,
        category: DisputeCategory::Neighbour,
        summary,
        intake_on: None,
        taken_by_name: None,
        parties: vec![PartyInput {
            side: PartySide::Applicant,
            name: "王某某".into(),
            person_id: None,
        }],
        mediators: Vec::new(),
    };
    check_field(c, "纠纷简要情况", &BAD_FREE, good, |t| async move {
        c.app.mediation().create(worker, case(t, None)).await
    })
    .await;
    check_field(c, "发生地点", &BAD_FREE[..3], "3号楼楼道", |t| async move {
        c.app
            .mediation()
            .create(worker, case("楼道堆放杂物引发争吵".into(), Some(t)))
            .await
    })
    .await;
}

#[tokio::test]
async fn names_titles_and_labels_refuse_invisible_characters_but_keep_their_numbers() {
    use text_fields::*;
    use yinling_app::{
        accounts::NewAccountInput,
        org::{PlaceInput, PlaceKind},
        redeem::GoodsInput,
        services::CategoryInput,
        services::ServiceItemInput,
    };
    use yinling_domain::{org::OrgKind, role::Role};
    let city = TestCity::new().await;
    let shop = city.add_shop().await;
    let county = city.county.county_code;
    let c = &city;
    let system = &city.system;
    let city_admin = &city.caller("cityadmin").await;
    let bidi: [(&str, &str); 3] = [
        ("阳光\u{202E}小区", "invisible_character"),
        ("阳光\u{200F}小区", "invisible_character"),
        ("阳光\u{FEFF}小区", "invisible_character"),
    ];
    check_field(
        c,
        "组织名称",
        &bidi,
        "阳光小区第3网格党小组",
        |t| async move {
            c.app
                .org()
                .create_unit(
                    system,
                    county,
                    c.branch.id,
                    yinling_app::org::NewUnitInput {
                        kind: OrgKind::GridPartyGroup,
                        name: t,
                        region_code: None,
                        address: None,
                        lat: None,
                        lng: None,
                        geojson: None,
                    },
                )
                .await
        },
    )
    .await;
    check_field(c, "住所名称", &bidi, "12号楼", |t| async move {
        c.app
            .org()
            .create_place(
                system,
                county,
                c.grid_a.id,
                PlaceInput {
                    kind: PlaceKind::Building,
                    parent_id: None,
                    label: t,
                    address: None,
                    lat: None,
                    lng: None,
                },
            )
            .await
    })
    .await;
    let mut n = 0;
    check_field(c, "标签名称", &bidi, "独居2", |t| {
        n += 1;
        let input = TagDefInput {
            code: format!("t{n}"),
            name: t,
            category: "其他".into(),
            description: String::new(),
            archived: false,
        };
        async move { c.app.people().define_tag(city_admin, input).await }
    })
    .await;
    check_field(c, "类别名称", &bidi, "理发2", |t| async move {
        c.app
            .services()
            .add_category(
                system,
                CategoryInput {
                    code: "haircut".into(),
                    label: t,
                    county_code: Some(county),
                },
            )
            .await
    })
    .await;
    check_field(c, "服务项目名称", &bidi, "助浴1次", |t| async move {
        c.app
            .services()
            .create_item(
                system,
                county,
                c.community.id,
                ServiceItemInput {
                    category: "meals".into(),
                    name: t,
                    description: None,
                    skills: vec![],
                    duration_minutes: 30,
                    points: 5,
                    hours_minutes: 30,
                    sla_minutes: 60,
                    active: true,
                    version: None,
                },
            )
            .await
    })
    .await;
    check_field(c, "商品名称", &bidi, "大米5kg", |t| async move {
        c.app
            .redeem()
            .add_goods(
                system,
                (shop.county_code, shop.id).into(),
                GoodsInput {
                    name: t,
                    price_points: 50,
                    stock: 10,
                    active: true,
                    version: None,
                },
            )
            .await
    })
    .await;
    let mut u = 0;
    check_field(c, "账号姓名", &bidi, "网格员2号", |t| {
        u += 1;
        let input = NewAccountInput {
            username: format!("worker{u}x"),
            display_name: t,
            password: yinling_app::testing::PASSWORD.to_owned(),
            role: Role::GridWorker,
            unit_county_code: county,
            unit_id: c.grid_a.id,
            must_change_password: false,
            person_county_code: None,
            person_id: None,
        };
        async move { c.app.accounts().create(system, input).await }
    })
    .await;
    let (pc, pid) = city.people_a[1];
    check_field(
        c,
        "原工作单位",
        &bidi,
        "汶上县第1实验小学",
        |t| async move {
            c.app
                .people()
                .add_role(
                    system,
                    pc,
                    pid,
                    RoleInput {
                        kind: PersonRoleKind::RetiredCadre,
                        unit_county_code: None,
                        unit_id: None,
                        since: None,
                        details: RoleDetails {
                            retire_kind: Some(RetireKind::Tuixiu),
                            former_unit: Some(t),
                            ..RoleDetails::default()
                        },
                    },
                )
                .await
        },
    )
    .await;
    check_field(c, "特长", &bidi, "理发", |t| async move {
        c.app.people().set_skills(system, pc, pid, vec![t]).await
    })
    .await;
    let id = valid_id("37083019500101555");
    check_field(c, "姓名", &bidi[..1], "孙八", |t| {
        let input = c.person_input(&c.grid_a, &t, &id, None);
        async move { c.app.people().create(system, input).await }
    })
    .await;
}

#[tokio::test]
async fn the_demo_city_keeps_its_scope_invariants_after_a_move() {
    use moving::*;
    use yinling_app::{App, Caller, demo::DemoOptions};
    let db = yinling_store::testing::TestDb::new().await;
    let app = App::new(
        db.store.clone(),
        yinling_app::Vault::new(&[9u8; 32]),
        yinling_app::Settings::default(),
        yinling_app::Clock::manual(yinling_app::testing::START),
    );
    let password = "Demo-Pass-2026";
    let opts = DemoOptions {
        people: 3_000,
        seed: 11,
        admin_password: Some(password.into()),
    };
    app.load_demo(&opts, &|_, _, _| {}).await.unwrap();
    let login = |username: &'static str| {
        let app = app.clone();
        async move {
            let s = app
                .accounts()
                .login(username, password, None, None)
                .await
                .unwrap();
            app.accounts()
                .authenticate(&s.token, None)
                .await
                .unwrap()
                .caller
        }
    };
    let admin = login("admin").await;
    let dongmen = login("dongmen").await;
    let system = Caller::system("test");
    // 东门社区 (the story community) moves from its street to the next street of 汶上.
    let community = dongmen.grants[0].clone();
    let county = community.unit_county_code;
    let street_path = community.path.parent().unwrap();
    let street =
        yinling_store::org::get_by_path(&mut app.store().read(), county, street_path.as_str())
            .await
            .unwrap()
            .unwrap();
    let (other_id, other_path): (i64, String) = app
        .store()
        .read()
        .fetch_one(yinling_store::q!(
            "SELECT id, path FROM org_units WHERE county_code = $1 AND kind = $2 AND id <> $3
              ORDER BY path LIMIT 1",
            county,
            street.kind.as_str(),
            street.id
        ))
        .await
        .unwrap();
    let old_sec = street_secretary(&app, &system, "streetold", (county, street.id), password).await;
    let new_sec = street_secretary(&app, &system, "streetnew", (county, other_id), password).await;
    // 张德顺 orders 助餐 (so the community holds an open order too).
    let zhang = login("zhangdaye").await;
    let home = app
        .people()
        .file(&zhang, zhang.person.unwrap().0, zhang.person.unwrap().1)
        .await
        .unwrap()
        .home_unit
        .path;
    let item = app
        .services()
        .items_offered_at(county, &home)
        .await
        .unwrap()[0]
        .id;
    app.orders()
        .place(
            &zhang,
            yinling_app::orders::OrderInput {
                item_id: item,
                person: None,
                wanted_at: None,
                wanted_at_text: Some("2026-07-02 12:00".into()),
                description: None,
                urgency: None,
                address: None,
                need_id: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(path_invariants(&app).await, Vec::<String>::new());
    // Orders, needs, providers and ledger accounts in the community (no mediation case
    // happens to be there at this size).
    let held = seen(&app, &dongmen).await;
    assert!(held[..4].iter().all(|n| *n > 0), "{held:?}");
    let (old_before, new_before) = (seen(&app, &old_sec).await, seen(&app, &new_sec).await);

    app.org()
        .move_unit(&admin, county, community.unit_id, county, other_id)
        .await
        .unwrap();

    let old_prefix = community.path.to_string();
    let left: Vec<String> = mentions(&app, &old_prefix)
        .await
        .into_iter()
        .filter(|m| !m.starts_with("audit_events.detail:"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
    assert_eq!(path_invariants(&app).await, Vec::<String>::new());
    // What the community holds left the old street's lists and joined the new street's.
    let minus: Vec<i64> = old_before.iter().zip(held).map(|(a, b)| a - b).collect();
    let plus: Vec<i64> = new_before.iter().zip(held).map(|(a, b)| a + b).collect();
    assert_eq!(seen(&app, &old_sec).await.to_vec(), minus);
    assert_eq!(seen(&app, &new_sec).await.to_vec(), plus);
    // The community secretary's grant moved with the community (read afresh per request).
    let dongmen = login("dongmen").await;
    assert_eq!(seen(&app, &dongmen).await, held);
    // The community keeps its place under the new street, and its grid worker their people.
    let moved = app
        .org()
        .find_unit(&admin, county, community.unit_id)
        .await
        .unwrap();
    assert!(moved.path.starts_with(&other_path), "{}", moved.path);
    let worker = login("wangge").await;
    let found = app
        .people()
        .search(&worker, &q("张德顺"), PageRequest::default())
        .await
        .unwrap();
    assert!(
        found.items.iter().any(|p| p.age == 82),
        "张德顺 is still seen"
    );
    let (_, problems) = app.audit().verify().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

// ==== Account administration respects rank (issue 9, item 1) ==============================
//
// Whom a managing role administers: every grant of the target inside the caller's
// ManageUsers scope and of a lower rank (city administrators administer one another). The
// expectations are written out by hand below, not computed by the rule under test.

mod account_rank {
    use super::*;
    use yinling_app::{Caller, accounts::NewAccountInput, org::NewUnitInput};
    use yinling_domain::{org::OrgKind, role::Role};
    use yinling_store::org::OrgUnitRow;

    /// The managers, in the order of the columns of [`TARGETS`].
    const MANAGERS: [&str; 4] = ["cityadmin", "countyadmin", "streetsec", "secretary"];

    /// Target accounts, where their grants lie, and whether each manager (city administrator,
    /// 汶上 county administrator, 汶上街道 secretary, 东门社区 secretary) administers them.
    const TARGETS: [(&str, &str, [bool; 4]); 16] = [
        (
            "t_city",
            "another city administrator (level for the city)",
            [true, false, false, false],
        ),
        (
            "t_county_vol",
            "county administrator of 汶上 volunteering in 东门 (the observed takeover)",
            [true, false, false, false],
        ),
        (
            "t_county",
            "county administrator of 汶上 (level for the county)",
            [true, false, false, false],
        ),
        (
            "t_county2",
            "county administrator of 曲阜 (another county)",
            [true, false, false, false],
        ),
        (
            "t_street",
            "secretary of 汶上街道 (level for the street)",
            [true, true, false, false],
        ),
        (
            "t_street2",
            "secretary of another street of 汶上",
            [true, true, false, false],
        ),
        (
            "t_comm",
            "secretary of 东门社区 (level for the community)",
            [true, true, true, false],
        ),
        (
            "t_comm2",
            "secretary of another community of 汶上街道",
            [true, true, true, false],
        ),
        (
            "t_grid_comm",
            "grid worker in 东门 and also its secretary (straddles by rank)",
            [true, true, true, false],
        ),
        (
            "t_worker",
            "grid worker of grid A",
            [true, true, true, true],
        ),
        ("t_vol", "volunteer in 东门", [true, true, true, true]),
        (
            "t_vol_comm2",
            "volunteer in 东门 and in the other community",
            [true, true, true, false],
        ),
        (
            "t_vol_street2",
            "volunteer in grid B and in the other street",
            [true, true, false, false],
        ),
        (
            "t_vol_county2",
            "volunteer in 东门 and in 曲阜 (straddles counties)",
            [true, false, false, false],
        ),
        (
            "t_vol_out",
            "volunteer in 曲阜 only",
            [true, false, false, false],
        ),
        (
            "t_nogrant",
            "an account without any role",
            [true, false, false, false],
        ),
    ];

    const NEW_PASSWORD: &str = "Reset-Pass-2026";

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
            .unwrap()
    }

    /// Creates `username` with the grants given (by the command line).
    async fn account(city: &TestCity, username: &str, grants: &[(Role, &OrgUnitRow)]) -> i64 {
        let (first, rest) = grants.split_first().expect("at least one grant");
        let id = city
            .app
            .accounts()
            .create(
                &city.system,
                NewAccountInput {
                    username: username.into(),
                    display_name: username.into(),
                    password: PASSWORD.into(),
                    role: first.0,
                    unit_county_code: first.1.county_code,
                    unit_id: first.1.id,
                    must_change_password: false,
                    person_county_code: None,
                    person_id: None,
                },
            )
            .await
            .unwrap();
        for (role, u) in rest {
            city.app
                .accounts()
                .add_grant(&city.system, id, *role, u.county_code, u.id)
                .await
                .unwrap();
        }
        id
    }

    struct World {
        city: TestCity,
        /// Target usernames → account ids, in the order of [`TARGETS`].
        targets: Vec<(String, i64)>,
    }

    async fn world() -> World {
        let city = TestCity::new().await;
        let root = city
            .app
            .org()
            .find_unit(
                &city.system,
                city.county.parent_county_code.unwrap(),
                city.county.parent_id.unwrap(),
            )
            .await
            .unwrap();
        let county2 = unit(
            &city,
            &root,
            OrgKind::County,
            "中共曲阜市委组织部",
            Some("370881"),
        )
        .await;
        let street2 = unit(
            &city,
            &city.county,
            OrgKind::StreetCommittee,
            "南站街道党工委",
            None,
        )
        .await;
        let community2 = unit(
            &city,
            &city.street,
            OrgKind::CommunityCommittee,
            "北门社区党委",
            None,
        )
        .await;
        account(&city, "streetsec", &[(Role::StreetSecretary, &city.street)]).await;
        use Role::*;
        let (county, street, community) = (&city.county, &city.street, &city.community);
        let (grid_a, grid_b) = (&city.grid_a, &city.grid_b);
        let grants: Vec<(&str, Vec<(Role, &OrgUnitRow)>)> = vec![
            ("t_city", vec![(CityAdmin, &root)]),
            (
                "t_county_vol",
                vec![(CountyAdmin, county), (Volunteer, community)],
            ),
            ("t_county", vec![(CountyAdmin, county)]),
            ("t_county2", vec![(CountyAdmin, &county2)]),
            ("t_street", vec![(StreetSecretary, street)]),
            ("t_street2", vec![(StreetSecretary, &street2)]),
            ("t_comm", vec![(CommunitySecretary, community)]),
            ("t_comm2", vec![(CommunitySecretary, &community2)]),
            (
                "t_grid_comm",
                vec![(GridWorker, grid_a), (CommunitySecretary, community)],
            ),
            ("t_worker", vec![(GridWorker, grid_a)]),
            ("t_vol", vec![(Volunteer, community)]),
            (
                "t_vol_comm2",
                vec![(Volunteer, community), (Volunteer, &community2)],
            ),
            (
                "t_vol_street2",
                vec![(Volunteer, grid_b), (Volunteer, &street2)],
            ),
            (
                "t_vol_county2",
                vec![(Volunteer, community), (Volunteer, &county2)],
            ),
            ("t_vol_out", vec![(Volunteer, &county2)]),
            ("t_nogrant", vec![(Volunteer, community)]),
        ];
        let mut targets = Vec::new();
        for ((name, g), (expected_name, _, _)) in grants.iter().zip(TARGETS) {
            assert_eq!(*name, expected_name);
            targets.push((name.to_string(), account(&city, name, g).await));
        }
        // The role-less account: its only grant revoked.
        let id = targets.last().unwrap().1;
        let view = city.app.accounts().get(&city.system, id).await.unwrap();
        city.app
            .accounts()
            .remove_grant(&city.system, id, view.grants[0].id)
            .await
            .unwrap();
        World { city, targets }
    }

    async fn refusals(city: &TestCity) -> i64 {
        city.app
            .store()
            .read()
            .scalar::<i64>(yinling_store::q!(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'account.refused'"
            ))
            .await
            .unwrap()
    }

    async fn grant_count(city: &TestCity, id: i64) -> i64 {
        city.app
            .store()
            .read()
            .scalar::<i64>(yinling_store::q!(
                "SELECT COUNT(*) FROM grants WHERE account_id = $1",
                id
            ))
            .await
            .unwrap()
    }

    async fn lock(city: &TestCity, id: i64) -> i64 {
        let until = city.app.now() + 15 * MINUTE;
        city.app
            .store()
            .write()
            .execute(yinling_store::q!(
                "UPDATE accounts SET failed_logins = 5, locked_until = $2 WHERE id = $1",
                id,
                until
            ))
            .await
            .unwrap();
        until
    }

    async fn listed(city: &TestCity, caller: &Caller) -> Vec<String> {
        let page = city
            .app
            .accounts()
            .list(caller, PageRequest::new(Some(1), Some(200)))
            .await
            .unwrap();
        assert_eq!(page.total, page.items.len() as i64);
        page.items.into_iter().map(|a| a.username).collect()
    }

    #[tokio::test]
    async fn each_managing_role_administers_exactly_the_accounts_below_it_in_its_subtree() {
        let World { city, targets } = world().await;
        let missing = i64::MAX / 2;
        for (col, manager) in MANAGERS.into_iter().enumerate() {
            let caller = city.caller(manager).await;
            let not_found = city
                .app
                .accounts()
                .get(&caller, missing)
                .await
                .unwrap_err()
                .to_string();
            let list = listed(&city, &caller).await;
            for ((username, id), (_, what, may)) in targets.iter().zip(TARGETS) {
                let id = *id;
                let may = may[col];
                let ctx = format!("{manager} → {username} ({what})");
                // View and list.
                let view = city.app.accounts().get(&caller, id).await;
                assert_eq!(view.is_ok(), may, "view: {ctx}");
                if let Err(e) = &view {
                    assert_eq!(e.to_string(), not_found, "like a missing account: {ctx}");
                }
                assert_eq!(list.contains(username), may, "list: {ctx}");

                // Reset the password, which also unlocks.
                let until = lock(&city, id).await;
                let before = city.app.accounts().by_id(id).await.unwrap().unwrap();
                let refused = refusals(&city).await;
                let r = city
                    .app
                    .accounts()
                    .reset_password(&caller, id, NEW_PASSWORD, false)
                    .await;
                let after = city.app.accounts().by_id(id).await.unwrap().unwrap();
                if may {
                    r.unwrap_or_else(|e| panic!("reset: {ctx}: {e}"));
                    assert_ne!(after.password_hash, before.password_hash, "{ctx}");
                    assert_eq!(after.locked_until, None, "unlocked: {ctx}");
                    assert_eq!(refusals(&city).await, refused, "{ctx}");
                } else {
                    let e = r.unwrap_err();
                    assert_eq!(e.to_string(), not_found, "reset: {ctx}");
                    assert_eq!(after.password_hash, before.password_hash, "{ctx}");
                    assert_eq!(after.locked_until, Some(until), "still locked: {ctx}");
                    assert_eq!(refusals(&city).await, refused + 1, "audited: {ctx}");
                }

                // Disable and enable.
                let refused = refusals(&city).await;
                let r = city.app.accounts().set_disabled(&caller, id, true).await;
                let disabled = city
                    .app
                    .accounts()
                    .by_id(id)
                    .await
                    .unwrap()
                    .unwrap()
                    .disabled;
                if may {
                    r.unwrap_or_else(|e| panic!("disable: {ctx}: {e}"));
                    assert!(disabled, "{ctx}");
                    city.app
                        .accounts()
                        .set_disabled(&caller, id, false)
                        .await
                        .unwrap_or_else(|e| panic!("enable: {ctx}: {e}"));
                    assert!(
                        !city
                            .app
                            .accounts()
                            .by_id(id)
                            .await
                            .unwrap()
                            .unwrap()
                            .disabled
                    );
                    assert_eq!(refusals(&city).await, refused, "{ctx}");
                } else {
                    assert_eq!(r.unwrap_err().to_string(), not_found, "disable: {ctx}");
                    assert!(!disabled, "{ctx}");
                    city.app
                        .accounts()
                        .set_disabled(&city.system, id, true)
                        .await
                        .unwrap();
                    let e = city
                        .app
                        .accounts()
                        .set_disabled(&caller, id, false)
                        .await
                        .unwrap_err();
                    assert_eq!(e.to_string(), not_found, "enable: {ctx}");
                    assert!(
                        city.app
                            .accounts()
                            .by_id(id)
                            .await
                            .unwrap()
                            .unwrap()
                            .disabled
                    );
                    city.app
                        .accounts()
                        .set_disabled(&city.system, id, false)
                        .await
                        .unwrap();
                    assert_eq!(refusals(&city).await, refused + 2, "audited: {ctx}");
                }

                // Grant a volunteer role on grid A (inside every manager's scope, below every
                // manager's rank), and revoke.
                let grants = grant_count(&city, id).await;
                let refused = refusals(&city).await;
                let (gc, gu) = (city.grid_a.county_code, city.grid_a.id);
                let r = city
                    .app
                    .accounts()
                    .add_grant(&caller, id, Role::Volunteer, gc, gu)
                    .await;
                if may {
                    let grant = r.unwrap_or_else(|e| panic!("grant: {ctx}: {e}"));
                    assert_eq!(grant_count(&city, id).await, grants + 1, "{ctx}");
                    city.app
                        .accounts()
                        .remove_grant(&caller, id, grant)
                        .await
                        .unwrap_or_else(|e| panic!("revoke: {ctx}: {e}"));
                    assert_eq!(grant_count(&city, id).await, grants, "{ctx}");
                    assert_eq!(refusals(&city).await, refused, "{ctx}");
                } else {
                    assert_eq!(r.unwrap_err().to_string(), not_found, "grant: {ctx}");
                    assert_eq!(grant_count(&city, id).await, grants, "{ctx}");
                    let existing = city
                        .app
                        .accounts()
                        .get(&city.system, id)
                        .await
                        .unwrap()
                        .grants
                        .first()
                        .map_or(missing, |g| g.id);
                    let e = city
                        .app
                        .accounts()
                        .remove_grant(&caller, id, existing)
                        .await
                        .unwrap_err();
                    assert_eq!(e.to_string(), not_found, "revoke: {ctx}");
                    assert_eq!(grant_count(&city, id).await, grants, "{ctx}");
                    assert_eq!(refusals(&city).await, refused + 2, "audited: {ctx}");
                }
            }
            // The list and the single view agree on every account there is, the fixture's
            // own included, and paging walks the same set.
            let all: Vec<(i64, String)> = city
                .app
                .store()
                .read()
                .fetch_all::<(i64, String)>(yinling_store::q!(
                    "SELECT id, username FROM accounts ORDER BY username"
                ))
                .await
                .unwrap();
            for (id, username) in &all {
                let viewable = city.app.accounts().get(&caller, *id).await.is_ok();
                assert_eq!(
                    list.contains(username),
                    viewable,
                    "{manager}: list and view disagree on {username}"
                );
            }
            let mut paged = Vec::new();
            for page in 1.. {
                let p = city
                    .app
                    .accounts()
                    .list(&caller, PageRequest::new(Some(page), Some(3)))
                    .await
                    .unwrap();
                assert_eq!(p.total, list.len() as i64, "{manager}");
                if p.items.is_empty() {
                    break;
                }
                paged.extend(p.items.into_iter().map(|a| a.username));
            }
            assert_eq!(paged, list, "{manager}");
        }
        // The command line administers everyone, the role-less account included.
        let (_, nogrant) = targets.last().unwrap();
        city.app
            .accounts()
            .reset_password(&city.system, *nogrant, NEW_PASSWORD, false)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn own_account_and_roles_above_ones_own_are_refused_and_audited() {
        let World { city, targets } = world().await;
        let id_of = |name: &str| targets.iter().find(|(n, _)| n == name).unwrap().1;
        // Below the city, nobody administers their own account through these paths (their
        // grant is of their own rank); the city administrator sees theirs but may not reset
        // their own password there, disable it or revoke their only role.
        for manager in ["countyadmin", "streetsec", "secretary"] {
            let caller = city.caller(manager).await;
            let me = caller.account_id.unwrap();
            let e = city.app.accounts().get(&caller, me).await.unwrap_err();
            assert!(matches!(e, AppError::NotFound { .. }), "{manager}: {e:?}");
        }
        let admin = city.caller("cityadmin").await;
        let me = admin.account_id.unwrap();
        city.app.accounts().get(&admin, me).await.unwrap();
        let before = city.app.accounts().by_id(me).await.unwrap().unwrap();
        let refused = refusals(&city).await;
        let e = city
            .app
            .accounts()
            .reset_password(&admin, me, NEW_PASSWORD, false)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("我的账号"), "{e}");
        let e = city
            .app
            .accounts()
            .set_disabled(&admin, me, true)
            .await
            .unwrap_err();
        assert_forbidden(&e);
        let only = city.app.accounts().get(&admin, me).await.unwrap().grants[0].id;
        let e = city
            .app
            .accounts()
            .remove_grant(&admin, me, only)
            .await
            .unwrap_err();
        assert_forbidden(&e);
        assert_eq!(refusals(&city).await, refused + 3);
        let after = city.app.accounts().by_id(me).await.unwrap().unwrap();
        assert_eq!(after.password_hash, before.password_hash);
        assert!(!after.disabled);
        assert_eq!(grant_count(&city, me).await, 1);

        // On an account they administer, a secretary still grants nothing of their own rank
        // and nothing outside their community; both refusals are audited.
        let secretary = city.caller("secretary").await;
        let vol = id_of("t_vol");
        let refused = refusals(&city).await;
        let (c, u) = (city.community.county_code, city.community.id);
        let e = city
            .app
            .accounts()
            .add_grant(&secretary, vol, Role::CommunitySecretary, c, u)
            .await
            .unwrap_err();
        assert_forbidden(&e);
        let (c, u) = (city.street.county_code, city.street.id);
        let e = city
            .app
            .accounts()
            .add_grant(&secretary, vol, Role::Volunteer, c, u)
            .await
            .unwrap_err();
        assert_not_found(&e);
        assert_eq!(grant_count(&city, vol).await, 1);
        assert_eq!(refusals(&city).await, refused + 2);

        // The record names who tried what on whom.
        let rows = city
            .app
            .audit()
            .list(
                &admin,
                yinling_app::kernel::audit::AuditQuery {
                    action: Some("account.refused".into()),
                    entity_key: Some(vol.to_string()),
                    ..Default::default()
                },
                PageRequest::default(),
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows.iter().all(|r| r.actor_id == secretary.account_id));
        assert!(
            rows.iter().any(|r| r.detail.as_deref()
                == Some(&*format!(
                    "grant community_secretary@{}/{}: forbidden",
                    city.community.county_code, city.community.id
                ))),
            "{rows:?}"
        );
    }
}

// ==== Password policy at the administration paths (issue 9, item 12) ======================

#[tokio::test]
async fn create_account_and_reset_password_refuse_a_password_breaking_one_rule_only() {
    let city = TestCity::new().await;
    let admin = city.caller("countyadmin").await;
    // Eight characters of all four classes: too short, and nothing else wrong with it.
    let short = "Sh0rt!pw";
    let input = |username: &str, password: &str| yinling_app::accounts::NewAccountInput {
        username: username.into(),
        display_name: "新网格员".into(),
        password: password.into(),
        role: yinling_domain::role::Role::GridWorker,
        unit_county_code: city.grid_a.county_code,
        unit_id: city.grid_a.id,
        must_change_password: true,
        person_county_code: None,
        person_id: None,
    };
    let accounts = city.count("accounts").await;
    let grants = city.count("grants").await;
    for (username, password, message) in [
        ("newworker", short, "至少需要10位"),
        // Long, four classes, not common: only the username inside it is wrong.
        ("newworker", "Newworker-2026", "不能包含用户名"),
    ] {
        let e = city
            .app
            .accounts()
            .create(&admin, input(username, password))
            .await
            .unwrap_err();
        assert!(
            matches!(
                &e,
                AppError::Invalid {
                    code: "weak_password",
                    ..
                }
            ),
            "{password}: {e:?}"
        );
        assert!(e.to_string().contains(message), "{e}");
        assert!(
            city.app
                .accounts()
                .by_username(username)
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(city.count("accounts").await, accounts);
    assert_eq!(city.count("grants").await, grants);

    let worker = city
        .app
        .accounts()
        .by_username("workera")
        .await
        .unwrap()
        .unwrap();
    for (password, message) in [(short, "至少需要10位"), ("Workera-2026!", "不能包含用户名")]
    {
        let e = city
            .app
            .accounts()
            .reset_password(&admin, worker.id, password, true)
            .await
            .unwrap_err();
        assert!(
            matches!(
                &e,
                AppError::Invalid {
                    code: "weak_password",
                    ..
                }
            ),
            "{password}: {e:?}"
        );
        assert!(e.to_string().contains(message), "{e}");
    }
    let after = city.app.accounts().by_id(worker.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash, worker.password_hash);
    assert!(!after.must_change_password);
    city.app
        .accounts()
        .login("workera", PASSWORD, None, None)
        .await
        .expect("the old password still logs in");
}

// ---------------------------------------------------------------------------------------
// A masked number cannot be rebuilt (issue 9, item 2): no full birth date beside a masked
// number for those who may not reveal it; exact searches need the reveal right, are audited
// and limited; a registration does not tell whether a number exists elsewhere.

mod masked_numbers {
    use yinling_app::testing::{assert_forbidden, assert_not_found, assert_too_many};
    use yinling_app::{
        AppError, PageRequest, Settings,
        accounts::NewAccountInput,
        kernel::audit::AuditQuery,
        org::NewUnitInput,
        people::{DuplicateDecision, PeopleQuery, ResolveDuplicateInput, RoleInput},
        testing::{PASSWORD, PEOPLE_A, PEOPLE_B, TestCity, valid_id},
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
            .audit()
            .list(
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

    async fn account(city: &TestCity, username: &str, role: Role, unit: &OrgUnitRow) {
        city.app
            .accounts()
            .create(
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
        let admin = city.caller("cityadmin").await;
        // The people list, the file, the export and a unit's roster.
        let page = city
            .app
            .people()
            .search(&admin, &PeopleQuery::default(), PageRequest::default())
            .await
            .unwrap();
        let zsf = page.items.iter().find(|p| p.name == "张三丰").unwrap();
        assert_eq!(
            (zsf.birth_date.as_deref(), zsf.birth_year, zsf.age),
            (None, 1944, 82)
        );
        let file = city.app.people().file(&admin, c, id).await.unwrap();
        assert_eq!((file.birth_date.as_deref(), file.birth_year), (None, 1944));
        let roster = city
            .app
            .people()
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
                .people()
                .export_xlsx(&admin, &PeopleQuery::default())
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
            city.app
                .people()
                .file(&branch, c, id)
                .await
                .unwrap()
                .birth_date,
            None
        );
        // Whoever may reveal over the person sees the full date, as before; so does the
        // person in their own file.
        for who in ["workera", "secretary", "countyadmin", "resident"] {
            let caller = city.caller(who).await;
            let file = city.app.people().file(&caller, c, id).await.unwrap();
            assert_eq!(file.birth_date.as_deref(), Some(BORN), "{who}");
        }
        let worker = city.caller("workera").await;
        let page = city
            .app
            .people()
            .search(&worker, &q("zsf"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(page.items[0].birth_date.as_deref(), Some(BORN));
        let xlsx = xlsx_text(
            &city
                .app
                .people()
                .export_xlsx(&worker, &PeopleQuery::default())
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
                    .people()
                    .search(&caller, &q(number), PageRequest::default())
                    .await
                    .unwrap_err();
                assert!(
                    matches!(&err, AppError::Forbidden { message } if message.contains("按完整身份证号或手机号查找需要查看完整号码的权限")),
                    "{who}: {err:?}"
                );
                let err = city
                    .app
                    .people()
                    .export_xlsx(&caller, &q(number))
                    .await
                    .unwrap_err();
                assert_forbidden(&err);
            }
        }
        // The last four still work, with the masked number.
        let admin = city.caller("cityadmin").await;
        let page = city
            .app
            .people()
            .search(&admin, &q("1238"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].id_number_masked, "3***************38");
        let refused = audit_details(&city, "person.exact_search_refused").await;
        assert_eq!(refused.len(), 8);
        assert!(refused.iter().all(|d| d.contains("reason=no_reveal_right")));
        for d in &refused {
            assert!(
                !d.contains(PEOPLE_A[0].1) && !d.contains(PEOPLE_A[0].2),
                "{d}"
            );
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
            .people()
            .search(&worker, &q(PEOPLE_A[0].1), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(names(found), ["张三丰"]);
        let found = city
            .app
            .people()
            .search(&worker, &q(PEOPLE_A[1].2), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(names(found), ["李四"]);
        // Grid B's number is not found from grid A.
        let other = city
            .app
            .people()
            .search(&worker, &q(PEOPLE_B[0].1), PageRequest::default())
            .await
            .unwrap();
        assert!(other.items.is_empty());
        // One event per search: kind, count, the files found, a digest — never the number.
        let (c, id) = city.people_a[0];
        let log = audit_details(&city, "person.exact_search").await;
        assert_eq!(log.len(), 3, "{log:?}");
        assert!(
            log.iter()
                .any(|d| d.starts_with("field=id_number; results=1;")
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
            .people()
            .search(&worker, &q(PEOPLE_A[0].1), PageRequest::default())
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
            .people()
            .create(
                &worker,
                city.person_input(&city.grid_a, "孙八", &fresh, None),
            )
            .await
            .unwrap();
        // Four searches and one registration so far: up to twenty.
        for _ in 6..=20 {
            city.app
                .people()
                .search(&worker, &q(PEOPLE_A[2].1), PageRequest::default())
                .await
                .unwrap();
        }
        let err = city
            .app
            .people()
            .search(&worker, &q(PEOPLE_A[2].1), PageRequest::default())
            .await
            .unwrap_err();
        assert_too_many(&err);
        assert_eq!(err.code(), "too_many_attempts");
        let refused = audit_details(&city, "person.exact_search_refused").await;
        assert_eq!(refused.len(), 1);
        assert!(refused[0].contains("reason=too_many"));
        let people = city.count("people").await;
        let err = city
            .app
            .people()
            .create(
                &worker,
                city.person_input(&city.grid_a, "周九", &valid_id("37083019910101123"), None),
            )
            .await
            .unwrap_err();
        assert_too_many(&err);
        assert_eq!(city.count("people").await, people);
        // Names and last four are not limited for someone who may reveal what they find.
        for _ in 0..40 {
            city.app
                .people()
                .search(&worker, &q("1238"), PageRequest::default())
                .await
                .unwrap();
        }
        // The limit is per account, and lifts after the hour.
        let secretary = city.caller("secretary").await;
        city.app
            .people()
            .search(&secretary, &q(PEOPLE_A[2].1), PageRequest::default())
            .await
            .unwrap();
        city.clock.advance(60 * yinling_app::kernel::clock::MINUTE);
        city.app
            .people()
            .search(&worker, &q(PEOPLE_A[2].1), PageRequest::default())
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
                .people()
                .search(&admin, &q("1238"), PageRequest::default())
                .await
                .unwrap();
        }
        let err = city
            .app
            .people()
            .search(&admin, &q("1238"), PageRequest::default())
            .await
            .unwrap_err();
        assert_too_many(&err);
        // Names stay free; a grid worker searching their own grid is not limited.
        city.app
            .people()
            .search(&admin, &q("zsf"), PageRequest::default())
            .await
            .unwrap();
        let worker = city.caller("workera").await;
        for _ in 0..5 {
            city.app
                .people()
                .search(&worker, &q("1238"), PageRequest::default())
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
                .people()
                .create(&worker, city.person_input(&grid_c, "张三丰", number, None))
                .await
                .expect("registered");
            let file = city.app.people().file(&worker, c, id).await.unwrap();
            let found = city
                .app
                .people()
                .search(&worker, &q(number), PageRequest::default())
                .await
                .unwrap();
            let again = city
                .app
                .people()
                .create(&worker, city.person_input(&grid_c, "张三丰", number, None))
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
                again.to_string().replace(&id.to_string(), "<id>"),
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
            .people()
            .create(
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
            .people()
            .duplicates(&county, Some("open"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(cases.total, 1);
        let case = &cases.items[0];
        let (zc, zid) = city.people_a[0];
        assert_eq!((case.existing.county_code, case.existing.id), (zc, zid));
        assert_eq!(case.existing.name.as_deref(), Some("张三丰"));
        assert_eq!(case.registered_by_name, "workerc");
        assert_eq!(city.app.people().open_duplicates(&county).await.unwrap(), 1);
        let err = city
            .app
            .people()
            .duplicates(&worker, None, PageRequest::default())
            .await
            .unwrap_err();
        assert_forbidden(&err);
        assert_eq!(city.app.people().open_duplicates(&worker).await.unwrap(), 0);
        assert!(
            audit_details(&city, "person.duplicate_routed")
                .await
                .iter()
                .any(|d| d.contains(&format!("existing={zc}/{zid}")))
        );

        // Merging closes the new file; it no longer holds the number, and is closed to edits.
        let (rc, rid) = (case.registration.county_code, case.registration.id);
        city.app
            .people()
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
        let closed = city.app.people().file(&worker, rc, rid).await.unwrap();
        assert_eq!(closed.status, "merged");
        assert_eq!(closed.status_label, "已并档");
        let found = city
            .app
            .people()
            .search(&county, &q(&elsewhere), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(found.items.iter().map(|p| p.id).collect::<Vec<_>>(), [zid]);
        let mut edit = city.person_input(&grid_c, "张三丰", &elsewhere, None);
        edit.version = Some(closed.version);
        let err = city
            .app
            .people()
            .update(&worker, rc, rid, edit)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "file_closed");
        let again = city
            .app
            .people()
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
            .people()
            .search(&worker, &q(&fresh), PageRequest::default())
            .await
            .unwrap()
            .items
            .iter()
            .map(|p| (p.county_code, p.id))
            .next()
            .unwrap();
        let file = city.app.people().file(&worker, fc, fid).await.unwrap();
        let mut edit = city.person_input(&grid_c, "张三丰", PEOPLE_B[1].1, None);
        edit.version = Some(file.version);
        city.app
            .people()
            .update(&worker, fc, fid, edit)
            .await
            .expect("saved like any change");
        let cases = city
            .app
            .people()
            .duplicates(&county, Some("open"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(cases.total, 1);
        let case = &cases.items[0];
        assert_eq!(case.registration.id, fid);
        assert_eq!(case.existing.name.as_deref(), Some("钱七"));
        city.app
            .people()
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
            city.app
                .people()
                .file(&worker, fc, fid)
                .await
                .unwrap()
                .status,
            "voided"
        );
        let all = city
            .app
            .people()
            .duplicates(&county, None, PageRequest::default())
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
        let community = unit(
            &city,
            &street,
            OrgKind::CommunityCommittee,
            "红星社区",
            None,
        )
        .await;
        account(&city, "qufuadmin", Role::CountyAdmin, &qufu).await;
        account(&city, "qufuadmin2", Role::CountyAdmin, &qufu).await;
        let registrar = city.caller("qufuadmin").await;
        // The 汶上 number is registered in 曲阜 without a word about 汶上.
        let (c, id) = city
            .app
            .people()
            .create(
                &registrar,
                city.person_input(&community, "张三丰", PEOPLE_A[0].1, None),
            )
            .await
            .expect("registered");
        assert_eq!(c, 370881);
        // The registrar does not review their own registration.
        assert_eq!(
            city.app.people().open_duplicates(&registrar).await.unwrap(),
            0
        );
        // A colleague sees it but not the 汶上 file, so may reject and not merge.
        let colleague = city.caller("qufuadmin2").await;
        let cases = city
            .app
            .people()
            .duplicates(&colleague, Some("open"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(cases.total, 1);
        let case = cases.items[0].clone();
        assert_eq!(
            (case.registration.county_code, case.registration.id),
            (c, id)
        );
        assert!(!case.existing.visible && case.existing.name.is_none());
        let merge = ResolveDuplicateInput {
            decision: DuplicateDecision::Merge,
            note: None,
            version: case.version,
        };
        let err = city
            .app
            .people()
            .resolve_duplicate(&colleague, case.county_code, case.id, merge.clone())
            .await
            .unwrap_err();
        assert_forbidden(&err);
        let err = city
            .app
            .people()
            .resolve_duplicate(&registrar, case.county_code, case.id, merge.clone())
            .await
            .unwrap_err();
        assert_forbidden(&err);
        // 汶上's administrator does not see 曲阜's registrations at all.
        let wenshang = city.caller("countyadmin").await;
        assert_eq!(
            city.app.people().open_duplicates(&wenshang).await.unwrap(),
            0
        );
        let err = city
            .app
            .people()
            .resolve_duplicate(&wenshang, case.county_code, case.id, merge.clone())
            .await
            .unwrap_err();
        assert_not_found(&err);
        // The city sees both files and merges.
        let admin = city.caller("cityadmin").await;
        let cases = city
            .app
            .people()
            .duplicates(&admin, Some("open"), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(cases.items[0].existing.name.as_deref(), Some("张三丰"));
        city.app
            .people()
            .resolve_duplicate(&admin, case.county_code, case.id, merge)
            .await
            .unwrap();
        assert_eq!(
            audit_details(&city, "person.duplicate_merge").await.len(),
            1
        );
        // The file's change of status is in the record, digested like any edit of a file.
        let digests: Vec<(Option<String>, Option<String>)> = city
            .app
            .store()
            .read()
            .fetch_all(yinling_store::q!(
                "SELECT before_digest, after_digest FROM audit_events
                  WHERE action = 'person.duplicate_merge'"
            ))
            .await
            .unwrap();
        assert!(
            matches!(&digests[..], [(Some(b), Some(a))] if b != a),
            "{digests:?}"
        );
    }
}

/// Issue 10, item 8: an authenticated request reads its session, account and grants in one
/// statement, fresh every time, so a logout, a disabled account or a revoked grant takes
/// effect at the very next request.
mod one_read {
    use yinling_app::{AppError, kernel::clock::MINUTE, testing::TestCity};
    use yinling_domain::role::Role;
    use yinling_store::testing::statements_of;

    async fn session_of(city: &TestCity, user: &str) -> String {
        city.app
            .accounts()
            .login(user, yinling_app::testing::PASSWORD, None, None)
            .await
            .unwrap()
            .token
    }

    #[tokio::test]
    async fn authenticating_is_one_statement_and_touches_at_most_once_a_minute() {
        let city = TestCity::new().await;
        let token = session_of(&city, "workera").await;
        let (session, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        let session = session.unwrap();
        assert_eq!(session.caller.username, "workera");
        assert!(!session.caller.grants.is_empty());
        assert_eq!(sql.len(), 1, "{sql:#?}");
        assert!(sql[0].trim_start().starts_with("SELECT"), "{sql:#?}");

        // Over a minute since the stored activity: the read decides, and one write records it.
        city.clock.advance(2 * MINUTE);
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        r.unwrap();
        assert_eq!(sql.len(), 2, "{sql:#?}");
        assert!(sql[1].contains("UPDATE sessions"), "{sql:#?}");
        // Just recorded: reads only again.
        city.clock.advance(MINUTE / 2);
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        r.unwrap();
        assert_eq!(sql.len(), 1, "{sql:#?}");

        // The idle timeout counts from the recorded activity, as before: 29 idle minutes
        // after it the session lives, 31 after it the session ends and is deleted.
        city.clock.advance(29 * MINUTE - MINUTE / 2);
        city.app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap();
        city.clock.advance(31 * MINUTE);
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        assert!(matches!(r, Err(AppError::SessionExpired)), "{r:?}");
        assert_eq!(sql.len(), 2, "{sql:#?}");
        assert!(sql[1].contains("DELETE FROM sessions"), "{sql:#?}");
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        assert!(matches!(r, Err(AppError::Unauthenticated)), "{r:?}");
        assert_eq!(sql.len(), 1, "{sql:#?}");
    }

    #[tokio::test]
    async fn a_disabled_account_is_refused_at_the_next_request() {
        let city = TestCity::new().await;
        let token = session_of(&city, "workera").await;
        let caller = city
            .app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap()
            .caller;
        let id = caller.account_id.unwrap();
        // Even with its sessions left in place (as another process might still see them),
        // the flag on the account alone refuses the next request.
        yinling_store::accounts::set_disabled(&mut city.app.store().write(), id, true, 0)
            .await
            .unwrap();
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        assert!(matches!(r, Err(AppError::Unauthenticated)), "{r:?}");
        assert_eq!(sql.len(), 1, "{sql:#?}");
        yinling_store::accounts::set_disabled(&mut city.app.store().write(), id, false, 0)
            .await
            .unwrap();
        city.app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap();
        // Through the use case the sessions end too.
        city.app
            .accounts()
            .set_disabled(&city.system, id, true)
            .await
            .unwrap();
        assert!(matches!(
            city.app.accounts().authenticate(&token, None).await,
            Err(AppError::Unauthenticated)
        ));
    }

    #[tokio::test]
    async fn a_granted_or_revoked_role_counts_from_the_next_request() {
        let city = TestCity::new().await;
        let id = city
            .add_account("twogrids", Role::GridWorker, &city.grid_a, None)
            .await;
        let token = session_of(&city, "twogrids").await;
        let second = city
            .app
            .accounts()
            .add_grant(
                &city.system,
                id,
                Role::GridWorker,
                city.grid_b.county_code,
                city.grid_b.id,
            )
            .await
            .unwrap();
        let caller = city
            .app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap()
            .caller;
        let units: Vec<i64> = caller.grants.iter().map(|g| g.unit_id).collect();
        assert_eq!(units, [city.grid_a.id, city.grid_b.id], "in grant order");
        assert_eq!(caller.grants[1].unit_name, city.grid_b.name);
        assert_eq!(caller.grants[1].path.as_str(), city.grid_b.path);

        city.app
            .accounts()
            .remove_grant(&city.system, id, second)
            .await
            .unwrap();
        let caller = city
            .app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap()
            .caller;
        let units: Vec<i64> = caller.grants.iter().map(|g| g.unit_id).collect();
        assert_eq!(units, [city.grid_a.id]);

        // Without any grant the account still signs in, and may do nothing.
        let first = caller.grants[0].id;
        city.app
            .accounts()
            .remove_grant(&city.system, id, first)
            .await
            .unwrap();
        let (r, sql) = statements_of(city.app.accounts().authenticate(&token, None)).await;
        let caller = r.unwrap().caller;
        assert!(caller.grants.is_empty(), "{:?}", caller.grants);
        assert_eq!(caller.username, "twogrids");
        assert_eq!(sql.len(), 1, "{sql:#?}");
    }

    #[tokio::test]
    async fn logout_elder_mode_and_the_password_flag_read_fresh() {
        let city = TestCity::new().await;
        let token = session_of(&city, "workera").await;
        let other = session_of(&city, "workera").await;
        let session = city
            .app
            .accounts()
            .authenticate(&token, None)
            .await
            .unwrap();
        assert!(!session.caller.elder_mode && !session.must_change_password);
        assert_eq!(
            city.app.accounts().session_csrf(&token).await.unwrap(),
            Some(session.csrf_token.clone())
        );
        let other_csrf = city
            .app
            .accounts()
            .authenticate(&other, None)
            .await
            .unwrap()
            .csrf_token;
        assert_ne!(other_csrf, session.csrf_token, "each session its own token");

        city.app
            .accounts()
            .set_elder_mode(&session.caller, true)
            .await
            .unwrap();
        assert!(
            city.app
                .accounts()
                .authenticate(&token, None)
                .await
                .unwrap()
                .caller
                .elder_mode
        );
        let id = session.caller.account_id.unwrap();
        let worker = city.caller("countyadmin").await;
        city.app
            .accounts()
            .reset_password(&worker, id, "Fresh-Initial-9x", true)
            .await
            .unwrap();
        // A reset ends every session; the new one must change its password.
        assert!(matches!(
            city.app.accounts().authenticate(&token, None).await,
            Err(AppError::Unauthenticated)
        ));
        let fresh = city
            .app
            .accounts()
            .login("workera", "Fresh-Initial-9x", None, None)
            .await
            .unwrap()
            .token;
        let s = city
            .app
            .accounts()
            .authenticate(&fresh, None)
            .await
            .unwrap();
        assert!(s.must_change_password && s.caller.elder_mode);

        city.app.accounts().logout(&s.caller, &fresh).await.unwrap();
        assert!(matches!(
            city.app.accounts().authenticate(&fresh, None).await,
            Err(AppError::Unauthenticated)
        ));
    }
}
