//! Reads the points and time-bank pages need beyond the use cases: whom the caller may give
//! hours to, whether an order was paid with hours, adjustments waiting with the person's name,
//! and the counties whose ledger rules the caller manages. Each is scoped like the use case it
//! serves.

use serde::Serialize;
use yinling_domain::{
    ids::{Key, PersonId},
    org::{OrgKind, OrgPath},
    role::Permission,
};
use yinling_store::{
    accounts as store_accounts,
    ledger::{self as store_ledger, TransferRow},
    orders::OrderRow,
    org::places as store_places,
    org::{self as store_org},
    people as store_people,
};

use crate::{
    AppResult, Caller,
    ledger::{Adjustment, Kin, amount_text},
};

use super::*;

/// A member of the caller's household, who may receive the caller's hours.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyMember {
    pub key: Key<PersonId>,
    pub name: String,
}

/// An adjustment waiting for approval, with whom it is for, who proposed it, how they
/// stand to each other and to the caller, and what the caller may do.
#[derive(Debug, Clone, Serialize)]
pub struct AdjustmentView {
    pub row: Adjustment,
    pub person_name: String,
    /// 增加30分 / 扣减1小时
    pub amount_text: String,
    pub unit_label: &'static str,
    /// The caller proposed it, so someone else must decide.
    pub own: bool,
    /// The person is the proposer's own file or household (proposed before that was
    /// refused): it may only be rejected.
    pub proposer_kin: Option<Kin>,
    /// The person is the caller's own file or household: the caller may not decide.
    pub caller_kin: Option<Kin>,
    /// What the approver must be told about the relations above, in Chinese.
    pub warning: Option<&'static str>,
    /// The caller may reject it.
    pub may_decide: bool,
    /// The caller may approve it.
    pub may_approve: bool,
}

impl Ledger<'_> {
    /// The other members of the caller's own household (no one when the caller has no
    /// person file or no household).
    #[tracing::instrument(name = "ledger.my_household", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn my_household(self, caller: &Caller) -> AppResult<Vec<FamilyMember>> {
        let Some(me_key) = caller_person(caller) else {
            return Ok(Vec::new());
        };
        let mut exec = self.app.store().read();
        let Some(me) = store_people::get(&mut exec, me_key).await? else {
            return Ok(Vec::new());
        };
        let Some(household) = me.household_id else {
            return Ok(Vec::new());
        };
        Ok(
            store_places::residents(&mut exec, Key::new(me_key.county_code, household))
                .await?
                .into_iter()
                .filter(|(pid, _)| *pid != me_key.id)
                .map(|(pid, name)| FamilyMember {
                    key: Key::new(me_key.county_code, pid),
                    name,
                })
                .collect(),
        )
    }

    /// The time-bank payment for an order the caller has been shown, if it was paid.
    #[tracing::instrument(name = "ledger.hours_payment", skip_all, err(level = "debug"))]
    pub async fn hours_payment(self, order: &OrderRow) -> AppResult<Option<TransferRow>> {
        let key = format!("withdraw:{}:{}", order.county_code, order.id);
        Ok(store_ledger::transfers_by_keys(
            &mut self.app.store().read(),
            order.county_code,
            &[key.as_str()],
        )
        .await?
        .into_iter()
        .next())
    }

    /// Adjustments waiting in the caller's scope, oldest first, with names and what the
    /// caller may do with each.
    #[tracing::instrument(name = "ledger.adjustments_waiting", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn adjustments_waiting(self, caller: &Caller) -> AppResult<Vec<AdjustmentView>> {
        let rows = self.pending_adjustments(caller).await?;
        let approve = caller.scope(Permission::ApproveAdjustments);
        let mut exec = self.app.store().read();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let person = Key::new(row.county_code, row.person_id);
            let person_name = store_people::get(&mut exec, person)
                .await?
                .map(|p| p.name)
                .unwrap_or_default();
            let unit = row.unit;
            let own = caller_account(caller) == Some(row.proposed_by);
            let proposer = store_accounts::get(&mut exec, row.proposed_by)
                .await?
                .and_then(|a| a.person_county_code.zip(a.person_id))
                .map(|(c, i)| Key::new(c, i));
            let proposer_kin = self.kin_of(proposer, person).await?;
            let caller_kin = self.kin_of(caller_person(caller), person).await?;
            let warning = match (caller_kin, proposer_kin) {
                (Some(Kin::Own), _) => Some("这是为您本人提出的调整，须由其他人审批"),
                (Some(Kin::Household), _) => Some("这是为您的同户家人提出的调整，须由其他人审批"),
                (None, Some(Kin::Own)) => {
                    Some("注意：这是提出人为自己提出的调整，不能同意，只能驳回")
                }
                (None, Some(Kin::Household)) => {
                    Some("注意：这是提出人为其同户家人提出的调整，不能同意，只能驳回")
                }
                (None, None) => None,
            };
            let may_decide = !own
                && caller_kin.is_none()
                && OrgPath::parse(&row.path).is_ok_and(|p| approve.covers(&p));
            out.push(AdjustmentView {
                amount_text: format!(
                    "{}{}",
                    if row.amount > 0 { "增加" } else { "扣减" },
                    amount_text(unit, row.amount.abs())
                ),
                unit_label: unit.label_zh(),
                person_name,
                own,
                proposer_kin,
                caller_kin,
                warning,
                may_decide,
                may_approve: may_decide && proposer_kin.is_none(),
                row,
            });
        }
        out.sort_by_key(|a| (a.row.proposed_at, a.row.id));
        Ok(out)
    }

    /// The counties whose ledger rules the caller may change, as (code, name).
    #[tracing::instrument(name = "ledger.counties", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn counties(self, caller: &Caller) -> AppResult<Vec<(CountyCode, String)>> {
        let scope = caller.scope(Permission::ManageLedger);
        Ok(store_org::of_kinds(
            &mut self.app.store().read(),
            &scope,
            &[OrgKind::County],
            100,
        )
        .await?
        .into_iter()
        .filter(|u| {
            caller
                .scope(Permission::ManageLedger)
                .covers(&crate::county_path(u.county_code.as_i64()))
        })
        .map(|u| (u.county_code, u.name))
        .collect())
    }
}
