//! Postings and how they are applied: holders, actors, client keys, the checks every
//! posting passes, and one county's batch in one transaction.

use super::*;

/// Whose account: a person's, a shop's, or a county's pool or expiry account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Holder {
    Person {
        county_code: CountyCode,
        id: PersonId,
    },
    Shop {
        county_code: CountyCode,
        id: UnitId,
    },
    Pool {
        county_code: CountyCode,
    },
    Expiry {
        county_code: CountyCode,
    },
}

impl Holder {
    /// A person's accounts.
    pub fn person(key: Key<PersonId>) -> Holder {
        Holder::Person {
            county_code: key.county_code,
            id: key.id,
        }
    }

    /// A partner shop's accounts (a shop is an org unit).
    pub fn shop(key: Key<UnitId>) -> Holder {
        Holder::Shop {
            county_code: key.county_code,
            id: key.id,
        }
    }

    pub fn county_code(self) -> CountyCode {
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

    pub(super) fn owner_id(self) -> i64 {
        match self {
            Holder::Person { id, .. } => id.get(),
            Holder::Shop { id, .. } => id.get(),
            Holder::Pool { .. } | Holder::Expiry { .. } => 0,
        }
    }

    pub(crate) fn key(self, unit: Unit) -> AccountKey {
        AccountKey {
            county_code: self.county_code(),
            unit,
            kind: self.kind(),
            owner_id: self.owner_id(),
        }
    }

    /// How the holder is written in a fingerprint: `person:370830/17`.
    pub(super) fn code(self) -> String {
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
    pub id: Option<AccountId>,
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn of(caller: &Caller) -> Actor {
        Actor {
            id: caller.account_id.map(AccountId),
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
    pub reverses: Option<TransferId>,
    /// Who asked, for the transfer and its audit event.
    pub actor: Actor,
    /// For awards: the most the credited person may earn today.
    pub daily_cap: Option<i64>,
}

impl Posting {
    pub(super) fn fingerprint(&self) -> String {
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

    pub(super) fn check(&self) -> AppResult<()> {
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
        crate::kernel::text::check(
            &self.source_ref,
            crate::kernel::text::TextKind::Label,
            "source_ref",
            "来源编号",
        )?;
        if let Some(c) =
            yinling_domain::text::invisible_char(&self.memo, crate::kernel::text::TextKind::Lines)
        {
            let e = yinling_domain::text::TextError::Invisible(c);
            return Err(AppError::invalid(e.code(), "memo", format!("备注中{e}")));
        }
        Ok(())
    }
}

/// What a transfer did; a retry gets the same receipt with `replayed` set.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub transfer: TransferRow,
    /// True when this answers a retry of a transfer made before.
    pub replayed: bool,
}

/// Something [`apply`] cannot finish because another writer got there first: the caller
/// rolls back and tries again.
pub(super) const RETRY: &str = "ledger batch raced another writer";

/// Whether [`apply`] asked for the transaction to be tried again.
pub(super) fn is_retry(e: &AppError) -> bool {
    matches!(e, AppError::Internal(m) if m == RETRY)
}

/// Account ids never change once opened, so each process remembers them. A remembered id
/// is checked against the row it names whenever it is used (see `apply_county`).
#[derive(Debug, Default)]
pub struct AccountIds(Mutex<HashMap<AccountKey, LedgerAccountId>>);

impl AccountIds {
    pub(super) fn get(&self, k: &AccountKey) -> Option<LedgerAccountId> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(k)
            .copied()
    }

    pub(super) fn put(&self, k: AccountKey, id: LedgerAccountId) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(k, id);
    }

    pub(super) fn forget(&self, keys: &[AccountKey]) {
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
    let mut by_county: std::collections::BTreeMap<CountyCode, Vec<usize>> = Default::default();
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
pub(super) async fn apply_county(
    tx: &mut Tx,
    ids_cache: &AccountIds,
    postings: &[Posting],
    idx: &[usize],
    county: CountyCode,
    now: i64,
    out: &mut [Option<AppResult<Receipt>>],
) -> AppResult<()> {
    // 1. Account ids (opening accounts on first use). A posting whose person or shop does
    //    not exist is refused alone.
    let mut id_of: HashMap<(Holder, Unit), LedgerAccountId> = HashMap::new();
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
    let account_ids: Vec<LedgerAccountId> = id_of.values().copied().collect();
    let rows = store_ledger::lock_accounts(&mut tx.exec(), county, &account_ids).await?;
    // A remembered id may be stale: its account was opened in a transaction that then
    // rolled back (and on SQLite the id may since belong to another account). Forget it
    // and start over.
    let by_id: HashMap<LedgerAccountId, &AccountRow> = rows.iter().map(|r| (r.id, r)).collect();
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
    let capped: Vec<LedgerAccountId> = idx
        .iter()
        .filter(|&&i| postings[i].daily_cap.is_some())
        .map(|&i| acct(&postings[i], postings[i].credit))
        .collect();
    let day_start = day_start(now);
    let earned: HashMap<LedgerAccountId, i64> = if capped.is_empty() {
        HashMap::new()
    } else {
        store_ledger::recent_sums(
            &mut tx.exec(),
            county,
            &capped,
            Side::Credit,
            Reason::Earn,
            day_start,
        )
        .await?
        .into_iter()
        .collect()
    };
    // The domain's rule counts by bare account numbers.
    let mut states: HashMap<i64, AccountState> = rows
        .iter()
        .map(|r| {
            (
                r.id.get(),
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
            debit: acct(p, p.debit).get(),
            credit: acct(p, p.credit).get(),
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
    let mut new_ids = new_ids.into_iter().map(TransferId);
    let mut rows_out: Vec<TransferRow> = Vec::with_capacity(applied);
    let mut events: Vec<NewAuditEvent> = Vec::with_capacity(applied);
    let mut row_of: Vec<Option<usize>> = vec![None; items.len()];
    // Each account's chain head and count as the batch extends it.
    let mut heads: HashMap<LedgerAccountId, (Option<TransferId>, i64)> = rows
        .iter()
        .map(|r| (r.id, (r.last_transfer, r.entries)))
        .collect();
    let mut link = |account: i64, id: TransferId| {
        let account = LedgerAccountId(account);
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
                unit: p.unit,
                debit_id: LedgerAccountId(items[n].debit),
                credit_id: LedgerAccountId(items[n].credit),
                amount,
                debit_after,
                credit_after,
                reason: p.reason,
                source_kind: p.source_kind,
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
                (entries != r.entries).then(|| -> AppResult<AccountUpdate> {
                    Ok(AccountUpdate {
                        id: r.id,
                        balance: states[&r.id.get()].balance,
                        last_transfer: last.ok_or_else(|| {
                            AppError::Internal("changed account has no head".into())
                        })?,
                        last_at: now,
                        entries,
                    })
                })
            })
            .collect::<AppResult<_>>()?;
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
pub(super) fn transfer_event(
    p: &Posting,
    fingerprint: &str,
    county: CountyCode,
    id: TransferId,
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
        detail["reverses"] = r.get().into();
    }
    NewAuditEvent {
        county_code: county.as_i64(),
        at,
        actor_id: p.actor.id.map(AccountId::get),
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
pub(super) fn holder_missing(h: Holder) -> AppError {
    match h {
        Holder::Shop { .. } => AppError::NotFound {
            what: "合作商户"
        },
        _ => AppError::NotFound { what: "人员" },
    }
}

/// Where an account's owner is in the tree, for scope.
pub(super) async fn holder_path(tx: &mut Tx, h: Holder) -> AppResult<String> {
    match h {
        Holder::Person { county_code, id } => {
            store_people::get(&mut tx.exec(), Key::new(county_code, id))
                .await?
                .map(|p| p.path)
                .ok_or(AppError::NotFound { what: "人员" })
        }
        Holder::Shop { county_code, id } => {
            store_org::get(&mut tx.exec(), Key::new(county_code, id))
                .await?
                .map(|u| u.path)
                .ok_or(AppError::NotFound {
                    what: "合作商户"
                })
        }
        Holder::Pool { county_code } | Holder::Expiry { county_code } => {
            Ok(crate::county_path(county_code.as_i64()).as_str().to_owned())
        }
    }
}

/// Midnight in Shanghai of the day containing `now`.
pub(super) fn day_start(now: i64) -> i64 {
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

pub(super) fn refusal_error(r: Refusal, unit: Unit) -> AppError {
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
pub(super) async fn apply_alone(
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
