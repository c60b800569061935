//! Reading the ledger: balances, statements and the accounts list.

use super::*;

// ---- reading ----

/// A person's points and time-bank balances.
#[derive(Debug, Clone, Serialize)]
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
    pub(super) fn of(account: i64, t: TransferRow) -> StatementLine {
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

impl<'a> Ledger<'a> {
    pub fn writer(self) -> &'a LedgerWriter {
        &self.app.inner.ledger
    }

    /// Checks the caller may see this person's ledger: themselves, or staff over them.
    pub(super) async fn person(
        self,
        caller: &Caller,
        county: i64,
        id: i64,
    ) -> AppResult<(String, String)> {
        let person = store_people::get(
            &mut self.app.store().read(),
            crate::people::person_key(county, id)?,
        )
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

    #[tracing::instrument(name = "ledger.balances", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = county, id = id))]
    pub async fn balances(self, caller: &Caller, county: i64, id: i64) -> AppResult<Balances> {
        let (name, _) = self.person(caller, county, id).await?;
        let mut exec = self.app.store().read();
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
    #[tracing::instrument(name = "ledger.statement", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, holder = ?holder))]
    pub async fn statement(
        self,
        caller: &Caller,
        holder: Key,
        unit: Unit,
        page: PageRequest,
    ) -> AppResult<Page<StatementLine>> {
        self.person(caller, holder.county_code, holder.id).await?;
        let key = Holder::Person {
            county_code: holder.county_code,
            id: holder.id,
        }
        .key(unit);
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
