//! The conformance story every backend must pass (SQLite by default; PostgreSQL when
//! YINLING_TEST_DATABASE_URL is set): ids, subtree ranges, moves, conflicts, optimistic
//! versions, and the audit chain under concurrent writers.

use yinling_domain::{
    ids::{Key, OrderId, PersonId, ProviderId, ServiceItemId, UnitId},
    org::{OrgKind, OrgPath},
    region::CountyCode,
    scope::Scope,
    service::{OrderState, Urgency},
};
use yinling_store::{
    StoreError,
    kernel::audit::{self, NewAuditEvent},
    kernel::ids::{self, Seq},
    org::{self, NewOrgUnit, OrgUnitUpdate},
    q,
    testing::TestDb,
};

fn unit(county: i64, id: i64, parent: Option<i64>, kind: &str, path: &str) -> NewOrgUnit {
    NewOrgUnit {
        county_code: CountyCode::from_i64(county).unwrap(),
        id: UnitId(id),
        parent_county_code: parent.map(|_| CountyCode::from_i64(county).unwrap()),
        parent_id: parent.map(UnitId),
        kind: OrgKind::parse(kind).unwrap(),
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
    assert_eq!(moved.units, 2);
    let grid = org::get(&mut db.store.read(), Key::from_parts(c, 5).unwrap())
        .await
        .unwrap()
        .unwrap();
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
    let unit_ids =
        |rows: Vec<org::OrgUnitRow>| rows.into_iter().map(|u| u.id.get()).collect::<Vec<_>>();
    let county = under("370800/370830/");
    let areas = [
        OrgKind::GridPartyGroup,
        OrgKind::StreetCommittee,
        OrgKind::CompoundBranch,
    ];
    let all = org::of_kinds(&mut db.store.read(), &county, &areas, 10)
        .await
        .unwrap();
    assert_eq!(unit_ids(all), [2, 6, 3, 4, 5]);
    let some = org::of_kinds(&mut db.store.read(), &street2, &areas, 10)
        .await
        .unwrap();
    assert_eq!(unit_ids(some), [3, 4, 5]);
    let grids = org::of_kinds(
        &mut db.store.read(),
        &county,
        &[OrgKind::GridPartyGroup],
        10,
    )
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

// ---------------------------------------------------------------------------------------
// Issue 9, item 6: the subtree mover derives its tables from the schema.
// ---------------------------------------------------------------------------------------

/// The path columns the catalogue shows, as `table.column`.
async fn path_column_names(db: &TestDb) -> Vec<String> {
    let schema = org::schema_columns(&mut db.store.read()).await.unwrap();
    org::path_columns(&schema)
        .into_iter()
        .map(|c| format!("{}.{}", c.table, c.column))
        .collect()
}

#[tokio::test]
async fn the_mover_reads_its_tables_from_the_schema_so_a_new_table_moves_too() {
    let db = TestDb::new().await;
    // The catalogue query works on this backend and finds the path columns of every
    // capability, by the naming rule and the listed exceptions.
    let found = path_column_names(&db).await;
    for expected in [
        "org_units.path",
        "people.path",
        "person_roles.path",
        "grants.path",
        "providers.path",
        "providers.home_path",
        "providers.areas",
        "service_items.path",
        "orders.path",
        "orders.escalated_to",
        "needs.path",
        "mediation_cases.path",
        "mediation_mediators.mediator_path",
        "ledger_accounts.path",
        "ledger_adjustments.path",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "{expected} in {found:?}"
        );
    }
    // Append-only history carries no path: it keeps nothing a move would have to rewrite.
    assert!(
        !found
            .iter()
            .any(|f| f.starts_with("audit_events.") || f.starts_with("ledger_transfers.")),
        "{found:?}"
    );

    // A table added later, which the mover's code has never heard of: one path per row and
    // a JSON list of paths, named by the rule.
    let postgres = db.store.read().is_postgres();
    let collate = if postgres { " COLLATE \"C\"" } else { "" };
    db.store
        .write()
        .execute(q!(format!(
            "CREATE TABLE future_visits (county_code BIGINT NOT NULL, id BIGINT NOT NULL,
                 path TEXT{collate} NOT NULL, route_paths TEXT NOT NULL, note TEXT,
                 PRIMARY KEY (county_code, id))"
        )))
        .await
        .unwrap();
    let found = path_column_names(&db).await;
    assert!(found.iter().any(|f| f == "future_visits.path"), "{found:?}");
    assert!(
        found.iter().any(|f| f == "future_visits.route_paths"),
        "{found:?}"
    );

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
        unit(
            c,
            6,
            Some(2),
            "compound_branch",
            "370800/370830/370830001/b40/",
        ),
    ];
    let mut tx = db.store.begin().await.unwrap();
    org::insert_many(&mut tx.exec(), &units).await.unwrap();
    for (id, path, route) in [
        (
            1,
            "370800/370830/370830001/b4/g5/",
            r#"["370800/370830/370830001/b4/","370800/370830/370830001/b40/"]"#,
        ),
        (
            2,
            "370800/370830/370830001/b40/",
            r#"["370800/370830/370830001/b4/g5/"]"#,
        ),
        (
            3,
            "370800/370830/370830001/",
            r#"["370800/370830/370830001/"]"#,
        ),
    ] {
        tx.exec()
            .execute(q!(
                "INSERT INTO future_visits (county_code, id, path, route_paths) VALUES ($1, $2, $3, $4)",
                c,
                id,
                path,
                route
            ))
            .await
            .unwrap();
    }
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
    assert_eq!(moved.units, 2);
    assert!(
        moved
            .columns
            .iter()
            .any(|(t, col, n)| t == "future_visits" && col == "path" && *n == 1),
        "{moved:?}"
    );
    let rows: Vec<(i64, String, String)> = db
        .store
        .read()
        .fetch_all::<(i64, String, String)>(q!(
            "SELECT id, path, route_paths FROM future_visits ORDER BY id"
        ))
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            (
                1,
                "370800/370830/370830002/b4/g5/".to_owned(),
                r#"["370800/370830/370830002/b4/","370800/370830/370830001/b40/"]"#.to_owned()
            ),
            (
                2,
                "370800/370830/370830001/b40/".to_owned(),
                r#"["370800/370830/370830002/b4/g5/"]"#.to_owned()
            ),
            (
                3,
                "370800/370830/370830001/".to_owned(),
                r#"["370800/370830/370830001/"]"#.to_owned()
            ),
        ],
        "the subtree moved; the sibling b40 and the street above stayed"
    );
}

#[tokio::test]
async fn every_path_column_compares_bytes_on_postgres() {
    // Scope is a range predicate on paths; on PostgreSQL it is only right when the column
    // compares bytes (COLLATE "C"), as SQLite does. A path column added without it fails here.
    let db = TestDb::new().await;
    if !db.store.read().is_postgres() {
        return;
    }
    let schema = org::schema_columns(&mut db.store.read()).await.unwrap();
    for c in org::path_columns(&schema) {
        if c.shape == org::PathShape::List {
            continue; // JSON text, matched with LIKE, never compared by range
        }
        let collation: Option<String> = db
            .store
            .read()
            .scalar(q!(
                "SELECT collation_name::text FROM information_schema.columns
                  WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
                c.table.as_str(),
                c.column.as_str()
            ))
            .await
            .unwrap();
        assert_eq!(
            collation.as_deref(),
            Some("C"),
            "{}.{} must be COLLATE \"C\"",
            c.table,
            c.column
        );
    }
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
        org::get(&mut db.store.read(), Key::from_parts(370830, 2).unwrap())
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
    org::update(
        &mut tx.exec(),
        Key::from_parts(370830, 1).unwrap(),
        1,
        &update,
        5,
    )
    .await
    .unwrap();
    let stale = org::update(
        &mut tx.exec(),
        Key::from_parts(370830, 1).unwrap(),
        1,
        &update,
        6,
    )
    .await;
    assert!(matches!(stale, Err(StoreError::Stale)));
    tx.commit().await.unwrap();
    assert_eq!(
        org::get(&mut db.store.read(), Key::from_parts(370830, 1).unwrap())
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

/// A batch of events appended in one call — several chains interleaved, one chain new —
/// gets the sequence numbers and hashes that appending them one at a time gives, returned
/// in the order given; batches and single appends from concurrent writers still form
/// unbroken chains.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_of_audit_events_chains_exactly_as_one_at_a_time() {
    let event = |county: i64, i: i64| NewAuditEvent {
        county_code: county,
        at: 1_000 + i,
        actor_id: (i % 3 != 0).then_some(i),
        actor_name: format!("a{i}"),
        ip: (i % 2 == 0).then(|| "10.0.0.1".to_owned()),
        action: "ledger.earn".into(),
        entity: "ledger_transfer".into(),
        entity_key: Some(format!("{county}/{i}")),
        before_digest: None,
        after_digest: Some(format!("d{i}")),
        detail: (i % 4 != 0).then(|| format!(r#"{{"amount":{i},"memo":"引号\"与'逗号,"}}"#)),
    };
    let first: Vec<NewAuditEvent> = (0..5).map(|i| event(370830, i)).collect();
    let batch: Vec<NewAuditEvent> = (5..40)
        .map(|i| event([370830, 370831, 0][(i % 3) as usize], i))
        .collect();

    let one = TestDb::new().await;
    let many = TestDb::new().await;
    for e in first.iter().chain(&batch) {
        audit::append(&mut one.store.write(), std::slice::from_ref(e))
            .await
            .unwrap();
    }
    audit::append(&mut many.store.write(), &first)
        .await
        .unwrap();
    let mut tx = many.store.begin().await.unwrap();
    let seqs = audit::append(&mut tx.exec(), &batch).await.unwrap();
    tx.commit().await.unwrap();
    let want: Vec<i64> = batch
        .iter()
        .enumerate()
        .map(|(n, e)| {
            let before = batch[..n]
                .iter()
                .filter(|b| b.county_code == e.county_code)
                .count() as i64;
            before + 1 + if e.county_code == 370830 { 5 } else { 0 }
        })
        .collect();
    assert_eq!(seqs, want);
    let all = |db: &TestDb| {
        let store = db.store.clone();
        async move {
            store
                .read()
                .fetch_all::<(i64, i64, String, String)>(q!(
                    "SELECT county_code, seq, prev_hash, hash FROM audit_events ORDER BY county_code, seq"
                ))
                .await
                .unwrap()
        }
    };
    assert_eq!(all(&one).await, all(&many).await);
    assert_eq!(all(&many).await.len(), 40);
    let (reports, problems) = audit::verify(&mut many.store.read()).await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(reports.len(), 3);

    // Batches and single events from eight writers at once.
    let mut tasks = Vec::new();
    for worker in 0..8_i64 {
        let store = many.store.clone();
        let events: Vec<NewAuditEvent> = (0..30).map(|i| event(370830 + i % 2, i)).collect();
        tasks.push(tokio::spawn(async move {
            for chunk in events.chunks(1 + worker as usize % 4) {
                let mut tx = store.begin().await.unwrap();
                audit::append(&mut tx.exec(), chunk).await.unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (reports, problems) = audit::verify(&mut many.store.read()).await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(reports.iter().map(|r| r.events).sum::<i64>(), 40 + 8 * 30);
    assert!(reports.iter().all(|r| r.head_seq == r.events));
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
    let key: Key<OrderId> = Key::from_parts(c, 1).unwrap();
    let mut tx = db.store.begin().await.unwrap();
    org::insert_many(
        &mut tx.exec(),
        &[unit(c, 1, None, "county", "370800/370830/")],
    )
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
            Key::new(key.county_code, ServiceItemId(1)),
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
            county_code: key.county_code,
            id: key.id,
            path: "370800/370830/".into(),
            unit_id: UnitId(1),
            person_id: PersonId(1),
            item_id: ServiceItemId(1),
            category: "meals".into(),
            description: None,
            urgency: Urgency::Normal,
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
    let before = orders::get(&mut db.store.read(), key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((before.state, before.version), (OrderState::Submitted, 1));

    // An escalation keeps the state and bumps the version.
    let escalate = orders::Change {
        escalation: Some((1, Some("370800/370830/".into()), 200)),
        ..Default::default()
    };
    let expect = |version| orders::Expect {
        key,
        version,
        states: &[OrderState::Submitted],
    };
    let mut tx = db.store.begin().await.unwrap();
    assert!(
        orders::transition(
            &mut tx.exec(),
            expect(1),
            OrderState::Submitted,
            &escalate,
            5
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
    let moved = orders::get(&mut db.store.read(), key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((moved.state, moved.version), (OrderState::Submitted, 2));

    // A writer that read version 1: the state still matches, the version does not.
    let accept = orders::Change {
        provider_id: Some(Some(ProviderId(7))),
        accepted_at: Some(9),
        ..Default::default()
    };
    let mut tx = db.store.begin().await.unwrap();
    let won = orders::transition(&mut tx.exec(), expect(1), OrderState::Accepted, &accept, 9)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(!won, "a stale version must not win");
    assert_eq!(
        orders::get(&mut db.store.read(), key)
            .await
            .unwrap()
            .unwrap(),
        moved,
        "nothing changed"
    );
}
