//! The needs ledger (需求台账): needs heard from people and households, and their
//! follow-ups. Scope applies inside every list query, before counting and paging.

use serde::Serialize;
use yinling_domain::{
    ids::{AccountId, Key, NeedId, OrderId, PersonId, PlaceId, UnitId},
    need::{NeedSource, NeedStatus},
    region::CountyCode,
    scope::Scope,
    service::Urgency,
};

use crate::{Exec, Micros, Query, Result, StoreError, db, kernel::scope, q};

/// A need with the names a list or page shows beside it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct NeedRow {
    pub county_code: CountyCode,
    pub id: NeedId,
    pub path: String,
    pub unit_id: UnitId,
    pub person_id: Option<PersonId>,
    pub household_id: Option<PlaceId>,
    pub category: String,
    pub description: String,
    pub urgency: Urgency,
    pub source: NeedSource,
    pub status: NeedStatus,
    pub recorded_by: Option<AccountId>,
    pub recorded_by_name: String,
    pub followup_count: i64,
    pub last_followup_at: Option<Micros>,
    pub order_id: Option<OrderId>,
    pub synthetic: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
    pub unit_name: Option<String>,
    pub person_name: Option<String>,
    pub person_birth_date: Option<String>,
    #[serde(skip)]
    pub person_id_enc: Option<Vec<u8>>,
    #[serde(skip)]
    pub person_phone_enc: Option<Vec<u8>>,
    pub household_label: Option<String>,
}

const SELECT: &str = "SELECT n.county_code, n.id, n.path, n.unit_id, n.person_id, n.household_id,
        n.category, n.description, n.urgency, n.source, n.status, n.recorded_by,
        n.recorded_by_name, n.followup_count, n.last_followup_at, n.order_id, n.synthetic,
        n.created_at, n.updated_at, n.version, u.name AS unit_name, p.name AS person_name,
        p.birth_date AS person_birth_date, p.id_enc AS person_id_enc,
        p.phone_enc AS person_phone_enc, h.label AS household_label
   FROM needs n
   LEFT JOIN org_units u ON u.county_code = n.county_code AND u.id = n.unit_id
   LEFT JOIN people p ON p.county_code = n.county_code AND p.id = n.person_id
   LEFT JOIN places h ON h.county_code = n.county_code AND h.id = n.household_id";

/// A need to insert.
#[derive(Debug, Clone)]
pub struct NewNeed {
    pub county_code: CountyCode,
    pub id: NeedId,
    pub path: String,
    pub unit_id: UnitId,
    pub person_id: Option<PersonId>,
    pub household_id: Option<PlaceId>,
    pub category: String,
    pub description: String,
    pub urgency: Urgency,
    pub source: NeedSource,
    pub status: NeedStatus,
    pub recorded_by: Option<AccountId>,
    pub recorded_by_name: String,
    pub synthetic: bool,
    pub now: Micros,
}

pub async fn insert_many(exec: &mut Exec<'_>, needs: &[NewNeed]) -> Result<()> {
    for chunk in needs.chunks(db::rows_per_statement(15)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        for n in chunk {
            let v = [
                q.push_arg(n.county_code),
                q.push_arg(n.id),
                q.push_arg(&n.path),
                q.push_arg(n.unit_id),
                q.push_arg(n.person_id),
                q.push_arg(n.household_id),
                q.push_arg(&n.category),
                q.push_arg(&n.description),
                q.push_arg(n.urgency.as_str()),
                q.push_arg(n.source.as_str()),
                q.push_arg(n.status.as_str()),
                q.push_arg(n.recorded_by),
                q.push_arg(&n.recorded_by_name),
                q.push_arg(n.synthetic),
                q.push_arg(n.now),
            ];
            values.push(format!("({}, {})", v.join(", "), v[14]));
        }
        q.sql = format!(
            "INSERT INTO needs (county_code, id, path, unit_id, person_id, household_id, category,
                description, urgency, source, status, recorded_by, recorded_by_name, synthetic,
                created_at, updated_at)
             VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn get(exec: &mut Exec<'_>, key: Key<NeedId>) -> Result<Option<NeedRow>> {
    exec.fetch_optional(q!(
        format!("{SELECT} WHERE n.county_code = $1 AND n.id = $2"),
        key.county_code,
        key.id
    ))
    .await
}

/// What the ledger can be filtered by; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct NeedFilter {
    pub category: Option<String>,
    pub status: Option<NeedStatus>,
    pub urgency: Option<Urgency>,
    pub source: Option<NeedSource>,
    /// The person was born on or before this date ("age at least").
    pub born_on_or_before: Option<String>,
    /// The person was born on or after this date ("age at most").
    pub born_on_or_after: Option<String>,
    /// Needs of one person.
    pub person: Option<Key<PersonId>>,
}

/// Counting stops here: beyond it a list says "10000+".
pub const COUNT_CAP: i64 = 10_000;

/// Needs visible in `scope` matching `filter`, newest first. Returns the page and the
/// total, capped at [`COUNT_CAP`] + 1.
pub async fn list(
    exec: &mut Exec<'_>,
    scope: &Scope,
    filter: &NeedFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<NeedRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let mut wh = vec![scope::predicate(&mut q, scope, "n")];
    if let Some(s) = filter.status {
        wh.push(format!("n.status = {}", q.push_arg(s.as_str())));
    }
    if let Some(c) = &filter.category {
        wh.push(format!("n.category = {}", q.push_arg(c)));
    }
    if let Some(u) = filter.urgency {
        wh.push(format!("n.urgency = {}", q.push_arg(u.as_str())));
    }
    if let Some(s) = filter.source {
        wh.push(format!("n.source = {}", q.push_arg(s.as_str())));
    }
    if let Some(p) = filter.person {
        wh.push(format!(
            "n.county_code = {} AND n.person_id = {}",
            q.push_arg(p.county_code),
            q.push_arg(p.id)
        ));
    }
    // Age is the person's: a need recorded for a household only has no age and drops out.
    let mut age = Vec::new();
    if let Some(d) = &filter.born_on_or_before {
        age.push(format!("a.birth_date <= {}", q.push_arg(d)));
    }
    if let Some(d) = &filter.born_on_or_after {
        age.push(format!("a.birth_date >= {}", q.push_arg(d)));
    }
    if !age.is_empty() {
        wh.push(format!(
            "EXISTS (SELECT 1 FROM people a WHERE a.county_code = n.county_code AND a.id = n.person_id AND {})",
            age.join(" AND ")
        ));
    }
    let wh = wh.join(" AND ");
    let mut count_q = q.clone();
    let cap = count_q.push_arg(COUNT_CAP + 1);
    count_q.sql =
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM needs n WHERE {wh} LIMIT {cap}) c").into();
    let total: i64 = exec.scalar(count_q).await?;
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "{SELECT} WHERE {wh} ORDER BY n.created_at DESC, n.county_code, n.id DESC LIMIT {l} OFFSET {o}"
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

/// Everything visible in `scope` matching `filter`, in list order, for exports; at most `max`.
pub async fn export_rows(
    exec: &mut Exec<'_>,
    scope: &Scope,
    filter: &NeedFilter,
    max: i64,
) -> Result<Vec<NeedRow>> {
    list(exec, scope, filter, max, 0)
        .await
        .map(|(rows, _)| rows)
}

/// Counts needs in scope by status (for the ledger's summary line).
pub async fn count_by_status(exec: &mut Exec<'_>, scope: &Scope) -> Result<Vec<(NeedStatus, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        status: NeedStatus,
        n: i64,
    }
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "n");
    q.sql =
        format!("SELECT n.status, COUNT(*) AS n FROM needs n WHERE {wh} GROUP BY n.status").into();
    Ok(exec
        .fetch_all::<Row>(q)
        .await?
        .into_iter()
        .map(|r| (r.status, r.n))
        .collect())
}

/// One follow-up on a need.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct FollowupRow {
    pub seq: i64,
    pub at: Micros,
    pub actor_id: Option<AccountId>,
    pub actor_name: String,
    pub note: String,
    pub from_status: NeedStatus,
    pub to_status: NeedStatus,
}

pub async fn followups_of(exec: &mut Exec<'_>, need: Key<NeedId>) -> Result<Vec<FollowupRow>> {
    exec.fetch_all(q!(
        "SELECT seq, at, actor_id, actor_name, note, from_status, to_status FROM need_followups
          WHERE county_code = $1 AND need_id = $2 ORDER BY seq",
        need.county_code,
        need.id
    ))
    .await
}

/// A follow-up to record.
#[derive(Debug, Clone)]
pub struct NewFollowup {
    pub county_code: CountyCode,
    pub need_id: NeedId,
    pub at: Micros,
    pub actor_id: Option<AccountId>,
    pub actor_name: String,
    pub note: String,
    pub from_status: NeedStatus,
    pub to_status: NeedStatus,
}

/// Records a follow-up and moves the need to `to_status`, if the need is still at `version`
/// (two workers following up at once cannot both change the status from the same state).
pub async fn follow_up(exec: &mut Exec<'_>, version: i64, f: &NewFollowup) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE needs SET status = $4, followup_count = followup_count + 1,
                    last_followup_at = $5, updated_at = $5, version = version + 1
              WHERE county_code = $1 AND id = $2 AND version = $3",
            f.county_code,
            f.need_id,
            version,
            f.to_status.as_str(),
            f.at
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::Stale);
    }
    exec.execute(q!(
        "INSERT INTO need_followups (county_code, need_id, seq, at, actor_id, actor_name, note,
                from_status, to_status)
         SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6, $7, $8
           FROM need_followups WHERE county_code = $1 AND need_id = $2",
        f.county_code,
        f.need_id,
        f.at,
        f.actor_id,
        &f.actor_name,
        &f.note,
        f.from_status.as_str(),
        f.to_status.as_str()
    ))
    .await?;
    Ok(())
}

/// A resident with a household, as the demo seeding picks them.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Resident {
    pub county_code: CountyCode,
    pub person_id: PersonId,
    pub household_id: PlaceId,
    pub unit_id: UnitId,
    pub path: String,
    pub birth_date: String,
}

/// Up to `limit` synthetic residents of a county who live in a household, oldest first
/// (door-knocking starts with the elderly).
pub async fn synthetic_residents(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    limit: i64,
) -> Result<Vec<Resident>> {
    exec.fetch_all(q!(
        "SELECT county_code, id AS person_id, household_id, home_unit_id AS unit_id, path, birth_date
           FROM people
          WHERE county_code = $1 AND household_id IS NOT NULL AND synthetic AND status = 'active'
          ORDER BY birth_date, id LIMIT $2",
        county_code,
        limit
    ))
    .await
}
