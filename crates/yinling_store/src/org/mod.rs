//! Organisation units and grids.

pub mod places;
pub mod regions;

use std::collections::BTreeMap;

use serde::Serialize;
use yinling_domain::{
    ids::{Key, UnitId},
    org::OrgKind,
    region::CountyCode,
    scope::Scope,
};

use crate::{Exec, Micros, Query, Result, StoreError, db, kernel::scope, q};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OrgUnitRow {
    pub county_code: CountyCode,
    pub id: UnitId,
    pub parent_county_code: Option<CountyCode>,
    pub parent_id: Option<UnitId>,
    pub kind: OrgKind,
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

/// A unit to insert; the id is allocated by the caller (see [`crate::kernel::ids`]).
#[derive(Debug, Clone)]
pub struct NewOrgUnit {
    pub county_code: CountyCode,
    pub id: UnitId,
    pub parent_county_code: Option<CountyCode>,
    pub parent_id: Option<UnitId>,
    pub kind: OrgKind,
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
                q.push_arg(u.kind.as_str()),
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

pub async fn get(exec: &mut Exec<'_>, key: Key<UnitId>) -> Result<Option<OrgUnitRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM org_units WHERE county_code = $1 AND id = $2"),
        key.county_code,
        key.id
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
pub struct ChildRow {
    pub county_code: CountyCode,
    pub id: UnitId,
    pub kind: OrgKind,
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
        u.county_code.as_i64() + 99
    } else {
        u.county_code.as_i64()
    }
}

/// Filter for listing units in scope.
#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    pub kind: Option<OrgKind>,
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
        wh.push(format!("u.kind = {}", q.push_arg(k.as_str())));
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
    kinds: &[OrgKind],
    limit: i64,
) -> Result<Vec<OrgUnitRow>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "u");
    let kinds: Vec<String> = kinds.iter().map(|k| q.push_arg(k.as_str())).collect();
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
pub async fn count_by_kind(exec: &mut Exec<'_>, scope: &Scope) -> Result<Vec<(OrgKind, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        kind: OrgKind,
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
    key: Key<UnitId>,
    version: i64,
    u: &OrgUnitUpdate,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE org_units SET name = $4, address = $5, lat = $6, lng = $7, updated_at = $8,
                    version = version + 1
              WHERE county_code = $1 AND id = $2 AND version = $3",
            key.county_code,
            key.id,
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

/// How a column carries organisation paths (see [`path_columns`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathShape {
    /// One path: a column named `path` or ending in `_path`.
    One,
    /// A JSON array of paths: a column ending in `_paths`.
    List,
    /// One path that is always an ancestor (a prefix) of the same row's `path`. Inside the
    /// moved subtree it moves like [`PathShape::One`]; above it, it is re-pointed at the unit
    /// on the same level above the row's new path (the new parent at most).
    AncestorOfPath,
}

/// A column that holds organisation paths, found in the schema by [`path_columns`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathColumn {
    pub table: String,
    pub column: String,
    pub shape: PathShape,
    /// The column holding the tenant of the unit the path names, used to narrow the
    /// rewrite to the moved county's rows through the table's `(county_code, path…)`
    /// index: `unit_county_code` where a row's own county may differ from its unit's
    /// (person roles, grants), otherwise `county_code`; `None` when the table has neither.
    pub county_column: Option<&'static str>,
}

/// Columns that hold organisation paths but whose names do not follow the rule of
/// [`path_shape`], each with why it keeps its name. Renaming them would touch the resource
/// list's forms, API fields and matching, or the orders module, for no gain in safety: they
/// are listed here, and the app's move test finds any path left behind in any text column.
pub const PATH_COLUMN_EXCEPTIONS: &[(&str, &str, PathShape, &str)] = &[
    (
        "providers",
        "areas",
        PathShape::List,
        "the areas a provider serves, a JSON array of paths named before the rule",
    ),
    (
        "orders",
        "escalated_to",
        PathShape::AncestorOfPath,
        "the unit an overdue order was escalated to, always above the order's own path",
    ),
];

/// The naming rule: a column named `path` or ending in `_path` holds one organisation path;
/// one ending in `_paths` holds a JSON array of them. Nothing else may hold a path except
/// the columns of [`PATH_COLUMN_EXCEPTIONS`].
pub fn path_shape(column: &str) -> Option<PathShape> {
    if column == "path" || column.ends_with("_path") {
        Some(PathShape::One)
    } else if column.ends_with("_paths") {
        Some(PathShape::List)
    } else {
        None
    }
}

/// Every table of the database with its columns, in declaration order, read from the
/// catalogue (SQLite: `pragma_table_info` over `sqlite_master`; PostgreSQL:
/// `information_schema.columns` of the current schema).
pub async fn schema_columns(exec: &mut Exec<'_>) -> Result<BTreeMap<String, Vec<String>>> {
    #[derive(sqlx::FromRow)]
    struct Col {
        table_name: String,
        column_name: String,
    }
    let sql = if exec.is_postgres() {
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name
           FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
          ORDER BY c.table_name, c.ordinal_position"
    } else {
        "SELECT m.name AS table_name, p.name AS column_name
           FROM sqlite_master m, pragma_table_info(m.name) p
          WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite!_%' ESCAPE '!'
          ORDER BY m.name, p.cid"
    };
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in exec.fetch_all::<Col>(q!(sql)).await? {
        out.entry(c.table_name).or_default().push(c.column_name);
    }
    Ok(out)
}

/// The path-bearing columns of a schema: those the naming rule finds, and the listed
/// exceptions present in it. Tables in name order, columns in declaration order.
pub fn path_columns(schema: &BTreeMap<String, Vec<String>>) -> Vec<PathColumn> {
    let mut out = Vec::new();
    for (table, columns) in schema {
        let county_column = if columns.iter().any(|c| c == "unit_county_code") {
            Some("unit_county_code")
        } else if columns.iter().any(|c| c == "county_code") {
            Some("county_code")
        } else {
            None
        };
        for column in columns {
            let shape = path_shape(column).or_else(|| {
                PATH_COLUMN_EXCEPTIONS
                    .iter()
                    .find(|(t, c, _, _)| t == table && c == column)
                    .map(|(_, _, shape, _)| *shape)
            });
            if let Some(shape) = shape {
                out.push(PathColumn {
                    table: table.clone(),
                    column: column.clone(),
                    shape,
                    county_column,
                });
            }
        }
    }
    out
}

/// The first `k` segments of a path (`k` ≥ 1), with their slashes.
fn first_segments(path: &str, k: usize) -> &str {
    match k
        .checked_sub(1)
        .and_then(|n| path.match_indices('/').nth(n))
    {
        Some((i, _)) => &path[..=i],
        None => path,
    }
}

/// What a move rewrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    /// Units moved: the unit and every unit under it.
    pub units: u64,
    /// Rows rewritten per path column: (table, column, rows).
    pub columns: Vec<(String, String, u64)>,
    /// Providers with a path in the subtree, whose change the matching caches re-read.
    pub providers: Vec<i64>,
}

impl Moved {
    /// Rows rewritten in all tables.
    pub fn rows(&self) -> u64 {
        self.columns.iter().map(|(_, _, n)| n).sum()
    }
}

/// Moves the subtree at `from` to `to` within one county: every path under it, in every
/// column of every table that holds one ([`path_columns`], read from the schema at each
/// move), is rewritten — one statement per column, in the caller's transaction. A unit's
/// `depth` follows its `path`; a rewritten row's `updated_at` becomes `now`. Providers
/// whose paths moved are logged for the matching caches (`provider_changes`).
///
/// Append-only history (audit events, ledger transfers) carries no path column: if one
/// ever did, its trigger would refuse this rewrite and the move would fail, so the choice
/// between moving it and keeping the path it was written with cannot be missed.
pub async fn move_subtree(
    exec: &mut Exec<'_>,
    county_code: i64,
    from: &str,
    to: &str,
    depth_delta: i64,
    now: Micros,
) -> Result<Moved> {
    let schema = schema_columns(exec).await?;
    let columns = path_columns(&schema);
    let has = |table: &str, column: &str| {
        schema
            .get(table)
            .is_some_and(|cs| cs.iter().any(|c| c == column))
    };
    let upper = format!("{from}~");
    let mut moved = Moved::default();

    // Providers with any path in the subtree, before it moves: the matching pool re-reads them.
    let mut q = Query::new("", Vec::new());
    let conds: Vec<String> = columns
        .iter()
        .filter(|c| c.table == "providers")
        .map(|c| match c.shape {
            PathShape::List => format!("{} LIKE {}", c.column, q.push_arg(format!("%\"{from}%"))),
            _ => format!(
                "({col} >= {} AND {col} < {})",
                q.push_arg(from),
                q.push_arg(&upper),
                col = c.column
            ),
        })
        .collect();
    if !conds.is_empty() {
        q.sql = format!(
            "SELECT id FROM providers WHERE county_code = {} AND ({}) ORDER BY id",
            q.push_arg(county_code),
            conds.join(" OR ")
        )
        .into();
        moved.providers = exec.scalars(q).await?;
    }

    for c in &columns {
        let mut q = Query::new("", Vec::new());
        let col = &c.column;
        let (set, mut wh) = match c.shape {
            PathShape::One | PathShape::AncestorOfPath => (
                format!(
                    "{col} = {} || substr({col}, length({}) + 1)",
                    q.push_arg(to),
                    q.push_arg(from)
                ),
                vec![format!(
                    "{col} >= {} AND {col} < {}",
                    q.push_arg(from),
                    q.push_arg(&upper)
                )],
            ),
            PathShape::List => (
                format!(
                    "{col} = replace({col}, {}, {})",
                    q.push_arg(format!("\"{from}")),
                    q.push_arg(format!("\"{to}"))
                ),
                vec![format!("{col} LIKE {}", q.push_arg(format!("%\"{from}%")))],
            ),
        };
        let mut sets = vec![set];
        if col == "path" && has(&c.table, "depth") {
            sets.push(format!("depth = depth + {}", q.push_arg(depth_delta)));
        }
        if has(&c.table, "updated_at") {
            sets.push(format!("updated_at = {}", q.push_arg(now)));
        }
        if let Some(cc) = c.county_column {
            wh.insert(0, format!("{cc} = {}", q.push_arg(county_code)));
        }
        q.sql = format!(
            "UPDATE {} SET {} WHERE {}",
            c.table,
            sets.join(", "),
            wh.join(" AND ")
        )
        .into();
        let n = exec.execute(q).await?;
        if c.table == "org_units" && col == "path" {
            moved.units = n;
        }
        moved.columns.push((c.table.clone(), col.clone(), n));
    }

    // Paths above the subtree that stood for a level above a moved row: the same level
    // above its new place (the new parent at most).
    let from_depth = from.matches('/').count();
    let to_depth = to.matches('/').count();
    let remap: Vec<(&str, &str)> = (1..from_depth)
        .map(|k| {
            (
                first_segments(from, k),
                first_segments(to, k.min(to_depth.saturating_sub(1)).max(1)),
            )
        })
        .filter(|(old, new)| old != new)
        .collect();
    for c in columns
        .iter()
        .filter(|c| c.shape == PathShape::AncestorOfPath && !remap.is_empty())
    {
        let mut q = Query::new("", Vec::new());
        let col = &c.column;
        let whens: Vec<String> = remap
            .iter()
            .map(|(old, new)| format!("WHEN {} THEN {}", q.push_arg(*old), q.push_arg(*new)))
            .collect();
        let olds: Vec<String> = remap.iter().map(|(old, _)| q.push_arg(*old)).collect();
        let mut sets = vec![format!(
            "{col} = CASE {col} {} ELSE {col} END",
            whens.join(" ")
        )];
        if has(&c.table, "updated_at") {
            sets.push(format!("updated_at = {}", q.push_arg(now)));
        }
        let mut wh = vec![
            format!(
                "path >= {} AND path < {}",
                q.push_arg(to),
                q.push_arg(format!("{to}~"))
            ),
            format!("{col} IN ({})", olds.join(", ")),
        ];
        if let Some(cc) = c.county_column {
            wh.insert(0, format!("{cc} = {}", q.push_arg(county_code)));
        }
        q.sql = format!(
            "UPDATE {} SET {} WHERE {}",
            c.table,
            sets.join(", "),
            wh.join(" AND ")
        )
        .into();
        let n = exec.execute(q).await?;
        if let Some(entry) = moved
            .columns
            .iter_mut()
            .find(|(t, cl, _)| *t == c.table && cl == col)
        {
            entry.2 += n;
        }
    }

    if !moved.providers.is_empty() {
        let county = yinling_domain::region::CountyCode::from_i64(county_code)
            .map_err(|e| StoreError::Internal(format!("county code {county_code}: {e}")))?;
        let ids: Vec<yinling_domain::ids::ProviderId> = moved
            .providers
            .iter()
            .map(|&id| yinling_domain::ids::ProviderId(id))
            .collect();
        crate::services::bump_providers(exec, county, &ids).await?;
    }
    Ok(moved)
}

pub async fn set_parent(
    exec: &mut Exec<'_>,
    unit: Key<UnitId>,
    parent: Key<UnitId>,
    code: &str,
) -> Result<()> {
    exec.execute(q!(
        "UPDATE org_units SET parent_county_code = $3, parent_id = $4, code = $5, version = version + 1
          WHERE county_code = $1 AND id = $2",
        unit.county_code,
        unit.id,
        parent.county_code,
        parent.id,
        code
    ))
    .await?;
    Ok(())
}

pub async fn set_grid_geojson(
    exec: &mut Exec<'_>,
    unit: Key<UnitId>,
    geojson: Option<&str>,
) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO grids (county_code, unit_id, geojson) VALUES ($1, $2, $3)
         ON CONFLICT (county_code, unit_id) DO UPDATE SET geojson = excluded.geojson",
        unit.county_code,
        unit.id,
        geojson
    ))
    .await?;
    Ok(())
}

pub async fn grid_geojson(exec: &mut Exec<'_>, unit: Key<UnitId>) -> Result<Option<String>> {
    Ok(exec
        .scalar_optional::<Option<String>>(q!(
            "SELECT geojson FROM grids WHERE county_code = $1 AND unit_id = $2",
            unit.county_code,
            unit.id
        ))
        .await?
        .flatten())
}

pub async fn count_all(exec: &mut Exec<'_>) -> Result<i64> {
    exec.scalar(q!("SELECT COUNT(*) FROM org_units")).await
}
