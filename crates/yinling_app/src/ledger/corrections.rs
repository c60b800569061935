//! Corrections: proposed, decided by a second person, and reversals.

use super::*;
use crate::kernel::text::{Bounded, LinesKind, ReadField};

// ---- corrections ----

/// A manual adjustment proposed by one person and approved by another (四眼原则).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AdjustmentInput {
    pub person: Key<PersonId>,
    pub unit: Unit,
    /// Positive: add to the person; negative: take from them.
    pub amount: i64,
    /// Why (required, shown on the statement).
    pub memo: String,
}

pub use store_ledger::AdjustmentRow as Adjustment;

/// Why an adjustment or a reversal was made: written in the other person's statement.
type Memo = Bounded<LinesKind, 4, 200>;

impl Ledger<'_> {
    #[tracing::instrument(name = "ledger.propose_adjustment", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn propose_adjustment(
        self,
        caller: &Caller,
        input: AdjustmentInput,
    ) -> AppResult<Adjustment> {
        let key = input.person;
        let account_id =
            caller_account(caller).ok_or_else(|| AppError::forbidden("须登录后操作"))?;
        let person = store_people::get(&mut self.app.store().read(), key)
            .await?
            .filter(|p| {
                OrgPath::parse(&p.path)
                    .is_ok_and(|path| caller.scope(Permission::AwardPoints).covers(&path))
            })
            .ok_or(AppError::NotFound { what: "人员" })?;
        self.not_for_self(caller, Benefit::Propose, key, None)
            .await?;
        if input.amount == 0 || input.amount.abs() > ledger::MAX_AMOUNT {
            return Err(AppError::invalid(
                "invalid_amount",
                "amount",
                "调整数量须为非零整数",
            ));
        }
        let memo = Memo::read(&input.memo, "memo", "调整原因")?;
        let memo = memo.as_str();
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let adj_id = ids::next(&mut tx.exec(), Seq::LedgerAdjustments).await?;
        let row = Adjustment {
            county_code: key.county_code,
            id: AdjustmentId(adj_id),
            unit: input.unit,
            person_id: key.id,
            path: person.path,
            amount: input.amount,
            memo: memo.to_owned(),
            status: AdjustmentStatus::Pending,
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

    pub(super) async fn audit_adjustment(
        self,
        tx: &mut Tx,
        caller: &Caller,
        row: &Adjustment,
        action: &'static str,
    ) -> AppResult<()> {
        let after = serde_json::json!({"person": row.person_id, "unit": row.unit, "amount": row.amount, "status": row.status});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: row.county_code.as_i64(),
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
    #[tracing::instrument(name = "ledger.pending_adjustments", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn pending_adjustments(self, caller: &Caller) -> AppResult<Vec<Adjustment>> {
        let rows = store_ledger::adjustments(
            &mut self.app.store().read(),
            &caller.scope(Permission::AwardPoints),
            Some(AdjustmentStatus::Pending),
        )
        .await?;
        Ok(rows)
    }

    /// Approves (moves the points) or rejects an adjustment. The approver must be another
    /// person than the proposer, hold the approval permission over the person, and be
    /// neither the person nor of their household; an adjustment for the proposer's own
    /// file or household (proposed before that was refused) may only be rejected.
    #[tracing::instrument(name = "ledger.decide_adjustment", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, adjustment = %key))]
    pub async fn decide_adjustment(
        self,
        caller: &Caller,
        key: Key<AdjustmentId>,
        approve: bool,
    ) -> AppResult<Adjustment> {
        let (county, id) = (key.county_code, key.id);
        let row = store_ledger::adjustment(&mut self.app.store().read(), key)
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
        if caller_account(caller) == Some(row.proposed_by) {
            return Err(AppError::forbidden(
                "积分调整须由另一人审批，不能审批自己提出的调整",
            ));
        }
        if row.status != AdjustmentStatus::Pending {
            return Err(AppError::conflict(
                "already_decided",
                None,
                "这条调整已经审批过了",
            ));
        }
        let person = Key::new(county, row.person_id);
        self.not_for_self(caller, Benefit::Decide, person, Some(id))
            .await?;
        if approve {
            let proposer = self.person_of_account(row.proposed_by).await?;
            if let Some(kin) = self.kin_of(proposer, person).await? {
                return Err(self
                    .refuse_benefit(caller, Benefit::ProposerKin, person, kin, Some(id))
                    .await);
            }
        }
        let now = self.app.now();
        let unit = row.unit;
        let person = Holder::person(person);
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
            let mut tx = self.app.store().begin().await?;
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
                let receipt = apply_one(&mut tx, self.writer().ids(), &posting, now).await?;
                Some(receipt.transfer.id)
            } else {
                None
            };
            let status = if approve {
                AdjustmentStatus::Approved
            } else {
                AdjustmentStatus::Rejected
            };
            if !store_ledger::decide_adjustment(
                &mut tx.exec(),
                key,
                status,
                caller_account(caller).unwrap_or(AccountId(0)),
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
                decided_by: caller_account(caller),
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
    #[tracing::instrument(name = "ledger.reverse_transfer", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, transfer = %key))]
    pub async fn reverse_transfer(
        self,
        caller: &Caller,
        key: Key<TransferId>,
        memo: &str,
    ) -> AppResult<Receipt> {
        let (county, transfer_id) = (key.county_code, key.id);
        if !caller
            .scope(Permission::ApproveAdjustments)
            .covers(&crate::county_path(county.as_i64()))
            && !caller.is_system()
        {
            return Err(AppError::forbidden("只有县级管理员可以冲正"));
        }
        let mut exec = self.app.store().read();
        let t = store_ledger::transfer(&mut exec, key)
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
            let owner = |e: yinling_domain::ids::IdError| AppError::Internal(e.to_string());
            Ok(match row.kind {
                AccountKind::Person => Holder::Person {
                    county_code: county,
                    id: PersonId::try_from(row.owner_id).map_err(owner)?,
                },
                AccountKind::Shop => Holder::Shop {
                    county_code: county,
                    id: UnitId::try_from(row.owner_id).map_err(owner)?,
                },
                AccountKind::Pool => Holder::Pool {
                    county_code: county,
                },
                AccountKind::Expiry => Holder::Expiry {
                    county_code: county,
                },
            })
        };
        let debit = store_ledger::account(&mut exec, Key::new(county, t.debit_id))
            .await?
            .ok_or_else(|| AppError::Internal("account missing".into()))?;
        let credit = store_ledger::account(&mut exec, Key::new(county, t.credit_id))
            .await?
            .ok_or_else(|| AppError::Internal("account missing".into()))?;
        let memo = Memo::read(memo, "memo", "冲正原因")?;
        let memo = memo.as_str();
        let posting = Posting {
            unit: t.unit,
            debit: holder_of(credit)?,
            credit: holder_of(debit)?,
            amount: t.amount,
            reason: Reason::Reverse,
            source_kind: t.source_kind,
            source_ref: t.source_ref.clone(),
            memo: memo.to_owned(),
            key: format!("reverse:{county}:{transfer_id}"),
            reverses: Some(transfer_id),
            actor: Actor::of(caller),
            daily_cap: None,
        };
        if let Holder::Person { county_code, id } = posting.credit {
            self.not_for_self(caller, Benefit::Reverse, Key::new(county_code, id), None)
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
