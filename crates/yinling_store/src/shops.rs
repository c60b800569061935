//! Partner shops' goods (积分兑换超市), the short-lived codes elders show at the till, and
//! the redemptions made with them.

use serde::Serialize;

use crate::{Exec, Micros, Result, q};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GoodsRow {
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

const GOODS_COLUMNS: &str =
    "county_code, id, shop_id, name, price_points, stock, active, created_at, updated_at, version";

pub async fn insert_goods(exec: &mut Exec<'_>, g: &GoodsRow) -> Result<()> {
    exec.execute(q!(
        format!("INSERT INTO shop_goods ({GOODS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1)"),
        g.county_code,
        g.id,
        g.shop_id,
        &g.name,
        g.price_points,
        g.stock,
        g.active,
        g.created_at
    ))
    .await?;
    Ok(())
}

/// Changes name, price, stock and availability if `version` is current.
pub async fn update_goods(exec: &mut Exec<'_>, g: &GoodsRow, version: i64) -> Result<bool> {
    let n = exec
        .execute(q!(
            "UPDATE shop_goods SET name = $3, price_points = $4, stock = $5, active = $6,
                 updated_at = $7, version = version + 1
             WHERE county_code = $1 AND id = $2 AND version = $8",
            g.county_code,
            g.id,
            &g.name,
            g.price_points,
            g.stock,
            g.active,
            g.updated_at,
            version
        ))
        .await?;
    Ok(n == 1)
}

pub async fn goods(exec: &mut Exec<'_>, county: i64, id: i64) -> Result<Option<GoodsRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {GOODS_COLUMNS} FROM shop_goods WHERE county_code = $1 AND id = $2"),
        county,
        id
    ))
    .await
}

pub async fn goods_of_shop(exec: &mut Exec<'_>, county: i64, shop: i64) -> Result<Vec<GoodsRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {GOODS_COLUMNS} FROM shop_goods WHERE county_code = $1 AND shop_id = $2
              ORDER BY active DESC, price_points, id"
        ),
        county,
        shop
    ))
    .await
}

/// Takes `quantity` from stock if the goods are on offer and enough are left.
pub async fn take_stock(
    exec: &mut Exec<'_>,
    county: i64,
    id: i64,
    quantity: i64,
    now: Micros,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "UPDATE shop_goods SET stock = stock - $3, updated_at = $4, version = version + 1
             WHERE county_code = $1 AND id = $2 AND active AND stock >= $3",
            county,
            id,
            quantity,
            now
        ))
        .await?;
    Ok(n == 1)
}

/// Stores a new code for a person unless a live one holds the same digits; a used or
/// expired code's digits are reused. Returns false on a collision with a live code.
pub async fn put_code(
    exec: &mut Exec<'_>,
    county: i64,
    code: &str,
    person: i64,
    now: Micros,
    expires_at: Micros,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "INSERT INTO redeem_codes (county_code, code, person_id, expires_at, used_at)
             VALUES ($1, $2, $3, $4, NULL)
             ON CONFLICT (county_code, code) DO UPDATE SET person_id = excluded.person_id,
                 expires_at = excluded.expires_at, used_at = NULL
             WHERE redeem_codes.expires_at <= $5 OR redeem_codes.used_at IS NOT NULL",
            county,
            code,
            person,
            expires_at,
            now
        ))
        .await?;
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CodeRow {
    pub county_code: i64,
    pub code: String,
    pub person_id: i64,
    pub expires_at: Micros,
    pub used_at: Option<Micros>,
}

pub async fn code(exec: &mut Exec<'_>, county: i64, code: &str) -> Result<Option<CodeRow>> {
    exec.fetch_optional(q!(
        "SELECT county_code, code, person_id, expires_at, used_at FROM redeem_codes
          WHERE county_code = $1 AND code = $2",
        county,
        code
    ))
    .await
}

/// Marks a live code used; false if it was used or expired meanwhile.
pub async fn use_code(
    exec: &mut Exec<'_>,
    county: i64,
    code: &str,
    person: i64,
    now: Micros,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "UPDATE redeem_codes SET used_at = $4
              WHERE county_code = $1 AND code = $2 AND person_id = $3 AND used_at IS NULL AND expires_at > $4",
            county,
            code,
            person,
            now
        ))
        .await?;
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedemptionRow {
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

const REDEMPTION_COLUMNS: &str = "county_code, id, shop_id, person_id, goods_id, goods_name, quantity, \
     points, transfer_id, idem_key, created_by, created_at";

pub async fn insert_redemption(exec: &mut Exec<'_>, r: &RedemptionRow) -> Result<()> {
    exec.execute(q!(
        format!(
            "INSERT INTO redemptions ({REDEMPTION_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ),
        r.county_code,
        r.id,
        r.shop_id,
        r.person_id,
        r.goods_id,
        &r.goods_name,
        r.quantity,
        r.points,
        r.transfer_id,
        &r.idem_key,
        r.created_by,
        r.created_at
    ))
    .await?;
    Ok(())
}

pub async fn redemption_by_key(
    exec: &mut Exec<'_>,
    county: i64,
    key: &str,
) -> Result<Option<RedemptionRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {REDEMPTION_COLUMNS} FROM redemptions WHERE county_code = $1 AND idem_key = $2"
        ),
        county,
        key
    ))
    .await
}

/// The redemption made with a person's code after `since`, newest first.
pub async fn latest_redemption_of(
    exec: &mut Exec<'_>,
    county: i64,
    person: i64,
    since: Micros,
) -> Result<Option<RedemptionRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {REDEMPTION_COLUMNS} FROM redemptions
              WHERE county_code = $1 AND person_id = $2 AND created_at >= $3 ORDER BY id DESC LIMIT 1"
        ),
        county,
        person,
        since
    ))
    .await
}

/// A shop's redemptions in `[from, to)`, oldest first.
pub async fn redemptions_of_shop(
    exec: &mut Exec<'_>,
    county: i64,
    shop: i64,
    from: Micros,
    to: Micros,
) -> Result<Vec<RedemptionRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {REDEMPTION_COLUMNS} FROM redemptions
              WHERE county_code = $1 AND shop_id = $2 AND created_at >= $3 AND created_at < $4
              ORDER BY created_at, id"
        ),
        county,
        shop,
        from,
        to
    ))
    .await
}
