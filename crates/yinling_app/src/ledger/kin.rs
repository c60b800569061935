//! Nobody pays themselves: the household rule and the refusal it gives.

use super::*;

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
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Benefit::Earn => "earn",
            Benefit::Propose => "adjustment.propose",
            Benefit::Decide => "adjustment.decide",
            Benefit::ProposerKin => "adjustment.approve_proposer_kin",
            Benefit::Reverse => "reverse",
            Benefit::ResolveReport => "redeem_report.resolve",
        }
    }

    pub(super) fn message(self) -> &'static str {
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

impl Ledger<'_> {
    /// How `person` stands to the person file `of` (a caller's linked file):
    /// the same file, the same household, or neither (also when there is no linked file).
    #[tracing::instrument(
        name = "ledger.kin_of",
        skip_all,
        err(level = "debug"),
        fields(person = %person)
    )]
    pub async fn kin_of(
        self,
        of: Option<Key<PersonId>>,
        person: Key<PersonId>,
    ) -> AppResult<Option<Kin>> {
        let Some(of) = of else { return Ok(None) };
        if of == person {
            return Ok(Some(Kin::Own));
        }
        if of.county_code != person.county_code {
            return Ok(None);
        }
        let mut exec = self.app.store().read();
        let Some(own) = store_people::get(&mut exec, of).await? else {
            return Ok(None);
        };
        let Some(household) = own.household_id else {
            return Ok(None);
        };
        let other = store_people::get(&mut exec, person).await?;
        Ok(other
            .is_some_and(|p| p.household_id == Some(household))
            .then_some(Kin::Household))
    }

    /// The person file linked to an account, if any.
    pub(super) async fn person_of_account(
        self,
        account: AccountId,
    ) -> AppResult<Option<Key<PersonId>>> {
        Ok(store_accounts::get(&mut self.app.store().read(), account)
            .await?
            .and_then(|a| a.person_county_code.zip(a.person_id))
            .map(|(c, i)| Key::new(c, i)))
    }

    /// Refuses an action that would benefit the caller's own file or household: records
    /// the refusal in the audit log (its own committed transaction — the action itself
    /// writes nothing) and returns the error to show.
    pub(super) async fn refuse_benefit(
        self,
        caller: &Caller,
        what: Benefit,
        person: Key<PersonId>,
        kin: Kin,
        adjustment: Option<AdjustmentId>,
    ) -> AppError {
        let detail = serde_json::json!({
            "op": what.as_str(),
            "relation": kin,
            "adjustment": adjustment,
        });
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: person.county(),
                action: "ledger.self_benefit_refused",
                entity: "person",
                entity_key: person.to_string(),
                before: None,
                after: None,
                detail: Some(detail.to_string()),
            },
        );
        let written = async {
            let mut tx = self.app.store().begin().await?;
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

    /// Refuses (and audits) `what` when `person` is the caller's own file or
    /// in its household.
    pub(crate) async fn not_for_self(
        self,
        caller: &Caller,
        what: Benefit,
        person: Key<PersonId>,
        adjustment: Option<AdjustmentId>,
    ) -> AppResult<()> {
        match self.kin_of(caller_person(caller), person).await? {
            Some(kin) => Err(self
                .refuse_benefit(caller, what, person, kin, adjustment)
                .await),
            None => Ok(()),
        }
    }
}
