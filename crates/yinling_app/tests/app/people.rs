//! People files: search, scope, masking and audited reveals, input checks, concurrent edits,
//! roles, skills and tags, ages, masked numbers that cannot be rebuilt.

use yinling_app::testing::person_key;
use yinling_app::testing::{assert_conflict, assert_forbidden, assert_invalid, assert_not_found};
use yinling_app::{
    AppError, PageRequest,
    people::TagDefInput,
    people::{PeopleQuery, RoleInput, SensitiveField, TagInput},
    testing::{PEOPLE_A, PEOPLE_B, TestCity, role, role_in, valid_id},
};
use yinling_domain::ids::{PersonRoleId, TagId};
use yinling_domain::person::{PersonRoleKind, RetireKind, RoleDetails};

use crate::support::{names, q, xlsx_text};

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
        city.app
            .people()
            .file(&b, person_key((c, id)))
            .await
            .map(|_| ())
    ));
    assert!(not_found(
        city.app
            .people()
            .reveal(&b, person_key((c, id)), SensitiveField::IdNumber)
            .await
            .map(|_| ())
    ));
    let mut input = city.person_input(&city.grid_a, "张三丰", PEOPLE_A[0].1, None);
    input.version = Some(1);
    assert!(not_found(
        city.app
            .people()
            .update(&b, person_key((c, id)), input)
            .await
    ));
    assert!(not_found(
        city.app
            .people()
            .set_skills(&b, person_key((c, id)), vec!["理发".into()])
            .await
    ));
    assert!(not_found(
        city.app
            .people()
            .remove_role(&b, person_key((c, id)), PersonRoleId(1))
            .await
    ));
    assert!(not_found(
        city.app
            .people()
            .tag(
                &b,
                person_key((c, id)),
                TagInput {
                    tag_id: TagId(1),
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
            .unit_view(
                &b,
                yinling_domain::ids::Key::new(city.grid_a.county_code, city.grid_a.id)
            )
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

#[tokio::test]
async fn numbers_are_masked_everywhere_and_reveals_are_audited() {
    let city = TestCity::new().await;
    let (c, id) = city.people_a[0];
    let worker = city.caller("workera").await;
    let file = city
        .app
        .people()
        .file(&worker, person_key((c, id)))
        .await
        .unwrap();
    assert_eq!(file.id_number_masked, "3***************38");
    assert_eq!(file.phone_masked.as_deref(), Some("138****5678"));
    assert_eq!(file.gender.as_str(), "male");
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
        .reveal(&worker, person_key((c, id)), SensitiveField::IdNumber)
        .await
        .unwrap();
    assert_eq!(full.as_deref(), Some(PEOPLE_A[0].1));
    let phone = city
        .app
        .people()
        .reveal(&worker, person_key((c, id)), SensitiveField::Phone)
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
            .file(&city_admin, person_key((c, id)))
            .await
            .unwrap()
            .can_reveal
    );
    let err = city
        .app
        .people()
        .reveal(&city_admin, person_key((c, id)), SensitiveField::IdNumber)
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
    let file = city
        .app
        .people()
        .file(&worker, person_key((c, id)))
        .await
        .unwrap();
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
        .update(&worker, person_key((c, id)), first)
        .await
        .unwrap();
    let err = city
        .app
        .people()
        .update(&worker, person_key((c, id)), second)
        .await
        .unwrap_err();
    assert_conflict(&err, "stale");
    let after = city
        .app
        .people()
        .file(&worker, person_key((c, id)))
        .await
        .unwrap();
    assert_eq!(after.note.as_deref(), Some("第一次修改"));
    // Masked values sent back unchanged kept the stored numbers.
    assert_eq!(
        city.app
            .people()
            .reveal(&worker, person_key((c, id)), SensitiveField::IdNumber)
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
            person_key((c, id)),
            role(PersonRoleKind::RetiredCadre),
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
            person_key((c, id)),
            RoleInput {
                details: RoleDetails {
                    join_date: chrono::NaiveDate::from_ymd_opt(1976, 7, 1),
                    ..RoleDetails::default()
                },
                ..role_in(PersonRoleKind::PartyMember, &city.branch)
            },
        )
        .await
        .unwrap();
    city.app
        .people()
        .add_role(
            &worker,
            person_key((c, id)),
            RoleInput {
                details: RoleDetails {
                    retire_kind: Some(RetireKind::Tuixiu),
                    former_unit: Some("汶上县第一实验小学".into()),
                    ..RoleDetails::default()
                },
                ..role(PersonRoleKind::RetiredCadre)
            },
        )
        .await
        .unwrap();
    city.app
        .people()
        .set_skills(
            &worker,
            person_key((c, id)),
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
            person_key((c, id)),
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
            person_key((c, id)),
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
    let file = city
        .app
        .people()
        .file(&worker, person_key((c, id)))
        .await
        .unwrap();
    assert_eq!(file.skills, ["助餐送餐", "教育辅导"]);
    let party = file
        .roles
        .iter()
        .find(|r| r.kind.as_str() == "party_member")
        .unwrap();
    assert!(party.summary.contains("党龄50年"), "{}", party.summary);
    assert_eq!(file.tags.len(), 1);
    assert_eq!(file.tags[0].source.as_str(), "manual");
    assert_eq!(file.tags[0].set_by_name.as_deref(), Some("workera"));
    assert_eq!(file.tags[0].note.as_deref(), Some("敲门走访确认"));
    // Filtering by tag and role.
    let tagged = PeopleQuery {
        tag: Some(tag.get()),
        ..PeopleQuery::default()
    };
    assert_eq!(names(&city, "workera", tagged).await, ["李四"]);
    let cadres = PeopleQuery {
        role: Some("retired_cadre".into()),
        ..PeopleQuery::default()
    };
    assert_eq!(names(&city, "secretary", cadres).await, ["李四"]);
    // Removing keeps the history.
    city.app
        .people()
        .untag(&worker, person_key((c, id)), row)
        .await
        .unwrap();
    let file = city
        .app
        .people()
        .file(&worker, person_key((c, id)))
        .await
        .unwrap();
    assert_eq!(file.tags.len(), 1);
    assert!(file.tags[0].revoked_at.is_some());
    let tagged = PeopleQuery {
        tag: Some(tag.get()),
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
async fn an_id_number_cannot_be_changed_to_someone_elses() {
    let city = TestCity::new().await;
    let secretary = city.caller("secretary").await;
    let (c, id) = city.people_a[2];
    let file = city
        .app
        .people()
        .file(&secretary, person_key((c, id)))
        .await
        .unwrap();
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
        .update(&secretary, person_key((c, id)), input)
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
        .update(&secretary, person_key((c, id)), input)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// A masked number cannot be rebuilt (issue 9, item 2): no full birth date beside a masked
// number for those who may not reveal it; exact searches need the reveal right, are audited
// and limited; a registration does not tell whether a number exists elsewhere.

mod masked_numbers {
    use yinling_app::testing::person_key;
    use yinling_app::testing::{assert_forbidden, assert_not_found, assert_too_many};
    use yinling_app::{
        AppError, PageRequest, Settings,
        kernel::audit::AuditQuery,
        org::NewUnitInput,
        people::{DuplicateDecision, PeopleQuery, ResolveDuplicateInput},
        testing::{PEOPLE_A, PEOPLE_B, TestCity, role_in, valid_id},
    };
    use yinling_domain::ids::Key;
    use yinling_domain::{
        org::OrgKind,
        person::{DuplicateStatus, PersonRoleKind},
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
                yinling_domain::ids::Key::new(parent.county_code, parent.id),
                NewUnitInput {
                    region_code: region.map(str::to_owned),
                    ..yinling_app::testing::unit(kind, name)
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
                yinling_app::testing::account(
                    username,
                    role,
                    (unit.county_code.as_i64(), unit.id.get()),
                ),
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
                person_key((c, id)),
                role_in(PersonRoleKind::Volunteer, &city.branch),
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
        let file = city
            .app
            .people()
            .file(&admin, person_key((c, id)))
            .await
            .unwrap();
        assert_eq!((file.birth_date.as_deref(), file.birth_year), (None, 1944));
        let roster = city
            .app
            .people()
            .roster(
                &admin,
                Key::from_parts(city.branch.county_code.as_i64(), city.branch.id.get()).unwrap(),
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
                .file(&branch, person_key((c, id)))
                .await
                .unwrap()
                .birth_date,
            None
        );
        // Whoever may reveal over the person sees the full date, as before; so does the
        // person in their own file.
        for who in ["workera", "secretary", "countyadmin", "resident"] {
            let caller = city.caller(who).await;
            let file = city
                .app
                .people()
                .file(&caller, person_key((c, id)))
                .await
                .unwrap();
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
                .map(|k| (k.county(), k.id()))
                .expect("registered");
            let file = city
                .app
                .people()
                .file(&worker, person_key((c, id)))
                .await
                .unwrap();
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
                found.items[0].id.get() == id,
                again.code(),
                again.to_string().replace(&id.to_string(), "<id>"),
            ));
        }
        assert_eq!(outcomes[0], outcomes[1]);
        assert_eq!(outcomes[0].0.as_str(), "active");
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
        assert_eq!(
            (case.existing.county_code.as_i64(), case.existing.id.get()),
            (zc, zid)
        );
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
        let closed = city
            .app
            .people()
            .file(&worker, Key::new(rc, rid))
            .await
            .unwrap();
        assert_eq!(closed.status.as_str(), "merged");
        assert_eq!(closed.status_label, "已并档");
        let found = city
            .app
            .people()
            .search(&county, &q(&elsewhere), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(
            found.items.iter().map(|p| p.id.get()).collect::<Vec<_>>(),
            [zid]
        );
        let mut edit = city.person_input(&grid_c, "张三丰", &elsewhere, None);
        edit.version = Some(closed.version);
        let err = city
            .app
            .people()
            .update(&worker, Key::new(rc, rid), edit)
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
        let file = city
            .app
            .people()
            .file(&worker, Key::new(fc, fid))
            .await
            .unwrap();
        let mut edit = city.person_input(&grid_c, "张三丰", PEOPLE_B[1].1, None);
        edit.version = Some(file.version);
        city.app
            .people()
            .update(&worker, Key::new(fc, fid), edit)
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
                .file(&worker, Key::new(fc, fid))
                .await
                .unwrap()
                .status
                .as_str(),
            "voided"
        );
        let all = city
            .app
            .people()
            .duplicates(&county, None, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(all.total, 2);
        assert!(all.items.iter().all(|c| c.status != DuplicateStatus::Open));
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
            .map(|k| (k.county(), k.id()))
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
            (
                case.registration.county_code.as_i64(),
                case.registration.id.get()
            ),
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
