//! The points and time-bank ledger (信用+积分, 时间银行): every award, redemption, gift,
//! withdrawal, expiry and correction is a [`Posting`] applied by [`apply`] inside a
//! transaction. [`apply`] is the one place that writes transfers, and it writes each
//! transfer's audit event (`ledger.<reason>`, who asked and from where) in the same
//! transaction, so every movement is in the hash-chained audit log by construction.
//!
//! Idempotency keys a client sends are stored in the client's namespace
//! ([`client_key`]: `c:<account>:<operation>:<key>`), apart from the keys the system derives
//! (`entitlement:…`, `adjustment:…`), so no request can take a key a job will need.
//! Staff never pay themselves: awards, adjustments, their approval and reversals in favour
//! of the caller's own file or household are refused and the refusal is audited.
//!
//! Standalone postings go through one writer task per process ([`LedgerWriter`]): callers
//! queue them and await their receipt; the writer takes whatever has queued, applies it in
//! one transaction and one durable commit, then answers each caller. This is group commit:
//! under load a single fsync acknowledges hundreds of transfers, and nothing is acknowledged
//! before it is committed. Work that must move points atomically with something else (a
//! redemption decrements stock; an entitlement is marked taken) calls [`apply`] inside its
//! own transaction instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use yinling_domain::{
    ledger::{
        self, AccountKind, AccountState, Content, Decision, Reason, Refusal, SourceKind, Unit,
    },
    org::OrgPath,
    role::Permission,
    time::local_date,
};
use yinling_store::{
    Store, Tx, accounts as store_accounts,
    audit::{self as store_audit, NewAuditEvent},
    ids::{self, Seq},
    ledger::{
        self as store_ledger, AccountKey, AccountRow, AccountUpdate, EarningRuleRow, RulesRow,
        Side, TransferRow,
    },
    orders as store_orders, org as store_org, people as store_people,
};

use crate::{App, AppError, AppResult, Caller, Clock, Key, Page, PageRequest, audit::Event};

/// Whose account: a person's, a shop's, or a county's pool or expiry account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Holder {
    Person { county_code: i64, id: i64 },
    Shop { county_code: i64, id: i64 },
    Pool { county_code: i64 },
    Expiry { county_code: i64 },
}

impl Holder {
    pub fn county_code(self) -> i64 {
        match self {
            Holder::Person { county_code, .. }
            | Holder::Shop { county_code, .. }
            | Holder::Pool { county_code }
            | Holder::Expiry { county_code } => county_code,
        }
    }

    pub fn kind(self) -> AccountKind {
        match self {
            Holder::Person { .. } => AccountKind::Person,
            Holder::Shop { .. } => AccountKind::Shop,
            Holder::Pool { .. } => AccountKind::Pool,
            Holder::Expiry { .. } => AccountKind::Expiry,
        }
    }

    fn owner_id(self) -> i64 {
        match self {
            Holder::Person { id, .. } | Holder::Shop { id, .. } => id,
            Holder::Pool { .. } | Holder::Expiry { .. } => 0,
        }
    }

    pub(crate) fn key(self, unit: Unit) -> AccountKey {
        AccountKey {
            county_code: self.county_code(),
            unit: unit.as_str(),
            kind: self.kind().as_str(),
            owner_id: self.owner_id(),
        }
    }

    /// How the holder is written in a fingerprint: `person:370830/17`.
    fn code(self) -> String {
        format!(
            "{}:{}/{}",
            self.kind().as_str(),
            self.county_code(),
            self.owner_id()
        )
    }
}

/// Who asked for a posting: the caller's account, username and address, or a job's name.
/// Recorded on the transfer (`actor_id`) and in its audit event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub id: Option<i64>,
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn of(caller: &Caller) -> Actor {
        Actor {
            id: caller.account_id,
            name: caller.username.clone(),
            ip: caller.ip.clone(),
        }
    }

    /// A job or tool acting on its own (`job:ledger.claim`, `demo`, `bench`).
    pub fn system(name: &str) -> Actor {
        Actor {
            id: None,
            name: name.to_owned(),
            ip: None,
        }
    }
}

/// The key a client's idempotency key is stored under for `operation` (`earn`, `gift`,
/// `redeem`): `c:<account>:<operation>:<key>`, after checking the key (8–100 visible ASCII
/// characters). The same caller retrying gets the same stored key; another caller, or the
/// system, never does.
pub fn client_key(caller: &Caller, operation: &str, key: &str) -> AppResult<String> {
    ledger::client_key(caller.account_id.unwrap_or(0), operation, key)
        .map_err(|m| AppError::invalid("invalid_idempotency_key", "idempotency_key", m))
}

/// One movement to make: from `debit` to `credit`, `amount` of `unit`.
#[derive(Debug, Clone)]
pub struct Posting {
    pub unit: Unit,
    pub debit: Holder,
    pub credit: Holder,
    pub amount: i64,
    pub reason: Reason,
    pub source_kind: SourceKind,
    pub source_ref: String,
    pub memo: String,
    /// The idempotency key: a retry with the same key and content returns the first
    /// receipt and moves nothing again. A client's key goes through [`client_key`].
    pub key: String,
    pub reverses: Option<i64>,
    /// Who asked, for the transfer and its audit event.
    pub actor: Actor,
    /// For awards: the most the credited person may earn today.
    pub daily_cap: Option<i64>,
}

impl Posting {
    fn fingerprint(&self) -> String {
        Content {
            unit: self.unit.as_str(),
            debit: &self.debit.code(),
            credit: &self.credit.code(),
            amount: self.amount,
            reason: self.reason.as_str(),
            source_kind: self.source_kind.as_str(),
            source_ref: &self.source_ref,
            memo: &self.memo,
        }
        .fingerprint()
    }

    fn check(&self) -> AppResult<()> {
        if self.debit.county_code() != self.credit.county_code() {
            return Err(AppError::invalid(
                "cross_county",
                "credit",
                "积分和时间只能在同一县（市、区）内流转",
            ));
        }
        if self.debit == self.credit {
            return Err(AppError::invalid(
                "same_account",
                "credit",
                "转出和转入不能是同一个账户",
            ));
        }
        if self.amount <= 0 || self.amount > ledger::MAX_AMOUNT {
            return Err(AppError::invalid(
                "invalid_amount",
                "amount",
                format!("数量须为1至{}之间的整数", ledger::MAX_AMOUNT),
            ));
        }
        ledger::check_stored_key(&self.key)
            .map_err(|m| AppError::invalid("invalid_idempotency_key", "idempotency_key", m))?;
        if self.memo.chars().count() > 200 || self.source_ref.chars().count() > 100 {
            return Err(AppError::invalid(
                "memo_too_long",
                "memo",
                "备注最多200字，来源编号最多100字",
            ));
        }
        // Every posting, typed or made by a job: no invisible characters in what a
        // statement shows (typed memos are also checked for numbers where they enter).
        crate::text::check(
            &self.source_ref,
            crate::text::TextKind::Label,
            "source_ref",
            "来源编号",
        )?;
        if let Some(c) =
            yinling_domain::text::invisible_char(&self.memo, crate::text::TextKind::Lines)
        {
            let e = yinling_domain::text::TextError::Invisible(c);
            return Err(AppError::invalid(e.code(), "memo", format!("备注中{e}")));
        }
        Ok(())
    }
}

/// What a transfer did; a retry gets the same receipt with `replayed` set.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    pub transfer: TransferRow,
    /// True when this answers a retry of a transfer made before.
    pub replayed: bool,
}

/// Something [`apply`] cannot finish because another writer got there first: the caller
/// rolls back and tries again.
const RETRY: &str = "ledger batch raced another writer";

/// Whether [`apply`] asked for the transaction to be tried again.
fn is_retry(e: &AppError) -> bool {
    matches!(e, AppError::Internal(m) if m == RETRY)
}

/// Account ids never change once opened, so each process remembers them. A remembered id
/// is checked against the row it names whenever it is used (see `apply_county`).
#[derive(Debug, Default)]
pub struct AccountIds(Mutex<HashMap<AccountKey, i64>>);

impl AccountIds {
    fn get(&self, k: &AccountKey) -> Option<i64> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(k)
            .copied()
    }

    fn put(&self, k: AccountKey, id: i64) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(k, id);
    }

    fn forget(&self, keys: &[AccountKey]) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            map.remove(k);
        }
    }
}

/// Applies postings in order inside `tx`. Each gets its own outcome: a refusal (not enough
/// points, daily cap, key reused, an account whose owner does not exist) leaves the others
/// unaffected. Returns `Err` only when the whole transaction must be abandoned.
///
/// Every transfer applied gets one audit event in the same transaction (`ledger.<reason>`
/// on entity `ledger_transfer`, key `<county>/<id>`, the posting's actor and address, the
/// transfer's fingerprint as its digest and the amount, unit, source and both accounts as
/// its detail); replays and refusals get none. Counties are taken in order, so two
/// transactions lock accounts and audit chains in the same order.
pub async fn apply(
    tx: &mut Tx,
    ids_cache: &AccountIds,
    postings: &[Posting],
    now: i64,
) -> AppResult<Vec<AppResult<Receipt>>> {
    let mut out: Vec<Option<AppResult<Receipt>>> =
        postings.iter().map(|p| p.check().err().map(Err)).collect();
    let mut by_county: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
    for (i, p) in postings.iter().enumerate() {
        if out[i].is_none() {
            by_county.entry(p.debit.county_code()).or_default().push(i);
        }
    }
    for (county, idx) in by_county {
        apply_county(tx, ids_cache, postings, &idx, county, now, &mut out).await?;
    }
    Ok(out
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(AppError::Internal("posting left undecided".into()))))
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn apply_county(
    tx: &mut Tx,
    ids_cache: &AccountIds,
    postings: &[Posting],
    idx: &[usize],
    county: i64,
    now: i64,
    out: &mut [Option<AppResult<Receipt>>],
) -> AppResult<()> {
    // 1. Account ids (opening accounts on first use). A posting whose person or shop does
    //    not exist is refused alone.
    let mut id_of: HashMap<(Holder, Unit), i64> = HashMap::new();
    let mut to_open = Vec::new();
    for &i in idx {
        let p = &postings[i];
        for h in [p.debit, p.credit] {
            if id_of.contains_key(&(h, p.unit)) || to_open.contains(&(h, p.unit)) {
                continue;
            }
            match ids_cache.get(&h.key(p.unit)) {
                Some(id) => {
                    id_of.insert((h, p.unit), id);
                }
                None => to_open.push((h, p.unit)),
            }
        }
    }
    let mut missing: Vec<Holder> = Vec::new();
    if !to_open.is_empty() {
        let mut specs = Vec::with_capacity(to_open.len());
        let mut opening = Vec::with_capacity(to_open.len());
        for (h, u) in to_open {
            match holder_path(tx, h).await {
                Ok(path) => {
                    specs.push((h.key(u), path, h.kind().may_go_negative()));
                    opening.push((h, u));
                }
                Err(AppError::NotFound { .. }) => missing.push(h),
                Err(e) => return Err(e),
            }
        }
        let opened = store_ledger::open_accounts(&mut tx.exec(), &specs, now).await?;
        for ((h, u), (id, existed)) in opening.into_iter().zip(opened) {
            // Only ids of committed accounts are remembered: one opened in this
            // transaction is gone if it rolls back, and its id may be given to another.
            if existed {
                ids_cache.put(h.key(u), id);
            }
            id_of.insert((h, u), id);
        }
    }
    let idx: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|&i| {
            let p = &postings[i];
            match missing.iter().find(|h| **h == p.debit || **h == p.credit) {
                Some(h) => {
                    out[i] = Some(Err(holder_missing(*h)));
                    false
                }
                None => true,
            }
        })
        .collect();
    if idx.is_empty() {
        return Ok(());
    }
    let acct = |p: &Posting, h: Holder| id_of[&(h, p.unit)];

    // 2. Lock the accounts, then look for keys already used (after the lock, so a writer
    //    that held these accounts has committed and its keys are visible).
    let account_ids: Vec<i64> = id_of.values().copied().collect();
    let rows = store_ledger::lock_accounts(&mut tx.exec(), county, &account_ids).await?;
    // A remembered id may be stale: its account was opened in a transaction that then
    // rolled back (and on SQLite the id may since belong to another account). Forget it
    // and start over.
    let by_id: HashMap<i64, &AccountRow> = rows.iter().map(|r| (r.id, r)).collect();
    let stale: Vec<AccountKey> = id_of
        .iter()
        .map(|((h, u), id)| (h.key(*u), *id))
        .filter(|(k, id)| {
            !by_id
                .get(id)
                .is_some_and(|r| r.unit == k.unit && r.kind == k.kind && r.owner_id == k.owner_id)
        })
        .map(|(k, _)| k)
        .collect();
    if !stale.is_empty() {
        ids_cache.forget(&stale);
        return Err(AppError::Internal(RETRY.into()));
    }
    // Dated no earlier than the latest transfer of any of its accounts, so that time never
    // runs backwards along an account's chain (a clock stepped back, a writer that waited
    // for a lock) and a walk back to a moment can stop there.
    let now = rows.iter().map(|r| r.last_at).fold(now, i64::max);
    let keys: Vec<&str> = idx.iter().map(|&i| postings[i].key.as_str()).collect();
    let existing: HashMap<String, TransferRow> =
        store_ledger::transfers_by_keys(&mut tx.exec(), county, &keys)
            .await?
            .into_iter()
            .map(|t| (t.idem_key.clone(), t))
            .collect();

    // 3. Today's earnings for capped awards.
    let capped: Vec<i64> = idx
        .iter()
        .filter(|&&i| postings[i].daily_cap.is_some())
        .map(|&i| acct(&postings[i], postings[i].credit))
        .collect();
    let day_start = day_start(now);
    let earned: HashMap<i64, i64> = if capped.is_empty() {
        HashMap::new()
    } else {
        store_ledger::recent_sums(
            &mut tx.exec(),
            county,
            &capped,
            Side::Credit,
            Reason::Earn.as_str(),
            day_start,
        )
        .await?
        .into_iter()
        .collect()
    };
    let mut states: HashMap<i64, AccountState> = rows
        .iter()
        .map(|r| {
            (
                r.id,
                AccountState {
                    balance: r.balance,
                    may_go_negative: r.may_go_negative,
                    earned_today: earned.get(&r.id).copied().unwrap_or(0),
                },
            )
        })
        .collect();

    // 4. Decide.
    let mut plan_idx = Vec::new();
    let mut items = Vec::new();
    for &i in &idx {
        let p = &postings[i];
        let fp = p.fingerprint();
        if let Some(t) = existing.get(&p.key) {
            out[i] = Some(if t.fingerprint == fp {
                Ok(Receipt {
                    transfer: t.clone(),
                    replayed: true,
                })
            } else {
                Err(refusal_error(Refusal::KeyReused, p.unit))
            });
            continue;
        }
        plan_idx.push(i);
        items.push(ledger::Item {
            key: p.key.clone(),
            fingerprint: fp,
            debit: acct(p, p.debit),
            credit: acct(p, p.credit),
            amount: p.amount,
            daily_cap: p.daily_cap,
        });
    }
    let decisions = ledger::plan(&items, &mut states);

    // 5. Write what applies.
    let applied = decisions
        .iter()
        .filter(|d| matches!(d, Decision::Apply { .. }))
        .count();
    let new_ids = ids::allocate(&mut tx.exec(), Seq::LedgerTransfers, applied).await?;
    let mut new_ids = new_ids.into_iter();
    let mut rows_out: Vec<TransferRow> = Vec::with_capacity(applied);
    let mut events: Vec<NewAuditEvent> = Vec::with_capacity(applied);
    let mut row_of: Vec<Option<usize>> = vec![None; items.len()];
    // Each account's chain head and count as the batch extends it.
    let mut heads: HashMap<i64, (Option<i64>, i64)> = rows
        .iter()
        .map(|r| (r.id, (r.last_transfer, r.entries)))
        .collect();
    let mut link = |account: i64, id: i64| {
        let head = heads.entry(account).or_insert((None, 0));
        let prev = head.0.replace(id);
        head.1 += 1;
        prev
    };
    for (n, d) in decisions.iter().enumerate() {
        if let Decision::Apply {
            amount,
            debit_after,
            credit_after,
        } = *d
        {
            let p = &postings[plan_idx[n]];
            let id = new_ids
                .next()
                .ok_or_else(|| AppError::Internal("too few transfer ids".into()))?;
            row_of[n] = Some(rows_out.len());
            let (debit_prev, credit_prev) = (link(items[n].debit, id), link(items[n].credit, id));
            rows_out.push(TransferRow {
                county_code: county,
                id,
                idem_key: p.key.clone(),
                fingerprint: items[n].fingerprint.clone(),
                unit: p.unit.as_str().to_owned(),
                debit_id: items[n].debit,
                credit_id: items[n].credit,
                amount,
                debit_after,
                credit_after,
                reason: p.reason.as_str().to_owned(),
                source_kind: p.source_kind.as_str().to_owned(),
                source_ref: p.source_ref.clone(),
                memo: p.memo.clone(),
                reverses: p.reverses,
                actor_id: p.actor.id,
                created_at: now,
                debit_prev,
                credit_prev,
            });
            events.push(transfer_event(
                p,
                &items[n].fingerprint,
                county,
                id,
                amount,
                now,
            ));
        }
    }
    if !rows_out.is_empty() {
        let inserted = store_ledger::insert_transfers(&mut tx.exec(), &rows_out)
            .await
            .map_err(|e| match e {
                // Two reversals of one transfer raced: the unique index refused the second.
                yinling_store::StoreError::Conflict { .. } => AppError::Internal(RETRY.into()),
                other => other.into(),
            })?;
        if inserted != rows_out.len() as u64 {
            return Err(AppError::Internal(RETRY.into()));
        }
        let changed: Vec<AccountUpdate> = rows
            .iter()
            .filter_map(|r| {
                let (last, entries) = heads[&r.id];
                (entries != r.entries).then(|| AccountUpdate {
                    id: r.id,
                    balance: states[&r.id].balance,
                    last_transfer: last.unwrap_or_default(),
                    last_at: now,
                    entries,
                })
            })
            .collect();
        store_ledger::set_balances(&mut tx.exec(), county, &changed).await?;
        store_audit::append(&mut tx.exec(), &events).await?;
    }
    for (n, d) in decisions.into_iter().enumerate() {
        let i = plan_idx[n];
        out[i] = Some(match d {
            Decision::Apply { .. } => Ok(Receipt {
                transfer: rows_out[row_of[n].unwrap_or_default()].clone(),
                replayed: false,
            }),
            Decision::SameAs(j) => Ok(Receipt {
                transfer: rows_out[row_of[j].unwrap_or_default()].clone(),
                replayed: true,
            }),
            Decision::Refuse(r) => Err(refusal_error(r, postings[i].unit)),
        });
    }
    Ok(())
}

/// The audit event of a transfer as applied: who asked, the movement, no personal data
/// (the memo and the source reference, which may be free text, stay on the transfer; the
/// digest is the transfer's content fingerprint, so the event vouches for the row).
fn transfer_event(
    p: &Posting,
    fingerprint: &str,
    county: i64,
    id: i64,
    amount: i64,
    at: i64,
) -> NewAuditEvent {
    let mut detail = serde_json::json!({
        "amount": amount,
        "unit": p.unit.as_str(),
        "source": p.source_kind.as_str(),
        "debit": p.debit.code(),
        "credit": p.credit.code(),
    });
    if let Some(r) = p.reverses {
        detail["reverses"] = r.into();
    }
    NewAuditEvent {
        county_code: county,
        at,
        actor_id: p.actor.id,
        actor_name: p.actor.name.clone(),
        ip: p.actor.ip.clone(),
        action: format!("ledger.{}", p.reason.as_str()),
        entity: "ledger_transfer".to_owned(),
        entity_key: Some(format!("{county}/{id}")),
        before_digest: None,
        after_digest: Some(fingerprint.to_owned()),
        detail: Some(detail.to_string()),
    }
}

/// The refusal of a posting whose person or shop does not exist.
fn holder_missing(h: Holder) -> AppError {
    match h {
        Holder::Shop { .. } => AppError::NotFound {
            what: "合作商户"
        },
        _ => AppError::NotFound { what: "人员" },
    }
}

/// Where an account's owner is in the tree, for scope.
async fn holder_path(tx: &mut Tx, h: Holder) -> AppResult<String> {
    match h {
        Holder::Person { county_code, id } => store_people::get(&mut tx.exec(), county_code, id)
            .await?
            .map(|p| p.path)
            .ok_or(AppError::NotFound { what: "人员" }),
        Holder::Shop { county_code, id } => store_org::get(&mut tx.exec(), county_code, id)
            .await?
            .map(|u| u.path)
            .ok_or(AppError::NotFound {
                what: "合作商户"
            }),
        Holder::Pool { county_code } | Holder::Expiry { county_code } => {
            Ok(crate::county_path(county_code).as_str().to_owned())
        }
    }
}

/// Midnight in Shanghai of the day containing `now`.
fn day_start(now: i64) -> i64 {
    let date = local_date(now);
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    (midnight - chrono::Duration::hours(8))
        .and_utc()
        .timestamp_micros()
}

/// "30分" or "1小时30分钟".
pub fn amount_text(unit: Unit, amount: i64) -> String {
    match unit {
        Unit::Points => format!("{amount}分"),
        Unit::Minutes => ledger::minutes_text(amount),
    }
}

fn refusal_error(r: Refusal, unit: Unit) -> AppError {
    match r {
        Refusal::Insufficient { balance, amount } => AppError::conflict(
            "insufficient_balance",
            Some("amount"),
            format!(
                "{}不足：现有{}，需要{}",
                unit.label_zh(),
                amount_text(unit, balance),
                amount_text(unit, amount)
            ),
        ),
        Refusal::DailyCap { cap } => AppError::conflict(
            "daily_cap_reached",
            Some("amount"),
            format!(
                "今天获得的{}已达上限（每天{}）",
                unit.label_zh(),
                amount_text(unit, cap)
            ),
        ),
        Refusal::KeyReused => AppError::conflict(
            "idempotency_key_reused",
            Some("idempotency_key"),
            "这个幂等键已用于另一笔内容不同的转账，请换一个新的幂等键",
        ),
        Refusal::Overflow => AppError::invalid("invalid_amount", "amount", "数量超出范围"),
        Refusal::UnknownAccount => AppError::Internal("posting account not loaded".into()),
    }
}

/// Applies one posting inside `tx`: its receipt, or why it was refused.
pub async fn apply_one(
    tx: &mut Tx,
    ids_cache: &AccountIds,
    posting: &Posting,
    now: i64,
) -> AppResult<Receipt> {
    apply(tx, ids_cache, std::slice::from_ref(posting), now)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal("posting left undecided".into()))?
}

/// Runs `attempt` — one whole transaction — again when [`apply`] lost a race to another
/// writer, at most five more times. A failed attempt's transaction rolls back as it drops.
/// (A closure returning an `async move` block over borrowed values: an `async` closure's
/// future is not provably `Send`.)
pub async fn retrying<T, F: Future<Output = AppResult<T>>>(
    mut attempt: impl FnMut() -> F,
) -> AppResult<T> {
    let mut retries = 0;
    loop {
        match attempt().await {
            Err(e) if is_retry(&e) && retries < 5 => retries += 1,
            other => return other,
        }
    }
}

/// Runs `apply` in a transaction of its own.
async fn apply_alone(
    store: &Store,
    ids_cache: &AccountIds,
    postings: &[Posting],
    now: i64,
) -> AppResult<Vec<AppResult<Receipt>>> {
    retrying(|| async move {
        let mut tx = store.begin().await?;
        let results = apply(&mut tx, ids_cache, postings, now).await?;
        tx.commit().await?;
        Ok(results)
    })
    .await
}

// ---- the group-commit writer ----

struct Job {
    posting: Posting,
    reply: oneshot::Sender<AppResult<Receipt>>,
}

/// Most postings one commit carries.
const MAX_BATCH: usize = 2_000;

/// The queue in front of the one writer task. Started on first use.
#[derive(Default)]
pub struct LedgerWriter {
    sender: OnceLock<mpsc::Sender<Job>>,
    ids: Arc<AccountIds>,
}

impl LedgerWriter {
    pub fn ids(&self) -> &AccountIds {
        &self.ids
    }

    fn sender(&self, store: &Store, clock: &Clock) -> mpsc::Sender<Job> {
        self.sender
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
                tokio::spawn(run_writer(
                    store.clone(),
                    clock.clone(),
                    self.ids.clone(),
                    rx,
                ));
                tx
            })
            .clone()
    }
}

async fn run_writer(
    store: Store,
    clock: Clock,
    ids_cache: Arc<AccountIds>,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let postings: Vec<Posting> = jobs.iter().map(|j| j.posting.clone()).collect();
        let result = apply_alone(&store, &ids_cache, &postings, clock.now()).await;
        match result {
            Ok(results) => {
                for (job, r) in jobs.drain(..).zip(results) {
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, batch = jobs.len(), "ledger batch failed");
                for job in jobs.drain(..) {
                    let _ = job
                        .reply
                        .send(Err(AppError::Internal(format!("ledger batch failed: {e}"))));
                }
            }
        }
    }
}

impl App {
    /// Queues a posting for the writer and waits until it is committed (or refused).
    pub async fn post(&self, posting: Posting) -> AppResult<Receipt> {
        posting.check()?;
        let (reply, answer) = oneshot::channel();
        self.ledger_writer()
            .sender(self.store(), self.clock())
            .send(Job { posting, reply })
            .await
            .map_err(|_| AppError::Internal("ledger writer stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("ledger writer dropped a posting".into()))?
    }

    /// Applies postings in one transaction of the caller's own (no queue): for jobs.
    pub async fn post_now(&self, postings: &[Posting]) -> AppResult<Vec<AppResult<Receipt>>> {
        apply_alone(
            self.store(),
            self.ledger_writer().ids(),
            postings,
            self.now(),
        )
        .await
    }
}

// ---- reading ----

/// A person's points and time-bank balances.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Balances {
    pub county_code: i64,
    pub person_id: i64,
    pub name: String,
    pub points: i64,
    pub minutes: i64,
    /// 1小时30分钟
    pub minutes_text: String,
}

/// One line of a statement, as the holder reads it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementLine {
    pub transfer_id: i64,
    pub at: i64,
    /// 2026-11-29 08:05
    pub at_text: String,
    pub reason: Reason,
    pub reason_label: &'static str,
    pub memo: String,
    pub source_kind: String,
    pub source_ref: String,
    /// Positive in, negative out.
    pub change: i64,
    pub balance_after: i64,
}

impl StatementLine {
    fn of(account: i64, t: TransferRow) -> StatementLine {
        let out = t.debit_id == account;
        let reason = Reason::parse(&t.reason).unwrap_or(Reason::Adjust);
        StatementLine {
            transfer_id: t.id,
            at: t.created_at,
            at_text: yinling_domain::time::format_minutes(t.created_at),
            reason,
            reason_label: reason.label_zh(),
            memo: t.memo,
            source_kind: t.source_kind,
            source_ref: t.source_ref,
            change: if out { -t.amount } else { t.amount },
            balance_after: if out { t.debit_after } else { t.credit_after },
        }
    }
}

impl App {
    pub fn ledger_writer(&self) -> &LedgerWriter {
        &self.inner.ledger
    }

    /// Checks the caller may see this person's ledger: themselves, or staff over them.
    async fn ledger_person(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
    ) -> AppResult<(String, String)> {
        let person = store_people::get(&mut self.store().read(), county, id)
            .await?
            .ok_or(AppError::NotFound { what: "人员" })?;
        let own = caller.person == Some((county, id));
        let staff = OrgPath::parse(&person.path)
            .is_ok_and(|p| caller.scope(Permission::ViewPeople).covers(&p));
        if !own && !staff {
            return Err(AppError::NotFound { what: "人员" });
        }
        Ok((person.name, person.path))
    }

    pub async fn balances(&self, caller: &Caller, county: i64, id: i64) -> AppResult<Balances> {
        let (name, _) = self.ledger_person(caller, county, id).await?;
        let mut exec = self.store().read();
        let holder = Holder::Person {
            county_code: county,
            id,
        };
        let points = store_ledger::account_of(&mut exec, &holder.key(Unit::Points))
            .await?
            .map_or(0, |a| a.balance);
        let minutes = store_ledger::account_of(&mut exec, &holder.key(Unit::Minutes))
            .await?
            .map_or(0, |a| a.balance);
        Ok(Balances {
            county_code: county,
            person_id: id,
            name,
            points,
            minutes,
            minutes_text: ledger::minutes_text(minutes),
        })
    }

    /// A person's statement for one unit, newest first.
    pub async fn statement(
        &self,
        caller: &Caller,
        holder: Key,
        unit: Unit,
        page: PageRequest,
    ) -> AppResult<Page<StatementLine>> {
        self.ledger_person(caller, holder.county_code, holder.id)
            .await?;
        let key = Holder::Person {
            county_code: holder.county_code,
            id: holder.id,
        }
        .key(unit);
        self.account_statement(&key, page).await
    }

    pub(crate) async fn account_statement(
        &self,
        key: &AccountKey,
        page: PageRequest,
    ) -> AppResult<Page<StatementLine>> {
        let mut exec = self.store().read();
        let Some(account) = store_ledger::account_of(&mut exec, key).await? else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
                total_is_lower_bound: false,
                page: page.page,
                per_page: page.per_page,
            });
        };
        let rows =
            store_ledger::statement(&mut exec, &account, page.per_page, page.offset()).await?;
        let total = account.entries;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|t| StatementLine::of(account.id, t))
                .collect(),
            total,
            total_is_lower_bound: false,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// The people of the caller's scope by points or time-bank balance, largest first.
    pub async fn ledger_accounts(
        &self,
        caller: &Caller,
        unit: Unit,
        page: PageRequest,
    ) -> AppResult<Page<AccountRow>> {
        let (items, total) = store_ledger::accounts_in_scope(
            &mut self.store().read(),
            &caller.scope(Permission::ViewPeople),
            unit.as_str(),
            AccountKind::Person.as_str(),
            page.per_page,
            page.offset(),
        )
        .await?;
        Ok(Page {
            items,
            total,
            total_is_lower_bound: false,
            page: page.page,
            per_page: page.per_page,
        })
    }
}

// ---- rules ----

/// A county's ledger rules, with the defaults where it has set none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rules {
    pub county_code: i64,
    /// Most points one person may earn in a day; none: no cap.
    pub daily_points_cap: Option<i64>,
    /// Most time-bank minutes one person may earn in a day.
    pub daily_minutes_cap: Option<i64>,
    /// Points expire this many months after they were earned, oldest first; none: never.
    pub expiry_months: Option<i64>,
    /// Whether hours may be given to a member of one's household.
    pub family_transfer: bool,
    /// Most minutes one person may give to family in a calendar year.
    pub family_max_minutes_year: i64,
    /// Most points one redemption code may spend; the elder may choose less for a code.
    #[serde(default = "Rules::default_code_cap")]
    pub max_points_per_code: i64,
    /// 0 before the county first saved its rules.
    pub version: i64,
}

impl Rules {
    fn defaults(county_code: i64) -> Rules {
        Rules {
            county_code,
            daily_points_cap: Some(100),
            daily_minutes_cap: Some(8 * 60),
            expiry_months: Some(24),
            family_transfer: true,
            family_max_minutes_year: 50 * 60,
            max_points_per_code: Self::default_code_cap(),
            version: 0,
        }
    }

    fn default_code_cap() -> i64 {
        300
    }

    fn from_row(r: RulesRow) -> Rules {
        Rules {
            county_code: r.county_code,
            daily_points_cap: r.daily_points_cap,
            daily_minutes_cap: r.daily_minutes_cap,
            expiry_months: r.expiry_months,
            family_transfer: r.family_transfer == "household",
            family_max_minutes_year: r.family_max_minutes_year,
            max_points_per_code: r.max_points_per_code,
            version: r.version,
        }
    }

    pub fn daily_cap(&self, unit: Unit) -> Option<i64> {
        match unit {
            Unit::Points => self.daily_points_cap,
            Unit::Minutes => self.daily_minutes_cap,
        }
    }
}

/// An earning rule: what an activity type or a mediation outcome is worth.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EarningRuleInput {
    pub county_code: i64,
    /// `activity` or `mediation`.
    pub source_kind: SourceKind,
    /// The activity type (e.g. `theme_day`) or mediation outcome (`success`, `partial`, …).
    pub code: String,
    pub label: String,
    pub points: i64,
    pub minutes: i64,
}

impl App {
    pub async fn ledger_rules(&self, county: i64) -> AppResult<Rules> {
        Ok(store_ledger::rules(&mut self.store().read(), county)
            .await?
            .map_or_else(|| Rules::defaults(county), Rules::from_row))
    }

    fn may_manage_county(&self, caller: &Caller, county: i64) -> AppResult<()> {
        if caller
            .scope(Permission::ManageLedger)
            .covers(&crate::county_path(county))
        {
            Ok(())
        } else {
            Err(AppError::forbidden("只有县级管理员可以修改积分规则"))
        }
    }

    pub async fn set_ledger_rules(&self, caller: &Caller, r: Rules) -> AppResult<Rules> {
        self.may_manage_county(caller, r.county_code)?;
        for (v, field, what) in [
            (r.daily_points_cap, "daily_points_cap", "每日积分上限"),
            (
                r.daily_minutes_cap,
                "daily_minutes_cap",
                "每日时长上限（分钟）",
            ),
        ] {
            if let Some(v) = v
                && !(1..=ledger::MAX_AMOUNT).contains(&v)
            {
                return Err(AppError::invalid(
                    "invalid_rule",
                    field,
                    format!("{what}须为正整数"),
                ));
            }
        }
        if let Some(m) = r.expiry_months
            && !(1..=120).contains(&m)
        {
            return Err(AppError::invalid(
                "invalid_rule",
                "expiry_months",
                "积分有效期须为1至120个月",
            ));
        }
        if !(1..=ledger::MAX_AMOUNT).contains(&r.max_points_per_code) {
            return Err(AppError::invalid(
                "invalid_rule",
                "max_points_per_code",
                format!(
                    "每个兑换码最多可兑换的积分须为1至{}之间的整数",
                    ledger::MAX_AMOUNT
                ),
            ));
        }
        if !(0..=ledger::MAX_AMOUNT).contains(&r.family_max_minutes_year) {
            return Err(AppError::invalid(
                "invalid_rule",
                "family_max_minutes_year",
                "每年转赠上限须为0或正整数（分钟）",
            ));
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let row = RulesRow {
            county_code: r.county_code,
            daily_points_cap: r.daily_points_cap,
            daily_minutes_cap: r.daily_minutes_cap,
            expiry_months: r.expiry_months,
            family_transfer: if r.family_transfer {
                "household"
            } else {
                "off"
            }
            .to_owned(),
            family_max_minutes_year: r.family_max_minutes_year,
            max_points_per_code: r.max_points_per_code,
            updated_at: now,
            version: r.version,
        };
        if !store_ledger::save_rules(&mut tx.exec(), &row, r.version).await? {
            return Err(yinling_store::StoreError::Stale.into());
        }
        let after = serde_json::to_value(&r).unwrap_or_default();
        let event = self.audit_event(
            caller,
            Event {
                county_code: r.county_code,
                action: "ledger.rules",
                entity: "ledger_rules",
                entity_key: r.county_code.to_string(),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        self.ledger_rules(r.county_code).await
    }

    pub async fn earning_rules(&self, county: i64) -> AppResult<Vec<EarningRuleRow>> {
        Ok(store_ledger::earning_rules(&mut self.store().read(), county).await?)
    }

    pub async fn put_earning_rule(
        &self,
        caller: &Caller,
        input: EarningRuleInput,
    ) -> AppResult<EarningRuleRow> {
        self.may_manage_county(caller, input.county_code)?;
        if !matches!(
            input.source_kind,
            SourceKind::Activity | SourceKind::Mediation
        ) {
            return Err(AppError::invalid(
                "invalid_rule",
                "source_kind",
                "积分规则只能按活动类型或调解结果设置（服务项目的积分在服务清单中设置）",
            ));
        }
        let code = input.code.trim();
        if code.is_empty()
            || code.len() > 40
            || !code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(AppError::invalid(
                "invalid_rule",
                "code",
                "代码须为1至40个小写字母、数字或下划线",
            ));
        }
        if input.source_kind == SourceKind::Mediation
            && yinling_domain::mediation::Outcome::parse(code).is_none()
        {
            return Err(AppError::invalid(
                "invalid_rule",
                "code",
                "调解结果只能是 success、partial、failed 或 referred",
            ));
        }
        let label = input.label.trim();
        if label.is_empty() || label.chars().count() > 30 {
            return Err(AppError::invalid(
                "invalid_rule",
                "label",
                "名称须为1至30字",
            ));
        }
        crate::text::check(label, crate::text::TextKind::Label, "label", "名称")?;
        for (v, field) in [(input.points, "points"), (input.minutes, "minutes")] {
            if !(0..=10_000).contains(&v) {
                return Err(AppError::invalid(
                    "invalid_rule",
                    field,
                    "积分和时长须为0至10000之间的整数",
                ));
            }
        }
        let row = EarningRuleRow {
            county_code: input.county_code,
            source_kind: input.source_kind.as_str().to_owned(),
            code: code.to_owned(),
            label: label.to_owned(),
            points: input.points,
            minutes: input.minutes,
            updated_at: self.now(),
        };
        let mut tx = self.store().begin().await?;
        store_ledger::put_earning_rule(&mut tx.exec(), &row).await?;
        let after = serde_json::to_value(&row).unwrap_or_default();
        let event = self.audit_event(
            caller,
            Event {
                county_code: row.county_code,
                action: "ledger.earning_rule",
                entity: "earning_rule",
                entity_key: format!("{}/{}", row.source_kind, row.code),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(row)
    }
}

// ---- nobody pays themselves ----

/// How a person file stands to someone: their own linked file, or a member of its
/// household (people sharing its `household_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kin {
    Own,
    Household,
}

/// A staff action that would move points or hours to someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Benefit {
    Earn,
    Propose,
    Decide,
    /// Approving what was proposed for the proposer's own file or household (proposed
    /// before this was refused at proposal).
    ProposerKin,
    Reverse,
    /// Deciding a 不是我本人兑换 report about one's own or one's household's redemption.
    ResolveReport,
}

impl Benefit {
    fn as_str(self) -> &'static str {
        match self {
            Benefit::Earn => "earn",
            Benefit::Propose => "adjustment.propose",
            Benefit::Decide => "adjustment.decide",
            Benefit::ProposerKin => "adjustment.approve_proposer_kin",
            Benefit::Reverse => "reverse",
            Benefit::ResolveReport => "redeem_report.resolve",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Benefit::Earn => "不能给自己或同户家人发放积分，请由其他工作人员办理",
            Benefit::Propose => "不能为自己或同户家人提出积分调整，请由其他工作人员办理",
            Benefit::Decide => "不能审批自己或同户家人的积分调整，请由其他有审批权的人处理",
            Benefit::ProposerKin => "这条调整是提出人为本人或同户家人提出的，不能同意，只能驳回",
            Benefit::Reverse => "这笔冲正会转给您本人或同户家人，请由其他管理员办理",
            Benefit::ResolveReport => "这份报告涉及您本人或您的家人，请由其他管理员处理",
        }
    }
}

impl App {
    /// How person `(county, id)` stands to the person file `of` (a caller's linked file):
    /// the same file, the same household, or neither (also when there is no linked file).
    pub async fn kin_of(
        &self,
        of: Option<(i64, i64)>,
        county: i64,
        id: i64,
    ) -> AppResult<Option<Kin>> {
        let Some(of) = of else { return Ok(None) };
        if of == (county, id) {
            return Ok(Some(Kin::Own));
        }
        if of.0 != county {
            return Ok(None);
        }
        let mut exec = self.store().read();
        let Some(own) = store_people::get(&mut exec, of.0, of.1).await? else {
            return Ok(None);
        };
        let Some(household) = own.household_id else {
            return Ok(None);
        };
        let other = store_people::get(&mut exec, county, id).await?;
        Ok(other
            .is_some_and(|p| p.household_id == Some(household))
            .then_some(Kin::Household))
    }

    /// The person file linked to an account, if any.
    async fn person_of_account(&self, account: i64) -> AppResult<Option<(i64, i64)>> {
        Ok(store_accounts::get(&mut self.store().read(), account)
            .await?
            .and_then(|a| a.person_county_code.zip(a.person_id)))
    }

    /// Refuses an action that would benefit the caller's own file or household: records
    /// the refusal in the audit log (its own committed transaction — the action itself
    /// writes nothing) and returns the error to show.
    async fn refuse_benefit(
        &self,
        caller: &Caller,
        what: Benefit,
        county: i64,
        person: i64,
        kin: Kin,
        adjustment: Option<i64>,
    ) -> AppError {
        let detail = serde_json::json!({
            "op": what.as_str(),
            "relation": kin,
            "adjustment": adjustment,
        });
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "ledger.self_benefit_refused",
                entity: "person",
                entity_key: format!("{county}/{person}"),
                before: None,
                after: None,
                detail: Some(detail.to_string()),
            },
        );
        let written = async {
            let mut tx = self.store().begin().await?;
            store_audit::append(&mut tx.exec(), &[event]).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        }
        .await;
        match written {
            Ok(()) => AppError::forbidden(what.message()),
            Err(e) => e,
        }
    }

    /// Refuses (and audits) `what` when person `(county, id)` is the caller's own file or
    /// in its household.
    pub(crate) async fn not_for_self(
        &self,
        caller: &Caller,
        what: Benefit,
        county: i64,
        id: i64,
        adjustment: Option<i64>,
    ) -> AppResult<()> {
        match self.kin_of(caller.person, county, id).await? {
            Some(kin) => Err(self
                .refuse_benefit(caller, what, county, id, kin, adjustment)
                .await),
            None => Ok(()),
        }
    }
}

// ---- earning ----

/// An award for taking part in an activity, valued by the county's earning rule.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EarnInput {
    pub person: Key,
    /// The activity type of an earning rule.
    pub activity: String,
    /// What was attended (e.g. `activity/2026-11-theme-day`): shown on the statement.
    pub source_ref: String,
    /// The client's idempotency key (8–100 visible ASCII characters): a retry by the same
    /// caller with the same key moves nothing twice. Keys are the caller's own.
    pub idempotency_key: String,
}

/// The points and minutes an award moved (either may be absent when the rule awards none).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Award {
    pub points: Option<Receipt>,
    pub minutes: Option<Receipt>,
}

impl App {
    /// Awards a person for an activity by the county's earning rule, within the daily caps.
    pub async fn earn(&self, caller: &Caller, input: EarnInput) -> AppResult<Award> {
        let Key {
            county_code: county,
            id,
        } = input.person;
        store_people::get(&mut self.store().read(), county, id)
            .await?
            .filter(|p| {
                OrgPath::parse(&p.path)
                    .is_ok_and(|path| caller.scope(Permission::AwardPoints).covers(&path))
            })
            .ok_or(AppError::NotFound { what: "人员" })?;
        let key = client_key(caller, "earn", &input.idempotency_key)?;
        self.not_for_self(caller, Benefit::Earn, county, id, None)
            .await?;
        let rule = store_ledger::earning_rule(
            &mut self.store().read(),
            county,
            SourceKind::Activity.as_str(),
            input.activity.trim(),
        )
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "unknown_activity",
                "activity",
                format!("本县没有“{}”这类活动的积分规则", input.activity.trim()),
            )
        })?;
        let rules = self.ledger_rules(county).await?;
        let holder = Holder::Person {
            county_code: county,
            id,
        };
        let base = |unit: Unit, amount: i64| Posting {
            unit,
            debit: Holder::Pool {
                county_code: county,
            },
            credit: holder,
            amount,
            reason: Reason::Earn,
            source_kind: SourceKind::Activity,
            source_ref: input.source_ref.trim().to_owned(),
            memo: rule.label.clone(),
            key: format!("{key}:{}", unit.as_str()),
            reverses: None,
            actor: Actor::of(caller),
            daily_cap: rules.daily_cap(unit),
        };
        let points = if rule.points > 0 {
            Some(self.post(base(Unit::Points, rule.points)).await?)
        } else {
            None
        };
        let minutes = if rule.minutes > 0 {
            Some(self.post(base(Unit::Minutes, rule.minutes)).await?)
        } else {
            None
        };
        Ok(Award { points, minutes })
    }
}

/// An item a job could not process, set aside so the rest of its batch goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetAside {
    pub county_code: i64,
    /// The entitlement (claims) or the account (expiry).
    pub id: i64,
    /// Why: the refusal's code and message.
    pub reason: String,
}

impl SetAside {
    fn new(county_code: i64, id: i64, unit: Unit, e: &AppError) -> SetAside {
        SetAside {
            county_code,
            id,
            reason: format!("{} {}: {e}", unit.as_str(), e.code()),
        }
    }
}

/// What a run of the entitlement job did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClaimReport {
    pub entitlements: usize,
    pub transfers: usize,
    /// Awards clipped to nothing by a daily cap: the entitlement is closed as `capped`.
    pub capped: usize,
    /// Entitlements the ledger refused: closed as `failed` with the reason, not retried.
    pub set_aside: Vec<SetAside>,
}

/// Who the ledger jobs act as in the audit log.
const CLAIM_JOB: &str = "job:ledger.claim";
const EXPIRY_JOB: &str = "job:ledger.expire";

impl App {
    /// Takes pending awards (from completed orders, concluded mediation) into the ledger,
    /// each exactly once: the entitlement is marked taken in the same transaction as its
    /// transfers, whose keys are derived from the entitlement id.
    pub async fn claim_entitlements(&self, limit: i64) -> AppResult<ClaimReport> {
        let now = self.now();
        let mut report = ClaimReport::default();
        while let Some(batch) = retrying(|| self.claim_batch(limit, now)).await? {
            report.entitlements += batch.entitlements;
            report.transfers += batch.transfers;
            report.capped += batch.capped;
            report.set_aside.extend(batch.set_aside);
        }
        Ok(report)
    }

    /// One transaction of [`App::claim_entitlements`]; `None` when nothing is pending.
    async fn claim_batch(&self, limit: i64, now: i64) -> AppResult<Option<ClaimReport>> {
        let mut report = ClaimReport::default();
        let mut tx = self.store().begin().await?;
        let pending = store_orders::pending_entitlements(&mut tx.exec(), limit).await?;
        if pending.is_empty() {
            return Ok(None);
        }
        let mut postings = Vec::new();
        let mut owner = Vec::new();
        for e in &pending {
            let rules = self.ledger_rules(e.county_code).await?;
            for (unit, amount) in [(Unit::Points, e.points), (Unit::Minutes, e.hours_minutes)] {
                if amount <= 0 {
                    continue;
                }
                owner.push(e.id);
                postings.push(Posting {
                    unit,
                    debit: Holder::Pool {
                        county_code: e.county_code,
                    },
                    credit: Holder::Person {
                        county_code: e.county_code,
                        id: e.person_id,
                    },
                    amount,
                    reason: Reason::Earn,
                    source_kind: SourceKind::parse(&e.source_kind).unwrap_or(SourceKind::Order),
                    source_ref: format!("{}/{}", e.county_code, e.source_id),
                    memo: String::new(),
                    key: format!("entitlement:{}:{}:{}", e.county_code, e.id, unit.as_str()),
                    reverses: None,
                    actor: Actor::system(CLAIM_JOB),
                    daily_cap: rules.daily_cap(unit),
                });
            }
        }
        let results = apply(&mut tx, self.ledger_writer().ids(), &postings, now).await?;
        // An entitlement is taken if a unit moved, capped if the daily cap left nothing, and
        // set aside if the ledger refused a unit for any other reason (a unit that moved
        // stays moved: its key makes a later attempt pay only what is missing).
        let mut status: HashMap<(i64, i64), Result<&'static str, SetAside>> = pending
            .iter()
            .map(|e| ((e.county_code, e.id), Ok("capped")))
            .collect();
        for (r, (p, id)) in results.iter().zip(postings.iter().zip(&owner)) {
            let county = p.debit.county_code();
            let entry = status.entry((county, *id)).or_insert(Ok("capped"));
            match r {
                Ok(_) => {
                    report.transfers += 1;
                    if entry.is_ok() {
                        *entry = Ok("taken");
                    }
                }
                Err(e) if e.code() == "daily_cap_reached" => {}
                Err(e) => {
                    tracing::warn!(county, entitlement = id, error = %e, "award set aside");
                    *entry = Err(SetAside::new(county, *id, p.unit, e));
                }
            }
        }
        let mut status: Vec<_> = status.into_iter().collect();
        status.sort_by_key(|(k, _)| *k);
        for ((county, id), s) in status {
            match s {
                Ok(s) => {
                    if s == "capped" {
                        report.capped += 1;
                    }
                    store_orders::close_entitlement(&mut tx.exec(), county, id, s, now).await?;
                }
                Err(aside) => {
                    store_orders::set_aside_entitlement(
                        &mut tx.exec(),
                        county,
                        id,
                        &aside.reason,
                        now,
                    )
                    .await?;
                    report.set_aside.push(aside);
                }
            }
        }
        report.entitlements = pending.len();
        tx.commit().await?;
        Ok(Some(report))
    }
}

// ---- corrections ----

/// A manual adjustment proposed by one person and approved by another (四眼原则).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdjustmentInput {
    pub person: Key,
    pub unit: Unit,
    /// Positive: add to the person; negative: take from them.
    pub amount: i64,
    /// Why (required, shown on the statement).
    pub memo: String,
}

pub use store_ledger::AdjustmentRow as Adjustment;

impl App {
    pub async fn propose_adjustment(
        &self,
        caller: &Caller,
        input: AdjustmentInput,
    ) -> AppResult<Adjustment> {
        let Key {
            county_code: county,
            id,
        } = input.person;
        let account_id = caller
            .account_id
            .ok_or_else(|| AppError::forbidden("须登录后操作"))?;
        let person = store_people::get(&mut self.store().read(), county, id)
            .await?
            .filter(|p| {
                OrgPath::parse(&p.path)
                    .is_ok_and(|path| caller.scope(Permission::AwardPoints).covers(&path))
            })
            .ok_or(AppError::NotFound { what: "人员" })?;
        self.not_for_self(caller, Benefit::Propose, county, id, None)
            .await?;
        if input.amount == 0 || input.amount.abs() > ledger::MAX_AMOUNT {
            return Err(AppError::invalid(
                "invalid_amount",
                "amount",
                "调整数量须为非零整数",
            ));
        }
        let memo = input.memo.trim();
        if memo.chars().count() < 4 || memo.chars().count() > 200 {
            return Err(AppError::invalid(
                "memo_required",
                "memo",
                "请写明调整原因（4至200字）",
            ));
        }
        crate::text::check(memo, crate::text::TextKind::Lines, "memo", "调整原因")?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let adj_id = ids::next(&mut tx.exec(), Seq::LedgerAdjustments).await?;
        let row = Adjustment {
            county_code: county,
            id: adj_id,
            unit: input.unit.as_str().to_owned(),
            person_id: id,
            path: person.path,
            amount: input.amount,
            memo: memo.to_owned(),
            status: "pending".to_owned(),
            proposed_by: account_id,
            proposed_by_name: caller.display_name.clone(),
            proposed_at: now,
            decided_by: None,
            decided_by_name: None,
            decided_at: None,
            transfer_id: None,
        };
        store_ledger::insert_adjustment(&mut tx.exec(), &row).await?;
        self.audit_adjustment(&mut tx, caller, &row, "ledger.adjustment.propose")
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn audit_adjustment(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        row: &Adjustment,
        action: &'static str,
    ) -> AppResult<()> {
        let after = serde_json::json!({"person": row.person_id, "unit": row.unit, "amount": row.amount, "status": row.status});
        let event = self.audit_event(
            caller,
            Event {
                county_code: row.county_code,
                action,
                entity: "ledger_adjustment",
                entity_key: format!("{}/{}", row.county_code, row.id),
                before: None,
                after: Some(&after),
                detail: Some(row.memo.clone()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        Ok(())
    }

    /// Adjustments waiting in the caller's scope.
    pub async fn pending_adjustments(&self, caller: &Caller) -> AppResult<Vec<Adjustment>> {
        let rows = store_ledger::adjustments(
            &mut self.store().read(),
            &caller.scope(Permission::AwardPoints),
            Some("pending"),
        )
        .await?;
        Ok(rows)
    }

    /// Approves (moves the points) or rejects an adjustment. The approver must be another
    /// person than the proposer, hold the approval permission over the person, and be
    /// neither the person nor of their household; an adjustment for the proposer's own
    /// file or household (proposed before that was refused) may only be rejected.
    pub async fn decide_adjustment(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        approve: bool,
    ) -> AppResult<Adjustment> {
        let row = store_ledger::adjustment(&mut self.store().read(), county, id)
            .await?
            .filter(|r| {
                OrgPath::parse(&r.path)
                    .is_ok_and(|p| caller.scope(Permission::AwardPoints).covers(&p))
            })
            .ok_or(AppError::NotFound {
                what: "调整申请"
            })?;
        let path = OrgPath::parse(&row.path).map_err(|e| AppError::Internal(e.to_string()))?;
        if !caller.scope(Permission::ApproveAdjustments).covers(&path) {
            return Err(AppError::forbidden("您无权审批积分调整"));
        }
        if caller.account_id == Some(row.proposed_by) {
            return Err(AppError::forbidden(
                "积分调整须由另一人审批，不能审批自己提出的调整",
            ));
        }
        if row.status != "pending" {
            return Err(AppError::conflict(
                "already_decided",
                None,
                "这条调整已经审批过了",
            ));
        }
        self.not_for_self(caller, Benefit::Decide, county, row.person_id, Some(id))
            .await?;
        if approve {
            let proposer = self.person_of_account(row.proposed_by).await?;
            if let Some(kin) = self.kin_of(proposer, county, row.person_id).await? {
                return Err(self
                    .refuse_benefit(
                        caller,
                        Benefit::ProposerKin,
                        county,
                        row.person_id,
                        kin,
                        Some(id),
                    )
                    .await);
            }
        }
        let now = self.now();
        let unit = Unit::parse(&row.unit).unwrap_or(Unit::Points);
        let person = Holder::Person {
            county_code: county,
            id: row.person_id,
        };
        let pool = Holder::Pool {
            county_code: county,
        };
        let (debit, credit) = if row.amount > 0 {
            (pool, person)
        } else {
            (person, pool)
        };
        let row = &row;
        retrying(|| async move {
            let mut tx = self.store().begin().await?;
            let transfer_id = if approve {
                let posting = Posting {
                    unit,
                    debit,
                    credit,
                    amount: row.amount.abs(),
                    reason: Reason::Adjust,
                    source_kind: SourceKind::Adjustment,
                    source_ref: format!("{county}/{id}"),
                    memo: row.memo.clone(),
                    key: format!("adjustment:{county}:{id}"),
                    reverses: None,
                    actor: Actor::of(caller),
                    daily_cap: None,
                };
                let receipt = apply_one(&mut tx, self.ledger_writer().ids(), &posting, now).await?;
                Some(receipt.transfer.id)
            } else {
                None
            };
            let status = if approve { "approved" } else { "rejected" };
            if !store_ledger::decide_adjustment(
                &mut tx.exec(),
                county,
                id,
                status,
                caller.account_id.unwrap_or_default(),
                &caller.display_name,
                now,
                transfer_id,
            )
            .await?
            {
                return Err(AppError::conflict(
                    "already_decided",
                    None,
                    "这条调整已经审批过了",
                ));
            }
            let decided = Adjustment {
                status: status.to_owned(),
                decided_by: caller.account_id,
                decided_by_name: Some(caller.display_name.clone()),
                decided_at: Some(now),
                transfer_id,
                ..row.clone()
            };
            self.audit_adjustment(
                &mut tx,
                caller,
                &decided,
                if approve {
                    "ledger.adjustment.approve"
                } else {
                    "ledger.adjustment.reject"
                },
            )
            .await?;
            tx.commit().await?;
            Ok(decided)
        })
        .await
    }

    /// Reverses a transfer (冲正): the same amount back the other way, at most once. Not
    /// when it would pay the caller's own file or household. The reversal is audited by
    /// [`apply`] like every transfer (`ledger.reverse`, naming the transfer it reverses).
    pub async fn reverse_transfer(
        &self,
        caller: &Caller,
        county: i64,
        transfer_id: i64,
        memo: &str,
    ) -> AppResult<Receipt> {
        if !caller
            .scope(Permission::ApproveAdjustments)
            .covers(&crate::county_path(county))
            && !caller.is_system()
        {
            return Err(AppError::forbidden("只有县级管理员可以冲正"));
        }
        let mut exec = self.store().read();
        let t = store_ledger::transfer(&mut exec, county, transfer_id)
            .await?
            .ok_or(AppError::NotFound {
                what: "转账记录"
            })?;
        if t.reverses.is_some() {
            return Err(AppError::conflict(
                "reverse_of_reversal",
                None,
                "冲正记录不能再冲正",
            ));
        }
        let holder_of = |row: AccountRow| -> AppResult<Holder> {
            Ok(match AccountKind::parse(&row.kind) {
                Some(AccountKind::Person) => Holder::Person {
                    county_code: county,
                    id: row.owner_id,
                },
                Some(AccountKind::Shop) => Holder::Shop {
                    county_code: county,
                    id: row.owner_id,
                },
                Some(AccountKind::Pool) => Holder::Pool {
                    county_code: county,
                },
                Some(AccountKind::Expiry) => Holder::Expiry {
                    county_code: county,
                },
                None => return Err(AppError::Internal("unknown account kind".into())),
            })
        };
        let debit = store_ledger::account(&mut exec, county, t.debit_id)
            .await?
            .ok_or_else(|| AppError::Internal("account missing".into()))?;
        let credit = store_ledger::account(&mut exec, county, t.credit_id)
            .await?
            .ok_or_else(|| AppError::Internal("account missing".into()))?;
        let memo = memo.trim();
        if memo.chars().count() < 4 {
            return Err(AppError::invalid(
                "memo_required",
                "memo",
                "请写明冲正原因（至少4字）",
            ));
        }
        crate::text::check(memo, crate::text::TextKind::Lines, "memo", "冲正原因")?;
        let posting = Posting {
            unit: Unit::parse(&t.unit).unwrap_or(Unit::Points),
            debit: holder_of(credit)?,
            credit: holder_of(debit)?,
            amount: t.amount,
            reason: Reason::Reverse,
            source_kind: SourceKind::parse(&t.source_kind).unwrap_or(SourceKind::Transfer),
            source_ref: t.source_ref.clone(),
            memo: memo.to_owned(),
            key: format!("reverse:{county}:{transfer_id}"),
            reverses: Some(transfer_id),
            actor: Actor::of(caller),
            daily_cap: None,
        };
        if let Holder::Person { county_code, id } = posting.credit {
            self.not_for_self(caller, Benefit::Reverse, county_code, id, None)
                .await?;
        }
        self.post(posting).await.map_err(|e| {
            if e.code() == "idempotency_key_reused" {
                AppError::conflict("already_reversed", None, "这笔转账已经冲正过了")
            } else {
                e
            }
        })
    }
}

// ---- expiry and verification ----

/// What one expiry run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExpiryReport {
    pub accounts: usize,
    pub points: i64,
    /// Accounts whose expiry the ledger refused: left as they are (the next run tries again)
    /// while the others expire.
    pub set_aside: Vec<SetAside>,
}

impl App {
    /// Expires points older than each county's `expiry_months`, first in first out. Safe to
    /// run twice or at once from two processes: what is due is computed under the accounts'
    /// locks, and the key names the account and the cutoff day.
    pub async fn expire_points(&self) -> AppResult<ExpiryReport> {
        let now = self.now();
        let mut report = ExpiryReport::default();
        let counties = store_ledger::counties(&mut self.store().read()).await?;
        for county in counties {
            let rules = self.ledger_rules(county).await?;
            let Some(months) = rules.expiry_months else {
                continue;
            };
            let today = local_date(now);
            let cutoff_day = today
                .checked_sub_months(chrono::Months::new(u32::try_from(months).unwrap_or(24)))
                .unwrap_or(today);
            // Points earned on the cutoff day or before expire.
            let cutoff = day_start(
                (cutoff_day.and_hms_opt(12, 0, 0).unwrap_or_default() - chrono::Duration::hours(8))
                    .and_utc()
                    .timestamp_micros(),
            ) + 86_400_000_000
                - 1;
            let (accounts, points, aside) = retrying(|| async move {
                let mut tx = self.store().begin().await?;
                let due = store_ledger::expiry_candidates(&mut tx.exec(), county, cutoff).await?;
                let postings: Vec<(i64, Posting)> = due
                    .iter()
                    .filter_map(|&(account, owner, balance, credited_later)| {
                        let amount = ledger::fifo_expiring(balance, credited_later);
                        (amount > 0)
                            .then(|| Posting {
                                unit: Unit::Points,
                                debit: Holder::Person {
                                    county_code: county,
                                    id: owner,
                                },
                                credit: Holder::Expiry {
                                    county_code: county,
                                },
                                amount,
                                reason: Reason::Expire,
                                source_kind: SourceKind::Expiry,
                                source_ref: cutoff_day.to_string(),
                                memo: format!("{cutoff_day}及以前获得的积分到期"),
                                key: format!("expire:{county}:{account}:{cutoff_day}"),
                                reverses: None,
                                actor: Actor::system(EXPIRY_JOB),
                                daily_cap: None,
                            })
                            .map(|p| (account, p))
                    })
                    .collect();
                if postings.is_empty() {
                    return Ok((0, 0, Vec::new()));
                }
                let (accounts, postings): (Vec<i64>, Vec<Posting>) = postings.into_iter().unzip();
                let (mut expired, mut points, mut aside) = (0, 0, Vec::new());
                let results = apply(&mut tx, self.ledger_writer().ids(), &postings, now).await?;
                for (r, account) in results.into_iter().zip(accounts) {
                    match r {
                        Ok(r) if !r.replayed => {
                            expired += 1;
                            points += r.transfer.amount;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(county, account, error = %e, "expiry set aside");
                            aside.push(SetAside::new(county, account, Unit::Points, &e));
                        }
                    }
                }
                tx.commit().await?;
                Ok((expired, points, aside))
            })
            .await?;
            report.accounts += accounts;
            report.points += points;
            report.set_aside.extend(aside);
        }
        Ok(report)
    }

    /// Recomputes every balance and the global invariants.
    pub async fn verify_ledger(
        &self,
    ) -> AppResult<(Vec<store_ledger::Finding>, store_ledger::VerifyCounts)> {
        Ok(store_ledger::verify(&mut self.store().read()).await?)
    }
}
