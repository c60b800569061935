//! The audit log's hash chains: what `audit verify` detects.

use yinling_app::testing::TestCity;

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
    let chain = city.county.county_code.as_i64();
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
async fn chain_problems(
    city: &TestCity,
    chain: i64,
) -> Vec<yinling_store::kernel::audit::ChainProblem> {
    let (_, problems) = city.app.audit().verify().await.unwrap();
    problems
        .into_iter()
        .filter(|p| p.county_code == chain)
        .collect()
}

#[tokio::test]
async fn the_audit_chain_detects_a_broken_link_a_truncated_tail_and_an_altered_head() {
    use yinling_store::kernel::audit::AuditRow;
    const COLUMNS: &str = "county_code, seq, at, actor_id, actor_name, ip, action, entity, \
        entity_key, before_digest, after_digest, detail, prev_hash, hash";

    // A row rewritten with a hash recomputed over its new content: the row itself verifies,
    // only the next row's link to it shows the change.
    let city = TestCity::new().await;
    let chain = city.county.county_code.as_i64();
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
    let chain = city.county.county_code.as_i64();
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
    let chain = city.county.county_code.as_i64();
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
