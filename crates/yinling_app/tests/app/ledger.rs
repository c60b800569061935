//! The points and time-bank ledger through the application layer, on whichever backend the
//! test database is (SQLite by default, PostgreSQL with YINLING_TEST_DATABASE_URL).

use yinling_app::testing::key;

use yinling_app::testing::{adjustment, award, county_code, earning_rule, goods, person_key};
use yinling_app::testing::{assert_forbidden, assert_not_found, assert_too_many};
use yinling_app::{
    AppError, Caller,
    ledger::{Actor, AdjustmentInput, EarnInput, Holder, Posting},
    redeem::RedeemInput,
    testing::TestCity,
};
use yinling_domain::ledger::{AdjustmentStatus, Reason, ReportState, SourceKind, Unit};
use yinling_store::redeem::shops::GoodsRow;

const DAY: i64 = 86_400_000_000;

fn person(k: (i64, i64)) -> Holder {
    Holder::person(person_key((k.0, k.1)))
}

/// A county's issuance pool.
fn pool_of(county: impl Into<i64>) -> Holder {
    Holder::Pool {
        county_code: county_code(county),
    }
}

fn posting(unit: Unit, debit: Holder, credit: Holder, amount: i64, key: &str) -> Posting {
    Posting {
        unit,
        debit,
        credit,
        amount,
        reason: Reason::Earn,
        source_kind: SourceKind::Transfer,
        source_ref: "test".into(),
        memo: String::new(),
        key: key.into(),
        reverses: None,
        actor: Actor::system("test"),
        daily_cap: None,
    }
}

async fn assert_ledger_sound(city: &TestCity) {
    let (findings, counts) = city.app.ledger().verify().await.unwrap();
    assert!(findings.is_empty(), "ledger findings: {findings:?}");
    assert!(counts.accounts > 0);
}

/// `who` approves (`true`) or rejects an adjustment.
async fn decide(
    city: &TestCity,
    who: &Caller,
    adj: &yinling_app::ledger::Adjustment,
    approve: bool,
) -> Result<yinling_app::ledger::Adjustment, AppError> {
    city.app
        .ledger()
        .decide_adjustment(
            who,
            yinling_domain::ids::Key::new(adj.county_code, adj.id),
            approve,
        )
        .await
}

/// `who` awards `person` for the theme day under the caller's `key`.
async fn earn(
    city: &TestCity,
    who: &Caller,
    person: (i64, i64),
    key: &str,
) -> Result<yinling_app::ledger::Award, AppError> {
    city.app.ledger().earn(who, earn_input(person, key)).await
}

/// A person's balances as the system sees them.
async fn balances_of(city: &TestCity, who: (i64, i64)) -> yinling_app::ledger::Balances {
    city.app
        .ledger()
        .balances(&city.system, person_key(who))
        .await
        .unwrap()
}

/// How many audit events of `action` there are.
async fn audited(city: &TestCity, action: &str) -> i64 {
    city.app
        .store()
        .read()
        .scalar(yinling_store::q!(
            "SELECT COUNT(*) FROM audit_events WHERE action = $1",
            action
        ))
        .await
        .unwrap()
}

async fn points_of(city: &TestCity, who: (i64, i64)) -> i64 {
    balances_of(city, who).await.points
}

async fn theme_day_rule(city: &TestCity, points: i64, minutes: i64) {
    city.app
        .ledger()
        .put_earning_rule(
            &city.caller("countyadmin").await,
            earning_rule(
                county_code(city.county.county_code),
                "theme_day",
                "主题党日",
                points,
                minutes,
            ),
        )
        .await
        .unwrap();
}

fn earn_input(who: (i64, i64), key: &str) -> EarnInput {
    award(person_key(who), "theme_day", key)
}

/// A partner shop in the test city: its key, the keeper at its till, and the resident (张大爷,
/// `people_a[0]`) who shows codes there.
struct Till {
    shop: yinling_domain::ids::Key<yinling_domain::ids::UnitId>,
    keeper: Caller,
    resident: Caller,
}

impl Till {
    async fn open(city: &TestCity) -> Till {
        let shop = city.add_shop().await;
        Till {
            shop: yinling_app::testing::shop_key((shop.county_code, shop.id)),
            keeper: city.caller("shopkeeper").await,
            resident: city.caller("resident").await,
        }
    }

    /// The keeper sells one of `goods` for the elder's `code` under the till's `key`.
    async fn sell(
        &self,
        city: &TestCity,
        code: &str,
        goods: yinling_domain::ids::GoodsId,
        key: &str,
    ) -> Result<yinling_app::redeem::ShopReceipt, AppError> {
        self.sell_as(city, &self.keeper, code, goods, key).await
    }

    /// `at` (a till account, or one at another address) sells at this shop.
    async fn sell_as(
        &self,
        city: &TestCity,
        at: &Caller,
        code: &str,
        goods: yinling_domain::ids::GoodsId,
        key: &str,
    ) -> Result<yinling_app::redeem::ShopReceipt, AppError> {
        city.app
            .redeem()
            .at_till(at, self.shop, redeem_input(code, goods, key))
            .await
    }

    /// The resident reports a redemption as not theirs (不是我本人兑换).
    async fn report_not_me(
        &self,
        city: &TestCity,
        r: &yinling_app::redeem::ShopRedemption,
    ) -> Result<yinling_store::redeem::shops::ReportRow, AppError> {
        city.app
            .redeem()
            .report(
                &self.resident,
                yinling_domain::ids::Key::new(r.county_code, r.id),
            )
            .await
    }

    /// The pool gives the resident `points` (seeding a test).
    async fn fund(&self, city: &TestCity, points: i64, key: &str) {
        seed(city, Unit::Points, city.people_a[0], points, key).await;
    }

    /// The resident's phone shows a new code.
    async fn show_code(&self, city: &TestCity) -> yinling_app::redeem::RedeemCode {
        city.app.redeem().code(&self.resident).await.unwrap()
    }

    /// Puts goods on the shelf: `stock` of them at `price_points` each.
    async fn goods(&self, city: &TestCity, name: &str, price_points: i64, stock: i64) -> GoodsRow {
        city.app
            .redeem()
            .add_goods(&self.keeper, self.shop, goods(name, price_points, stock))
            .await
            .unwrap()
    }
}

fn redeem_input(code: &str, goods: yinling_domain::ids::GoodsId, key: &str) -> RedeemInput {
    yinling_app::testing::redemption(code, goods, key)
}

/// The county's issuance pool of `who`'s county gives them `amount` (seeding a test).
async fn seed(city: &TestCity, unit: Unit, who: (i64, i64), amount: i64, key: &str) {
    city.app
        .ledger()
        .post(posting(unit, pool_of(who.0), person(who), amount, key))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_award_moves_once_however_often_it_is_retried() {
    let city = TestCity::new().await;
    theme_day_rule(&city, 20, 90).await;
    let worker = city.caller("workera").await;
    let li = city.people_a[1];

    let first = earn(&city, &worker, li, "award-0001").await.unwrap();
    let p = first.points.clone().unwrap();
    assert!(!p.replayed);
    assert_eq!(p.transfer.amount, 20);
    assert_eq!(first.minutes.as_ref().unwrap().transfer.amount, 90);
    // The same request again, and again at once: the same receipt, nothing moved.
    let (a, b) = tokio::join!(
        earn(&city, &worker, li, "award-0001"),
        earn(&city, &worker, li, "award-0001")
    );
    for again in [a.unwrap(), b.unwrap()] {
        let again = again.points.unwrap();
        assert!(again.replayed);
        assert_eq!(again.transfer.id, p.transfer.id);
    }
    let bal = city
        .app
        .ledger()
        .balances(&worker, person_key(li))
        .await
        .unwrap();
    assert_eq!((bal.points, bal.minutes), (20, 90));
    assert_eq!(bal.minutes_text, "1小时30分钟");

    // A key may hold any printable ASCII: quotes, backslashes, commas and braces are found
    // again as they were (the batch lookups carry keys as JSON or as a PostgreSQL array).
    let odd = r#"a"b\c,{d}'e;NULL"#;
    let once = earn(&city, &worker, li, odd).await.unwrap();
    let twice = earn(&city, &worker, li, odd).await.unwrap();
    let (once, twice) = (once.points.unwrap(), twice.points.unwrap());
    assert!(!once.replayed && twice.replayed);
    assert_eq!(twice.transfer.id, once.transfer.id);
    assert_eq!(points_of(&city, li).await, 40);

    // The key reused for another person is refused and moves nothing.
    let e = earn(&city, &worker, city.people_a[2], "award-0001")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "idempotency_key_reused");
    assert_eq!(points_of(&city, city.people_a[2]).await, 0);

    // Grid A's worker cannot award grid B's people; an unknown activity is refused.
    let e = earn(&city, &worker, city.people_b[0], "award-0002")
        .await
        .unwrap_err();
    assert_not_found(&e);
    let mut unknown = earn_input(li, "award-0003");
    unknown.activity = "dancing".into();
    let e = city.app.ledger().earn(&worker, unknown).await.unwrap_err();
    assert_eq!(e.field(), Some("activity"));
    assert!(e.to_string().contains("dancing"), "{e}");
    assert_ledger_sound(&city).await;
}

#[tokio::test]
async fn the_daily_cap_clips_the_last_award_and_refuses_the_next_until_tomorrow() {
    let city = TestCity::new().await;
    theme_day_rule(&city, 40, 0).await;
    let worker = city.caller("workera").await;
    let li = city.people_a[1];
    // Default cap: 100 points a day.
    for (i, want) in [40, 40, 20].into_iter().enumerate() {
        let got = earn(&city, &worker, li, &format!("cap-award-{i}"))
            .await
            .unwrap();
        assert_eq!(got.points.unwrap().transfer.amount, want);
    }
    let e = earn(&city, &worker, li, "cap-award-3").await.unwrap_err();
    assert_eq!(e.code(), "daily_cap_reached");
    assert!(e.to_string().contains("100分"), "{e}");
    assert_eq!(points_of(&city, li).await, 100);
    city.clock.advance(DAY);
    let got = earn(&city, &worker, li, "cap-award-4").await.unwrap();
    assert_eq!(got.points.unwrap().transfer.amount, 40);
    assert_ledger_sound(&city).await;
}

#[tokio::test]
async fn nobody_spends_more_than_they_hold_and_a_refusal_changes_nothing() {
    let city = TestCity::new().await;
    let c = city.county.county_code;
    let (zhang, li) = (person(city.people_a[0]), person(city.people_a[1]));
    let pool = pool_of(c);
    city.app
        .ledger()
        .post(posting(Unit::Minutes, pool, zhang, 60, "seed-hours-1"))
        .await
        .unwrap();
    let before = city.count("ledger_transfers").await;
    let e = city
        .app
        .ledger()
        .post(posting(Unit::Minutes, zhang, li, 61, "gift-too-much"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "insufficient_balance");
    assert!(e.to_string().contains("现有1小时"), "{e}");
    assert_eq!(city.count("ledger_transfers").await, before);
    // The refused key is free: a corrected request under it goes through.
    let ok = city
        .app
        .ledger()
        .post(posting(Unit::Minutes, zhang, li, 60, "gift-too-much"))
        .await
        .unwrap();
    assert_eq!((ok.transfer.debit_after, ok.transfer.credit_after), (0, 60));
    // Bad input is refused before anything is queued.
    for (amount, key) in [(0, "zero-amount-1"), (-5, "negative-amount"), (5, "short")] {
        assert!(
            city.app
                .ledger()
                .post(posting(Unit::Minutes, li, zhang, amount, key))
                .await
                .is_err()
        );
    }
    let e = city
        .app
        .ledger()
        .post(posting(Unit::Minutes, li, li, 5, "self-transfer"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "same_account");
    assert_ledger_sound(&city).await;
}

#[tokio::test]
async fn transfers_are_append_only_and_verify_finds_a_tampered_balance() {
    let city = TestCity::new().await;
    let c = city.county.county_code;
    let zhang = person(city.people_a[0]);
    let r = city
        .app
        .ledger()
        .post(posting(
            Unit::Points,
            pool_of(c),
            zhang,
            30,
            "append-only-1",
        ))
        .await
        .unwrap();
    let mut w = city.app.store().write();
    for sql in [
        "UPDATE ledger_transfers SET amount = 3000",
        "DELETE FROM ledger_transfers",
    ] {
        assert!(
            w.execute(yinling_store::db::Query::new(sql, vec![]))
                .await
                .is_err(),
            "{sql} must be refused"
        );
    }
    // A balance may not go negative even by hand.
    assert!(
        w.execute(yinling_store::db::Query::new(
            "UPDATE ledger_accounts SET balance = -1 WHERE kind = 'person'",
            vec![]
        ))
        .await
        .is_err()
    );
    assert_ledger_sound(&city).await;
    w.execute(yinling_store::q!(
        "UPDATE ledger_accounts SET balance = balance + 1 WHERE id = $1",
        r.transfer.credit_id
    ))
    .await
    .unwrap();
    let (findings, _) = city.app.ledger().verify().await.unwrap();
    assert!(
        findings.iter().any(|f| matches!(
            f,
            yinling_store::ledger::Finding::Balance {
                cached: 31,
                computed: 30,
                ..
            }
        )),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| matches!(f, yinling_store::ledger::Finding::UnitSum { sum: 1, .. }))
    );
}

#[tokio::test]
async fn a_completed_order_pays_its_server_exactly_once() {
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let li = city.people_a[1];
    let order = city.complete_an_order(&s).await;
    let county = city.county.county_code;
    // Two claimers at once, then a third: one transfer per unit.
    let (a, b) = tokio::join!(
        city.app.ledger().claim_entitlements(100),
        city.app.ledger().claim_entitlements(100)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.transfers + b.transfers, 2, "{a:?} {b:?}");
    assert_eq!(
        city.app
            .ledger()
            .claim_entitlements(100)
            .await
            .unwrap()
            .transfers,
        0
    );
    let bal = balances_of(&city, li).await;
    assert_eq!((bal.points, bal.minutes), (10, 60));
    let ents = city
        .app
        .orders()
        .entitlements(&city.system, key(county, order))
        .await
        .unwrap();
    assert_eq!(ents.len(), 1);
    assert_eq!(ents[0].status, "taken");
    let lines = city
        .app
        .ledger()
        .statement(
            &city.system,
            person_key(li),
            Unit::Points,
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(lines.total, 1);
    assert_eq!(lines.items[0].reason_label, "服务奖励");
    assert_eq!(lines.items[0].source_ref, format!("{county}/{order}"));
    assert_ledger_sound(&city).await;
}

#[tokio::test]
async fn a_manual_adjustment_needs_a_second_person() {
    let city = TestCity::new().await;
    let worker = city.caller("workera").await;
    let secretary = city.caller("secretary").await;
    let wang = city.people_a[2];
    let adj = city
        .app
        .ledger()
        .propose_adjustment(&worker, adjustment(person_key(wang), 15))
        .await
        .unwrap();
    assert_eq!(points_of(&city, wang).await, 0);
    // The proposer cannot approve; a grid worker may not approve at all.
    let e = decide(&city, &worker, &adj, true).await.unwrap_err();
    assert_forbidden(&e);
    let pending = city
        .app
        .ledger()
        .pending_adjustments(&secretary)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let done = decide(&city, &secretary, &adj, true).await.unwrap();
    assert_eq!(done.status, AdjustmentStatus::Approved);
    assert_eq!(points_of(&city, wang).await, 15);
    let e = decide(&city, &secretary, &adj, true).await.unwrap_err();
    assert_eq!(e.code(), "already_decided");
    assert_eq!(points_of(&city, wang).await, 15);
    let audited = city.count("audit_events").await;
    assert!(audited > 0);

    // A reversal puts it back, once.
    let admin = city.caller("countyadmin").await;
    let t = done.transfer_id.unwrap();
    let r = city
        .app
        .ledger()
        .reverse_transfer(
            &admin,
            yinling_domain::ids::Key::new(adj.county_code, t),
            "重复补记，冲正",
        )
        .await
        .unwrap();
    assert_eq!(r.transfer.reverses, Some(t));
    assert_eq!(points_of(&city, wang).await, 0);
    let again = city
        .app
        .ledger()
        .reverse_transfer(
            &admin,
            yinling_domain::ids::Key::new(adj.county_code, t),
            "重复补记，冲正",
        )
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(points_of(&city, wang).await, 0);
    assert_ledger_sound(&city).await;
}

/// Time never runs backwards along an account's transfers (the walks back to a day's start
/// or a cutoff stop at the first older one): a posting dated before the latest transfer of
/// its accounts — a clock stepped back, a writer that waited — is dated at that transfer.
#[tokio::test]
async fn a_posting_is_never_dated_before_its_accounts_latest_transfer() {
    let city = TestCity::new().await;
    let c = city.county.county_code;
    let zhang = person(city.people_a[0]);
    let pool = pool_of(c);
    let first = city
        .app
        .ledger()
        .post(posting(Unit::Points, pool, zhang, 30, "dated-key-1"))
        .await
        .unwrap();
    let at = first.transfer.created_at;
    let mut tx = city.app.store().begin().await.unwrap();
    let late = yinling_app::ledger::apply(
        &mut tx,
        city.app.ledger().writer().ids(),
        &[posting(Unit::Points, pool, zhang, 10, "dated-key-2")],
        at - DAY,
    )
    .await
    .unwrap()
    .pop()
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(late.transfer.created_at, at);
    assert_eq!(late.transfer.credit_prev, Some(first.transfer.id));
    assert_eq!(late.transfer.debit_prev, Some(first.transfer.id));
    // The statement shows both, newest first.
    let page = city
        .app
        .ledger()
        .statement(
            &city.system,
            person_key(city.people_a[0]),
            Unit::Points,
            yinling_app::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(
        page.items.iter().map(|l| l.change).collect::<Vec<_>>(),
        [10, 30]
    );
    assert_ledger_sound(&city).await;
}

#[tokio::test]
async fn old_points_expire_first_in_first_out_and_a_second_run_expires_nothing() {
    let city = TestCity::new().await;
    let c = city.county.county_code;
    let zhang = person(city.people_a[0]);
    let pool = pool_of(c);
    city.app
        .ledger()
        .post(posting(Unit::Points, pool, zhang, 100, "old-points-1"))
        .await
        .unwrap();
    city.clock.advance(400 * DAY);
    city.app
        .ledger()
        .post(posting(Unit::Points, pool, zhang, 50, "new-points-1"))
        .await
        .unwrap();
    // 60 spent: they came out of the old 100.
    city.app
        .ledger()
        .post(posting(
            Unit::Points,
            zhang,
            Holder::Shop {
                county_code: county_code(c),
                id: city.community.id,
            },
            60,
            "spend-points-1",
        ))
        .await
        .unwrap();
    // Default expiry: 24 months. At 25 months the first 100 are due; 40 of them are left.
    city.clock.advance(360 * DAY);
    let (a, b) = tokio::join!(
        city.app.ledger().expire_points(),
        city.app.ledger().expire_points()
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.points + b.points, 40, "{a:?} {b:?}");
    assert_eq!(city.app.ledger().expire_points().await.unwrap().points, 0);
    assert_eq!(points_of(&city, city.people_a[0]).await, 50);
    // Two years after the newer points, they go too.
    city.clock.advance(400 * DAY);
    assert_eq!(city.app.ledger().expire_points().await.unwrap().points, 50);
    assert_eq!(points_of(&city, city.people_a[0]).await, 0);
    assert_ledger_sound(&city).await;
}

/// Many callers at once through the group-commit writer: earns, gifts between people,
/// spends and retries. Afterwards every balance is the sum of its transfers, no person is
/// below zero, every unit sums to zero, and each key moved at most once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_postings_keep_every_invariant() {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let city = TestCity::new().await;
    let c = city.county.county_code;
    let people: Vec<Holder> = city
        .people_a
        .iter()
        .chain(&city.people_b)
        .map(|&k| person(k))
        .collect();
    let pool = pool_of(c);
    let shop = Holder::Shop {
        county_code: county_code(c),
        id: city.community.id,
    };
    let mut tasks = Vec::new();
    for client in 0..32u64 {
        let app = city.app.clone();
        let people = people.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(client);
            let mut moved = 0;
            for n in 0..25 {
                let a = people[rng.gen_range(0..people.len())];
                let b = people[rng.gen_range(0..people.len())];
                let unit = if rng.gen_bool(0.5) {
                    Unit::Points
                } else {
                    Unit::Minutes
                };
                let amount = rng.gen_range(1..30);
                let key = format!("client-{client}-op-{n}");
                let p = match rng.gen_range(0..3) {
                    0 => posting(unit, pool, a, amount, &key),
                    1 if a != b => posting(unit, a, b, amount, &key),
                    _ => posting(Unit::Points, a, shop, amount, &key),
                };
                let first = app.ledger().post(p.clone()).await;
                let mut ok = first.is_ok();
                if rng.gen_bool(0.3) {
                    let again = app.ledger().post(p).await;
                    match (&first, &again) {
                        (Ok(f), Ok(g)) => {
                            assert!(g.replayed);
                            assert_eq!(f.transfer.id, g.transfer.id);
                        }
                        (Ok(_), Err(e)) => panic!("retry failed: {e}"),
                        // A refused key is free, so its retry may succeed if points arrived.
                        (Err(e), _) => assert_eq!(e.code(), "insufficient_balance", "{e}"),
                    }
                    ok |= again.is_ok();
                }
                if ok {
                    moved += 1;
                }
            }
            moved
        }));
    }
    let mut moved = 0;
    for t in tasks {
        moved += t.await.unwrap();
    }
    assert_eq!(city.count("ledger_transfers").await, moved);
    assert_ledger_sound(&city).await;
}

mod redemption {
    use super::*;

    #[tokio::test]
    async fn an_elder_redeems_points_with_a_code_and_both_sides_get_a_receipt() {
        let city = TestCity::new().await;
        let till = Till::open(&city).await;
        till.fund(&city, 50, "seed-points-zhang").await;
        let oil = till.goods(&city, "花生油 1升", 30, 1).await;
        let code = till.show_code(&city).await;
        assert_eq!(code.code.len(), 6);
        assert_eq!(code.points, 50);

        let r = till
            .sell(&city, &code.code, oil.id, "till-0001")
            .await
            .unwrap();
        assert_eq!(r.redemption.points, 30);
        assert_eq!(r.person_name, "张*丰");
        assert_eq!(r.shop_name, "惠民超市");
        // The shop's receipt holds neither the elder's balance nor their person id.
        let json = serde_json::to_value(&r).unwrap();
        assert!(json.get("balance_after").is_none(), "{json}");
        assert!(json["redemption"].get("person_id").is_none(), "{json}");
        assert_eq!(points_of(&city, city.people_a[0]).await, 20);
        // The till retries (network hiccup): the same receipt, nothing moved again.
        let again = till
            .sell(&city, &code.code, oil.id, "till-0001")
            .await
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.redemption.id, r.redemption.id);
        // The elder's phone shows the receipt.
        let mine = city
            .app
            .redeem()
            .my_last_redemption(
                &till.resident,
                code.expires_at - yinling_app::redeem::CODE_TTL_MICROS,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(mine.person_name, "张三丰");
        assert_eq!(mine.redemption.id, r.redemption.id);
        assert_eq!(
            mine.balance_after, 20,
            "the elder's own receipt keeps the balance"
        );

        // A used code, a wrong code, no stock: refused, nothing changes.
        let before = city.count("ledger_transfers").await;
        let e = till
            .sell(&city, &code.code, oil.id, "till-0002")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "code_invalid");
        let e = till
            .sell(&city, "12a456", oil.id, "till-0003")
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("code"));
        let fresh = till.show_code(&city).await;
        let e = till
            .sell(&city, &fresh.code, oil.id, "till-0004")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "out_of_stock");
        // Not enough points: the stock taken for it is put back with the rest.
        let soap = till.goods(&city, "洗衣皂", 25, 10).await;
        let e = till
            .sell(&city, &fresh.code, soap.id, "till-0005")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "insufficient_balance");
        let goods = city
            .app
            .redeem()
            .goods(&till.keeper, till.shop)
            .await
            .unwrap();
        assert_eq!(
            goods.iter().find(|g| g.id == soap.id).unwrap().stock,
            10,
            "stock untouched"
        );
        assert_eq!(city.count("ledger_transfers").await, before);
        // The code is still good for something affordable... after it expires it is not.
        city.clock.advance(yinling_app::redeem::CODE_TTL_MICROS);
        let e = till
            .sell(&city, &fresh.code, soap.id, "till-0006")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "code_invalid");

        // Another shop's keeper (a grid worker here) cannot redeem at this shop.
        let worker = city.caller("workera").await;
        assert!(
            till.sell_as(&city, &worker, &fresh.code, soap.id, "till-0007")
                .await
                .is_err()
        );

        // The month's settlement, and its workbook read back.
        let month = yinling_domain::time::local_date(r.redemption.created_at)
            .format("%Y-%m")
            .to_string();
        let s = city
            .app
            .redeem()
            .settlement(&till.keeper, till.shop, &month)
            .await
            .unwrap();
        assert_eq!((s.count, s.points), (1, 30));
        assert_eq!(s.lines[0].person_name, "张*丰");
        let (name, bytes) = city
            .app
            .redeem()
            .settlement_xlsx(&till.keeper, till.shop, &month)
            .await
            .unwrap();
        assert!(name.ends_with(".xlsx"));
        // Read back with an independent reader: the line, masked, and the total.
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let sheet = wb.worksheet_range("结算单").unwrap();
        let rows: Vec<Vec<String>> = sheet
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert!(rows[0][0].contains("惠民超市"), "{rows:?}");
        assert_eq!(&rows[4][2..6], ["张*丰", "花生油 1升", "1", "30"]);
        assert_eq!(rows[5][3], "合计");
        assert_eq!(rows[5][5], "30");
        assert!(!rows.concat().iter().any(|c| c.contains("张三丰")));
        let e = city
            .app
            .redeem()
            .settlement(&till.keeper, till.shop, "2026-13")
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("month"));
        assert_ledger_sound(&city).await;
    }

    #[tokio::test]
    async fn two_tills_racing_for_the_last_item_sell_it_once() {
        let city = TestCity::new().await;
        let till = Till::open(&city).await;
        till.fund(&city, 100, "seed-points-race").await;
        let eggs = till.goods(&city, "鸡蛋一盒", 10, 1).await;
        let a = till.show_code(&city).await;
        let b = till.show_code(&city).await;
        let (x, y) = tokio::join!(
            till.sell(&city, &a.code, eggs.id, "race-till-a"),
            till.sell(&city, &b.code, eggs.id, "race-till-b")
        );
        assert_eq!(x.is_ok() as u8 + y.is_ok() as u8, 1, "{x:?} {y:?}");
        assert_eq!(points_of(&city, city.people_a[0]).await, 90);
        assert_ledger_sound(&city).await;
    }
}

/// A redemption refused for lack of points rolls back the accounts it opened; the process
/// must not keep using their ids.
#[tokio::test]
async fn accounts_opened_by_a_rolled_back_redemption_are_opened_again() {
    let city = TestCity::new().await;
    let till = Till::open(&city).await;
    let goods = till.goods(&city, "毛巾", 8, 5).await;
    let code = till.show_code(&city).await;
    let e = till
        .sell(&city, &code.code, goods.id, "rollback-till-1")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "insufficient_balance");
    assert_eq!(city.count("ledger_accounts").await, 0);
    till.fund(&city, 20, "rollback-seed-1").await;
    let r = till
        .sell(&city, &code.code, goods.id, "rollback-till-2")
        .await
        .unwrap();
    assert_eq!(r.redemption.points, 8);
    assert_eq!(points_of(&city, city.people_a[0]).await, 12);
    assert_ledger_sound(&city).await;
}

mod time_bank {
    use super::*;
    use yinling_app::{ledger::Rules, time_bank::GiftInput};

    #[tokio::test]
    async fn hours_go_to_family_within_the_yearly_limit_and_pay_for_service() {
        let city = TestCity::new().await;
        let s = city.add_services().await;
        // 李四 serves 张三丰 before they share a household (afterwards he could not).
        let order = city.complete_an_order(&s).await;
        city.add_shop().await;
        let c = city.county.county_code;
        let (zhang, li) = (city.people_a[0], city.people_a[1]);
        let resident = city.caller("resident").await;
        seed(&city, Unit::Minutes, zhang, 600, "seed-hours-zhang").await;
        let admin = city.caller("countyadmin").await;
        let mut rules: Rules = city.app.ledger().rules(county_code(c)).await.unwrap();
        rules.family_max_minutes_year = 120;
        city.app.ledger().set_rules(&admin, rules).await.unwrap();

        let gift = |to: (i64, i64), minutes, key: &str| GiftInput {
            to: yinling_app::testing::key(to.0, to.1),
            minutes,
            memo: None,
            idempotency_key: key.into(),
        };
        let r = city
            .app
            .time_bank()
            .gift(&resident, gift(li, 90, "gift-to-li-1"))
            .await
            .unwrap();
        assert_eq!(r.transfer.memo, "转赠给李四");
        // Not family; over the yearly limit.
        let e = city
            .app
            .time_bank()
            .gift(&resident, gift(city.people_a[2], 10, "gift-to-wang"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "not_family");
        let e = city
            .app
            .time_bank()
            .gift(&resident, gift(li, 31, "gift-to-li-2"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "family_limit");
        assert!(e.to_string().contains("2小时"), "{e}");
        city.app
            .time_bank()
            .gift(&resident, gift(li, 30, "gift-to-li-3"))
            .await
            .unwrap();
        let bal = city
            .app
            .ledger()
            .balances(&resident, person_key(zhang))
            .await
            .unwrap();
        assert_eq!(bal.minutes, 480);

        // 张三丰 received a service and pays with his hours, once, as confirmed.
        let charge = city
            .app
            .time_bank()
            .charge(&resident, key(c, order))
            .await
            .unwrap();
        let paid = city
            .app
            .time_bank()
            .withdraw(&resident, key(c, order), charge.minutes)
            .await
            .unwrap();
        let again = city
            .app
            .time_bank()
            .withdraw(&resident, key(c, order), charge.minutes)
            .await
            .unwrap();
        assert!(again.replayed);
        assert_eq!(paid.transfer.id, again.transfer.id);
        let bal = city
            .app
            .ledger()
            .balances(&resident, person_key(zhang))
            .await
            .unwrap();
        assert_eq!(bal.minutes, 480 - paid.transfer.amount);
        let statement = city
            .app
            .ledger()
            .statement(
                &resident,
                person_key(zhang),
                Unit::Minutes,
                Default::default(),
            )
            .await
            .unwrap();
        assert_eq!(statement.total, 4);
        assert_eq!(statement.items[0].reason_label, "时间银行支取");
        assert_eq!(statement.items[0].balance_after, bal.minutes);
        assert_ledger_sound(&city).await;
    }
}

/// Gifts both ways between two household members at once: the yearly limit and balances
/// hold; refusals are only for lack of hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_family_gifts_keep_the_limit_and_the_balances() {
    use yinling_app::time_bank::GiftInput;
    let city = TestCity::new().await;
    city.add_shop().await;
    city.add_services().await;
    let (zhang, li) = (city.people_a[0], city.people_a[1]);
    for (who, key) in [(zhang, "seed-gift-z"), (li, "seed-gift-l")] {
        seed(&city, Unit::Minutes, who, 100, key).await;
    }
    let resident = city.caller("resident").await;
    let vola = city.caller("vola").await;
    let mut tasks = Vec::new();
    for n in 0..40 {
        let app = city.app.clone();
        let (caller, to) = if n % 2 == 0 {
            (resident.clone(), li)
        } else {
            (vola.clone(), zhang)
        };
        tasks.push(tokio::spawn(async move {
            app.time_bank()
                .gift(
                    &caller,
                    GiftInput {
                        to: key(to.0, to.1),
                        minutes: 15,
                        memo: None,
                        idempotency_key: format!("concurrent-gift-{n}"),
                    },
                )
                .await
        }));
    }
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            assert!(
                ["insufficient_balance", "family_limit"].contains(&e.code()),
                "{e:?}"
            );
        }
    }
    assert_ledger_sound(&city).await;
}

// =====================================================================================
// Issue 9, items 3 and 5: nobody pays themselves, every ledger movement is in the audit
// chain, and client idempotency keys live in their own namespace.
// =====================================================================================
mod trust {
    use super::*;
    use yinling_app::{accounts::NewAccountInput, ledger::SetAside, time_bank::GiftInput};
    use yinling_domain::role::Role;
    use yinling_store::{
        kernel::ids::{self, Seq},
        ledger::AdjustmentRow,
        orders::EntitlementRow,
        org::OrgUnitRow,
        q,
    };

    const REFUSED: &str = "ledger.self_benefit_refused";

    /// A staff account holding `role` on `unit` whose account is linked to `person`'s file.
    async fn linked_staff(
        city: &TestCity,
        username: &str,
        role: Role,
        unit: &OrgUnitRow,
        person: (i64, i64),
    ) -> Caller {
        city.app
            .accounts()
            .create(
                &city.system,
                NewAccountInput {
                    password: yinling_app::testing::PASSWORD.into(),
                    person_county_code: Some(person.0),
                    person_id: Some(person.1),
                    ..yinling_app::testing::account(
                        username,
                        role,
                        (unit.county_code.as_i64(), unit.id.get()),
                    )
                },
            )
            .await
            .unwrap();
        city.caller(username).await
    }

    /// Asserts `e` is the refusal to pay oneself, that it left exactly one more refusal in
    /// the audit log than `before`, and that no transfer or adjustment was written.
    async fn assert_refused(city: &TestCity, e: AppError, words: &str, before: (i64, i64, i64)) {
        assert_forbidden(&e);
        assert!(e.to_string().contains(words), "{e}");
        assert_eq!(
            (
                audited(city, REFUSED).await,
                city.count("ledger_transfers").await,
                city.count("ledger_adjustments").await
            ),
            (before.0 + 1, before.1, before.2)
        );
    }

    async fn counts(city: &TestCity) -> (i64, i64, i64) {
        (
            audited(city, REFUSED).await,
            city.count("ledger_transfers").await,
            city.count("ledger_adjustments").await,
        )
    }

    fn adjustment(who: (i64, i64), amount: i64) -> AdjustmentInput {
        super::adjustment(person_key(who), amount)
    }

    /// The observed hole: a grid worker whose account is linked to his own file (李四, who
    /// shares a household with 张三丰) awarded himself and proposed an adjustment for himself.
    #[tokio::test]
    async fn a_grid_worker_cannot_award_or_adjust_for_himself_or_his_household() {
        let city = TestCity::new().await;
        city.add_shop().await; // 张三丰 and 李四 in one household
        theme_day_rule(&city, 20, 0).await;
        let (zhang, li, wang) = (city.people_a[0], city.people_a[1], city.people_a[2]);
        let worker = linked_staff(&city, "selfworker", Role::GridWorker, &city.grid_a, li).await;

        for who in [li, zhang] {
            let before = counts(&city).await;
            let e = earn(&city, &worker, who, &format!("self-award-{}", who.1))
                .await
                .unwrap_err();
            assert_refused(&city, e, "不能给自己或同户家人发放积分", before).await;
            let before = counts(&city).await;
            let e = city
                .app
                .ledger()
                .propose_adjustment(&worker, adjustment(who, 5_000))
                .await
                .unwrap_err();
            assert_refused(&city, e, "不能为自己或同户家人提出积分调整", before).await;
        }
        assert_eq!(
            (points_of(&city, li).await, points_of(&city, zhang).await),
            (0, 0)
        );
        // The refusal names the worker, his address and whose file it was, not the person.
        let rows = city
            .app
            .store()
            .read()
            .fetch_all::<(
                Option<i64>,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
            )>(q!(
                "SELECT actor_id, actor_name, ip, entity_key, detail FROM audit_events
                  WHERE action = $1 ORDER BY seq",
                REFUSED
            ))
            .await
            .unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].0, worker.account_id);
        assert_eq!(rows[0].1, "selfworker");
        assert_eq!(rows[0].2.as_deref(), Some("127.0.0.1"));
        assert_eq!(rows[0].3, Some(format!("{}/{}", li.0, li.1)));
        assert!(
            rows[0]
                .4
                .as_deref()
                .unwrap()
                .contains(r#""relation":"own""#)
        );
        assert!(rows[1].4.as_deref().unwrap().contains("adjustment.propose"));
        assert!(
            rows[2]
                .4
                .as_deref()
                .unwrap()
                .contains(r#""relation":"household""#)
        );

        // Anyone else in his grid he may still award and propose for.
        let ok = earn(&city, &worker, wang, "award-for-wang").await.unwrap();
        assert_eq!(ok.points.unwrap().transfer.amount, 20);
        city.app
            .ledger()
            .propose_adjustment(&worker, adjustment(wang, 15))
            .await
            .unwrap();
        assert_ledger_sound(&city).await;
    }

    /// An approver may not decide an adjustment for her own household, and nobody may
    /// approve one a proposer made for his own file before proposing that was refused —
    /// the page tells the approver so, and it can still be rejected.
    #[tokio::test]
    async fn no_approval_for_oneself_nor_for_what_a_proposer_asked_for_himself() {
        let city = TestCity::new().await;
        city.add_shop().await; // 张三丰 and 李四 in one household
        let c = city.county.county_code;
        let (zhang, li, wang) = (city.people_a[0], city.people_a[1], city.people_a[2]);
        let worker = city.caller("workera").await;
        let secretary = city.caller("secretary").await;
        let kin_secretary = linked_staff(
            &city,
            "kinsecretary",
            Role::CommunitySecretary,
            &city.community,
            zhang,
        )
        .await;

        // 1. For the approver's household (李四 lives with 张三丰): neither approve nor reject.
        let for_li = city
            .app
            .ledger()
            .propose_adjustment(&worker, adjustment(li, 30))
            .await
            .unwrap();
        for approve in [true, false] {
            let before = counts(&city).await;
            let e = city
                .app
                .ledger()
                .decide_adjustment(
                    &kin_secretary,
                    yinling_domain::ids::Key::new(county_code(c), for_li.id),
                    approve,
                )
                .await
                .unwrap_err();
            assert_refused(&city, e, "不能审批自己或同户家人的积分调整", before).await;
        }
        let waiting = city
            .app
            .ledger()
            .adjustments_waiting(&kin_secretary)
            .await
            .unwrap();
        let view = waiting.iter().find(|a| a.row.id == for_li.id).unwrap();
        assert!(!view.may_decide && !view.may_approve);
        assert!(view.warning.unwrap().contains("同户家人"));
        // Another secretary approves it.
        decide(&city, &secretary, &for_li, true).await.unwrap();
        assert_eq!(points_of(&city, li).await, 30);

        // 2. Proposed before the fix by a grid worker for his own file (王五) and for his
        //    household: written as it was then, straight into the table.
        let selfworker =
            linked_staff(&city, "selfworker", Role::GridWorker, &city.grid_a, li).await;
        let mut old = Vec::new();
        for who in [li, zhang] {
            let path = yinling_store::people::get(
                &mut city.app.store().read(),
                yinling_app::testing::person_key(who),
            )
            .await
            .unwrap()
            .unwrap()
            .path;
            let row = AdjustmentRow {
                county_code: county_code(c),
                id: yinling_domain::ids::AdjustmentId(
                    ids::next(&mut city.app.store().write(), Seq::LedgerAdjustments)
                        .await
                        .unwrap(),
                ),
                unit: Unit::Points,
                person_id: person_key(who).id,
                path,
                amount: 5_000,
                memo: "补记历年服务积分".into(),
                status: AdjustmentStatus::Pending,
                proposed_by: yinling_domain::ids::AccountId(selfworker.account_id.unwrap()),
                proposed_by_name: "selfworker".into(),
                proposed_at: city.app.now(),
                decided_by: None,
                decided_by_name: None,
                decided_at: None,
                transfer_id: None,
            };
            yinling_store::ledger::insert_adjustment(&mut city.app.store().write(), &row)
                .await
                .unwrap();
            old.push(row);
        }
        // The approver is told who proposed it, for whom, and that it may not be approved.
        let waiting = city
            .app
            .ledger()
            .adjustments_waiting(&secretary)
            .await
            .unwrap();
        for row in &old {
            let view = waiting.iter().find(|a| a.row.id == row.id).unwrap();
            assert_eq!(view.row.proposed_by_name, "selfworker");
            assert!(view.may_decide && !view.may_approve, "{view:?}");
            assert!(view.warning.unwrap().contains("提出人"), "{view:?}");
        }
        for row in &old {
            let before = counts(&city).await;
            let e = decide(&city, &secretary, row, true).await.unwrap_err();
            assert_refused(&city, e, "只能驳回", before).await;
        }
        assert_eq!(points_of(&city, li).await, 30);
        assert_eq!(points_of(&city, zhang).await, 0);
        for row in &old {
            let done = decide(&city, &secretary, row, false).await.unwrap();
            assert_eq!(done.status, AdjustmentStatus::Rejected);
        }
        // Unrelated adjustments are untouched by all this.
        let for_wang = city
            .app
            .ledger()
            .propose_adjustment(&selfworker, adjustment(wang, 12))
            .await
            .unwrap();
        decide(&city, &kin_secretary, &for_wang, true)
            .await
            .unwrap();
        assert_eq!(points_of(&city, wang).await, 12);
        assert_ledger_sound(&city).await;
    }

    /// A county administrator linked to her own file cannot reverse a transfer that would
    /// pay her back; another administrator can.
    #[tokio::test]
    async fn a_reversal_in_favour_of_the_administrator_is_refused() {
        let city = TestCity::new().await;
        let c = city.county.county_code;
        let wang = city.people_a[2];
        let shop = city.add_shop().await;
        let admin = city.caller("countyadmin").await;
        let self_admin =
            linked_staff(&city, "selfadmin", Role::CountyAdmin, &city.county, wang).await;
        seed(&city, Unit::Points, wang, 40, "seed-wang-40").await;
        let spent = city
            .app
            .ledger()
            .post(posting(
                Unit::Points,
                person(wang),
                Holder::Shop {
                    county_code: county_code(c),
                    id: shop.id,
                },
                25,
                "wang-spends-25",
            ))
            .await
            .unwrap();
        let before = counts(&city).await;
        let e = city
            .app
            .ledger()
            .reverse_transfer(
                &self_admin,
                yinling_domain::ids::Key::new(county_code(c), spent.transfer.id),
                "误操作，退回积分",
            )
            .await
            .unwrap_err();
        assert_refused(&city, e, "冲正会转给您本人或同户家人", before).await;
        assert_eq!(points_of(&city, wang).await, 15);
        city.app
            .ledger()
            .reverse_transfer(
                &admin,
                yinling_domain::ids::Key::new(county_code(c), spent.transfer.id),
                "误操作，退回积分",
            )
            .await
            .unwrap();
        assert_eq!(points_of(&city, wang).await, 40);
        assert_ledger_sound(&city).await;
    }

    /// Earn, award claims, withdrawal, family gift, redemption, adjustment, reversal and
    /// expiry each leave exactly one audit event for each transfer, written with it: who
    /// asked, from where, the movement, no names or memos. Replays and refusals leave
    /// none. `audit verify` and `ledger verify` pass.
    #[tokio::test]
    async fn every_kind_of_movement_leaves_exactly_one_audit_event() {
        let city = TestCity::new().await;
        let c = city.county.county_code;
        theme_day_rule(&city, 10, 0).await;
        let s = city.add_services().await;
        let (zhang, li, wang) = (city.people_a[0], city.people_a[1], city.people_a[2]);
        let worker = city.caller("workera").await;
        let secretary = city.caller("secretary").await;
        let admin = city.caller("countyadmin").await;

        // Earn (twice the same request: one transfer).
        for _ in 0..2 {
            earn(&city, &worker, zhang, "audit-earn-0001")
                .await
                .unwrap();
        }
        seed(&city, Unit::Minutes, zhang, 600, "seed-hours-zhang").await;
        // Award claims from a completed order, then the elder pays for it with hours.
        let order = city.complete_an_order(&s).await;
        let claimed = city.app.ledger().claim_entitlements(100).await.unwrap();
        assert_eq!(claimed.transfers, 2);
        let resident = city.caller("resident").await;
        let charge = city
            .app
            .time_bank()
            .charge(&resident, key(c, order))
            .await
            .unwrap();
        city.app
            .time_bank()
            .withdraw(&resident, key(c, order), charge.minutes)
            .await
            .unwrap();
        // A family gift and a redemption (the shop puts 张三丰 and 李四 in one household).
        let till = Till::open(&city).await;
        city.app
            .time_bank()
            .gift(
                &resident,
                GiftInput {
                    to: key(li.0, li.1),
                    minutes: 15,
                    memo: Some("给李四的时长".into()),
                    idempotency_key: "audit-gift-0001".into(),
                },
            )
            .await
            .unwrap();
        let noodles = till.goods(&city, "挂面", 5, 10).await;
        let code = till.show_code(&city).await;
        till.sell(&city, &code.code, noodles.id, "audit-till-0001")
            .await
            .unwrap();
        // An adjustment, approved, then reversed.
        let adj = city
            .app
            .ledger()
            .propose_adjustment(&worker, adjustment(wang, 15))
            .await
            .unwrap();
        let adj = decide(&city, &secretary, &adj, true).await.unwrap();
        city.app
            .ledger()
            .reverse_transfer(
                &admin,
                yinling_domain::ids::Key::new(county_code(c), adj.transfer_id.unwrap()),
                "重复补记，冲正",
            )
            .await
            .unwrap();
        // A refusal moves nothing and records no movement.
        assert!(
            city.app
                .ledger()
                .post(posting(
                    Unit::Points,
                    person(wang),
                    person(zhang),
                    1_000,
                    "too-much-points"
                ))
                .await
                .is_err()
        );
        // Expiry, 25 months on.
        city.clock.advance(760 * DAY);
        assert!(city.app.ledger().expire_points().await.unwrap().accounts > 0);

        let transfers = city
            .app
            .store()
            .read()
            .fetch_all::<(i64, i64, String, i64)>(q!(
                "SELECT county_code, id, reason, amount FROM ledger_transfers ORDER BY id"
            ))
            .await
            .unwrap();
        let events = city
            .app
            .store()
            .read()
            .fetch_all::<(String, String, String, Option<String>, String)>(q!(
                "SELECT entity_key, action, actor_name, ip, detail FROM audit_events
                  WHERE entity = 'ledger_transfer' ORDER BY county_code, seq"
            ))
            .await
            .unwrap();
        assert_eq!(events.len(), transfers.len(), "{events:#?}");
        let mut reasons = std::collections::BTreeSet::new();
        for (county, id, reason, amount) in &transfers {
            let mine: Vec<_> = events
                .iter()
                .filter(|e| e.0 == format!("{county}/{id}"))
                .collect();
            assert_eq!(mine.len(), 1, "transfer {id} ({reason}): {mine:?}");
            let (_, action, actor, ip, detail) = mine[0];
            assert_eq!(action, &format!("ledger.{reason}"));
            assert!(
                detail.contains(&format!(r#""amount":{amount}"#)),
                "{detail}"
            );
            for private in ["张三丰", "李四", "给李四的时长", "挂面", "补记"] {
                assert!(!detail.contains(private), "{detail}");
            }
            let want = match reason.as_str() {
                "expire" => ("job:ledger.expire", None),
                "earn" if detail.contains(r#""source":"order""#) => ("job:ledger.claim", None),
                "earn" if detail.contains(r#""source":"activity""#) => {
                    ("workera", Some("127.0.0.1"))
                }
                "earn" => ("test", None),
                "withdraw" | "family" => ("resident", Some("127.0.0.1")),
                "redeem" => ("shopkeeper", Some("127.0.0.1")),
                "adjust" => ("secretary", Some("127.0.0.1")),
                "reverse" => ("countyadmin", Some("127.0.0.1")),
                other => panic!("unexpected reason {other}"),
            };
            assert_eq!((actor.as_str(), ip.as_deref()), want, "{reason}: {detail}");
            reasons.insert(reason.clone());
        }
        assert_eq!(
            reasons.into_iter().collect::<Vec<_>>(),
            [
                "adjust", "earn", "expire", "family", "redeem", "reverse", "withdraw"
            ]
        );
        let (_, problems) = city.app.audit().verify().await.unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_ledger_sound(&city).await;
    }

    /// Item 5, as observed: an award request whose key is the award job's own key for a
    /// real pending entitlement. The job pays the entitlement anyway.
    #[tokio::test]
    async fn a_client_key_cannot_take_the_award_jobs_key() {
        let city = TestCity::new().await;
        let c = city.county.county_code;
        theme_day_rule(&city, 5, 0).await;
        let s = city.add_services().await;
        let li = city.people_a[1];
        let order = city.complete_an_order(&s).await;
        let ents = city
            .app
            .orders()
            .entitlements(&city.system, key(c, order))
            .await
            .unwrap();
        assert_eq!((ents.len(), ents[0].status.as_str()), (1, "pending"));
        let worker = city.caller("workera").await;
        let hijack = earn_input(city.people_a[2], &format!("entitlement:{c}:{}", ents[0].id));
        let first = city
            .app
            .ledger()
            .earn(&worker, hijack.clone())
            .await
            .unwrap();
        let again = city.app.ledger().earn(&worker, hijack).await.unwrap();
        assert!(again.points.unwrap().replayed);
        assert!(!first.points.unwrap().replayed);

        let report = city.app.ledger().claim_entitlements(100).await.unwrap();
        assert_eq!(
            (report.transfers, report.set_aside.len()),
            (2, 0),
            "{report:?}"
        );
        let bal = balances_of(&city, li).await;
        assert_eq!((bal.points, bal.minutes), (10, 60));
        let ents = city
            .app
            .orders()
            .entitlements(&city.system, key(c, order))
            .await
            .unwrap();
        assert_eq!(ents[0].status, "taken");
        assert_ledger_sound(&city).await;
    }

    /// One entitlement the ledger refuses — its key taken by a transfer written before the
    /// fix, or its person gone — is set aside with the reason; the others are paid, and the
    /// next run neither retries it nor fails.
    #[tokio::test]
    async fn one_refused_entitlement_is_set_aside_and_the_rest_are_paid() {
        let city = TestCity::new().await;
        let c = city.county.county_code;
        let people = [
            city.people_a[0],
            city.people_a[1],
            city.people_a[2],
            (c.as_i64(), 987_654_321),
        ];
        let ent_ids = ids::allocate(&mut city.app.store().write(), Seq::AwardEntitlements, 4)
            .await
            .unwrap();
        for (n, (&who, &id)) in people.iter().zip(&ent_ids).enumerate() {
            let row = EntitlementRow {
                county_code: c.as_i64(),
                id,
                source_kind: "order".into(),
                source_id: 9_000 + n as i64,
                person_id: who.1,
                points: 7,
                hours_minutes: 0,
                status: "pending".into(),
                created_at: city.app.now() + n as i64,
            };
            assert!(
                yinling_store::orders::insert_entitlement(&mut city.app.store().write(), &row)
                    .await
                    .unwrap()
            );
        }
        // Before the fix a client's award could be stored under the job's key.
        let qian = city.people_b[1];
        seed(
            &city,
            Unit::Points,
            qian,
            1,
            &format!("entitlement:{c}:{}:points", ent_ids[1]),
        )
        .await;

        let report = city.app.ledger().claim_entitlements(100).await.unwrap();
        assert_eq!(report.entitlements, 4);
        assert_eq!(report.transfers, 2);
        let aside: Vec<(i64, &str)> = report
            .set_aside
            .iter()
            .map(|SetAside { id, reason, .. }| (*id, reason.as_str()))
            .collect();
        assert_eq!(aside.len(), 2, "{aside:?}");
        assert_eq!(aside[0].0, ent_ids[1]);
        assert!(aside[0].1.contains("idempotency_key_reused"), "{aside:?}");
        assert_eq!(aside[1].0, ent_ids[3]);
        assert!(aside[1].1.contains("not_found"), "{aside:?}");
        assert_eq!(points_of(&city, people[0]).await, 7);
        assert_eq!(points_of(&city, people[1]).await, 0);
        assert_eq!(points_of(&city, people[2]).await, 7);
        assert_eq!(points_of(&city, qian).await, 1);
        let status = city
            .app
            .store()
            .read()
            .fetch_all::<(i64, String, Option<String>)>(q!(
                "SELECT id, status, failure FROM award_entitlements ORDER BY id"
            ))
            .await
            .unwrap();
        let status: Vec<(&str, bool)> = status
            .iter()
            .map(|(_, s, f)| (s.as_str(), f.is_some()))
            .collect();
        assert_eq!(
            status,
            [
                ("taken", false),
                ("failed", true),
                ("taken", false),
                ("failed", true)
            ]
        );
        let next = city.app.ledger().claim_entitlements(100).await.unwrap();
        assert_eq!((next.entitlements, next.transfers), (0, 0));
        assert_ledger_sound(&city).await;
    }

    /// A client's key is scoped by caller and operation: two callers sending the same key
    /// each move points; the same caller sending it again replays.
    #[tokio::test]
    async fn the_same_client_key_from_two_callers_moves_twice_and_from_one_caller_replays() {
        let city = TestCity::new().await;
        theme_day_rule(&city, 5, 0).await;
        let wang = city.people_a[2];
        let worker = city.caller("workera").await;
        let secretary = city.caller("secretary").await;
        let a = earn(&city, &worker, wang, "shared-key-0001")
            .await
            .unwrap()
            .points
            .unwrap();
        let b = earn(&city, &secretary, wang, "shared-key-0001")
            .await
            .unwrap()
            .points
            .unwrap();
        assert!(!a.replayed && !b.replayed);
        assert_ne!(a.transfer.id, b.transfer.id);
        let again = earn(&city, &worker, wang, "shared-key-0001")
            .await
            .unwrap()
            .points
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.transfer.id, a.transfer.id);
        assert_eq!(points_of(&city, wang).await, 10);

        // Gifts: 张三丰 and 李四 give each other hours under the same key.
        city.add_shop().await;
        city.add_services().await;
        let (zhang, li) = (city.people_a[0], city.people_a[1]);
        for (who, key) in [(zhang, "seed-gift-z"), (li, "seed-gift-l")] {
            seed(&city, Unit::Minutes, who, 100, key).await;
        }
        let gift = |to: (i64, i64)| GiftInput {
            to: key(to.0, to.1),
            minutes: 10,
            memo: None,
            idempotency_key: "shared-gift-01".into(),
        };
        let resident = city.caller("resident").await;
        let vola = city.caller("vola").await;
        let g1 = city
            .app
            .time_bank()
            .gift(&resident, gift(li))
            .await
            .unwrap();
        let g2 = city.app.time_bank().gift(&vola, gift(zhang)).await.unwrap();
        assert!(!g1.replayed && !g2.replayed);
        assert!(
            city.app
                .time_bank()
                .gift(&resident, gift(li))
                .await
                .unwrap()
                .replayed
        );
        for who in [zhang, li] {
            let bal = balances_of(&city, who).await;
            assert_eq!(bal.minutes, 100);
        }
        assert_ledger_sound(&city).await;
    }
}

// ==== Redemption codes cannot be guessed or overspent (issue 9, item 4; item 12's key
// reuse): wrong codes limited per till account and per client address, the locks the county
// sees and lifts, the per-code limit, 不是我本人兑换 and the county's decision. ====
mod redemption_guard {
    use super::*;
    use yinling_app::{
        Settings,
        kernel::clock::MINUTE,
        kernel::settings::SecuritySettings,
        ledger::Rules,
        redeem::{ReportDecision, ResolveInput},
    };

    /// Limits small enough to reach in a test: `till` wrong codes per till account,
    /// `address` per client address, windows of `minutes`.
    /// What a lock's record says: its kind, the wrong codes and refusals counted, the till
    /// account and the address.
    fn lock_summary(l: &yinling_app::redeem::LockView) -> (&str, i64, i64, &str, Option<&str>) {
        (
            l.lock.kind.as_str(),
            l.lock.wrong_codes,
            l.lock.refused,
            l.lock.account_name.as_str(),
            l.lock.ip.as_deref(),
        )
    }

    fn limits(till: i64, address: i64, minutes: i64) -> Settings {
        Settings {
            security: SecuritySettings {
                redeem_wrong_codes_per_till: till,
                redeem_wrong_codes_per_address: address,
                redeem_lock_minutes: minutes,
                ..SecuritySettings::default()
            },
            ..Settings::default()
        }
    }

    /// Six-digit codes other than the live one.
    fn wrong_codes(live: &str) -> impl Iterator<Item = String> + use<> {
        let live = live.to_owned();
        (100_000..999_999)
            .map(|n: i64| n.to_string())
            .filter(move |c| *c != live)
    }

    fn at(ip: &str, c: &Caller) -> Caller {
        c.clone().with_ip(Some(ip.to_owned()))
    }

    #[tokio::test]
    async fn wrong_codes_lock_the_till_and_then_the_address_until_the_window_ends() {
        let city = TestCity::with_settings(limits(3, 4, 10)).await;
        let till = Till::open(&city).await;
        till.fund(&city, 100, "guard-seed-1").await;
        let oil = till.goods(&city, "花生油 1升", 30, 10).await;
        let keeper = at("10.0.0.7", &till.keeper);
        let code = till.show_code(&city).await;
        let mut wrong = wrong_codes(&code.code);

        // Two wrong codes: refused, each telling how many tries are left.
        for (n, left) in [(1, 2), (2, 1)] {
            let e = till
                .sell_as(
                    &city,
                    &keeper,
                    &wrong.next().unwrap(),
                    oil.id,
                    &format!("guard-lock-{n}"),
                )
                .await
                .unwrap_err();
            assert_eq!(e.code(), "code_invalid");
            assert!(e.to_string().contains(&format!("再输错{left}次")), "{e}");
        }
        // The third locks the till and says so.
        let e = till
            .sell_as(
                &city,
                &keeper,
                &wrong.next().unwrap(),
                oil.id,
                "guard-lock-3",
            )
            .await
            .unwrap_err();
        assert_too_many(&e);
        assert!(e.to_string().contains("本收银账号已暂停兑换"), "{e}");
        // Now even the right code is refused, and nothing moves.
        let e = till
            .sell_as(&city, &keeper, &code.code, oil.id, "guard-lock-right")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "too_many_attempts");
        assert!(e.to_string().contains("县（市、区）管理员"), "{e}");
        assert_eq!(points_of(&city, city.people_a[0]).await, 100);
        assert_eq!(city.count("redemptions").await, 0);

        // One lock on record, audited, with the right code's refusal counted on it.
        let admin = city.caller("countyadmin").await;
        let locks = city.app.redeem().locks(&admin).await.unwrap();
        assert_eq!(locks.len(), 1, "{locks:?}");
        let l = &locks[0];
        assert_eq!(
            lock_summary(l),
            ("till", 3, 1, "shopkeeper", Some("10.0.0.7"))
        );
        assert!(l.active && l.shop_name == "惠民超市", "{l:?}");
        assert!(l.state_text.starts_with("锁定中"), "{}", l.state_text);
        assert_eq!(audited(&city, "redeem.lock").await, 1);

        // The window ends ten minutes after the first wrong code: a fresh code works.
        city.clock.advance(10 * MINUTE);
        let code = till.show_code(&city).await;
        till.sell_as(&city, &keeper, &code.code, oil.id, "guard-lock-after")
            .await
            .unwrap();
        let locks = city.app.redeem().locks(&admin).await.unwrap();
        assert!(!locks[0].active && locks[0].state_text.contains("已到期"));

        // The address: two till accounts behind one address share its four tries. The
        // county administrator may redeem at the county's shops, so is a second till here.
        let code = till.show_code(&city).await;
        let mut wrong = wrong_codes(&code.code);
        let second = at("10.0.0.7", &admin);
        for (who, key) in [
            (&keeper, "guard-addr-1"),
            (&keeper, "guard-addr-2"),
            (&second, "guard-addr-3"),
        ] {
            let e = city
                .app
                .redeem()
                .at_till(
                    who,
                    till.shop,
                    redeem_input(&wrong.next().unwrap(), oil.id, key),
                )
                .await
                .unwrap_err();
            assert_eq!(e.code(), "code_invalid", "{e}");
        }
        let e = till
            .sell_as(
                &city,
                &second,
                &wrong.next().unwrap(),
                oil.id,
                "guard-addr-4",
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("本店所在网络已暂停兑换"), "{e}");
        // Neither till reaches its own limit, but both are refused at that address...
        for (who, key) in [(&keeper, "addr-right-1"), (&second, "addr-right-2")] {
            let e = city
                .app
                .redeem()
                .at_till(who, till.shop, redeem_input(&code.code, oil.id, key))
                .await
                .unwrap_err();
            assert_eq!(e.code(), "too_many_attempts", "{e}");
        }
        // ...and served from another.
        city.app
            .redeem()
            .at_till(
                &at("10.0.0.8", &till.keeper),
                till.shop,
                redeem_input(&code.code, oil.id, "addr-elsewhere"),
            )
            .await
            .unwrap();
        let locks = city.app.redeem().locks(&admin).await.unwrap();
        assert_eq!(locks.len(), 2);
        let l = &locks[0];
        assert_eq!(
            lock_summary(l),
            ("address", 4, 2, "countyadmin", Some("10.0.0.7"))
        );
        assert_eq!(audited(&city, "redeem.lock").await, 2);
        assert_eq!(points_of(&city, city.people_a[0]).await, 40);
        assert_ledger_sound(&city).await;
    }

    #[tokio::test]
    async fn a_county_administrator_lifts_a_lock_early_and_it_is_audited() {
        // The defaults: five wrong codes per till.
        let city = TestCity::new().await;
        let till = Till::open(&city).await;
        till.fund(&city, 50, "lift-seed").await;
        let soap = till.goods(&city, "洗衣皂", 5, 10).await;
        let code = till.show_code(&city).await;
        let mut wrong = wrong_codes(&code.code);
        for n in 0..5 {
            let e = till
                .sell(
                    &city,
                    &wrong.next().unwrap(),
                    soap.id,
                    &format!("guard-lift-{n}"),
                )
                .await
                .unwrap_err();
            assert_eq!(
                e.code(),
                if n < 4 {
                    "code_invalid"
                } else {
                    "too_many_attempts"
                }
            );
        }
        let admin = city.caller("countyadmin").await;
        let lock = city.app.redeem().locks(&admin).await.unwrap().remove(0);

        // Only those who set the county's ledger rules see or lift locks.
        let worker = city.caller("workera").await;
        for who in [&worker, &till.keeper] {
            let e = city.app.redeem().locks(who).await.unwrap_err();
            assert_forbidden(&e);
            let e = city
                .app
                .redeem()
                .lift_lock(
                    who,
                    yinling_domain::ids::Key::new(lock.lock.county_code, lock.lock.id),
                )
                .await
                .unwrap_err();
            assert_not_found(&e);
        }
        let e = till
            .sell(&city, &code.code, soap.id, "lift-right-1")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "too_many_attempts");

        let lifted = city
            .app
            .redeem()
            .lift_lock(
                &admin,
                yinling_domain::ids::Key::new(lock.lock.county_code, lock.lock.id),
            )
            .await
            .unwrap();
        assert!(
            !lifted.active && lifted.state_text.contains("提前解除"),
            "{lifted:?}"
        );
        assert_eq!(audited(&city, "redeem.lock.lift").await, 1);
        let e = city
            .app
            .redeem()
            .lift_lock(
                &admin,
                yinling_domain::ids::Key::new(lock.lock.county_code, lock.lock.id),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "already_lifted");
        // At once the right code works, and the count starts afresh: four more wrong codes
        // are only wrong.
        till.sell(&city, &code.code, soap.id, "lift-right-2")
            .await
            .unwrap();
        for n in 0..4 {
            let e = till
                .sell(
                    &city,
                    &wrong.next().unwrap(),
                    soap.id,
                    &format!("lift-again-{n}"),
                )
                .await
                .unwrap_err();
            assert_eq!(e.code(), "code_invalid");
        }
        assert_eq!(city.app.redeem().locks(&admin).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn one_code_spends_at_most_what_the_elder_chose_or_the_county_cap() {
        let city = TestCity::new().await;
        let till = Till::open(&city).await;
        till.fund(&city, 1_000, "cap-seed").await;
        let rice = till.goods(&city, "大米10斤", 120, 20).await;
        let noodles = till.goods(&city, "挂面", 60, 20).await;
        let zhang = city.people_a[0];

        // The elder chose 100: 120 is refused with the limit in the message, nothing moves
        // and the code still serves something within it.
        let code = city
            .app
            .redeem()
            .code_limited(&till.resident, Some(100))
            .await
            .unwrap();
        assert_eq!(code.max_points, 100);
        let e = till
            .sell(&city, &code.code, rice.id, "guard-cap-1")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "over_code_limit");
        assert!(
            e.to_string().contains("最多可兑换100积分") && e.to_string().contains("需要120积分"),
            "{e}"
        );
        assert_eq!(points_of(&city, zhang).await, 1_000);
        let goods = city
            .app
            .redeem()
            .goods(&till.keeper, till.shop)
            .await
            .unwrap();
        assert_eq!(goods.iter().find(|g| g.id == rice.id).unwrap().stock, 20);
        till.sell(&city, &code.code, noodles.id, "guard-cap-2")
            .await
            .unwrap();

        // Without a choice the county's cap holds: 300 by default, then what it sets.
        let code = till.show_code(&city).await;
        assert_eq!(code.max_points, 300);
        let mut three = redeem_input(&code.code, rice.id, "guard-cap-3");
        three.quantity = 3;
        let e = city
            .app
            .redeem()
            .at_till(&till.keeper, till.shop, three)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "over_code_limit");
        let admin = city.caller("countyadmin").await;
        let c = city.county.county_code;
        let rules = city.app.ledger().rules(county_code(c)).await.unwrap();
        let e = city
            .app
            .ledger()
            .set_rules(
                &admin,
                Rules {
                    max_points_per_code: 0,
                    ..rules.clone()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("max_points_per_code"));
        city.app
            .ledger()
            .set_rules(
                &admin,
                Rules {
                    max_points_per_code: 150,
                    ..rules
                },
            )
            .await
            .unwrap();
        let e = city
            .app
            .redeem()
            .code_limited(&till.resident, Some(200))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("max_points"));
        assert!(e.to_string().contains("1至150"), "{e}");
        let code = till.show_code(&city).await;
        assert_eq!(code.max_points, 150);
        let mut two = redeem_input(&code.code, rice.id, "guard-cap-4");
        two.quantity = 2;
        let e = city
            .app
            .redeem()
            .at_till(&till.keeper, till.shop, two)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "over_code_limit");
        till.sell(&city, &code.code, rice.id, "guard-cap-5")
            .await
            .unwrap();
        assert_eq!(points_of(&city, zhang).await, 1_000 - 60 - 120);
        assert_ledger_sound(&city).await;
    }

    /// 张三丰 redeems rice; he says it was not him.
    /// `who` decides `report` with `decision`, saying what was found.
    async fn resolve(
        city: &TestCity,
        who: &Caller,
        report: &yinling_store::redeem::shops::ReportRow,
        decision: ReportDecision,
        note: &str,
    ) -> Result<yinling_app::redeem::ReportView, AppError> {
        city.app
            .redeem()
            .resolve_report(
                who,
                yinling_domain::ids::Key::new(report.county_code, report.id),
                ResolveInput {
                    decision,
                    note: note.into(),
                },
            )
            .await
    }

    async fn reported(
        city: &TestCity,
    ) -> (Till, GoodsRow, i64, yinling_store::redeem::shops::ReportRow) {
        let till = Till::open(city).await;
        till.fund(city, 200, "report-seed").await;
        let rice = till.goods(city, "大米10斤", 60, 20).await;
        let code = till.show_code(city).await;
        let r = till
            .sell(city, &code.code, rice.id, "report-till-1")
            .await
            .unwrap();
        let mine = city
            .app
            .redeem()
            .my_redemptions(&till.resident)
            .await
            .unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(
            (
                mine[0].shop_name.as_str(),
                mine[0].goods_name.as_str(),
                mine[0].points,
                mine[0].report_state
            ),
            ("惠民超市", "大米10斤", 60, None)
        );
        let report = till.report_not_me(city, &r.redemption).await.unwrap();
        (till, rice, r.redemption.id.get(), report)
    }

    #[tokio::test]
    async fn not_me_freezes_the_elders_codes_until_the_county_confirms_and_reverses_it() {
        let city = TestCity::new().await;
        let zhang = city.people_a[0];
        // A live code shown before the report (on a phone someone else holds, say).
        let till = Till::open(&city).await;
        seed(&city, Unit::Points, zhang, 200, "report-seed").await;
        let rice = till.goods(&city, "大米10斤", 60, 20).await;
        let first = till.show_code(&city).await;
        let r = till
            .sell(&city, &first.code, rice.id, "fraud-till-1")
            .await
            .unwrap();
        let live = till.show_code(&city).await;
        assert_eq!(points_of(&city, zhang).await, 140);

        // Nobody else reports his redemption, not even his household (李四).
        city.add_services().await;
        let li = city.caller("vola").await;
        let e = city
            .app
            .redeem()
            .report(
                &li,
                yinling_domain::ids::Key::new(r.redemption.county_code, r.redemption.id),
            )
            .await
            .unwrap_err();
        assert_not_found(&e);

        let report = till.report_not_me(&city, &r.redemption).await.unwrap();
        assert_eq!((report.state.as_str(), report.frozen_codes), ("open", 1));
        assert_eq!(audited(&city, "redeem.report").await, 1);
        // Tapping again answers the same report.
        let again = till.report_not_me(&city, &r.redemption).await.unwrap();
        assert_eq!(again.id, report.id);
        assert_eq!(city.count("redemption_reports").await, 1);
        // The live code is void at the till; no new code until the county has looked.
        let e = till
            .sell(&city, &live.code, rice.id, "fraud-till-2")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "code_invalid");
        let e = city.app.redeem().code(&till.resident).await.unwrap_err();
        assert_forbidden(&e);
        assert!(e.to_string().contains("县里核实之前暂停"), "{e}");
        assert!(city.app.redeem().is_paused(&till.resident).await.unwrap());
        let mine = city
            .app
            .redeem()
            .my_redemptions(&till.resident)
            .await
            .unwrap();
        assert_eq!(mine[0].report_label, "已报告，等待县里核实");

        // The county's list shows it, with the full name, for those who oversee the county.
        let admin = city.caller("countyadmin").await;
        let list = city.app.redeem().reports(&admin).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(
            (
                list[0].person_name.as_str(),
                list[0].shop_name.as_str(),
                list[0].points,
                list[0].till_name.as_str()
            ),
            ("张三丰", "惠民超市", 60, "惠民超市收银")
        );
        let worker = city.caller("workera").await;
        assert!(city.app.redeem().reports(&worker).await.is_err());
        let e = resolve(
            &city,
            &worker,
            &report,
            ReportDecision::Fraud,
            "核实为他人冒用",
        )
        .await
        .unwrap_err();
        assert_not_found(&e);

        // A decision needs a reason; then fraud reverses the redemption.
        let e = resolve(&city, &admin, &report, ReportDecision::Fraud, "是")
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("note"));
        assert_eq!(points_of(&city, zhang).await, 140);
        let done = resolve(
            &city,
            &admin,
            &report,
            ReportDecision::Fraud,
            "调取监控，为他人冒用",
        )
        .await
        .unwrap();
        assert_eq!(done.report.state, ReportState::Fraud);
        let reversal = done.report.reversal_id.unwrap();
        let t = yinling_store::ledger::transfer(
            &mut city.app.store().read(),
            yinling_domain::ids::Key::new(report.county_code, reversal),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!((t.reverses, t.amount), (Some(r.redemption.transfer_id), 60));
        assert_eq!(points_of(&city, zhang).await, 200);
        assert_eq!(audited(&city, "redeem.report.fraud").await, 1);
        assert_eq!(audited(&city, "ledger.reverse").await, 1);
        let e = resolve(
            &city,
            &admin,
            &report,
            ReportDecision::Dismiss,
            "再处理一次",
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "already_resolved");
        // He may show codes again, and sees what the county found.
        assert!(!city.app.redeem().is_paused(&till.resident).await.unwrap());
        till.show_code(&city).await;
        let mine = city
            .app
            .redeem()
            .my_redemptions(&till.resident)
            .await
            .unwrap();
        assert_eq!(mine[0].report_state, Some(ReportState::Fraud));
        assert!(mine[0].report_label.contains("积分已退回"));
        assert_ledger_sound(&city).await;
    }

    #[tokio::test]
    async fn the_county_dismisses_a_report_and_nobody_decides_one_about_their_household() {
        use yinling_app::accounts::NewAccountInput;
        use yinling_domain::role::Role;
        let city = TestCity::new().await;
        let (_till, _rice, _id, report) = reported(&city).await;
        // County administrators whose own file is 张三丰's, or his household's (李四).
        for (username, who) in [
            ("countyzhang", city.people_a[0]),
            ("countyli", city.people_a[1]),
        ] {
            city.app
                .accounts()
                .create(
                    &city.system,
                    NewAccountInput {
                        password: yinling_app::testing::PASSWORD.into(),
                        person_county_code: Some(who.0),
                        person_id: Some(who.1),
                        ..yinling_app::testing::account(
                            username,
                            Role::CountyAdmin,
                            (city.county.county_code.as_i64(), city.county.id.get()),
                        )
                    },
                )
                .await
                .unwrap();
            let own = city.caller(username).await;
            let e = resolve(
                &city,
                &own,
                &report,
                ReportDecision::Fraud,
                "我自己核实过了",
            )
            .await
            .unwrap_err();
            assert!(matches!(e, AppError::Forbidden { .. }), "{username}: {e:?}");
        }
        assert_eq!(points_of(&city, city.people_a[0]).await, 140);
        let admin = city.caller("countyadmin").await;
        let done = resolve(
            &city,
            &admin,
            &report,
            ReportDecision::Dismiss,
            "本人子女代为兑换，已电话核实",
        )
        .await
        .unwrap();
        assert_eq!(
            (done.report.state.as_str(), done.report.reversal_id),
            ("dismissed", None)
        );
        assert_eq!(points_of(&city, city.people_a[0]).await, 140);
        assert_eq!(audited(&city, "redeem.report.dismiss").await, 1);
        let resident = city.caller("resident").await;
        assert!(!city.app.redeem().is_paused(&resident).await.unwrap());
        city.app.redeem().code(&resident).await.unwrap();
        assert_ledger_sound(&city).await;
    }

    /// Item 12: the till's idempotency key names one redemption; sent again for other goods
    /// or another quantity it is refused, and nothing moves.
    #[tokio::test]
    async fn a_till_key_reused_for_other_goods_or_quantity_is_refused() {
        let city = TestCity::new().await;
        let till = Till::open(&city).await;
        till.fund(&city, 100, "reuse-seed").await;
        let rice = till.goods(&city, "大米10斤", 40, 10).await;
        let soap = till.goods(&city, "洗衣皂", 5, 10).await;
        let code = till.show_code(&city).await;
        let first = till
            .sell(&city, &code.code, soap.id, "reuse-key")
            .await
            .unwrap();
        let other = till.show_code(&city).await;
        let mut more = redeem_input(&other.code, soap.id, "reuse-key");
        more.quantity = 3;
        for input in [redeem_input(&other.code, rice.id, "reuse-key"), more] {
            let e = city
                .app
                .redeem()
                .at_till(&till.keeper, till.shop, input)
                .await
                .unwrap_err();
            assert_eq!(e.code(), "idempotency_key_reused", "{e:?}");
        }
        assert_eq!(points_of(&city, city.people_a[0]).await, 95);
        assert_eq!(city.count("redemptions").await, 1);
        // The same request again is the first receipt.
        let again = till
            .sell(&city, &other.code, soap.id, "reuse-key")
            .await
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.redemption.id, first.redemption.id);
    }
}
