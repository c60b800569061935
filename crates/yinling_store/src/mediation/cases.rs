//! A case and what is recorded on it: parties, mediators, sessions, outcome, follow-ups.

use super::*;

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
                q.push_arg(c.category.as_str()),
                q.push_arg(&c.summary),
                q.push_arg(&c.intake_on),
                q.push_arg(c.taken_by),
                q.push_arg(&c.taken_by_name),
                q.push_arg(c.status.as_str()),
                q.push_arg(c.outcome.map(Outcome::as_str)),
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

pub async fn get_case(exec: &mut Exec<'_>, key: Key<CaseId>) -> Result<Option<CaseRow>> {
    exec.fetch_optional(q!(
        format!("{CASE_SELECT} WHERE c.county_code = $1 AND c.id = $2"),
        key.county_code,
        key.id
    ))
    .await
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
    if let Some(s) = f.status {
        wh.push(format!("c.status = {}", q.push_arg(s.as_str())));
    }
    if let Some(s) = f.category {
        wh.push(format!("c.category = {}", q.push_arg(s.as_str())));
    }
    if let Some(s) = f.outcome {
        wh.push(format!("c.outcome = {}", q.push_arg(s.as_str())));
    }
    if let Some(s) = &f.intake_from {
        wh.push(format!("c.intake_on >= {}", q.push_arg(s)));
    }
    if let Some(s) = &f.intake_to {
        wh.push(format!("c.intake_on <= {}", q.push_arg(s)));
    }
    if let Some(m) = f.mediator {
        wh.push(format!(
            "EXISTS (SELECT 1 FROM mediation_mediators m WHERE m.county_code = c.county_code
                 AND m.case_id = c.id AND m.kind = {} AND m.mediator_id = {})",
            q.push_arg(m.kind().as_str()),
            q.push_arg(m.id())
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
    key: Key<CaseId>,
    version: i64,
    status: CaseStatus,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE mediation_cases SET status = $4, updated_at = $5, version = version + 1
              WHERE county_code = $1 AND id = $2 AND version = $3",
            key.county_code,
            key.id,
            version,
            status.as_str(),
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
    key: Key<CaseId>,
    outcome: Outcome,
    concluded_on: &str,
    note: Option<&str>,
    referred_to: Option<&str>,
) -> Result<()> {
    exec.execute(q!(
        "UPDATE mediation_cases SET outcome = $3, concluded_on = $4, outcome_note = $5, referred_to = $6
          WHERE county_code = $1 AND id = $2",
        key.county_code,
        key.id,
        outcome.as_str(),
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
    key: Key<CaseId>,
    visited_on: &str,
    holds: Option<bool>,
) -> Result<()> {
    exec.execute(q!(
        "UPDATE mediation_cases SET followed_up_on = $3, agreement_holds = $4
          WHERE county_code = $1 AND id = $2",
        key.county_code,
        key.id,
        visited_on,
        holds
    ))
    .await?;
    Ok(())
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
                    q.push_arg(p.side.as_str()),
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

pub async fn parties(exec: &mut Exec<'_>, case: Key<CaseId>) -> Result<Vec<PartyRow>> {
    exec.fetch_all(q!(
        "SELECT seq, side, name, person_id FROM mediation_parties
          WHERE county_code = $1 AND case_id = $2 ORDER BY seq",
        case.county_code,
        case.id
    ))
    .await
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
                    q.push_arg(m.mediator.kind().as_str()),
                    q.push_arg(m.mediator.id()),
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

pub async fn mediators(exec: &mut Exec<'_>, case: Key<CaseId>) -> Result<Vec<MediatorRow>> {
    let rows: Vec<MediatorColumns> = exec
        .fetch_all(q!(
            "SELECT kind, mediator_id, name, assigned_at, assigned_by_name FROM mediation_mediators
          WHERE county_code = $1 AND case_id = $2 ORDER BY assigned_at, kind, mediator_id",
            case.county_code,
            case.id
        ))
        .await?;
    Ok(rows.into_iter().map(MediatorRow::from).collect())
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

pub async fn sessions(exec: &mut Exec<'_>, case: Key<CaseId>) -> Result<Vec<SessionRow>> {
    exec.fetch_all(q!(
        "SELECT id, held_on, present, note, recorded_at, recorded_by_name FROM mediation_sessions
          WHERE county_code = $1 AND case_id = $2 ORDER BY held_on, id",
        case.county_code,
        case.id
    ))
    .await
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

pub async fn followups(exec: &mut Exec<'_>, case: Key<CaseId>) -> Result<Vec<FollowupRow>> {
    exec.fetch_all(q!(
        "SELECT id, visited_on, holds, note, recorded_at, recorded_by_name FROM mediation_followups
          WHERE county_code = $1 AND case_id = $2 ORDER BY visited_on, id",
        case.county_code,
        case.id
    ))
    .await
}
