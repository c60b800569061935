//! Earning points and hours: direct awards and the entitlements claimed by the job.

use super::*;

// ---- earning ----

/// An award for taking part in an activity, valued by the county's earning rule.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EarnInput {
    pub person: Key<PersonId>,
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
pub struct Award {
    pub points: Option<Receipt>,
    pub minutes: Option<Receipt>,
}

impl Ledger<'_> {
    /// Awards a person for an activity by the county's earning rule, within the daily caps.
    #[tracing::instrument(name = "ledger.earn", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn earn(self, caller: &Caller, input: EarnInput) -> AppResult<Award> {
        let person = input.person;
        let county = person.county_code;
        store_people::get(&mut self.app.store().read(), person)
            .await?
            .filter(|p| {
                OrgPath::parse(&p.path)
                    .is_ok_and(|path| caller.scope(Permission::AwardPoints).covers(&path))
            })
            .ok_or(AppError::NotFound { what: "人员" })?;
        let key = client_key(caller, "earn", &input.idempotency_key)?;
        self.not_for_self(caller, Benefit::Earn, person, None)
            .await?;
        let rule = store_ledger::earning_rule(
            &mut self.app.store().read(),
            county,
            SourceKind::Activity,
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
        let rules = self.rules(county).await?;
        let holder = Holder::person(person);
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
    pub(super) fn new(county_code: i64, id: i64, unit: Unit, e: &AppError) -> SetAside {
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
pub(super) const CLAIM_JOB: &str = "job:ledger.claim";
pub(super) const EXPIRY_JOB: &str = "job:ledger.expire";

impl Ledger<'_> {
    /// Takes pending awards (from completed orders, concluded mediation) into the ledger,
    /// each exactly once: the entitlement is marked taken in the same transaction as its
    /// transfers, whose keys are derived from the entitlement id.
    #[tracing::instrument(name = "ledger.claim_entitlements", skip_all, err(level = "debug"))]
    pub async fn claim_entitlements(self, limit: i64) -> AppResult<ClaimReport> {
        let now = self.app.now();
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
    pub(super) async fn claim_batch(self, limit: i64, now: i64) -> AppResult<Option<ClaimReport>> {
        let mut report = ClaimReport::default();
        let mut tx = self.app.store().begin().await?;
        let pending = store_orders::pending_entitlements(&mut tx.exec(), limit).await?;
        if pending.is_empty() {
            return Ok(None);
        }
        let mut postings = Vec::new();
        let mut owner = Vec::new();
        for e in &pending {
            let county = CountyCode::from_i64(e.county_code)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let person =
                PersonId::try_from(e.person_id).map_err(|e| AppError::Internal(e.to_string()))?;
            let rules = self.rules(county).await?;
            for (unit, amount) in [(Unit::Points, e.points), (Unit::Minutes, e.hours_minutes)] {
                if amount <= 0 {
                    continue;
                }
                owner.push(e.id);
                postings.push(Posting {
                    unit,
                    debit: Holder::Pool {
                        county_code: county,
                    },
                    credit: Holder::Person {
                        county_code: county,
                        id: person,
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
        let results = apply(&mut tx, self.writer().ids(), &postings, now).await?;
        // An entitlement is taken if a unit moved, capped if the daily cap left nothing, and
        // set aside if the ledger refused a unit for any other reason (a unit that moved
        // stays moved: its key makes a later attempt pay only what is missing).
        let mut status: HashMap<(i64, i64), Result<&'static str, SetAside>> = pending
            .iter()
            .map(|e| ((e.county_code, e.id), Ok("capped")))
            .collect();
        for (r, (p, id)) in results.iter().zip(postings.iter().zip(&owner)) {
            let county = p.debit.county_code().as_i64();
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
