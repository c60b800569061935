//! People (one person, one file), their roles, specialties and household.

use serde::Serialize;
use yinling_domain::scope::Scope;

use crate::{Exec, Micros, Query, Result, StoreError, db, q, scope};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PersonRow {
    pub county_code: i64,
    pub id: i64,
    pub path: String,
    pub home_unit_id: i64,
    pub household_id: Option<i64>,
    pub name: String,
    pub name_initials: String,
    pub name_pinyin: String,
    pub gender: String,
    pub birth_date: String,
    #[serde(skip)]
    pub id_enc: Vec<u8>,
    #[serde(skip)]
    pub phone_enc: Option<Vec<u8>>,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub address: Option<String>,
    pub status: String,
    pub note: Option<String>,
    pub synthetic: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
}

const COLUMNS: &str = "p.county_code, p.id, p.path, p.home_unit_id, p.household_id, p.name, \
     p.name_initials, p.name_pinyin, p.gender, p.birth_date, p.id_enc, p.phone_enc, p.ethnicity, \
     p.education, p.address, p.status, p.note, p.synthetic, p.created_at, p.updated_at, p.version";

/// A person to insert, with sensitive fields already sealed and blind-indexed.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub county_code: i64,
    pub id: i64,
    pub path: String,
    pub home_unit_id: i64,
    pub household_id: Option<i64>,
    pub name: String,
    pub name_initials: String,
    pub name_pinyin: String,
    pub gender: String,
    pub birth_date: String,
    pub id_enc: Vec<u8>,
    pub id_bidx: Vec<u8>,
    pub id4_bidx: Vec<u8>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_bidx: Option<Vec<u8>>,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub address: Option<String>,
    pub status: String,
    pub note: Option<String>,
    pub synthetic: bool,
    pub now: Micros,
}

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
                q.push_arg(&p.gender),
                q.push_arg(&p.birth_date),
                q.push_arg(&p.id_enc),
                q.push_arg(&p.id_bidx),
                q.push_arg(&p.id4_bidx),
                q.push_arg(p.phone_enc.as_ref()),
                q.push_arg(p.phone_bidx.as_ref()),
                q.push_arg(p.ethnicity.as_deref()),
                q.push_arg(p.education.as_deref()),
                q.push_arg(p.address.as_deref()),
                q.push_arg(&p.status),
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

pub async fn get(exec: &mut Exec<'_>, county_code: i64, id: i64) -> Result<Option<PersonRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM people p WHERE p.county_code = $1 AND p.id = $2"),
        county_code,
        id
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
pub async fn visible(
    exec: &mut Exec<'_>,
    scope: &Scope,
    county_code: i64,
    id: i64,
) -> Result<bool> {
    let mut q = Query::new("", vec![county_code.into(), id.into()]);
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

/// What a search can match on. A name matches as a prefix (张 finds 张三丰); see
/// [`SearchTerm::Letters`] for initials and pinyin; the blind indexes match whole.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchTerm {
    Name(String),
    /// Pinyin initials ("zsf") or full pinyin ("zhangsanfeng"), both tried. Initials and a
    /// short pinyin must match whole; a pinyin of five letters or more may be a prefix
    /// ("zhangsan"). A prefix as short as "li" would match a tenth of the city.
    Letters(String),
    IdLast4Bidx(Vec<u8>),
    IdBidx(Vec<u8>),
    PhoneBidx(Vec<u8>),
}

#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    pub term: Option<SearchTerm>,
    pub status: Option<String>,
    pub role_kind: Option<String>,
    pub tag_id: Option<i64>,
    pub gender: Option<String>,
    /// Born on or before this date ("age at least").
    pub born_on_or_before: Option<String>,
    /// Born on or after this date ("age at most").
    pub born_on_or_after: Option<String>,
}

/// A row of the people list, with the home unit's name.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PersonListRow {
    pub county_code: i64,
    pub id: i64,
    pub path: String,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    #[serde(skip)]
    pub id_enc: Vec<u8>,
    #[serde(skip)]
    pub phone_enc: Option<Vec<u8>>,
    pub status: String,
    pub unit_name: Option<String>,
    pub household_label: Option<String>,
}

/// Counting stops here: beyond it a list says "10000+" instead of scanning everything.
pub const COUNT_CAP: i64 = 10_000;

/// Lists people visible in `scope` (by where they live) matching `filter`, ordered by
/// place then name. Returns the page and the total, capped at [`COUNT_CAP`] + 1.
pub async fn search(
    exec: &mut Exec<'_>,
    scope: &Scope,
    filter: &PersonFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PersonListRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let mut wh = vec![scope::predicate(&mut q, scope, "p")];
    // A search term is looked up first, on its own index, in each county of the scope; the
    // scope and the other filters then apply to those few candidates. Given the term and the
    // scope's path range in one WHERE, a planner may prefer walking the path range, which for
    // a county or city scope is everyone; the LIMIT keeps SQLite from flattening the
    // candidate list back into such a plan.
    let mut from = "people p".to_owned();
    if let Some(term) = &filter.term {
        let tenants = scope::tenants(&mut q, scope, "c.county_code");
        let key = |cond: &str| {
            format!("SELECT c.county_code, c.id FROM people c WHERE {tenants} AND {cond}")
        };
        let candidates = match term {
            SearchTerm::Name(n) => {
                let (a, b) = (q.push_arg(n), q.push_arg(format!("{n}\u{10FFFF}")));
                key(&format!("c.name >= {a} AND c.name < {b}"))
            }
            SearchTerm::Letters(l) => {
                let a = q.push_arg(l);
                let pinyin = if l.len() >= 5 {
                    let b = q.push_arg(format!("{l}~"));
                    format!("c.name_pinyin >= {a} AND c.name_pinyin < {b}")
                } else {
                    format!("c.name_pinyin = {a}")
                };
                format!(
                    "{} UNION {}",
                    key(&format!("c.name_initials = {a}")),
                    key(&pinyin)
                )
            }
            SearchTerm::IdLast4Bidx(b) => {
                let a = q.push_arg(b);
                key(&format!("c.id4_bidx = {a}"))
            }
            SearchTerm::IdBidx(b) => {
                let a = q.push_arg(b);
                key(&format!("c.id_bidx = {a}"))
            }
            SearchTerm::PhoneBidx(b) => {
                let a = q.push_arg(b);
                key(&format!("c.phone_bidx = {a}"))
            }
        };
        from = format!(
            "(SELECT k.county_code, k.id FROM ({candidates}) k LIMIT 100000000) k
             JOIN people p ON p.county_code = k.county_code AND p.id = k.id"
        );
    }
    if let Some(s) = &filter.status {
        wh.push(format!("p.status = {}", q.push_arg(s)));
    }
    if let Some(g) = &filter.gender {
        wh.push(format!("p.gender = {}", q.push_arg(g)));
    }
    if let Some(d) = &filter.born_on_or_before {
        wh.push(format!("p.birth_date <= {}", q.push_arg(d)));
    }
    if let Some(d) = &filter.born_on_or_after {
        wh.push(format!("p.birth_date >= {}", q.push_arg(d)));
    }
    if let Some(k) = &filter.role_kind {
        wh.push(format!(
            "EXISTS (SELECT 1 FROM person_roles r WHERE r.county_code = p.county_code AND r.person_id = p.id AND r.kind = {})",
            q.push_arg(k)
        ));
    }
    if let Some(t) = filter.tag_id {
        wh.push(format!(
            "EXISTS (SELECT 1 FROM person_tags t WHERE t.county_code = p.county_code AND t.person_id = p.id
               AND t.tag_id = {} AND t.revoked_at IS NULL)",
            q.push_arg(t)
        ));
    }
    let wh = wh.join(" AND ");
    let mut count_q = q.clone();
    let cap = count_q.push_arg(COUNT_CAP + 1);
    count_q.sql =
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM {from} WHERE {wh} LIMIT {cap}) c").into();
    let total: i64 = exec.scalar(count_q).await?;
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "SELECT p.county_code, p.id, p.path, p.name, p.gender, p.birth_date, p.id_enc, p.phone_enc,
                p.status, u.name AS unit_name, h.label AS household_label
                      FROM {from}
           LEFT JOIN org_units u ON u.county_code = p.county_code AND u.id = p.home_unit_id
           LEFT JOIN places h ON h.county_code = p.county_code AND h.id = p.household_id
          WHERE {wh}
          ORDER BY p.county_code, p.path, p.name_pinyin, p.id
          LIMIT {l} OFFSET {o}"
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

/// Everyone visible in `scope` matching `filter`, in list order, for exports; at most `max`.
pub async fn export_rows(
    exec: &mut Exec<'_>,
    scope: &Scope,
    filter: &PersonFilter,
    max: i64,
) -> Result<Vec<PersonListRow>> {
    search(exec, scope, filter, max, 0)
        .await
        .map(|(rows, _)| rows)
}

#[derive(Debug, Clone)]
pub struct PersonUpdate {
    pub name: String,
    pub name_initials: String,
    pub name_pinyin: String,
    pub gender: String,
    pub birth_date: String,
    pub id_enc: Vec<u8>,
    pub id_bidx: Vec<u8>,
    pub id4_bidx: Vec<u8>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_bidx: Option<Vec<u8>>,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub address: Option<String>,
    pub status: String,
    pub note: Option<String>,
    pub household_id: Option<i64>,
}

/// Updates a person if `version` still matches (optimistic concurrency: two clerks editing
/// the same file cannot silently overwrite each other).
pub async fn update(
    exec: &mut Exec<'_>,
    county_code: i64,
    id: i64,
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
            county_code,
            id,
            version,
            &u.name,
            &u.name_initials,
            &u.name_pinyin,
            &u.gender,
            &u.birth_date,
            &u.id_enc,
            &u.id_bidx,
            &u.id4_bidx,
            u.phone_enc.as_ref(),
            u.phone_bidx.as_ref(),
            u.ethnicity.as_deref(),
            u.education.as_deref(),
            u.address.as_deref(),
            &u.status,
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
    county_code: i64,
    id: i64,
    home_unit_id: i64,
    path: &str,
    household_id: Option<i64>,
    now: Micros,
) -> Result<()> {
    exec.execute(q!(
        "UPDATE people SET home_unit_id = $3, path = $4, household_id = $5, updated_at = $6,
                version = version + 1
          WHERE county_code = $1 AND id = $2",
        county_code,
        id,
        home_unit_id,
        path,
        household_id,
        now
    ))
    .await?;
    exec.execute(q!(
        "UPDATE person_tags SET path = $3 WHERE county_code = $1 AND person_id = $2",
        county_code,
        id,
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

// ---- roles ----

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RoleRow {
    pub county_code: i64,
    pub id: i64,
    pub person_id: i64,
    pub kind: String,
    pub unit_county_code: Option<i64>,
    pub unit_id: Option<i64>,
    pub path: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub details: String,
    pub unit_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewRole {
    pub county_code: i64,
    pub id: i64,
    pub person_id: i64,
    pub kind: String,
    pub unit_county_code: Option<i64>,
    pub unit_id: Option<i64>,
    pub path: Option<String>,
    pub since: Option<String>,
    pub details: String,
    pub now: Micros,
}

pub async fn insert_roles(exec: &mut Exec<'_>, roles: &[NewRole]) -> Result<()> {
    for chunk in roles.chunks(db::rows_per_statement(10)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        for r in chunk {
            let v = [
                q.push_arg(r.county_code),
                q.push_arg(r.id),
                q.push_arg(r.person_id),
                q.push_arg(&r.kind),
                q.push_arg(r.unit_county_code),
                q.push_arg(r.unit_id),
                q.push_arg(r.path.as_deref()),
                q.push_arg(r.since.as_deref()),
                q.push_arg(&r.details),
                q.push_arg(r.now),
            ];
            values.push(format!("({}, {})", v.join(", "), v[9]));
        }
        q.sql = format!(
            "INSERT INTO person_roles (county_code, id, person_id, kind, unit_county_code, unit_id, path,
                since, details, created_at, updated_at) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn roles_of(
    exec: &mut Exec<'_>,
    county_code: i64,
    person_id: i64,
) -> Result<Vec<RoleRow>> {
    exec.fetch_all(q!(
        "SELECT r.county_code, r.id, r.person_id, r.kind, r.unit_county_code, r.unit_id, r.path,
                r.since, r.until, r.details, u.name AS unit_name
           FROM person_roles r
           LEFT JOIN org_units u ON u.county_code = r.unit_county_code AND u.id = r.unit_id
          WHERE r.county_code = $1 AND r.person_id = $2
          ORDER BY r.kind, r.id",
        county_code,
        person_id
    ))
    .await
}

pub async fn delete_role(
    exec: &mut Exec<'_>,
    county_code: i64,
    person_id: i64,
    role_id: i64,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "DELETE FROM person_roles WHERE county_code = $1 AND person_id = $2 AND id = $3",
            county_code,
            person_id,
            role_id
        ))
        .await?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A unit's roster: people holding a role in units of `scope`, with the role.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RosterRow {
    pub county_code: i64,
    pub person_id: i64,
    /// Where the person lives (whether the caller may see the full birth date).
    pub path: String,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub kind: String,
    pub unit_name: Option<String>,
    pub details: String,
}

pub async fn roster(
    exec: &mut Exec<'_>,
    scope: &Scope,
    kind: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RosterRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let mut wh = vec![scope::predicate_on(
        &mut q,
        scope,
        "r.county_code",
        "r.path",
    )];
    if let Some(k) = kind {
        wh.push(format!("r.kind = {}", q.push_arg(k)));
    }
    let wh = wh.join(" AND ");
    let mut count_q = q.clone();
    count_q.sql = format!("SELECT COUNT(*) FROM person_roles r WHERE {wh}").into();
    let total = exec.scalar(count_q).await?;
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "SELECT r.county_code, r.person_id, p.path, p.name, p.gender, p.birth_date, r.kind,
                u.name AS unit_name, r.details
           FROM person_roles r
           JOIN people p ON p.county_code = r.county_code AND p.id = r.person_id
           LEFT JOIN org_units u ON u.county_code = r.unit_county_code AND u.id = r.unit_id
          WHERE {wh}
          ORDER BY r.county_code, r.path, r.kind, p.name_pinyin, p.id
          LIMIT {l} OFFSET {o}"
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

/// Counts role holders by kind in scope (people by where they live).
pub async fn count_roles_by_kind(exec: &mut Exec<'_>, scope: &Scope) -> Result<Vec<(String, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        kind: String,
        n: i64,
    }
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "p");
    q.sql = format!(
        "SELECT r.kind, COUNT(*) AS n FROM person_roles r
           JOIN people p ON p.county_code = r.county_code AND p.id = r.person_id
          WHERE {wh} GROUP BY r.kind ORDER BY r.kind"
    )
    .into();
    Ok(exec
        .fetch_all::<Row>(q)
        .await?
        .into_iter()
        .map(|r| (r.kind, r.n))
        .collect())
}

// ---- skills ----

pub async fn skills_of(
    exec: &mut Exec<'_>,
    county_code: i64,
    person_id: i64,
) -> Result<Vec<String>> {
    exec.scalars(q!(
        "SELECT skill FROM person_skills WHERE county_code = $1 AND person_id = $2 ORDER BY skill",
        county_code,
        person_id
    ))
    .await
}

/// Replaces a person's specialties with `skills`.
pub async fn set_skills(
    exec: &mut Exec<'_>,
    county_code: i64,
    person_id: i64,
    skills: &[String],
) -> Result<()> {
    exec.execute(q!(
        "DELETE FROM person_skills WHERE county_code = $1 AND person_id = $2",
        county_code,
        person_id
    ))
    .await?;
    insert_skills(
        exec,
        &skills
            .iter()
            .map(|s| (county_code, person_id, s.clone()))
            .collect::<Vec<_>>(),
    )
    .await
}

pub async fn insert_skills(exec: &mut Exec<'_>, rows: &[(i64, i64, String)]) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(3)) {
        let mut q = Query::new("", Vec::new());
        let values: Vec<String> = chunk
            .iter()
            .map(|(c, p, s)| {
                format!(
                    "({}, {}, {})",
                    q.push_arg(*c),
                    q.push_arg(*p),
                    q.push_arg(s)
                )
            })
            .collect();
        q.sql = format!(
            "INSERT INTO person_skills (county_code, person_id, skill) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

/// Up to `limit` people under a path, in id order (for generating demo activity).
pub async fn sample_keys(
    exec: &mut Exec<'_>,
    county_code: i64,
    path: &str,
    limit: i64,
) -> Result<Vec<(i64, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        county_code: i64,
        id: i64,
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
        .map(|r| (r.county_code, r.id))
        .collect())
}

// ---- duplicate registrations routed to the county ----

/// A registration whose ID number another file already held, for the county to review.
#[derive(Debug, Clone)]
pub struct NewDuplicate {
    pub county_code: i64,
    pub id: i64,
    pub person_id: i64,
    pub existing_county_code: i64,
    pub existing_id: i64,
    pub id_bidx: Vec<u8>,
    pub registered_by: Option<i64>,
    pub registered_by_name: String,
    pub registered_at: Micros,
}

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

/// A case with both files' names and places, for the county's review list.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DuplicateRow {
    pub county_code: i64,
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub person_path: String,
    pub person_unit: Option<String>,
    pub existing_county_code: i64,
    pub existing_id: i64,
    pub existing_name: String,
    pub existing_path: String,
    pub existing_unit: Option<String>,
    /// What the review page shows of each file, masked by the caller: gender, birth date,
    /// status, the sealed numbers.
    pub person_gender: String,
    pub person_birth_date: String,
    pub person_status: String,
    #[serde(skip)]
    pub person_id_enc: Vec<u8>,
    #[serde(skip)]
    pub person_phone_enc: Option<Vec<u8>>,
    pub existing_gender: String,
    pub existing_birth_date: String,
    pub existing_status: String,
    #[serde(skip)]
    pub existing_id_enc: Vec<u8>,
    #[serde(skip)]
    pub existing_phone_enc: Option<Vec<u8>>,
    #[serde(skip)]
    pub id_bidx: Vec<u8>,
    pub registered_by: Option<i64>,
    pub registered_by_name: String,
    pub registered_at: Micros,
    pub status: String,
    pub resolved_by_name: Option<String>,
    pub resolved_at: Option<Micros>,
    pub note: Option<String>,
    pub version: i64,
}

const DUPLICATE_SELECT: &str = "SELECT d.county_code, d.id, d.person_id, p.name AS person_name,
        p.path AS person_path, pu.name AS person_unit, d.existing_county_code, d.existing_id,
        e.name AS existing_name, e.path AS existing_path, eu.name AS existing_unit,
        p.gender AS person_gender, p.birth_date AS person_birth_date, p.status AS person_status,
        p.id_enc AS person_id_enc, p.phone_enc AS person_phone_enc,
        e.gender AS existing_gender, e.birth_date AS existing_birth_date,
        e.status AS existing_status, e.id_enc AS existing_id_enc,
        e.phone_enc AS existing_phone_enc, d.id_bidx,
        d.registered_by, d.registered_by_name, d.registered_at, d.status, d.resolved_by_name,
        d.resolved_at, d.note, d.version
   FROM person_duplicates d
   JOIN people p ON p.county_code = d.county_code AND p.id = d.person_id
   JOIN people e ON e.county_code = d.existing_county_code AND e.id = d.existing_id
   LEFT JOIN org_units pu ON pu.county_code = p.county_code AND pu.id = p.home_unit_id
   LEFT JOIN org_units eu ON eu.county_code = e.county_code AND eu.id = e.home_unit_id";

/// Cases whose new file lives in `scope`, oldest open first; `status` narrows to one state.
/// A reviewer never sees the cases they registered themselves (`not_registered_by`).
/// The filter of the duplicate queue: cases whose new file lies in `scope`, with `status`,
/// not registered by `not_registered_by` (nobody reviews their own registration).
fn duplicates_where(
    q: &mut Query,
    scope: &Scope,
    status: Option<&str>,
    not_registered_by: Option<i64>,
) -> String {
    let mut wh = vec![scope::predicate(q, scope, "p")];
    if let Some(s) = status {
        wh.push(format!("d.status = {}", q.push_arg(s)));
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
    status: Option<&str>,
    not_registered_by: Option<i64>,
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
    status: Option<&str>,
    not_registered_by: Option<i64>,
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
    county_code: i64,
    id: i64,
) -> Result<Option<DuplicateRow>> {
    exec.fetch_optional(q!(
        format!("{DUPLICATE_SELECT} WHERE d.county_code = $1 AND d.id = $2"),
        county_code,
        id
    ))
    .await
}

/// What closing a case writes.
#[derive(Debug, Clone)]
pub struct DuplicateResolution<'a> {
    /// `merged` or `rejected`.
    pub status: &'a str,
    /// What the new file becomes (`merged`, `voided`).
    pub person_status: &'a str,
    pub resolved_by: Option<i64>,
    pub resolved_by_name: &'a str,
    pub note: Option<&'a str>,
    /// Replaces the number's blind index on the new file, if it still holds it, so the file
    /// no longer counts as a holder of the number.
    pub tombstone: &'a [u8],
    pub now: Micros,
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
            r.status,
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
        r.person_status,
        r.now,
        &d.id_bidx,
        r.tombstone
    ))
    .await?;
    Ok(())
}
