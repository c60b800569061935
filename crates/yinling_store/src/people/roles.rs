//! Roles, the roster of role holders, and specialties (skills).

use super::*;

pub async fn insert_roles(exec: &mut Exec<'_>, roles: &[NewRole]) -> Result<()> {
    for chunk in roles.chunks(db::rows_per_statement(10)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        for r in chunk {
            let v = [
                q.push_arg(r.county_code),
                q.push_arg(r.id),
                q.push_arg(r.person_id),
                q.push_arg(r.kind.as_str()),
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

pub async fn roles_of(exec: &mut Exec<'_>, person: Key<PersonId>) -> Result<Vec<RoleRow>> {
    exec.fetch_all(q!(
        "SELECT r.county_code, r.id, r.person_id, r.kind, r.unit_county_code, r.unit_id, r.path,
                r.since, r.until, r.details, u.name AS unit_name
           FROM person_roles r
           LEFT JOIN org_units u ON u.county_code = r.unit_county_code AND u.id = r.unit_id
          WHERE r.county_code = $1 AND r.person_id = $2
          ORDER BY r.kind, r.id",
        person.county_code,
        person.id
    ))
    .await
}

pub async fn delete_role(
    exec: &mut Exec<'_>,
    person: Key<PersonId>,
    role_id: PersonRoleId,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "DELETE FROM person_roles WHERE county_code = $1 AND person_id = $2 AND id = $3",
            person.county_code,
            person.id,
            role_id
        ))
        .await?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub async fn roster(
    exec: &mut Exec<'_>,
    scope: &Scope,
    kind: Option<PersonRoleKind>,
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
        wh.push(format!("r.kind = {}", q.push_arg(k.as_str())));
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
pub async fn count_roles_by_kind(
    exec: &mut Exec<'_>,
    scope: &Scope,
) -> Result<Vec<(PersonRoleKind, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        kind: PersonRoleKind,
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

pub async fn skills_of(exec: &mut Exec<'_>, person: Key<PersonId>) -> Result<Vec<String>> {
    exec.scalars(q!(
        "SELECT skill FROM person_skills WHERE county_code = $1 AND person_id = $2 ORDER BY skill",
        person.county_code,
        person.id
    ))
    .await
}

/// Replaces a person's specialties with `skills`.
pub async fn set_skills(
    exec: &mut Exec<'_>,
    person: Key<PersonId>,
    skills: &[String],
) -> Result<()> {
    exec.execute(q!(
        "DELETE FROM person_skills WHERE county_code = $1 AND person_id = $2",
        person.county_code,
        person.id
    ))
    .await?;
    insert_skills(
        exec,
        &skills
            .iter()
            .map(|s| (person.county_code, person.id, s.clone()))
            .collect::<Vec<_>>(),
    )
    .await
}

pub async fn insert_skills(
    exec: &mut Exec<'_>,
    rows: &[(CountyCode, PersonId, String)],
) -> Result<()> {
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
