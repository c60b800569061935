//! The conformance story every backend must pass (SQLite by default; PostgreSQL when
//! YINLING_TEST_DATABASE_URL is set): ids, subtree ranges, moves, conflicts, optimistic
//! versions, and the audit chain under concurrent writers.

use yinling_domain::{org::OrgPath, scope::Scope};
use yinling_store::{
    StoreError,
    audit::{self, NewAuditEvent},
    ids::{self, Seq},
    org::{self, NewOrgUnit, OrgUnitUpdate},
    q,
    testing::TestDb,
};

fn unit(county: i64, id: i64, parent: Option<i64>, kind: &str, path: &str) -> NewOrgUnit {
    NewOrgUnit {
        county_code: county,
        id,
        parent_county_code: parent.map(|_| county),
        parent_id: parent,
        kind: kind.into(),
        name: format!("单位{id}"),
        code: path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .into(),
        path: path.into(),
        depth: path.matches('/').count() as i64,
        region_code: None,
        address: None,
        lat: None,
        lng: None,
        synthetic: true,
        now: 1,
    }
}

#[tokio::test]
async fn ids_increase_and_never_repeat() {
    let db = TestDb::new().await;
    let mut tx = db.store.begin().await.unwrap();
    let a = ids::allocate(&mut tx.exec(), Seq::People, 3).await.unwrap();
    let b = ids::next(&mut tx.exec(), Seq::People).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(a.len(), 3);
    assert!(a.windows(2).all(|w| w[0] < w[1]));
    assert!(b > a[2]);
    // A rolled-back allocation may leave a gap but never hands an id out twice.
    let mut tx = db.store.begin().await.unwrap();
    let c = ids::next(&mut tx.exec(), Seq::People).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let d = ids::next(&mut tx.exec(), Seq::People).await.unwrap();
    tx.commit().await.unwrap();
    assert!(c > b && d >= c);
}

#[tokio::test]
async fn subtrees_are_ranges_and_move_in_one_transaction() {
    let db = TestDb::new().await;
    let c = 370830;
    let units = [
        unit(c, 1, None, "county", "370800/370830/"),
        unit(
            c,
            2,
            Some(1),
            "street_committee",
            "370800/370830/370830001/",
        ),
        unit(
            c,
            3,
            Some(1),
            "street_committee",
            "370800/370830/370830002/",
        ),
        unit(
            c,
            4,
            Some(2),
            "compound_branch",
            "370800/370830/370830001/b4/",
        ),
        unit(
            c,
            5,
            Some(4),
            "grid_party_group",
            "370800/370830/370830001/b4/g5/",
        ),
        // A sibling whose code shares a prefix must not count as inside.
        unit(
            c,
            6,
            Some(1),
            "street_committee",
            "370800/370830/3708300010/",
        ),
    ];
    let mut tx = db.store.begin().await.unwrap();
    org::insert_many(&mut tx.exec(), &units).await.unwrap();
    tx.commit().await.unwrap();
    let under = |p: &str| Scope::from_paths([OrgPath::parse(p).unwrap()]);
    let street1 = under("370800/370830/370830001/");
    let kinds = org::count_by_kind(&mut db.store.read(), &street1)
        .await
        .unwrap();
    let total: i64 = kinds.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 3, "{kinds:?}");

    let mut tx = db.store.begin().await.unwrap();
    let moved = org::move_subtree(
        &mut tx.exec(),
        c,
        "370800/370830/370830001/b4/",
        "370800/370830/370830002/b4/",
        0,
        2,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(moved, 2);
    let grid = org::get(&mut db.store.read(), c, 5).await.unwrap().unwrap();
    assert_eq!(grid.path, "370800/370830/370830002/b4/g5/");
    let street2 = under("370800/370830/370830002/");
    let total: i64 = org::count_by_kind(&mut db.store.read(), &street2)
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(total, 3);
    // Units of some kinds, in tree order (a unit, then all under it, then the next path:
    // 370830001, 3708300010, 370830002 with the moved compound and grid under it), within
    // the scope and the limit.
    let unit_ids = |rows: Vec<org::OrgUnitRow>| rows.into_iter().map(|u| u.id).collect::<Vec<_>>();
    let county = under("370800/370830/");
    let areas = ["grid_party_group", "street_committee", "compound_branch"];
    let all = org::of_kinds(&mut db.store.read(), &county, &areas, 10)
        .await
        .unwrap();
    assert_eq!(unit_ids(all), [2, 6, 3, 4, 5]);
    let some = org::of_kinds(&mut db.store.read(), &street2, &areas, 10)
        .await
        .unwrap();
    assert_eq!(unit_ids(some), [3, 4, 5]);
    let grids = org::of_kinds(&mut db.store.read(), &county, &["grid_party_group"], 10)
        .await
        .unwrap();
    assert_eq!(unit_ids(grids), [5]);
    let first = org::of_kinds(&mut db.store.read(), &county, &areas, 2)
        .await
        .unwrap();
    assert_eq!(unit_ids(first), [2, 6]);
    assert!(
        org::of_kinds(&mut db.store.read(), &county, &[], 10)
            .await
            .unwrap()
            .is_empty()
    );
    // An empty scope sees nothing.
    assert!(
        org::count_by_kind(&mut db.store.read(), &Scope::none())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn conflicts_and_stale_versions_are_reported_and_roll_back() {
    let db = TestDb::new().await;
    let mut tx = db.store.begin().await.unwrap();
    org::insert_many(
        &mut tx.exec(),
        &[unit(370830, 1, None, "county", "370800/370830/")],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    org::insert_many(
        &mut tx.exec(),
        &[unit(370830, 2, None, "county", "370800/370831/")],
    )
    .await
    .unwrap();
    let dup = org::insert_many(
        &mut tx.exec(),
        &[unit(370830, 3, None, "county", "370800/370830/")],
    )
    .await;
    assert!(matches!(dup, Err(StoreError::Conflict { .. })), "{dup:?}");
    drop(tx); // rolls back unit 2 as well
    assert!(
        org::get(&mut db.store.read(), 370830, 2)
            .await
            .unwrap()
            .is_none()
    );

    let update = OrgUnitUpdate {
        name: "新名".into(),
        address: None,
        lat: None,
        lng: None,
    };
    let mut tx = db.store.begin().await.unwrap();
    org::update(&mut tx.exec(), 370830, 1, 1, &update, 5)
        .await
        .unwrap();
    let stale = org::update(&mut tx.exec(), 370830, 1, 1, &update, 6).await;
    assert!(matches!(stale, Err(StoreError::Stale)));
    tx.commit().await.unwrap();
    assert_eq!(
        org::get(&mut db.store.read(), 370830, 1)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
}

#[tokio::test]
async fn concurrent_audit_appends_form_one_unbroken_chain() {
    let db = TestDb::new().await;
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let mut tx = store.begin().await.unwrap();
                let event = NewAuditEvent {
                    county_code: 370830 + (i % 2),
                    at: i,
                    actor_id: Some(worker),
                    actor_name: format!("w{worker}"),
                    ip: None,
                    action: "test.write".into(),
                    entity: "test".into(),
                    entity_key: Some(format!("{worker}/{i}")),
                    before_digest: None,
                    after_digest: None,
                    detail: None,
                };
                audit::append(&mut tx.exec(), &[event]).await.unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (reports, problems) = audit::verify(&mut db.store.read()).await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(reports.iter().map(|r| r.events).sum::<i64>(), 80);
    assert!(reports.iter().all(|r| r.head_seq == r.events));
    let n: i64 = db
        .store
        .read()
        .scalar(q!("SELECT COUNT(DISTINCT hash) FROM audit_events"))
        .await
        .unwrap();
    assert_eq!(n, 80);
}

#[tokio::test]
async fn the_data_key_check_value_is_written_once() {
    let db = TestDb::new().await;
    let first = yinling_store::meta_init(&mut db.store.write(), "k", "a")
        .await
        .unwrap();
    let second = yinling_store::meta_init(&mut db.store.write(), "k", "b")
        .await
        .unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("a", "a"));
}

/// An order's transition is conditional on its version as well as its state: a writer
/// holding a stale version is refused even when the state it expects still holds (someone
/// else moved the order and back, or changed it without changing its state).
#[tokio::test]
async fn an_order_transition_with_a_stale_version_changes_nothing() {
    use yinling_store::{orders, services};
    let db = TestDb::new().await;
    let c = 370830;
    let mut tx = db.store.begin().await.unwrap();
    org::insert_many(&mut tx.exec(), &[unit(c, 1, None, "county", "370800/370830/")])
        .await
        .unwrap();
    tx.exec()
        .execute(q!(
            "INSERT INTO people (county_code, id, path, home_unit_id, name, name_initials, name_pinyin,
                    gender, birth_date, id_enc, id_bidx, id4_bidx, created_at, updated_at)
             VALUES ($1, 1, '370800/370830/', 1, '张三', 'zs', 'zhangsan', 'male', '1944-03-15',
                    $2, $3, $4, 1, 1)",
            c,
            vec![1u8],
            vec![2u8],
            vec![3u8]
        ))
        .await
        .unwrap();
    services::insert_items(
        &mut tx.exec(),
        &[(
            c,
            1,
            services::ItemFields {
                path: "370800/370830/".into(),
                category: "meals".into(),
                name: "助老送餐".into(),
                description: None,
                skills: "[]".into(),
                duration_minutes: 30,
                points: 10,
                hours_minutes: 60,
                sla_minutes: 60,
            active: true,
            },
        )],
        false,
        1,
    )
    .await
    .unwrap();
    orders::insert_many(
        &mut tx.exec(),
        &[orders::NewOrder {
            county_code: c,
            id: 1,
            path: "370800/370830/".into(),
            unit_id: 1,
            person_id: 1,
            item_id: 1,
            category: "meals".into(),
            description: None,
            urgency: "normal".into(),
            wanted_at: 1,
            address: None,
            lat: None,
            lng: None,
            placed_by: None,
            placed_by_name: "张三".into(),
            proxy: false,
            sla_due_at: 100,
            need_id: None,
            synthetic: true,
            now: 1,
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let before = orders::get(&mut db.store.read(), c, 1).await.unwrap().unwrap();
    assert_eq!((before.state.as_str(), before.version), ("submitted", 1));

    // An escalation keeps the state and bumps the version.
    let escalate = orders::Change {
        escalation: Some((1, Some("370800/370830/".into()), 200)),
        ..Default::default()
    };
    let expect = |version| orders::Expect {
        county_code: c,
        id: 1,
        version,
        states: &["submitted"],
    };
    let mut tx = db.store.begin().await.unwrap();
    assert!(
        orders::transition(&mut tx.exec(), expect(1), "submitted", &escalate, 5)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let moved = orders::get(&mut db.store.read(), c, 1).await.unwrap().unwrap();
    assert_eq!((moved.state.as_str(), moved.version), ("submitted", 2));

    // A writer that read version 1: the state still matches, the version does not.
    let accept = orders::Change {
        provider_id: Some(Some(7)),
        accepted_at: Some(9),
        ..Default::default()
    };
    let mut tx = db.store.begin().await.unwrap();
    let won = orders::transition(&mut tx.exec(), expect(1), "accepted", &accept, 9)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(!won, "a stale version must not win");
    assert_eq!(
        orders::get(&mut db.store.read(), c, 1).await.unwrap().unwrap(),
        moved,
        "nothing changed"
    );
}
