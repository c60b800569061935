//! Organisation units and grids.

use serde::Serialize;
use yinling_domain::scope::Scope;

use crate::{Exec, Micros, Query, Result, StoreError, db, q, scope};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgUnitRow {
    pub county_code: i64,
    pub id: i64,
    pub parent_county_code: Option<i64>,
    pub parent_id: Option<i64>,
    pub kind: String,
    pub name: String,
    pub code: String,
    pub path: String,
    pub depth: i64,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub synthetic: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
}

const COLUMNS: &str = "county_code, id, parent_county_code, parent_id, kind, name, code, path, depth, \
     region_code, address, lat, lng, synthetic, created_at, updated_at, version";

/// A unit to insert; the id is allocated by the caller (see [`crate::ids`]).
#[derive(Debug, Clone)]
pub struct NewOrgUnit {
    pub county_code: i64,
    pub id: i64,
    pub parent_county_code: Option<i64>,
    pub parent_id: Option<i64>,
    pub kind: String,
    pub name: String,
    pub code: String,
    pub path: String,
    pub depth: i64,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub synthetic: bool,
    pub now: Micros,
}

pub async fn insert_many(exec: &mut Exec<'_>, units: &[NewOrgUnit]) -> Result<()> {
    for chunk in units.chunks(db::rows_per_statement(16)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        for u in chunk {
            let v = [
                q.push_arg(u.county_code),
                q.push_arg(u.id),
                q.push_arg(u.parent_county_code),
                q.push_arg(u.parent_id),
                q.push_arg(&u.kind),
                q.push_arg(&u.name),
                q.push_arg(&u.code),
                q.push_arg(&u.path),
                q.push_arg(u.depth),
                q.push_arg(u.region_code.as_deref()),
                q.push_arg(u.address.as_deref()),
                q.push_arg(u.lat),
                q.push_arg(u.lng),
                q.push_arg(u.synthetic),
                q.push_arg(u.now),
                q.push_arg(u.now),
            ];
            values.push(format!("({}, 1)", v.join(", ")));
        }
        q.sql = format!(
            "INSERT INTO org_units ({COLUMNS}) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn get(exec: &mut Exec<'_>, county_code: i64, id: i64) -> Result<Option<OrgUnitRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM org_units WHERE county_code = $1 AND id = $2"),
        county_code,
        id
    ))
    .await
}

pub async fn get_by_path(
    exec: &mut Exec<'_>,
    county_code: i64,
    path: &str,
) -> Result<Option<OrgUnitRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM org_units WHERE county_code = $1 AND path = $2"),
        county_code,
        path
    ))
    .await
}

/// The unit standing for a division (e.g. the community committee of 370830001001).
pub async fn get_by_region(
    exec: &mut Exec<'_>,
    county_code: i64,
    region_code: &str,
) -> Result<Option<OrgUnitRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {COLUMNS} FROM org_units WHERE county_code = $1 AND region_code = $2 AND code = $2"
        ),
        county_code,
        region_code
    ))
    .await
}

/// Units whose path is one of `paths` (a unit's ancestors, from its path's prefixes).
pub async fn by_paths(exec: &mut Exec<'_>, paths: &[(i64, String)]) -> Result<Vec<OrgUnitRow>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::new("", Vec::new());
    let conds: Vec<String> = paths
        .iter()
        .map(|(c, p)| {
            format!(
                "(county_code = {} AND path = {})",
                q.push_arg(*c),
                q.push_arg(p)
            )
        })
        .collect();
    q.sql = format!(
        "SELECT {COLUMNS} FROM org_units WHERE {} ORDER BY depth",
        conds.join(" OR ")
    )
    .into();
    exec.fetch_all(q).await
}

/// A unit's children with how many units and people each subtree holds, for the tree browser.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildRow {
    pub county_code: i64,
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub path: String,
    pub region_code: Option<String>,
    pub child_count: i64,
}

pub async fn children(exec: &mut Exec<'_>, parent: &OrgUnitRow) -> Result<Vec<ChildRow>> {
    // Children may live in another tenant (a county under the city), so match on the
    // parent's identity, not the child's county.
    exec.fetch_all(q!(
        "SELECT u.county_code, u.id, u.kind, u.name, u.path, u.region_code,
                (SELECT COUNT(*) FROM org_units c
                  WHERE c.parent_county_code = u.county_code AND c.parent_id = u.id
                    AND c.county_code BETWEEN $3 AND $4) AS child_count
           FROM org_units u
          WHERE u.county_code BETWEEN $3 AND $4 AND u.parent_county_code = $1 AND u.parent_id = $2
          ORDER BY u.kind, u.code",
        parent.county_code,
        parent.id,
        parent.county_code,
        tenant_hi(parent)
    ))
    .await
}

/// The highest tenant a unit's subtree can reach: its own county, or for a city (depth 1)
/// every county code of the city (370800..=370899).
fn tenant_hi(u: &OrgUnitRow) -> i64 {
    if u.depth == 1 {
        u.county_code + 99
    } else {
        u.county_code
    }
}

/// Filter for listing units in scope.
#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    pub kind: Option<String>,
    pub name_contains: Option<String>,
}

pub async fn list(
    exec: &mut Exec<'_>,
    scope: &Scope,
    filter: &UnitFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrgUnitRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let mut wh = vec![scope::predicate(&mut q, scope, "u")];
    if let Some(k) = &filter.kind {
        wh.push(format!("u.kind = {}", q.push_arg(k)));
    }
    if let Some(n) = &filter.name_contains {
        wh.push(
            format!(
                "u.name LIKE {}",
                q.push_arg(format!("%{}%", escape_like(n)))
            ) + " ESCAPE '\\'",
        );
    }
    let wh = wh.join(" AND ");
    let mut count_q = q.clone();
    count_q.sql = format!("SELECT COUNT(*) FROM org_units u WHERE {wh}").into();
    let total: i64 = exec.scalar(count_q).await?;
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "SELECT {} FROM org_units u WHERE {wh} ORDER BY u.county_code, u.path LIMIT {l} OFFSET {o}",
        prefixed("u")
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

/// Units of any of `kinds` inside `scope`, in tree order (by county, then path: a unit
/// comes before everything under it), at most `limit` — the choices of a form.
pub async fn of_kinds(
    exec: &mut Exec<'_>,
    scope: &Scope,
    kinds: &[&str],
    limit: i64,
) -> Result<Vec<OrgUnitRow>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "u");
    let kinds: Vec<String> = kinds.iter().map(|k| q.push_arg(*k)).collect();
    let l = q.push_arg(limit);
    q.sql = format!(
        "SELECT {} FROM org_units u WHERE {wh} AND u.kind IN ({}) ORDER BY u.county_code, u.path LIMIT {l}",
        prefixed("u"),
        kinds.join(", ")
    )
    .into();
    exec.fetch_all(q).await
}

fn prefixed(alias: &str) -> String {
    crate::db::qualified(COLUMNS, alias)
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Counts units of each kind in a subtree (for roll-ups and the demo's figures).
pub async fn count_by_kind(exec: &mut Exec<'_>, scope: &Scope) -> Result<Vec<(String, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        kind: String,
        n: i64,
    }
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "u");
    q.sql = format!(
        "SELECT u.kind, COUNT(*) AS n FROM org_units u WHERE {wh} GROUP BY u.kind ORDER BY u.kind"
    )
    .into();
    Ok(exec
        .fetch_all::<Row>(q)
        .await?
        .into_iter()
        .map(|r| (r.kind, r.n))
        .collect())
}

#[derive(Debug, Clone)]
pub struct OrgUnitUpdate {
    pub name: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

/// Updates a unit's own fields if `version` still matches.
pub async fn update(
    exec: &mut Exec<'_>,
    county_code: i64,
    id: i64,
    version: i64,
    u: &OrgUnitUpdate,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE org_units SET name = $4, address = $5, lat = $6, lng = $7, updated_at = $8,
                    version = version + 1
              WHERE county_code = $1 AND id = $2 AND version = $3",
            county_code,
            id,
            version,
            &u.name,
            u.address.as_deref(),
            u.lat,
            u.lng,
            now
        ))
        .await?;
    if n == 0 {
        Err(StoreError::Stale)
    } else {
        Ok(())
    }
}

/// Tables whose rows carry a unit path and move with their subtree.
const PATH_TABLES: &[&str] = &[
    "org_units",
    "places",
    "people",
    "person_roles",
    "person_tags",
    "mediation_cases",
];

/// Moves the subtree at `from` to `to` within one county: every path under it, in every
/// table that carries one, is rewritten by one statement per table.
pub async fn move_subtree(
    exec: &mut Exec<'_>,
    county_code: i64,
    from: &str,
    to: &str,
    depth_delta: i64,
    now: Micros,
) -> Result<u64> {
    let upper = format!("{from}~");
    let mut moved = 0;
    for table in PATH_TABLES {
        let county_col = if *table == "person_roles" {
            "unit_county_code"
        } else {
            "county_code"
        };
        let extra = match *table {
            "org_units" => ", depth = depth + $5, updated_at = $6",
            _ => "",
        };
        let sql = format!(
            "UPDATE {table} SET path = $4 || substr(path, length($2) + 1){extra}
              WHERE {county_col} = $1 AND path >= $2 AND path < $3"
        );
        let query = if extra.is_empty() {
            q!(sql, county_code, from, &upper, to)
        } else {
            q!(sql, county_code, from, &upper, to, depth_delta, now)
        };
        let n = exec.execute(query).await?;
        if *table == "org_units" {
            moved = n;
        }
    }
    exec.execute(q!(
        "UPDATE grants SET path = $4 || substr(path, length($2) + 1)
          WHERE unit_county_code = $1 AND path >= $2 AND path < $3",
        county_code,
        from,
        &upper,
        to
    ))
    .await?;
    exec.execute(q!(
        "UPDATE mediation_mediators SET mediator_path = $4 || substr(mediator_path, length($2) + 1)
          WHERE county_code = $1 AND mediator_path >= $2 AND mediator_path < $3",
        county_code,
        from,
        &upper,
        to
    ))
    .await?;
    Ok(moved)
}

pub async fn set_parent(
    exec: &mut Exec<'_>,
    county_code: i64,
    id: i64,
    parent_county_code: i64,
    parent_id: i64,
    code: &str,
) -> Result<()> {
    exec.execute(q!(
        "UPDATE org_units SET parent_county_code = $3, parent_id = $4, code = $5, version = version + 1
          WHERE county_code = $1 AND id = $2",
        county_code,
        id,
        parent_county_code,
        parent_id,
        code
    ))
    .await?;
    Ok(())
}

pub async fn set_grid_geojson(
    exec: &mut Exec<'_>,
    county_code: i64,
    unit_id: i64,
    geojson: Option<&str>,
) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO grids (county_code, unit_id, geojson) VALUES ($1, $2, $3)
         ON CONFLICT (county_code, unit_id) DO UPDATE SET geojson = excluded.geojson",
        county_code,
        unit_id,
        geojson
    ))
    .await?;
    Ok(())
}

pub async fn grid_geojson(
    exec: &mut Exec<'_>,
    county_code: i64,
    unit_id: i64,
) -> Result<Option<String>> {
    Ok(exec
        .scalar_optional::<Option<String>>(q!(
            "SELECT geojson FROM grids WHERE county_code = $1 AND unit_id = $2",
            county_code,
            unit_id
        ))
        .await?
        .flatten())
}

pub async fn count_all(exec: &mut Exec<'_>) -> Result<i64> {
    exec.scalar(q!("SELECT COUNT(*) FROM org_units")).await
}
