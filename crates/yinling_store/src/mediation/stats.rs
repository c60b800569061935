//! Outcome counts for a period, per subtree and per mediator.

use super::*;

/// The outcome-count columns of a stats query over alias `c`.
pub(super) const COUNTS: &str = "COUNT(*) AS concluded,
        COUNT(CASE WHEN c.outcome = 'success' THEN 1 END) AS success,
        COUNT(CASE WHEN c.outcome = 'partial' THEN 1 END) AS partial,
        COUNT(CASE WHEN c.outcome = 'failed' THEN 1 END) AS failed,
        COUNT(CASE WHEN c.outcome = 'referred' THEN 1 END) AS referred";

/// The cases-in-period condition: concluded between `from` and `to` (ISO dates, inclusive).
pub(super) fn concluded_between(q: &mut Query, from: &str, to: &str) -> String {
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
    buckets: &[(CountyCode, String)],
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
        county_code: CountyCode,
        kind: MediatorKind,
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
            mediator: Mediator::from_parts(r.kind, r.mediator_id),
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
    cases: &[Key<CaseId>],
) -> Result<Vec<(Key<CaseId>, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        county_code: CountyCode,
        case_id: CaseId,
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
            .map(|k| {
                format!(
                    "(county_code = {} AND case_id = {})",
                    q.push_arg(k.county_code),
                    q.push_arg(k.id)
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
                .map(|r| (Key::new(r.county_code, r.case_id), r.name)),
        );
    }
    Ok(out)
}
