//! The needs ledger on the backend the run selected (SQLite by default; PostgreSQL when
//! YINLING_TEST_DATABASE_URL is set): scope isolation, filters, follow-ups, Excel export
//! and the all-or-nothing import.

use rust_xlsxwriter::Workbook;
use yinling_app::testing::key;
use yinling_app::testing::{assert_forbidden, assert_not_found};
use yinling_app::{
    AppError, Caller, PageRequest,
    needs::{FollowUpInput, NeedInput, NeedQuery},
    org::{PlaceInput, PlaceKind},
    testing::{PEOPLE_A, PEOPLE_B, TestCity, need, valid_id},
};
use yinling_domain::need::NeedStatus;

fn input(person: (i64, i64), category: &str, text: &str) -> NeedInput {
    NeedInput {
        category: category.to_owned(),
        description: text.to_owned(),
        ..need(person)
    }
}

async fn record(city: &TestCity, who: &Caller, person: (i64, i64), category: &str) -> (i64, i64) {
    city.app
        .needs()
        .record(who, input(person, category, "需要帮助"))
        .await
        .map(|k| (k.county(), k.id()))
        .expect("record need")
}

async fn listed(city: &TestCity, who: &Caller, q: NeedQuery) -> Vec<String> {
    let page = city
        .app
        .needs()
        .list(who, &q, PageRequest::new(Some(1), Some(200)))
        .await
        .expect("list");
    let mut names: Vec<String> = page
        .items
        .into_iter()
        .map(|n| n.person_name.unwrap_or_default())
        .collect();
    names.sort();
    names
}

fn follow(note: &str, status: Option<NeedStatus>) -> FollowUpInput {
    FollowUpInput {
        note: note.to_owned(),
        status,
        version: None,
    }
}

fn xlsx(rows: &[[&str; 5]]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in yinling_app::needs::IMPORT_COLUMNS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect::<Vec<_>>()
        .join("|")
}

#[tokio::test]
async fn a_grid_worker_sees_and_changes_only_their_grids_needs() {
    let city = TestCity::new().await;
    let a = city.caller("workera").await;
    let b = city.caller("workerb").await;
    let need_a = record(&city, &a, city.people_a[0], "meals").await;
    let need_b = record(&city, &b, city.people_b[0], "elder_care").await;

    assert_eq!(
        listed(&city, &a, NeedQuery::default()).await,
        [PEOPLE_A[0].0]
    );
    assert_eq!(
        listed(&city, &b, NeedQuery::default()).await,
        [PEOPLE_B[0].0]
    );
    let secretary = city.caller("secretary").await;
    assert_eq!(
        listed(&city, &secretary, NeedQuery::default()).await.len(),
        2
    );

    // Read, follow up, record for, filter to: all refused as if B's need did not exist.
    let e = city
        .app
        .needs()
        .detail(&a, key(need_b.0, need_b.1))
        .await
        .unwrap_err();
    assert_not_found(&e);
    let followups = city.count("need_followups").await;
    let e = city
        .app
        .needs()
        .follow_up(
            &a,
            key(need_b.0, need_b.1),
            follow("看过了", Some(NeedStatus::Closed)),
        )
        .await
        .unwrap_err();
    assert_not_found(&e);
    assert_eq!(city.count("need_followups").await, followups);
    let needs = city.count("needs").await;
    let e = city
        .app
        .needs()
        .record(&a, input(city.people_b[1], "meals", "越界登记"))
        .await
        .unwrap_err();
    assert_not_found(&e);
    assert_eq!(city.count("needs").await, needs);
    let other_grid = NeedQuery {
        unit: Some(format!("{}/{}", city.grid_b.county_code, city.grid_b.id)),
        ..NeedQuery::default()
    };
    assert!(listed(&city, &a, other_grid).await.is_empty());
    let person_b = NeedQuery {
        person: Some(format!("{}/{}", city.people_b[0].0, city.people_b[0].1)),
        ..NeedQuery::default()
    };
    assert!(listed(&city, &a, person_b).await.is_empty());

    // The export holds only grid A, masked.
    let bytes = city
        .app
        .needs()
        .export_xlsx(&a, &NeedQuery::default())
        .await
        .expect("export");
    let text = xlsx_text(&bytes);
    assert!(text.contains(PEOPLE_A[0].0), "{text}");
    assert!(!text.contains(PEOPLE_B[0].0), "{text}");
    assert!(!text.contains(PEOPLE_A[0].1), "ID number in clear: {text}");
    assert!(!text.contains(PEOPLE_A[0].2), "phone in clear: {text}");
    assert!(text.contains("助餐"));

    // A's own need is readable and can be followed up.
    let view = city
        .app
        .needs()
        .detail(&a, key(need_a.0, need_a.1))
        .await
        .unwrap();
    assert!(view.can_follow_up);
    assert_eq!(view.need.category_label, "助餐");
    assert_eq!(view.need.status, NeedStatus::Open);
}

#[tokio::test]
async fn residents_cannot_record_and_a_branch_secretary_may_read_but_not_follow_up() {
    let city = TestCity::new().await;
    let resident = city.caller("resident").await;
    let e = city
        .app
        .needs()
        .record(&resident, input(city.people_a[0], "meals", "我要助餐"))
        .await
        .unwrap_err();
    assert_forbidden(&e);
    let e = city
        .app
        .needs()
        .list(&resident, &NeedQuery::default(), PageRequest::default())
        .await
        .unwrap_err();
    assert_forbidden(&e);

    let a = city.caller("workera").await;
    let need = record(&city, &a, city.people_a[1], "policy").await;
    let branch = city.caller("branchsec").await;
    let view = city
        .app
        .needs()
        .detail(&branch, key(need.0, need.1))
        .await
        .unwrap();
    assert!(!view.can_follow_up);
    assert!(view.next_statuses.is_empty());
    let e = city
        .app
        .needs()
        .follow_up(&branch, key(need.0, need.1), follow("看过了", None))
        .await
        .unwrap_err();
    assert_forbidden(&e);
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_and_changes_nothing() {
    let city = TestCity::new().await;
    let a = city.caller("workera").await;
    let s = city.caller("secretary").await;
    let audit = city.count("audit_events").await;
    let cases = [
        (input(city.people_a[0], "meals", "   "), "description"),
        (
            input(city.people_a[0], "meals", &"长".repeat(501)),
            "description",
        ),
        (input(city.people_a[0], "haircut", "理发"), "category"),
        (
            NeedInput {
                person_id: None,
                ..input(city.people_a[0], "meals", "助餐")
            },
            "person_id",
        ),
        (
            NeedInput {
                unit_id: Some(city.grid_b.id.get()),
                ..input(city.people_a[0], "meals", "助餐")
            },
            "",
        ),
    ];
    for (i, field) in cases {
        let e = city.app.needs().record(&a, i).await.unwrap_err();
        if field.is_empty() {
            assert_not_found(&e);
        } else {
            assert!(matches!(e, AppError::Invalid { .. }), "{e:?}");
            assert_eq!(e.field(), Some(field), "{e:?}");
            assert!(!e.to_string().is_empty());
        }
    }
    // A person outside the unit chosen (the secretary sees both grids).
    let e = city
        .app
        .needs()
        .record(
            &s,
            NeedInput {
                unit_id: Some(city.grid_b.id.get()),
                ..input(city.people_a[0], "meals", "助餐")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "not_in_unit", "{e:?}");
    assert_eq!(city.count("needs").await, 0);
    assert_eq!(city.count("audit_events").await, audit);
}

#[tokio::test]
async fn needs_filter_by_category_status_age_and_subtree() {
    let city = TestCity::new().await;
    let a = city.caller("workera").await;
    let b = city.caller("workerb").await;
    // 张三丰 82, 李四 67, 王五 46 (on 2026-07-01); 赵六 66 in grid B.
    let zhang = record(&city, &a, city.people_a[0], "meals").await;
    record(&city, &a, city.people_a[1], "meals").await;
    record(&city, &a, city.people_a[2], "policy").await;
    record(&city, &b, city.people_b[0], "meals").await;
    city.app
        .needs()
        .follow_up(
            &a,
            key(zhang.0, zhang.1),
            follow("已联系助餐点", Some(NeedStatus::Following)),
        )
        .await
        .unwrap();

    let county = city.caller("countyadmin").await;
    let q = |f: fn(&mut NeedQuery)| {
        let mut q = NeedQuery::default();
        f(&mut q);
        q
    };
    assert_eq!(
        listed(&city, &county, q(|q| q.category = Some("meals".into()))).await,
        ["张三丰", "李四", "赵六"]
    );
    assert_eq!(
        listed(&city, &county, q(|q| q.status = Some("following".into()))).await,
        ["张三丰"]
    );
    assert_eq!(
        listed(&city, &county, q(|q| q.age_min = Some(80))).await,
        ["张三丰"]
    );
    assert_eq!(
        listed(
            &city,
            &county,
            q(|q| {
                q.age_min = Some(60);
                q.age_max = Some(70);
            })
        )
        .await,
        ["李四", "赵六"]
    );
    let grid_a = NeedQuery {
        unit: Some(format!("{}/{}", city.grid_a.county_code, city.grid_a.id)),
        category: Some("meals".into()),
        ..NeedQuery::default()
    };
    assert_eq!(listed(&city, &county, grid_a).await, ["张三丰", "李四"]);
    let e = city
        .app
        .needs()
        .list(
            &county,
            &q(|q| q.status = Some("done".into())),
            PageRequest::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("status"));
    let e = city
        .app
        .needs()
        .list(
            &county,
            &q(|q| {
                q.age_min = Some(80);
                q.age_max = Some(60);
            }),
            PageRequest::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("age_min"));

    // Paging: the total counts every match, the page holds per_page.
    let page = city
        .app
        .needs()
        .list(
            &county,
            &NeedQuery::default(),
            PageRequest::new(Some(2), Some(3)),
        )
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len(), page.pages()), (4, 1, 2));
}

#[tokio::test]
async fn follow_ups_move_the_status_along_and_illegal_changes_are_refused() {
    let city = TestCity::new().await;
    let a = city.caller("workera").await;
    let (c, id) = record(&city, &a, city.people_a[0], "medical_escort").await;
    let audit = city.count("audit_events").await;

    let s = city
        .app
        .needs()
        .follow_up(&a, key(c, id), follow("已电话联系", None))
        .await
        .unwrap();
    assert_eq!(s, NeedStatus::Open, "a note alone keeps the status");
    for (to, note) in [
        (NeedStatus::Following, "约好周三陪诊"),
        (NeedStatus::Resolved, "已陪同就诊"),
        (NeedStatus::Following, "复诊还需陪同"),
        (NeedStatus::Resolved, "复诊完成"),
        (NeedStatus::Closed, "回访满意"),
    ] {
        let s = city
            .app
            .needs()
            .follow_up(&a, key(c, id), follow(note, Some(to)))
            .await
            .unwrap();
        assert_eq!(s, to);
    }
    assert_eq!(city.count("audit_events").await, audit + 6);
    let view = city.app.needs().detail(&a, key(c, id)).await.unwrap();
    assert_eq!(view.need.status, NeedStatus::Closed);
    assert_eq!(view.need.followup_count, 6);
    assert_eq!(view.followups.len(), 6);
    assert_eq!(view.followups[1].row.from_status, NeedStatus::Open);
    assert_eq!(view.followups[1].row.to_status, NeedStatus::Following);
    assert_eq!(view.followups[1].row.actor_name, "workera");
    assert!(!view.can_follow_up && view.next_statuses.is_empty());

    // Closed is final; nothing changes when refused.
    let e = city
        .app
        .needs()
        .follow_up(
            &a,
            key(c, id),
            follow("又来了", Some(NeedStatus::Following)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "illegal_status_change");
    assert_eq!(e.field(), Some("status"));
    assert_eq!(e.to_string(), "需求已关闭，不能改为跟进中");
    assert_eq!(city.count("need_followups").await, 6);

    let (c2, id2) = record(&city, &a, city.people_a[1], "policy").await;
    city.app
        .needs()
        .follow_up(
            &a,
            key(c2, id2),
            follow("已答复", Some(NeedStatus::Resolved)),
        )
        .await
        .unwrap();
    let e = city
        .app
        .needs()
        .follow_up(&a, key(c2, id2), follow("重新打开", Some(NeedStatus::Open)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "illegal_status_change");
    let e = city
        .app
        .needs()
        .follow_up(&a, key(c2, id2), follow("  ", Some(NeedStatus::Closed)))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("note"));
    // A stale version (someone else followed up first) is refused.
    let e = city
        .app
        .needs()
        .follow_up(
            &a,
            key(c2, id2),
            FollowUpInput {
                version: Some(1),
                ..follow("关闭", Some(NeedStatus::Closed))
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict { .. }), "{e:?}");
    let view = city.app.needs().detail(&a, key(c2, id2)).await.unwrap();
    assert_eq!(view.need.status, NeedStatus::Resolved);
    assert_eq!(view.followups.len(), 1);
}

#[tokio::test]
async fn an_import_creates_every_row_or_reports_every_problem_and_creates_none() {
    let city = TestCity::new().await;
    let a = city.caller("workera").await;
    let bad_checksum = format!("{}0", &PEOPLE_A[0].1[..17]);
    let unknown = valid_id("37083019700101999");
    let rows = [
        [PEOPLE_A[0].1, "助餐", "中午送餐", "较急", "敲门问需"],
        [PEOPLE_A[1].1, "养老服务", "", "", ""],
        [bad_checksum.as_str(), "理发", "剪头发", "很急", "电话"],
        [PEOPLE_B[0].1, "policy", "咨询高龄津贴", "", ""],
        [unknown.as_str(), "助餐", "送餐", "", ""],
        [PEOPLE_A[0].1, "助餐", "中午送餐", "", "座谈"],
    ];
    let report = city
        .app
        .needs()
        .import_xlsx(&a, &xlsx(&rows))
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    assert_eq!(report.rows, 6);
    assert_eq!(city.count("needs").await, 0, "nothing imported");
    let got: Vec<(u32, &str)> = report
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (3, "需求内容"),
            (4, "身份证号码"),
            (4, "类别"),
            (4, "紧急程度"),
            (4, "来源"),
            (5, "身份证号码"),
            (6, "身份证号码"),
            (7, "需求内容"),
        ],
        "{:#?}",
        report.problems
    );
    assert_eq!(report.problem_count, 8);
    assert!(report.problems[0].message.contains("请填写需求内容"));
    assert!(report.problems[2].message.contains("理发"));
    assert!(
        report.problems[5].message.contains("不在您的辖区内"),
        "grid B's person"
    );
    assert!(report.problems[7].message.contains("与第2行重复"));

    // The corrected file imports whole, once.
    let fixed = [
        [PEOPLE_A[0].1, "助餐", "中午送餐", "较急", "敲门问需"],
        [PEOPLE_A[1].1, "养老服务", "需要上门看护", "", ""],
        [PEOPLE_A[2].1, "policy", "咨询医保政策", "不急", "问卷"],
    ];
    let audit = city.count("audit_events").await;
    let report = city
        .app
        .needs()
        .import_xlsx(&a, &xlsx(&fixed))
        .await
        .unwrap();
    assert!(report.ok(), "{:#?}", report.problems);
    assert_eq!(report.imported, 3);
    assert_eq!(city.count("needs").await, 3);
    assert_eq!(city.count("audit_events").await, audit + 1);
    let page = city
        .app
        .needs()
        .list(&a, &NeedQuery::default(), PageRequest::default())
        .await
        .unwrap();
    let zhang = page
        .items
        .iter()
        .find(|n| n.person_name.as_deref() == Some(PEOPLE_A[0].0))
        .unwrap();
    assert_eq!(
        (zhang.urgency.as_str(), zhang.source.as_str()),
        ("high", "door_knock")
    );
    assert_eq!(zhang.unit_id, city.grid_a.id);
    let wang = page
        .items
        .iter()
        .find(|n| n.person_name.as_deref() == Some(PEOPLE_A[2].0))
        .unwrap();
    assert_eq!(
        (wang.category.as_str(), wang.source.as_str()),
        ("policy", "survey")
    );

    // Grid B sees none of them.
    let b = city.caller("workerb").await;
    assert!(listed(&city, &b, NeedQuery::default()).await.is_empty());
}

#[tokio::test]
async fn imports_refuse_unreadable_oversized_and_headerless_files() {
    let city = TestCity::new().await;
    let a = city.caller("workera").await;
    let e = city
        .app
        .needs()
        .import_xlsx(&a, b"not a workbook")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "not_xlsx");
    let big = vec![0u8; yinling_app::needs::MAX_IMPORT_BYTES + 1];
    let e = city.app.needs().import_xlsx(&a, &big).await.unwrap_err();
    assert_eq!(e.code(), "file_too_large");
    assert!(e.to_string().contains("5MB"));

    let mut wb = Workbook::new();
    let s = wb.add_worksheet();
    s.write_string(0, 0, "身份证号码").unwrap();
    s.write_string(0, 1, "需求内容").unwrap();
    let e = city
        .app
        .needs()
        .import_xlsx(&a, &wb.save_to_buffer().unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "missing_column");
    assert!(e.to_string().contains("类别"), "{e}");

    let e = city
        .app
        .needs()
        .import_xlsx(&a, &xlsx(&[]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "file_empty");

    let many: Vec<[&str; 5]> =
        vec![[PEOPLE_A[0].1, "助餐", "送餐", "", ""]; yinling_app::needs::MAX_IMPORT_ROWS + 1];
    let e = city
        .app
        .needs()
        .import_xlsx(&a, &xlsx(&many))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "too_many_rows");

    // An ID number Excel stored as a number is named as such.
    let mut wb = Workbook::new();
    let s = wb.add_worksheet();
    for (c, h) in yinling_app::needs::IMPORT_COLUMNS.iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    s.write_number(1, 0, 370830194403151238.0).unwrap();
    s.write_string(1, 1, "助餐").unwrap();
    s.write_string(1, 2, "送餐").unwrap();
    let report = city
        .app
        .needs()
        .import_xlsx(&a, &wb.save_to_buffer().unwrap())
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    assert!(
        report.problems[0].message.contains("文本格式"),
        "{:?}",
        report.problems
    );

    // The template imports cleanly once its example row is replaced.
    let template = city.app.needs().import_template(&a).await.unwrap();
    assert!(xlsx_text(&template).contains("身份证号码"));
    assert_eq!(city.count("needs").await, 0);
}

#[tokio::test]
async fn a_household_need_and_the_demo_seeding() {
    let city = TestCity::new().await;
    let a = city.caller("workera").await;
    let county = city.grid_a.county_code;
    let house = city
        .app
        .org()
        .create_place(
            &city.system,
            yinling_domain::ids::Key::new(county, city.grid_a.id),
            PlaceInput {
                kind: PlaceKind::Household,
                parent_id: None,
                label: "3号楼501室".into(),
                address: None,
                lat: None,
                lng: None,
            },
        )
        .await
        .unwrap();
    // A household-only need, then the person in a household they do not live in.
    let (c, id) = {
        let k = city
            .app
            .needs()
            .record(
                &a,
                NeedInput {
                    person_id: None,
                    household_id: Some(house.id.into()),
                    ..input(city.people_a[0], "environment", "楼道灯坏了")
                },
            )
            .await
            .unwrap();
        (k.county(), k.id())
    };
    let view = city.app.needs().detail(&a, key(c, id)).await.unwrap();
    assert_eq!(view.need.household.as_deref(), Some("3号楼501室"));
    assert_eq!(view.need.unit_id, city.grid_a.id);
    assert_eq!(view.need.age, None);
    let e = city
        .app
        .needs()
        .record(
            &a,
            NeedInput {
                household_id: Some(house.id.get()),
                ..input(city.people_a[0], "environment", "楼道灯坏了")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("household_id"));
    let b = city.caller("workerb").await;
    let e = city
        .app
        .needs()
        .record(
            &b,
            NeedInput {
                person_id: None,
                household_id: Some(house.id.get()),
                ..input(city.people_b[0], "environment", "越界")
            },
        )
        .await
        .unwrap_err();
    assert_not_found(&e);

    // Demo seeding picks synthetic residents who live in a household.
    city.app
        .store()
        .write()
        .execute(yinling_store::q!(
            "UPDATE people SET synthetic = TRUE, household_id = $1 WHERE county_code = $2",
            house.id,
            county
        ))
        .await
        .unwrap();
    let n = city
        .app
        .needs()
        .seed_counties(&[county.as_i64(), 370827], 4, 7)
        .await
        .unwrap();
    assert_eq!(n, 4, "five residents, four asked for; 鱼台 has none here");
    let synthetic: i64 = city
        .app
        .store()
        .read()
        .scalar(yinling_store::q!(
            "SELECT COUNT(*) FROM needs WHERE synthetic"
        ))
        .await
        .unwrap();
    assert_eq!(synthetic, 4);
    let county_admin = city.caller("countyadmin").await;
    let page = city
        .app
        .needs()
        .list(&county_admin, &NeedQuery::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 5);
}
