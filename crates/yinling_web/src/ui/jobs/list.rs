//! 后台任务: the jobs of the runner (see `yinling_app::jobs`), their last runs and failures,
//! and 立即运行 — for city administrators, since every job acts on every county.

use askama::Template;
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use yinling_app::jobs::{JobView, RunView, SetAside};
use yinling_domain::{job::JobOutcome, time::format_minutes};

use crate::AppState;
use crate::ui::kernel::extract::Path;
use crate::ui::kernel::{Layout, PageCtx, PageResult, render, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/jobs", get(list_jobs))
        .route("/jobs/{name}/run", post(run_job_now))
}

/// One job, ready to show.
struct JobLine {
    name: &'static str,
    label: &'static str,
    summary: &'static str,
    every: String,
    /// 运行中 / 已要求立即运行 / when it runs next.
    state: String,
    /// The last run: when, how it ended, what it did; empty before the first.
    last: String,
    failing: bool,
    /// 连续失败 n 次 and the last error, when there is one.
    error: Option<String>,
}

/// One recorded run, ready to show.
struct RunLine {
    label: &'static str,
    finished: String,
    outcome: &'static str,
    failed: bool,
    done: i64,
    set_aside: Vec<SetAside>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "jobs/list.html")]
struct JobsPage {
    l: Layout,
    jobs: Vec<JobLine>,
    runs: Vec<RunLine>,
}

async fn list_jobs(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    let overview = state.app.jobs().overview(&ctx.caller).await?;
    Ok(render(&JobsPage {
        l: ctx.layout("后台任务", "jobs"),
        jobs: overview.jobs.iter().map(job_line).collect(),
        runs: overview.runs.into_iter().map(run_line).collect(),
    }))
}

async fn run_job_now(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(name): Path<String>,
) -> PageResult {
    state.app.jobs().run_now(&ctx.caller, &name).await?;
    Ok(see_other("/jobs?ok=queued"))
}

/// `每10秒`, `每1分钟`, `每1小时`.
fn every(micros: i64) -> String {
    let seconds = micros / 1_000_000;
    match seconds {
        s if s >= 3600 && s % 3600 == 0 => format!("每{}小时", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("每{}分钟", s / 60),
        s => format!("每{s}秒"),
    }
}

fn outcome_label(o: Option<JobOutcome>) -> &'static str {
    o.map_or("未知", JobOutcome::label_zh)
}

fn job_line(j: &JobView) -> JobLine {
    let state = if let Some((owner, until)) = &j.running {
        format!("运行中（{owner}，租约至 {}）", format_minutes(*until))
    } else if let Some(by) = &j.requested_by {
        format!("{by} 已要求立即运行，稍后开始")
    } else if let Some(due) = j.due_at {
        format!("下次运行 {}", format_minutes(due))
    } else {
        "尚未运行（服务启动后立即运行）".to_owned()
    };
    let last = match (j.last_finished_at, j.last_outcome) {
        (Some(at), outcome) => {
            let mut s = format!(
                "{} {}，处理 {} 条",
                format_minutes(at),
                outcome_label(outcome),
                j.last_done
            );
            if j.last_set_aside > 0 {
                s.push_str(&format!("，搁置 {} 条", j.last_set_aside));
            }
            s.push_str(&format!("，用时 {:.0} 毫秒", j.last_duration_ms));
            s
        }
        (None, _) => String::new(),
    };
    let error = j.last_error.as_ref().map(|e| {
        let when = j.last_failed_at.map(format_minutes).unwrap_or_default();
        if j.attempts > 0 {
            format!("连续失败 {} 次。最近一次（{when}）：{e}", j.attempts)
        } else {
            format!("最近一次失败（{when}，其后已恢复）：{e}")
        }
    });
    JobLine {
        name: j.name,
        label: j.label,
        summary: j.summary,
        every: every(j.interval),
        state,
        last,
        failing: j.attempts > 0,
        error,
    }
}

fn run_line(r: RunView) -> RunLine {
    RunLine {
        label: r.label,
        finished: format_minutes(r.finished_at),
        outcome: r.outcome.label_zh(),
        failed: r.outcome == JobOutcome::Failed,
        done: r.done,
        set_aside: r.set_aside,
        error: r.error,
    }
}

#[cfg(test)]
mod tests {
    use super::every;

    #[test]
    fn intervals_read_in_the_largest_whole_unit() {
        assert_eq!(every(10_000_000), "每10秒");
        assert_eq!(every(60_000_000), "每1分钟");
        assert_eq!(every(600_000_000), "每10分钟");
        assert_eq!(every(3_600_000_000), "每1小时");
        assert_eq!(every(90_000_000), "每90秒");
    }
}
