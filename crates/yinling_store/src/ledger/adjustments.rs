//! Adjustments awaiting approval.

use yinling_domain::ids::AccountId;

use super::*;

pub async fn insert_adjustment(exec: &mut Exec<'_>, r: &AdjustmentRow) -> Result<()> {
    exec.execute(q!(
        format!(
            "INSERT INTO ledger_adjustments ({ADJUSTMENT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, NULL, NULL)"
        ),
        r.county_code,
        r.id,
        r.unit.as_str(),
        r.person_id,
        &r.path,
        r.amount,
        &r.memo,
        r.status.as_str(),
        r.proposed_by,
        &r.proposed_by_name,
        r.proposed_at
    ))
    .await?;
    Ok(())
}

pub async fn adjustment(
    exec: &mut Exec<'_>,
    key: Key<AdjustmentId>,
) -> Result<Option<AdjustmentRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {ADJUSTMENT_COLUMNS} FROM ledger_adjustments WHERE county_code = $1 AND id = $2"
        ),
        key.county_code,
        key.id
    ))
    .await
}

/// Adjustments in a scope, newest first (at most 500).
pub async fn adjustments(
    exec: &mut Exec<'_>,
    scope: &Scope,
    status: Option<AdjustmentStatus>,
) -> Result<Vec<AdjustmentRow>> {
    let mut q = Query::new("", Vec::new());
    let mut wh = scope::predicate(&mut q, scope, "a");
    if let Some(s) = status {
        wh += &format!(" AND a.status = {}", q.push_arg(s.as_str()));
    }
    q.sql = format!(
        "SELECT {} FROM ledger_adjustments a WHERE {wh} ORDER BY a.proposed_at DESC LIMIT 500",
        db::qualified(ADJUSTMENT_COLUMNS, "a")
    )
    .into();
    exec.fetch_all(q).await
}

/// Records the decision on a pending adjustment; false if it was decided meanwhile.
#[allow(clippy::too_many_arguments)]
pub async fn decide_adjustment(
    exec: &mut Exec<'_>,
    key: Key<AdjustmentId>,
    status: AdjustmentStatus,
    by: AccountId,
    by_name: &str,
    now: Micros,
    transfer_id: Option<TransferId>,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "UPDATE ledger_adjustments SET status = $3, decided_by = $4, decided_by_name = $5,
                 decided_at = $6, transfer_id = $7
             WHERE county_code = $1 AND id = $2 AND status = 'pending'",
            key.county_code,
            key.id,
            status.as_str(),
            by,
            by_name,
            now,
            transfer_id
        ))
        .await?;
    Ok(n == 1)
}
