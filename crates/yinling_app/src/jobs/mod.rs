//! The jobs runner: periodic work with its state in the database, so any number of server
//! processes run side by side and each run happens once.
//!
//! A job is a [`JobDef`] in its own file (name, Chinese label, interval, the function that
//! runs it), listed once in [`registry`]. A [`Runner`] claims a due job (a lease in the
//! job's row, see `yinling_store::jobs`), runs it with the application's clock, and records
//! how it ended: the next due time (the interval after a success; after a failure an
//! exponential back-off capped at the interval, see [`yinling_domain::job::retry_after`]),
//! failures in a row, the last error, the items it set aside, and figures for `/metrics`
//! (`yinling_job_runs_total`, `yinling_job_failures_total`, `yinling_job_items_total`,
//! `yinling_job_last_duration_seconds`, labelled by job). A job's run returns a [`Report`]:
//! what it did and which items it set aside with why, so one bad item never blocks the
//! rest. Every job must be idempotent: a run cut short by a crash is run again.
//!
//! `yinling serve` starts [`Runner::run_forever`]; tests call [`Runner::run_due`], which
//! runs what is due at the application clock's `now` and returns what ran.

mod claim_awards;
mod escalate_orders;
mod expire_points;
mod purge_photos;
mod sweep_sessions;

use std::{
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use serde::Serialize;
use yinling_domain::job::{JobOutcome, retry_after};
use yinling_store::{
    Micros,
    jobs::{self as store_jobs, Claim, Finish, JobRow},
    kernel::audit as store_audit,
};

use crate::{
    App, AppError, AppResult, Caller,
    kernel::audit::Event,
    kernel::clock::{MINUTE, SECOND},
};

/// What a job's run function returns.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = AppResult<Report>> + Send + 'a>>;

/// One job: what it is called, how often it runs and what it does.
#[derive(Clone, Copy)]
pub struct JobDef {
    /// Stable name, the key of its row and its metrics label.
    pub name: &'static str,
    /// What the administrators' page calls it.
    pub label: &'static str,
    /// One sentence on what it does, for the page.
    pub summary: &'static str,
    /// Time between runs (microseconds).
    pub interval: Micros,
    pub run: fn(&App) -> JobFuture<'_>,
}

impl std::fmt::Debug for JobDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobDef")
            .field("name", &self.name)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Every job of the deployment, one line each.
pub fn registry() -> Vec<JobDef> {
    vec![
        escalate_orders::JOB,
        purge_photos::JOB,
        claim_awards::JOB,
        expire_points::JOB,
        sweep_sessions::JOB,
    ]
}

/// An item a run could not process, set aside so the rest went on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SetAside {
    /// Which item (`county/id` for tenant-owned records).
    pub key: String,
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Items processed.
    pub done: u64,
    pub set_aside: Vec<SetAside>,
}

impl Report {
    pub fn done(n: impl TryInto<u64>) -> Report {
        Report {
            done: n.try_into().unwrap_or(u64::MAX),
            set_aside: Vec::new(),
        }
    }
}

/// One run, as [`Runner::run_due`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub name: &'static str,
    pub outcome: JobOutcome,
    pub done: u64,
    pub set_aside: Vec<SetAside>,
    pub error: Option<String>,
    /// When the job is due next (as far as this run decided; 立即运行 may bring it forward).
    pub next_due: Micros,
}

/// How many recorded runs of each job are kept.
const RUNS_KEPT: i64 = 50;
/// How many set-aside items one recorded run lists (the count is always complete).
const SET_ASIDE_KEPT: usize = 100;

/// Claims due jobs and runs them.
pub struct Runner {
    app: App,
    owner: String,
    jobs: Vec<JobDef>,
    lease: Micros,
    registered: AtomicBool,
}

impl Runner {
    /// A runner for every registered job.
    pub fn new(app: App) -> Runner {
        Runner::with_jobs(app, registry())
    }

    /// A runner for the given jobs only (it never claims a job it does not know).
    pub fn with_jobs(app: App, jobs: Vec<JobDef>) -> Runner {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "yinling".to_owned());
        let owner = format!(
            "{host}:{}:{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        Runner {
            app,
            owner,
            jobs,
            lease: 5 * MINUTE,
            registered: AtomicBool::new(false),
        }
    }

    /// How long a claim holds a job before another runner may take it (while the job runs,
    /// the runner renews it every third of that).
    pub fn with_lease(mut self, lease: Micros) -> Runner {
        self.lease = lease.max(SECOND);
        self
    }

    /// This runner's name in the lease column.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Gives each job a row (due at once when new) and records its interval.
    async fn register(&self) -> AppResult<()> {
        if self.registered.load(Ordering::Acquire) {
            return Ok(());
        }
        let now = self.app.now();
        for job in &self.jobs {
            store_jobs::register(&mut self.app.store().write(), job.name, job.interval, now)
                .await?;
        }
        self.registered.store(true, Ordering::Release);
        Ok(())
    }

    /// Runs every job due at the application clock's now, each at most once, and returns
    /// what ran. A job another runner holds is left to it.
    pub async fn run_due(&self) -> AppResult<Vec<Ran>> {
        self.register().await?;
        let names: Vec<&str> = self.jobs.iter().map(|j| j.name).collect();
        let mut ran = Vec::new();
        if !store_jobs::any_due(&mut self.app.store().read(), &names, self.app.now()).await? {
            return Ok(ran);
        }
        for _ in 0..self.jobs.len() {
            let now = self.app.now();
            let claim = store_jobs::claim(
                &mut self.app.store().write(),
                &names,
                &self.owner,
                now,
                now + self.lease,
            )
            .await?;
            let Some(claim) = claim else { break };
            let Some(job) = self.jobs.iter().find(|j| j.name == claim.name).copied() else {
                break;
            };
            ran.push(self.run_claimed(job, &claim, now).await?);
        }
        Ok(ran)
    }

    /// Runs due jobs every `poll` until the task is dropped. Errors of the runner itself
    /// (the database away) are logged and tried again at the next poll.
    pub async fn run_forever(self, poll: Duration) {
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.run_due().await {
                tracing::warn!(error = %e, "jobs runner could not claim or record a job");
            }
        }
    }

    async fn run_claimed(&self, job: JobDef, claim: &Claim, started_at: Micros) -> AppResult<Ran> {
        let clock = Instant::now();
        let result = self.run_holding_lease(job, claim).await;
        let elapsed = clock.elapsed();
        let finished_at = self.app.now();
        if let Err(e) = &result {
            // Logged once, here, with an internal fault's detail (the page shows its code).
            let detail = match e {
                AppError::Internal(detail) => detail.clone(),
                other => other.to_string(),
            };
            tracing::warn!(
                job = job.name,
                attempts = claim.attempts + 1,
                error = %detail,
                "job failed"
            );
        }
        let (outcome, report, error) = match result {
            Ok(r) if r.set_aside.is_empty() => (JobOutcome::Ok, r, None),
            Ok(r) => (JobOutcome::Partial, r, None),
            Err(e) => (JobOutcome::Failed, Report::default(), Some(error_text(&e))),
        };
        let (attempts, next_due) = if error.is_some() {
            let attempts = claim.attempts + 1;
            (attempts, finished_at + retry_after(attempts, job.interval))
        } else {
            (
                0,
                next_after_success(claim.due_at, started_at, job.interval),
            )
        };
        let kept = &report.set_aside[..report.set_aside.len().min(SET_ASIDE_KEPT)];
        let set_aside_json = serde_json::to_string(kept).unwrap_or_else(|_| "[]".to_owned());
        let finish = Finish {
            started_at,
            finished_at,
            duration_us: i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX),
            next_due,
            attempts,
            outcome,
            done: i64::try_from(report.done).unwrap_or(i64::MAX),
            set_aside: i64::try_from(report.set_aside.len()).unwrap_or(i64::MAX),
            set_aside_json: &set_aside_json,
            error: error.as_deref(),
        };
        let mut tx = self.app.store().begin().await?;
        let held =
            store_jobs::finish(&mut tx.exec(), claim, &self.owner, &finish, RUNS_KEPT).await?;
        tx.commit().await?;
        if !held {
            tracing::warn!(
                job = job.name,
                "job finished after its lease passed and another runner took it; not recorded"
            );
        }
        record_metrics(job.name, outcome, &report, elapsed, attempts);
        if error.is_none() && (report.done > 0 || !report.set_aside.is_empty()) {
            tracing::info!(
                job = job.name,
                done = report.done,
                set_aside = report.set_aside.len(),
                ms = elapsed.as_secs_f64() * 1000.0,
                "job ran"
            );
        }
        Ok(Ran {
            name: job.name,
            outcome,
            done: report.done,
            set_aside: report.set_aside,
            error,
            next_due,
        })
    }

    /// Runs the job on its own task (a panic becomes a failure, not the runner's end) and
    /// renews the lease while it runs.
    async fn run_holding_lease(&self, job: JobDef, claim: &Claim) -> AppResult<Report> {
        let app = self.app.clone();
        let mut task = tokio::spawn(async move { (job.run)(&app).await });
        let renew = Duration::from_micros(u64::try_from(self.lease / 3).unwrap_or(1).max(1));
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + renew, renew);
        loop {
            tokio::select! {
                joined = &mut task => {
                    return joined.unwrap_or_else(|e| {
                        Err(AppError::Internal(format!("job {} panicked: {e}", job.name)))
                    });
                }
                _ = beat.tick() => {
                    let now = self.app.now();
                    let held = store_jobs::extend_lease(
                        &mut self.app.store().write(),
                        &claim.name,
                        claim.run_seq,
                        &self.owner,
                        now + self.lease,
                    )
                    .await;
                    if !matches!(held, Ok(true)) {
                        tracing::warn!(job = job.name, "could not renew the job's lease");
                    }
                }
            }
        }
    }
}

/// One interval after the time the run was due, so the cadence does not drift by the poll
/// and the run's own time; if that has passed already (the job was late: no runner, a long
/// run), one interval after the run started, so a late job catches up once, not in a burst.
fn next_after_success(due_at: Micros, started_at: Micros, interval: Micros) -> Micros {
    let next = due_at + interval;
    if next > started_at {
        next
    } else {
        started_at + interval
    }
}

/// The error as the page shows it: the message and its code; an internal fault's detail
/// goes to the log only.
fn error_text(e: &AppError) -> String {
    if let AppError::Internal(_) = e {
        return "系统内部错误（详见服务器日志）".to_owned();
    }
    format!("{e}（{}）", e.code())
}

fn record_metrics(
    job: &'static str,
    outcome: JobOutcome,
    report: &Report,
    elapsed: Duration,
    attempts: i64,
) {
    metrics::counter!("yinling_job_runs_total", "job" => job, "outcome" => outcome.as_str())
        .increment(1);
    // Counted even when zero, so the series exists before the first failure.
    metrics::counter!("yinling_job_failures_total", "job" => job)
        .increment(u64::from(outcome == JobOutcome::Failed));
    metrics::counter!("yinling_job_items_total", "job" => job, "result" => "done")
        .increment(report.done);
    metrics::counter!("yinling_job_items_total", "job" => job, "result" => "set_aside")
        .increment(u64::try_from(report.set_aside.len()).unwrap_or(u64::MAX));
    metrics::gauge!("yinling_job_last_duration_seconds", "job" => job).set(elapsed.as_secs_f64());
    metrics::gauge!("yinling_job_failures_in_a_row", "job" => job)
        .set(f64::from(i32::try_from(attempts).unwrap_or(i32::MAX)));
}

// ---- the administrators' page ----

/// A job as the page shows it.
#[derive(Debug, Clone)]
pub struct JobView {
    pub name: &'static str,
    pub label: &'static str,
    pub summary: &'static str,
    pub interval: Micros,
    /// None until a runner has registered the job.
    pub due_at: Option<Micros>,
    /// Held by a runner: its name and until when.
    pub running: Option<(String, Micros)>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub last_failed_at: Option<Micros>,
    pub last_started_at: Option<Micros>,
    pub last_finished_at: Option<Micros>,
    pub last_outcome: Option<JobOutcome>,
    pub last_done: i64,
    pub last_set_aside: i64,
    pub last_duration_ms: f64,
    /// 立即运行 asked for and not yet taken by a run: by whom.
    pub requested_by: Option<String>,
}

/// A recorded run as the page shows it.
#[derive(Debug, Clone)]
pub struct RunView {
    pub label: &'static str,
    pub started_at: Micros,
    pub finished_at: Micros,
    pub outcome: JobOutcome,
    pub done: i64,
    pub set_aside: Vec<SetAside>,
    pub error: Option<String>,
}

/// The jobs page: every registered job and the recent runs that did something or failed.
#[derive(Debug, Clone)]
pub struct JobsOverview {
    pub jobs: Vec<JobView>,
    pub runs: Vec<RunView>,
}

/// The jobs page's use cases, reached as [`App::jobs`].
#[derive(Clone, Copy)]
pub struct Jobs<'a> {
    app: &'a App,
}

impl App {
    /// The jobs runner's page: the jobs, their runs and failures, 立即运行.
    pub fn jobs(&self) -> Jobs<'_> {
        Jobs { app: self }
    }
}

/// Jobs act on every county at once, so only a city administrator sees or runs them.
pub fn may_manage_jobs(caller: &Caller) -> bool {
    caller.is_city_admin()
}

fn refused() -> AppError {
    AppError::forbidden("只有市级管理员可以查看和运行后台任务")
}

impl Jobs<'_> {
    pub async fn overview(self, caller: &Caller) -> AppResult<JobsOverview> {
        if !may_manage_jobs(caller) {
            return Err(refused());
        }
        let now = self.app.now();
        let rows = store_jobs::list(&mut self.app.store().read()).await?;
        let jobs = registry()
            .into_iter()
            .map(|def| view(def, rows.iter().find(|r| r.name == def.name), now))
            .collect();
        let runs = store_jobs::recent_runs(&mut self.app.store().read(), 100)
            .await?
            .into_iter()
            .filter_map(|r| {
                let def = registry().into_iter().find(|d| d.name == r.job)?;
                Some(RunView {
                    label: def.label,
                    started_at: r.started_at,
                    finished_at: r.finished_at,
                    outcome: r.outcome,
                    done: r.done,
                    set_aside: serde_json::from_str(&r.set_aside).unwrap_or_default(),
                    error: r.error,
                })
            })
            .collect();
        Ok(JobsOverview { jobs, runs })
    }

    /// 立即运行: makes the job due now (a runner takes it within a second or so); audited.
    pub async fn run_now(self, caller: &Caller, name: &str) -> AppResult<()> {
        if !may_manage_jobs(caller) {
            return Err(refused());
        }
        let def = registry()
            .into_iter()
            .find(|d| d.name == name)
            .ok_or(AppError::NotFound { what: "任务" })?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store_jobs::request_run(
            &mut tx.exec(),
            def.name,
            def.interval,
            now,
            &caller.display_name,
        )
        .await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: 0,
                action: "job.run_now",
                entity: "job",
                entity_key: def.name.to_owned(),
                before: None,
                after: None,
                detail: Some(def.label.to_owned()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn view(def: JobDef, row: Option<&JobRow>, now: Micros) -> JobView {
    let r = row;
    JobView {
        name: def.name,
        label: def.label,
        summary: def.summary,
        interval: def.interval,
        due_at: r.map(|r| r.due_at),
        running: r
            .and_then(|r| r.lease_owner.clone().zip(r.lease_until))
            .filter(|(_, until)| *until > now),
        attempts: r.map_or(0, |r| r.attempts),
        last_error: r.and_then(|r| r.last_error.clone()),
        last_failed_at: r.and_then(|r| r.last_failed_at),
        last_started_at: r.and_then(|r| r.last_started_at),
        last_finished_at: r.and_then(|r| r.last_finished_at),
        last_outcome: r.and_then(|r| r.last_outcome),
        last_done: r.and_then(|r| r.last_done).unwrap_or(0),
        last_set_aside: r.and_then(|r| r.last_set_aside).unwrap_or(0),
        last_duration_ms: r
            .and_then(|r| r.last_duration_us)
            .map_or(0.0, |us| us as f64 / 1000.0),
        requested_by: r.and_then(|r| r.requested_by.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::next_after_success;

    #[test]
    fn the_next_run_keeps_the_cadence_and_a_late_job_catches_up_once() {
        // Run 0.7 s after it was due: next one interval after the due time, not the start.
        assert_eq!(next_after_success(1_000, 1_700, 10_000), 11_000);
        // A run that starts more than an interval late: one interval after it started.
        assert_eq!(next_after_success(1_000, 50_000, 10_000), 60_000);
        assert_eq!(next_after_success(1_000, 11_000, 10_000), 21_000);
    }
}
