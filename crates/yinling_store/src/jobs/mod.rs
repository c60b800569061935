//! The jobs runner's state: one row per job (when it is due, failures in a row, the last
//! error, who holds it and until when), and the runs that did something or failed.
//!
//! A runner takes a due job with [`claim`]: one statement that sets the lease on the first
//! due, unleased job it knows. On PostgreSQL the row is picked `FOR UPDATE SKIP LOCKED`, so
//! two runners claiming at once each get a different job or none, never the same one; SQLite
//! has one writer, so the statement runs alone. Both re-check due time and lease in the
//! `UPDATE` itself. `due_at` is left as it is while the job runs: if the process dies, the
//! job is still due and another runner takes it once the lease has passed.

use yinling_domain::job::JobOutcome;

use crate::{
    Exec, Micros, Result,
    db::{Lock, in_list, text_list},
    q,
};

/// A job's row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    pub name: String,
    pub interval_us: Micros,
    pub due_at: Micros,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub last_failed_at: Option<Micros>,
    pub run_seq: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Micros>,
    pub last_started_at: Option<Micros>,
    pub last_finished_at: Option<Micros>,
    pub last_outcome: Option<JobOutcome>,
    pub last_done: Option<i64>,
    pub last_set_aside: Option<i64>,
    pub last_duration_us: Option<Micros>,
    pub requested_at: Option<Micros>,
    pub requested_by: Option<String>,
}

const COLUMNS: &str = "name, interval_us, due_at, attempts, last_error, last_failed_at, run_seq, \
     lease_owner, lease_until, last_started_at, last_finished_at, last_outcome, last_done, \
     last_set_aside, last_duration_us, requested_at, requested_by";

/// What [`claim`] hands the runner: the job, the claim's number and what it needs to decide
/// the next due time.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Claim {
    pub name: String,
    pub run_seq: i64,
    pub attempts: i64,
    pub due_at: Micros,
}

/// One recorded run.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRunRow {
    pub job: String,
    pub run_seq: i64,
    pub runner: String,
    pub started_at: Micros,
    pub finished_at: Micros,
    pub outcome: JobOutcome,
    pub done: i64,
    /// JSON array of `{"key": .., "reason": ..}`.
    pub set_aside: String,
    pub error: Option<String>,
}

/// Makes sure each job has a row (a new one is due at once, as the old loops ran on start)
/// and records the interval the registry declares now.
pub async fn register(
    exec: &mut Exec<'_>,
    name: &str,
    interval_us: Micros,
    now: Micros,
) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO jobs (name, interval_us, due_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET interval_us = excluded.interval_us",
        name,
        interval_us,
        now
    ))
    .await?;
    Ok(())
}

/// Whether any of `names` is due and unleased: a read, so an idle runner's poll writes
/// nothing.
pub async fn any_due(exec: &mut Exec<'_>, names: &[&str], now: Micros) -> Result<bool> {
    let pg = exec.is_postgres();
    let known = in_list(pg, "name", "$2", "TEXT");
    let due: Option<String> = exec
        .scalar_optional(q!(
            format!("SELECT name FROM jobs WHERE {known} AND {FREE} LIMIT 1"),
            now,
            text_list(pg, names)
        ))
        .await?;
    Ok(due.is_some())
}

/// Due at `$1` and not held by a live lease.
const FREE: &str = "due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)";

/// Leases the first due, unleased job among `names` to `owner` until `lease_until`; `None`
/// when none is due. A pending 立即运行 request is taken by this run.
pub async fn claim(
    exec: &mut Exec<'_>,
    names: &[&str],
    owner: &str,
    now: Micros,
    lease_until: Micros,
) -> Result<Option<Claim>> {
    let pg = exec.is_postgres();
    // Another claimer's row is skipped, not waited for.
    let lock = Lock::SkipLocked.clause(pg);
    let known = in_list(pg, "name", "$4", "TEXT");
    exec.fetch_optional(q!(
        format!(
            "UPDATE jobs SET lease_owner = $2, lease_until = $3, run_seq = run_seq + 1,
                    last_started_at = $1, requested_at = NULL, requested_by = NULL
              WHERE name = (SELECT name FROM jobs WHERE {known} AND {FREE}
                             ORDER BY due_at, name LIMIT 1{lock})
                AND {FREE}
          RETURNING name, run_seq, attempts, due_at"
        ),
        now,
        owner,
        lease_until,
        text_list(pg, names)
    ))
    .await
}

/// Moves the lease of a running job on; false when the runner no longer holds it.
pub async fn extend_lease(
    exec: &mut Exec<'_>,
    name: &str,
    run_seq: i64,
    owner: &str,
    lease_until: Micros,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "UPDATE jobs SET lease_until = $4 WHERE name = $1 AND run_seq = $2 AND lease_owner = $3",
            name,
            run_seq,
            owner,
            lease_until
        ))
        .await?;
    Ok(n == 1)
}

/// How a run ended, to record on the job's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finish<'a> {
    pub started_at: Micros,
    pub finished_at: Micros,
    /// How long the run took by the wall clock.
    pub duration_us: Micros,
    /// When the job is due next, unless 立即运行 was asked for while it ran.
    pub next_due: Micros,
    /// Failures in a row, this run included (0 after a success).
    pub attempts: i64,
    pub outcome: JobOutcome,
    pub done: i64,
    pub set_aside: i64,
    /// JSON array of the items set aside.
    pub set_aside_json: &'a str,
    pub error: Option<&'a str>,
}

/// Releases the lease and records the run; false (and nothing written) when the runner's
/// lease had run out and another runner has claimed the job since. A run that did nothing
/// is only counted on the job's row; the others are kept in `job_runs`, the newest `keep`
/// of each job.
pub async fn finish(
    exec: &mut Exec<'_>,
    claim: &Claim,
    owner: &str,
    f: &Finish<'_>,
    keep: i64,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL,
                    due_at = CASE WHEN requested_at IS NULL THEN $4 ELSE due_at END,
                    attempts = $5, last_finished_at = $6, last_outcome = $7, last_done = $8,
                    last_set_aside = $9, last_duration_us = $10,
                    last_error = COALESCE($11, last_error),
                    last_failed_at = CASE WHEN $12 THEN $6 ELSE last_failed_at END
              WHERE name = $1 AND run_seq = $2 AND lease_owner = $3",
            claim.name.as_str(),
            claim.run_seq,
            owner,
            f.next_due,
            f.attempts,
            f.finished_at,
            f.outcome.as_str(),
            f.done,
            f.set_aside,
            f.duration_us,
            f.error,
            f.error.is_some()
        ))
        .await?;
    if n != 1 {
        return Ok(false);
    }
    if f.done == 0 && f.set_aside == 0 && f.error.is_none() {
        return Ok(true);
    }
    exec.execute(q!(
        "INSERT INTO job_runs (job, run_seq, runner, started_at, finished_at, outcome, done, set_aside, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        claim.name.as_str(),
        claim.run_seq,
        owner,
        f.started_at,
        f.finished_at,
        f.outcome.as_str(),
        f.done,
        f.set_aside_json,
        f.error
    ))
    .await?;
    exec.execute(q!(
        "DELETE FROM job_runs WHERE job = $1 AND run_seq <= $2 - $3",
        claim.name.as_str(),
        claim.run_seq,
        keep
    ))
    .await?;
    Ok(true)
}

/// 立即运行: the job is due now (or stays due earlier), and the request is noted so that a
/// run already under way does not push the due time past it. Creates the row of a job no
/// runner has registered yet.
pub async fn request_run(
    exec: &mut Exec<'_>,
    name: &str,
    interval_us: Micros,
    now: Micros,
    by: &str,
) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO jobs (name, interval_us, due_at, requested_at, requested_by)
         VALUES ($1, $2, $3, $3, $4)
         ON CONFLICT (name) DO UPDATE SET
             due_at = CASE WHEN jobs.due_at < $3 THEN jobs.due_at ELSE $3 END,
             requested_at = $3, requested_by = $4",
        name,
        interval_us,
        now,
        by
    ))
    .await?;
    Ok(())
}

pub async fn get(exec: &mut Exec<'_>, name: &str) -> Result<Option<JobRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM jobs WHERE name = $1"),
        name
    ))
    .await
}

pub async fn list(exec: &mut Exec<'_>) -> Result<Vec<JobRow>> {
    exec.fetch_all(q!(format!("SELECT {COLUMNS} FROM jobs ORDER BY name")))
        .await
}

/// The newest recorded runs of every job, newest first.
pub async fn recent_runs(exec: &mut Exec<'_>, limit: i64) -> Result<Vec<JobRunRow>> {
    exec.fetch_all(q!(
        "SELECT job, run_seq, runner, started_at, finished_at, outcome, done, set_aside, error
           FROM job_runs ORDER BY finished_at DESC, job, run_seq DESC LIMIT $1",
        limit
    ))
    .await
}
