//! Disputes of time-bank charges.

use super::*;

/// Records a dispute; false if the order already has one.
pub async fn insert_dispute(exec: &mut Exec<'_>, row: &HoursDisputeRow) -> Result<bool> {
    Ok(exec
        .execute(q!(
            "INSERT INTO hours_disputes (county_code, order_id, transfer_id, person_id, minutes, reason,
                    status, raised_by, raised_by_name, raised_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9)
             ON CONFLICT (county_code, order_id) DO NOTHING",
            row.county_code,
            row.order_id,
            row.transfer_id,
            row.person_id,
            row.minutes,
            &row.reason,
            row.raised_by,
            &row.raised_by_name,
            row.raised_at
        ))
        .await?
        == 1)
}

pub async fn dispute(exec: &mut Exec<'_>, order: Key<OrderId>) -> Result<Option<HoursDisputeRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {DISPUTE_COLUMNS} FROM hours_disputes WHERE county_code = $1 AND order_id = $2"
        ),
        order.county_code,
        order.id
    ))
    .await
}

/// Disputes over orders in the scope, oldest first; only open ones if `open_only`.
pub async fn disputes(
    exec: &mut Exec<'_>,
    scope: &Scope,
    open_only: bool,
    limit: i64,
) -> Result<Vec<HoursDisputeRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "o");
    let status = if open_only {
        " AND d.status = 'open'"
    } else {
        ""
    };
    let l = q.push_arg(limit);
    q.sql = format!(
        "SELECT {} FROM hours_disputes d
           JOIN orders o ON o.county_code = d.county_code AND o.id = d.order_id
          WHERE {wh}{status} ORDER BY d.raised_at, d.county_code, d.order_id LIMIT {l}",
        prefixed(DISPUTE_COLUMNS, "d")
    )
    .into();
    exec.fetch_all(q).await
}

/// Decides an open dispute; false (nothing changed) if it was decided meanwhile.
#[allow(clippy::too_many_arguments)]
pub async fn decide_dispute(
    exec: &mut Exec<'_>,
    order: Key<OrderId>,
    status: HoursDisputeStatus,
    by: Option<AccountId>,
    by_name: &str,
    note: Option<&str>,
    reversal_id: Option<TransferId>,
    now: Micros,
) -> Result<bool> {
    Ok(exec
        .execute(q!(
            "UPDATE hours_disputes SET status = $3, decided_by = $4, decided_by_name = $5,
                    decision_note = $6, reversal_id = $7, decided_at = $8
              WHERE county_code = $1 AND order_id = $2 AND status = 'open'",
            order.county_code,
            order.id,
            status.as_str(),
            by,
            by_name,
            note,
            reversal_id,
            now
        ))
        .await?
        == 1)
}
