//! Partner shops' goods (积分兑换超市), the short-lived codes elders show at the till, the
//! redemptions made with them, the locks on tills and addresses that typed too many wrong
//! codes, and elders' reports of redemptions that were not theirs (不是我本人兑换).

use serde::Serialize;
use yinling_domain::{
    ids::{
        AccountId, GoodsId, Key, PersonId, RedeemLockId, RedemptionId, RedemptionReportId,
        TransferId, UnitId,
    },
    ledger::{LockKind, ReportState},
    region::CountyCode,
    scope::Scope,
};

use crate::{Exec, Micros, Query, Result, db, kernel::scope, q};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct GoodsRow {
    pub county_code: CountyCode,
    pub id: GoodsId,
    pub shop_id: UnitId,
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

pub async fn goods(exec: &mut Exec<'_>, key: Key<GoodsId>) -> Result<Option<GoodsRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {GOODS_COLUMNS} FROM shop_goods WHERE county_code = $1 AND id = $2"),
        key.county_code,
        key.id
    ))
    .await
}

pub async fn goods_of_shop(exec: &mut Exec<'_>, shop: Key<UnitId>) -> Result<Vec<GoodsRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {GOODS_COLUMNS} FROM shop_goods WHERE county_code = $1 AND shop_id = $2
              ORDER BY active DESC, price_points, id"
        ),
        shop.county_code,
        shop.id
    ))
    .await
}

/// Takes `quantity` from stock if the goods are on offer and enough are left.
pub async fn take_stock(
    exec: &mut Exec<'_>,
    goods: Key<GoodsId>,
    quantity: i64,
    now: Micros,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "UPDATE shop_goods SET stock = stock - $3, updated_at = $4, version = version + 1
             WHERE county_code = $1 AND id = $2 AND active AND stock >= $3",
            goods.county_code,
            goods.id,
            quantity,
            now
        ))
        .await?;
    Ok(n == 1)
}

/// Stores a new code for a person, good for at most `max_points`, unless a live one holds
/// the same digits; a used or expired code's digits are reused. Returns false on a
/// collision with a live code.
#[allow(clippy::too_many_arguments)]
pub async fn put_code(
    exec: &mut Exec<'_>,
    county: CountyCode,
    code: &str,
    person: PersonId,
    now: Micros,
    expires_at: Micros,
    max_points: i64,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "INSERT INTO redeem_codes (county_code, code, person_id, expires_at, used_at, max_points)
             VALUES ($1, $2, $3, $4, NULL, $6)
             ON CONFLICT (county_code, code) DO UPDATE SET person_id = excluded.person_id,
                 expires_at = excluded.expires_at, used_at = NULL, max_points = excluded.max_points
             WHERE redeem_codes.expires_at <= $5 OR redeem_codes.used_at IS NOT NULL",
            county,
            code,
            person,
            expires_at,
            now,
            max_points
        ))
        .await?;
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CodeRow {
    pub county_code: CountyCode,
    pub code: String,
    pub person_id: PersonId,
    pub expires_at: Micros,
    pub used_at: Option<Micros>,
    /// The most one redemption with it may spend (none for codes made before the limit).
    pub max_points: Option<i64>,
}

pub async fn code(exec: &mut Exec<'_>, county: CountyCode, code: &str) -> Result<Option<CodeRow>> {
    exec.fetch_optional(q!(
        "SELECT county_code, code, person_id, expires_at, used_at, max_points FROM redeem_codes
          WHERE county_code = $1 AND code = $2",
        county,
        code
    ))
    .await
}

/// Ends every live code of a person now (a reported redemption); returns how many.
pub async fn void_live_codes(
    exec: &mut Exec<'_>,
    person: Key<PersonId>,
    now: Micros,
) -> Result<u64> {
    exec.execute(q!(
        "UPDATE redeem_codes SET expires_at = $3
          WHERE county_code = $1 AND person_id = $2 AND used_at IS NULL AND expires_at > $3",
        person.county_code,
        person.id,
        now
    ))
    .await
}

/// Marks a live code used; false if it was used or expired meanwhile.
pub async fn use_code(
    exec: &mut Exec<'_>,
    county: CountyCode,
    code: &str,
    person: PersonId,
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
pub struct RedemptionRow {
    pub county_code: CountyCode,
    pub id: RedemptionId,
    pub shop_id: UnitId,
    pub person_id: PersonId,
    pub goods_id: GoodsId,
    pub goods_name: String,
    pub quantity: i64,
    pub points: i64,
    pub transfer_id: TransferId,
    pub idem_key: String,
    pub created_by: Option<AccountId>,
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
    county: CountyCode,
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
    person: Key<PersonId>,
    since: Micros,
) -> Result<Option<RedemptionRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {REDEMPTION_COLUMNS} FROM redemptions
              WHERE county_code = $1 AND person_id = $2 AND created_at >= $3 ORDER BY id DESC LIMIT 1"
        ),
        person.county_code,
        person.id,
        since
    ))
    .await
}

/// A shop's redemptions in `[from, to)`, oldest first.
pub async fn redemptions_of_shop(
    exec: &mut Exec<'_>,
    shop: Key<UnitId>,
    from: Micros,
    to: Micros,
) -> Result<Vec<RedemptionRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {REDEMPTION_COLUMNS} FROM redemptions
              WHERE county_code = $1 AND shop_id = $2 AND created_at >= $3 AND created_at < $4
              ORDER BY created_at, id"
        ),
        shop.county_code,
        shop.id,
        from,
        to
    ))
    .await
}

pub async fn redemption(
    exec: &mut Exec<'_>,
    key: Key<RedemptionId>,
) -> Result<Option<RedemptionRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {REDEMPTION_COLUMNS} FROM redemptions WHERE county_code = $1 AND id = $2"),
        key.county_code,
        key.id
    ))
    .await
}

/// A person's latest redemptions, newest first.
pub async fn redemptions_of_person(
    exec: &mut Exec<'_>,
    person: Key<PersonId>,
    limit: i64,
) -> Result<Vec<RedemptionRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {REDEMPTION_COLUMNS} FROM redemptions
              WHERE county_code = $1 AND person_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
        ),
        person.county_code,
        person.id,
        limit
    ))
    .await
}

// ---- locks on tills and addresses ----

/// A till account or client address locked after too many wrong codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct LockRow {
    pub county_code: CountyCode,
    pub id: RedeemLockId,
    /// The shop's path.
    pub path: String,
    pub shop_id: UnitId,
    pub kind: LockKind,
    pub bucket: String,
    pub subject: String,
    pub account_id: Option<AccountId>,
    pub account_name: String,
    pub ip: Option<String>,
    pub wrong_codes: i64,
    pub refused: i64,
    pub locked_at: Micros,
    pub until_at: Micros,
    pub lifted_at: Option<Micros>,
    pub lifted_by: Option<AccountId>,
    pub lifted_by_name: Option<String>,
}

const LOCK_COLUMNS: &str = "county_code, id, path, shop_id, kind, bucket, subject, account_id, \
     account_name, ip, wrong_codes, refused, locked_at, until_at, lifted_at, lifted_by, lifted_by_name";

pub async fn insert_lock(exec: &mut Exec<'_>, l: &LockRow) -> Result<()> {
    exec.execute(q!(
        format!(
            "INSERT INTO redeem_locks ({LOCK_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, NULL, NULL)"
        ),
        l.county_code,
        l.id,
        &l.path,
        l.shop_id,
        l.kind.as_str(),
        &l.bucket,
        &l.subject,
        l.account_id,
        &l.account_name,
        l.ip.as_deref(),
        l.wrong_codes,
        l.refused,
        l.locked_at,
        l.until_at
    ))
    .await?;
    Ok(())
}

pub async fn lock(exec: &mut Exec<'_>, key: Key<RedeemLockId>) -> Result<Option<LockRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {LOCK_COLUMNS} FROM redeem_locks WHERE county_code = $1 AND id = $2"),
        key.county_code,
        key.id
    ))
    .await
}

/// Locks at shops in scope, newest first (at most `limit`).
pub async fn locks_in_scope(
    exec: &mut Exec<'_>,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<LockRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "l");
    let l = q.push_arg(limit);
    q.sql = format!(
        "SELECT {} FROM redeem_locks l WHERE {wh} ORDER BY l.locked_at DESC, l.id DESC LIMIT {l}",
        db::qualified(LOCK_COLUMNS, "l")
    )
    .into();
    exec.fetch_all(q).await
}

/// Counts one attempt refused while a lock on `subject` holds (at this county's shops).
pub async fn count_refused(
    exec: &mut Exec<'_>,
    county: CountyCode,
    subject: &str,
    now: Micros,
) -> Result<u64> {
    exec.execute(q!(
        "UPDATE redeem_locks SET refused = refused + 1
          WHERE county_code = $1 AND subject = $2 AND until_at > $3 AND lifted_at IS NULL",
        county,
        subject,
        now
    ))
    .await
}

/// Marks a lock lifted early; false if it was lifted already.
pub async fn lift_lock(
    exec: &mut Exec<'_>,
    key: Key<RedeemLockId>,
    by: Option<AccountId>,
    by_name: &str,
    now: Micros,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "UPDATE redeem_locks SET lifted_at = $3, lifted_by = $4, lifted_by_name = $5
              WHERE county_code = $1 AND id = $2 AND lifted_at IS NULL",
            key.county_code,
            key.id,
            now,
            by,
            by_name
        ))
        .await?;
    Ok(n == 1)
}

// ---- 不是我本人兑换 ----

/// An elder's report that a redemption with their code was not theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ReportRow {
    pub county_code: CountyCode,
    pub id: RedemptionReportId,
    /// The shop's path.
    pub path: String,
    pub redemption_id: RedemptionId,
    pub shop_id: UnitId,
    pub person_id: PersonId,
    pub reported_by: Option<AccountId>,
    pub reported_at: Micros,
    /// Live codes the report voided.
    pub frozen_codes: i64,
    pub state: ReportState,
    pub resolved_by: Option<AccountId>,
    pub resolved_by_name: Option<String>,
    pub resolved_at: Option<Micros>,
    pub note: Option<String>,
    /// The reversing transfer, when confirmed.
    pub reversal_id: Option<TransferId>,
}

const REPORT_COLUMNS: &str = "county_code, id, path, redemption_id, shop_id, person_id, reported_by, \
     reported_at, frozen_codes, state, resolved_by, resolved_by_name, resolved_at, note, reversal_id";

/// Records a report; false if the redemption was reported already.
pub async fn insert_report(exec: &mut Exec<'_>, r: &ReportRow) -> Result<bool> {
    let n = exec
        .execute(q!(
            format!(
                "INSERT INTO redemption_reports ({REPORT_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', NULL, NULL, NULL, NULL, NULL)
                 ON CONFLICT (county_code, redemption_id) DO NOTHING"
            ),
            r.county_code,
            r.id,
            &r.path,
            r.redemption_id,
            r.shop_id,
            r.person_id,
            r.reported_by,
            r.reported_at,
            r.frozen_codes
        ))
        .await?;
    Ok(n == 1)
}

pub async fn report(
    exec: &mut Exec<'_>,
    key: Key<RedemptionReportId>,
) -> Result<Option<ReportRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {REPORT_COLUMNS} FROM redemption_reports WHERE county_code = $1 AND id = $2"
        ),
        key.county_code,
        key.id
    ))
    .await
}

/// A person's reports (few: one per redemption reported), newest first.
pub async fn reports_of_person(
    exec: &mut Exec<'_>,
    person: Key<PersonId>,
) -> Result<Vec<ReportRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {REPORT_COLUMNS} FROM redemption_reports
              WHERE county_code = $1 AND person_id = $2 ORDER BY reported_at DESC, id DESC LIMIT 200"
        ),
        person.county_code,
        person.id
    ))
    .await
}

/// Whether a person has a report the county has not looked at yet.
pub async fn has_open_report(exec: &mut Exec<'_>, person: Key<PersonId>) -> Result<bool> {
    let n: i64 = exec
        .scalar(q!(
            "SELECT COUNT(*) FROM redemption_reports
              WHERE county_code = $1 AND person_id = $2 AND state = 'open'",
            person.county_code,
            person.id
        ))
        .await?;
    Ok(n > 0)
}

/// Reports about shops in scope, open ones first, then newest first (at most `limit`).
pub async fn reports_in_scope(
    exec: &mut Exec<'_>,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<ReportRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "r");
    let l = q.push_arg(limit);
    q.sql = format!(
        "SELECT {} FROM redemption_reports r WHERE {wh}
          ORDER BY CASE WHEN r.state = 'open' THEN 0 ELSE 1 END, r.reported_at DESC, r.id DESC
          LIMIT {l}",
        db::qualified(REPORT_COLUMNS, "r")
    )
    .into();
    exec.fetch_all(q).await
}

/// Records the county's decision on an open report; false if it was decided meanwhile.
#[allow(clippy::too_many_arguments)]
pub async fn resolve_report(
    exec: &mut Exec<'_>,
    key: Key<RedemptionReportId>,
    state: ReportState,
    by: Option<AccountId>,
    by_name: &str,
    now: Micros,
    note: &str,
    reversal_id: Option<TransferId>,
) -> Result<bool> {
    let n = exec
        .execute(q!(
            "UPDATE redemption_reports SET state = $3, resolved_by = $4, resolved_by_name = $5,
                 resolved_at = $6, note = $7, reversal_id = $8
              WHERE county_code = $1 AND id = $2 AND state = 'open'",
            key.county_code,
            key.id,
            state.as_str(),
            by,
            by_name,
            now,
            note,
            reversal_id
        ))
        .await?;
    Ok(n == 1)
}
