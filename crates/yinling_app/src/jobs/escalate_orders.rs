//! 超时订单上报: every minute, sends orders nobody accepted within their item's time limit
//! one level up the organisation tree. Each escalation is a conditional update, so an order
//! moves up once per time limit whoever runs it.

use super::{JobDef, JobFuture, Report};
use crate::{App, Caller, kernel::clock::SECOND};

pub const JOB: JobDef = JobDef {
    name: "escalate_orders",
    label: "超时订单上报",
    summary: "超过接单时限无人接单的订单，逐级上报至上一级组织",
    interval: 60 * SECOND,
    run,
};

fn run(app: &App) -> JobFuture<'_> {
    Box::pin(async move {
        let escalated = app
            .orders()
            .escalate_overdue(&Caller::system("sla"))
            .await?;
        Ok(Report::done(escalated))
    })
}
