//! Gifts within the household, paying an order with hours, and disputes over a payment.

use super::*;
use crate::kernel::text::{Bounded, LinesKind, ReadField};

impl TimeBank<'_> {
    /// Gives the caller's own hours to a member of their household, within the county's
    /// yearly limit. The limit is checked under a per-person lock, so two gifts at once
    /// cannot both slip under it.
    #[tracing::instrument(name = "time_bank.gift", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn gift(self, caller: &Caller, input: GiftInput) -> AppResult<Receipt> {
        let (county, giver) = caller
            .person
            .ok_or_else(|| AppError::forbidden("您的账号没有关联本人档案，无法转赠时长"))?;
        let rules = self
            .app
            .ledger()
            .rules(crate::kernel::key::stored_county(county)?)
            .await?;
        if !rules.family_transfer {
            return Err(AppError::forbidden("本县（市、区）未开放时间银行亲属转赠"));
        }
        let mut exec = self.app.store().read();
        let from = store_people::get(&mut exec, crate::people::person_key(county, giver)?)
            .await?
            .ok_or(AppError::NotFound { what: "人员" })?;
        let to = store_people::get(&mut exec, input.to)
            .await?
            .ok_or(AppError::NotFound { what: "人员" })?;
        if to.county_code.as_i64() != county
            || to.id.get() == giver
            || from.household_id.is_none()
            || from.household_id != to.household_id
        {
            return Err(AppError::invalid(
                "not_family",
                "to",
                "时长只能转赠给同一户的家庭成员",
            ));
        }
        let memo = Bounded::<LinesKind, 0, 200>::read(
            input.memo.as_deref().unwrap_or_default(),
            "memo",
            "附言",
        )?;
        let memo = memo.as_str();
        let posting = Posting {
            unit: Unit::Minutes,
            debit: crate::ledger::person_holder(county, giver)?,
            credit: crate::ledger::person_holder(county, to.id.get())?,
            amount: input.minutes,
            reason: Reason::Family,
            source_kind: SourceKind::Family,
            source_ref: format!("{county}/{}", to.id),
            memo: if memo.is_empty() {
                format!("转赠给{}", to.name)
            } else {
                memo.to_owned()
            },
            key: client_key(caller, "gift", &input.idempotency_key)?,
            reverses: None,
            actor: Actor::of(caller),
            daily_cap: None,
        };
        let now = self.app.now();
        let year_start = local_date(now)
            .with_ordinal(1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|t| t.and_local_timezone(shanghai()).single())
            .map_or(0, |t| t.timestamp_micros());
        let (posting, rules, input) = (&posting, &rules, &input);
        retrying(|| async move {
            let mut tx = self.app.store().begin().await?;
            lock_key(&mut tx.exec(), giver).await?;
            let given = self.given_since(&mut tx, county, giver, year_start).await?;
            let receipt =
                apply_one(&mut tx, self.app.ledger().writer().ids(), posting, now).await?;
            if !receipt.replayed && given + input.minutes > rules.family_max_minutes_year {
                return Err(AppError::conflict(
                    "family_limit",
                    Some("minutes"),
                    format!(
                        "每人每年最多转赠{}，今年已转赠{}",
                        amount_text(Unit::Minutes, rules.family_max_minutes_year),
                        amount_text(Unit::Minutes, given)
                    ),
                ));
            }
            tx.commit().await?;
            Ok(receipt)
        })
        .await
    }

    /// Minutes the person gave to family since `since`.
    pub(super) async fn given_since(
        self,
        tx: &mut yinling_store::Tx,
        county: i64,
        person: i64,
        since: i64,
    ) -> AppResult<i64> {
        use yinling_store::ledger as store_ledger;
        let key = crate::ledger::person_holder(county, person)?.key(Unit::Minutes);
        let Some(account) = store_ledger::account_of(&mut tx.exec(), &key).await? else {
            return Ok(0);
        };
        let sums = store_ledger::recent_sums(
            &mut tx.exec(),
            account.county_code,
            &[account.id],
            store_ledger::Side::Debit,
            Reason::Family,
            since,
        )
        .await?;
        Ok(sums.first().map_or(0, |s| s.1))
    }

    /// What paying for a completed service with time-bank hours takes, for the confirmation
    /// step (the elder sees it before anything moves), or what it took once paid, and any
    /// dispute of it. Minutes charged are those the provider recorded, capped by the
    /// service item's duration. For the resident who received the service, or staff with
    /// Dispatch over the order's path who record it for them.
    #[tracing::instrument(name = "time_bank.charge", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn charge(self, caller: &Caller, key: Key<OrderId>) -> AppResult<HoursCharge> {
        let county = key.county();
        let order = self.app.orders().detail(caller, key).await?.view.order;
        let own = caller.person == Some((county, order.person_id.get()));
        if !own
            && !caller
                .scope(Permission::Dispatch)
                .covers(&order_path(&order)?)
        {
            return Err(AppError::forbidden(
                "只有接受服务的本人或网格员可以用时间银行支付",
            ));
        }
        if !matches!(
            order.state,
            OrderState::Completed | OrderState::Rated | OrderState::Closed
        ) {
            return Err(AppError::conflict(
                "order_not_completed",
                None,
                "服务完成后才能用时间银行支付",
            ));
        }
        let recorded = order.service_minutes.filter(|m| *m > 0).ok_or_else(|| {
            AppError::conflict("no_service_minutes", None, "这次服务没有记录服务时长")
        })?;
        let mut exec = self.app.store().read();
        let item = store_services::item(&mut exec, Key::new(key.county_code, order.item_id))
            .await?
            .ok_or(AppError::NotFound {
                what: "服务项目"
            })?;
        let cap = item.duration_minutes.max(1);
        let minutes = recorded.min(cap);
        let balance = store_ledger::account_of(
            &mut exec,
            &Holder::Person {
                county_code: key.county_code,
                id: order.person_id,
            }
            .key(Unit::Minutes),
        )
        .await?
        .map_or(0, |a| a.balance);
        let paid = self.app.ledger().hours_payment(&order).await?;
        let dispute = store_orders::dispute(&mut exec, key).await?;
        Ok(HoursCharge {
            county_code: key.county_code,
            order_id: key.id,
            person_id: order.person_id,
            item_name: item.name,
            recorded_minutes: recorded,
            cap_minutes: cap,
            minutes,
            minutes_text: amount_text(Unit::Minutes, minutes),
            balance,
            balance_text: amount_text(Unit::Minutes, balance),
            enough: balance >= minutes,
            paid,
            dispute,
        })
    }

    /// Pays for a completed service the caller received (or staff record for them) with
    /// time-bank hours: the amount [`App::hours_charge`] showed, which the caller confirms by
    /// sending it back (`confirmed_minutes`); if it differs nothing moves and the caller is
    /// asked to look again. At most once per order (the order is the idempotency key: paying
    /// again returns the first receipt).
    #[tracing::instrument(name = "time_bank.withdraw", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn withdraw(
        self,
        caller: &Caller,
        key: Key<OrderId>,
        confirmed_minutes: i64,
    ) -> AppResult<Receipt> {
        let charge = self.charge(caller, key).await?;
        let (county, id) = (key.county(), key.id());
        if let Some(transfer) = charge.paid {
            return Ok(Receipt {
                transfer,
                replayed: true,
            });
        }
        if confirmed_minutes != charge.minutes {
            return Err(AppError::conflict(
                "amount_not_confirmed",
                Some("minutes"),
                format!(
                    "这次服务要支付的是{}，请看清后再确认支付",
                    charge.minutes_text
                ),
            ));
        }
        self.app
            .ledger()
            .post(Posting {
                unit: Unit::Minutes,
                debit: Holder::Person {
                    county_code: key.county_code,
                    id: charge.person_id,
                },
                credit: Holder::Pool {
                    county_code: crate::kernel::key::stored_county(county)?,
                },
                amount: charge.minutes,
                reason: Reason::Withdraw,
                source_kind: SourceKind::Order,
                source_ref: format!("{county}/{id}"),
                memo: String::new(),
                key: format!("withdraw:{county}:{id}"),
                reverses: None,
                actor: Actor::of(caller),
                daily_cap: None,
            })
            .await
    }

    /// Disputes the time-bank charge for an order (有异议): the resident who paid, or staff
    /// with Dispatch over the order who record it for them. Once per order; recorded and
    /// audited, then decided by other staff ([`App::decide_hours_dispute`]).
    #[tracing::instrument(name = "time_bank.raise_dispute", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn raise_dispute(
        self,
        caller: &Caller,
        key: Key<OrderId>,
        input: DisputeInput,
    ) -> AppResult<HoursDisputeRow> {
        let charge = self.charge(caller, key).await?;
        let Some(paid) = charge.paid else {
            return Err(AppError::conflict(
                "not_paid",
                None,
                "这次服务还没有用时间银行支付，不需要提出异议",
            ));
        };
        let reason =
            Bounded::<LinesKind, 2, 200>::read(&input.reason, "reason", "异议原因")?.into_string();
        let now = self.app.now();
        let row = HoursDisputeRow {
            county_code: key.county_code,
            order_id: key.id,
            transfer_id: paid.id,
            person_id: charge.person_id,
            minutes: paid.amount,
            reason,
            status: HoursDisputeStatus::Open,
            raised_by: caller.account_id.map(AccountId),
            raised_by_name: caller.display_name.clone(),
            raised_at: now,
            decided_by: None,
            decided_by_name: None,
            decided_at: None,
            decision_note: None,
            reversal_id: None,
        };
        let mut tx = self.app.store().begin().await?;
        if !store_orders::insert_dispute(&mut tx.exec(), &row).await? {
            return Err(AppError::conflict(
                "already_disputed",
                None,
                "这笔时间银行支付已经提出过异议，请等待工作人员核实",
            ));
        }
        self.audit_dispute(&mut tx, caller, &row, "timebank.dispute")
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Disputes of time-bank charges over orders where the caller has Dispatch or
    /// ApproveAdjustments, oldest first; only open ones if `open_only`.
    #[tracing::instrument(name = "time_bank.disputes", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn disputes(
        self,
        caller: &Caller,
        open_only: bool,
    ) -> AppResult<Vec<HoursDisputeView>> {
        let scope = dispute_scope(caller);
        let rows =
            store_orders::disputes(&mut self.app.store().read(), &scope, open_only, 200).await?;
        let mut out = Vec::with_capacity(rows.len());
        for d in rows {
            let order_key = Key::new(d.county_code, d.order_id);
            let order = store_orders::get(&mut self.app.store().read(), order_key)
                .await?
                .ok_or(AppError::NotFound { what: "订单" })?;
            let may_decide = d.status.is_open() && !self.own_dispute(caller, &d, &order).await?;
            let view = self.app.orders().view_of(order).await?;
            out.push(HoursDisputeView {
                minutes_text: amount_text(Unit::Minutes, d.minutes),
                status_label: d.status.label_zh(),
                item_name: view.item_name,
                resident_name: view.resident_name,
                may_decide,
                dispute: d,
            });
        }
        Ok(out)
    }

    /// The dispute of an order's time-bank charge, for staff who may see it (`None` when
    /// there is none or the caller has neither Dispatch nor ApproveAdjustments there).
    #[tracing::instrument(name = "time_bank.dispute", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn dispute(
        self,
        caller: &Caller,
        key: Key<OrderId>,
    ) -> AppResult<Option<HoursDisputeView>> {
        let Some(d) = store_orders::dispute(&mut self.app.store().read(), key).await? else {
            return Ok(None);
        };
        let order = store_orders::get(&mut self.app.store().read(), key)
            .await?
            .ok_or(AppError::NotFound { what: "订单" })?;
        if !dispute_scope(caller).covers(&order_path(&order)?) {
            return Ok(None);
        }
        let may_decide = d.status.is_open() && !self.own_dispute(caller, &d, &order).await?;
        let view = self.app.orders().view_of(order).await?;
        Ok(Some(HoursDisputeView {
            minutes_text: amount_text(Unit::Minutes, d.minutes),
            status_label: d.status.label_zh(),
            item_name: view.item_name,
            resident_name: view.resident_name,
            may_decide,
            dispute: d,
        }))
    }

    /// Whether the dispute is the caller's own: they raised it, or the hours are theirs or
    /// their household's. Nobody decides their own dispute.
    pub(super) async fn own_dispute(
        self,
        caller: &Caller,
        d: &HoursDisputeRow,
        order: &OrderRow,
    ) -> AppResult<bool> {
        if caller.account_id.is_some() && caller.account_id == d.raised_by.map(AccountId::get) {
            return Ok(true);
        }
        Ok(self
            .app
            .ledger()
            .kin_of(
                crate::ledger::caller_person(caller),
                Key::new(order.county_code, order.person_id),
            )
            .await?
            .is_some())
    }

    /// Decides a dispute: upheld, the charge is reversed through the ledger's reversal (the
    /// same key as `reverse_transfer`, so a charge is never reversed twice); rejected, it
    /// stands. Staff with Dispatch or ApproveAdjustments over the order's path, not the one
    /// who raised it nor the resident or their household. Decision, reversal and audit
    /// commit together.
    #[tracing::instrument(name = "time_bank.decide_dispute", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn decide_dispute(
        self,
        caller: &Caller,
        key: Key<OrderId>,
        input: DisputeDecision,
    ) -> AppResult<HoursDisputeRow> {
        let county = key.county();
        let mut exec = self.app.store().read();
        let d = store_orders::dispute(&mut exec, key)
            .await?
            .ok_or(AppError::NotFound { what: "异议" })?;
        let order = store_orders::get(&mut exec, key)
            .await?
            .ok_or(AppError::NotFound { what: "异议" })?;
        if !dispute_scope(caller).covers(&order_path(&order)?) {
            return Err(AppError::NotFound { what: "异议" });
        }
        if self.own_dispute(caller, &d, &order).await? {
            let why = "不能处理自己提出的、或自己及同户家人的时间银行异议，请由其他工作人员核实";
            self.app
                .orders()
                .audit_refusal(caller, key, "hours_dispute.decide", why)
                .await?;
            return Err(AppError::forbidden(why));
        }
        if !d.status.is_open() {
            return Err(already_decided());
        }
        let note =
            Bounded::<LinesKind, 1, 200>::read_opt(input.note.as_deref(), "note", "处理意见")?
                .map(String::from);
        let now = self.app.now();
        let transfer = store_ledger::transfer(
            &mut self.app.store().read(),
            Key::new(key.county_code, d.transfer_id),
        )
        .await?
        .ok_or_else(|| AppError::Internal("disputed transfer missing".into()))?;
        let (d, note, transfer) = (&d, &note, &transfer);
        retrying(|| async move {
            let mut tx = self.app.store().begin().await?;
            let reversal_id = if input.uphold {
                let memo: String = format!("时间银行支付异议成立：{}", d.reason)
                    .chars()
                    .take(200)
                    .collect();
                let posting = Posting {
                    unit: Unit::Minutes,
                    debit: Holder::Pool {
                        county_code: transfer.county_code,
                    },
                    credit: Holder::Person {
                        county_code: key.county_code,
                        id: d.person_id,
                    },
                    amount: transfer.amount,
                    reason: Reason::Reverse,
                    source_kind: SourceKind::Order,
                    source_ref: transfer.source_ref.clone(),
                    memo,
                    key: format!("reverse:{county}:{}", transfer.id),
                    reverses: Some(transfer.id),
                    actor: Actor::of(caller),
                    daily_cap: None,
                };
                let receipt = apply_one(&mut tx, self.app.ledger().writer().ids(), &posting, now)
                    .await
                    .map_err(|e| {
                        if e.code() == "idempotency_key_reused" {
                            AppError::conflict(
                                "already_reversed",
                                None,
                                "这笔支付已经冲正过了，请选择“异议不成立”结束这条异议",
                            )
                        } else {
                            e
                        }
                    })?;
                Some(receipt.transfer.id)
            } else {
                None
            };
            let status = if input.uphold {
                HoursDisputeStatus::Upheld
            } else {
                HoursDisputeStatus::Rejected
            };
            if !store_orders::decide_dispute(
                &mut tx.exec(),
                key,
                status,
                caller.account_id.map(AccountId),
                &caller.display_name,
                note.as_deref(),
                reversal_id,
                now,
            )
            .await?
            {
                return Err(already_decided());
            }
            let decided = HoursDisputeRow {
                status,
                decided_by: caller.account_id.map(AccountId),
                decided_by_name: Some(caller.display_name.clone()),
                decided_at: Some(now),
                decision_note: note.clone(),
                reversal_id,
                ..d.clone()
            };
            self.audit_dispute(
                &mut tx,
                caller,
                &decided,
                if input.uphold {
                    "timebank.dispute.uphold"
                } else {
                    "timebank.dispute.reject"
                },
            )
            .await?;
            tx.commit().await?;
            Ok(decided)
        })
        .await
    }

    pub(super) async fn audit_dispute(
        self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        d: &HoursDisputeRow,
        action: &'static str,
    ) -> AppResult<()> {
        let after = serde_json::json!({"transfer": d.transfer_id, "minutes": d.minutes, "status": d.status, "reversal": d.reversal_id});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: d.county_code.as_i64(),
                action,
                entity: "order",
                entity_key: format!("{}/{}", d.county_code, d.order_id),
                before: None,
                after: Some(&after),
                detail: Some(match &d.decision_note {
                    Some(n) => format!("{}；处理意见：{n}", d.reason),
                    None => d.reason.clone(),
                }),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        Ok(())
    }
}

/// Where the caller may see and decide disputes: Dispatch or ApproveAdjustments.
pub(super) fn dispute_scope(caller: &Caller) -> Scope {
    let paths = [Permission::Dispatch, Permission::ApproveAdjustments]
        .into_iter()
        .flat_map(|p| {
            caller
                .scope(p)
                .ranges()
                .iter()
                .map(|r| r.path.clone())
                .collect::<Vec<_>>()
        });
    Scope::from_paths(paths)
}

pub(super) fn order_path(order: &OrderRow) -> AppResult<OrgPath> {
    OrgPath::parse(&order.path).map_err(|e| AppError::Internal(e.to_string()))
}

pub(super) fn already_decided() -> AppError {
    AppError::conflict("already_decided", None, "这条异议已经处理过了")
}
