//! Redemption at partner shops (积分兑换超市): goods priced in points with stock, the
//! six-digit code an elder shows (as a QR code) or reads out, the redemption itself — one
//! transaction taking the stock, using the code and moving the points — and each shop's
//! monthly settlement statement.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde::{Deserialize, Serialize};
use yinling_domain::{
    ledger::{self, Reason, SourceKind, Unit},
    mask::MaskPolicy,
    org::{OrgKind, OrgPath},
    role::Permission,
    time::{format_minutes, shanghai},
};
use yinling_store::{
    audit as store_audit,
    ids::{self, Seq},
    ledger as store_ledger,
    org::{self as store_org, OrgUnitRow},
    people as store_people,
    shops::{self as store_shops, GoodsRow, LockRow, RedemptionRow, ReportRow},
    throttle as store_throttle,
};

use crate::{
    App, AppError, AppResult, Caller, Key,
    audit::Event,
    clock::MINUTE,
    ledger::{Actor, Benefit, Holder, Posting, apply_one, client_key, retrying},
    throttle::Limit,
};

/// How long a code may be used after it is shown.
pub const CODE_TTL_MICROS: i64 = 5 * 60 * 1_000_000;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GoodsInput {
    pub name: String,
    pub price_points: i64,
    pub stock: i64,
    #[serde(default = "yes")]
    pub active: bool,
    /// Required when changing.
    #[serde(default)]
    pub version: Option<i64>,
}

fn yes() -> bool {
    true
}

/// A code to show at the till.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedeemCode {
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedeemInput {
    /// The six digits the elder shows or reads out.
    pub code: String,
    pub goods_id: i64,
    #[serde(default = "one")]
    pub quantity: i64,
    /// The till's idempotency key: a retry returns the first receipt.
    pub idempotency_key: String,
}

fn one() -> i64 {
    1
}

/// What the elder sees after a redemption: their own receipt, with what is left.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedemptionReceipt {
    pub redemption: RedemptionRow,
    pub shop_name: String,
    /// The elder's own name.
    pub person_name: String,
    /// The elder's points after it.
    pub balance_after: i64,
    pub at_text: String,
    pub replayed: bool,
}

/// A redemption as the shop sees it: no person id, no balance.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShopRedemption {
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

impl From<RedemptionRow> for ShopRedemption {
    fn from(r: RedemptionRow) -> Self {
        ShopRedemption {
            county_code: r.county_code,
            id: r.id,
            shop_id: r.shop_id,
            goods_id: r.goods_id,
            goods_name: r.goods_name,
            quantity: r.quantity,
            points: r.points,
            transfer_id: r.transfer_id,
            idem_key: r.idem_key,
            created_at: r.created_at,
        }
    }
}

/// The shop's receipt: what was taken, for how many points, and the elder's name masked
/// (张*丰) — never the elder's balance or person id.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShopReceipt {
    pub redemption: ShopRedemption,
    pub shop_name: String,
    /// The elder's name, masked.
    pub person_name: String,
    pub at_text: String,
    pub replayed: bool,
}

/// One shop's month.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settlement {
    pub county_code: i64,
    pub shop_id: i64,
    pub shop_name: String,
    /// 2026-11
    pub month: String,
    pub count: i64,
    pub points: i64,
    pub lines: Vec<SettlementLine>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettlementLine {
    pub id: i64,
    pub at_text: String,
    pub person_name: String,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub transfer_id: i64,
}

/// 张三丰 → 张*丰, 李四 → 李*.
pub fn mask_name(name: &str) -> String {
    let n = name.chars().count();
    MaskPolicy::new(1, usize::from(n >= 3)).apply(name)
}

impl App {
    /// A partner shop the caller may work for (merchant staff on it, or county staff).
    async fn shop_for(&self, caller: &Caller, shop: Key) -> AppResult<(OrgUnitRow, OrgPath)> {
        let unit = store_org::get(&mut self.store().read(), shop.county_code, shop.id)
            .await?
            .filter(|u| OrgKind::parse(&u.kind) == Some(OrgKind::Merchant))
            .ok_or(AppError::NotFound {
                what: "合作商户"
            })?;
        let path = OrgPath::parse(&unit.path).map_err(|e| AppError::Internal(e.to_string()))?;
        if !caller.scope(Permission::Redeem).covers(&path) {
            return Err(AppError::NotFound {
                what: "合作商户"
            });
        }
        Ok((unit, path))
    }

    /// The shops the caller works for.
    pub async fn my_shops(&self, caller: &Caller) -> AppResult<Vec<OrgUnitRow>> {
        let mut out = Vec::new();
        for g in caller
            .grants
            .iter()
            .filter(|g| g.role.allows(Permission::Redeem))
        {
            if let Some(u) =
                store_org::get(&mut self.store().read(), g.unit_county_code, g.unit_id).await?
                && OrgKind::parse(&u.kind) == Some(OrgKind::Merchant)
            {
                out.push(u);
            }
        }
        Ok(out)
    }

    pub async fn shop_goods(&self, caller: &Caller, shop: Key) -> AppResult<Vec<GoodsRow>> {
        self.shop_for(caller, shop).await?;
        Ok(store_shops::goods_of_shop(&mut self.store().read(), shop.county_code, shop.id).await?)
    }

    fn check_goods(input: &GoodsInput) -> AppResult<String> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 30 {
            return Err(AppError::invalid(
                "invalid_goods",
                "name",
                "商品名称须为1至30字",
            ));
        }
        crate::text::check(name, crate::text::TextKind::Label, "name", "商品名称")?;
        if !(1..=100_000).contains(&input.price_points) {
            return Err(AppError::invalid(
                "invalid_goods",
                "price_points",
                "兑换所需积分须为1至100000之间的整数",
            ));
        }
        if !(0..=1_000_000).contains(&input.stock) {
            return Err(AppError::invalid(
                "invalid_goods",
                "stock",
                "库存须为0至1000000之间的整数",
            ));
        }
        Ok(name.to_owned())
    }

    pub async fn add_goods(
        &self,
        caller: &Caller,
        shop: Key,
        input: GoodsInput,
    ) -> AppResult<GoodsRow> {
        self.shop_for(caller, shop).await?;
        let name = Self::check_goods(&input)?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let row = GoodsRow {
            county_code: shop.county_code,
            id: ids::next(&mut tx.exec(), Seq::ShopGoods).await?,
            shop_id: shop.id,
            name,
            price_points: input.price_points,
            stock: input.stock,
            active: input.active,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        store_shops::insert_goods(&mut tx.exec(), &row).await?;
        self.audit_goods(&mut tx, caller, &row, "shop.goods.create")
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn update_goods(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: GoodsInput,
    ) -> AppResult<GoodsRow> {
        let existing = store_shops::goods(&mut self.store().read(), county, id)
            .await?
            .ok_or(AppError::NotFound { what: "商品" })?;
        self.shop_for(
            caller,
            Key {
                county_code: county,
                id: existing.shop_id,
            },
        )
        .await
        .map_err(|_| AppError::NotFound { what: "商品" })?;
        let version = input.version.ok_or_else(|| {
            AppError::invalid("version_required", "version", "缺少版本号，请刷新后重试")
        })?;
        let name = Self::check_goods(&input)?;
        let row = GoodsRow {
            name,
            price_points: input.price_points,
            stock: input.stock,
            active: input.active,
            updated_at: self.now(),
            version: version + 1,
            ..existing
        };
        let mut tx = self.store().begin().await?;
        if !store_shops::update_goods(&mut tx.exec(), &row, version).await? {
            return Err(yinling_store::StoreError::Stale.into());
        }
        self.audit_goods(&mut tx, caller, &row, "shop.goods.update")
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn audit_goods(
        &self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        g: &GoodsRow,
        action: &'static str,
    ) -> AppResult<()> {
        let after = serde_json::json!({"name": g.name, "price_points": g.price_points, "stock": g.stock, "active": g.active});
        let event = self.audit_event(
            caller,
            Event {
                county_code: g.county_code,
                action,
                entity: "shop_goods",
                entity_key: format!("{}/{}", g.county_code, g.id),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        Ok(())
    }

    /// A fresh code for the caller's own points, valid for five minutes and one redemption,
    /// good for at most the county's cap per code.
    pub async fn redeem_code(&self, caller: &Caller) -> AppResult<RedeemCode> {
        self.redeem_code_limited(caller, None).await
    }

    /// A fresh code good for at most `max_points` (at most the county's cap; none: the cap).
    /// No code is made while the caller has reported a redemption the county has not looked
    /// at yet: whoever used their code may still hold their phone or account.
    pub async fn redeem_code_limited(
        &self,
        caller: &Caller,
        max_points: Option<i64>,
    ) -> AppResult<RedeemCode> {
        let (county, person) = caller
            .person
            .ok_or_else(|| AppError::forbidden("您的账号没有关联本人档案，无法兑换积分"))?;
        let points = self.ledger().balances(caller, county, person).await?.points;
        let cap = self.ledger().rules(county).await?.max_points_per_code;
        let max_points = match max_points {
            None => cap,
            Some(m) if (1..=cap).contains(&m) => m,
            Some(_) => {
                return Err(AppError::invalid(
                    "invalid_code_limit",
                    "max_points",
                    format!("本次最多兑换的积分须为1至{cap}之间的整数"),
                ));
            }
        };
        if store_shops::has_open_report(&mut self.store().read(), county, person).await? {
            return Err(paused());
        }
        let now = self.now();
        let expires_at = now + CODE_TTL_MICROS;
        let mut tx = self.store().begin().await?;
        for _ in 0..20 {
            let code = ledger::redeem_code(&mut rand::thread_rng());
            if store_shops::put_code(
                &mut tx.exec(),
                county,
                &code,
                person,
                now,
                expires_at,
                max_points,
            )
            .await?
            {
                tx.commit().await?;
                return Ok(RedeemCode {
                    county_code: county,
                    code,
                    expires_at,
                    expires_text: yinling_domain::time::from_micros(expires_at)
                        .format("%H:%M")
                        .to_string(),
                    points,
                    max_points,
                });
            }
        }
        Err(AppError::Internal("no free redeem code".into()))
    }

    /// The redemption made with the caller's codes since `since` (the elder's receipt).
    pub async fn my_last_redemption(
        &self,
        caller: &Caller,
        since: i64,
    ) -> AppResult<Option<RedemptionReceipt>> {
        let Some((county, person)) = caller.person else {
            return Ok(None);
        };
        let Some(r) =
            store_shops::latest_redemption_of(&mut self.store().read(), county, person, since)
                .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.elder_receipt(r).await?))
    }

    /// The elder's own receipt: their name and what they have left.
    async fn elder_receipt(&self, r: RedemptionRow) -> AppResult<RedemptionReceipt> {
        let mut exec = self.store().read();
        let shop_name = store_org::get(&mut exec, r.county_code, r.shop_id)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        let person_name = store_people::get(&mut exec, r.county_code, r.person_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        let balance_after = store_ledger::transfer(&mut exec, r.county_code, r.transfer_id)
            .await?
            .map_or(0, |t| t.debit_after);
        Ok(RedemptionReceipt {
            shop_name,
            person_name,
            balance_after,
            at_text: format_minutes(r.created_at),
            replayed: false,
            redemption: r,
        })
    }

    /// The shop's receipt for a redemption at `shop_name`.
    pub(crate) async fn shop_receipt_of(
        &self,
        r: RedemptionRow,
        shop_name: String,
        replayed: bool,
    ) -> AppResult<ShopReceipt> {
        let name = store_people::get(&mut self.store().read(), r.county_code, r.person_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        Ok(ShopReceipt {
            shop_name,
            person_name: mask_name(&name),
            at_text: format_minutes(r.created_at),
            replayed,
            redemption: r.into(),
        })
    }

    /// Redeems an elder's code at the caller's shop: the stock, the code and the points move
    /// together or not at all. Wrong codes are counted per till account and per client
    /// address; past the limit both are locked (see [`App::redeem_locks`]), and a code never
    /// spends more than its limit.
    pub async fn redeem(
        &self,
        caller: &Caller,
        shop: Key,
        input: RedeemInput,
    ) -> AppResult<ShopReceipt> {
        let (unit, path) = self.shop_for(caller, shop).await?;
        let county = shop.county_code;
        let key = client_key(caller, "redeem", &input.idempotency_key)?;
        if let Some(r) =
            store_shops::redemption_by_key(&mut self.store().read(), county, &key).await?
        {
            if r.shop_id != shop.id || r.goods_id != input.goods_id || r.quantity != input.quantity
            {
                return Err(AppError::conflict(
                    "idempotency_key_reused",
                    Some("idempotency_key"),
                    "这个幂等键已用于另一笔兑换",
                ));
            }
            return self.shop_receipt_of(r, unit.name, true).await;
        }
        self.refuse_locked_till(caller, county).await?;
        let code = ledger::parse_redeem_code(&input.code).ok_or_else(|| {
            AppError::invalid("invalid_code", "code", "兑换码是6位数字，请核对后重新输入")
        })?;
        if !(1..=99).contains(&input.quantity) {
            return Err(AppError::invalid(
                "invalid_quantity",
                "quantity",
                "数量须为1至99",
            ));
        }
        let goods = store_shops::goods(&mut self.store().read(), county, input.goods_id)
            .await?
            .filter(|g| g.shop_id == shop.id)
            .ok_or(AppError::NotFound { what: "商品" })?;
        let points = goods.price_points * input.quantity;
        let county_cap = self.ledger().rules(county).await?.max_points_per_code;
        let now = self.now();
        let (code, goods, input, unit_ref, key) = (&code, &goods, &input, &unit, &key);
        let attempt = retrying(|| async move {
            let mut tx = self.store().begin().await?;
            let Some(code_row) = store_shops::code(&mut tx.exec(), county, code)
                .await?
                .filter(|c| c.used_at.is_none() && c.expires_at > now)
            else {
                return Ok(Attempt::WrongCode);
            };
            let limit = code_row.max_points.unwrap_or(county_cap);
            if points > limit {
                return Err(AppError::conflict(
                    "over_code_limit",
                    Some("quantity"),
                    format!(
                        "这个兑换码最多可兑换{limit}积分，本次需要{points}积分。请减少数量，或请老人重新出示兑换码并选择更高的额度"
                    ),
                ));
            }
            if !store_shops::take_stock(&mut tx.exec(), county, goods.id, input.quantity, now)
                .await?
            {
                return Err(AppError::conflict(
                    "out_of_stock",
                    Some("goods_id"),
                    format!("“{}”库存不足或已下架", goods.name),
                ));
            }
            let posting = Posting {
                unit: Unit::Points,
                debit: Holder::Person {
                    county_code: county,
                    id: code_row.person_id,
                },
                credit: Holder::Shop {
                    county_code: county,
                    id: shop.id,
                },
                amount: points,
                reason: Reason::Redeem,
                source_kind: SourceKind::Redemption,
                source_ref: format!("{}×{}", goods.name, input.quantity),
                memo: unit_ref.name.clone(),
                key: key.clone(),
                reverses: None,
                actor: Actor::of(caller),
                daily_cap: None,
            };
            let receipt = apply_one(&mut tx, self.ledger().writer().ids(), &posting, now).await?;
            if !store_shops::use_code(&mut tx.exec(), county, code, code_row.person_id, now).await?
            {
                return Err(AppError::conflict(
                    "code_invalid",
                    Some("code"),
                    "兑换码刚刚已被使用，请老人重新出示",
                ));
            }
            let row = RedemptionRow {
                county_code: county,
                id: ids::next(&mut tx.exec(), Seq::Redemptions).await?,
                shop_id: shop.id,
                person_id: code_row.person_id,
                goods_id: goods.id,
                goods_name: goods.name.clone(),
                quantity: input.quantity,
                points,
                transfer_id: receipt.transfer.id,
                idem_key: key.clone(),
                created_by: caller.account_id,
                created_at: now,
            };
            store_shops::insert_redemption(&mut tx.exec(), &row)
                .await
                .map_err(|e| match e {
                    yinling_store::StoreError::Conflict { .. } => AppError::conflict(
                        "idempotency_key_reused",
                        Some("idempotency_key"),
                        "这个幂等键已用于另一笔兑换",
                    ),
                    other => other.into(),
                })?;
            tx.commit().await?;
            Ok(Attempt::Redeemed(row))
        })
        .await?;
        match attempt {
            Attempt::Redeemed(row) => self.shop_receipt_of(row, unit.name, false).await,
            Attempt::WrongCode => Err(self.wrong_code(caller, &unit, &path).await?),
        }
    }

    /// A shop's redemptions in a calendar month (Shanghai time), for settlement.
    pub async fn settlement(
        &self,
        caller: &Caller,
        shop: Key,
        month: &str,
    ) -> AppResult<Settlement> {
        let (unit, _) = self.shop_for(caller, shop).await?;
        let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .map_err(|_| AppError::invalid("invalid_month", "month", "月份格式应为 2026-11"))?;
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        let micros = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_local_timezone(shanghai())
                .single()
                .map_or(0, |t| t.timestamp_micros())
        };
        let mut exec = self.store().read();
        let rows = store_shops::redemptions_of_shop(
            &mut exec,
            shop.county_code,
            shop.id,
            micros(first),
            micros(next),
        )
        .await?;
        let mut lines = Vec::with_capacity(rows.len());
        for r in rows {
            let name = store_people::get(&mut exec, r.county_code, r.person_id)
                .await?
                .map(|p| mask_name(&p.name))
                .unwrap_or_default();
            lines.push(SettlementLine {
                id: r.id,
                at_text: format_minutes(r.created_at),
                person_name: name,
                goods_name: r.goods_name,
                quantity: r.quantity,
                points: r.points,
                transfer_id: r.transfer_id,
            });
        }
        Ok(Settlement {
            county_code: shop.county_code,
            shop_id: shop.id,
            shop_name: unit.name,
            month: format!("{:04}-{:02}", first.year(), first.month()),
            count: lines.len() as i64,
            points: lines.iter().map(|l| l.points).sum(),
            lines,
        })
    }

    /// The month's settlement as an Excel workbook (names masked).
    pub async fn settlement_xlsx(
        &self,
        caller: &Caller,
        shop: Key,
        month: &str,
    ) -> AppResult<(String, Vec<u8>)> {
        let s = self.settlement(caller, shop, month).await?;
        let bytes = settlement_workbook(&s, caller, self.now())
            .map_err(|e| AppError::Internal(format!("settlement workbook: {e}")))?;
        Ok((
            format!("积分兑换结算-{}-{}.xlsx", s.shop_name, s.month),
            bytes,
        ))
    }
}

fn settlement_workbook(
    s: &Settlement,
    caller: &Caller,
    now: i64,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_background_color("#DDEBF7");
    let sheet = wb.add_worksheet();
    sheet.set_name("结算单")?;
    sheet.write_string_with_format(
        0,
        0,
        format!("{} {} 积分兑换结算单", s.shop_name, s.month),
        &title,
    )?;
    sheet.write_string(
        1,
        0,
        format!(
            "共{}笔，合计{}积分　导出人：{}　导出时间：{}",
            s.count,
            s.points,
            caller.display_name,
            format_minutes(now)
        ),
    )?;
    for (c, h) in ["序号", "时间", "兑换人", "商品", "数量", "积分", "流水号"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(3, c as u16, *h, &head)?;
    }
    for (i, l) in s.lines.iter().enumerate() {
        let r = 4 + i as u32;
        sheet.write_number(r, 0, (i + 1) as f64)?;
        sheet.write_string(r, 1, &l.at_text)?;
        sheet.write_string(r, 2, &l.person_name)?;
        sheet.write_string(r, 3, &l.goods_name)?;
        sheet.write_number(r, 4, l.quantity as f64)?;
        sheet.write_number(r, 5, l.points as f64)?;
        sheet.write_string(r, 6, l.transfer_id.to_string())?;
    }
    let total_row = 4 + s.lines.len() as u32;
    sheet.write_string_with_format(total_row, 3, "合计", &head)?;
    sheet.write_number_with_format(total_row, 5, s.points as f64, &head)?;
    sheet.set_column_width(1, 18)?;
    sheet.set_column_width(3, 20)?;
    sheet.set_column_width(6, 12)?;
    wb.save_to_buffer()
}

// ---- wrong codes: limits per till and per address, and the locks the county sees ----

/// What one try with a code came to inside its transaction.
enum Attempt {
    Redeemed(RedemptionRow),
    /// No live code with these digits: unknown, used, expired or voided.
    WrongCode,
}

/// Who a wrong-code limit counts: one till account, or one client address (every till
/// behind it together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    Till,
    Address,
}

impl LockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LockKind::Till => "till",
            LockKind::Address => "address",
        }
    }

    pub fn parse(s: &str) -> Option<LockKind> {
        [LockKind::Till, LockKind::Address]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            LockKind::Till => "收银账号",
            LockKind::Address => "网络地址",
        }
    }

    /// The refusal while locked (HTTP 429), saying until when and who can lift it.
    fn refusal(self, until: i64, just_now: bool) -> AppError {
        let at = yinling_domain::time::from_micros(until).format("%H:%M");
        let what = match self {
            LockKind::Till => "本收银账号",
            LockKind::Address => "本店所在网络",
        };
        let lead = if just_now {
            "兑换码不对。输错次数过多，"
        } else {
            "兑换码输错次数过多，"
        };
        AppError::TooMany {
            message: format!(
                "{lead}{what}已暂停兑换，请于{at}后再试；如需提前恢复，请联系县（市、区）管理员"
            ),
            until,
        }
    }
}

/// The bucket names of the two limits in `throttles`.
const TILL_BUCKET: &str = "redeem_wrong_code_till";
const ADDRESS_BUCKET: &str = "redeem_wrong_code_ip";

/// A lock as the county's list shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockView {
    pub lock: LockRow,
    pub shop_name: String,
    /// 收银账号 / 网络地址
    pub kind_label: &'static str,
    /// Still refusing codes now.
    pub active: bool,
    /// 锁定中（至10:15） / 已到期 / 已由某某提前解除
    pub state_text: String,
    pub locked_text: String,
}

impl App {
    fn wrong_code_limit(&self, kind: LockKind) -> Limit {
        let s = &self.settings().security;
        Limit {
            bucket: match kind {
                LockKind::Till => TILL_BUCKET,
                LockKind::Address => ADDRESS_BUCKET,
            },
            max: match kind {
                LockKind::Till => s.redeem_wrong_codes_per_till,
                LockKind::Address => s.redeem_wrong_codes_per_address,
            }
            .max(1),
            window_minutes: s.redeem_lock_minutes.max(1),
        }
    }

    /// The limits that count the caller's wrong codes, with their subjects: the till
    /// account always, the client address when known.
    fn wrong_code_subjects(&self, caller: &Caller) -> Vec<(LockKind, Limit, String)> {
        let till = match caller.account_id {
            Some(id) => format!("account:{id}"),
            None => format!("system:{}", caller.username),
        };
        let mut out = vec![(LockKind::Till, self.wrong_code_limit(LockKind::Till), till)];
        if let Some(ip) = caller.ip.as_deref().filter(|ip| !ip.is_empty()) {
            out.push((
                LockKind::Address,
                self.wrong_code_limit(LockKind::Address),
                ip.to_owned(),
            ));
        }
        out
    }

    /// Refuses any code — right or wrong — while the caller's till or address is locked,
    /// and counts the refusal on the lock's record.
    async fn refuse_locked_till(&self, caller: &Caller, county: i64) -> AppResult<()> {
        for (kind, limit, subject) in self.wrong_code_subjects(caller) {
            match self.throttle_check(&limit, &subject).await {
                Ok(()) => {}
                Err(AppError::TooMany { until, .. }) => {
                    let mut tx = self.store().begin().await?;
                    store_shops::count_refused(&mut tx.exec(), county, &subject, self.now())
                        .await?;
                    tx.commit().await?;
                    return Err(kind.refusal(until, false));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Counts a wrong code against the till and the address. The one that reaches a limit
    /// locks it, records the lock and audits it; the answer is then the lock, otherwise the
    /// plain wrong-code message with the tries left.
    async fn wrong_code(
        &self,
        caller: &Caller,
        shop: &OrgUnitRow,
        path: &OrgPath,
    ) -> AppResult<AppError> {
        let mut locked: Option<(LockKind, i64)> = None;
        let mut left = i64::MAX;
        for (kind, limit, subject) in self.wrong_code_subjects(caller) {
            match self.throttle(&limit, &subject).await {
                Ok(counted) => {
                    left = left.min(counted.left);
                    if counted.left == 0 {
                        let until = self
                            .throttled_until(&limit, &subject)
                            .await?
                            .unwrap_or_else(|| self.now() + limit.window_minutes * MINUTE);
                        self.record_lock(caller, shop, path, kind, &limit, &subject, until)
                            .await?;
                        locked.get_or_insert((kind, until));
                    }
                }
                // Another wrong code at the same moment reached the limit first.
                Err(AppError::TooMany { until, .. }) => {
                    locked.get_or_insert((kind, until));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(match locked {
            Some((kind, until)) => kind.refusal(until, true),
            None => AppError::conflict(
                "code_invalid",
                Some("code"),
                format!(
                    "兑换码不对或已过期（有效5分钟，只能用一次），请老人重新出示。再输错{left}次将暂停兑换"
                ),
            ),
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_lock(
        &self,
        caller: &Caller,
        shop: &OrgUnitRow,
        path: &OrgPath,
        kind: LockKind,
        limit: &Limit,
        subject: &str,
        until: i64,
    ) -> AppResult<LockRow> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let row = LockRow {
            county_code: shop.county_code,
            id: ids::next(&mut tx.exec(), Seq::RedeemLocks).await?,
            path: path.as_str().to_owned(),
            shop_id: shop.id,
            kind: kind.as_str().to_owned(),
            bucket: limit.bucket.to_owned(),
            subject: subject.to_owned(),
            account_id: caller.account_id,
            account_name: caller.username.clone(),
            ip: caller.ip.clone(),
            wrong_codes: limit.max,
            refused: 0,
            locked_at: now,
            until_at: until,
            lifted_at: None,
            lifted_by: None,
            lifted_by_name: None,
        };
        store_shops::insert_lock(&mut tx.exec(), &row).await?;
        let after = serde_json::json!({"kind": row.kind, "shop_id": row.shop_id,
            "account_id": row.account_id, "wrong_codes": row.wrong_codes, "until": until});
        let event = self.audit_event(
            caller,
            Event {
                county_code: row.county_code,
                action: "redeem.lock",
                entity: "redeem_lock",
                entity_key: format!("{}/{}", row.county_code, row.id),
                before: None,
                after: Some(&after),
                detail: Some(format!(
                    "{}输错兑换码{}次，{}（{}）暂停兑换至{}",
                    shop.name,
                    row.wrong_codes,
                    kind.label_zh(),
                    match kind {
                        LockKind::Till => row.account_name.clone(),
                        LockKind::Address => row.ip.clone().unwrap_or_default(),
                    },
                    yinling_domain::time::from_micros(until).format("%H:%M")
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Whether the caller may watch over redemptions at a shop with this path: county (or
    /// city) administrators who set the ledger rules there.
    fn oversees(caller: &Caller, path: &str) -> bool {
        OrgPath::parse(path).is_ok_and(|p| caller.scope(Permission::ManageLedger).covers(&p))
    }

    fn may_oversee(caller: &Caller) -> AppResult<()> {
        if caller.may(Permission::ManageLedger) {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "只有县（市、区）管理员可以查看兑换码锁定和冒用报告",
            ))
        }
    }

    /// The names of these shops, each read once.
    pub(crate) async fn shop_names(
        &self,
        shops: &[(i64, i64)],
    ) -> AppResult<HashMap<(i64, i64), String>> {
        let mut exec = self.store().read();
        let mut out = HashMap::new();
        for &(county, id) in shops {
            if let std::collections::hash_map::Entry::Vacant(e) = out.entry((county, id)) {
                let name = store_org::get(&mut exec, county, id)
                    .await?
                    .map(|u| u.name)
                    .unwrap_or_default();
                e.insert(name);
            }
        }
        Ok(out)
    }

    fn lock_view(&self, lock: LockRow, shop_name: String) -> LockView {
        let now = self.now();
        let kind = LockKind::parse(&lock.kind).unwrap_or(LockKind::Till);
        let active = lock.lifted_at.is_none() && lock.until_at > now;
        let state_text = match (&lock.lifted_at, &lock.lifted_by_name) {
            (Some(at), name) => format!(
                "已由{}于{}提前解除",
                name.as_deref().unwrap_or("管理员"),
                format_minutes(*at)
            ),
            (None, _) if active => format!(
                "锁定中（至{}）",
                yinling_domain::time::from_micros(lock.until_at).format("%H:%M")
            ),
            (None, _) => "已到期，自动解除".to_owned(),
        };
        LockView {
            kind_label: kind.label_zh(),
            active,
            state_text,
            locked_text: format_minutes(lock.locked_at),
            shop_name,
            lock,
        }
    }

    /// Locks at shops in the caller's scope, newest first: which till or address, where,
    /// when, how many wrong codes, and whether it still holds.
    pub async fn redeem_locks(&self, caller: &Caller) -> AppResult<Vec<LockView>> {
        Self::may_oversee(caller)?;
        let rows = store_shops::locks_in_scope(
            &mut self.store().read(),
            &caller.scope(Permission::ManageLedger),
            200,
        )
        .await?;
        let names = self
            .shop_names(
                &rows
                    .iter()
                    .map(|l| (l.county_code, l.shop_id))
                    .collect::<Vec<_>>(),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|l| {
                let name = names
                    .get(&(l.county_code, l.shop_id))
                    .cloned()
                    .unwrap_or_default();
                self.lock_view(l, name)
            })
            .collect())
    }

    /// Lifts a lock before it runs out (a county administrator who has checked the till),
    /// audited. The till's count starts afresh.
    pub async fn lift_redeem_lock(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
    ) -> AppResult<LockView> {
        let lock = store_shops::lock(&mut self.store().read(), county, id)
            .await?
            .filter(|l| Self::oversees(caller, &l.path))
            .ok_or(AppError::NotFound {
                what: "锁定记录"
            })?;
        let now = self.now();
        if lock.lifted_at.is_some() {
            return Err(AppError::conflict(
                "already_lifted",
                None,
                "这个锁定已经解除了",
            ));
        }
        if lock.until_at <= now {
            return Err(AppError::conflict(
                "lock_expired",
                None,
                "这个锁定已到期，已自动解除",
            ));
        }
        let mut tx = self.store().begin().await?;
        if !store_shops::lift_lock(
            &mut tx.exec(),
            county,
            id,
            caller.account_id,
            &caller.display_name,
            now,
        )
        .await?
        {
            return Err(AppError::conflict(
                "already_lifted",
                None,
                "这个锁定已经解除了",
            ));
        }
        store_throttle::clear(&mut tx.exec(), &lock.bucket, &lock.subject).await?;
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "redeem.lock.lift",
                entity: "redeem_lock",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: None,
                detail: Some(format!(
                    "提前解除{}（{}）的兑换锁定",
                    LockKind::parse(&lock.kind)
                        .unwrap_or(LockKind::Till)
                        .label_zh(),
                    match LockKind::parse(&lock.kind) {
                        Some(LockKind::Address) => lock.ip.clone().unwrap_or_default(),
                        _ => lock.account_name.clone(),
                    }
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        let lock = store_shops::lock(&mut self.store().read(), county, id)
            .await?
            .ok_or_else(|| AppError::Internal("lock vanished".into()))?;
        let name = self
            .shop_names(&[(lock.county_code, lock.shop_id)])
            .await?
            .into_values()
            .next()
            .unwrap_or_default();
        Ok(self.lock_view(lock, name))
    }
}

// ---- 不是我本人兑换: the elder's report and the county's decision ----

/// The refusal to make a code while a report is open.
fn paused() -> AppError {
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolveInput {
    pub decision: ReportDecision,
    /// What was found (4 to 150 characters).
    pub note: String,
}

/// What a report's state means, for the elder and the county.
pub fn report_state_label(state: &str) -> &'static str {
    match state {
        "open" => "已报告，等待县里核实",
        "fraud" => "县里已核实：不是本人兑换，积分已退回",
        "dismissed" => "县里核实后认定为本人兑换",
        _ => "",
    }
}

/// A report in the county's list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportView {
    pub report: ReportRow,
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

impl App {
    /// 不是我本人兑换: the elder reports one of their redemptions. Their live codes are void
    /// at once and no new code is made until the county has looked at it; the report joins
    /// the county's list. Reporting the same redemption again answers the first report.
    pub async fn report_redemption(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
    ) -> AppResult<ReportRow> {
        let (my_county, person) = caller
            .person
            .ok_or_else(|| AppError::forbidden("您的账号没有关联本人档案"))?;
        let mut exec = self.store().read();
        let r = store_shops::redemption(&mut exec, county, id)
            .await?
            .filter(|r| my_county == county && r.person_id == person)
            .ok_or(AppError::NotFound {
                what: "兑换记录"
            })?;
        if let Some(existing) = store_shops::reports_of_person(&mut exec, county, person)
            .await?
            .into_iter()
            .find(|x| x.redemption_id == r.id)
        {
            return Ok(existing);
        }
        let shop = store_org::get(&mut exec, county, r.shop_id)
            .await?
            .ok_or_else(|| AppError::Internal("shop of a redemption missing".into()))?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let frozen = store_shops::void_live_codes(&mut tx.exec(), county, person, now).await?;
        let row = ReportRow {
            county_code: county,
            id: ids::next(&mut tx.exec(), Seq::RedemptionReports).await?,
            path: shop.path.clone(),
            redemption_id: r.id,
            shop_id: r.shop_id,
            person_id: person,
            reported_by: caller.account_id,
            reported_at: now,
            frozen_codes: frozen as i64,
            state: "open".to_owned(),
            resolved_by: None,
            resolved_by_name: None,
            resolved_at: None,
            note: None,
            reversal_id: None,
        };
        if !store_shops::insert_report(&mut tx.exec(), &row).await? {
            // Reported at the same moment from another tap: answer that report.
            drop(tx);
            return store_shops::reports_of_person(&mut self.store().read(), county, person)
                .await?
                .into_iter()
                .find(|x| x.redemption_id == r.id)
                .ok_or_else(|| AppError::Internal("report vanished".into()));
        }
        let after = serde_json::json!({"redemption_id": r.id, "transfer_id": r.transfer_id,
            "points": r.points, "frozen_codes": frozen});
        let event = self.audit_event(
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
    pub async fn redeem_paused(&self, caller: &Caller) -> AppResult<bool> {
        let Some((county, person)) = caller.person else {
            return Ok(false);
        };
        Ok(store_shops::has_open_report(&mut self.store().read(), county, person).await?)
    }

    /// Reports about shops in the caller's scope, open ones first.
    pub async fn redemption_reports(&self, caller: &Caller) -> AppResult<Vec<ReportView>> {
        Self::may_oversee(caller)?;
        let rows = store_shops::reports_in_scope(
            &mut self.store().read(),
            &caller.scope(Permission::ManageLedger),
            200,
        )
        .await?;
        let names = self
            .shop_names(
                &rows
                    .iter()
                    .map(|r| (r.county_code, r.shop_id))
                    .collect::<Vec<_>>(),
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for report in rows {
            let shop_name = names
                .get(&(report.county_code, report.shop_id))
                .cloned()
                .unwrap_or_default();
            out.push(self.report_view(report, shop_name).await?);
        }
        Ok(out)
    }

    async fn report_view(&self, report: ReportRow, shop_name: String) -> AppResult<ReportView> {
        let mut exec = self.store().read();
        let r = store_shops::redemption(&mut exec, report.county_code, report.redemption_id)
            .await?
            .ok_or_else(|| AppError::Internal("reported redemption missing".into()))?;
        let person_name = store_people::get(&mut exec, report.county_code, report.person_id)
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
            state_label: report_state_label(&report.state),
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
    pub async fn resolve_redemption_report(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: ResolveInput,
    ) -> AppResult<ReportView> {
        let report = store_shops::report(&mut self.store().read(), county, id)
            .await?
            .filter(|r| Self::oversees(caller, &r.path))
            .ok_or(AppError::NotFound {
                what: "冒用报告"
            })?;
        self.ledger()
            .not_for_self(
                caller,
                Benefit::ResolveReport,
                county,
                report.person_id,
                None,
            )
            .await?;
        let note = input.note.trim();
        let n = note.chars().count();
        if !(4..=150).contains(&n) {
            return Err(AppError::invalid(
                "note_required",
                "note",
                "请写明核实情况（4至150字）",
            ));
        }
        if report.state != "open" {
            return Err(AppError::conflict(
                "already_resolved",
                None,
                format!("这份报告已处理：{}", report_state_label(&report.state)),
            ));
        }
        let r = store_shops::redemption(&mut self.store().read(), county, report.redemption_id)
            .await?
            .ok_or_else(|| AppError::Internal("reported redemption missing".into()))?;
        let reversal_id = match input.decision {
            ReportDecision::Dismiss => None,
            ReportDecision::Fraud => Some(
                self.reverse_reported(caller, county, r.transfer_id, note)
                    .await?,
            ),
        };
        let (state, action) = match input.decision {
            ReportDecision::Fraud => ("fraud", "redeem.report.fraud"),
            ReportDecision::Dismiss => ("dismissed", "redeem.report.dismiss"),
        };
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if !store_shops::resolve_report(
            &mut tx.exec(),
            county,
            id,
            state,
            caller.account_id,
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
        let event = self.audit_event(
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
        let report = store_shops::report(&mut self.store().read(), county, id)
            .await?
            .ok_or_else(|| AppError::Internal("report vanished".into()))?;
        let shop_name = self
            .shop_names(&[(county, report.shop_id)])
            .await?
            .into_values()
            .next()
            .unwrap_or_default();
        self.report_view(report, shop_name).await
    }

    /// Reverses a reported redemption's transfer; if it was reversed already (a decision
    /// retried after a failure), the existing reversal.
    async fn reverse_reported(
        &self,
        caller: &Caller,
        county: i64,
        transfer_id: i64,
        note: &str,
    ) -> AppResult<i64> {
        match self
            .ledger()
            .reverse_transfer(
                caller,
                county,
                transfer_id,
                &format!("不是本人兑换，核实冲正：{note}"),
            )
            .await
        {
            Ok(receipt) => Ok(receipt.transfer.id),
            Err(e) if e.code() == "already_reversed" => {
                let key = format!("reverse:{county}:{transfer_id}");
                store_ledger::transfers_by_keys(&mut self.store().read(), county, &[key.as_str()])
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
