//! Transfers: one insert per batch, linked into each account's chain; reads walk a chain back.

use yinling_domain::ledger::Reason;

use super::*;

/// The chain step from transfer `t` back to the previous transfer of account `{account}`.
pub(super) fn prev_of(account: &str) -> String {
    format!("CASE WHEN t.debit_id = {account} THEN t.debit_prev ELSE t.credit_prev END")
}

/// For each account, the sum of its transfers on `side` with `reason` made at or after
/// `since`: walks each chain back from the latest transfer and stops at the first one
/// older than `since`. The daily cap's count (credits, `earn`) and the year's gifts to
/// family (debits, `family`).
pub async fn recent_sums(
    exec: &mut Exec<'_>,
    county: CountyCode,
    ids: &[LedgerAccountId],
    side: Side,
    reason: Reason,
    since: Micros,
) -> Result<Vec<(LedgerAccountId, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let pg = exec.is_postgres();
    let side = match side {
        Side::Debit => "t.debit_id",
        Side::Credit => "t.credit_id",
    };
    let sql = format!(
        "WITH RECURSIVE chain (account, id) AS (
             SELECT a.id, a.last_transfer FROM ledger_accounts a
              WHERE a.county_code = $1 AND {} AND a.last_at >= $3
             UNION ALL
             SELECT c.account, {} FROM chain c
               JOIN ledger_transfers t ON t.county_code = $1 AND t.id = c.id
              WHERE t.created_at >= $3)
         SELECT c.account, CAST(SUM(t.amount) AS BIGINT) FROM chain c
           JOIN ledger_transfers t ON t.county_code = $1 AND t.id = c.id
          WHERE {side} = c.account AND t.reason = $4 AND t.created_at >= $3
          GROUP BY c.account",
        db::in_list(pg, "a.id", "$2", "BIGINT"),
        prev_of("c.account"),
    );
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    exec.fetch_all(q!(
        sql,
        county,
        db::id_list(pg, &ids),
        since,
        reason.as_str()
    ))
    .await
}

/// The transfers already made under any of `keys`.
pub async fn transfers_by_keys(
    exec: &mut Exec<'_>,
    county: CountyCode,
    keys: &[&str],
) -> Result<Vec<TransferRow>> {
    let pg = exec.is_postgres();
    exec.fetch_all(q!(keys_sql(pg), county, db::text_list(pg, keys)))
        .await
}

pub(super) fn keys_sql(pg: bool) -> String {
    format!(
        "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE county_code = $1 AND {}",
        db::in_list(pg, "idem_key", "$2", "TEXT")
    )
}

/// Appends transfers. Returns how many went in: fewer than given means another writer took
/// one of the keys meanwhile, and the caller must roll back and retry.
pub async fn insert_transfers(exec: &mut Exec<'_>, rows: &[TransferRow]) -> Result<u64> {
    use serde_json::json;
    let batch = json_batch(rows.iter().map(|r| {
        json!([
            r.county_code.as_i64(),
            r.id,
            r.idem_key,
            r.fingerprint,
            r.unit,
            r.debit_id,
            r.credit_id,
            r.amount,
            r.debit_after,
            r.credit_after,
            r.reason,
            r.source_kind,
            r.source_ref,
            r.memo,
            r.reverses,
            r.actor_id,
            r.created_at,
            r.debit_prev,
            r.credit_prev
        ])
    }));
    exec.execute(q!(insert_sql(exec.is_postgres()), batch))
        .await
}

pub(super) fn insert_sql(pg: bool) -> String {
    // Fields in TRANSFER_COLUMNS order; the integers cast (PostgreSQL reads text).
    const INTEGERS: [usize; 12] = [0, 1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18];
    let fields: Vec<String> = (0..19)
        .map(|n| {
            if INTEGERS.contains(&n) {
                format!("CAST(j.value->>{n} AS BIGINT)")
            } else {
                format!("j.value->>{n}")
            }
        })
        .collect();
    // `WHERE true` tells SQLite the ON CONFLICT belongs to the INSERT, not to a join.
    format!(
        "INSERT INTO ledger_transfers ({TRANSFER_COLUMNS}) SELECT {} FROM {} WHERE true \
         ON CONFLICT (county_code, idem_key) DO NOTHING",
        fields.join(", "),
        db::json_rows(pg, "$1")
    )
}

pub async fn transfer(exec: &mut Exec<'_>, key: Key<TransferId>) -> Result<Option<TransferRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE county_code = $1 AND id = $2"
        ),
        key.county_code,
        key.id
    ))
    .await
}

/// The transfer reversing `id`, if one was made.
pub async fn reversal_of(exec: &mut Exec<'_>, key: Key<TransferId>) -> Result<Option<TransferRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE county_code = $1 AND reverses = $2"
        ),
        key.county_code,
        key.id
    ))
    .await
}

/// An account's transfers, newest first: `limit` of them after skipping `offset`, walked
/// back along its chain.
pub async fn statement(
    exec: &mut Exec<'_>,
    account: &AccountRow,
    limit: i64,
    offset: i64,
) -> Result<Vec<TransferRow>> {
    let sql = format!(
        "WITH RECURSIVE chain (n, id) AS (
             SELECT CAST(1 AS BIGINT), CAST($3 AS BIGINT)
             UNION ALL
             SELECT c.n + 1, {} FROM chain c
               JOIN ledger_transfers t ON t.county_code = $1 AND t.id = c.id
              WHERE c.n < $4)
         SELECT {} FROM chain c JOIN ledger_transfers t ON t.county_code = $1 AND t.id = c.id
          WHERE c.n > $5 ORDER BY c.n",
        prev_of("$2"),
        db::qualified(TRANSFER_COLUMNS, "t")
    );
    exec.fetch_all(q!(
        sql,
        account.county_code,
        account.id,
        account.last_transfer,
        offset + limit,
        offset
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Store, StoreOptions};

    /// On SQLite the group commit's batch statements search the ledger tables by key and never
    /// walk one whole: a plan that scans turns each commit from O(batch) into
    /// O(accounts × batch), and the planner has chosen that before (a row-value `IN (VALUES …)`,
    /// an `UPDATE … FROM` without MATERIALIZED).
    #[tokio::test]
    async fn batch_statements_search_rather_than_scan() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("plans.db").display());
        let store = Store::open_and_migrate(&StoreOptions::new(&url))
            .await
            .expect("open");
        for (sql, args) in [
            (lock_sql(false), 2),
            (keys_sql(false), 2),
            (insert_sql(false), 1),
            (balances_sql(false), 2),
        ] {
            let mut q = Query::new(format!("EXPLAIN QUERY PLAN {sql}"), Vec::new());
            if args == 2 {
                q.push_arg(370830i64);
            }
            q.push_arg("[]");
            let plan: Vec<(i64, i64, i64, String)> =
                store.write().fetch_all(q).await.expect("explain");
            let steps: Vec<&str> = plan.iter().map(|p| p.3.as_str()).collect();
            // A step on a ledger table must search by a whole key: `(county_code=? AND …)`,
            // not a scan and not a search of the county's range alone.
            let bad = steps
                .iter()
                .filter(|s| s.contains(" ledger_"))
                .any(|s| s.starts_with("SCAN") || !s.contains("(county_code=? AND "));
            assert!(!bad, "{sql}\nwalks a ledger table: {steps:?}");
        }
    }
}
