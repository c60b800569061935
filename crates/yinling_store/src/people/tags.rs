//! Tags: a city-wide vocabulary and tags on people with provenance.

use serde::Serialize;

use yinling_domain::{
    ids::{AccountId, Key, PersonId, TagId},
    person::TagSource,
    region::CountyCode,
};

use crate::{Exec, Micros, Query, Result, StoreError, db, q};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TagDefRow {
    pub id: TagId,
    pub code: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub archived: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
}

const DEF_COLUMNS: &str = "id, code, name, category, description, archived, created_at, updated_at";

pub async fn insert_def(exec: &mut Exec<'_>, d: &TagDefRow) -> Result<()> {
    exec.execute(q!(
        format!("INSERT INTO tag_defs ({DEF_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
        d.id,
        &d.code,
        &d.name,
        &d.category,
        &d.description,
        d.archived,
        d.created_at,
        d.updated_at
    ))
    .await?;
    Ok(())
}

pub async fn update_def(exec: &mut Exec<'_>, d: &TagDefRow) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE tag_defs SET name = $2, category = $3, description = $4, archived = $5, updated_at = $6
              WHERE id = $1",
            d.id,
            &d.name,
            &d.category,
            &d.description,
            d.archived,
            d.updated_at
        ))
        .await?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub async fn defs(exec: &mut Exec<'_>, include_archived: bool) -> Result<Vec<TagDefRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {DEF_COLUMNS} FROM tag_defs WHERE archived = FALSE OR $1 ORDER BY category, name"
        ),
        include_archived
    ))
    .await
}

pub async fn def(exec: &mut Exec<'_>, id: TagId) -> Result<Option<TagDefRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {DEF_COLUMNS} FROM tag_defs WHERE id = $1"),
        id
    ))
    .await
}

pub async fn def_by_code(exec: &mut Exec<'_>, code: &str) -> Result<Option<TagDefRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {DEF_COLUMNS} FROM tag_defs WHERE code = $1"),
        code
    ))
    .await
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PersonTagRow {
    pub county_code: CountyCode,
    pub id: i64,
    pub person_id: PersonId,
    pub tag_id: TagId,
    pub tag_name: String,
    pub tag_category: String,
    pub source: TagSource,
    pub source_ref: Option<String>,
    pub set_by: Option<AccountId>,
    pub set_by_name: Option<String>,
    pub set_at: Micros,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub note: Option<String>,
    pub revoked_at: Option<Micros>,
    pub revoked_by: Option<AccountId>,
}

#[derive(Debug, Clone)]
pub struct NewPersonTag {
    pub county_code: CountyCode,
    pub id: i64,
    pub person_id: PersonId,
    pub tag_id: TagId,
    pub path: String,
    pub source: TagSource,
    pub source_ref: Option<String>,
    pub set_by: Option<AccountId>,
    pub set_at: Micros,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub note: Option<String>,
}

pub async fn insert_person_tags(exec: &mut Exec<'_>, tags: &[NewPersonTag]) -> Result<()> {
    for chunk in tags.chunks(db::rows_per_statement(12)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        for t in chunk {
            let v = [
                q.push_arg(t.county_code),
                q.push_arg(t.id),
                q.push_arg(t.person_id),
                q.push_arg(t.tag_id),
                q.push_arg(&t.path),
                q.push_arg(t.source.as_str()),
                q.push_arg(t.source_ref.as_deref()),
                q.push_arg(t.set_by),
                q.push_arg(t.set_at),
                q.push_arg(t.valid_from.as_deref()),
                q.push_arg(t.valid_to.as_deref()),
                q.push_arg(t.note.as_deref()),
            ];
            values.push(format!("({})", v.join(", ")));
        }
        q.sql = format!(
            "INSERT INTO person_tags (county_code, id, person_id, tag_id, path, source, source_ref, set_by,
                set_at, valid_from, valid_to, note) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

/// A person's tags, current first, with the history of removed ones after.
pub async fn of_person(exec: &mut Exec<'_>, person: Key<PersonId>) -> Result<Vec<PersonTagRow>> {
    exec.fetch_all(q!(
        "SELECT t.county_code, t.id, t.person_id, t.tag_id, d.name AS tag_name, d.category AS tag_category,
                t.source, t.source_ref, t.set_by, a.display_name AS set_by_name, t.set_at, t.valid_from,
                t.valid_to, t.note, t.revoked_at, t.revoked_by
           FROM person_tags t
           JOIN tag_defs d ON d.id = t.tag_id
           LEFT JOIN accounts a ON a.id = t.set_by
          WHERE t.county_code = $1 AND t.person_id = $2
          ORDER BY t.revoked_at IS NOT NULL, d.category, d.name, t.set_at",
        person.county_code,
        person.id
    ))
    .await
}

/// Whether the person already has this tag, not revoked.
pub async fn has_active(exec: &mut Exec<'_>, person: Key<PersonId>, tag_id: TagId) -> Result<bool> {
    Ok(exec
        .scalar_optional::<i64>(q!(
            "SELECT id FROM person_tags WHERE county_code = $1 AND person_id = $2 AND tag_id = $3
               AND revoked_at IS NULL",
            person.county_code,
            person.id,
            tag_id
        ))
        .await?
        .is_some())
}

pub async fn revoke(
    exec: &mut Exec<'_>,
    person: Key<PersonId>,
    tag_row_id: i64,
    by: AccountId,
    at: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE person_tags SET revoked_at = $4, revoked_by = $5
              WHERE county_code = $1 AND person_id = $2 AND id = $3 AND revoked_at IS NULL",
            person.county_code,
            person.id,
            tag_row_id,
            at,
            by
        ))
        .await?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// How many people carry each tag within the scope (for the tag page).
pub async fn usage(
    exec: &mut Exec<'_>,
    scope: &yinling_domain::scope::Scope,
) -> Result<Vec<(TagId, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        tag_id: TagId,
        n: i64,
    }
    let mut q = Query::new("", Vec::new());
    let wh = crate::kernel::scope::predicate(&mut q, scope, "t");
    q.sql = format!(
        "SELECT t.tag_id, COUNT(*) AS n FROM person_tags t WHERE {wh} AND t.revoked_at IS NULL GROUP BY t.tag_id"
    )
    .into();
    Ok(exec
        .fetch_all::<Row>(q)
        .await?
        .into_iter()
        .map(|r| (r.tag_id, r.n))
        .collect())
}
