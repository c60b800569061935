//! The jobs runner, on whichever backend the test database is (SQLite by default,
//! PostgreSQL with YINLING_TEST_DATABASE_URL): each run happens once however many runners
//! race, a dead runner's job is taken again when its lease passes, a failing job backs off,
//! 立即运行 makes a job due, one bad item is set aside, and the moved loops still do their
//! work. Time moves only with the test clock; nothing sleeps.

use std::sync::atomic::{AtomicUsize, Ordering};
use yinling_app::testing::person_key;
use yinling_app::testing::{assert_forbidden, assert_not_found};

use yinling_app::{
    App, AppError, Settings, Vault,
    jobs::{JobDef, JobFuture, Ran, Report, Runner, registry},
    kernel::clock::{MINUTE, SECOND},
    testing::TestCity,
};
use yinling_domain::job::JobOutcome;
use yinling_store::{
    Store, StoreOptions,
    jobs::{self as store_jobs, Finish},
    kernel::ids::{self, Seq},
    orders::EntitlementRow,
};

/// A second application process on the test city's database: its own pools, the same clock.
async fn second_app(city: &TestCity) -> App {
    let store = Store::open(&StoreOptions::new(&city.db.url))
        .await
        .expect("second store");
    App::new(
        store,
        Vault::new(&[42u8; 32]),
        Settings::default(),
        city.clock.clone(),
    )
}

fn names(ran: &[Ran]) -> Vec<&'static str> {
    let mut n: Vec<&'static str> = ran.iter().map(|r| r.name).collect();
    n.sort_unstable();
    n
}

async fn row(city: &TestCity, name: &str) -> store_jobs::JobRow {
    store_jobs::get(&mut city.app.store().read(), name)
        .await
        .unwrap()
        .expect("job row")
}

/// A job that counts its runs in `$counter` and yields while it runs, so a racing runner
/// gets to try to claim it meanwhile.
macro_rules! counting_job {
    ($def:ident, $counter:ident, $name:literal) => {
        static $counter: AtomicUsize = AtomicUsize::new(0);
        const $def: JobDef = JobDef {
            name: $name,
            label: "计数",
            summary: "测试用",
            interval: MINUTE,
            run: {
                fn run(_app: &App) -> JobFuture<'_> {
                    Box::pin(async {
                        $counter.fetch_add(1, Ordering::SeqCst);
                        for _ in 0..50 {
                            tokio::task::yield_now().await;
                        }
                        Ok(Report::done(1))
                    })
                }
                run
            },
        };
    };
}

counting_job!(RACE_A, RACE_A_RUNS, "test_race_a");
counting_job!(RACE_B, RACE_B_RUNS, "test_race_b");
counting_job!(RACE_C, RACE_C_RUNS, "test_race_c");

/// Two server processes (two App handles with their own pools on one database) run their
/// runners at the same moment, five rounds: every due job runs exactly once per round, by one
/// of them — the real jobs and three that count their runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_racing_run_each_job_once() {
    let city = TestCity::new().await;
    let other = second_app(&city).await;
    let jobs = || {
        let mut j = registry();
        j.extend([RACE_A, RACE_B, RACE_C]);
        j
    };
    let one = Runner::with_jobs(city.app.clone(), jobs());
    let two = Runner::with_jobs(other, jobs());
    assert_ne!(one.owner(), two.owner());
    let mut expected: Vec<&str> = jobs().iter().map(|j| j.name).collect();
    expected.sort_unstable();
    for round in 1..=5 {
        let (a, b) = tokio::join!(one.run_due(), two.run_due());
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut all = names(&a);
        all.extend(names(&b));
        all.sort_unstable();
        if round == 1 {
            // Every job is due at once when first registered.
            assert_eq!(all, expected, "round {round}: {a:?} {b:?}");
        } else {
            // After a minute only the jobs run every minute or more often are due.
            let due: Vec<&str> = expected
                .iter()
                .copied()
                .filter(|n| jobs().iter().any(|j| j.name == *n && j.interval <= MINUTE))
                .collect();
            assert_eq!(all, due, "round {round}: {a:?} {b:?}");
        }
        for counter in [&RACE_A_RUNS, &RACE_B_RUNS, &RACE_C_RUNS] {
            assert_eq!(counter.load(Ordering::SeqCst), round, "round {round}");
        }
        assert!(
            a.iter().chain(&b).all(|r| r.outcome == JobOutcome::Ok),
            "{a:?} {b:?}"
        );
        city.clock.advance(MINUTE);
    }
    assert_eq!(row(&city, "test_race_a").await.run_seq, 5);
    assert_eq!(row(&city, "claim_awards").await.run_seq, 5);
    assert_eq!(row(&city, "expire_points").await.run_seq, 1);
}

counting_job!(LEASED, LEASED_RUNS, "test_leased");

/// A runner that claimed a job and died leaves it leased: nobody runs it until the lease has
/// passed, then another runner does; the dead runner's late finish is not recorded.
#[tokio::test]
async fn a_dead_runners_job_is_taken_again_when_its_lease_passes() {
    let city = TestCity::new().await;
    let runner = Runner::with_jobs(city.app.clone(), vec![LEASED]).with_lease(2 * MINUTE);
    // The runner registers the job (due now) and runs it once.
    assert_eq!(names(&runner.run_due().await.unwrap()), ["test_leased"]);
    city.clock.advance(MINUTE);
    let now = city.app.now();
    let dead = store_jobs::claim(
        &mut city.app.store().write(),
        &["test_leased"],
        "dead-process",
        now,
        now + 2 * MINUTE,
    )
    .await
    .unwrap()
    .expect("due job claimed");
    assert!(runner.run_due().await.unwrap().is_empty());
    city.clock.advance(2 * MINUTE - 1);
    assert!(runner.run_due().await.unwrap().is_empty());
    assert_eq!(LEASED_RUNS.load(Ordering::SeqCst), 1);
    city.clock.advance(1);
    let ran = runner.run_due().await.unwrap();
    assert_eq!(names(&ran), ["test_leased"]);
    assert_eq!(LEASED_RUNS.load(Ordering::SeqCst), 2);
    let r = row(&city, "test_leased").await;
    assert_eq!((r.lease_owner, r.lease_until, r.run_seq), (None, None, 3));

    let late = store_jobs::finish(
        &mut city.app.store().write(),
        &dead,
        "dead-process",
        &Finish {
            started_at: now,
            finished_at: city.app.now(),
            duration_us: 1,
            next_due: now + 1,
            attempts: 0,
            outcome: JobOutcome::Ok,
            done: 9,
            set_aside: 0,
            set_aside_json: "[]",
            error: None,
        },
        50,
    )
    .await
    .unwrap();
    assert!(!late);
    let r = row(&city, "test_leased").await;
    assert_eq!(r.last_done, Some(1));
    assert_eq!(r.due_at, city.app.now() + MINUTE);
}

static FLAKY_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Fails its first three runs, then succeeds.
const FLAKY: JobDef = JobDef {
    name: "test_flaky",
    label: "不稳定",
    summary: "测试用",
    interval: MINUTE,
    run: flaky,
};

fn flaky(_app: &App) -> JobFuture<'_> {
    Box::pin(async {
        if FLAKY_RUNS.fetch_add(1, Ordering::SeqCst) < 3 {
            Err(AppError::conflict("test_failure", None, "故意失败"))
        } else {
            Ok(Report::done(2))
        }
    })
}

/// A failing job is tried again after 10 s, then 20 s, then 40 s (never later than its
/// interval); a success resets the count and schedules the next run an interval on. The
/// last error stays readable.
#[tokio::test]
async fn a_failing_job_backs_off_and_recovers() {
    let city = TestCity::new().await;
    let runner = Runner::with_jobs(city.app.clone(), vec![FLAKY]);
    let mut at = city.app.now();
    for (attempt, wait) in [(1, 10), (2, 20), (3, 40)] {
        let ran = runner.run_due().await.unwrap();
        assert_eq!(ran.len(), 1, "attempt {attempt}");
        assert_eq!(ran[0].outcome, JobOutcome::Failed);
        assert!(ran[0].error.as_deref().unwrap().contains("故意失败"));
        assert_eq!(ran[0].next_due, at + wait * SECOND);
        let r = row(&city, "test_flaky").await;
        assert_eq!((r.attempts, r.due_at), (attempt, at + wait * SECOND));
        assert_eq!(r.last_outcome, Some(JobOutcome::Failed));
        // Not a moment before the back-off has passed.
        city.clock.advance(wait * SECOND - 1);
        assert!(
            runner.run_due().await.unwrap().is_empty(),
            "attempt {attempt}"
        );
        city.clock.advance(1);
        at += wait * SECOND;
    }
    let ran = runner.run_due().await.unwrap();
    assert_eq!((ran[0].outcome, ran[0].done), (JobOutcome::Ok, 2));
    let r = row(&city, "test_flaky").await;
    assert_eq!(r.attempts, 0);
    assert_eq!(r.due_at, at + MINUTE);
    assert!(r.last_error.unwrap().contains("test_failure"));
    assert_eq!(r.last_failed_at, Some(at - 40 * SECOND));
    assert_eq!(FLAKY_RUNS.load(Ordering::SeqCst), 4);
    // The failures are listed among the recent runs.
    let runs = store_jobs::recent_runs(&mut city.app.store().read(), 10)
        .await
        .unwrap();
    let outcomes: Vec<&str> = runs.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["ok", "failed", "failed", "failed"]);
}

/// 立即运行 from a city administrator makes a job due now, is audited, and is kept when it
/// arrives while the job is running; anyone else is refused, an unknown job is not found.
#[tokio::test]
async fn run_now_makes_a_job_due_and_only_a_city_administrator_may() {
    let city = TestCity::new().await;
    let runner = Runner::new(city.app.clone());
    assert_eq!(runner.run_due().await.unwrap().len(), registry().len());
    assert!(runner.run_due().await.unwrap().is_empty());

    let admin = city.caller("cityadmin").await;
    for who in ["countyadmin", "secretary", "workera", "resident"] {
        let caller = city.caller(who).await;
        let e = city
            .app
            .jobs()
            .run_now(&caller, "sweep_sessions")
            .await
            .unwrap_err();
        assert_forbidden(&e);
        assert!(city.app.jobs().overview(&caller).await.is_err(), "{who}");
    }
    let e = city.app.jobs().run_now(&admin, "no_such_job").await;
    assert_not_found(&e);
    assert!(runner.run_due().await.unwrap().is_empty());

    city.app
        .jobs()
        .run_now(&admin, "sweep_sessions")
        .await
        .unwrap();
    let r = row(&city, "sweep_sessions").await;
    assert_eq!(
        (r.due_at, r.requested_by.as_deref()),
        (city.app.now(), Some("cityadmin"))
    );
    let view = city.app.jobs().overview(&admin).await.unwrap();
    let sweep = view
        .jobs
        .iter()
        .find(|j| j.name == "sweep_sessions")
        .unwrap();
    assert_eq!(sweep.requested_by.as_deref(), Some("cityadmin"));
    assert_eq!(names(&runner.run_due().await.unwrap()), ["sweep_sessions"]);
    assert_eq!(row(&city, "sweep_sessions").await.requested_by, None);
    assert!(runner.run_due().await.unwrap().is_empty());
    let audit = city
        .app
        .audit()
        .list(
            &admin,
            yinling_app::kernel::audit::AuditQuery {
                action: Some("job.run_now".into()),
                ..Default::default()
            },
            yinling_app::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entity_key.as_deref(), Some("sweep_sessions"));
    assert_eq!(audit[0].actor_name, "cityadmin");

    // Asked for while another runner holds the job: that run's finish keeps it due.
    let now = city.app.now();
    let held = store_jobs::claim(
        &mut city.app.store().write(),
        &["purge_photos"],
        "elsewhere",
        now,
        now + MINUTE,
    )
    .await
    .unwrap();
    assert!(held.is_none(), "purge_photos is not due yet");
    city.app
        .jobs()
        .run_now(&admin, "purge_photos")
        .await
        .unwrap();
    let held = store_jobs::claim(
        &mut city.app.store().write(),
        &["purge_photos"],
        "elsewhere",
        now,
        now + MINUTE,
    )
    .await
    .unwrap()
    .expect("due after 立即运行");
    city.app
        .jobs()
        .run_now(&admin, "purge_photos")
        .await
        .unwrap();
    let finish = Finish {
        started_at: now,
        finished_at: now,
        duration_us: 1,
        next_due: now + 10 * MINUTE,
        attempts: 0,
        outcome: JobOutcome::Ok,
        done: 0,
        set_aside: 0,
        set_aside_json: "[]",
        error: None,
    };
    assert!(
        store_jobs::finish(
            &mut city.app.store().write(),
            &held,
            "elsewhere",
            &finish,
            50
        )
        .await
        .unwrap()
    );
    assert_eq!(row(&city, "purge_photos").await.due_at, now);
    assert_eq!(names(&runner.run_due().await.unwrap()), ["purge_photos"]);
}

/// The award job through the runner: a completed order's award is paid once; an award the
/// ledger refuses (its person gone) is set aside with its reason, the others are paid, and
/// the run is recorded as partial with the item listed.
#[tokio::test]
async fn the_award_job_sets_a_bad_item_aside_and_pays_the_rest() {
    let city = TestCity::new().await;
    let c = city.county.county_code;
    let s = city.add_services().await;
    city.complete_an_order(&s).await;
    let id = ids::allocate(&mut city.app.store().write(), Seq::AwardEntitlements, 1)
        .await
        .unwrap()[0];
    let orphan = EntitlementRow {
        county_code: c.as_i64(),
        id,
        source_kind: "order".into(),
        source_id: 9_999,
        person_id: 987_654_321,
        points: 7,
        hours_minutes: 0,
        status: "pending".into(),
        created_at: city.app.now(),
    };
    assert!(
        yinling_store::orders::insert_entitlement(&mut city.app.store().write(), &orphan)
            .await
            .unwrap()
    );
    let claim_awards = registry()
        .into_iter()
        .filter(|j| j.name == "claim_awards")
        .collect();
    let runner = Runner::with_jobs(city.app.clone(), claim_awards);
    let ran = runner.run_due().await.unwrap();
    assert_eq!(ran.len(), 1);
    assert_eq!((ran[0].outcome, ran[0].done), (JobOutcome::Partial, 1));
    assert_eq!(ran[0].set_aside.len(), 1);
    assert_eq!(ran[0].set_aside[0].key, format!("奖励 {c}/{id}"));
    assert!(ran[0].set_aside[0].reason.contains("not_found"), "{ran:?}");
    let li = city.people_a[1];
    let bal = city
        .app
        .ledger()
        .balances(&city.system, person_key(li))
        .await
        .unwrap();
    assert_eq!((bal.points, bal.minutes), (10, 60));

    let admin = city.caller("cityadmin").await;
    let view = city.app.jobs().overview(&admin).await.unwrap();
    let job = view.jobs.iter().find(|j| j.name == "claim_awards").unwrap();
    assert_eq!(
        (job.last_outcome, job.last_done, job.last_set_aside),
        (Some(JobOutcome::Partial), 1, 1)
    );
    assert_eq!(view.runs.len(), 1);
    assert_eq!(view.runs[0].set_aside, ran[0].set_aside);

    // Ten seconds on, nothing is pending and nothing is paid twice.
    city.clock.advance(10 * SECOND);
    let ran = runner.run_due().await.unwrap();
    assert_eq!((ran[0].outcome, ran[0].done), (JobOutcome::Ok, 0));
    let bal = city
        .app
        .ledger()
        .balances(&city.system, person_key(li))
        .await
        .unwrap();
    assert_eq!((bal.points, bal.minutes), (10, 60));
}

/// The moved loops still work on the application's clock: an order nobody accepts within
/// its hour is escalated by the runner a minute later, and idle sessions are swept.
#[tokio::test]
async fn the_moved_loops_escalate_orders_and_sweep_sessions() {
    use yinling_app::orders::OrderInput;
    let city = TestCity::new().await;
    let s = city.add_services().await;
    let resident = city.caller("resident").await;
    city.app
        .orders()
        .place(
            &resident,
            OrderInput {
                item_id: yinling_domain::ids::ServiceItemId(s.item.id.get()),
                person: None,
                wanted_at: None,
                wanted_at_text: Some("2026-07-01 12:00".into()),
                description: None,
                urgency: None,
                address: None,
                need_id: None,
            },
        )
        .await
        .unwrap();
    let runner = Runner::new(city.app.clone());
    let done = |ran: &[Ran], name: &str| ran.iter().find(|r| r.name == name).map(|r| r.done);
    let ran = runner.run_due().await.unwrap();
    assert_eq!(done(&ran, "escalate_orders"), Some(0));
    assert_eq!(done(&ran, "sweep_sessions"), Some(0));
    // 59 minutes on, the order is not late yet; the resident's session, idle past the
    // 30-minute timeout, is swept.
    city.clock.advance(59 * MINUTE);
    let ran = runner.run_due().await.unwrap();
    assert_eq!(done(&ran, "escalate_orders"), Some(0));
    assert!(done(&ran, "sweep_sessions").unwrap() >= 1, "{ran:?}");
    city.clock.advance(MINUTE);
    let ran = runner.run_due().await.unwrap();
    assert_eq!(
        names(&ran),
        ["claim_awards", "escalate_orders", "expire_points"]
    );
    assert_eq!(done(&ran, "escalate_orders"), Some(1));
}

static LONG_STARTED: tokio::sync::Notify = tokio::sync::Notify::const_new();
static LONG_RELEASE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Runs until the test releases it.
const LONG: JobDef = JobDef {
    name: "test_long",
    label: "长任务",
    summary: "测试用",
    interval: MINUTE,
    run: long_run,
};

fn long_run(_app: &App) -> JobFuture<'_> {
    Box::pin(async {
        LONG_STARTED.notify_one();
        LONG_RELEASE.notified().await;
        Ok(Report::done(1))
    })
}

/// A job that runs longer than its lease keeps it: the runner renews the lease while the job
/// runs, so another runner does not take it over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_run_renews_its_lease() {
    let city = TestCity::new().await;
    let runner = Runner::with_jobs(city.app.clone(), vec![LONG]).with_lease(SECOND);
    let running = tokio::spawn(async move { runner.run_due().await });
    LONG_STARTED.notified().await;
    let r = row(&city, "test_long").await;
    let claimed_at = r.last_started_at.unwrap();
    assert_eq!(r.lease_until, Some(claimed_at + SECOND));
    // Ten seconds on by the application's clock the first lease has long passed; the
    // runner's renewal (every third of the lease) moves it on from the new now.
    city.clock.advance(10 * SECOND);
    let waiting = std::time::Instant::now();
    loop {
        let until = row(&city, "test_long").await.lease_until.unwrap();
        if until > city.app.now() {
            assert_eq!(until, city.app.now() + SECOND);
            break;
        }
        assert!(
            waiting.elapsed() < std::time::Duration::from_secs(10),
            "the lease was not renewed"
        );
        tokio::task::yield_now().await;
    }
    let other = Runner::with_jobs(second_app(&city).await, vec![LONG]);
    assert!(other.run_due().await.unwrap().is_empty());
    LONG_RELEASE.notify_one();
    let ran = running.await.unwrap().unwrap();
    assert_eq!(names(&ran), ["test_long"]);
    assert_eq!(ran[0].outcome, JobOutcome::Ok);
    let r = row(&city, "test_long").await;
    assert_eq!((r.run_seq, r.lease_owner), (1, None));
}
