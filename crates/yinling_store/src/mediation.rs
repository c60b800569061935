//! Mediation cases (矛盾调解): cases, parties, mediators, sessions, follow-ups, and the
//! success-rate figures, aggregated in SQL with `GROUP BY` inside the caller's scope.

use serde::Serialize;
use yinling_domain::{mediation::OutcomeCounts, scope::Scope};

use crate::{Exec, Micros, Query, Result, StoreError, db, q, scope};

/// A case as stored, with the name of the unit where it arose.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CaseRow {
    pub county_code: i64,
    pub id: i64,
    pub path: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub place_id: Option<i64>,
    pub place_label: Option<String>,
    pub location: Option<String>,
    pub category: String,
    pub summary: String,
    pub intake_on: String,
    pub taken_by_name: String,
    pub status: String,
    pub outcome: Option<String>,
    pub concluded_on: Option<String>,
    pub outcome_note: Option<String>,
    pub referred_to: Option<String>,
    pub followed_up_on: Option<String>,
    pub agreement_holds: Option<bool>,
    pub synthetic: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
}

const CASE_SELECT: &str =
    "SELECT c.county_code, c.id, c.path, c.unit_id, u.name AS unit_name, c.place_id,
        pl.label AS place_label, c.location, c.category, c.summary, c.intake_on, c.taken_by_name,
        c.status, c.outcome, c.concluded_on, c.outcome_note, c.referred_to, c.followed_up_on,
        c.agreement_holds, c.synthetic, c.created_at, c.updated_at, c.version
   FROM mediation_cases c
   JOIN org_units u ON u.county_code = c.county_code AND u.id = c.unit_id
   LEFT JOIN places pl ON pl.county_code = c.county_code AND pl.id = c.place_id";

/// A case to insert; ids come from [`crate::ids`].
#[derive(Debug, Clone)]
pub struct NewCase {
    pub county_code: i64,
    pub id: i64,
    pub path: String,
    pub unit_id: i64,
    pub place_id: Option<i64>,
    pub location: Option<String>,
    pub category: String,
    pub summary: String,
    pub intake_on: String,
    pub taken_by: Option<i64>,
    pub taken_by_name: String,
    pub status: String,
    pub outcome: Option<String>,
    pub concluded_on: Option<String>,
    pub outcome_note: Option<String>,
    pub referred_to: Option<String>,
    pub followed_up_on: Option<String>,
    pub agreement_holds: Option<bool>,
    pub synthetic: bool,
    pub now: Micros,
}

pub async fn insert_cases(exec: &mut Exec<'_>, rows: &[NewCase]) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(20)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        for c in chunk {
            let v = [
                q.push_arg(c.county_code),
                q.push_arg(c.id),
                q.push_arg(&c.path),
                q.push_arg(c.unit_id),
                q.push_arg(c.place_id),
                q.push_arg(c.location.as_deref()),
                q.push_arg(&c.category),
                q.push_arg(&c.summary),
                q.push_arg(&c.intake_on),
                q.push_arg(c.taken_by),
                q.push_arg(&c.taken_by_name),
                q.push_arg(&c.status),
                q.push_arg(c.outcome.as_deref()),
                q.push_arg(c.concluded_on.as_deref()),
                q.push_arg(c.outcome_note.as_deref()),
                q.push_arg(c.referred_to.as_deref()),
                q.push_arg(c.followed_up_on.as_deref()),
                q.push_arg(c.agreement_holds),
                q.push_arg(c.synthetic),
                q.push_arg(c.now),
            ];
            values.push(format!("({}, {}, 1)", v.join(", "), v[19]));
        }
        q.sql = format!(
            "INSERT INTO mediation_cases (county_code, id, path, unit_id, place_id, location, category,
                summary, intake_on, taken_by, taken_by_name, status, outcome, concluded_on, outcome_note,
                referred_to, followed_up_on, agreement_holds, synthetic, created_at, updated_at, version)
             VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn get_case(exec: &mut Exec<'_>, county_code: i64, id: i64) -> Result<Option<CaseRow>> {
    exec.fetch_optional(q!(
        format!("{CASE_SELECT} WHERE c.county_code = $1 AND c.id = $2"),
        county_code,
        id
    ))
    .await
}

/// Filters for the case list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    pub outcome: Option<String>,
    /// Intake dates, both ends included.
    pub intake_from: Option<String>,
    pub intake_to: Option<String>,
    /// Only cases a studio or team (org unit id) or cadre (person id) mediates.
    pub mediator: Option<(String, i64)>,
}

/// A page of cases visible in `scope`, newest intake first, and how many there are.
pub async fn list_cases(
    exec: &mut Exec<'_>,
    scope: &Scope,
    f: &CaseFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<CaseRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let mut wh = vec![scope::predicate(&mut q, scope, "c")];
    if let Some(s) = &f.status {
        wh.push(format!("c.status = {}", q.push_arg(s)));
    }
    if let Some(s) = &f.category {
        wh.push(format!("c.category = {}", q.push_arg(s)));
    }
    if let Some(s) = &f.outcome {
        wh.push(format!("c.outcome = {}", q.push_arg(s)));
    }
    if let Some(s) = &f.intake_from {
        wh.push(format!("c.intake_on >= {}", q.push_arg(s)));
    }
    if let Some(s) = &f.intake_to {
        wh.push(format!("c.intake_on <= {}", q.push_arg(s)));
    }
    if let Some((kind, id)) = &f.mediator {
        wh.push(format!(
            "EXISTS (SELECT 1 FROM mediation_mediators m WHERE m.county_code = c.county_code
                 AND m.case_id = c.id AND m.kind = {} AND m.mediator_id = {})",
            q.push_arg(kind),
            q.push_arg(*id)
        ));
    }
    let wh = wh.join(" AND ");
    let mut count_q = q.clone();
    count_q.sql = format!("SELECT COUNT(*) FROM mediation_cases c WHERE {wh}").into();
    let total: i64 = exec.scalar(count_q).await?;
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "{CASE_SELECT} WHERE {wh} ORDER BY c.intake_on DESC, c.county_code, c.id DESC LIMIT {l} OFFSET {o}"
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

/// Moves a case to `status` if `version` still matches (the optimistic check every write
/// on a case starts with; on PostgreSQL it also locks the row until commit).
pub async fn bump(
    exec: &mut Exec<'_>,
    county_code: i64,
    id: i64,
    version: i64,
    status: &str,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE mediation_cases SET status = $4, updated_at = $5, version = version + 1
              WHERE county_code = $1 AND id = $2 AND version = $3",
            county_code,
            id,
            version,
            status,
            now
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::Stale);
    }
    Ok(())
}

/// Records the outcome of a case (after [`bump`] in the same transaction).
pub async fn set_outcome(
    exec: &mut Exec<'_>,
    county_code: i64,
    id: i64,
    outcome: &str,
    concluded_on: &str,
    note: Option<&str>,
    referred_to: Option<&str>,
) -> Result<()> {
    exec.execute(q!(
        "UPDATE mediation_cases SET outcome = $3, concluded_on = $4, outcome_note = $5, referred_to = $6
          WHERE county_code = $1 AND id = $2",
        county_code,
        id,
        outcome,
        concluded_on,
        note,
        referred_to
    ))
    .await?;
    Ok(())
}

/// Records the latest follow-up on the case row (after [`bump`]).
pub async fn set_followed_up(
    exec: &mut Exec<'_>,
    county_code: i64,
    id: i64,
    visited_on: &str,
    holds: Option<bool>,
) -> Result<()> {
    exec.execute(q!(
        "UPDATE mediation_cases SET followed_up_on = $3, agreement_holds = $4
          WHERE county_code = $1 AND id = $2",
        county_code,
        id,
        visited_on,
        holds
    ))
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PartyRow {
    pub seq: i64,
    pub side: String,
    pub name: String,
    pub person_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewParty {
    pub county_code: i64,
    pub case_id: i64,
    pub seq: i64,
    pub side: String,
    pub name: String,
    pub person_id: Option<i64>,
}

pub async fn insert_parties(exec: &mut Exec<'_>, rows: &[NewParty]) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(6)) {
        let mut q = Query::new("", Vec::new());
        let values: Vec<String> = chunk
            .iter()
            .map(|p| {
                let v = [
                    q.push_arg(p.county_code),
                    q.push_arg(p.case_id),
                    q.push_arg(p.seq),
                    q.push_arg(&p.side),
                    q.push_arg(&p.name),
                    q.push_arg(p.person_id),
                ];
                format!("({})", v.join(", "))
            })
            .collect();
        q.sql = format!(
            "INSERT INTO mediation_parties (county_code, case_id, seq, side, name, person_id) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn parties(exec: &mut Exec<'_>, county_code: i64, case_id: i64) -> Result<Vec<PartyRow>> {
    exec.fetch_all(q!(
        "SELECT seq, side, name, person_id FROM mediation_parties
          WHERE county_code = $1 AND case_id = $2 ORDER BY seq",
        county_code,
        case_id
    ))
    .await
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct MediatorRow {
    pub kind: String,
    pub mediator_id: i64,
    pub name: String,
    pub assigned_at: Micros,
    pub assigned_by_name: String,
}

#[derive(Debug, Clone)]
pub struct NewMediator {
    pub county_code: i64,
    pub case_id: i64,
    pub kind: String,
    pub mediator_id: i64,
    pub mediator_path: String,
    pub name: String,
    pub assigned_by_name: String,
    pub now: Micros,
}

pub async fn insert_mediators(exec: &mut Exec<'_>, rows: &[NewMediator]) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(8)) {
        let mut q = Query::new("", Vec::new());
        let values: Vec<String> = chunk
            .iter()
            .map(|m| {
                let v = [
                    q.push_arg(m.county_code),
                    q.push_arg(m.case_id),
                    q.push_arg(&m.kind),
                    q.push_arg(m.mediator_id),
                    q.push_arg(&m.mediator_path),
                    q.push_arg(&m.name),
                    q.push_arg(m.now),
                    q.push_arg(&m.assigned_by_name),
                ];
                format!("({})", v.join(", "))
            })
            .collect();
        q.sql = format!(
            "INSERT INTO mediation_mediators (county_code, case_id, kind, mediator_id, mediator_path, name,
                assigned_at, assigned_by_name) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn mediators(
    exec: &mut Exec<'_>,
    county_code: i64,
    case_id: i64,
) -> Result<Vec<MediatorRow>> {
    exec.fetch_all(q!(
        "SELECT kind, mediator_id, name, assigned_at, assigned_by_name FROM mediation_mediators
          WHERE county_code = $1 AND case_id = $2 ORDER BY assigned_at, kind, mediator_id",
        county_code,
        case_id
    ))
    .await
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub held_on: String,
    /// JSON array of `{"kind","id","name"}`: the assigned mediators who were there.
    pub present: String,
    pub note: String,
    pub recorded_at: Micros,
    pub recorded_by_name: String,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub county_code: i64,
    pub id: i64,
    pub case_id: i64,
    pub held_on: String,
    pub present: String,
    pub note: String,
    pub recorded_by_name: String,
    pub now: Micros,
}

pub async fn insert_sessions(exec: &mut Exec<'_>, rows: &[NewSession]) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(8)) {
        let mut q = Query::new("", Vec::new());
        let values: Vec<String> = chunk
            .iter()
            .map(|s| {
                let v = [
                    q.push_arg(s.county_code),
                    q.push_arg(s.id),
                    q.push_arg(s.case_id),
                    q.push_arg(&s.held_on),
                    q.push_arg(&s.present),
                    q.push_arg(&s.note),
                    q.push_arg(s.now),
                    q.push_arg(&s.recorded_by_name),
                ];
                format!("({})", v.join(", "))
            })
            .collect();
        q.sql = format!(
            "INSERT INTO mediation_sessions (county_code, id, case_id, held_on, present, note, recorded_at,
                recorded_by_name) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn sessions(
    exec: &mut Exec<'_>,
    county_code: i64,
    case_id: i64,
) -> Result<Vec<SessionRow>> {
    exec.fetch_all(q!(
        "SELECT id, held_on, present, note, recorded_at, recorded_by_name FROM mediation_sessions
          WHERE county_code = $1 AND case_id = $2 ORDER BY held_on, id",
        county_code,
        case_id
    ))
    .await
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct FollowupRow {
    pub id: i64,
    pub visited_on: String,
    /// Whether the agreement holds; None when there was no agreement to keep.
    pub holds: Option<bool>,
    pub note: String,
    pub recorded_at: Micros,
    pub recorded_by_name: String,
}

#[derive(Debug, Clone)]
pub struct NewFollowup {
    pub county_code: i64,
    pub id: i64,
    pub case_id: i64,
    pub visited_on: String,
    pub holds: Option<bool>,
    pub note: String,
    pub recorded_by_name: String,
    pub now: Micros,
}

pub async fn insert_followups(exec: &mut Exec<'_>, rows: &[NewFollowup]) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(8)) {
        let mut q = Query::new("", Vec::new());
        let values: Vec<String> = chunk
            .iter()
            .map(|f| {
                let v = [
                    q.push_arg(f.county_code),
                    q.push_arg(f.id),
                    q.push_arg(f.case_id),
                    q.push_arg(&f.visited_on),
                    q.push_arg(f.holds),
                    q.push_arg(&f.note),
                    q.push_arg(f.now),
                    q.push_arg(&f.recorded_by_name),
                ];
                format!("({})", v.join(", "))
            })
            .collect();
        q.sql = format!(
            "INSERT INTO mediation_followups (county_code, id, case_id, visited_on, holds, note, recorded_at,
                recorded_by_name) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn followups(
    exec: &mut Exec<'_>,
    county_code: i64,
    case_id: i64,
) -> Result<Vec<FollowupRow>> {
    exec.fetch_all(q!(
        "SELECT id, visited_on, holds, note, recorded_at, recorded_by_name FROM mediation_followups
          WHERE county_code = $1 AND case_id = $2 ORDER BY visited_on, id",
        county_code,
        case_id
    ))
    .await
}

/// The outcome-count columns of a stats query over alias `c`.
const COUNTS: &str = "COUNT(*) AS concluded,
        COUNT(CASE WHEN c.outcome = 'success' THEN 1 END) AS success,
        COUNT(CASE WHEN c.outcome = 'partial' THEN 1 END) AS partial,
        COUNT(CASE WHEN c.outcome = 'failed' THEN 1 END) AS failed,
        COUNT(CASE WHEN c.outcome = 'referred' THEN 1 END) AS referred";

#[derive(sqlx::FromRow)]
struct CountsRow {
    concluded: i64,
    success: i64,
    partial: i64,
    failed: i64,
    referred: i64,
}

impl From<CountsRow> for OutcomeCounts {
    fn from(r: CountsRow) -> Self {
        OutcomeCounts {
            concluded: r.concluded,
            success: r.success,
            partial: r.partial,
            failed: r.failed,
            referred: r.referred,
        }
    }
}

/// The cases-in-period condition: concluded between `from` and `to` (ISO dates, inclusive).
fn concluded_between(q: &mut Query, from: &str, to: &str) -> String {
    format!(
        "c.concluded_on >= {} AND c.concluded_on <= {}",
        q.push_arg(from),
        q.push_arg(to)
    )
}

/// Outcome counts of the cases in `scope` concluded in the period.
pub async fn outcome_counts(
    exec: &mut Exec<'_>,
    scope: &Scope,
    from: &str,
    to: &str,
) -> Result<OutcomeCounts> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "c");
    let period = concluded_between(&mut q, from, to);
    q.sql = format!("SELECT {COUNTS} FROM mediation_cases c WHERE {wh} AND {period}").into();
    Ok(exec.fetch_one::<CountsRow>(q).await?.into())
}

/// How many cases in `scope` were taken in during the period, and how many of all cases in
/// scope are still open (taken in or being mediated).
pub async fn intake_and_open(
    exec: &mut Exec<'_>,
    scope: &Scope,
    from: &str,
    to: &str,
) -> Result<(i64, i64)> {
    #[derive(sqlx::FromRow)]
    struct Row {
        taken: i64,
        open: i64,
    }
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "c");
    let (f, t) = (q.push_arg(from), q.push_arg(to));
    q.sql = format!(
        "SELECT COUNT(CASE WHEN c.intake_on >= {f} AND c.intake_on <= {t} THEN 1 END) AS taken,
                COUNT(CASE WHEN c.status IN ('intake', 'mediating') THEN 1 END) AS open
           FROM mediation_cases c WHERE {wh}"
    )
    .into();
    let r: Row = exec.fetch_one(q).await?;
    Ok((r.taken, r.open))
}

/// Outcome counts per subtree: `buckets` are unit paths (children of the unit looked at);
/// each case in scope concluded in the period falls in the bucket whose subtree holds it.
/// One statement, grouped by bucket index; buckets with no cases are absent.
pub async fn outcome_counts_by_subtree(
    exec: &mut Exec<'_>,
    scope: &Scope,
    buckets: &[(i64, String)],
    from: &str,
    to: &str,
) -> Result<Vec<(usize, OutcomeCounts)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        bucket: i64,
        concluded: i64,
        success: i64,
        partial: i64,
        failed: i64,
        referred: i64,
    }
    if buckets.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "c");
    let period = concluded_between(&mut q, from, to);
    let arms: Vec<String> = buckets
        .iter()
        .enumerate()
        .map(|(i, (county, path))| {
            format!(
                "WHEN c.county_code = {} AND c.path >= {} AND c.path < {} THEN {}",
                q.push_arg(*county),
                q.push_arg(path.as_str()),
                q.push_arg(format!("{path}~")),
                // Bound, not inlined: a BIGINT on PostgreSQL, where a literal is INT4.
                q.push_arg(i as i64)
            )
        })
        .collect();
    q.sql = format!(
        "SELECT bucket, COUNT(*) AS concluded,
                COUNT(CASE WHEN outcome = 'success' THEN 1 END) AS success,
                COUNT(CASE WHEN outcome = 'partial' THEN 1 END) AS partial,
                COUNT(CASE WHEN outcome = 'failed' THEN 1 END) AS failed,
                COUNT(CASE WHEN outcome = 'referred' THEN 1 END) AS referred
           FROM (SELECT CASE {} ELSE -1 END AS bucket, c.outcome
                   FROM mediation_cases c WHERE {wh} AND {period}) b
          WHERE bucket >= 0
          GROUP BY bucket ORDER BY bucket",
        arms.join(" ")
    )
    .into();
    Ok(exec
        .fetch_all::<Row>(q)
        .await?
        .into_iter()
        .map(|r| {
            (
                usize::try_from(r.bucket).unwrap_or(0),
                OutcomeCounts {
                    concluded: r.concluded,
                    success: r.success,
                    partial: r.partial,
                    failed: r.failed,
                    referred: r.referred,
                },
            )
        })
        .collect())
}

/// A mediator's figures over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediatorCounts {
    pub county_code: i64,
    pub kind: String,
    pub mediator_id: i64,
    pub name: String,
    pub counts: OutcomeCounts,
}

/// Outcome counts per mediator (studio, team or cadre) of the cases in `scope` concluded in
/// the period: one statement grouped by mediator. A case with two mediators counts for each.
pub async fn outcome_counts_by_mediator(
    exec: &mut Exec<'_>,
    scope: &Scope,
    from: &str,
    to: &str,
) -> Result<Vec<MediatorCounts>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        county_code: i64,
        kind: String,
        mediator_id: i64,
        name: String,
        concluded: i64,
        success: i64,
        partial: i64,
        failed: i64,
        referred: i64,
    }
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "c");
    let period = concluded_between(&mut q, from, to);
    q.sql = format!(
        "SELECT m.county_code, m.kind, m.mediator_id, MAX(m.name) AS name, {COUNTS}
           FROM mediation_cases c
           JOIN mediation_mediators m ON m.county_code = c.county_code AND m.case_id = c.id
          WHERE {wh} AND {period}
          GROUP BY m.county_code, m.kind, m.mediator_id
          ORDER BY m.kind, COUNT(*) DESC, m.county_code, m.mediator_id"
    )
    .into();
    Ok(exec
        .fetch_all::<Row>(q)
        .await?
        .into_iter()
        .map(|r| MediatorCounts {
            county_code: r.county_code,
            kind: r.kind,
            mediator_id: r.mediator_id,
            name: r.name,
            counts: OutcomeCounts {
                concluded: r.concluded,
                success: r.success,
                partial: r.partial,
                failed: r.failed,
                referred: r.referred,
            },
        })
        .collect())
}

/// Cases in `scope` concluded in the period, for the Excel ledger (capped at `limit`).
pub async fn concluded_cases(
    exec: &mut Exec<'_>,
    scope: &Scope,
    from: &str,
    to: &str,
    limit: i64,
) -> Result<Vec<CaseRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "c");
    let period = concluded_between(&mut q, from, to);
    let l = q.push_arg(limit);
    q.sql = format!(
        "{CASE_SELECT} WHERE {wh} AND {period} ORDER BY c.concluded_on, c.county_code, c.id LIMIT {l}"
    )
    .into();
    exec.fetch_all(q).await
}

/// Mediators' names per case, for a list of cases ("和为贵调解工作室、王老师").
pub async fn mediator_names(
    exec: &mut Exec<'_>,
    cases: &[(i64, i64)],
) -> Result<Vec<(i64, i64, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        county_code: i64,
        case_id: i64,
        name: String,
    }
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for chunk in cases.chunks(200) {
        let mut q = Query::new("", Vec::new());
        let conds: Vec<String> = chunk
            .iter()
            .map(|(c, id)| {
                format!(
                    "(county_code = {} AND case_id = {})",
                    q.push_arg(*c),
                    q.push_arg(*id)
                )
            })
            .collect();
        q.sql = format!(
            "SELECT county_code, case_id, name FROM mediation_mediators WHERE {}
              ORDER BY county_code, case_id, assigned_at, kind, mediator_id",
            conds.join(" OR ")
        )
        .into();
        out.extend(
            exec.fetch_all::<Row>(q)
                .await?
                .into_iter()
                .map(|r| (r.county_code, r.case_id, r.name)),
        );
    }
    Ok(out)
}

/// A unit or person that can be picked (as mediator, or as where a case arose).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PickRow {
    pub county_code: i64,
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub path: String,
}

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
/// picker: `kind` is "person".
pub async fn retired_cadres(
    exec: &mut Exec<'_>,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<PickRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "p");
    let l = q.push_arg(limit);
    q.sql = format!(
        "SELECT p.county_code, p.id, 'person' AS kind, p.name, p.path FROM people p
          WHERE {wh} AND p.status = 'active' AND EXISTS (SELECT 1 FROM person_roles r
                WHERE r.county_code = p.county_code AND r.person_id = p.id AND r.kind = 'retired_cadre')
          ORDER BY p.county_code, p.path, p.name_pinyin, p.id LIMIT {l}"
    )
    .into();
    exec.fetch_all(q).await
}

/// Whether a person holds the retired-cadre role.
pub async fn is_retired_cadre(
    exec: &mut Exec<'_>,
    county_code: i64,
    person_id: i64,
) -> Result<bool> {
    let n: i64 = exec
        .scalar(q!(
            "SELECT COUNT(*) FROM person_roles WHERE county_code = $1 AND person_id = $2 AND kind = 'retired_cadre'",
            county_code,
            person_id
        ))
        .await?;
    Ok(n > 0)
}

/// How many cases a county holds (the demo seeds a county only once).
pub async fn count_in_county(exec: &mut Exec<'_>, county_code: i64) -> Result<i64> {
    exec.scalar(q!(
        "SELECT COUNT(*) FROM mediation_cases WHERE county_code = $1",
        county_code
    ))
    .await
}
