//! Service orders end to end through the application layer, on whichever backend the test
//! database is (SQLite by default, PostgreSQL with YINLING_TEST_DATABASE_URL).

use yinling_app::testing::key;
use yinling_app::testing::{assert_conflict, assert_forbidden, assert_not_found};
use yinling_app::testing::{county_code, person_key};
use yinling_app::{
    AppError, AppResult, Caller, PageRequest,
    ledger::Receipt,
    orders::DispatchInput,
    orders::{BatchReport, Candidate, OrderDetail, OrderInput, OrderStep, OrderView},
    services::{Provider, ProviderInput},
    testing::{TestCity, need, order},
    time_bank::{DisputeDecision, DisputeInput, HoursCharge},
};
use yinling_domain::{
    ids::{Key, NeedId, OrderId, PersonId, ProviderId},
    service::{HoursDisputeStatus, OrderAction, OrderState},
};
use yinling_store::orders::{HoursDisputeRow, OrderFilter};

const MINUTE: i64 = 60_000_000;

/// The key of the order `id` in the test county.
fn order_key(city: &TestCity, id: impl Into<i64>) -> Key<OrderId> {
    key(city.county.county_code, id)
}

/// `who` accepts the order `id` of the test county and checks in: it is in service.
async fn start(city: &TestCity, who: &Caller, id: impl Into<i64> + Copy) {
    for action in [OrderAction::Accept, OrderAction::CheckIn] {
        act(city, who, id, action, step()).await.unwrap();
    }
}

/// The system puts `input` on the resource list.
async fn list_provider(city: &TestCity, input: ProviderInput) -> AppResult<Provider> {
    city.app
        .services()
        .create_provider(&city.system, input)
        .await
}

/// A volunteer (`person`, or none for a team) who cooks (做饭) anywhere in the test
/// community, up to `capacity` orders at once.
fn community_cook(city: &TestCity, person: Option<(i64, i64)>, capacity: i64) -> ProviderInput {
    let community = key(city.community.county_code, city.community.id);
    ProviderInput::volunteer(
        person.map(|(c, i)| key(c, i)),
        &["做饭"],
        vec![community],
        capacity,
    )
}

/// Runs `runs` at once (each waits at a shared barrier until all have started) and gives
/// their results in order.
async fn race<T, F>(runs: impl IntoIterator<Item = F>) -> Vec<AppResult<T>>
where
    F: std::future::Future<Output = AppResult<T>> + Send + 'static,
    T: Send + 'static,
{
    let runs: Vec<F> = runs.into_iter().collect();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(runs.len()));
    let tasks: Vec<_> = runs
        .into_iter()
        .map(|run| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                run.await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

/// `who` places `input`.
async fn place(city: &TestCity, who: &Caller, input: OrderInput) -> AppResult<OrderView> {
    city.app.orders().place(who, input).await
}

/// `who` uploads a completion photo for the order `id` of the test county.
async fn upload(
    city: &TestCity,
    who: &Caller,
    id: impl Into<i64>,
    bytes: Vec<u8>,
) -> AppResult<String> {
    city.app
        .orders()
        .upload_photo(who, order_key(city, id), bytes)
        .await
}

/// The `k` best candidates for the order `id` of the test county, as `who` is offered them.
async fn candidates(
    city: &TestCity,
    who: &Caller,
    id: impl Into<i64>,
    k: usize,
) -> AppResult<Vec<Candidate>> {
    city.app
        .orders()
        .candidates(who, order_key(city, id), k)
        .await
}

/// The providers ranked for the order `id`, best first, as `who` is offered them.
async fn candidate_ids(city: &TestCity, who: &Caller, id: impl Into<i64>, k: usize) -> Vec<i64> {
    let ranked = candidates(city, who, id, k).await.unwrap();
    ranked.iter().map(|c| c.ranked.key.id.get()).collect()
}

/// `who` dispatches every open order in the test community.
async fn batch_in_community(city: &TestCity, who: &Caller) -> AppResult<BatchReport> {
    let community = key(city.community.county_code, city.community.id);
    city.app.orders().batch_dispatch(who, community).await
}

/// Purges the unused photos past their day of grace, now: how many went.
async fn purge(city: &TestCity) -> AppResult<usize> {
    city.app.orders().purge_unused_photos(city.app.now()).await
}

/// The time-bank charge for the order `id` of the test county, as `who` is shown it.
async fn hours_charge(city: &TestCity, who: &Caller, id: impl Into<i64>) -> AppResult<HoursCharge> {
    city.app.time_bank().charge(who, order_key(city, id)).await
}

/// `who` pays the order `id` of the test county with `minutes` of hours, as confirmed.
async fn withdraw(
    city: &TestCity,
    who: &Caller,
    id: impl Into<i64>,
    minutes: i64,
) -> AppResult<Receipt> {
    city.app
        .time_bank()
        .withdraw(who, order_key(city, id), minutes)
        .await
}

/// `who` disputes the time-bank charge for the order `id` of the test county, saying why.
async fn raise_dispute(
    city: &TestCity,
    who: &Caller,
    id: impl Into<i64>,
    reason: &str,
) -> AppResult<HoursDisputeRow> {
    let reason = reason.into();
    let order = order_key(city, id);
    city.app
        .time_bank()
        .raise_dispute(who, order, DisputeInput { reason })
        .await
}

/// `who` decides the dispute over the order `id` of the test county: `uphold` it (the
/// charge is reversed) or not, with a note.
async fn decide_dispute(
    city: &TestCity,
    who: &Caller,
    id: impl Into<i64>,
    uphold: bool,
    note: &str,
) -> AppResult<HoursDisputeRow> {
    let note = Some(note.into());
    let order = order_key(city, id);
    city.app
        .time_bank()
        .decide_dispute(who, order, DisputeDecision { uphold, note })
        .await
}

/// The id of a new order the resident places for themself.
async fn placed(city: &TestCity, resident: &yinling_app::Caller, item: i64) -> i64 {
    place(city, resident, order_for(item, None))
        .await
        .unwrap()
        .order
        .id
        .get()
}

fn order_for(item: i64, person: Option<(i64, i64)>) -> OrderInput {
    OrderInput {
        person: person.map(|(c, i)| key(c, i)),
        description: Some("午饭送到家，少盐".into()),
        ..order(item)
    }
}

fn step() -> OrderStep {
    OrderStep {
        provider_id: None,
        note: None,
        stars: None,
        photo_key: None,
    }
}

/// A step with a note and nothing else.
fn noted(note: &str) -> OrderStep {
    OrderStep {
        note: Some(note.into()),
        ..step()
    }
}

/// A rating of `stars`.
fn rated(stars: i64) -> OrderStep {
    OrderStep {
        stars: Some(stars),
        ..step()
    }
}

/// A completion naming the stored photo `key`.
fn with_photo(key: &str) -> OrderStep {
    OrderStep {
        photo_key: Some(key.into()),
        ..step()
    }
}

/// `who` takes `action` on the order `id` of the test county, with `with`.
async fn act(
    city: &TestCity,
    who: &Caller,
    id: impl Into<i64>,
    action: OrderAction,
    with: OrderStep,
) -> AppResult<OrderView> {
    let county = city.county.county_code;
    city.app
        .orders()
        .step(who, key(county, id), action, with)
        .await
}

/// `who` dispatches the order `id` of the test county to the best-ranked provider.
async fn dispatch_best(city: &TestCity, who: &Caller, id: impl Into<i64>) -> AppResult<OrderView> {
    let county = city.county.county_code;
    city.app
        .orders()
        .dispatch(who, key(county, id), DispatchInput::default())
        .await
}

/// The order `id` of the test county as `who` sees it.
async fn order_detail(city: &TestCity, who: &Caller, id: impl Into<i64>) -> AppResult<OrderDetail> {
    let county = city.county.county_code;
    city.app.orders().detail(who, key(county, id)).await
}

/// The id of a need of `person` (county, id) the system records.
async fn recorded_need(city: &TestCity, person: (i64, i64)) -> i64 {
    city.app
        .needs()
        .record(&city.system, need(person))
        .await
        .unwrap()
        .id()
}

async fn events(city: &TestCity, county: i64, id: i64) -> Vec<&'static str> {
    yinling_store::orders::events(&mut city.app.store().read(), key(county, id))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.as_str())
        .collect()
}

#[tokio::test]
async fn an_order_from_placing_to_closing() {
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let resident = city.caller("resident").await;
    let worker = city.caller("workera").await;
    let vola = city.caller("vola").await;
    let county = city.county.county_code;

    let placed = place(&city, &resident, order_for(s.item.id.get(), None))
        .await
        .unwrap();
    assert_eq!(placed.order.state, OrderState::Submitted);
    assert_eq!(placed.resident_name, "张三丰");
    assert!(!placed.order.proxy);
    let id = placed.order.id;

    // The grid worker sees it; ranking explains why 李四 comes first.
    let list = city
        .app
        .orders()
        .list(&worker, OrderFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(list.total, 1);
    let cands = candidates(&city, &worker, id, 5).await.unwrap();
    assert_eq!(cands.len(), 1, "赵六 serves grid B only: {cands:?}");
    assert_eq!(cands[0].ranked.key.id.get(), s.vol_a);
    assert_eq!(cands[0].name, "李四");
    assert!(
        cands[0]
            .ranked
            .parts
            .iter()
            .any(|p| p.factor == "技能" && p.reason == "具备所需技能 1/1 项")
    );

    // The ranking's cached pool follows the resource list: once 赵六 serves the whole
    // community he is a candidate too, behind 李四 who lives in the grid.
    let secretary = city.caller("secretary").await;
    let b = city
        .app
        .services()
        .provider(&secretary, key(county, s.vol_b))
        .await
        .unwrap();
    city.app
        .services()
        .update_provider(
            &secretary,
            key(county, s.vol_b),
            ProviderInput {
                version: Some(b.version),
                ..ProviderInput::volunteer(
                    None,
                    &b.skills.iter().map(String::as_str).collect::<Vec<_>>(),
                    vec![key(city.community.county_code, city.community.id)],
                    b.capacity,
                )
            },
        )
        .await
        .unwrap();
    let cands = candidates(&city, &worker, id, 5).await.unwrap();
    let ids: Vec<i64> = cands.iter().map(|c| c.ranked.key.id.get()).collect();
    assert_eq!(ids, vec![s.vol_a, s.vol_b]);

    // One click dispatches to the best.
    let d = dispatch_best(&city, &worker, id).await.unwrap();
    assert_eq!(d.order.state, OrderState::Dispatched);
    let offered = city
        .app
        .orders()
        .provider_orders(&vola, true)
        .await
        .unwrap();
    assert_eq!(offered.len(), 1);

    start(&city, &vola, id).await;
    city.clock.advance(42 * MINUTE);
    // A photo must be one stored for this order.
    let foreign = with_photo("orders/370830/999/0123.png");
    let e = act(&city, &vola, id, OrderAction::Complete, foreign)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("photo_key"));
    let done = noted("已送到，老人吃得很好");
    let completed = act(&city, &vola, id, OrderAction::Complete, done)
        .await
        .unwrap();
    assert_eq!(completed.order.state, OrderState::Completed);
    assert_eq!(completed.order.service_minutes, Some(42));
    assert_eq!(
        completed.order.served_by,
        Some(PersonId(city.people_a[1].1))
    );

    // The award is owed exactly once, to 李四, as the item says.
    let owed = city
        .app
        .orders()
        .entitlements(&worker, key(county, id))
        .await
        .unwrap();
    assert_eq!(owed.len(), 1);
    assert_eq!((owed[0].points, owed[0].hours_minutes), (10, 60));
    assert_eq!(owed[0].person_id, city.people_a[1].1);
    assert_eq!(owed[0].status, "pending");

    let rate = rated(5);
    act(&city, &resident, id, OrderAction::Rate, rate)
        .await
        .unwrap();
    let closed = act(&city, &worker, id, OrderAction::Close, step())
        .await
        .unwrap();
    assert_eq!(closed.order.state, OrderState::Closed);
    assert_eq!(closed.order.rating, Some(5));
    let p = city
        .app
        .services()
        .provider(&worker, key(county, s.vol_a))
        .await
        .unwrap();
    assert_eq!((p.rating_count, p.rating), (1, Some(5.0)));
    assert_eq!(
        events(&city, county.into(), id.get()).await,
        [
            "submit", "dispatch", "accept", "check_in", "complete", "rate", "close"
        ]
    );
    assert_eq!(city.count("award_entitlements").await, 1);
}

#[tokio::test]
async fn illegal_steps_are_refused_and_change_nothing() {
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let resident = city.caller("resident").await;
    let vola = city.caller("vola").await;
    let volb = city.caller("volb").await;
    let id = placed(&city, &resident, s.item.id.get()).await;
    let before = order_detail(&city, &resident, id).await.unwrap();

    // The resident cannot accept; 赵六 (grid B only) cannot see it; nobody can complete
    // an order nobody checked in to; six stars are no rating.
    let e = act(&city, &resident, id, OrderAction::Accept, step())
        .await
        .unwrap_err();
    assert_forbidden(&e);
    let e = act(&city, &volb, id, OrderAction::Accept, step())
        .await
        .unwrap_err();
    assert_not_found(&e);
    act(&city, &vola, id, OrderAction::Accept, step())
        .await
        .unwrap();
    let e = act(&city, &vola, id, OrderAction::Complete, step())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AppError::Conflict { code: "illegal_transition", message, .. } if message == "订单已接单，不能完成服务"),
        "{e:?}"
    );
    let rate = rated(6);
    let e = act(&city, &resident, id, OrderAction::Rate, rate)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict { .. }), "{e:?}");
    let after = order_detail(&city, &resident, id).await.unwrap();
    assert_eq!(after.view.order.version, before.view.order.version + 1);
    assert_eq!(after.events.len(), 2);
    assert_eq!(city.count("award_entitlements").await, 0);

    // Bad input on placing: a time in the past, text too long, an item not offered here.
    let mut bad = order_for(s.item.id.get(), None);
    bad.wanted_at_text = Some("2020-01-01 12:00".into());
    let e = place(&city, &resident, bad).await.unwrap_err();
    assert_eq!(e.field(), Some("wanted_at"));
    let mut bad = order_for(s.item.id.get(), None);
    bad.description = Some("很".repeat(201));
    let e = place(&city, &resident, bad).await.unwrap_err();
    assert_eq!(e.field(), Some("description"));
    let e = place(&city, &resident, order_for(9999, None))
        .await
        .unwrap_err();
    assert_not_found(&e);
    assert_eq!(city.count("orders").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_volunteers_accepting_at_once_exactly_one_wins() {
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let county = city.county.county_code;
    // A second volunteer who can reach grid A: 王五, serving the community.
    let p2 = list_provider(&city, community_cook(&city, Some(city.people_a[2]), 50))
        .await
        .unwrap();
    let volc = account(
        &city,
        "volc",
        yinling_domain::role::Role::Volunteer,
        &city.grid_a,
        city.people_a[2],
    )
    .await;
    let resident = city.caller("resident").await;
    let vola = city.caller("vola").await;
    for round in 0..8 {
        let id = placed(&city, &resident, s.item.id.get()).await;
        let accepts = [vola.clone(), volc.clone()].map(|who| {
            let app = city.app.clone();
            async move {
                app.orders()
                    .step(&who, key(county, id), OrderAction::Accept, step())
                    .await
            }
        });
        let mut wins = 0;
        for result in race(accepts).await {
            match result {
                Ok(v) => {
                    wins += 1;
                    assert_eq!(v.order.state, OrderState::Accepted);
                }
                Err(AppError::Conflict { code, .. }) => {
                    assert!(code == "already_taken" || code == "order_changed", "{code}")
                }
                Err(e) => panic!("round {round}: {e:?}"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
        let detail = order_detail(&city, &resident, id).await.unwrap();
        assert_eq!(
            detail
                .events
                .iter()
                .filter(|e| e.action == OrderAction::Accept)
                .count(),
            1
        );
        let holder = detail.view.order.provider_id.unwrap();
        assert!(holder == ProviderId(s.vol_a) || holder == ProviderId(p2.id.get()));
        // Free the volunteers' capacity for the next round.
        let who = if holder == ProviderId(s.vol_a) {
            &vola
        } else {
            &volc
        };
        act(&city, who, id, OrderAction::Decline, step())
            .await
            .unwrap();
    }
    // The one who comes second, after the first has committed, is told it was taken:
    // the order was open to them, so "not found" would be wrong.
    let id = placed(&city, &resident, s.item.id.get()).await;
    act(&city, &vola, id, OrderAction::Accept, step())
        .await
        .unwrap();
    match act(&city, &volc, id, OrderAction::Accept, step()).await {
        Err(AppError::Conflict { code, .. }) => assert_eq!(code, "already_taken"),
        other => panic!("second accept: {other:?}"),
    }
}

#[tokio::test]
async fn declines_escalation_and_batch_dispatch() {
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let worker = city.caller("workera").await;
    let vola = city.caller("vola").await;

    // Placed by the grid worker for 王五 (代点单), dispatched, declined: back to awaiting
    // dispatch, and 李四 is not offered it again.
    let placed = place(
        &city,
        &worker,
        order_for(s.item.id.get(), Some(city.people_a[2])),
    )
    .await
    .unwrap();
    assert!(placed.order.proxy);
    let id = placed.order.id;
    dispatch_best(&city, &worker, id).await.unwrap();
    let declined = act(&city, &vola, id, OrderAction::Decline, step())
        .await
        .unwrap();
    assert_eq!(declined.order.state, OrderState::Submitted);
    assert!(candidates(&city, &worker, id, 5).await.unwrap().is_empty());
    let e = dispatch_best(&city, &worker, id).await.unwrap_err();
    assert_conflict(&e, "no_candidate");

    // Nobody accepts within the hour: escalated to the compound branch above the grid, once.
    city.clock.advance(61 * MINUTE);
    let system = city.system.clone();
    assert_eq!(
        city.app.orders().escalate_overdue(&system).await.unwrap(),
        1
    );
    assert_eq!(
        city.app.orders().escalate_overdue(&system).await.unwrap(),
        0
    );
    let o = order_detail(&city, &worker, id).await.unwrap().view.order;
    assert_eq!(o.escalation_level, 1);
    assert_eq!(o.escalated_to.as_deref(), Some(city.branch.path.as_str()));
    assert_eq!(o.state, OrderState::Submitted);
    city.clock.advance(61 * MINUTE);
    assert_eq!(
        city.app.orders().escalate_overdue(&system).await.unwrap(),
        1
    );
    let o = order_detail(&city, &worker, id).await.unwrap().view.order;
    assert_eq!(
        o.escalated_to.as_deref(),
        Some(city.community.path.as_str())
    );

    // Batch dispatch of five new orders in grid A: 李四 has capacity 3 and nothing else
    // reaches grid A, so three are dispatched and two wait; the declined one stays out.
    for _ in 0..5 {
        place(
            &city,
            &worker,
            order_for(s.item.id.get(), Some(city.people_a[0])),
        )
        .await
        .unwrap();
    }
    let secretary = city.caller("secretary").await;
    let report = batch_in_community(&city, &secretary).await.unwrap();
    assert_eq!(report.considered, 6);
    assert_eq!(report.dispatched, 3);
    assert_eq!(report.unmatched, 3);
    assert_eq!(
        city.app
            .orders()
            .provider_orders(&vola, true)
            .await
            .unwrap()
            .len(),
        3
    );
    // Again: nobody has room, nothing changes.
    let again = batch_in_community(&city, &secretary).await.unwrap();
    assert_eq!(again.dispatched, 0);

    // The grid worker of grid B cannot dispatch grid A's orders, nor see them.
    let workerb = city.caller("workerb").await;
    let e = dispatch_best(&city, &workerb, id).await.unwrap_err();
    assert_not_found(&e);
    let e = batch_in_community(&city, &workerb).await.unwrap_err();
    assert_not_found(&e);
    let list = city
        .app
        .orders()
        .list(&workerb, OrderFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(list.total, 0);
}

#[tokio::test]
async fn cancelling_and_resource_list_rules() {
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let resident = city.caller("resident").await;
    let vola = city.caller("vola").await;
    let id = placed(&city, &resident, s.item.id.get()).await;
    let why = noted("孩子回来了，不用送了");
    let c = act(&city, &resident, id, OrderAction::Cancel, why)
        .await
        .unwrap();
    assert_eq!(c.order.state, OrderState::Cancelled);
    assert_eq!(
        c.order.cancel_reason.as_deref(),
        Some("孩子回来了，不用送了")
    );
    let e = act(&city, &vola, id, OrderAction::Accept, step())
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::NotFound { .. } | AppError::Conflict { .. }),
        "{e:?}"
    );

    // Resource list: the same person twice is refused; capacity and windows are checked.
    let dup = ProviderInput::volunteer(
        Some(key(city.people_a[1].0, city.people_a[1].1)),
        &[],
        vec![],
        2,
    );
    let e = list_provider(&city, dup.clone()).await.unwrap_err();
    assert_conflict(&e, "provider_exists");
    let mut bad = dup.clone();
    bad.person = Some(key(city.people_a[0].0, city.people_a[0].1));
    bad.capacity = 0;
    assert_eq!(
        list_provider(&city, bad).await.unwrap_err().field(),
        Some("capacity")
    );
    let mut bad = dup.clone();
    bad.person = Some(key(city.people_a[0].0, city.people_a[0].1));
    bad.windows = vec!["周八 9:00-10:00".into()];
    assert_eq!(
        list_provider(&city, bad).await.unwrap_err().field(),
        Some("windows")
    );
    // A grid B worker cannot list grid A's volunteers.
    let workerb = city.caller("workerb").await;
    let list = city
        .app
        .services()
        .providers(&workerb, None, None, PageRequest::default())
        .await
        .unwrap();
    assert!(
        list.items.iter().all(|p| p.name != "李四"),
        "{:?}",
        list.items
    );
    assert_eq!(city.count("providers").await, 2);
}

/// The test city with its files stored in a fresh folder, kept as long as the folder lives.
async fn storing_files() -> (TestCity, tempfile::TempDir) {
    let city = TestCity::new().await;
    let dir = tempfile::tempdir().unwrap();
    city.app
        .set_files(yinling_app::kernel::files::FileStore::local(dir.path()).unwrap());
    (city, dir)
}

/// A tiny file that starts as a PNG does.
fn png() -> Vec<u8> {
    b"\x89PNG\r\n\x1a\n0000".to_vec()
}

/// Files under a folder, however deep.
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() { files_under(&path) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn completion_photos_are_stored_only_for_whoever_may_complete_the_order() {
    let (city, dir) = storing_files().await;
    let s = city.add_services().await;
    let resident = city.caller("resident").await;
    let vola = city.caller("vola").await;
    let volb = city.caller("volb").await;
    let worker = city.caller("workera").await;
    let county = city.county.county_code;
    let png = png();
    let id = placed(&city, &resident, s.item.id.get()).await;

    // Open, not yet accepted: nobody may complete it.
    let e = upload(&city, &vola, id, png.clone()).await.unwrap_err();
    assert!(matches!(e, AppError::Conflict { .. }), "{e:?}");
    start(&city, &vola, id).await;
    // In service: still not the grid worker, the resident or another grid's volunteer.
    for (who, caller) in [("worker", &worker), ("resident", &resident)] {
        let e = upload(&city, caller, id, png.clone()).await.unwrap_err();
        assert!(matches!(e, AppError::Forbidden { .. }), "{who}: {e:?}");
    }
    let e = upload(&city, &volb, id, png.clone()).await.unwrap_err();
    assert_not_found(&e);
    let e = upload(&city, &vola, id, b"<html>".to_vec())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unsupported_file");
    assert_eq!(files_under(dir.path()), 0, "nothing stored when refused");

    // The volunteer serving it stores one and completes with it.
    let key = upload(&city, &vola, id, png.clone()).await.unwrap();
    assert!(key.starts_with(&format!("orders/{county}/{id}/")), "{key}");
    assert_eq!(files_under(dir.path()), 1);
    let done = with_photo(&key);
    let v = city
        .app
        .orders()
        .step(
            &vola,
            yinling_app::testing::key(county, id),
            OrderAction::Complete,
            done,
        )
        .await
        .unwrap();
    assert_eq!(v.order.photo_key.as_deref(), Some(key.as_str()));
    assert_eq!(city.app.files().get(&key).await.unwrap().0, png);
    // Completed: no more photos.
    let e = upload(&city, &vola, id, png).await.unwrap_err();
    assert!(matches!(e, AppError::Conflict { .. }), "{e:?}");
    assert_eq!(files_under(dir.path()), 1);
}

async fn new_unit(
    city: &TestCity,
    parent: &yinling_store::org::OrgUnitRow,
    kind: yinling_domain::org::OrgKind,
    name: &str,
) -> yinling_store::org::OrgUnitRow {
    city.app
        .org()
        .create_unit(
            &city.system,
            yinling_domain::ids::Key::new(parent.county_code, parent.id),
            yinling_app::testing::unit(kind, name),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn the_resource_list_form_offers_units_and_areas_in_scope() {
    use yinling_app::services::PersonListing;
    use yinling_domain::{org::OrgKind, service::ProviderKind};
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let team = new_unit(
        &city,
        &city.community,
        OrgKind::VolunteerTeam,
        "东门社区志愿服务队",
    )
    .await;
    new_unit(&city, &city.branch, OrgKind::Merchant, "阳光小区便民超市").await;
    let west = new_unit(
        &city,
        &city.street,
        OrgKind::CommunityCommittee,
        "西门社区党委",
    )
    .await;
    new_unit(&city, &west, OrgKind::VolunteerTeam, "西门社区志愿服务队").await;
    let secretary = city.caller("secretary").await;
    let worker = city.caller("workera").await;

    // The community secretary is offered the community's team and merchant (in tree order:
    // the merchant lies under the compound), not 西门's.
    let units = city
        .app
        .services()
        .provider_unit_choices(&secretary)
        .await
        .unwrap();
    let offered: Vec<(&str, ProviderKind)> =
        units.iter().map(|u| (u.name.as_str(), u.kind)).collect();
    assert_eq!(
        offered,
        [
            ("阳光小区便民超市", ProviderKind::Partner),
            ("东门社区志愿服务队", ProviderKind::Team),
        ]
    );
    let areas = city
        .app
        .services()
        .area_choices(&secretary, None)
        .await
        .unwrap();
    let tree: Vec<(&str, i64)> = areas
        .areas
        .iter()
        .map(|a| (a.name.as_str(), a.level))
        .collect();
    assert_eq!(
        tree,
        [
            ("东门社区党委", 0),
            ("阳光小区党支部", 1),
            ("阳光小区第1网格党小组", 2),
            ("阳光小区第2网格党小组", 2),
        ]
    );
    assert!(!areas.coarse);
    // A grid worker manages no resource list: nothing offered.
    assert!(
        city.app
            .services()
            .provider_unit_choices(&worker)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        city.app
            .services()
            .area_choices(&worker, None)
            .await
            .unwrap()
            .areas
            .is_empty()
    );

    // A team naming no area serves the community it belongs to, and is offered no more.
    let mut input = ProviderInput::volunteer(None, &["助餐送餐"], vec![], 5);
    input.kind = ProviderKind::Team;
    input.unit = Some(key(team.county_code, team.id));
    let listed = city
        .app
        .services()
        .create_provider(&secretary, input)
        .await
        .unwrap();
    assert_eq!(listed.areas, std::slice::from_ref(&city.community.path));
    assert_eq!(listed.name, "东门社区志愿服务队");
    let units = city
        .app
        .services()
        .provider_unit_choices(&secretary)
        .await
        .unwrap();
    assert!(units.iter().all(|u| u.id != team.id.get()), "{units:?}");

    // Who may add or change a person on the list, for the links on their file.
    let listing = |caller, person: (i64, i64)| {
        city.app
            .services()
            .person_listing(caller, person_key(person))
    };
    assert_eq!(
        listing(&secretary, city.people_a[1]).await.unwrap(),
        PersonListing::Listed(key(city.county.county_code, s.vol_a))
    );
    assert_eq!(
        listing(&secretary, city.people_a[0]).await.unwrap(),
        PersonListing::Unlisted
    );
    assert_eq!(
        listing(&worker, city.people_a[0]).await.unwrap(),
        PersonListing::NotManaged
    );
    assert_forbidden(
        city.app
            .services()
            .provider_to_edit(&worker, key(city.county.county_code, s.vol_a))
            .await,
    );
    assert!(
        city.app
            .services()
            .provider_to_edit(&secretary, key(city.county.county_code, s.vol_a))
            .await
            .is_ok()
    );

    // Past 200 areas grids, compounds and central households are left out, except the
    // ones a provider already serves.
    let county = city.county.county_code;
    let mut tx = city.app.store().begin().await.unwrap();
    let ids = yinling_store::kernel::ids::allocate(
        &mut tx.exec(),
        yinling_store::kernel::ids::Seq::OrgUnits,
        200,
    )
    .await
    .unwrap();
    let households: Vec<yinling_store::org::NewOrgUnit> = ids
        .iter()
        .map(|id| yinling_store::org::NewOrgUnit {
            county_code: county,
            id: yinling_domain::ids::UnitId(*id),
            parent_county_code: Some(county),
            parent_id: Some(city.grid_a.id),
            kind: OrgKind::CentralHousehold,
            name: format!("党员中心户{id}"),
            code: format!("h{id}"),
            path: format!("{}h{id}/", city.grid_a.path),
            depth: city.grid_a.depth + 1,
            region_code: None,
            address: None,
            lat: None,
            lng: None,
            synthetic: true,
            now: 1,
        })
        .collect();
    yinling_store::org::insert_many(&mut tx.exec(), &households)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let vol_b = city
        .app
        .services()
        .provider(&secretary, key(county, s.vol_b))
        .await
        .unwrap();
    let areas = city
        .app
        .services()
        .area_choices(&secretary, Some(&vol_b))
        .await
        .unwrap();
    assert!(areas.coarse);
    let names: Vec<&str> = areas.areas.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["东门社区党委", "阳光小区第2网格党小组"]);
}

// ==== Issue 9: nobody serves their own order; every stored reference is checked; time-bank
// charges are bounded, confirmed and disputable; capacity holds under concurrent dispatch ====

/// How many audit events of an action there are.
async fn audited(city: &TestCity, action: &str) -> i64 {
    city.app
        .store()
        .read()
        .scalar::<i64>(yinling_store::q!(
            "SELECT COUNT(*) FROM audit_events WHERE action = $1",
            action
        ))
        .await
        .unwrap()
}

/// An account for a fixture person.
async fn account(
    city: &TestCity,
    username: &str,
    role: yinling_domain::role::Role,
    unit: &yinling_store::org::OrgUnitRow,
    person: (i64, i64),
) -> yinling_app::Caller {
    city.app
        .accounts()
        .create(
            &city.system,
            yinling_app::accounts::NewAccountInput {
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

fn forbidden_with(e: &AppError, text: &str) -> bool {
    matches!(e, AppError::Forbidden { .. }) && e.to_string().contains(text)
}

#[tokio::test]
async fn a_volunteer_never_serves_an_order_placed_by_or_for_themselves_or_their_household() {
    use yinling_domain::{org::OrgKind, role::Role, service::ProviderKind};
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let county = city.county.county_code;
    let (zhang, li, wang) = (city.people_a[0], city.people_a[1], city.people_a[2]);
    let resident = city.caller("resident").await;
    let worker = city.caller("workera").await;
    let vola = city.caller("vola").await;
    // 王五 volunteers too, and works as a grid worker: he places orders for residents.
    let wang_p = list_provider(&city, community_cook(&city, Some(wang), 5))
        .await
        .unwrap()
        .id;
    let wang_gw = account(&city, "wanggw", Role::GridWorker, &city.grid_a, wang).await;
    // A team whose member is 李四 (an account holding a role on the team's unit).
    let team_unit = new_unit(&city, &city.community, OrgKind::VolunteerTeam, "东门助餐队").await;
    let mut team = community_cook(&city, None, 5);
    team.kind = ProviderKind::Team;
    team.unit = Some(key(team_unit.county_code, team_unit.id));
    let team_p = list_provider(&city, team).await.unwrap().id;
    account(&city, "teamli", Role::Volunteer, &team_unit, li).await;
    let refused_before = audited(&city, "order.refused").await;

    // Placed BY 王五 for 张三丰: 王五's own provider is never a candidate, cannot be sent
    // it, and cannot accept it.
    let by_wang = place(&city, &wang_gw, order_for(s.item.id.get(), Some(zhang)))
        .await
        .unwrap()
        .order
        .id;
    let ids = candidate_ids(&city, &worker, by_wang, 10).await;
    assert!(
        ids.contains(&s.vol_a) && ids.contains(&team_p.get()),
        "{ids:?}"
    );
    assert!(!ids.contains(&wang_p.get()), "{ids:?}");
    let named = DispatchInput {
        provider_id: Some(ProviderId(wang_p.get())),
        note: None,
    };
    let e = city
        .app
        .orders()
        .dispatch(&worker, key(county, by_wang), named)
        .await
        .unwrap_err();
    assert!(forbidden_with(&e, "同户家人"), "{e:?}");
    let e = act(&city, &wang_gw, by_wang, OrderAction::Accept, step())
        .await
        .unwrap_err();
    assert!(forbidden_with(&e, "不能接自己或同户家人的订单"), "{e:?}");
    // 李四 serves it; and a second order of 张三丰's, which he accepts and starts.
    start(&city, &vola, by_wang).await;
    let started = placed(&city, &resident, s.item.id.get()).await;
    start(&city, &vola, started).await;

    // Now 张三丰 and 李四 register as one household: 李四 may complete neither of the
    // orders for 张三丰 he had started, and no award is owed for them.
    city.add_shop().await;
    for id in [started, by_wang.get()] {
        let e = act(&city, &vola, id, OrderAction::Complete, step())
            .await
            .unwrap_err();
        assert!(forbidden_with(&e, "同户家人"), "{e:?}");
    }
    assert_eq!(city.count("award_entitlements").await, 0);
    assert_eq!(
        order_detail(&city, &vola, started)
            .await
            .unwrap()
            .view
            .order
            .state,
        OrderState::InService
    );

    // Placed FOR 张三丰 by himself: neither 李四 nor the team he belongs to is a candidate;
    // one click goes to 王五; 李四 cannot be sent it nor accept it, and is not offered 接单.
    let own = placed(&city, &resident, s.item.id.get()).await;
    let ids = candidate_ids(&city, &worker, own, 10).await;
    assert_eq!(ids, vec![wang_p.get()]);
    for pid in [s.vol_a, team_p.get()] {
        let e = city
            .app
            .orders()
            .dispatch(
                &worker,
                key(county, own),
                DispatchInput {
                    provider_id: Some(ProviderId(pid)),
                    note: None,
                },
            )
            .await
            .unwrap_err();
        assert_forbidden(&e);
    }
    let detail = order_detail(&city, &vola, own).await.unwrap();
    assert!(!detail.actions.contains(&"accept"), "{:?}", detail.actions);
    let e = act(&city, &vola, own, OrderAction::Accept, step())
        .await
        .unwrap_err();
    assert!(forbidden_with(&e, "不能接自己或同户家人的订单"), "{e:?}");
    let d = dispatch_best(&city, &worker, own).await.unwrap();
    assert_eq!(d.order.provider_id, None);
    let offers = order_detail(&city, &worker, own).await.unwrap().offers;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].provider_id, ProviderId(wang_p.get()));

    // Batch dispatch leaves 李四 and his team out of his household's orders.
    let more: Vec<i64> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(placed(&city, &resident, s.item.id.get()).await);
        }
        v
    };
    let secretary = city.caller("secretary").await;
    batch_in_community(&city, &secretary).await.unwrap();
    for id in more {
        let offers = order_detail(&city, &worker, id).await.unwrap().offers;
        assert!(
            offers.iter().all(|o| o.provider_id != ProviderId(s.vol_a)
                && o.provider_id != ProviderId(team_p.get())),
            "{offers:?}"
        );
    }
    // Every refusal is in the audit chain: dispatch ×3, accept ×2, complete ×2.
    assert_eq!(audited(&city, "order.refused").await - refused_before, 7);
    let (_, problems) = city.app.audit().verify().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn an_order_names_only_a_need_of_its_own_resident() {
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let county = city.county.county_code;
    let resident = city.caller("resident").await;
    let worker = city.caller("workera").await;
    let zhang_need = recorded_need(&city, city.people_a[0]).await;
    let wang_need = recorded_need(&city, city.people_a[2]).await;
    let zhao_need = recorded_need(&city, city.people_b[0]).await;
    let with_need = |person, need_id| {
        let mut o = order_for(s.item.id.get(), person);
        o.need_id = Some(need_id);
        o
    };
    // The resident's own need: fine.
    let o = place(&city, &resident, with_need(None, NeedId(zhang_need)))
        .await
        .unwrap();
    assert_eq!(o.order.need_id, Some(NeedId(zhang_need)));
    // Someone else's need looks missing to the resident; a need that does not exist too.
    for n in [wang_need, zhao_need, 999_999] {
        let e = place(&city, &resident, with_need(None, NeedId(n)))
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound { .. }), "{n}: {e:?}");
    }
    // The grid worker placing for 张三丰: 王五's need (in scope) is refused as another
    // resident's; grid B's need is out of scope and looks missing.
    let e = place(
        &city,
        &worker,
        with_need(Some(city.people_a[0]), NeedId(wang_need)),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "need_other_person");
    assert_eq!(e.field(), Some("need_id"));
    let e = place(
        &city,
        &worker,
        with_need(Some(city.people_a[0]), NeedId(zhao_need)),
    )
    .await
    .unwrap_err();
    assert_not_found(&e);
    let ok = place(
        &city,
        &worker,
        with_need(Some(city.people_a[2]), NeedId(wang_need)),
    )
    .await
    .unwrap();
    assert_eq!(ok.order.need_id, Some(NeedId(wang_need)));
    assert_eq!(city.count("orders").await, 2);
    // A provider that does not exist (or is in another county) is not dispatched to.
    let e = city
        .app
        .orders()
        .dispatch(
            &worker,
            key(county, ok.order.id),
            DispatchInput {
                provider_id: Some(ProviderId(999_999)),
                note: None,
            },
        )
        .await
        .unwrap_err();
    assert_not_found(&e);
}

#[tokio::test]
async fn a_completion_names_only_an_unused_photo_of_its_own_order_and_unused_ones_are_purged() {
    let (city, dir) = storing_files().await;
    let s = city.add_services().await;
    let resident = city.caller("resident").await;
    let vola = city.caller("vola").await;
    let county = city.county.county_code;
    let png = png();
    let (one, two) = (
        placed(&city, &resident, s.item.id.get()).await,
        placed(&city, &resident, s.item.id.get()).await,
    );
    for id in [one, two] {
        start(&city, &vola, id).await;
    }
    let key1 = upload(&city, &vola, one, png.clone()).await.unwrap();
    let complete = |id, key: &str| {
        let st = with_photo(key);
        let (app, vola) = (city.app.clone(), vola.clone());
        async move {
            app.orders()
                .step(
                    &vola,
                    yinling_app::testing::key(county, id),
                    OrderAction::Complete,
                    st,
                )
                .await
        }
    };
    // Order one's photo for order two; a key under order two's folder that was never
    // uploaded: both refused, order two still in service.
    for key in [key1.clone(), format!("orders/{county}/{two}/00ff.png")] {
        let e = complete(two, &key).await.unwrap_err();
        assert_eq!(e.code(), "invalid_photo", "{key}");
    }
    assert_eq!(
        order_detail(&city, &vola, two)
            .await
            .unwrap()
            .view
            .order
            .state,
        OrderState::InService
    );
    complete(one, &key1).await.unwrap();
    // Used once: not again, not elsewhere.
    let e = complete(two, &key1).await.unwrap_err();
    assert_eq!(e.code(), "invalid_photo");
    let key2 = upload(&city, &vola, two, png.clone()).await.unwrap();
    let spare = upload(&city, &vola, two, png.clone()).await.unwrap();
    complete(two, &key2).await.unwrap();
    assert_eq!(files_under(dir.path()), 3);
    assert_eq!(city.count("order_photos").await, 3);

    // The unused photo stays through its day of grace, then goes, file and row; once.
    city.clock.advance(23 * 60 * MINUTE);
    assert_eq!(purge(&city).await.unwrap(), 0);
    city.clock.advance(2 * 60 * MINUTE);
    assert_eq!(purge(&city).await.unwrap(), 1);
    assert_eq!(purge(&city).await.unwrap(), 0);
    assert_eq!(files_under(dir.path()), 2);
    assert_eq!(city.count("order_photos").await, 2);
    assert_not_found(city.app.files().get(&spare).await);
    for key in [key1, key2] {
        assert_eq!(city.app.files().get(&key).await.unwrap().0, png);
    }
}

/// 张三丰's order served by 李四 over `minutes` minutes (the item lasts 30).
async fn served_for(city: &TestCity, item: i64, minutes: i64) -> i64 {
    let resident = city.caller("resident").await;
    let vola = city.caller("vola").await;
    let id = placed(city, &resident, item).await;
    start(city, &vola, id).await;
    city.clock.advance(minutes * MINUTE);
    act(city, &vola, id, OrderAction::Complete, step())
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn time_bank_charges_are_capped_shown_before_they_are_taken_and_disputable() {
    use yinling_app::ledger::{Holder, Posting};
    use yinling_domain::ledger::{Reason, SourceKind, Unit};
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let county = city.county.county_code;
    let zhang = city.people_a[0];
    let resident = city.caller("resident").await;
    let worker = city.caller("workera").await;
    let workerb = city.caller("workerb").await;
    let secretary = city.caller("secretary").await;
    city.app
        .ledger()
        .post(Posting {
            unit: Unit::Minutes,
            debit: Holder::Pool {
                county_code: county_code(county),
            },
            credit: Holder::person(person_key((zhang.0, zhang.1))),
            amount: 600,
            reason: Reason::Earn,
            source_kind: SourceKind::Activity,
            source_ref: "seed".into(),
            memo: String::new(),
            key: "seed-zhang-minutes".into(),
            reverses: None,
            actor: yinling_app::ledger::Actor::system("test"),
            daily_cap: None,
        })
        .await
        .unwrap();
    let minutes = |city: &TestCity| {
        let app = city.app.clone();
        async move {
            app.ledger()
                .balances(&yinling_app::Caller::system("t"), person_key(zhang))
                .await
                .unwrap()
                .minutes
        }
    };

    // 42 minutes recorded, the item lasts 30: 30 are charged, shown in words first.
    let id = served_for(&city, s.item.id.get(), 42).await;
    let charge = hours_charge(&city, &resident, id).await.unwrap();
    assert_eq!(
        (charge.recorded_minutes, charge.cap_minutes, charge.minutes),
        (42, 30, 30)
    );
    assert_eq!(charge.minutes_text, "30分钟");
    assert!(charge.paid.is_none() && charge.enough);
    // Paying an amount other than the one shown moves nothing.
    let e = withdraw(&city, &resident, id, 42).await.unwrap_err();
    assert_eq!(e.code(), "amount_not_confirmed");
    assert_eq!(minutes(&city).await, 600);
    let paid = withdraw(&city, &resident, id, 30).await.unwrap();
    assert_eq!(paid.transfer.amount, 30);
    assert_eq!(minutes(&city).await, 570);

    // Disputes: only of a payment made, once, audited; seen by staff over the order only.
    let e = raise_dispute(&city, &resident, id, " ").await.unwrap_err();
    assert_eq!(e.field(), Some("reason"));
    let d = raise_dispute(&city, &resident, id, "服务时长不对")
        .await
        .unwrap();
    assert_eq!((d.status.as_str(), d.minutes), ("open", 30));
    let e = raise_dispute(&city, &resident, id, "再提一次")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "already_disputed");
    assert_eq!(audited(&city, "timebank.dispute").await, 1);
    assert_eq!(
        city.app
            .time_bank()
            .disputes(&worker, true)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        city.app
            .time_bank()
            .disputes(&workerb, true)
            .await
            .unwrap()
            .is_empty()
    );
    let uphold = "核实属实";
    for (who, caller) in [("grid B", &workerb), ("the resident", &resident)] {
        let e = decide_dispute(&city, caller, id, true, uphold)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound { .. }), "{who}: {e:?}");
    }
    // Upheld by the grid worker: the charge is reversed through the ledger, once.
    let decided = decide_dispute(&city, &worker, id, true, uphold)
        .await
        .unwrap();
    assert_eq!(decided.status, HoursDisputeStatus::Upheld);
    assert_eq!(minutes(&city).await, 600);
    let reversal = yinling_store::ledger::transfer(
        &mut city.app.store().read(),
        key(county, decided.reversal_id.unwrap().get()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(reversal.reverses, Some(paid.transfer.id));
    let e = decide_dispute(&city, &secretary, id, true, uphold)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "already_decided");
    let e = city
        .app
        .ledger()
        .reverse_transfer(
            &city.caller("countyadmin").await,
            yinling_domain::ids::Key::new(county_code(county), paid.transfer.id),
            "再冲正一次",
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "already_reversed");
    assert_eq!(audited(&city, "timebank.dispute.uphold").await, 1);

    // Nobody decides their own dispute: raised by the grid worker for 张三丰, the grid
    // worker may not decide it (refused and audited); the secretary rejects it.
    let id2 = served_for(&city, s.item.id.get(), 10).await;
    let c2 = hours_charge(&city, &worker, id2).await.unwrap();
    assert_eq!(c2.minutes, 10);
    withdraw(&city, &resident, id2, 10).await.unwrap();
    raise_dispute(&city, &worker, id2, "老人说没有接受这次服务")
        .await
        .unwrap();
    let view = city
        .app
        .time_bank()
        .dispute(&worker, key(county, id2))
        .await
        .unwrap()
        .unwrap();
    assert!(!view.may_decide);
    let e = decide_dispute(&city, &worker, id2, true, uphold)
        .await
        .unwrap_err();
    assert!(forbidden_with(&e, "不能处理自己提出的"), "{e:?}");
    assert_eq!(audited(&city, "order.refused").await, 1);
    let rejected = decide_dispute(&city, &secretary, id2, false, "服务记录完整")
        .await
        .unwrap();
    assert_eq!(rejected.status, HoursDisputeStatus::Rejected);
    assert_eq!(minutes(&city).await, 590);
    let (findings, _) = city.app.ledger().verify().await.unwrap();
    assert!(findings.is_empty(), "{findings:?}");
}

/// Many one-click (and named) dispatches of different orders at once, to the one volunteer
/// who can take them: exactly their capacity is dispatched to them, on either backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_dispatches_never_push_a_provider_over_capacity() {
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let county = city.county.county_code;
    let resident = city.caller("resident").await;
    let worker = city.caller("workera").await;
    let vola = city.caller("vola").await;
    const N: usize = 8;
    const CAPACITY: usize = 3; // 李四's, from the fixture
    let open_offers = |city: &TestCity| {
        let store = city.app.store().clone();
        async move {
            store
                .read()
                .scalar::<i64>(yinling_store::q!(
                    "SELECT COUNT(*) FROM order_offers WHERE county_code = $1 AND provider_id = $2 AND status = 'open'",
                    county,
                    s.vol_a
                ))
                .await
                .unwrap()
        }
    };
    for named in [false, true] {
        let mut ids = Vec::new();
        for _ in 0..N {
            ids.push(placed(&city, &resident, s.item.id.get()).await);
        }
        let dispatches = ids.into_iter().map(|id| {
            let (app, worker) = (city.app.clone(), worker.clone());
            let input = DispatchInput {
                provider_id: named.then_some(ProviderId(s.vol_a)),
                note: None,
            };
            async move { app.orders().dispatch(&worker, key(county, id), input).await }
        });
        let mut won = 0;
        for result in race(dispatches).await {
            match result {
                Ok(v) => {
                    won += 1;
                    assert_eq!(v.order.state, OrderState::Dispatched);
                }
                Err(e) => assert!(
                    ["no_candidate", "provider_full", "provider_cannot_take"].contains(&e.code()),
                    "{e:?}"
                ),
            }
        }
        assert_eq!(won, CAPACITY, "named: {named}");
        assert_eq!(open_offers(&city).await, CAPACITY as i64);
        // Make room again for the next round.
        for v in city
            .app
            .orders()
            .provider_orders(&vola, true)
            .await
            .unwrap()
        {
            act(&city, &vola, v.order.id, OrderAction::Decline, step())
                .await
                .unwrap();
        }
        assert_eq!(open_offers(&city).await, 0);
    }
    // One-click dispatches racing a batch dispatch of the same community.
    for _ in 0..N {
        placed(&city, &resident, s.item.id.get()).await;
    }
    let awaiting = city
        .app
        .orders()
        .list(
            &worker,
            OrderFilter {
                states: vec![OrderState::Submitted],
                ..OrderFilter::default()
            },
            PageRequest::new(None, Some(100)),
        )
        .await
        .unwrap();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(N + 1));
    let secretary = city.caller("secretary").await;
    let (app, b) = (city.app.clone(), barrier.clone());
    let community = (city.community.county_code.as_i64(), city.community.id.get());
    let batch = tokio::spawn(async move {
        b.wait().await;
        app.orders()
            .batch_dispatch(&secretary, key(community.0, community.1))
            .await
    });
    let mut tasks = Vec::new();
    for v in awaiting.items.iter().take(N) {
        let (app, worker, barrier, id) = (
            city.app.clone(),
            worker.clone(),
            barrier.clone(),
            v.order.id,
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            app.orders()
                .dispatch(&worker, key(county, id), DispatchInput::default())
                .await
        }));
    }
    batch.await.unwrap().unwrap();
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            assert!(
                ["no_candidate", "order_changed", "illegal_transition"].contains(&e.code()),
                "{e:?}"
            );
        }
    }
    assert_eq!(open_offers(&city).await, CAPACITY as i64);
}

/// At most five unused photos per order, even when a phone sends twelve at once (the count
/// and the new row are written under the order's lock): exactly five are kept, the rest are
/// refused with the reason, and nothing of theirs is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_uploads_keep_at_most_five_unused_photos() {
    let (city, _dir) = storing_files().await;
    let s = city.add_services().await;
    let resident = city.caller("resident").await;
    let vola = city.caller("vola").await;
    let county = city.county.county_code;
    let id = placed(&city, &resident, s.item.id.get()).await;
    start(&city, &vola, id).await;
    let uploads = (0..12u8).map(|n| {
        let (app, vola) = (city.app.clone(), vola.clone());
        let mut png = png();
        png.push(n);
        async move { app.orders().upload_photo(&vola, key(county, id), png).await }
    });
    let mut kept = 0;
    for result in race(uploads).await {
        match result {
            Ok(_) => kept += 1,
            Err(e) => assert_eq!(e.code(), "too_many_photos", "{e:?}"),
        }
    }
    assert_eq!(kept, 5);
    assert_eq!(city.count("order_photos").await, 5);
}
