//! Duplicate registrations routed to the county, and their resolution.

use super::*;

/// Records the case and marks the new file as its subject, giving the file the number's
/// blind index (the per-county uniqueness excludes files marked so). Call before writing
/// the number to the file.
pub async fn insert_duplicate(exec: &mut Exec<'_>, d: &NewDuplicate) -> Result<()> {
    exec.execute(q!(
        "UPDATE people SET duplicate_case = $3, id_bidx = $4 WHERE county_code = $1 AND id = $2",
        d.county_code,
        d.person_id,
        d.id,
        &d.id_bidx
    ))
    .await?;
    exec.execute(q!(
        "INSERT INTO person_duplicates (county_code, id, person_id, existing_county_code,
                existing_id, id_bidx, registered_by, registered_by_name, registered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        d.county_code,
        d.id,
        d.person_id,
        d.existing_county_code,
        d.existing_id,
        &d.id_bidx,
        d.registered_by,
        &d.registered_by_name,
        d.registered_at
    ))
    .await?;
    Ok(())
}

/// Cases whose new file lives in `scope`, oldest open first; `status` narrows to one state.
/// A reviewer never sees the cases they registered themselves (`not_registered_by`).
/// The filter of the duplicate queue: cases whose new file lies in `scope`, with `status`,
/// not registered by `not_registered_by` (nobody reviews their own registration).
pub(super) fn duplicates_where(
    q: &mut Query,
    scope: &Scope,
    status: Option<DuplicateStatus>,
    not_registered_by: Option<AccountId>,
) -> String {
    let mut wh = vec![scope::predicate(q, scope, "p")];
    if let Some(s) = status {
        wh.push(format!("d.status = {}", q.push_arg(s.as_str())));
    }
    if let Some(a) = not_registered_by {
        wh.push(format!(
            "(d.registered_by IS NULL OR d.registered_by <> {})",
            q.push_arg(a)
        ));
    }
    wh.join(" AND ")
}

/// How many cases [`list_duplicates`] would list.
pub async fn count_duplicates(
    exec: &mut Exec<'_>,
    scope: &Scope,
    status: Option<DuplicateStatus>,
    not_registered_by: Option<AccountId>,
) -> Result<i64> {
    let mut q = Query::new("", Vec::new());
    let wh = duplicates_where(&mut q, scope, status, not_registered_by);
    q.sql = format!(
        "SELECT COUNT(*) FROM person_duplicates d
           JOIN people p ON p.county_code = d.county_code AND p.id = d.person_id WHERE {wh}"
    )
    .into();
    exec.scalar(q).await
}

pub async fn list_duplicates(
    exec: &mut Exec<'_>,
    scope: &Scope,
    status: Option<DuplicateStatus>,
    not_registered_by: Option<AccountId>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DuplicateRow>, i64)> {
    let total = count_duplicates(exec, scope, status, not_registered_by).await?;
    let mut q = Query::new("", Vec::new());
    let wh = duplicates_where(&mut q, scope, status, not_registered_by);
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "{DUPLICATE_SELECT} WHERE {wh}
          ORDER BY CASE WHEN d.status = 'open' THEN 0 ELSE 1 END, d.registered_at, d.county_code, d.id
          LIMIT {l} OFFSET {o}"
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

pub async fn get_duplicate(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    id: i64,
) -> Result<Option<DuplicateRow>> {
    exec.fetch_optional(q!(
        format!("{DUPLICATE_SELECT} WHERE d.county_code = $1 AND d.id = $2"),
        county_code,
        id
    ))
    .await
}

/// Closes the open case `d` and its new file. Stale when the case has changed since read.
pub async fn resolve_duplicate(
    exec: &mut Exec<'_>,
    d: &DuplicateRow,
    r: &DuplicateResolution<'_>,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE person_duplicates SET status = $4, resolved_by = $5, resolved_by_name = $6,
                    resolved_at = $7, note = $8, version = version + 1
              WHERE county_code = $1 AND id = $2 AND version = $3 AND status = 'open'",
            d.county_code,
            d.id,
            d.version,
            r.status.as_str(),
            r.resolved_by,
            r.resolved_by_name,
            r.now,
            r.note
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::Stale);
    }
    exec.execute(q!(
        "UPDATE people SET status = $3, updated_at = $4, version = version + 1,
                id_bidx = CASE WHEN id_bidx = $5 THEN $6 ELSE id_bidx END
          WHERE county_code = $1 AND id = $2",
        d.county_code,
        d.person_id,
        r.person_status.as_str(),
        r.now,
        &d.id_bidx,
        r.tombstone
    ))
    .await?;
    Ok(())
}
