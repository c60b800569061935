//! Migration 0006 links the transfers a ledger already holds into per-account chains, and
//! `verify` finds a chain that does not hold together. On SQLite by default; on PostgreSQL
//! when YINLING_TEST_DATABASE_URL is set.

use yinling_domain::{
    ids::{Key, LedgerAccountId, TransferId},
    ledger::{AccountKind, Reason, Unit},
    region::CountyCode,
};
use yinling_store::{
    Query,
    ledger::{self, Finding},
    testing::TestDb,
};

const COUNTY: i64 = 370830;

fn county() -> CountyCode {
    CountyCode::from_i64(COUNTY).expect("county")
}

fn accounts(ids: &[i64]) -> Vec<LedgerAccountId> {
    ids.iter().copied().map(LedgerAccountId).collect()
}

async fn run(store: &yinling_store::Store, sql: &str) {
    store
        .write()
        .execute(Query::new(sql.to_owned(), Vec::new()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Accounts 1 (the pool), 2 and 3 (people) and four transfers written by schema 0005:
/// 1→2 100, 1→3 50, 2→3 30, 1→2 5.
async fn ledger_of_schema_5(store: &yinling_store::Store) {
    store.migrate_to(5).await.expect("migrate to 0005");
    for (id, kind, owner, balance) in [
        (1, "pool", 0, -155),
        (2, "person", 7, 75),
        (3, "person", 8, 80),
    ] {
        run(
            store,
            &format!(
                "INSERT INTO ledger_accounts (county_code, id, unit, kind, owner_id, path, balance,
                     may_go_negative, created_at)
                 VALUES ({COUNTY}, {id}, 'points', '{kind}', {owner}, '370800/370830/', {balance},
                     {}, 1)",
                kind == "pool"
            ),
        )
        .await;
    }
    for (id, debit, credit, amount, debit_after, credit_after) in [
        (1, 1, 2, 100, -100, 100),
        (2, 1, 3, 50, -150, 50),
        (3, 2, 3, 30, 70, 80),
        (4, 1, 2, 5, -155, 75),
    ] {
        run(
            store,
            &format!(
                "INSERT INTO ledger_transfers (county_code, id, idem_key, fingerprint, unit, debit_id,
                     credit_id, amount, debit_after, credit_after, reason, source_kind, source_ref,
                     created_at)
                 VALUES ({COUNTY}, {id}, 'k{id}', 'f{id}', 'points', {debit}, {credit}, {amount},
                     {debit_after}, {credit_after}, 'earn', 'activity', 'test', {})",
                1_000 * id
            ),
        )
        .await;
    }
}

#[tokio::test]
async fn migration_links_existing_transfers_into_chains() {
    let db = TestDb::unmigrated().await;
    let store = &db.store;
    ledger_of_schema_5(store).await;
    store.migrate_to(6).await.expect("migrate to 0006");

    let mut exec = store.read();
    let links: Vec<(i64, Option<i64>, Option<i64>)> = exec
        .fetch_all(Query::new(
            "SELECT id, debit_prev, credit_prev FROM ledger_transfers ORDER BY id",
            Vec::new(),
        ))
        .await
        .expect("links");
    assert_eq!(
        links,
        [
            (1, None, None),
            (2, Some(1), None),
            (3, Some(1), Some(2)),
            (4, Some(2), Some(3)),
        ]
    );
    let person = ledger::account(&mut exec, Key::new(county(), LedgerAccountId(2)))
        .await
        .expect("read")
        .expect("account 2");
    assert_eq!(
        (person.last_transfer, person.entries, person.last_at),
        (Some(TransferId(4)), 3, 4_000)
    );
    let (findings, counts) = ledger::verify(&mut exec).await.expect("verify");
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!((counts.accounts, counts.transfers), (3, 4));

    // A statement walks the chain, newest first, a page at a time.
    let page = |limit, offset| {
        let person = person.clone();
        async move {
            let rows = ledger::statement(&mut store.read(), &person, limit, offset)
                .await
                .expect("statement");
            rows.iter().map(|t| t.id.get()).collect::<Vec<_>>()
        }
    };
    assert_eq!(page(2, 0).await, [4, 3]);
    assert_eq!(page(2, 2).await, [1]);
    assert_eq!(page(2, 4).await, Vec::<i64>::new());

    // What the daily cap and the family limit count: credits (debits) since a moment.
    let since = ledger::recent_sums(
        &mut store.read(),
        county(),
        &accounts(&[2, 3]),
        ledger::Side::Credit,
        Reason::Earn,
        2_000,
    )
    .await
    .expect("recent sums");
    assert_eq!(since, [(LedgerAccountId(2), 5), (LedgerAccountId(3), 80)]);
    let given = ledger::recent_sums(
        &mut store.read(),
        county(),
        &accounts(&[2]),
        ledger::Side::Debit,
        Reason::Earn,
        3_001,
    )
    .await
    .expect("recent sums");
    assert!(given.is_empty(), "{given:?}");

    // FIFO expiry: the credits after the cutoff are what stays.
    let due = ledger::expiry_candidates(&mut store.read(), county(), 3_500)
        .await
        .expect("expiry");
    assert_eq!(
        due,
        [
            (LedgerAccountId(2), 7, 75, 5),
            (LedgerAccountId(3), 8, 80, 0)
        ]
    );
}

#[tokio::test]
async fn verify_finds_a_broken_chain() {
    let db = TestDb::unmigrated().await;
    let store = &db.store;
    ledger_of_schema_5(store).await;
    store.migrate().await.expect("migrate");
    // Written behind the ledger's back: 1→3 10, linked to the pool's first transfer rather
    // than its latest, with no account updated.
    run(
        store,
        &format!(
            "INSERT INTO ledger_transfers (county_code, id, idem_key, fingerprint, unit, debit_id,
                 credit_id, amount, debit_after, credit_after, reason, source_kind, source_ref,
                 created_at, debit_prev, credit_prev)
             VALUES ({COUNTY}, 5, 'k5', 'f5', 'points', 1, 3, 10, -110, 90, 'earn', 'activity',
                 'test', 5000, 1, 3)"
        ),
    )
    .await;
    let (findings, _) = ledger::verify(&mut store.read()).await.expect("verify");
    let link = |account, transfer| {
        findings.iter().any(|f| {
            *f == Finding::Link {
                county_code: county(),
                account: LedgerAccountId(account),
                transfer: TransferId(transfer),
            }
        })
    };
    // The pool's chain forks after its first transfer; on account 3 the link is right but
    // the account's head, count and balance were not moved.
    assert!(link(1, 5), "{findings:?}");
    assert!(!link(3, 5), "{findings:?}");
    for account in [1, 3] {
        assert!(
            findings.contains(&Finding::Head {
                county_code: county(),
                account: LedgerAccountId(account)
            }),
            "{findings:?}"
        );
    }
    assert!(
        findings.iter().any(|f| matches!(
            f,
            Finding::Balance {
                account: LedgerAccountId(3),
                ..
            }
        )),
        "{findings:?}"
    );
    // It has no audit event either (migration 0008: every transfer after the ones already
    // there has one); the four written before are not reported.
    let unaudited: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f, Finding::Unaudited { .. }))
        .collect();
    assert_eq!(
        unaudited,
        [&Finding::Unaudited {
            county_code: county(),
            transfer: TransferId(5)
        }]
    );
}

/// `open_accounts` opens in key order (so two transactions never wait on each other's
/// unique-index entries in opposite orders), yet answers in the caller's order; a key named
/// twice gets one account, and a second call finds what the first opened.
#[tokio::test]
async fn accounts_are_opened_in_key_order_and_answered_in_the_callers() {
    let db = TestDb::new().await;
    let key = |owner: i64| ledger::AccountKey {
        county_code: county(),
        unit: Unit::Points,
        kind: AccountKind::Person,
        owner_id: owner,
    };
    let spec = |owner: i64| (key(owner), "370800/370830/".to_owned(), false);
    let mut tx = db.store.begin().await.unwrap();
    let first = ledger::open_accounts(&mut tx.exec(), &[spec(9), spec(4), spec(9)], 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(first[0], first[2], "one account for a key named twice");
    assert_ne!(first[0].0, first[1].0);
    assert!(
        first.iter().all(|&(id, existed)| id.get() > 0 && !existed),
        "{first:?}"
    );
    // Key order: owner 4 was inserted first, so it got the smaller id.
    assert!(first[1].0 < first[0].0, "{first:?}");

    let mut tx = db.store.begin().await.unwrap();
    let again = ledger::open_accounts(&mut tx.exec(), &[spec(4), spec(5), spec(9)], 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(again[0], (first[1].0, true));
    assert_eq!(again[2], (first[0].0, true));
    assert!(!again[1].1 && again[1].0 > first[0].0, "{again:?}");
}
