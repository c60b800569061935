//! The resource and service lists (资源清单, 服务清单) and the category vocabulary.

use serde::Serialize;
use yinling_domain::{
    ids::{Key, PersonId, ProviderId, ServiceItemId, UnitId},
    region::CountyCode,
    scope::Scope,
    service::ProviderKind,
};

use crate::{Exec, Micros, Query, Result, StoreError, db, kernel::scope, q};

/// A category added by an administrator (the built-in ones live in the domain).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CategoryRow {
    pub county_code: CountyCode,
    pub code: String,
    pub label: String,
}

/// Categories added for a county or for the whole city.
pub async fn categories(exec: &mut Exec<'_>, counties: &[CountyCode]) -> Result<Vec<CategoryRow>> {
    let mut q = Query::new("", Vec::new());
    let list: Vec<String> = counties.iter().map(|c| q.push_arg(*c)).collect();
    if list.is_empty() {
        return Ok(Vec::new());
    }
    q.sql = format!(
        "SELECT county_code, code, label FROM service_categories WHERE county_code IN ({}) ORDER BY created_at, code",
        list.join(", ")
    )
    .into();
    exec.fetch_all(q).await
}

pub async fn insert_category(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    code: &str,
    label: &str,
    now: Micros,
) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO service_categories (county_code, code, label, created_at) VALUES ($1, $2, $3, $4)",
        county_code,
        code,
        label,
        now
    ))
    .await
    .map(|_| ())
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ProviderRow {
    pub county_code: CountyCode,
    pub id: ProviderId,
    pub kind: ProviderKind,
    pub name: String,
    pub person_id: Option<PersonId>,
    pub unit_id: Option<UnitId>,
    pub path: String,
    pub home_path: Option<String>,
    /// JSON array of skill names.
    pub skills: String,
    /// JSON array of organisation paths served.
    pub areas: String,
    /// JSON array of weekly windows.
    pub windows: String,
    pub capacity: i64,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub radius_m: Option<i64>,
    pub rating_sum: i64,
    pub rating_count: i64,
    pub active: bool,
    pub synthetic: bool,
    pub version: i64,
}

const PROVIDER_COLUMNS: &str = "county_code, id, kind, name, person_id, unit_id, path, home_path, skills, \
     areas, windows, capacity, lat, lng, radius_m, rating_sum, rating_count, active, synthetic, version";

/// The writable fields of a provider.
#[derive(Debug, Clone)]
pub struct ProviderFields {
    pub kind: ProviderKind,
    pub name: String,
    pub person_id: Option<PersonId>,
    pub unit_id: Option<UnitId>,
    pub path: String,
    pub home_path: Option<String>,
    pub skills: String,
    pub areas: String,
    pub windows: String,
    pub capacity: i64,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub radius_m: Option<i64>,
    pub active: bool,
}

pub async fn insert_providers(
    exec: &mut Exec<'_>,
    rows: &[(Key<ProviderId>, ProviderFields)],
    synthetic: bool,
    now: Micros,
) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(18)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        let (s, t) = (q.push_arg(synthetic), q.push_arg(now));
        for (key, f) in chunk {
            let v = [
                q.push_arg(key.county_code),
                q.push_arg(key.id),
                q.push_arg(f.kind.as_str()),
                q.push_arg(&f.name),
                q.push_arg(f.person_id),
                q.push_arg(f.unit_id),
                q.push_arg(&f.path),
                q.push_arg(f.home_path.as_deref()),
                q.push_arg(&f.skills),
                q.push_arg(&f.areas),
                q.push_arg(&f.windows),
                q.push_arg(f.capacity),
                q.push_arg(f.lat),
                q.push_arg(f.lng),
                q.push_arg(f.radius_m),
                q.push_arg(f.active),
            ];
            values.push(format!("({}, {s}, {t}, {t})", v.join(", ")));
        }
        q.sql = format!(
            "INSERT INTO providers (county_code, id, kind, name, person_id, unit_id, path, home_path, skills, \
             areas, windows, capacity, lat, lng, radius_m, active, synthetic, created_at, updated_at) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn update_provider(
    exec: &mut Exec<'_>,
    key: Key<ProviderId>,
    version: i64,
    f: &ProviderFields,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE providers SET name = $4, home_path = $5, skills = $6, areas = $7, windows = $8,
                    capacity = $9, lat = $10, lng = $11, radius_m = $12, active = $13,
                    updated_at = $14, version = version + 1
              WHERE county_code = $1 AND id = $2 AND version = $3",
            key.county_code,
            key.id,
            version,
            &f.name,
            f.home_path.as_deref(),
            &f.skills,
            &f.areas,
            &f.windows,
            f.capacity,
            f.lat,
            f.lng,
            f.radius_m,
            f.active,
            now
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::Stale);
    }
    Ok(())
}

pub async fn provider(exec: &mut Exec<'_>, key: Key<ProviderId>) -> Result<Option<ProviderRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {PROVIDER_COLUMNS} FROM providers WHERE county_code = $1 AND id = $2"),
        key.county_code,
        key.id
    ))
    .await
}

/// The provider record of a volunteer's person file, if they have one.
pub async fn provider_of_person(
    exec: &mut Exec<'_>,
    person: Key<PersonId>,
) -> Result<Option<ProviderRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {PROVIDER_COLUMNS} FROM providers WHERE county_code = $1 AND person_id = $2"
        ),
        person.county_code,
        person.id
    ))
    .await
}

/// Providers based at one of these units (teams, studios a volunteer belongs to).
pub async fn providers_of_units(
    exec: &mut Exec<'_>,
    units: &[Key<UnitId>],
) -> Result<Vec<ProviderRow>> {
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::new("", Vec::new());
    let parts: Vec<String> = units
        .iter()
        .map(|u| {
            format!(
                "(county_code = {} AND unit_id = {})",
                q.push_arg(u.county_code),
                q.push_arg(u.id)
            )
        })
        .collect();
    q.sql = format!(
        "SELECT {PROVIDER_COLUMNS} FROM providers WHERE {} ORDER BY county_code, id",
        parts.join(" OR ")
    )
    .into();
    exec.fetch_all(q).await
}

/// Every active provider of a county: the matching pool's source.
pub async fn active_providers(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
) -> Result<Vec<ProviderRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {PROVIDER_COLUMNS} FROM providers WHERE county_code = $1 AND active ORDER BY id"
        ),
        county_code
    ))
    .await
}

/// A page of the resource list in scope, optionally of one kind or with one skill.
pub async fn list_providers(
    exec: &mut Exec<'_>,
    scope: &Scope,
    kind: Option<ProviderKind>,
    skill: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ProviderRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let mut wh = vec![scope::predicate(&mut q, scope, "p")];
    if let Some(k) = kind {
        wh.push(format!("p.kind = {}", q.push_arg(k.as_str())));
    }
    if let Some(s) = skill {
        // Skills are a JSON array of strings: match the quoted name.
        let quoted = serde_json::to_string(s).unwrap_or_default();
        wh.push(format!(
            "p.skills LIKE {}",
            q.push_arg(format!("%{quoted}%"))
        ));
    }
    let wh = wh.join(" AND ");
    let count_q = Query::new(
        format!("SELECT COUNT(*) FROM providers p WHERE {wh}"),
        q.args.clone(),
    );
    let total: i64 = exec.scalar(count_q).await?;
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "SELECT {} FROM providers p WHERE {wh} ORDER BY p.county_code, p.path, p.name, p.id LIMIT {l} OFFSET {o}",
        prefixed(PROVIDER_COLUMNS, "p")
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

/// `a, b` → `p.a, p.b`.
pub(crate) fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records that providers of a county changed, for the matching caches; returns the new
/// revision. Call inside the transaction that changes them.
pub async fn bump_providers(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    ids: &[ProviderId],
) -> Result<i64> {
    exec.execute(q!(
        "INSERT INTO provider_revs (county_code, rev) VALUES ($1, 0) ON CONFLICT (county_code) DO NOTHING",
        county_code
    ))
    .await?;
    let rev: i64 = exec
        .scalar(q!(
            "UPDATE provider_revs SET rev = rev + 1 WHERE county_code = $1 RETURNING rev",
            county_code
        ))
        .await?;
    for chunk in ids.chunks(db::rows_per_statement(3)) {
        let mut q = Query::new("", Vec::new());
        let (c, r) = (q.push_arg(county_code), q.push_arg(rev));
        let values: Vec<String> = chunk
            .iter()
            .map(|id| format!("({c}, {r}, {})", q.push_arg(*id)))
            .collect();
        q.sql = format!(
            "INSERT INTO provider_changes (county_code, rev, provider_id) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(rev)
}

/// The county's current resource-list revision (0 before any change).
pub async fn providers_rev(exec: &mut Exec<'_>, county_code: CountyCode) -> Result<i64> {
    Ok(exec
        .scalar_optional(q!(
            "SELECT rev FROM provider_revs WHERE county_code = $1",
            county_code
        ))
        .await?
        .unwrap_or(0))
}

/// Providers changed after revision `since` up to `until`, each once.
pub async fn changed_providers(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    since: i64,
    until: i64,
) -> Result<Vec<ProviderRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {} FROM providers p WHERE p.county_code = $1 AND p.id IN (
                 SELECT provider_id FROM provider_changes WHERE county_code = $1 AND rev > $2 AND rev <= $3)
              ORDER BY p.id",
            prefixed(PROVIDER_COLUMNS, "p")
        ),
        county_code,
        since,
        until
    ))
    .await
}

/// Adds a rating to a provider's running totals.
pub async fn add_rating(exec: &mut Exec<'_>, key: Key<ProviderId>, stars: i64) -> Result<()> {
    exec.execute(q!(
        "UPDATE providers SET rating_sum = rating_sum + $3, rating_count = rating_count + 1 WHERE county_code = $1 AND id = $2",
        key.county_code,
        key.id,
        stars
    ))
    .await
    .map(|_| ())
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ServiceItemRow {
    pub county_code: CountyCode,
    pub id: ServiceItemId,
    pub path: String,
    pub category: String,
    pub name: String,
    pub description: Option<String>,
    /// JSON array of skill names.
    pub skills: String,
    pub duration_minutes: i64,
    pub points: i64,
    pub hours_minutes: i64,
    pub sla_minutes: i64,
    pub active: bool,
    pub version: i64,
}

const ITEM_COLUMNS: &str = "county_code, id, path, category, name, description, skills, duration_minutes, \
     points, hours_minutes, sla_minutes, active, version";

#[derive(Debug, Clone)]
pub struct ItemFields {
    pub path: String,
    pub category: String,
    pub name: String,
    pub description: Option<String>,
    pub skills: String,
    pub duration_minutes: i64,
    pub points: i64,
    pub hours_minutes: i64,
    pub sla_minutes: i64,
    pub active: bool,
}

pub async fn insert_items(
    exec: &mut Exec<'_>,
    rows: &[(Key<ServiceItemId>, ItemFields)],
    synthetic: bool,
    now: Micros,
) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(12)) {
        let mut q = Query::new("", Vec::new());
        let (s, t) = (q.push_arg(synthetic), q.push_arg(now));
        let mut values = Vec::with_capacity(chunk.len());
        for (key, f) in chunk {
            let v = [
                q.push_arg(key.county_code),
                q.push_arg(key.id),
                q.push_arg(&f.path),
                q.push_arg(&f.category),
                q.push_arg(&f.name),
                q.push_arg(f.description.as_deref()),
                q.push_arg(&f.skills),
                q.push_arg(f.duration_minutes),
                q.push_arg(f.points),
                q.push_arg(f.hours_minutes),
                q.push_arg(f.sla_minutes),
                q.push_arg(f.active),
            ];
            values.push(format!("({}, {s}, {t}, {t})", v.join(", ")));
        }
        q.sql = format!(
            "INSERT INTO service_items (county_code, id, path, category, name, description, skills, \
             duration_minutes, points, hours_minutes, sla_minutes, active, synthetic, created_at, updated_at) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn update_item(
    exec: &mut Exec<'_>,
    key: Key<ServiceItemId>,
    version: i64,
    f: &ItemFields,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE service_items SET category = $4, name = $5, description = $6, skills = $7,
                    duration_minutes = $8, points = $9, hours_minutes = $10, sla_minutes = $11,
                    active = $12, updated_at = $13, version = version + 1
              WHERE county_code = $1 AND id = $2 AND version = $3",
            key.county_code,
            key.id,
            version,
            &f.category,
            &f.name,
            f.description.as_deref(),
            &f.skills,
            f.duration_minutes,
            f.points,
            f.hours_minutes,
            f.sla_minutes,
            f.active,
            now
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::Stale);
    }
    Ok(())
}

pub async fn item(exec: &mut Exec<'_>, key: Key<ServiceItemId>) -> Result<Option<ServiceItemRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {ITEM_COLUMNS} FROM service_items WHERE county_code = $1 AND id = $2"),
        key.county_code,
        key.id
    ))
    .await
}

/// Items offered at a place: those defined on the place's path or any unit above it.
pub async fn items_for_path(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    path: &str,
    only_active: bool,
) -> Result<Vec<ServiceItemRow>> {
    // The ancestors of a path are its prefixes ending at '/'.
    let mut q = Query::new("", Vec::new());
    let c = q.push_arg(county_code);
    let prefixes: Vec<String> = path
        .match_indices('/')
        .map(|(i, _)| q.push_arg(&path[..=i]))
        .collect();
    if prefixes.is_empty() {
        return Ok(Vec::new());
    }
    let active = if only_active { " AND active" } else { "" };
    q.sql = format!(
        "SELECT {ITEM_COLUMNS} FROM service_items WHERE county_code = {c} AND path IN ({}){active} ORDER BY category, name, id",
        prefixes.join(", ")
    )
    .into();
    exec.fetch_all(q).await
}

/// Items defined anywhere in scope (for administrators' lists).
pub async fn items_in_scope(exec: &mut Exec<'_>, scope: &Scope) -> Result<Vec<ServiceItemRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "i");
    q.sql = format!(
        "SELECT {} FROM service_items i WHERE {wh} ORDER BY i.county_code, i.category, i.name, i.id LIMIT 1000",
        prefixed(ITEM_COLUMNS, "i")
    )
    .into();
    exec.fetch_all(q).await
}

/// A person with the volunteer role, with their skills: the resource list's raw material.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VolunteerRow {
    pub county_code: CountyCode,
    pub id: PersonId,
    pub name: String,
    pub path: String,
}

/// Volunteers of a county (by their person role) and each one's skills.
pub async fn volunteers(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
) -> Result<(Vec<VolunteerRow>, Vec<(PersonId, String)>)> {
    #[derive(sqlx::FromRow)]
    struct Skill {
        person_id: PersonId,
        skill: String,
    }
    let people: Vec<VolunteerRow> = exec
        .fetch_all(q!(
            "SELECT p.county_code, p.id, p.name, p.path FROM people p
              WHERE p.county_code = $1 AND EXISTS (
                    SELECT 1 FROM person_roles r WHERE r.county_code = p.county_code
                       AND r.person_id = p.id AND r.kind = 'volunteer')
              ORDER BY p.id",
            county_code
        ))
        .await?;
    let skills: Vec<Skill> = exec
        .fetch_all(q!(
            "SELECT s.person_id, s.skill FROM person_skills s
              WHERE s.county_code = $1 AND EXISTS (
                    SELECT 1 FROM person_roles r WHERE r.county_code = s.county_code
                       AND r.person_id = s.person_id AND r.kind = 'volunteer')",
            county_code
        ))
        .await?;
    Ok((
        people,
        skills.into_iter().map(|s| (s.person_id, s.skill)).collect(),
    ))
}
