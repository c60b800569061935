//! 不是我本人兑换: the elder's report and the county's decision.

use super::*;
use crate::kernel::text::{Bounded, LinesKind, ReadField};

// ---- 不是我本人兑换: the elder's report and the county's decision ----

/// The refusal to make a code while a report is open.
pub(super) fn paused() -> AppError {
    AppError::forbidden(
        "您报告过一笔不是本人的兑换，县里核实之前暂停出示兑换码。如有疑问请联系社区或网格员。",
    )
}

/// How the county decides a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportDecision {
    /// Someone else used the code: reverse the redemption (the points go back).
    Fraud,
    /// It was the elder's own redemption after all (or a family member's with consent).
    Dismiss,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ResolveInput {
    pub decision: ReportDecision,
    /// What was found (4 to 150 characters).
    pub note: String,
}

/// A report in the county's list.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub report: ReportRow,
    pub state_label: &'static str,
    pub shop_name: String,
    /// The elder's name (the county's administrators may see their people).
    pub person_name: String,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub transfer_id: TransferId,
    /// When the redemption was made, and when it was reported.
    pub redeemed_text: String,
    pub reported_text: String,
    /// The till account that made it.
    pub till_name: String,
}

impl Redeem<'_> {
    /// 不是我本人兑换: the elder reports one of their redemptions. Their live codes are void
    /// at once and no new code is made until the county has looked at it; the report joins
    /// the county's list. Reporting the same redemption again answers the first report.
    #[tracing::instrument(name = "redeem.report", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, redemption = %redemption))]
    pub async fn report(
        self,
        caller: &Caller,
        redemption: Key<RedemptionId>,
    ) -> AppResult<ReportRow> {
        let person = crate::ledger::caller_person(caller)
            .ok_or_else(|| AppError::forbidden("您的账号没有关联本人档案"))?;
        let county = redemption.county();
        let mut exec = self.app.store().read();
        let r = store_shops::redemption(&mut exec, redemption)
            .await?
            .filter(|r| Key::new(r.county_code, r.person_id) == person)
            .ok_or(AppError::NotFound {
                what: "兑换记录"
            })?;
        if let Some(existing) = store_shops::reports_of_person(&mut exec, person)
            .await?
            .into_iter()
            .find(|x| x.redemption_id == r.id)
        {
            return Ok(existing);
        }
        let shop = store_org::get(&mut exec, Key::new(r.county_code, r.shop_id))
            .await?
            .ok_or_else(|| AppError::Internal("shop of a redemption missing".into()))?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let frozen = store_shops::void_live_codes(&mut tx.exec(), person, now).await?;
        let row = ReportRow {
            county_code: r.county_code,
            id: RedemptionReportId(ids::next(&mut tx.exec(), Seq::RedemptionReports).await?),
            path: shop.path.clone(),
            redemption_id: r.id,
            shop_id: r.shop_id,
            person_id: r.person_id,
            reported_by: caller.account_id.map(AccountId),
            reported_at: now,
            frozen_codes: frozen as i64,
            state: ReportState::Open,
            resolved_by: None,
            resolved_by_name: None,
            resolved_at: None,
            note: None,
            reversal_id: None,
        };
        if !store_shops::insert_report(&mut tx.exec(), &row).await? {
            // Reported at the same moment from another tap: answer that report.
            drop(tx);
            return store_shops::reports_of_person(&mut self.app.store().read(), person)
                .await?
                .into_iter()
                .find(|x| x.redemption_id == r.id)
                .ok_or_else(|| AppError::Internal("report vanished".into()));
        }
        let after = serde_json::json!({"redemption_id": r.id, "transfer_id": r.transfer_id,
            "points": r.points, "frozen_codes": frozen});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "redeem.report",
                entity: "redemption_report",
                entity_key: format!("{county}/{}", row.id),
                before: None,
                after: Some(&after),
                detail: Some(format!(
                    "不是本人兑换：{}，{}×{}，{}积分；作废未用的兑换码{}个，暂停出示新兑换码",
                    shop.name, r.goods_name, r.quantity, r.points, frozen
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Whether the caller's codes are paused by a report the county has not looked at.
    #[tracing::instrument(name = "redeem.is_paused", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn is_paused(self, caller: &Caller) -> AppResult<bool> {
        let Some(person) = crate::ledger::caller_person(caller) else {
            return Ok(false);
        };
        Ok(store_shops::has_open_report(&mut self.app.store().read(), person).await?)
    }

    /// Reports about shops in the caller's scope, open ones first.
    #[tracing::instrument(name = "redeem.reports", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn reports(self, caller: &Caller) -> AppResult<Vec<ReportView>> {
        Self::may_oversee(caller)?;
        let rows = store_shops::reports_in_scope(
            &mut self.app.store().read(),
            &caller.scope(Permission::ManageLedger),
            200,
        )
        .await?;
        let names = self
            .shop_names(
                &rows
                    .iter()
                    .map(|r| Key::new(r.county_code, r.shop_id))
                    .collect::<Vec<_>>(),
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for report in rows {
            let shop_name = names
                .get(&Key::new(report.county_code, report.shop_id))
                .cloned()
                .unwrap_or_default();
            out.push(self.report_view(report, shop_name).await?);
        }
        Ok(out)
    }

    pub(super) async fn report_view(
        self,
        report: ReportRow,
        shop_name: String,
    ) -> AppResult<ReportView> {
        let mut exec = self.app.store().read();
        let r = store_shops::redemption(
            &mut exec,
            Key::new(report.county_code, report.redemption_id),
        )
        .await?
        .ok_or_else(|| AppError::Internal("reported redemption missing".into()))?;
        let person_name =
            store_people::get(&mut exec, Key::new(report.county_code, report.person_id))
                .await?
                .map(|p| p.name)
                .unwrap_or_default();
        let till_name = match r.created_by {
            Some(a) => yinling_store::accounts::get(&mut exec, a)
                .await?
                .map(|a| a.display_name)
                .unwrap_or_default(),
            None => String::new(),
        };
        Ok(ReportView {
            state_label: report.state.label_zh(),
            shop_name,
            person_name,
            goods_name: r.goods_name,
            quantity: r.quantity,
            points: r.points,
            transfer_id: r.transfer_id,
            redeemed_text: format_minutes(r.created_at),
            reported_text: format_minutes(report.reported_at),
            till_name,
            report,
        })
    }

    /// The county decides a report: `Fraud` reverses the redemption through the ledger's
    /// reversal (the points go back to the elder; the goods are gone), `Dismiss` closes it.
    /// Either way the elder may show codes again. Nobody decides a report about themselves
    /// or their household.
    #[tracing::instrument(name = "redeem.resolve_report", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, report = %key))]
    pub async fn resolve_report(
        self,
        caller: &Caller,
        key: Key<RedemptionReportId>,
        input: ResolveInput,
    ) -> AppResult<ReportView> {
        let (county, id) = (key.county(), key.id());
        let report = store_shops::report(&mut self.app.store().read(), key)
            .await?
            .filter(|r| Self::oversees(caller, &r.path))
            .ok_or(AppError::NotFound {
                what: "冒用报告"
            })?;
        self.app
            .ledger()
            .not_for_self(
                caller,
                Benefit::ResolveReport,
                Key::new(report.county_code, report.person_id),
                None,
            )
            .await?;
        let note = Bounded::<LinesKind, 4, 150>::read(&input.note, "note", "核实情况")?;
        let note = note.as_str();
        if report.state != ReportState::Open {
            return Err(AppError::conflict(
                "already_resolved",
                None,
                format!("这份报告已处理：{}", report.state.label_zh()),
            ));
        }
        let r = store_shops::redemption(
            &mut self.app.store().read(),
            Key::new(report.county_code, report.redemption_id),
        )
        .await?
        .ok_or_else(|| AppError::Internal("reported redemption missing".into()))?;
        let reversal_id = match input.decision {
            ReportDecision::Dismiss => None,
            ReportDecision::Fraud => Some(
                self.reverse_reported(caller, Key::new(r.county_code, r.transfer_id), note)
                    .await?,
            ),
        };
        let (state, action) = match input.decision {
            ReportDecision::Fraud => (ReportState::Fraud, "redeem.report.fraud"),
            ReportDecision::Dismiss => (ReportState::Dismissed, "redeem.report.dismiss"),
        };
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        if !store_shops::resolve_report(
            &mut tx.exec(),
            key,
            state,
            caller.account_id.map(AccountId),
            &caller.display_name,
            now,
            note,
            reversal_id,
        )
        .await?
        {
            return Err(AppError::conflict(
                "already_resolved",
                None,
                if reversal_id.is_some() {
                    "这份报告刚刚已由他人处理（这笔兑换已冲正）"
                } else {
                    "这份报告刚刚已由他人处理"
                },
            ));
        }
        let after = serde_json::json!({"state": state, "reversal_id": reversal_id});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action,
                entity: "redemption_report",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(&after),
                detail: Some(note.to_owned()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        let report = store_shops::report(&mut self.app.store().read(), key)
            .await?
            .ok_or_else(|| AppError::Internal("report vanished".into()))?;
        let shop_name = self
            .shop_names(&[Key::new(report.county_code, report.shop_id)])
            .await?
            .into_values()
            .next()
            .unwrap_or_default();
        self.report_view(report, shop_name).await
    }

    /// Reverses a reported redemption's transfer; if it was reversed already (a decision
    /// retried after a failure), the existing reversal.
    pub(super) async fn reverse_reported(
        self,
        caller: &Caller,
        transfer: Key<TransferId>,
        note: &str,
    ) -> AppResult<TransferId> {
        match self
            .app
            .ledger()
            .reverse_transfer(caller, transfer, &format!("不是本人兑换，核实冲正：{note}"))
            .await
        {
            Ok(receipt) => Ok(receipt.transfer.id),
            Err(e) if e.code() == "already_reversed" => {
                let key = format!("reverse:{}:{}", transfer.county_code, transfer.id);
                store_ledger::transfers_by_keys(
                    &mut self.app.store().read(),
                    transfer.county_code,
                    &[key.as_str()],
                )
                .await?
                .into_iter()
                .next()
                .map(|t| t.id)
                .ok_or(e)
            }
            Err(e) => Err(e),
        }
    }
}
