//! Points past their county's age, and verifying the ledger's chains.

use super::*;

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

impl Ledger<'_> {
    /// Expires points older than each county's `expiry_months`, first in first out. Safe to
    /// run twice or at once from two processes: what is due is computed under the accounts'
    /// locks, and the key names the account and the cutoff day.
    #[tracing::instrument(name = "ledger.expire_points", skip_all, err(level = "debug"))]
    pub async fn expire_points(self) -> AppResult<ExpiryReport> {
        let now = self.app.now();
        let mut report = ExpiryReport::default();
        let counties = store_ledger::counties(&mut self.app.store().read()).await?;
        for county in counties {
            let rules = self.rules(county).await?;
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
                let mut tx = self.app.store().begin().await?;
                let due = store_ledger::expiry_candidates(&mut tx.exec(), county, cutoff).await?;
                let postings: Vec<(LedgerAccountId, Posting)> = due
                    .iter()
                    .filter_map(|&(account, owner, balance, credited_later)| {
                        let amount = ledger::fifo_expiring(balance, credited_later);
                        (amount > 0)
                            .then(|| Posting {
                                unit: Unit::Points,
                                debit: Holder::Person {
                                    county_code: county,
                                    id: PersonId(owner),
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
                let (accounts, postings): (Vec<LedgerAccountId>, Vec<Posting>) =
                    postings.into_iter().unzip();
                let (mut expired, mut points, mut aside) = (0, 0, Vec::new());
                let results = apply(&mut tx, self.writer().ids(), &postings, now).await?;
                for (r, account) in results.into_iter().zip(accounts) {
                    match r {
                        Ok(r) if !r.replayed => {
                            expired += 1;
                            points += r.transfer.amount;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(%county, %account, error = %e, "expiry set aside");
                            aside.push(SetAside::new(
                                county.as_i64(),
                                account.get(),
                                Unit::Points,
                                &e,
                            ));
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
    #[tracing::instrument(name = "ledger.verify", skip_all, err(level = "debug"))]
    pub async fn verify(
        self,
    ) -> AppResult<(Vec<store_ledger::Finding>, store_ledger::VerifyCounts)> {
        Ok(store_ledger::verify(&mut self.app.store().read()).await?)
    }
}
