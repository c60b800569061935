-- The jobs runner (issue 10, item 6): periodic work (order escalation, award claims, point
-- expiry, session clean-up; later reminders, policy runs, imports, alerts) whose state lives
-- here, so several server processes run side by side and each run happens once. City-wide
-- like throttles: a job is the deployment's, not a county's (its items carry their county).
--
-- A runner claims a due job by setting its lease (`lease_owner`, `lease_until`) in one
-- statement — PostgreSQL skips a row another claimer holds (`FOR UPDATE SKIP LOCKED`),
-- SQLite has one writer — and `run_seq` counts the claims, so a runner whose lease ran out
-- and was taken over cannot record its late finish over the new run. `due_at` stays as it
-- was until the run finishes: a process that dies mid-run leaves the job due, and another
-- takes it once the lease has passed.
CREATE TABLE jobs (
    name TEXT NOT NULL PRIMARY KEY,
    -- The period between runs, as the registry last declared it (microseconds).
    interval_us BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    -- Failed runs in a row (0 after a success); the back-off grows with it.
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    last_failed_at BIGINT,
    run_seq BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    last_started_at BIGINT,
    last_finished_at BIGINT,
    -- 'ok', 'partial' (some items set aside) or 'failed'.
    last_outcome TEXT,
    last_done BIGINT,
    last_set_aside BIGINT,
    last_duration_us BIGINT,
    -- 立即运行: who asked, and when (cleared when a run takes the request).
    requested_at BIGINT,
    requested_by TEXT
);
CREATE INDEX jobs_due ON jobs (due_at);

-- The runs that did something, set items aside or failed, newest kept (a run that found
-- nothing to do only updates its job's row). `set_aside` is a JSON array of
-- {"key": ..., "reason": ...}.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    run_seq BIGINT NOT NULL,
    runner TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    done BIGINT NOT NULL,
    set_aside TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (job, run_seq)
);
