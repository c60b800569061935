//! The points and time-bank ledger: accounts, append-only transfers, per-county rules,
//! adjustments awaiting approval, and the checks `yinling ledger verify` runs.
//!
//! A batch of transfers is written with a handful of statements whatever its size: the
//! accounts it touches are locked and read at once (PostgreSQL `FOR UPDATE`, in id order so
//! two batches never deadlock; SQLite has one writer), the transfers go in as one insert
//! and the new balances in one `UPDATE … FROM`.
//!
//! An account's transfers form a chain (migration 0006): each transfer names the previous
//! transfer of its debit and of its credit account, each account its latest. There is no
//! index by account, so a transfer is written in one place; readers walk a chain back from
//! the latest by primary key ([`statement`], [`recent_sums`], [`expiry_candidates`]).
//! Along a chain `created_at` never decreases (the caller dates a batch no earlier than
//! the `last_at` of its accounts), so a walk back to a moment stops exactly there.

use serde::Serialize;
use yinling_domain::scope::Scope;

use crate::{Exec, Micros, Query, Result, StoreError, db, q, scope};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AccountRow {
    pub county_code: i64,
    pub id: i64,
    pub unit: String,
    pub kind: String,
    pub owner_id: i64,
    pub path: String,
    pub balance: i64,
    pub may_go_negative: bool,
    pub created_at: Micros,
    /// The account's latest transfer: the head of its chain.
    pub last_transfer: Option<i64>,
    /// The latest `created_at` of its transfers (0 before the first).
    pub last_at: Micros,
    /// How many transfers it is in.
    pub entries: i64,
}

const ACCOUNT_COLUMNS: &str = "county_code, id, unit, kind, owner_id, path, balance, \
     may_go_negative, created_at, last_transfer, last_at, entries";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TransferRow {
    pub county_code: i64,
    pub id: i64,
    pub idem_key: String,
    pub fingerprint: String,
    pub unit: String,
    pub debit_id: i64,
    pub credit_id: i64,
    pub amount: i64,
    pub debit_after: i64,
    pub credit_after: i64,
    pub reason: String,
    pub source_kind: String,
    pub source_ref: String,
    pub memo: String,
    pub reverses: Option<i64>,
    pub actor_id: Option<i64>,
    pub created_at: Micros,
    /// The debit account's transfer before this one.
    pub debit_prev: Option<i64>,
    /// The credit account's transfer before this one.
    pub credit_prev: Option<i64>,
}

const TRANSFER_COLUMNS: &str = "county_code, id, idem_key, fingerprint, unit, debit_id, credit_id, \
     amount, debit_after, credit_after, reason, source_kind, source_ref, memo, reverses, actor_id, \
     created_at, debit_prev, credit_prev";

/// An account to find or open: unique by (county, unit, kind, owner).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountKey {
    pub county_code: i64,
    pub unit: &'static str,
    pub kind: &'static str,
    pub owner_id: i64,
}

/// Finds the accounts, opening those missing with `path` and the given sign rule. Returns
/// ids in the order of `keys`, each with whether it existed before this call (an account
/// opened here vanishes if the transaction rolls back).
pub async fn open_accounts(
    exec: &mut Exec<'_>,
    keys: &[(AccountKey, String, bool)],
    now: Micros,
) -> Result<Vec<(i64, bool)>> {
    // Opened in one order, whatever order the caller names them in: two transactions
    // opening the same two accounts insert them in the same order, so on PostgreSQL the
    // second waits on the first's unique-index entry instead of each waiting on the other's
    // (a deadlock seen under 64 concurrent clients).
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| sort_key(&keys[a].0).cmp(&sort_key(&keys[b].0)));
    order.dedup_by(|a, b| keys[*a].0 == keys[*b].0);
    let mut out = vec![(0i64, false); keys.len()];
    for chunk in order.chunks(db::rows_per_statement(4)) {
        let found = find_accounts(exec, chunk.iter().map(|&i| &keys[i].0)).await?;
        let missing: Vec<usize> = chunk
            .iter()
            .copied()
            .filter(|&i| !found.iter().any(|r| same(r, &keys[i].0)))
            .collect();
        if !missing.is_empty() {
            let ids =
                crate::ids::allocate(exec, crate::ids::Seq::LedgerAccounts, missing.len()).await?;
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
                        q.push_arg(k.unit),
                        q.push_arg(k.kind),
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
            out[i] = (id, !missing.contains(&i));
        }
    }
    // A key named twice gets the answer of its first naming.
    for i in 0..keys.len() {
        if out[i].0 == 0
            && let Some(j) = (0..i).find(|&j| keys[j].0 == keys[i].0)
        {
            out[i] = out[j];
        }
    }
    Ok(out)
}

fn sort_key(k: &AccountKey) -> (i64, &'static str, &'static str, i64) {
    (k.county_code, k.unit, k.kind, k.owner_id)
}

fn same(r: &AccountRow, k: &AccountKey) -> bool {
    r.county_code == k.county_code
        && r.unit == k.unit
        && r.kind == k.kind
        && r.owner_id == k.owner_id
}

async fn find_accounts<'k>(
    exec: &mut Exec<'_>,
    keys: impl Iterator<Item = &'k AccountKey>,
) -> Result<Vec<AccountRow>> {
    // One probe of the unique index per (county, unit, kind): `owner_id IN (…)`. (A row-value
    // `IN (VALUES …)` would scan the whole table on SQLite.)
    let mut groups: std::collections::BTreeMap<(i64, &str, &str), Vec<i64>> = Default::default();
    for k in keys {
        groups
            .entry((k.county_code, k.unit, k.kind))
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
    county: i64,
    ids: &[i64],
) -> Result<Vec<AccountRow>> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let pg = exec.is_postgres();
    exec.fetch_all(q!(lock_sql(pg), county, db::id_list(pg, &sorted)))
        .await
}

fn lock_sql(pg: bool) -> String {
    let lock = if pg { " FOR UPDATE" } else { "" };
    format!(
        "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE county_code = $1 AND {} \
         ORDER BY id{lock}",
        db::in_list(pg, "id", "$2", "BIGINT")
    )
}

/// `rows` as one JSON parameter for [`db::json_rows`].
fn json_batch<T: serde::Serialize>(rows: impl Iterator<Item = T>) -> String {
    serde_json::to_string(&rows.collect::<Vec<T>>()).unwrap_or_default()
}

pub async fn account(exec: &mut Exec<'_>, county: i64, id: i64) -> Result<Option<AccountRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE county_code = $1 AND id = $2"),
        county,
        id
    ))
    .await
}

pub async fn account_of(exec: &mut Exec<'_>, key: &AccountKey) -> Result<Option<AccountRow>> {
    Ok(find_accounts(exec, std::iter::once(key)).await?.pop())
}

/// Which side of its transfers an account is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Debit,
    Credit,
}

/// The chain step from transfer `t` back to the previous transfer of account `{account}`.
fn prev_of(account: &str) -> String {
    format!("CASE WHEN t.debit_id = {account} THEN t.debit_prev ELSE t.credit_prev END")
}

/// For each account, the sum of its transfers on `side` with `reason` made at or after
/// `since`: walks each chain back from the latest transfer and stops at the first one
/// older than `since`. The daily cap's count (credits, `earn`) and the year's gifts to
/// family (debits, `family`).
pub async fn recent_sums(
    exec: &mut Exec<'_>,
    county: i64,
    ids: &[i64],
    side: Side,
    reason: &str,
    since: Micros,
) -> Result<Vec<(i64, i64)>> {
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
    exec.fetch_all(q!(sql, county, db::id_list(pg, ids), since, reason))
        .await
}

/// The transfers already made under any of `keys`.
pub async fn transfers_by_keys(
    exec: &mut Exec<'_>,
    county: i64,
    keys: &[&str],
) -> Result<Vec<TransferRow>> {
    let pg = exec.is_postgres();
    exec.fetch_all(q!(keys_sql(pg), county, db::text_list(pg, keys)))
        .await
}

fn keys_sql(pg: bool) -> String {
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
            r.county_code,
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

fn insert_sql(pg: bool) -> String {
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

/// What a batch changed on a locked account: its balance and the head of its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountUpdate {
    pub id: i64,
    pub balance: i64,
    pub last_transfer: i64,
    pub last_at: Micros,
    pub entries: i64,
}

/// Sets the cached balances and chain heads of locked accounts.
pub async fn set_balances(
    exec: &mut Exec<'_>,
    county: i64,
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
            u.id,
            u.balance,
            u.last_transfer,
            u.last_at,
            u.entries
        ]))
    );
    if pg {
        let ids: Vec<i64> = updates.iter().map(|u| u.id).collect();
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

fn balances_sql(pg: bool) -> String {
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

pub async fn transfer(exec: &mut Exec<'_>, county: i64, id: i64) -> Result<Option<TransferRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE county_code = $1 AND id = $2"
        ),
        county,
        id
    ))
    .await
}

/// The transfer reversing `id`, if one was made.
pub async fn reversal_of(exec: &mut Exec<'_>, county: i64, id: i64) -> Result<Option<TransferRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE county_code = $1 AND reverses = $2"
        ),
        county,
        id
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

/// Accounts of a kind and unit in a scope, largest balance first.
pub async fn accounts_in_scope(
    exec: &mut Exec<'_>,
    scope: &Scope,
    unit: &str,
    kind: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AccountRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let wh = format!(
        "{} AND a.unit = {} AND a.kind = {}",
        scope::predicate(&mut q, scope, "a"),
        q.push_arg(unit),
        q.push_arg(kind)
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
    county: i64,
    cutoff: Micros,
) -> Result<Vec<(i64, i64, i64, i64)>> {
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
pub async fn counties(exec: &mut Exec<'_>) -> Result<Vec<i64>> {
    exec.scalars(q!(
        "SELECT DISTINCT county_code FROM ledger_accounts ORDER BY county_code"
    ))
    .await
}

// ---- rules ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RulesRow {
    pub county_code: i64,
    pub daily_points_cap: Option<i64>,
    pub daily_minutes_cap: Option<i64>,
    pub expiry_months: Option<i64>,
    pub family_transfer: String,
    pub family_max_minutes_year: i64,
    /// The most points one redemption code may spend (the elder may choose less).
    pub max_points_per_code: i64,
    pub updated_at: Micros,
    pub version: i64,
}

pub async fn rules(exec: &mut Exec<'_>, county: i64) -> Result<Option<RulesRow>> {
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
            &r.family_transfer,
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
            &r.family_transfer,
            r.family_max_minutes_year,
            r.updated_at,
            version,
            r.max_points_per_code
        ))
        .await?
    };
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EarningRuleRow {
    pub county_code: i64,
    pub source_kind: String,
    pub code: String,
    pub label: String,
    pub points: i64,
    pub minutes: i64,
    pub updated_at: Micros,
}

pub async fn earning_rules(exec: &mut Exec<'_>, county: i64) -> Result<Vec<EarningRuleRow>> {
    exec.fetch_all(q!(
        "SELECT county_code, source_kind, code, label, points, minutes, updated_at
           FROM earning_rules WHERE county_code = $1 ORDER BY source_kind, code",
        county
    ))
    .await
}

pub async fn earning_rule(
    exec: &mut Exec<'_>,
    county: i64,
    source_kind: &str,
    code: &str,
) -> Result<Option<EarningRuleRow>> {
    exec.fetch_optional(q!(
        "SELECT county_code, source_kind, code, label, points, minutes, updated_at
           FROM earning_rules WHERE county_code = $1 AND source_kind = $2 AND code = $3",
        county,
        source_kind,
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
        &r.source_kind,
        &r.code,
        &r.label,
        r.points,
        r.minutes,
        r.updated_at
    ))
    .await?;
    Ok(())
}

// ---- verification ----

/// One difference `yinling ledger verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Finding {
    /// The cached balance is not credits minus debits.
    Balance {
        county_code: i64,
        account: i64,
        cached: i64,
        computed: i64,
    },
    /// An account that may not go negative is negative.
    Negative {
        county_code: i64,
        account: i64,
        balance: i64,
    },
    /// The balances of a unit in a county do not sum to zero.
    UnitSum {
        county_code: i64,
        unit: String,
        sum: i64,
    },
    /// A transfer joins accounts of another unit than its own.
    UnitMismatch { county_code: i64, transfer: i64 },
    /// An account's latest transfer does not end at its balance.
    RunningBalance {
        county_code: i64,
        account: i64,
        balance: i64,
        after_last: i64,
    },
    /// An account's head, count of transfers or latest time is not that of its transfers.
    Head { county_code: i64, account: i64 },
    /// A transfer's link to the account's previous transfer is wrong: the previous one is
    /// not of that account, not earlier, later in time, or does not step to this balance;
    /// or two transfers follow the same one (a fork).
    Link {
        county_code: i64,
        account: i64,
        transfer: i64,
    },
    /// A transfer made since every transfer is audited (migration 0008) has no audit event.
    Unaudited { county_code: i64, transfer: i64 },
}

/// Everything that disagrees. Reads the whole ledger: a tool for operators, not a request.
pub async fn verify(exec: &mut Exec<'_>) -> Result<(Vec<Finding>, VerifyCounts)> {
    let mut out = Vec::new();
    let rows: Vec<(i64, i64, i64, i64, bool)> = exec
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
    let sums: Vec<(i64, String, i64)> = exec
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
    let mismatched: Vec<(i64, i64)> = exec
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
    let running: Vec<(i64, i64, i64, i64)> = exec
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
    let heads: Vec<(i64, i64)> = exec
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
    let mut links: Vec<(i64, i64, i64)> = Vec::new();
    for (account, after, prev, step) in [
        ("debit_id", "debit_after", "debit_prev", "-"),
        ("credit_id", "credit_after", "credit_prev", "+"),
    ] {
        links.extend(
            exec.fetch_all::<(i64, i64, i64)>(q!(format!(
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
        exec.fetch_all::<(i64, i64, i64)>(q!(format!(
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
    let unaudited: Vec<(i64, i64)> = exec
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerifyCounts {
    pub accounts: i64,
    pub transfers: i64,
}

// ---- adjustments ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdjustmentRow {
    pub county_code: i64,
    pub id: i64,
    pub unit: String,
    pub person_id: i64,
    pub path: String,
    pub amount: i64,
    pub memo: String,
    pub status: String,
    pub proposed_by: i64,
    pub proposed_by_name: String,
    pub proposed_at: Micros,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Micros>,
    pub transfer_id: Option<i64>,
}

const ADJUSTMENT_COLUMNS: &str = "county_code, id, unit, person_id, path, amount, memo, status, \
     proposed_by, proposed_by_name, proposed_at, decided_by, decided_by_name, decided_at, transfer_id";

pub async fn insert_adjustment(exec: &mut Exec<'_>, r: &AdjustmentRow) -> Result<()> {
    exec.execute(q!(
        format!(
            "INSERT INTO ledger_adjustments ({ADJUSTMENT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, NULL, NULL)"
        ),
        r.county_code,
        r.id,
        &r.unit,
        r.person_id,
        &r.path,
        r.amount,
        &r.memo,
        &r.status,
        r.proposed_by,
        &r.proposed_by_name,
        r.proposed_at
    ))
    .await?;
    Ok(())
}

pub async fn adjustment(
    exec: &mut Exec<'_>,
    county: i64,
    id: i64,
) -> Result<Option<AdjustmentRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {ADJUSTMENT_COLUMNS} FROM ledger_adjustments WHERE county_code = $1 AND id = $2"
        ),
        county,
        id
    ))
    .await
}

/// Adjustments in a scope, newest first (at most 500).
pub async fn adjustments(
    exec: &mut Exec<'_>,
    scope: &Scope,
    status: Option<&str>,
) -> Result<Vec<AdjustmentRow>> {
    let mut q = Query::new("", Vec::new());
    let mut wh = scope::predicate(&mut q, scope, "a");
    if let Some(s) = status {
        wh += &format!(" AND a.status = {}", q.push_arg(s));
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
    county: i64,
    id: i64,
    status: &str,
    by: i64,
    by_name: &str,
    now: Micros,
    transfer_id: Option<i64>,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "UPDATE ledger_adjustments SET status = $3, decided_by = $4, decided_by_name = $5,
                 decided_at = $6, transfer_id = $7
             WHERE county_code = $1 AND id = $2 AND status = 'pending'",
            county,
            id,
            status,
            by,
            by_name,
            now,
            transfer_id
        ))
        .await?;
    Ok(n == 1)
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
