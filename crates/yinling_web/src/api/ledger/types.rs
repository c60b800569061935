//! The wire types of points, the time bank and redemption, mapped from the app's views and
//! the store's rows with `From` and into the app's inputs; each keeps its published schema
//! name (`#[schema(as = …)]`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yinling_app::AppError;
use yinling_app::{
    ledger::{
        AdjustmentInput, Award, Balances, EarnInput, EarningRuleInput, Receipt, Rules,
        StatementLine,
    },
    redeem::{
        GoodsInput, LockView, MyRedemption, RedeemCode, RedeemInput, RedemptionReceipt,
        ReportDecision, ReportView, ResolveInput, Settlement, SettlementLine, ShopReceipt,
        ShopRedemption,
    },
    time_bank::{GiftInput, PayHoursInput},
};
use yinling_domain::{
    ids::{Key, PersonId},
    ledger::{Reason, SourceKind, Unit},
    region::CountyCode,
};
use yinling_store::{
    ledger::{AdjustmentRow, EarningRuleRow},
    redeem::shops::{GoodsRow, LockRow, RedemptionRow, ReportRow},
};

use crate::api::{
    kernel::{KeyBody, Micros},
    orders::types::TransferResponse,
};

/// The cap on one redemption code when a county has not set its own.
fn default_code_cap() -> i64 {
    300
}

fn yes() -> bool {
    true
}

fn one() -> i64 {
    1
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ReverseInput)]
pub struct ReverseRequest {
    /// Why (at least 4 characters).
    pub memo: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AdjustmentRow)]
pub struct AdjustmentResponse {
    pub county_code: i64,
    pub id: i64,
    pub unit: String,
    pub person_id: i64,
    pub path: String,
    pub amount: i64,
    pub memo: String,
    pub status: String,
    pub proposed_by: i64,
    pub proposed_by_name: String,
    pub proposed_at: Micros,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Micros>,
    pub transfer_id: Option<i64>,
}

impl From<AdjustmentRow> for AdjustmentResponse {
    fn from(v: AdjustmentRow) -> Self {
        AdjustmentResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            unit: v.unit.as_str().to_owned(),
            person_id: v.person_id.get(),
            path: v.path,
            amount: v.amount,
            memo: v.memo,
            status: v.status.as_str().to_owned(),
            proposed_by: v.proposed_by.get(),
            proposed_by_name: v.proposed_by_name,
            proposed_at: v.proposed_at,
            decided_by: v.decided_by.map(|a| a.get()),
            decided_by_name: v.decided_by_name,
            decided_at: v.decided_at,
            transfer_id: v.transfer_id.map(|t| t.get()),
        }
    }
}

/// The points and minutes an award moved (either may be absent when the rule awards none).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Award)]
pub struct AwardResponse {
    pub points: Option<ReceiptResponse>,
    pub minutes: Option<ReceiptResponse>,
}

impl From<Award> for AwardResponse {
    fn from(v: Award) -> Self {
        AwardResponse {
            points: v.points.map(Into::into),
            minutes: v.minutes.map(Into::into),
        }
    }
}

/// A person's points and time-bank balances.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Balances)]
pub struct BalancesResponse {
    pub county_code: i64,
    pub person_id: i64,
    pub name: String,
    pub points: i64,
    pub minutes: i64,
    /// 1小时30分钟
    pub minutes_text: String,
}

impl From<Balances> for BalancesResponse {
    fn from(v: Balances) -> Self {
        BalancesResponse {
            county_code: v.county_code.as_i64(),
            person_id: v.person_id.get(),
            name: v.name,
            points: v.points,
            minutes: v.minutes,
            minutes_text: v.minutes_text,
        }
    }
}

/// What a transfer did; a retry gets the same receipt with `replayed` set.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Receipt)]
pub struct ReceiptResponse {
    pub transfer: TransferResponse,
    /// True when this answers a retry of a transfer made before.
    pub replayed: bool,
}

impl From<Receipt> for ReceiptResponse {
    fn from(v: Receipt) -> Self {
        ReceiptResponse {
            transfer: v.transfer.into(),
            replayed: v.replayed,
        }
    }
}

/// A county's ledger rules, with the defaults where it has set none.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Rules)]
pub struct RulesBody {
    pub county_code: i64,
    /// Most points one person may earn in a day; none: no cap.
    pub daily_points_cap: Option<i64>,
    /// Most time-bank minutes one person may earn in a day.
    pub daily_minutes_cap: Option<i64>,
    /// Points expire this many months after they were earned, oldest first; none: never.
    pub expiry_months: Option<i64>,
    /// Whether hours may be given to a member of one's household.
    pub family_transfer: bool,
    /// Most minutes one person may give to family in a calendar year.
    pub family_max_minutes_year: i64,
    /// Most points one redemption code may spend; the elder may choose less for a code.
    #[serde(default = "default_code_cap")]
    pub max_points_per_code: i64,
    /// 0 before the county first saved its rules.
    pub version: i64,
}

impl From<Rules> for RulesBody {
    fn from(v: Rules) -> Self {
        RulesBody {
            county_code: v.county_code.as_i64(),
            daily_points_cap: v.daily_points_cap,
            daily_minutes_cap: v.daily_minutes_cap,
            expiry_months: v.expiry_months,
            family_transfer: v.family_transfer,
            family_max_minutes_year: v.family_max_minutes_year,
            max_points_per_code: v.max_points_per_code,
            version: v.version,
        }
    }
}

impl TryFrom<RulesBody> for Rules {
    type Error = AppError;
    /// A county that is no county: refused as every county the caller does not manage is.
    fn try_from(v: RulesBody) -> Result<Self, AppError> {
        Ok(Rules {
            county_code: CountyCode::from_i64(v.county_code).map_err(|_| rules_refused())?,
            daily_points_cap: v.daily_points_cap,
            daily_minutes_cap: v.daily_minutes_cap,
            expiry_months: v.expiry_months,
            family_transfer: v.family_transfer,
            family_max_minutes_year: v.family_max_minutes_year,
            max_points_per_code: v.max_points_per_code,
            version: v.version,
        })
    }
}

fn rules_refused() -> AppError {
    AppError::forbidden("只有县级管理员可以修改积分规则")
}

/// A person's key from the body; a pair of numbers that is no key names nobody.
fn person_key(k: KeyBody) -> Result<Key<PersonId>, AppError> {
    k.key("人员")
}

/// One line of a statement, as the holder reads it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StatementLine)]
pub struct StatementLineResponse {
    pub transfer_id: i64,
    pub at: i64,
    /// 2026-11-29 08:05
    pub at_text: String,
    pub reason: Reason,
    pub reason_label: &'static str,
    pub memo: String,
    pub source_kind: String,
    pub source_ref: String,
    /// Positive in, negative out.
    pub change: i64,
    pub balance_after: i64,
}

impl From<StatementLine> for StatementLineResponse {
    fn from(v: StatementLine) -> Self {
        StatementLineResponse {
            transfer_id: v.transfer_id.get(),
            at: v.at,
            at_text: v.at_text,
            reason: v.reason,
            reason_label: v.reason_label,
            memo: v.memo,
            source_kind: v.source_kind.as_str().to_owned(),
            source_ref: v.source_ref,
            change: v.change,
            balance_after: v.balance_after,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EarningRuleRow)]
pub struct EarningRuleResponse {
    pub county_code: i64,
    pub source_kind: String,
    pub code: String,
    pub label: String,
    pub points: i64,
    pub minutes: i64,
    pub updated_at: Micros,
}

impl From<EarningRuleRow> for EarningRuleResponse {
    fn from(v: EarningRuleRow) -> Self {
        EarningRuleResponse {
            county_code: v.county_code.as_i64(),
            source_kind: v.source_kind.as_str().to_owned(),
            code: v.code,
            label: v.label,
            points: v.points,
            minutes: v.minutes,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GoodsRow)]
pub struct GoodsResponse {
    pub county_code: i64,
    pub id: i64,
    pub shop_id: i64,
    pub name: String,
    pub price_points: i64,
    pub stock: i64,
    pub active: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
}

impl From<GoodsRow> for GoodsResponse {
    fn from(v: GoodsRow) -> Self {
        GoodsResponse {
            county_code: v.county_code.into(),
            id: v.id.into(),
            shop_id: v.shop_id.into(),
            name: v.name,
            price_points: v.price_points,
            stock: v.stock,
            active: v.active,
            created_at: v.created_at,
            updated_at: v.updated_at,
            version: v.version,
        }
    }
}

/// A lock as the county's list shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LockView)]
pub struct LockResponse {
    pub lock: LockRowResponse,
    pub shop_name: String,
    /// 收银账号 / 网络地址
    pub kind_label: &'static str,
    /// Still refusing codes now.
    pub active: bool,
    /// 锁定中（至10:15） / 已到期 / 已由某某提前解除
    pub state_text: String,
    pub locked_text: String,
}

impl From<LockView> for LockResponse {
    fn from(v: LockView) -> Self {
        LockResponse {
            lock: v.lock.into(),
            shop_name: v.shop_name,
            kind_label: v.kind_label,
            active: v.active,
            state_text: v.state_text,
            locked_text: v.locked_text,
        }
    }
}

/// A till account or client address locked after too many wrong codes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LockRow)]
pub struct LockRowResponse {
    pub county_code: i64,
    pub id: i64,
    /// The shop's path.
    pub path: String,
    pub shop_id: i64,
    /// `till` or `address`.
    pub kind: String,
    pub bucket: String,
    pub subject: String,
    pub account_id: Option<i64>,
    pub account_name: String,
    pub ip: Option<String>,
    pub wrong_codes: i64,
    pub refused: i64,
    pub locked_at: Micros,
    pub until_at: Micros,
    pub lifted_at: Option<Micros>,
    pub lifted_by: Option<i64>,
    pub lifted_by_name: Option<String>,
}

impl From<LockRow> for LockRowResponse {
    fn from(v: LockRow) -> Self {
        LockRowResponse {
            county_code: v.county_code.into(),
            id: v.id.get(),
            path: v.path,
            shop_id: v.shop_id.into(),
            kind: v.kind.as_str().to_owned(),
            bucket: v.bucket,
            subject: v.subject,
            account_id: v.account_id.map(Into::into),
            account_name: v.account_name,
            ip: v.ip,
            wrong_codes: v.wrong_codes,
            refused: v.refused,
            locked_at: v.locked_at,
            until_at: v.until_at,
            lifted_at: v.lifted_at,
            lifted_by: v.lifted_by.map(Into::into),
            lifted_by_name: v.lifted_by_name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RedemptionRow)]
pub struct RedemptionResponse {
    pub county_code: i64,
    pub id: i64,
    pub shop_id: i64,
    pub person_id: i64,
    pub goods_id: i64,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub transfer_id: i64,
    pub idem_key: String,
    pub created_by: Option<i64>,
    pub created_at: Micros,
}

impl From<RedemptionRow> for RedemptionResponse {
    fn from(v: RedemptionRow) -> Self {
        RedemptionResponse {
            county_code: v.county_code.into(),
            id: v.id.into(),
            shop_id: v.shop_id.into(),
            person_id: v.person_id.into(),
            goods_id: v.goods_id.into(),
            goods_name: v.goods_name,
            quantity: v.quantity,
            points: v.points,
            transfer_id: v.transfer_id.into(),
            idem_key: v.idem_key,
            created_by: v.created_by.map(Into::into),
            created_at: v.created_at,
        }
    }
}

/// A code to show at the till.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RedeemCode)]
pub struct RedeemCodeResponse {
    pub county_code: i64,
    pub code: String,
    pub expires_at: i64,
    /// 08:05 — when it stops working.
    pub expires_text: String,
    pub points: i64,
    /// The most one redemption with this code may spend: what the elder chose, or the
    /// county's cap.
    pub max_points: i64,
}

impl From<RedeemCode> for RedeemCodeResponse {
    fn from(v: RedeemCode) -> Self {
        RedeemCodeResponse {
            county_code: v.county_code,
            code: v.code,
            expires_at: v.expires_at,
            expires_text: v.expires_text,
            points: v.points,
            max_points: v.max_points,
        }
    }
}

/// What the elder sees after a redemption: their own receipt, with what is left.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RedemptionReceipt)]
pub struct RedemptionReceiptResponse {
    pub redemption: RedemptionResponse,
    pub shop_name: String,
    /// The elder's own name.
    pub person_name: String,
    /// The elder's points after it.
    pub balance_after: i64,
    pub at_text: String,
    pub replayed: bool,
}

impl From<RedemptionReceipt> for RedemptionReceiptResponse {
    fn from(v: RedemptionReceipt) -> Self {
        RedemptionReceiptResponse {
            redemption: v.redemption.into(),
            shop_name: v.shop_name,
            person_name: v.person_name,
            balance_after: v.balance_after,
            at_text: v.at_text,
            replayed: v.replayed,
        }
    }
}

/// A report in the county's list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReportView)]
pub struct ReportResponse {
    pub report: ReportRowResponse,
    pub state_label: &'static str,
    pub shop_name: String,
    /// The elder's name (the county's administrators may see their people).
    pub person_name: String,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub transfer_id: i64,
    /// When the redemption was made, and when it was reported.
    pub redeemed_text: String,
    pub reported_text: String,
    /// The till account that made it.
    pub till_name: String,
}

impl From<ReportView> for ReportResponse {
    fn from(v: ReportView) -> Self {
        ReportResponse {
            report: v.report.into(),
            state_label: v.state_label,
            shop_name: v.shop_name,
            person_name: v.person_name,
            goods_name: v.goods_name,
            quantity: v.quantity,
            points: v.points,
            transfer_id: v.transfer_id.into(),
            redeemed_text: v.redeemed_text,
            reported_text: v.reported_text,
            till_name: v.till_name,
        }
    }
}

/// An elder's report that a redemption with their code was not theirs.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReportRow)]
pub struct ReportRowResponse {
    pub county_code: i64,
    pub id: i64,
    /// The shop's path.
    pub path: String,
    pub redemption_id: i64,
    pub shop_id: i64,
    pub person_id: i64,
    pub reported_by: Option<i64>,
    pub reported_at: Micros,
    /// Live codes the report voided.
    pub frozen_codes: i64,
    /// `open`, `fraud` (confirmed and reversed) or `dismissed`.
    pub state: String,
    pub resolved_by: Option<i64>,
    pub resolved_by_name: Option<String>,
    pub resolved_at: Option<Micros>,
    pub note: Option<String>,
    /// The reversing transfer, when confirmed.
    pub reversal_id: Option<i64>,
}

impl From<ReportRow> for ReportRowResponse {
    fn from(v: ReportRow) -> Self {
        ReportRowResponse {
            county_code: v.county_code.into(),
            id: v.id.get(),
            path: v.path,
            redemption_id: v.redemption_id.into(),
            shop_id: v.shop_id.into(),
            person_id: v.person_id.into(),
            reported_by: v.reported_by.map(Into::into),
            reported_at: v.reported_at,
            frozen_codes: v.frozen_codes,
            state: v.state.as_str().to_owned(),
            resolved_by: v.resolved_by.map(Into::into),
            resolved_by_name: v.resolved_by_name,
            resolved_at: v.resolved_at,
            note: v.note,
            reversal_id: v.reversal_id.map(Into::into),
        }
    }
}

/// One shop's month.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Settlement)]
pub struct SettlementResponse {
    pub county_code: i64,
    pub shop_id: i64,
    pub shop_name: String,
    /// 2026-11
    pub month: String,
    pub count: i64,
    pub points: i64,
    pub lines: Vec<SettlementLineResponse>,
}

impl From<Settlement> for SettlementResponse {
    fn from(v: Settlement) -> Self {
        SettlementResponse {
            county_code: v.county_code.into(),
            shop_id: v.shop_id.into(),
            shop_name: v.shop_name,
            month: v.month,
            count: v.count,
            points: v.points,
            lines: v.lines.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SettlementLine)]
pub struct SettlementLineResponse {
    pub id: i64,
    pub at_text: String,
    pub person_name: String,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub transfer_id: i64,
}

impl From<SettlementLine> for SettlementLineResponse {
    fn from(v: SettlementLine) -> Self {
        SettlementLineResponse {
            id: v.id.into(),
            at_text: v.at_text,
            person_name: v.person_name,
            goods_name: v.goods_name,
            quantity: v.quantity,
            points: v.points,
            transfer_id: v.transfer_id.into(),
        }
    }
}

/// The shop's receipt: what was taken, for how many points, and the elder's name masked
/// (张*丰) — never the elder's balance or person id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShopReceipt)]
pub struct ShopReceiptResponse {
    pub redemption: ShopRedemptionResponse,
    pub shop_name: String,
    /// The elder's name, masked.
    pub person_name: String,
    pub at_text: String,
    pub replayed: bool,
}

impl From<ShopReceipt> for ShopReceiptResponse {
    fn from(v: ShopReceipt) -> Self {
        ShopReceiptResponse {
            redemption: v.redemption.into(),
            shop_name: v.shop_name,
            person_name: v.person_name,
            at_text: v.at_text,
            replayed: v.replayed,
        }
    }
}

/// A redemption as the shop sees it: no person id, no balance.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShopRedemption)]
pub struct ShopRedemptionResponse {
    pub county_code: i64,
    pub id: i64,
    pub shop_id: i64,
    pub goods_id: i64,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub transfer_id: i64,
    /// The till's idempotency key.
    pub idem_key: String,
    pub created_at: i64,
}

impl From<ShopRedemption> for ShopRedemptionResponse {
    fn from(v: ShopRedemption) -> Self {
        ShopRedemptionResponse {
            county_code: v.county_code.into(),
            id: v.id.into(),
            shop_id: v.shop_id.into(),
            goods_id: v.goods_id.into(),
            goods_name: v.goods_name,
            quantity: v.quantity,
            points: v.points,
            transfer_id: v.transfer_id.into(),
            idem_key: v.idem_key,
            created_at: v.created_at,
        }
    }
}

/// One of the caller's own redemptions, for 我的积分: where, what, how many points, when,
/// and whether it was reported as not theirs (不是我本人兑换).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MyRedemption)]
pub struct MyRedemptionResponse {
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

impl From<MyRedemption> for MyRedemptionResponse {
    fn from(v: MyRedemption) -> Self {
        MyRedemptionResponse {
            county_code: v.county_code.into(),
            id: v.id.into(),
            shop_name: v.shop_name,
            goods_name: v.goods_name,
            quantity: v.quantity,
            points: v.points,
            at_text: v.at_text,
            created_at: v.created_at,
            report_state: v.report_state.map(|s| s.as_str().to_owned()),
            report_label: v.report_label,
        }
    }
}

/// A manual adjustment proposed by one person and approved by another (四眼原则).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = AdjustmentInput)]
pub struct NewAdjustment {
    pub person: KeyBody,
    pub unit: Unit,
    /// Positive: add to the person; negative: take from them.
    pub amount: i64,
    /// Why (required, shown on the statement).
    pub memo: String,
}

impl TryFrom<NewAdjustment> for AdjustmentInput {
    type Error = AppError;
    fn try_from(v: NewAdjustment) -> Result<Self, AppError> {
        Ok(AdjustmentInput {
            person: person_key(v.person)?,
            unit: v.unit,
            amount: v.amount,
            memo: v.memo,
        })
    }
}

/// An award for taking part in an activity, valued by the county's earning rule.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = EarnInput)]
pub struct EarnRequest {
    pub person: KeyBody,
    /// The activity type of an earning rule.
    pub activity: String,
    /// What was attended (e.g. `activity/2026-11-theme-day`): shown on the statement.
    pub source_ref: String,
    /// The client's idempotency key (8–100 visible ASCII characters): a retry by the same
    /// caller with the same key moves nothing twice. Keys are the caller's own.
    pub idempotency_key: String,
}

impl TryFrom<EarnRequest> for EarnInput {
    type Error = AppError;
    fn try_from(v: EarnRequest) -> Result<Self, AppError> {
        Ok(EarnInput {
            person: person_key(v.person)?,
            activity: v.activity,
            source_ref: v.source_ref,
            idempotency_key: v.idempotency_key,
        })
    }
}

/// An earning rule: what an activity type or a mediation outcome is worth.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = EarningRuleInput)]
pub struct NewEarningRule {
    pub county_code: i64,
    /// `activity` or `mediation`.
    pub source_kind: SourceKind,
    /// The activity type (e.g. `theme_day`) or mediation outcome (`success`, `partial`, …).
    pub code: String,
    pub label: String,
    pub points: i64,
    pub minutes: i64,
}

impl TryFrom<NewEarningRule> for EarningRuleInput {
    type Error = AppError;
    fn try_from(v: NewEarningRule) -> Result<Self, AppError> {
        Ok(EarningRuleInput {
            county_code: CountyCode::from_i64(v.county_code).map_err(|_| rules_refused())?,
            source_kind: v.source_kind,
            code: v.code,
            label: v.label,
            points: v.points,
            minutes: v.minutes,
        })
    }
}

/// Hours given to a family member.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = GiftInput)]
pub struct GiftRequest {
    /// The household member receiving them.
    pub to: KeyBody,
    pub minutes: i64,
    #[serde(default)]
    pub memo: Option<String>,
    pub idempotency_key: String,
}

impl TryFrom<GiftRequest> for GiftInput {
    type Error = yinling_app::AppError;
    fn try_from(v: GiftRequest) -> Result<Self, Self::Error> {
        Ok(GiftInput {
            to: crate::api::orders::types::person_key(v.to)?,
            minutes: v.minutes,
            memo: v.memo,
            idempotency_key: v.idempotency_key,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = GoodsInput)]
pub struct NewGoods {
    pub name: String,
    pub price_points: i64,
    pub stock: i64,
    #[serde(default = "yes")]
    pub active: bool,
    /// Required when changing.
    #[serde(default)]
    pub version: Option<i64>,
}

impl From<NewGoods> for GoodsInput {
    fn from(v: NewGoods) -> Self {
        GoodsInput {
            name: v.name,
            price_points: v.price_points,
            stock: v.stock,
            active: v.active,
            version: v.version,
        }
    }
}

/// Confirms a time-bank payment: the minutes the confirmation step showed.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PayHoursInput)]
pub struct PayHoursRequest {
    pub minutes: i64,
}

impl From<PayHoursRequest> for PayHoursInput {
    fn from(v: PayHoursRequest) -> Self {
        PayHoursInput { minutes: v.minutes }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = RedeemInput)]
pub struct RedeemRequest {
    /// The six digits the elder shows or reads out.
    pub code: String,
    pub goods_id: i64,
    #[serde(default = "one")]
    pub quantity: i64,
    /// The till's idempotency key: a retry returns the first receipt.
    pub idempotency_key: String,
}

impl From<RedeemRequest> for RedeemInput {
    fn from(v: RedeemRequest) -> Self {
        RedeemInput {
            code: v.code,
            goods_id: v.goods_id,
            quantity: v.quantity,
            idempotency_key: v.idempotency_key,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ResolveInput)]
pub struct ResolveRequest {
    pub decision: ReportDecision,
    /// What was found (4 to 150 characters).
    pub note: String,
}

impl From<ResolveRequest> for ResolveInput {
    fn from(v: ResolveRequest) -> Self {
        ResolveInput {
            decision: v.decision,
            note: v.note,
        }
    }
}

/// A changed new goods: the same body as a new one, with the `version` read.
pub type GoodsUpdate = NewGoods;
