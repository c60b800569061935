//! Per-county ledger rules and earning rules.

use super::*;

pub async fn rules(exec: &mut Exec<'_>, county: CountyCode) -> Result<Option<RulesRow>> {
    exec.fetch_optional(q!(
        "SELECT county_code, daily_points_cap, daily_minutes_cap, expiry_months, family_transfer,
                family_max_minutes_year, max_points_per_code, updated_at, version
           FROM ledger_rules WHERE county_code = $1",
        county
    ))
    .await
}

/// Writes a county's rules; `version` is the one read (0 when there was no row). Returns
/// false when someone else changed them meanwhile.
pub async fn save_rules(exec: &mut Exec<'_>, r: &RulesRow, version: i64) -> Result<bool> {
    let n = if version == 0 {
        exec.execute(q!(
            "INSERT INTO ledger_rules (county_code, daily_points_cap, daily_minutes_cap, expiry_months,
                 family_transfer, family_max_minutes_year, updated_at, version, max_points_per_code)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8) ON CONFLICT (county_code) DO NOTHING",
            r.county_code,
            r.daily_points_cap,
            r.daily_minutes_cap,
            r.expiry_months,
            r.family_transfer.as_str(),
            r.family_max_minutes_year,
            r.updated_at,
            r.max_points_per_code
        ))
        .await?
    } else {
        exec.execute(q!(
            "UPDATE ledger_rules SET daily_points_cap = $2, daily_minutes_cap = $3, expiry_months = $4,
                 family_transfer = $5, family_max_minutes_year = $6, updated_at = $7, version = version + 1,
                 max_points_per_code = $9
             WHERE county_code = $1 AND version = $8",
            r.county_code,
            r.daily_points_cap,
            r.daily_minutes_cap,
            r.expiry_months,
            r.family_transfer.as_str(),
            r.family_max_minutes_year,
            r.updated_at,
            version,
            r.max_points_per_code
        ))
        .await?
    };
    Ok(n == 1)
}

pub async fn earning_rules(exec: &mut Exec<'_>, county: CountyCode) -> Result<Vec<EarningRuleRow>> {
    exec.fetch_all(q!(
        "SELECT county_code, source_kind, code, label, points, minutes, updated_at
           FROM earning_rules WHERE county_code = $1 ORDER BY source_kind, code",
        county
    ))
    .await
}

pub async fn earning_rule(
    exec: &mut Exec<'_>,
    county: CountyCode,
    source_kind: SourceKind,
    code: &str,
) -> Result<Option<EarningRuleRow>> {
    exec.fetch_optional(q!(
        "SELECT county_code, source_kind, code, label, points, minutes, updated_at
           FROM earning_rules WHERE county_code = $1 AND source_kind = $2 AND code = $3",
        county,
        source_kind.as_str(),
        code
    ))
    .await
}

pub async fn put_earning_rule(exec: &mut Exec<'_>, r: &EarningRuleRow) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO earning_rules (county_code, source_kind, code, label, points, minutes, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (county_code, source_kind, code) DO UPDATE SET label = excluded.label,
             points = excluded.points, minutes = excluded.minutes, updated_at = excluded.updated_at",
        r.county_code,
        r.source_kind.as_str(),
        &r.code,
        &r.label,
        r.points,
        r.minutes,
        r.updated_at
    ))
    .await?;
    Ok(())
}
