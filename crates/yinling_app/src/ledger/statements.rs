//! Reading the ledger: balances, statements and the accounts list.

use super::*;

// ---- reading ----

/// A person's points and time-bank balances.
#[derive(Debug, Clone, Serialize)]
pub struct Balances {
    pub county_code: CountyCode,
    pub person_id: PersonId,
    pub name: String,
    pub points: i64,
    pub minutes: i64,
    /// 1小时30分钟
    pub minutes_text: String,
}

/// One line of a statement, as the holder reads it.
#[derive(Debug, Clone, Serialize)]
pub struct StatementLine {
    pub transfer_id: TransferId,
    pub at: i64,
    /// 2026-11-29 08:05
    pub at_text: String,
    pub reason: Reason,
    pub reason_label: &'static str,
    pub memo: String,
    pub source_kind: SourceKind,
    pub source_ref: String,
    /// Positive in, negative out.
    pub change: i64,
    pub balance_after: i64,
}

impl StatementLine {
    pub(super) fn of(account: LedgerAccountId, t: TransferRow) -> StatementLine {
        let out = t.debit_id == account;
        let reason = t.reason;
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

impl<'a> Ledger<'a> {
    pub fn writer(self) -> &'a LedgerWriter {
        &self.app.inner.ledger
    }

    /// Checks the caller may see this person's ledger: themselves, or staff over them.
    pub(super) async fn person(
        self,
        caller: &Caller,
        key: Key<PersonId>,
    ) -> AppResult<(String, String)> {
        let person = store_people::get(&mut self.app.store().read(), key)
            .await?
            .ok_or(AppError::NotFound { what: "人员" })?;
        let own = caller_person(caller) == Some(key);
        let staff = OrgPath::parse(&person.path)
            .is_ok_and(|p| caller.scope(Permission::ViewPeople).covers(&p));
        if !own && !staff {
            return Err(AppError::NotFound { what: "人员" });
        }
        Ok((person.name, person.path))
    }

    #[tracing::instrument(name = "ledger.balances", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, person = %key))]
    pub async fn balances(self, caller: &Caller, key: Key<PersonId>) -> AppResult<Balances> {
        let (name, _) = self.person(caller, key).await?;
        let mut exec = self.app.store().read();
        let holder = Holder::person(key);
        let points = store_ledger::account_of(&mut exec, &holder.key(Unit::Points))
            .await?
            .map_or(0, |a| a.balance);
        let minutes = store_ledger::account_of(&mut exec, &holder.key(Unit::Minutes))
            .await?
            .map_or(0, |a| a.balance);
        Ok(Balances {
            county_code: key.county_code,
            person_id: key.id,
            name,
            points,
            minutes,
            minutes_text: ledger::minutes_text(minutes),
        })
    }

    /// A person's statement for one unit, newest first.
    #[tracing::instrument(name = "ledger.statement", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, holder = ?holder))]
    pub async fn statement(
        self,
        caller: &Caller,
        holder: Key<PersonId>,
        unit: Unit,
        page: PageRequest,
    ) -> AppResult<Page<StatementLine>> {
        self.person(caller, holder).await?;
        let key = Holder::person(holder).key(unit);
        self.account_statement(&key, page).await
    }

    pub(crate) async fn account_statement(
        self,
        key: &AccountKey,
        page: PageRequest,
    ) -> AppResult<Page<StatementLine>> {
        let mut exec = self.app.store().read();
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
    #[tracing::instrument(name = "ledger.accounts", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn accounts(
        self,
        caller: &Caller,
        unit: Unit,
        page: PageRequest,
    ) -> AppResult<Page<AccountRow>> {
        let (items, total) = store_ledger::accounts_in_scope(
            &mut self.app.store().read(),
            &caller.scope(Permission::ViewPeople),
            unit,
            AccountKind::Person,
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
