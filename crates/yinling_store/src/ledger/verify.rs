//! The checks `yinling ledger verify` runs.

use super::*;

/// Everything that disagrees. Reads the whole ledger: a tool for operators, not a request.
pub async fn verify(exec: &mut Exec<'_>) -> Result<(Vec<Finding>, VerifyCounts)> {
    let mut out = Vec::new();
    let rows: Vec<(CountyCode, LedgerAccountId, i64, i64, bool)> = exec
        .fetch_all(q!(
            "SELECT a.county_code, a.id, a.balance,
                    CAST(COALESCE(c.s, 0) - COALESCE(d.s, 0) AS BIGINT), a.may_go_negative
               FROM ledger_accounts a
               LEFT JOIN (SELECT county_code, credit_id AS id, SUM(amount) AS s FROM ledger_transfers
                           GROUP BY county_code, credit_id) c
                      ON c.county_code = a.county_code AND c.id = a.id
               LEFT JOIN (SELECT county_code, debit_id AS id, SUM(amount) AS s FROM ledger_transfers
                           GROUP BY county_code, debit_id) d
                      ON d.county_code = a.county_code AND d.id = a.id
              ORDER BY a.county_code, a.id"
        ))
        .await?;
    let accounts = rows.len() as i64;
    for (county_code, account, cached, computed, neg) in rows {
        if cached != computed {
            out.push(Finding::Balance {
                county_code,
                account,
                cached,
                computed,
            });
        }
        if !neg && computed < 0 {
            out.push(Finding::Negative {
                county_code,
                account,
                balance: computed,
            });
        }
    }
    let sums: Vec<(CountyCode, Unit, i64)> = exec
        .fetch_all(q!(
            "SELECT county_code, unit, CAST(SUM(balance) AS BIGINT) FROM ledger_accounts
              GROUP BY county_code, unit HAVING SUM(balance) <> 0"
        ))
        .await?;
    out.extend(
        sums.into_iter()
            .map(|(county_code, unit, sum)| Finding::UnitSum {
                county_code,
                unit,
                sum,
            }),
    );
    let mismatched: Vec<(CountyCode, TransferId)> = exec
        .fetch_all(q!("SELECT t.county_code, t.id FROM ledger_transfers t
               JOIN ledger_accounts d ON d.county_code = t.county_code AND d.id = t.debit_id
               JOIN ledger_accounts c ON c.county_code = t.county_code AND c.id = t.credit_id
              WHERE d.unit <> t.unit OR c.unit <> t.unit"))
        .await?;
    out.extend(
        mismatched
            .into_iter()
            .map(|(county_code, transfer)| Finding::UnitMismatch {
                county_code,
                transfer,
            }),
    );
    let running: Vec<(CountyCode, LedgerAccountId, i64, i64)> = exec
        .fetch_all(q!(
            "SELECT a.county_code, a.id, a.balance,
                    CASE WHEN t.debit_id = a.id THEN t.debit_after ELSE t.credit_after END
               FROM ledger_accounts a
               JOIN ledger_transfers t ON t.county_code = a.county_code AND t.id = a.last_transfer
              WHERE a.balance <> CASE WHEN t.debit_id = a.id THEN t.debit_after
                                      WHEN t.credit_id = a.id THEN t.credit_after END"
        ))
        .await?;
    out.extend(
        running
            .into_iter()
            .map(
                |(county_code, account, balance, after_last)| Finding::RunningBalance {
                    county_code,
                    account,
                    balance,
                    after_last,
                },
            ),
    );
    // Each account's head is its newest transfer, and it counts all of them. With the links
    // below (each steps back to an earlier transfer of the account, no two to the same one)
    // that makes the chain one path through every transfer of the account.
    let sides = "SELECT county_code, debit_id AS account, id, created_at, debit_prev AS prev
                   FROM ledger_transfers
                 UNION ALL
                 SELECT county_code, credit_id, id, created_at, credit_prev FROM ledger_transfers";
    let heads: Vec<(CountyCode, LedgerAccountId)> = exec
        .fetch_all(q!(format!(
            "SELECT a.county_code, a.id FROM ledger_accounts a
               LEFT JOIN (SELECT county_code, account, MAX(id) AS head, COUNT(*) AS n,
                                 MAX(created_at) AS at
                            FROM ({sides}) s GROUP BY county_code, account) s
                      ON s.county_code = a.county_code AND s.account = a.id
              WHERE COALESCE(a.last_transfer, 0) <> COALESCE(s.head, 0)
                 OR a.entries <> COALESCE(s.n, 0) OR a.last_at <> COALESCE(s.at, 0)"
        )))
        .await?;
    out.extend(
        heads
            .into_iter()
            .map(|(county_code, account)| Finding::Head {
                county_code,
                account,
            }),
    );
    let mut links: Vec<(CountyCode, LedgerAccountId, TransferId)> = Vec::new();
    for (account, after, prev, step) in [
        ("debit_id", "debit_after", "debit_prev", "-"),
        ("credit_id", "credit_after", "credit_prev", "+"),
    ] {
        links.extend(
            exec.fetch_all::<(CountyCode, LedgerAccountId, TransferId)>(q!(format!(
                "SELECT t.county_code, t.{account}, t.id FROM ledger_transfers t
                   LEFT JOIN ledger_transfers p ON p.county_code = t.county_code AND p.id = t.{prev}
                  WHERE NOT COALESCE(
                        (t.{prev} IS NULL OR (p.id < t.id AND p.created_at <= t.created_at))
                        AND CASE WHEN t.{prev} IS NULL THEN 0
                                 WHEN p.debit_id = t.{account} THEN p.debit_after
                                 WHEN p.credit_id = t.{account} THEN p.credit_after END
                            {step} t.amount = t.{after}, FALSE)"
            )))
            .await?,
        );
    }
    links.extend(
        exec.fetch_all::<(CountyCode, LedgerAccountId, TransferId)>(q!(format!(
            "SELECT county_code, account, CAST(MAX(id) AS BIGINT) FROM ({sides}) s
              GROUP BY county_code, account, COALESCE(prev, 0) HAVING COUNT(*) > 1"
        )))
        .await?,
    );
    out.extend(
        links
            .into_iter()
            .map(|(county_code, account, transfer)| Finding::Link {
                county_code,
                account,
                transfer,
            }),
    );
    // Every transfer since migration 0008 was written with its audit event (`ledger.<reason>`
    // on entity `ledger_transfer`, key `county/id`), in the same transaction. Transfers up to
    // the id that migration recorded were made before and are not checked (nor is anything
    // on a database without the record).
    let unaudited: Vec<(CountyCode, TransferId)> = exec
        .fetch_all(q!(
            "SELECT t.county_code, t.id FROM ledger_transfers t
              WHERE t.id > CAST((SELECT value FROM meta WHERE name = 'ledger_audited_after') AS BIGINT)
                AND NOT EXISTS (SELECT 1 FROM audit_events a
                                 WHERE a.county_code = t.county_code AND a.entity = 'ledger_transfer'
                                   AND a.entity_key = CAST(t.county_code AS TEXT) || '/' || CAST(t.id AS TEXT))
              ORDER BY t.county_code, t.id"
        ))
        .await?;
    out.extend(
        unaudited
            .into_iter()
            .map(|(county_code, transfer)| Finding::Unaudited {
                county_code,
                transfer,
            }),
    );
    let transfers: i64 = exec
        .scalar(q!("SELECT COUNT(*) FROM ledger_transfers"))
        .await?;
    Ok((
        out,
        VerifyCounts {
            accounts,
            transfers,
        },
    ))
}
