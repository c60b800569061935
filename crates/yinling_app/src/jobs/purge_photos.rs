//! 清理未使用照片: every ten minutes, removes completion photos uploaded more than a day ago
//! and never attached to a completion. A photo's row is deleted only while still
//! unattached, so a completion attaching it at the same moment keeps it.

use super::{JobDef, JobFuture, Report};
use crate::{App, kernel::clock::MINUTE};

pub const JOB: JobDef = JobDef {
    name: "purge_photos",
    label: "清理未使用照片",
    summary: "删除上传超过一天、始终未用于完成服务的照片",
    interval: 10 * MINUTE,
    run,
};

fn run(app: &App) -> JobFuture<'_> {
    Box::pin(async move {
        let removed = app.orders().purge_unused_photos(app.now()).await?;
        Ok(Report::done(removed))
    })
}
