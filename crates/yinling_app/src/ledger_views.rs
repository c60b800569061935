//! Reads the points, time-bank and shop pages need beyond what the ledger, redemption and
//! time-bank use cases answer: whom the caller may give hours to, the state of a code the
//! caller was shown, a shop's receipt found by the till's idempotency key, whether an order
//! was paid with hours, adjustments waiting with the person's name, and the counties whose
//! ledger rules the caller manages. Each is scoped like the use case it serves.

use serde::Serialize;
use yinling_domain::{
    ledger::Unit,
    org::{OrgKind, OrgPath},
    role::Permission,
    time::{format_minutes, from_micros},
};
use yinling_store::{
    accounts as store_accounts,
    ledger::{self as store_ledger, TransferRow},
    orders::OrderRow,
    org::{self as store_org, OrgUnitRow},
    people as store_people, places as store_places,
    shops::{self as store_shops},
};

use crate::{
    App, AppError, AppResult, Caller, Key,
    ledger::{Adjustment, Kin, amount_text, client_key},
    redeem::{CODE_TTL_MICROS, RedeemCode, ShopReceipt, report_state_label},
};

/// A member of the caller's household, who may receive the caller's hours.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyMember {
    pub key: Key,
    pub name: String,
}

/// A code the caller was shown, as it stands now.
#[derive(Debug, Clone, Serialize)]
pub struct ShownCode {
    pub code: RedeemCode,
    /// When it was made: a receipt is looked for from then on.
    pub shown_at: i64,
    pub used: bool,
    pub expired: bool,
}

/// One of the caller's own redemptions, for 我的积分: where, what, how many points, when,
/// and whether it was reported as not theirs (不是我本人兑换).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyRedemption {
    pub county_code: i64,
    pub id: i64,
    pub shop_name: String,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub at_text: String,
    pub created_at: i64,
    /// `open`, `fraud` or `dismissed` once reported; none before.
    pub report_state: Option<String>,
    /// 已报告，等待县里核实 …; empty before a report.
    pub report_label: &'static str,
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

impl App {
    /// The other members of the caller's own household (no one when the caller has no
    /// person file or no household).
    pub async fn my_household(&self, caller: &Caller) -> AppResult<Vec<FamilyMember>> {
        let Some((county, id)) = caller.person else {
            return Ok(Vec::new());
        };
        let mut exec = self.store().read();
        let Some(me) = store_people::get(&mut exec, county, id).await? else {
            return Ok(Vec::new());
        };
        let Some(household) = me.household_id else {
            return Ok(Vec::new());
        };
        Ok(store_places::residents(&mut exec, county, household)
            .await?
            .into_iter()
            .filter(|(pid, _)| *pid != id)
            .map(|(pid, name)| FamilyMember {
                key: Key {
                    county_code: county,
                    id: pid,
                },
                name,
            })
            .collect())
    }

    /// A code shown to the caller, if it is the caller's: live, used, or expired.
    pub async fn my_code(&self, caller: &Caller, code: &str) -> AppResult<Option<ShownCode>> {
        let Some((county, person)) = caller.person else {
            return Ok(None);
        };
        let Some(code) = yinling_domain::ledger::parse_redeem_code(code) else {
            return Ok(None);
        };
        let Some(row) = store_shops::code(&mut self.store().read(), county, &code)
            .await?
            .filter(|c| c.person_id == person)
        else {
            return Ok(None);
        };
        let points = self.ledger().balances(caller, county, person).await?.points;
        let cap = self.ledger().rules(county).await?.max_points_per_code;
        let now = self.now();
        Ok(Some(ShownCode {
            shown_at: row.expires_at - CODE_TTL_MICROS,
            used: row.used_at.is_some(),
            expired: row.used_at.is_none() && row.expires_at <= now,
            code: RedeemCode {
                county_code: county,
                code: row.code,
                expires_at: row.expires_at,
                expires_text: from_micros(row.expires_at).format("%H:%M").to_string(),
                points,
                max_points: row.max_points.unwrap_or(cap),
            },
        }))
    }

    /// A partner shop the caller works for (merchant staff on it, or county staff).
    pub async fn shop(&self, caller: &Caller, shop: Key) -> AppResult<OrgUnitRow> {
        let unit = store_org::get(&mut self.store().read(), shop.county_code, shop.id)
            .await?
            .filter(|u| OrgKind::parse(&u.kind) == Some(OrgKind::Merchant))
            .filter(|u| {
                OrgPath::parse(&u.path).is_ok_and(|p| caller.scope(Permission::Redeem).covers(&p))
            })
            .ok_or(AppError::NotFound {
                what: "合作商户"
            })?;
        Ok(unit)
    }

    /// The receipt of the redemption a shop's till made with idempotency key `key`, as the
    /// shop sees it: the elder's name masked, no balance and no person id. The key is the
    /// caller's own: another till account's key finds nothing.
    pub async fn shop_receipt(
        &self,
        caller: &Caller,
        shop: Key,
        key: &str,
    ) -> AppResult<ShopReceipt> {
        let unit = self.shop(caller, shop).await?;
        let key = client_key(caller, "redeem", key).map_err(|_| AppError::NotFound {
            what: "兑换记录",
        })?;
        let mut exec = self.store().read();
        let r = store_shops::redemption_by_key(&mut exec, shop.county_code, &key)
            .await?
            .filter(|r| r.shop_id == shop.id)
            .ok_or(AppError::NotFound {
                what: "兑换记录"
            })?;
        self.shop_receipt_of(r, unit.name, false).await
    }

    /// The caller's own latest redemptions (at most 20), newest first, with any report.
    pub async fn my_redemptions(&self, caller: &Caller) -> AppResult<Vec<MyRedemption>> {
        let Some((county, person)) = caller.person else {
            return Ok(Vec::new());
        };
        let mut exec = self.store().read();
        let rows = store_shops::redemptions_of_person(&mut exec, county, person, 20).await?;
        let reports = store_shops::reports_of_person(&mut exec, county, person).await?;
        let shops = self
            .shop_names(&rows.iter().map(|r| (county, r.shop_id)).collect::<Vec<_>>())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let report_state = reports
                .iter()
                .find(|x| x.redemption_id == r.id)
                .map(|x| x.state.clone());
            out.push(MyRedemption {
                county_code: r.county_code,
                id: r.id,
                shop_name: shops.get(&(county, r.shop_id)).cloned().unwrap_or_default(),
                goods_name: r.goods_name,
                quantity: r.quantity,
                points: r.points,
                at_text: format_minutes(r.created_at),
                created_at: r.created_at,
                report_label: report_state.as_deref().map_or("", report_state_label),
                report_state,
            });
        }
        Ok(out)
    }

    /// The time-bank payment for an order the caller has been shown, if it was paid.
    pub async fn hours_payment(&self, order: &OrderRow) -> AppResult<Option<TransferRow>> {
        let key = format!("withdraw:{}:{}", order.county_code, order.id);
        Ok(store_ledger::transfers_by_keys(
            &mut self.store().read(),
            order.county_code,
            &[key.as_str()],
        )
        .await?
        .into_iter()
        .next())
    }

    /// Adjustments waiting in the caller's scope, oldest first, with names and what the
    /// caller may do with each.
    pub async fn adjustments_waiting(&self, caller: &Caller) -> AppResult<Vec<AdjustmentView>> {
        let rows = self.ledger().pending_adjustments(caller).await?;
        let approve = caller.scope(Permission::ApproveAdjustments);
        let mut exec = self.store().read();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let person_name = store_people::get(&mut exec, row.county_code, row.person_id)
                .await?
                .map(|p| p.name)
                .unwrap_or_default();
            let unit = Unit::parse(&row.unit).unwrap_or(Unit::Points);
            let own = caller.account_id == Some(row.proposed_by);
            let proposer = store_accounts::get(&mut exec, row.proposed_by)
                .await?
                .and_then(|a| a.person_county_code.zip(a.person_id));
            let proposer_kin = self
                .ledger()
                .kin_of(proposer, row.county_code, row.person_id)
                .await?;
            let caller_kin = self
                .ledger()
                .kin_of(caller.person, row.county_code, row.person_id)
                .await?;
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
    pub async fn ledger_counties(&self, caller: &Caller) -> AppResult<Vec<(i64, String)>> {
        let scope = caller.scope(Permission::ManageLedger);
        Ok(store_org::of_kinds(
            &mut self.store().read(),
            &scope,
            &[OrgKind::County.as_str()],
            100,
        )
        .await?
        .into_iter()
        .filter(|u| {
            caller
                .scope(Permission::ManageLedger)
                .covers(&crate::county_path(u.county_code))
        })
        .map(|u| (u.county_code, u.name))
        .collect())
    }
}

/// A fresh idempotency key for a form, made when the form is shown, so that sending the
/// same form twice repeats the first result instead of moving points twice.
pub fn fresh_key(prefix: &str) -> String {
    use rand::Rng;
    let n: u128 = rand::thread_rng().r#gen();
    format!("{prefix}-{n:032x}")
}
