//! Reads the shop and 我的积分 pages need beyond the use cases: the state of a code the caller
//! was shown, a shop the caller works for, a shop's receipt found by the till's idempotency
//! key, and the caller's own redemptions. Each is scoped like the use case it serves.

use serde::Serialize;
use yinling_domain::{
    org::{OrgKind, OrgPath},
    role::Permission,
    time::{format_minutes, from_micros},
};
use yinling_store::{
    org::{self as store_org, OrgUnitRow},
    redeem::shops::{self as store_shops},
};

use crate::{
    AppError, AppResult, Caller,
    ledger::client_key,
    redeem::{CODE_TTL_MICROS, RedeemCode, ShopReceipt},
};

use super::*;

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
pub struct MyRedemption {
    pub county_code: CountyCode,
    pub id: RedemptionId,
    pub shop_name: String,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub at_text: String,
    pub created_at: i64,
    /// `open`, `fraud` or `dismissed` once reported; none before.
    pub report_state: Option<ReportState>,
    /// 已报告，等待县里核实 …; empty before a report.
    pub report_label: &'static str,
}

impl Redeem<'_> {
    /// A code shown to the caller, if it is the caller's: live, used, or expired.
    #[tracing::instrument(name = "redeem.my_code", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn my_code(self, caller: &Caller, code: &str) -> AppResult<Option<ShownCode>> {
        let Some((county, person)) = caller.person else {
            return Ok(None);
        };
        let Some(code) = yinling_domain::ledger::parse_redeem_code(code) else {
            return Ok(None);
        };
        let Ok(county_code) = CountyCode::try_from(county) else {
            return Ok(None);
        };
        let Some(row) = store_shops::code(&mut self.app.store().read(), county_code, &code)
            .await?
            .filter(|c| c.person_id.get() == person)
        else {
            return Ok(None);
        };
        let points = self
            .app
            .ledger()
            .balances(
                caller,
                yinling_domain::ids::Key::from_parts(county, person)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            )
            .await?
            .points;
        let cap = self
            .app
            .ledger()
            .rules(crate::kernel::key::stored_county(county)?)
            .await?
            .max_points_per_code;
        let now = self.app.now();
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
    #[tracing::instrument(name = "redeem.shop", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, shop = ?shop))]
    pub async fn shop(self, caller: &Caller, shop: Key<UnitId>) -> AppResult<OrgUnitRow> {
        let unit = store_org::get(&mut self.app.store().read(), shop)
            .await?
            .filter(|u| Some(u.kind) == Some(OrgKind::Merchant))
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
    #[tracing::instrument(name = "redeem.shop_receipt", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, shop = ?shop))]
    pub async fn shop_receipt(
        self,
        caller: &Caller,
        shop: Key<UnitId>,
        key: &str,
    ) -> AppResult<ShopReceipt> {
        let unit = self.shop(caller, shop).await?;
        let key = client_key(caller, "redeem", key).map_err(|_| AppError::NotFound {
            what: "兑换记录",
        })?;
        let mut exec = self.app.store().read();
        let r = store_shops::redemption_by_key(&mut exec, shop.county_code, &key)
            .await?
            .filter(|r| r.shop_id == shop.id)
            .ok_or(AppError::NotFound {
                what: "兑换记录"
            })?;
        self.shop_receipt_of(r, unit.name, false).await
    }

    /// The caller's own latest redemptions (at most 20), newest first, with any report.
    #[tracing::instrument(name = "redeem.my_redemptions", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn my_redemptions(self, caller: &Caller) -> AppResult<Vec<MyRedemption>> {
        let Some(person) = crate::ledger::caller_person(caller) else {
            return Ok(Vec::new());
        };
        let mut exec = self.app.store().read();
        let rows = store_shops::redemptions_of_person(&mut exec, person, 20).await?;
        let reports = store_shops::reports_of_person(&mut exec, person).await?;
        let shops = self
            .shop_names(
                &rows
                    .iter()
                    .map(|r| Key::new(r.county_code, r.shop_id))
                    .collect::<Vec<_>>(),
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let report_state = reports
                .iter()
                .find(|x| x.redemption_id == r.id)
                .map(|x| x.state);
            out.push(MyRedemption {
                county_code: r.county_code,
                id: r.id,
                shop_name: shops
                    .get(&Key::new(r.county_code, r.shop_id))
                    .cloned()
                    .unwrap_or_default(),
                goods_name: r.goods_name,
                quantity: r.quantity,
                points: r.points,
                at_text: format_minutes(r.created_at),
                created_at: r.created_at,
                report_label: report_state.map_or("", ReportState::label_zh),
                report_state,
            });
        }
        Ok(out)
    }
}

/// A fresh idempotency key for a form, made when the form is shown, so that sending the
/// same form twice repeats the first result instead of moving points twice.
pub fn fresh_key(prefix: &str) -> String {
    use rand::Rng;
    let n: u128 = rand::thread_rng().r#gen();
    format!("{prefix}-{n:032x}")
}
