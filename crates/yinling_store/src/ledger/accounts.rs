//! Ledger accounts: open, find and lock a batch's accounts, read them, write new balances.

use super::*;

/// Finds the accounts, opening those missing with `path` and the given sign rule. Returns
/// ids in the order of `keys`, each with whether it existed before this call (an account
/// opened here vanishes if the transaction rolls back).
pub async fn open_accounts(
    exec: &mut Exec<'_>,
    keys: &[(AccountKey, String, bool)],
    now: Micros,
) -> Result<Vec<(LedgerAccountId, bool)>> {
    // Opened in one order, whatever order the caller names them in: two transactions
    // opening the same two accounts insert them in the same order, so on PostgreSQL the
    // second waits on the first's unique-index entry instead of each waiting on the other's
    // (a deadlock seen under 64 concurrent clients).
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| sort_key(&keys[a].0).cmp(&sort_key(&keys[b].0)));
    order.dedup_by(|a, b| keys[*a].0 == keys[*b].0);
    let mut out: Vec<Option<(LedgerAccountId, bool)>> = vec![None; keys.len()];
    for chunk in order.chunks(db::rows_per_statement(4)) {
        let found = find_accounts(exec, chunk.iter().map(|&i| &keys[i].0)).await?;
        let missing: Vec<usize> = chunk
            .iter()
            .copied()
            .filter(|&i| !found.iter().any(|r| same(r, &keys[i].0)))
            .collect();
        if !missing.is_empty() {
            let ids = crate::kernel::ids::allocate(
                exec,
                crate::kernel::ids::Seq::LedgerAccounts,
                missing.len(),
            )
            .await?;
            let mut q = Query::new("", Vec::new());
            let t = q.push_arg(now);
            let values: Vec<String> = missing
                .iter()
                .zip(&ids)
                .map(|(&i, id)| {
                    let (k, path, neg) = &keys[i];
                    format!(
                        "({}, {}, {}, {}, {}, {}, 0, {}, {t}, NULL, 0, 0)",
                        q.push_arg(k.county_code),
                        q.push_arg(*id),
                        q.push_arg(k.unit.as_str()),
                        q.push_arg(k.kind.as_str()),
                        q.push_arg(k.owner_id),
                        q.push_arg(path.as_str()),
                        q.push_arg(*neg)
                    )
                })
                .collect();
            q.sql = format!(
                "INSERT INTO ledger_accounts ({ACCOUNT_COLUMNS}) VALUES {} \
                 ON CONFLICT (county_code, unit, kind, owner_id) DO NOTHING",
                values.join(", ")
            )
            .into();
            exec.execute(q).await?;
        }
        let found = if missing.is_empty() {
            found
        } else {
            find_accounts(exec, chunk.iter().map(|&i| &keys[i].0)).await?
        };
        for &i in chunk {
            let id = found
                .iter()
                .find(|r| same(r, &keys[i].0))
                .map(|r| r.id)
                .ok_or_else(|| StoreError::Internal("opened ledger account missing".into()))?;
            out[i] = Some((id, !missing.contains(&i)));
        }
    }
    // A key named twice gets the answer of its first naming.
    for i in 0..keys.len() {
        if out[i].is_none()
            && let Some(j) = (0..i).find(|&j| keys[j].0 == keys[i].0)
        {
            out[i] = out[j];
        }
    }
    out.into_iter()
        .map(|o| o.ok_or_else(|| StoreError::Internal("ledger account not opened".into())))
        .collect()
}

pub(super) fn sort_key(k: &AccountKey) -> (CountyCode, &'static str, &'static str, i64) {
    (k.county_code, k.unit.as_str(), k.kind.as_str(), k.owner_id)
}

pub(super) fn same(r: &AccountRow, k: &AccountKey) -> bool {
    r.county_code == k.county_code
        && r.unit == k.unit
        && r.kind == k.kind
        && r.owner_id == k.owner_id
}

pub(super) async fn find_accounts<'k>(
    exec: &mut Exec<'_>,
    keys: impl Iterator<Item = &'k AccountKey>,
) -> Result<Vec<AccountRow>> {
    // One probe of the unique index per (county, unit, kind): `owner_id IN (…)`. (A row-value
    // `IN (VALUES …)` would scan the whole table on SQLite.)
    let mut groups: std::collections::BTreeMap<(CountyCode, &str, &str), Vec<i64>> =
        Default::default();
    for k in keys {
        groups
            .entry((k.county_code, k.unit.as_str(), k.kind.as_str()))
            .or_default()
            .push(k.owner_id);
    }
    let mut out = Vec::new();
    for ((county, unit, kind), owners) in groups {
        for chunk in owners.chunks(db::rows_per_statement(1)) {
            let mut q = Query::new("", Vec::new());
            let (c, u, k) = (q.push_arg(county), q.push_arg(unit), q.push_arg(kind));
            let list: Vec<String> = chunk.iter().map(|o| q.push_arg(*o)).collect();
            q.sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts \
                 WHERE county_code = {c} AND unit = {u} AND kind = {k} AND owner_id IN ({})",
                list.join(", ")
            )
            .into();
            out.extend(exec.fetch_all::<AccountRow>(q).await?);
        }
    }
    Ok(out)
}

/// Reads the accounts for a write: on PostgreSQL they stay locked until the transaction
/// ends, taken in id order.
pub async fn lock_accounts(
    exec: &mut Exec<'_>,
    county: CountyCode,
    ids: &[LedgerAccountId],
) -> Result<Vec<AccountRow>> {
    let mut sorted: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let pg = exec.is_postgres();
    exec.fetch_all(q!(lock_sql(pg), county, db::id_list(pg, &sorted)))
        .await
}

pub(super) fn lock_sql(pg: bool) -> String {
    let lock = db::Lock::Update.clause(pg);
    format!(
        "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE county_code = $1 AND {} \
         ORDER BY id{lock}",
        db::in_list(pg, "id", "$2", "BIGINT")
    )
}

/// `rows` as one JSON parameter for [`db::json_rows`].
pub(super) fn json_batch<T: serde::Serialize>(rows: impl Iterator<Item = T>) -> String {
    serde_json::to_string(&rows.collect::<Vec<T>>()).unwrap_or_default()
}

pub async fn account(exec: &mut Exec<'_>, key: Key<LedgerAccountId>) -> Result<Option<AccountRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE county_code = $1 AND id = $2"),
        key.county_code,
        key.id
    ))
    .await
}

pub async fn account_of(exec: &mut Exec<'_>, key: &AccountKey) -> Result<Option<AccountRow>> {
    Ok(find_accounts(exec, std::iter::once(key)).await?.pop())
}

/// Sets the cached balances and chain heads of locked accounts.
pub async fn set_balances(
    exec: &mut Exec<'_>,
    county: CountyCode,
    updates: &[AccountUpdate],
) -> Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let pg = exec.is_postgres();
    let mut q = q!(
        balances_sql(pg),
        county,
        json_batch(updates.iter().map(|u| [
            u.id.get(),
            u.balance,
            u.last_transfer.get(),
            u.last_at,
            u.entries
        ]))
    );
    if pg {
        let ids: Vec<i64> = updates.iter().map(|u| u.id.get()).collect();
        q.push_arg(db::id_list(true, &ids));
    }
    let n = exec.execute(q).await?;
    if n != updates.len() as u64 {
        return Err(StoreError::Internal(format!(
            "set {n} of {} ledger balances",
            updates.len()
        )));
    }
    Ok(())
}

pub(super) fn balances_sql(pg: bool) -> String {
    // The county comes from the batch too: given `county_code = $1`, SQLite walks the
    // county's accounts and looks each up in the batch, instead of the other way round.
    // PostgreSQL also gets the ids as an array, to find the accounts by index.
    let by_index = if pg {
        " AND ledger_accounts.county_code = $1 AND ledger_accounts.id = ANY(CAST($3 AS BIGINT[]))"
    } else {
        ""
    };
    let fields: Vec<String> = (0..5)
        .map(|n| format!("CAST(j.value->>{n} AS BIGINT)"))
        .collect();
    format!(
        "WITH v (county_code, id, balance, last_transfer, last_at, entries) AS MATERIALIZED \
         (SELECT CAST($1 AS BIGINT), {} FROM {}) \
         UPDATE ledger_accounts SET balance = v.balance, last_transfer = v.last_transfer, \
         last_at = v.last_at, entries = v.entries FROM v \
         WHERE ledger_accounts.county_code = v.county_code AND ledger_accounts.id = v.id{by_index}",
        fields.join(", "),
        db::json_rows(pg, "$2")
    )
}

/// Accounts of a kind and unit in a scope, largest balance first.
pub async fn accounts_in_scope(
    exec: &mut Exec<'_>,
    scope: &Scope,
    unit: Unit,
    kind: AccountKind,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AccountRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let wh = format!(
        "{} AND a.unit = {} AND a.kind = {}",
        scope::predicate(&mut q, scope, "a"),
        q.push_arg(unit.as_str()),
        q.push_arg(kind.as_str())
    );
    let mut count = q.clone();
    count.sql = format!("SELECT COUNT(*) FROM ledger_accounts a WHERE {wh}").into();
    let total: i64 = exec.scalar(count).await?;
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "SELECT {} FROM ledger_accounts a WHERE {wh} ORDER BY a.balance DESC, a.id LIMIT {l} OFFSET {o}",
        db::qualified(ACCOUNT_COLUMNS, "a")
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

/// For FIFO expiry: each person's points account in `county` holding points, as (id,
/// person, balance, points credited after `cutoff`). What was credited up to the cutoff
/// and not yet spent is the balance less the later credits ([`yinling_domain::ledger::fifo_expiring`]).
/// Each chain is walked back only until its later credits cover the balance, or to the
/// cutoff.
pub async fn expiry_candidates(
    exec: &mut Exec<'_>,
    county: CountyCode,
    cutoff: Micros,
) -> Result<Vec<(LedgerAccountId, i64, i64, i64)>> {
    let credit = "CASE WHEN t.credit_id = c.account THEN t.amount ELSE 0 END";
    let sql = format!(
        "WITH RECURSIVE chain (account, owner, balance, id, later) AS (
             SELECT a.id, a.owner_id, a.balance, a.last_transfer, CAST(0 AS BIGINT)
               FROM ledger_accounts a
              WHERE a.county_code = $1 AND a.unit = 'points' AND a.kind = 'person' AND a.balance > 0
             UNION ALL
             SELECT c.account, c.owner, c.balance,
                    CASE WHEN c.later + {credit} >= c.balance THEN NULL ELSE {} END,
                    c.later + {credit}
               FROM chain c JOIN ledger_transfers t ON t.county_code = $1 AND t.id = c.id
              WHERE t.created_at > $2)
         SELECT account, owner, balance, CAST(MAX(later) AS BIGINT) FROM chain
          GROUP BY account, owner, balance ORDER BY account",
        prev_of("c.account")
    );
    exec.fetch_all(q!(sql, county, cutoff)).await
}

/// Counties with any ledger account.
pub async fn counties(exec: &mut Exec<'_>) -> Result<Vec<CountyCode>> {
    exec.scalars(q!(
        "SELECT DISTINCT county_code FROM ledger_accounts ORDER BY county_code"
    ))
    .await
}
