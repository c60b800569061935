//! The steps after intake: sessions, the outcome (with the mediators' points entitlements)
//! and follow-up visits, each one audited event on the case.

use super::*;
use crate::kernel::text::{Bounded, LineKind, LinesKind, ReadField};

impl Mediation<'_> {
    /// Records a mediation session (调解过程). Refused on a concluded case.
    #[tracing::instrument(name = "mediation.record_session", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn record_session(
        self,
        caller: &Caller,
        key: Key<CaseId>,
        input: SessionInput,
    ) -> AppResult<SessionId> {
        let case = self.case_for(caller, Permission::Mediate, key).await?;
        let assigned = store::mediators(&mut self.app.store().read(), key).await?;
        let next = transition(
            case.status,
            CaseAction::RecordSession {
                has_mediators: !assigned.is_empty(),
            },
        )
        .map_err(refused)?;
        self.check_day(
            input.held_on,
            &case.intake_on,
            "held_on",
            "调解日期",
            "受理日期",
        )?;
        if input.present.is_empty() {
            return Err(AppError::invalid(
                "no_one_present",
                "present",
                "请选择到场的调解员",
            ));
        }
        let mut present = Vec::with_capacity(input.present.len());
        for r in &input.present {
            let m = assigned.iter().find(|m| m.mediator == *r).ok_or_else(|| {
                AppError::invalid(
                    "not_assigned",
                    "present",
                    "到场的调解员须是本案已指派的调解员或调解组织",
                )
            })?;
            if !present.iter().any(|p: &PresentMediator| p.mediator == *r) {
                present.push(PresentMediator {
                    mediator: *r,
                    name: m.name.clone(),
                });
            }
        }
        let note =
            Bounded::<LinesKind, 2, 1000>::read(&input.note, "note", "调解情况")?.into_string();
        let present_json =
            serde_json::to_string(&present).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store::bump(&mut tx.exec(), key, input.version, next, now).await?;
        let sid = SessionId(ids::next(&mut tx.exec(), Seq::MediationSessions).await?);
        store::insert_sessions(
            &mut tx.exec(),
            &[NewSession {
                county_code: key.county_code,
                id: sid,
                case_id: key.id,
                held_on: input.held_on.to_string(),
                present: present_json.clone(),
                note: note.clone(),
                recorded_by_name: caller.display_name.clone(),
                now,
            }],
        )
        .await?;
        let after = serde_json::json!({"session": sid, "held_on": input.held_on, "present": present_json, "note": note});
        self.case_event(&mut tx, caller, key, "mediation.session", &after)
            .await?;
        tx.commit().await?;
        Ok(sid)
    }

    /// Records how mediation ended.
    #[tracing::instrument(name = "mediation.conclude", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn conclude(
        self,
        caller: &Caller,
        key: Key<CaseId>,
        input: OutcomeInput,
    ) -> AppResult<()> {
        let case = self.case_for(caller, Permission::Mediate, key).await?;
        let next = transition(case.status, CaseAction::Conclude(input.outcome)).map_err(refused)?;
        self.check_day(
            input.concluded_on,
            &case.intake_on,
            "concluded_on",
            "办结日期",
            "受理日期",
        )?;
        let sessions = store::sessions(&mut self.app.store().read(), key).await?;
        if let Some(last) = sessions.iter().map(|s| s.held_on.as_str()).max() {
            self.check_day(
                input.concluded_on,
                last,
                "concluded_on",
                "办结日期",
                "最后一次调解的日期",
            )?;
        }
        let note =
            Bounded::<LinesKind, 1, 500>::read_opt(input.note.as_deref(), "note", "结果说明")?
                .map(String::from);
        let referred_to = if input.outcome == Outcome::Referred {
            Some(
                Bounded::<LineKind, 1, 40>::read_opt(
                    input.referred_to.as_deref(),
                    "referred_to",
                    "移交单位",
                )?
                .map(String::from)
                .ok_or_else(|| {
                    AppError::invalid(
                        "referred_to_required",
                        "referred_to",
                        "选择“移交”时，请填写移交到哪个单位（如司法所、人民法院）",
                    )
                })?,
            )
        } else {
            None
        };
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store::bump(&mut tx.exec(), key, input.version, next, now).await?;
        store::set_outcome(
            &mut tx.exec(),
            key,
            input.outcome,
            &input.concluded_on.to_string(),
            note.as_deref(),
            referred_to.as_deref(),
        )
        .await?;
        let after = serde_json::json!({"outcome": input.outcome.as_str(), "concluded_on": input.concluded_on, "note": note, "referred_to": referred_to});
        self.case_event(&mut tx, caller, key, "mediation.conclude", &after)
            .await?;
        self.entitle_mediators(&mut tx, key, input.outcome, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records what the county's earning rule for this outcome awards each mediator who is a
    /// person (信用+积分 for 参与调解纠纷), once per case and person; the ledger job takes it.
    pub(super) async fn entitle_mediators(
        self,
        tx: &mut yinling_store::Tx,
        key: Key<CaseId>,
        outcome: Outcome,
        now: i64,
    ) -> AppResult<()> {
        let Some(rule) = yinling_store::ledger::earning_rule(
            &mut tx.exec(),
            key.county_code,
            yinling_domain::ledger::SourceKind::Mediation,
            outcome.as_str(),
        )
        .await?
        .filter(|r| r.points > 0 || r.minutes > 0) else {
            return Ok(());
        };
        for m in store::mediators(&mut tx.exec(), key).await? {
            let Mediator::Person(person) = m.mediator else {
                continue;
            };
            let eid = yinling_store::kernel::ids::next(
                &mut tx.exec(),
                yinling_store::kernel::ids::Seq::AwardEntitlements,
            )
            .await?;
            yinling_store::orders::insert_entitlement(
                &mut tx.exec(),
                &yinling_store::orders::EntitlementRow {
                    county_code: key.county(),
                    id: eid,
                    source_kind: "mediation".to_owned(),
                    source_id: key.id(),
                    person_id: person.get(),
                    points: rule.points,
                    hours_minutes: rule.minutes,
                    status: "pending".to_owned(),
                    created_at: now,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Records a follow-up visit (回访) to a concluded case.
    #[tracing::instrument(name = "mediation.follow_up", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn follow_up(
        self,
        caller: &Caller,
        key: Key<CaseId>,
        input: FollowUpInput,
    ) -> AppResult<FollowUpId> {
        let case = self.case_for(caller, Permission::Mediate, key).await?;
        let next = transition(case.status, CaseAction::FollowUp).map_err(refused)?;
        let concluded_on = case.concluded_on.clone().unwrap_or(case.intake_on.clone());
        self.check_day(
            input.visited_on,
            &concluded_on,
            "visited_on",
            "回访日期",
            "办结日期",
        )?;
        let has_agreement = case.outcome.is_some_and(Outcome::has_agreement);
        let holds = match (has_agreement, input.holds) {
            (true, None) => {
                return Err(AppError::invalid(
                    "holds_required",
                    "holds",
                    "请选择调解协议是否得到履行",
                ));
            }
            (true, h) => h,
            (false, _) => None,
        };
        let note =
            Bounded::<LinesKind, 2, 500>::read(&input.note, "note", "回访情况")?.into_string();
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store::bump(&mut tx.exec(), key, input.version, next, now).await?;
        let fid = FollowUpId(ids::next(&mut tx.exec(), Seq::MediationFollowups).await?);
        store::insert_followups(
            &mut tx.exec(),
            &[NewFollowup {
                county_code: key.county_code,
                id: fid,
                case_id: key.id,
                visited_on: input.visited_on.to_string(),
                holds,
                note: note.clone(),
                recorded_by_name: caller.display_name.clone(),
                now,
            }],
        )
        .await?;
        store::set_followed_up(&mut tx.exec(), key, &input.visited_on.to_string(), holds).await?;
        let after = serde_json::json!({"follow_up": fid, "visited_on": input.visited_on, "holds": holds, "note": note});
        self.case_event(&mut tx, caller, key, "mediation.follow_up", &after)
            .await?;
        tx.commit().await?;
        Ok(fid)
    }

    pub(super) async fn case_event(
        self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        key: Key<CaseId>,
        action: &'static str,
        after: &serde_json::Value,
    ) -> AppResult<()> {
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: key.county(),
                action,
                entity: "mediation_case",
                entity_key: key.to_string(),
                before: None,
                after: Some(after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        Ok(())
    }
}
