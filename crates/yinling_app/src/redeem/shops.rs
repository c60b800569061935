//! Goods and their stock, the code an elder shows, the redemption itself, and each shop's
//! monthly settlement.

use super::*;
use crate::kernel::text::{Label, ReadField};
use crate::kernel::xlsx::{header_format, title_format};

/// How long a code may be used after it is shown.
pub const CODE_TTL_MICROS: i64 = 5 * 60 * 1_000_000;

#[derive(Debug, Clone, Deserialize, Serialize)]
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

pub(super) fn yes() -> bool {
    true
}

/// A code to show at the till.
#[derive(Debug, Clone, Serialize)]
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
pub struct RedeemInput {
    /// The six digits the elder shows or reads out.
    pub code: String,
    pub goods_id: i64,
    #[serde(default = "one")]
    pub quantity: i64,
    /// The till's idempotency key: a retry returns the first receipt.
    pub idempotency_key: String,
}

pub(super) fn one() -> i64 {
    1
}

/// What the elder sees after a redemption: their own receipt, with what is left.
#[derive(Debug, Clone, Serialize)]
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
pub struct ShopRedemption {
    pub county_code: CountyCode,
    pub id: RedemptionId,
    pub shop_id: UnitId,
    pub goods_id: GoodsId,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub transfer_id: TransferId,
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
pub struct Settlement {
    pub county_code: CountyCode,
    pub shop_id: UnitId,
    pub shop_name: String,
    /// 2026-11
    pub month: String,
    pub count: i64,
    pub points: i64,
    pub lines: Vec<SettlementLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SettlementLine {
    pub id: RedemptionId,
    pub at_text: String,
    pub person_name: String,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub transfer_id: TransferId,
}

/// 张三丰 → 张*丰, 李四 → 李*.
pub fn mask_name(name: &str) -> String {
    let n = name.chars().count();
    MaskPolicy::new(1, usize::from(n >= 3)).apply(name)
}

impl Redeem<'_> {
    /// A partner shop the caller may work for (merchant staff on it, or county staff).
    pub(super) async fn shop_for(
        self,
        caller: &Caller,
        shop: Key<UnitId>,
    ) -> AppResult<(OrgUnitRow, OrgPath)> {
        let unit = store_org::get(&mut self.app.store().read(), shop)
            .await?
            .filter(|u| Some(u.kind) == Some(OrgKind::Merchant))
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
    #[tracing::instrument(name = "redeem.my_shops", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn my_shops(self, caller: &Caller) -> AppResult<Vec<OrgUnitRow>> {
        let mut out = Vec::new();
        for g in caller
            .grants
            .iter()
            .filter(|g| g.role.allows(Permission::Redeem))
        {
            if let Some(u) = store_org::get(
                &mut self.app.store().read(),
                crate::org::unit_key(g.unit_county_code, g.unit_id)?,
            )
            .await?
                && OrgKind::parse(u.kind.as_str()) == Some(OrgKind::Merchant)
            {
                out.push(u);
            }
        }
        Ok(out)
    }

    #[tracing::instrument(name = "redeem.goods", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, shop = ?shop))]
    pub async fn goods(self, caller: &Caller, shop: Key<UnitId>) -> AppResult<Vec<GoodsRow>> {
        self.shop_for(caller, shop).await?;
        Ok(store_shops::goods_of_shop(&mut self.app.store().read(), shop).await?)
    }

    pub(super) fn check_goods(input: &GoodsInput) -> AppResult<String> {
        let name = Label::<30>::read(&input.name, "name", "商品名称")?;
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
        Ok(name.into_string())
    }

    #[tracing::instrument(name = "redeem.add_goods", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, shop = ?shop))]
    pub async fn add_goods(
        self,
        caller: &Caller,
        shop: Key<UnitId>,
        input: GoodsInput,
    ) -> AppResult<GoodsRow> {
        self.shop_for(caller, shop).await?;
        let name = Self::check_goods(&input)?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let row = GoodsRow {
            county_code: shop.county_code,
            id: GoodsId(ids::next(&mut tx.exec(), Seq::ShopGoods).await?),
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

    #[tracing::instrument(name = "redeem.update_goods", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, goods = %goods))]
    pub async fn update_goods(
        self,
        caller: &Caller,
        goods: Key<GoodsId>,
        input: GoodsInput,
    ) -> AppResult<GoodsRow> {
        let existing = store_shops::goods(&mut self.app.store().read(), goods)
            .await?
            .ok_or(AppError::NotFound { what: "商品" })?;
        self.shop_for(caller, Key::new(existing.county_code, existing.shop_id))
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
            updated_at: self.app.now(),
            version: version + 1,
            ..existing
        };
        let mut tx = self.app.store().begin().await?;
        if !store_shops::update_goods(&mut tx.exec(), &row, version).await? {
            return Err(yinling_store::StoreError::Stale.into());
        }
        self.audit_goods(&mut tx, caller, &row, "shop.goods.update")
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub(super) async fn audit_goods(
        self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        g: &GoodsRow,
        action: &'static str,
    ) -> AppResult<()> {
        let after = serde_json::json!({"name": g.name, "price_points": g.price_points, "stock": g.stock, "active": g.active});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: g.county_code.as_i64(),
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
    #[tracing::instrument(name = "redeem.code", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn code(self, caller: &Caller) -> AppResult<RedeemCode> {
        self.code_limited(caller, None).await
    }

    /// A fresh code good for at most `max_points` (at most the county's cap; none: the cap).
    /// No code is made while the caller has reported a redemption the county has not looked
    /// at yet: whoever used their code may still hold their phone or account.
    #[tracing::instrument(name = "redeem.code_limited", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn code_limited(
        self,
        caller: &Caller,
        max_points: Option<i64>,
    ) -> AppResult<RedeemCode> {
        let (county, person) = caller
            .person
            .ok_or_else(|| AppError::forbidden("您的账号没有关联本人档案，无法兑换积分"))?;
        let points = self
            .app
            .ledger()
            .balances(
                caller,
                Key::from_parts(county, person).map_err(|e| AppError::Internal(e.to_string()))?,
            )
            .await?
            .points;
        let cap = self
            .app
            .ledger()
            .rules(crate::kernel::key::stored_county(county)?)
            .await?
            .max_points_per_code;
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
        let me = Key::from_parts(county, person).map_err(|e| AppError::Internal(e.to_string()))?;
        if store_shops::has_open_report(&mut self.app.store().read(), me).await? {
            return Err(paused());
        }
        let now = self.app.now();
        let expires_at = now + CODE_TTL_MICROS;
        let mut tx = self.app.store().begin().await?;
        for _ in 0..20 {
            let code = ledger::redeem_code(&mut rand::thread_rng());
            if store_shops::put_code(
                &mut tx.exec(),
                me.county_code,
                &code,
                me.id,
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
    #[tracing::instrument(name = "redeem.my_last_redemption", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn my_last_redemption(
        self,
        caller: &Caller,
        since: i64,
    ) -> AppResult<Option<RedemptionReceipt>> {
        let Some(person) = crate::ledger::caller_person(caller) else {
            return Ok(None);
        };
        let Some(r) =
            store_shops::latest_redemption_of(&mut self.app.store().read(), person, since).await?
        else {
            return Ok(None);
        };
        Ok(Some(self.elder_receipt(r).await?))
    }

    /// The elder's own receipt: their name and what they have left.
    pub(super) async fn elder_receipt(self, r: RedemptionRow) -> AppResult<RedemptionReceipt> {
        let mut exec = self.app.store().read();
        let shop_name = store_org::get(&mut exec, Key::new(r.county_code, r.shop_id))
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        let person_name = store_people::get(&mut exec, Key::new(r.county_code, r.person_id))
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        let balance_after =
            store_ledger::transfer(&mut exec, Key::new(r.county_code, r.transfer_id))
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
        self,
        r: RedemptionRow,
        shop_name: String,
        replayed: bool,
    ) -> AppResult<ShopReceipt> {
        let name = store_people::get(
            &mut self.app.store().read(),
            Key::new(r.county_code, r.person_id),
        )
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
    #[tracing::instrument(name = "redeem.at_till", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, shop = ?shop))]
    pub async fn at_till(
        self,
        caller: &Caller,
        shop: Key<UnitId>,
        input: RedeemInput,
    ) -> AppResult<ShopReceipt> {
        let (unit, path) = self.shop_for(caller, shop).await?;
        let county = shop.county_code;
        let key = client_key(caller, "redeem", &input.idempotency_key)?;
        if let Some(r) =
            store_shops::redemption_by_key(&mut self.app.store().read(), county, &key).await?
        {
            if r.shop_id != shop.id
                || r.goods_id.get() != input.goods_id
                || r.quantity != input.quantity
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
        let goods = match Key::from_parts(county.as_i64(), input.goods_id) {
            Ok(key) => store_shops::goods(&mut self.app.store().read(), key).await?,
            Err(_) => None,
        }
        .filter(|g| g.shop_id == shop.id)
        .ok_or(AppError::NotFound { what: "商品" })?;
        let points = goods.price_points * input.quantity;
        let county_cap = self
            .app
            .ledger()
            .rules(shop.county_code)
            .await?
            .max_points_per_code;
        let now = self.app.now();
        let (code, goods, input, unit_ref, key) = (&code, &goods, &input, &unit, &key);
        let attempt = retrying(|| async move {
            let mut tx = self.app.store().begin().await?;
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
            if !store_shops::take_stock(
                &mut tx.exec(),
                Key::new(goods.county_code, goods.id),
                input.quantity,
                now,
            )
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
                debit: Holder::person(Key::new(shop.county_code, code_row.person_id)),
                credit: Holder::shop(shop),
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
            let receipt = apply_one(&mut tx, self.app.ledger().writer().ids(), &posting, now).await?;
            if !store_shops::use_code(&mut tx.exec(), county, code, code_row.person_id, now)
                .await?
            {
                return Err(AppError::conflict(
                    "code_invalid",
                    Some("code"),
                    "兑换码刚刚已被使用，请老人重新出示",
                ));
            }
            let row = RedemptionRow {
                county_code: shop.county_code,
                id: RedemptionId(ids::next(&mut tx.exec(), Seq::Redemptions).await?),
                shop_id: shop.id,
                person_id: code_row.person_id,
                goods_id: goods.id,
                goods_name: goods.name.clone(),
                quantity: input.quantity,
                points,
                transfer_id: receipt.transfer.id,
                idem_key: key.clone(),
                created_by: caller.account_id.map(AccountId),
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
    #[tracing::instrument(name = "redeem.settlement", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, shop = ?shop))]
    pub async fn settlement(
        self,
        caller: &Caller,
        shop: Key<UnitId>,
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
        let mut exec = self.app.store().read();
        let rows =
            store_shops::redemptions_of_shop(&mut exec, shop, micros(first), micros(next)).await?;
        let mut lines = Vec::with_capacity(rows.len());
        for r in rows {
            let name = store_people::get(&mut exec, Key::new(r.county_code, r.person_id))
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
    #[tracing::instrument(name = "redeem.settlement_xlsx", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, shop = ?shop))]
    pub async fn settlement_xlsx(
        self,
        caller: &Caller,
        shop: Key<UnitId>,
        month: &str,
    ) -> AppResult<(String, Vec<u8>)> {
        let s = self.settlement(caller, shop, month).await?;
        let bytes = settlement_workbook(&s, caller, self.app.now())
            .map_err(|e| AppError::Internal(format!("settlement workbook: {e}")))?;
        Ok((
            format!("积分兑换结算-{}-{}.xlsx", s.shop_name, s.month),
            bytes,
        ))
    }
}

pub(super) fn settlement_workbook(
    s: &Settlement,
    caller: &Caller,
    now: i64,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let title = title_format();
    let head = header_format();
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
