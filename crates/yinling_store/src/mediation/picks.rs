//! Whom a case can be given to: cadre studios and teams, retired cadres.

use super::*;

/// Org units of the given kinds in `scope`, in tree order.
pub async fn units_of_kinds(
    exec: &mut Exec<'_>,
    scope: &Scope,
    kinds: &[&str],
    limit: i64,
) -> Result<Vec<PickRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "u");
    let ks: Vec<String> = kinds.iter().map(|k| q.push_arg(*k)).collect();
    let l = q.push_arg(limit);
    q.sql = format!(
        "SELECT u.county_code, u.id, u.kind, u.name, u.path FROM org_units u
          WHERE {wh} AND u.kind IN ({}) ORDER BY u.county_code, u.path LIMIT {l}",
        ks.join(", ")
    )
    .into();
    exec.fetch_all(q).await
}

/// People in `scope` (by where they live) holding the retired-cadre role, for the mediator
/// picker.
pub async fn retired_cadres(
    exec: &mut Exec<'_>,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<CadreRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "p");
    let l = q.push_arg(limit);
    q.sql = format!(
        "SELECT p.county_code, p.id, p.name, p.path FROM people p
          WHERE {wh} AND p.status = 'active' AND EXISTS (SELECT 1 FROM person_roles r
                WHERE r.county_code = p.county_code AND r.person_id = p.id AND r.kind = 'retired_cadre')
          ORDER BY p.county_code, p.path, p.name_pinyin, p.id LIMIT {l}"
    )
    .into();
    exec.fetch_all(q).await
}

/// Whether a person holds the retired-cadre role.
pub async fn is_retired_cadre(exec: &mut Exec<'_>, person: Key<PersonId>) -> Result<bool> {
    let n: i64 = exec
        .scalar(q!(
            "SELECT COUNT(*) FROM person_roles WHERE county_code = $1 AND person_id = $2 AND kind = 'retired_cadre'",
            person.county_code,
            person.id
        ))
        .await?;
    Ok(n > 0)
}

/// How many cases a county holds (the demo seeds a county only once).
pub async fn count_in_county(exec: &mut Exec<'_>, county_code: CountyCode) -> Result<i64> {
    exec.scalar(q!(
        "SELECT COUNT(*) FROM mediation_cases WHERE county_code = $1",
        county_code
    ))
    .await
}
