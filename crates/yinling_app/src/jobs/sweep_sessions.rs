//! 会话清理: every ten minutes, removes sessions idle past the timeout and attempt counts
//! whose window is over. Each part runs even when the other fails.

use super::{JobDef, JobFuture, Report};
use crate::{App, kernel::clock::MINUTE};

pub const JOB: JobDef = JobDef {
    name: "sweep_sessions",
    label: "会话清理",
    summary: "删除长时间未操作的登录会话和已过时的尝试次数记录",
    interval: 10 * MINUTE,
    run,
};

fn run(app: &App) -> JobFuture<'_> {
    Box::pin(async move {
        let sessions = app.accounts().purge_idle_sessions().await;
        let throttles = app.throttle().purge().await;
        Ok(Report::done(sessions? + throttles?))
    })
}
