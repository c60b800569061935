//! The time bank (时间银行, 微山): minutes deposited for mutual-aid service (awarded from
//! completed orders through the ledger), withdrawn when one receives service, and given to
//! a member of one's household where the county allows it.

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use yinling_domain::{
    ledger::{Reason, SourceKind, Unit},
    service::OrderState,
    time::{local_date, shanghai},
};
use yinling_store::{lock_key, people as store_people};

use crate::{
    App, AppError, AppResult, Caller, Key,
    ledger::{Actor, Holder, Posting, Receipt, amount_text, apply_one, client_key, retrying},
};

/// Hours given to a family member.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GiftInput {
    /// The household member receiving them.
    pub to: Key,
    pub minutes: i64,
    #[serde(default)]
    pub memo: Option<String>,
    pub idempotency_key: String,
}

impl App {
    /// Gives the caller's own hours to a member of their household, within the county's
    /// yearly limit. The limit is checked under a per-person lock, so two gifts at once
    /// cannot both slip under it.
    pub async fn gift_hours(&self, caller: &Caller, input: GiftInput) -> AppResult<Receipt> {
        let (county, giver) = caller
            .person
            .ok_or_else(|| AppError::forbidden("您的账号没有关联本人档案，无法转赠时长"))?;
        let rules = self.ledger_rules(county).await?;
        if !rules.family_transfer {
            return Err(AppError::forbidden("本县（市、区）未开放时间银行亲属转赠"));
        }
        let mut exec = self.store().read();
        let from = store_people::get(&mut exec, county, giver)
            .await?
            .ok_or(AppError::NotFound { what: "人员" })?;
        let to = store_people::get(&mut exec, input.to.county_code, input.to.id)
            .await?
            .ok_or(AppError::NotFound { what: "人员" })?;
        if to.county_code != county
            || to.id == giver
            || from.household_id.is_none()
            || from.household_id != to.household_id
        {
            return Err(AppError::invalid(
                "not_family",
                "to",
                "时长只能转赠给同一户的家庭成员",
            ));
        }
        let memo = input.memo.as_deref().map(str::trim).unwrap_or_default();
        crate::text::check(memo, crate::text::TextKind::Lines, "memo", "附言")?;
        let posting = Posting {
            unit: Unit::Minutes,
            debit: Holder::Person {
                county_code: county,
                id: giver,
            },
            credit: Holder::Person {
                county_code: county,
                id: to.id,
            },
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
        let now = self.now();
        let year_start = local_date(now)
            .with_ordinal(1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|t| t.and_local_timezone(shanghai()).single())
            .map_or(0, |t| t.timestamp_micros());
        let (posting, rules, input) = (&posting, &rules, &input);
        retrying(|| async move {
            let mut tx = self.store().begin().await?;
            lock_key(&mut tx.exec(), giver).await?;
            let given = self.given_since(&mut tx, county, giver, year_start).await?;
            let receipt = apply_one(&mut tx, self.ledger_writer().ids(), posting, now).await?;
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
    async fn given_since(
        &self,
        tx: &mut yinling_store::Tx,
        county: i64,
        person: i64,
        since: i64,
    ) -> AppResult<i64> {
        use yinling_store::ledger as store_ledger;
        let key = Holder::Person {
            county_code: county,
            id: person,
        }
        .key(Unit::Minutes);
        let Some(account) = store_ledger::account_of(&mut tx.exec(), &key).await? else {
            return Ok(0);
        };
        let sums = store_ledger::recent_sums(
            &mut tx.exec(),
            county,
            &[account.id],
            store_ledger::Side::Debit,
            Reason::Family.as_str(),
            since,
        )
        .await?;
        Ok(sums.first().map_or(0, |s| s.1))
    }

    /// Pays for a completed service the caller received (or staff record for them) with
    /// time-bank hours: the minutes the server recorded, at most once per order (the order
    /// is the idempotency key: asking again returns the first receipt).
    pub async fn withdraw_hours(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
    ) -> AppResult<Receipt> {
        let order = self.order(caller, county, id).await?.view.order;
        let own = caller.person == Some((county, order.person_id));
        if !own
            && !caller
                .scope(yinling_domain::role::Permission::Dispatch)
                .covers(
                    &yinling_domain::org::OrgPath::parse(&order.path)
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                )
        {
            return Err(AppError::forbidden(
                "只有接受服务的本人或网格员可以用时间银行支付",
            ));
        }
        let state = OrderState::parse(&order.state);
        if !matches!(
            state,
            Some(OrderState::Completed | OrderState::Rated | OrderState::Closed)
        ) {
            return Err(AppError::conflict(
                "order_not_completed",
                None,
                "服务完成后才能用时间银行支付",
            ));
        }
        let minutes = order.service_minutes.filter(|m| *m > 0).ok_or_else(|| {
            AppError::conflict("no_service_minutes", None, "这次服务没有记录服务时长")
        })?;
        self.post(Posting {
            unit: Unit::Minutes,
            debit: Holder::Person {
                county_code: county,
                id: order.person_id,
            },
            credit: Holder::Pool {
                county_code: county,
            },
            amount: minutes,
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
}
