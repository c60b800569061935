//! Award entitlements owed for completed orders, until the ledger pays or sets them aside.

use super::*;

/// Records an award owed. The unique key on (source, person) makes a second one for the
/// same work impossible; returns false if it already existed.
pub async fn insert_entitlement(exec: &mut Exec<'_>, row: &EntitlementRow) -> Result<bool> {
    let n = exec
        .execute(q!(
            "INSERT INTO award_entitlements (county_code, id, source_kind, source_id, person_id, points,
                    hours_minutes, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (county_code, source_kind, source_id, person_id) DO NOTHING",
            row.county_code,
            row.id,
            &row.source_kind,
            row.source_id,
            row.person_id,
            row.points,
            row.hours_minutes,
            &row.status,
            row.created_at
        ))
        .await?;
    Ok(n == 1)
}

pub async fn entitlements_of_source(
    exec: &mut Exec<'_>,
    county_code: i64,
    source_kind: &str,
    source_id: i64,
) -> Result<Vec<EntitlementRow>> {
    exec.fetch_all(q!(
        "SELECT county_code, id, source_kind, source_id, person_id, points, hours_minutes, status, created_at
           FROM award_entitlements WHERE county_code = $1 AND source_kind = $2 AND source_id = $3 ORDER BY id",
        county_code,
        source_kind,
        source_id
    ))
    .await
}

/// Pending awards, oldest first, across counties. On PostgreSQL rows another claimer holds
/// are skipped rather than waited for.
pub async fn pending_entitlements(exec: &mut Exec<'_>, limit: i64) -> Result<Vec<EntitlementRow>> {
    let lock = db::Lock::SkipLocked.clause(exec.is_postgres());
    exec.fetch_all(q!(
        format!(
            "SELECT county_code, id, source_kind, source_id, person_id, points, hours_minutes, status, created_at
               FROM award_entitlements WHERE status = 'pending' ORDER BY created_at, county_code, id
              LIMIT $1{lock}"
        ),
        limit
    ))
    .await
}

/// Closes a pending award as `taken` (in the ledger) or `capped` (nothing left today).
pub async fn close_entitlement(
    exec: &mut Exec<'_>,
    county: i64,
    id: i64,
    status: &str,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE award_entitlements SET status = $3, taken_at = $4
              WHERE county_code = $1 AND id = $2 AND status = 'pending'",
            county,
            id,
            status,
            now
        ))
        .await?;
    if n != 1 {
        return Err(crate::StoreError::Stale);
    }
    Ok(())
}

/// Sets a pending award aside as `failed` with the reason the ledger refused it, so the
/// claim job goes on with the others and does not try it again on every run.
pub async fn set_aside_entitlement(
    exec: &mut Exec<'_>,
    county: i64,
    id: i64,
    failure: &str,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE award_entitlements SET status = 'failed', failure = $3, taken_at = $4
              WHERE county_code = $1 AND id = $2 AND status = 'pending'",
            county,
            id,
            failure,
            now
        ))
        .await?;
    if n != 1 {
        return Err(crate::StoreError::Stale);
    }
    Ok(())
}
