//! Places (地): buildings, units (单元), households and addresses, each under an org unit.

use serde::Serialize;
use yinling_domain::{
    ids::{Key, PersonId, PlaceId, UnitId},
    org::PlaceKind,
    region::CountyCode,
    scope::Scope,
};

use crate::{Exec, Micros, Query, Result, db, kernel::scope, q};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PlaceRow {
    pub county_code: CountyCode,
    pub id: PlaceId,
    pub kind: PlaceKind,
    pub parent_id: Option<PlaceId>,
    pub unit_id: UnitId,
    pub path: String,
    pub label: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub synthetic: bool,
}

const COLUMNS: &str =
    "county_code, id, kind, parent_id, unit_id, path, label, address, lat, lng, synthetic";

#[derive(Debug, Clone)]
pub struct NewPlace {
    pub county_code: CountyCode,
    pub id: PlaceId,
    pub kind: PlaceKind,
    pub parent_id: Option<PlaceId>,
    pub unit_id: UnitId,
    pub path: String,
    pub label: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub synthetic: bool,
    pub now: Micros,
}

pub async fn insert_many(exec: &mut Exec<'_>, places: &[NewPlace]) -> Result<()> {
    for chunk in places.chunks(db::rows_per_statement(12)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        for p in chunk {
            let v = [
                q.push_arg(p.county_code),
                q.push_arg(p.id),
                q.push_arg(p.kind.as_str()),
                q.push_arg(p.parent_id),
                q.push_arg(p.unit_id),
                q.push_arg(&p.path),
                q.push_arg(&p.label),
                q.push_arg(p.address.as_deref()),
                q.push_arg(p.lat),
                q.push_arg(p.lng),
                q.push_arg(p.synthetic),
                q.push_arg(p.now),
            ];
            values.push(format!("({}, {})", v.join(", "), v[11]));
        }
        q.sql = format!(
            "INSERT INTO places ({COLUMNS}, created_at, updated_at) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn get(exec: &mut Exec<'_>, key: Key<PlaceId>) -> Result<Option<PlaceRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM places WHERE county_code = $1 AND id = $2"),
        key.county_code,
        key.id
    ))
    .await
}

/// Places directly under a unit (buildings) or under a place (units, households).
pub async fn children(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    parent_id: Option<PlaceId>,
    unit_id: UnitId,
) -> Result<Vec<PlaceRow>> {
    match parent_id {
        Some(pid) => {
            exec.fetch_all(q!(
                format!("SELECT {COLUMNS} FROM places WHERE county_code = $1 AND parent_id = $2 ORDER BY label, id"),
                county_code,
                pid
            ))
            .await
        }
        None => {
            exec.fetch_all(q!(
                format!(
                    "SELECT {COLUMNS} FROM places WHERE county_code = $1 AND unit_id = $2 AND parent_id IS NULL ORDER BY label, id"
                ),
                county_code,
                unit_id
            ))
            .await
        }
    }
}

/// Households in scope whose label contains `text`, for pickers.
pub async fn households(exec: &mut Exec<'_>, scope: &Scope, limit: i64) -> Result<Vec<PlaceRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "pl");
    let l = q.push_arg(limit);
    q.sql = format!(
        "SELECT pl.county_code, pl.id, pl.kind, pl.parent_id, pl.unit_id, pl.path, pl.label, pl.address,
                pl.lat, pl.lng, pl.synthetic
           FROM places pl WHERE {wh} AND pl.kind = 'household' ORDER BY pl.path, pl.label LIMIT {l}"
    )
    .into();
    exec.fetch_all(q).await
}

/// People living in a household: (id, name).
pub async fn residents(
    exec: &mut Exec<'_>,
    household: Key<PlaceId>,
) -> Result<Vec<(PersonId, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: PersonId,
        name: String,
    }
    Ok(exec
        .fetch_all::<Row>(q!(
            "SELECT id, name FROM people WHERE county_code = $1 AND household_id = $2 ORDER BY birth_date",
            household.county_code,
            household.id
        ))
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}

pub async fn count_by_kind(exec: &mut Exec<'_>, scope: &Scope) -> Result<Vec<(PlaceKind, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        kind: PlaceKind,
        n: i64,
    }
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "pl");
    q.sql =
        format!("SELECT pl.kind, COUNT(*) AS n FROM places pl WHERE {wh} GROUP BY pl.kind").into();
    Ok(exec
        .fetch_all::<Row>(q)
        .await?
        .into_iter()
        .map(|r| (r.kind, r.n))
        .collect())
}
