//! 奖励入账: every ten seconds, takes pending awards (completed orders, concluded mediation)
//! into the ledger, each once: an award is marked taken in the transaction of its transfers,
//! whose keys derive from the award. An award the ledger refuses is set aside (closed as
//! failed with the reason) and the rest go on.

use super::{JobDef, JobFuture, Report, SetAside};
use crate::{App, kernel::clock::SECOND};

pub const JOB: JobDef = JobDef {
    name: "claim_awards",
    label: "奖励入账",
    summary: "把已完成订单和已办结调解应得的积分、时长记入账本",
    interval: 10 * SECOND,
    run,
};

/// Awards taken per transaction.
const BATCH: i64 = 500;

fn run(app: &App) -> JobFuture<'_> {
    Box::pin(async move {
        let r = app.ledger().claim_entitlements(BATCH).await?;
        Ok(Report {
            done: u64::try_from(r.entitlements.saturating_sub(r.set_aside.len()))
                .unwrap_or(u64::MAX),
            set_aside: r
                .set_aside
                .into_iter()
                .map(|a| SetAside {
                    key: format!("奖励 {}/{}", a.county_code, a.id),
                    reason: a.reason,
                })
                .collect(),
        })
    })
}
