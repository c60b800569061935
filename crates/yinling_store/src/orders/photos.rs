//! Completion photos: stored before the step that attaches them, swept when never attached.

use super::*;

pub async fn insert_photo(exec: &mut Exec<'_>, row: &PhotoRow) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO order_photos (county_code, photo_key, order_id, uploaded_by, uploaded_at, attached_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        row.county_code,
        &row.photo_key,
        row.order_id,
        row.uploaded_by,
        row.uploaded_at,
        row.attached_at
    ))
    .await
    .map(|_| ())
}

pub async fn photo(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    key: &str,
) -> Result<Option<PhotoRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {PHOTO_COLUMNS} FROM order_photos WHERE county_code = $1 AND photo_key = $2"
        ),
        county_code,
        key
    ))
    .await
}

/// Holds the order's row until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite's
/// `BEGIN IMMEDIATE` already serialises writers), so a count read after it stays true until
/// the write that depends on it commits.
pub async fn lock_order(exec: &mut Exec<'_>, order: Key<OrderId>) -> Result<()> {
    let lock = db::Lock::Update.clause(exec.is_postgres());
    if !lock.is_empty() {
        exec.scalars::<i64>(q!(
            format!("SELECT id FROM orders WHERE county_code = $1 AND id = $2{lock}"),
            order.county_code,
            order.id
        ))
        .await?;
    }
    Ok(())
}

/// Photos uploaded for an order and not attached to it (yet).
pub async fn unattached_photo_count(exec: &mut Exec<'_>, order: Key<OrderId>) -> Result<i64> {
    exec.scalar(q!(
        "SELECT COUNT(*) FROM order_photos
          WHERE county_code = $1 AND order_id = $2 AND attached_at IS NULL",
        order.county_code,
        order.id
    ))
    .await
}

/// Marks a photo used by the order's completion: only a photo uploaded for this very
/// order and not used before. False (nothing changed) otherwise.
pub async fn attach_photo(
    exec: &mut Exec<'_>,
    order: Key<OrderId>,
    key: &str,
    now: Micros,
) -> Result<bool> {
    Ok(exec
        .execute(q!(
            "UPDATE order_photos SET attached_at = $4
              WHERE county_code = $1 AND photo_key = $2 AND order_id = $3 AND attached_at IS NULL",
            order.county_code,
            key,
            order.id,
            now
        ))
        .await?
        == 1)
}

/// Unattached photos uploaded before `cutoff`, oldest first, across counties.
pub async fn unattached_photos_before(
    exec: &mut Exec<'_>,
    cutoff: Micros,
    limit: i64,
) -> Result<Vec<PhotoRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {PHOTO_COLUMNS} FROM order_photos
              WHERE attached_at IS NULL AND uploaded_at < $1
              ORDER BY uploaded_at, county_code, photo_key LIMIT $2"
        ),
        cutoff,
        limit
    ))
    .await
}

/// Deletes a photo's row if it is still unattached; false if it was attached (or gone)
/// meanwhile, in which case its file must stay.
pub async fn delete_unattached_photo(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    key: &str,
) -> Result<bool> {
    Ok(exec
        .execute(q!(
            "DELETE FROM order_photos WHERE county_code = $1 AND photo_key = $2 AND attached_at IS NULL",
            county_code,
            key
        ))
        .await?
        == 1)
}
