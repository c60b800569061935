//! Administrative divisions (reference data).

use serde::Serialize;
use yinling_domain::region::{CountyCode, RegionLevel};

use crate::{Exec, Query, Result, db, q};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RegionRow {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_code: Option<String>,
    pub county_code: Option<CountyCode>,
    pub project_code: bool,
}

/// Inserts divisions in batches; existing codes are left as they are.
pub async fn insert_many(exec: &mut Exec<'_>, rows: &[RegionRow]) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(6)) {
        let mut q = Query::new(
            "INSERT INTO regions (code, name, level, parent_code, county_code, project_code) VALUES ",
            Vec::new(),
        );
        let mut values = Vec::with_capacity(chunk.len());
        for r in chunk {
            values.push(format!(
                "({}, {}, {}, {}, {}, {})",
                q.push_arg(&r.code),
                q.push_arg(&r.name),
                q.push_arg(r.level.as_str()),
                q.push_arg(r.parent_code.as_deref()),
                q.push_arg(r.county_code),
                q.push_arg(r.project_code)
            ));
        }
        let sql = format!(
            "{}{} ON CONFLICT (code) DO NOTHING",
            q.sql,
            values.join(", ")
        );
        q.sql = sql.into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn get(exec: &mut Exec<'_>, code: &str) -> Result<Option<RegionRow>> {
    exec.fetch_optional(q!(
        "SELECT code, name, level, parent_code, county_code, project_code FROM regions WHERE code = $1",
        code
    ))
    .await
}

pub async fn children(exec: &mut Exec<'_>, parent_code: &str) -> Result<Vec<RegionRow>> {
    exec.fetch_all(q!(
        "SELECT code, name, level, parent_code, county_code, project_code FROM regions
         WHERE parent_code = $1 ORDER BY code",
        parent_code
    ))
    .await
}

pub async fn count(exec: &mut Exec<'_>) -> Result<i64> {
    exec.scalar(q!("SELECT COUNT(*) FROM regions")).await
}
