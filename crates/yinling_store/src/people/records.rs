//! One person's file: insert, read, visibility, update, home, counts.

use super::*;

pub async fn insert_many(exec: &mut Exec<'_>, people: &[NewPerson]) -> Result<()> {
    for chunk in people.chunks(db::rows_per_statement(22)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        for p in chunk {
            let v = [
                q.push_arg(p.county_code),
                q.push_arg(p.id),
                q.push_arg(&p.path),
                q.push_arg(p.home_unit_id),
                q.push_arg(p.household_id),
                q.push_arg(&p.name),
                q.push_arg(&p.name_initials),
                q.push_arg(&p.name_pinyin),
                q.push_arg(p.gender.as_str()),
                q.push_arg(&p.birth_date),
                q.push_arg(&p.id_enc),
                q.push_arg(&p.id_bidx),
                q.push_arg(&p.id4_bidx),
                q.push_arg(p.phone_enc.as_ref()),
                q.push_arg(p.phone_bidx.as_ref()),
                q.push_arg(p.ethnicity.as_deref()),
                q.push_arg(p.education.as_deref()),
                q.push_arg(p.address.as_deref()),
                q.push_arg(p.status.as_str()),
                q.push_arg(p.note.as_deref()),
                q.push_arg(p.synthetic),
                q.push_arg(p.now),
            ];
            values.push(format!("({}, {})", v.join(", "), v[21]));
        }
        q.sql = format!(
            "INSERT INTO people (county_code, id, path, home_unit_id, household_id, name, name_initials,
                name_pinyin, gender, birth_date, id_enc, id_bidx, id4_bidx, phone_enc, phone_bidx,
                ethnicity, education, address, status, note, synthetic, created_at, updated_at)
             VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn get(exec: &mut Exec<'_>, key: Key<PersonId>) -> Result<Option<PersonRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM people p WHERE p.county_code = $1 AND p.id = $2"),
        key.county_code,
        key.id
    ))
    .await
}

/// Every file holding the ID number whose blind index is `bidx`, in any county of
/// `[lo, hi]`: usually none or one; more while a routed duplicate awaits the county.
pub async fn holders_of_id_bidx(
    exec: &mut Exec<'_>,
    county_lo: i64,
    county_hi: i64,
    bidx: &[u8],
) -> Result<Vec<PersonRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {COLUMNS} FROM people p WHERE p.county_code BETWEEN $1 AND $2 AND p.id_bidx = $3
              ORDER BY p.id"
        ),
        county_lo,
        county_hi,
        bidx
    ))
    .await
}

/// Whether a person is visible in `scope`: by where they live, or through a role they hold
/// in a unit inside the scope (a branch secretary sees the branch's members).
pub async fn visible(exec: &mut Exec<'_>, scope: &Scope, key: Key<PersonId>) -> Result<bool> {
    let mut q = Query::new("", vec![key.county_code.into(), key.id.into()]);
    let home = scope::predicate(&mut q, scope, "p");
    let role = scope::predicate_on(&mut q, scope, "r.unit_county_code", "r.path");
    q.sql = format!(
        "SELECT p.id FROM people p WHERE p.county_code = $1 AND p.id = $2 AND ({home} OR EXISTS (
            SELECT 1 FROM person_roles r WHERE r.county_code = p.county_code
               AND r.person_id = p.id AND {role}))"
    )
    .into();
    Ok(exec.scalar_optional::<i64>(q).await?.is_some())
}

/// Updates a person if `version` still matches (optimistic concurrency: two clerks editing
/// the same file cannot silently overwrite each other).
pub async fn update(
    exec: &mut Exec<'_>,
    key: Key<PersonId>,
    version: i64,
    u: &PersonUpdate,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE people SET name = $4, name_initials = $5, name_pinyin = $6, gender = $7,
                    birth_date = $8, id_enc = $9, id_bidx = $10, id4_bidx = $11, phone_enc = $12,
                    phone_bidx = $13, ethnicity = $14, education = $15, address = $16, status = $17,
                    note = $18, household_id = $19, updated_at = $20, version = version + 1
              WHERE county_code = $1 AND id = $2 AND version = $3",
            key.county_code,
            key.id,
            version,
            &u.name,
            &u.name_initials,
            &u.name_pinyin,
            u.gender.as_str(),
            &u.birth_date,
            &u.id_enc,
            &u.id_bidx,
            &u.id4_bidx,
            u.phone_enc.as_ref(),
            u.phone_bidx.as_ref(),
            u.ethnicity.as_deref(),
            u.education.as_deref(),
            u.address.as_deref(),
            u.status.as_str(),
            u.note.as_deref(),
            u.household_id,
            now
        ))
        .await?;
    if n == 0 {
        Err(StoreError::Stale)
    } else {
        Ok(())
    }
}

/// Moves a person to another home unit in the same county (their tags follow the path).
pub async fn set_home(
    exec: &mut Exec<'_>,
    key: Key<PersonId>,
    home_unit_id: UnitId,
    path: &str,
    household_id: Option<PlaceId>,
    now: Micros,
) -> Result<()> {
    exec.execute(q!(
        "UPDATE people SET home_unit_id = $3, path = $4, household_id = $5, updated_at = $6,
                version = version + 1
          WHERE county_code = $1 AND id = $2",
        key.county_code,
        key.id,
        home_unit_id,
        path,
        household_id,
        now
    ))
    .await?;
    exec.execute(q!(
        "UPDATE person_tags SET path = $3 WHERE county_code = $1 AND person_id = $2",
        key.county_code,
        key.id,
        path
    ))
    .await?;
    Ok(())
}

pub async fn count_in_scope(exec: &mut Exec<'_>, scope: &Scope) -> Result<i64> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "p");
    q.sql = format!("SELECT COUNT(*) FROM people p WHERE {wh}").into();
    exec.scalar(q).await
}

/// How many people the database holds, in every county (benchmarks size their samples by it).
pub async fn count_all(exec: &mut Exec<'_>) -> Result<i64> {
    exec.scalar(q!("SELECT COUNT(*) FROM people")).await
}

/// Up to `limit` people spread over the whole table: those whose id is a multiple of
/// `step` (the search benchmark draws its terms from them).
pub async fn sample_every(exec: &mut Exec<'_>, step: i64, limit: i64) -> Result<Vec<PersonRow>> {
    exec.fetch_all(q!(
        format!("SELECT {COLUMNS} FROM people p WHERE p.id % $2 = 0 LIMIT $1"),
        limit,
        step.max(1)
    ))
    .await
}

/// Up to `limit` people under a path, in id order (for generating demo activity).
pub async fn sample_keys(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    path: &str,
    limit: i64,
) -> Result<Vec<Key<PersonId>>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        county_code: CountyCode,
        id: PersonId,
    }
    Ok(exec
        .fetch_all::<Row>(q!(
            "SELECT county_code, id FROM people WHERE county_code = $1 AND path >= $2 AND path < $3
              ORDER BY id DESC LIMIT $4",
            county_code,
            path,
            format!("{path}~"),
            limit
        ))
        .await?
        .into_iter()
        .map(|r| Key::new(r.county_code, r.id))
        .collect())
}
