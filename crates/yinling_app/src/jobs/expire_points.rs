//! 积分到期: every hour, expires points older than each county's age limit, first in first
//! out. Each expiry is keyed by the account and the cutoff day, so it moves once; an account
//! the ledger refuses is set aside (tried again next run) while the others expire.

use super::{JobDef, JobFuture, Report, SetAside};
use crate::{App, kernel::clock::MINUTE};

pub const JOB: JobDef = JobDef {
    name: "expire_points",
    label: "积分到期",
    summary: "按各县规定的有效期，使过期积分到期（先得先到期）",
    interval: 60 * MINUTE,
    run,
};

fn run(app: &App) -> JobFuture<'_> {
    Box::pin(async move {
        let r = app.ledger().expire_points().await?;
        Ok(Report {
            done: u64::try_from(r.accounts).unwrap_or(u64::MAX),
            set_aside: r
                .set_aside
                .into_iter()
                .map(|a| SetAside {
                    key: format!("账户 {}/{}", a.county_code, a.id),
                    reason: a.reason,
                })
                .collect(),
        })
    })
}
