//! Search within a scope, and the rows an export writes.

use super::*;

/// Counting stops here: beyond it a list says "10000+" instead of scanning everything.
pub const COUNT_CAP: i64 = 10_000;

/// Lists people visible in `scope` (by where they live) matching `filter`, ordered by
/// place then name. Returns the page and the total, capped at [`COUNT_CAP`] + 1.
pub async fn search(
    exec: &mut Exec<'_>,
    scope: &Scope,
    filter: &PersonFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PersonListRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let mut wh = vec![scope::predicate(&mut q, scope, "p")];
    // A search term is looked up first, on its own index, in each county of the scope; the
    // scope and the other filters then apply to those few candidates. Given the term and the
    // scope's path range in one WHERE, a planner may prefer walking the path range, which for
    // a county or city scope is everyone; the LIMIT keeps SQLite from flattening the
    // candidate list back into such a plan.
    let mut from = "people p".to_owned();
    if let Some(term) = &filter.term {
        let tenants = scope::tenants(&mut q, scope, "c.county_code");
        let key = |cond: &str| {
            format!("SELECT c.county_code, c.id FROM people c WHERE {tenants} AND {cond}")
        };
        let candidates = match term {
            SearchTerm::Name(n) => {
                let (a, b) = (q.push_arg(n), q.push_arg(format!("{n}\u{10FFFF}")));
                key(&format!("c.name >= {a} AND c.name < {b}"))
            }
            SearchTerm::Letters(l) => {
                let a = q.push_arg(l);
                let pinyin = if l.len() >= 5 {
                    let b = q.push_arg(format!("{l}~"));
                    format!("c.name_pinyin >= {a} AND c.name_pinyin < {b}")
                } else {
                    format!("c.name_pinyin = {a}")
                };
                format!(
                    "{} UNION {}",
                    key(&format!("c.name_initials = {a}")),
                    key(&pinyin)
                )
            }
            SearchTerm::IdLast4Bidx(b) => {
                let a = q.push_arg(b);
                key(&format!("c.id4_bidx = {a}"))
            }
            SearchTerm::IdBidx(b) => {
                let a = q.push_arg(b);
                key(&format!("c.id_bidx = {a}"))
            }
            SearchTerm::PhoneBidx(b) => {
                let a = q.push_arg(b);
                key(&format!("c.phone_bidx = {a}"))
            }
        };
        from = format!(
            "(SELECT k.county_code, k.id FROM ({candidates}) k LIMIT 100000000) k
             JOIN people p ON p.county_code = k.county_code AND p.id = k.id"
        );
    }
    if let Some(s) = &filter.status {
        wh.push(format!("p.status = {}", q.push_arg(s.as_str())));
    }
    if let Some(g) = &filter.gender {
        wh.push(format!("p.gender = {}", q.push_arg(g.as_str())));
    }
    if let Some(d) = &filter.born_on_or_before {
        wh.push(format!("p.birth_date <= {}", q.push_arg(d)));
    }
    if let Some(d) = &filter.born_on_or_after {
        wh.push(format!("p.birth_date >= {}", q.push_arg(d)));
    }
    if let Some(k) = &filter.role_kind {
        wh.push(format!(
            "EXISTS (SELECT 1 FROM person_roles r WHERE r.county_code = p.county_code AND r.person_id = p.id AND r.kind = {})",
            q.push_arg(k.as_str())
        ));
    }
    if let Some(t) = filter.tag_id {
        wh.push(format!(
            "EXISTS (SELECT 1 FROM person_tags t WHERE t.county_code = p.county_code AND t.person_id = p.id
               AND t.tag_id = {} AND t.revoked_at IS NULL)",
            q.push_arg(t)
        ));
    }
    let wh = wh.join(" AND ");
    let mut count_q = q.clone();
    let cap = count_q.push_arg(COUNT_CAP + 1);
    count_q.sql =
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM {from} WHERE {wh} LIMIT {cap}) c").into();
    let total: i64 = exec.scalar(count_q).await?;
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "SELECT p.county_code, p.id, p.path, p.name, p.gender, p.birth_date, p.id_enc, p.phone_enc,
                p.status, u.name AS unit_name, h.label AS household_label
                      FROM {from}
           LEFT JOIN org_units u ON u.county_code = p.county_code AND u.id = p.home_unit_id
           LEFT JOIN places h ON h.county_code = p.county_code AND h.id = p.household_id
          WHERE {wh}
          ORDER BY p.county_code, p.path, p.name_pinyin, p.id
          LIMIT {l} OFFSET {o}"
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

/// Everyone visible in `scope` matching `filter`, in list order, for exports; at most `max`.
pub async fn export_rows(
    exec: &mut Exec<'_>,
    scope: &Scope,
    filter: &PersonFilter,
    max: i64,
) -> Result<Vec<PersonListRow>> {
    search(exec, scope, filter, max, 0)
        .await
        .map(|(rows, _)| rows)
}

/// Ids of up to `limit` people in `scope` whose name contains `text`, in list order: a
/// substring match that no index serves. It is what [`search`] replaces; `yinling bench
/// search` measures it beside [`search`] as the plain alternative.
pub async fn ids_with_name_containing(
    exec: &mut Exec<'_>,
    scope: &Scope,
    text: &str,
    limit: i64,
) -> Result<Vec<PersonId>> {
    let mut query = Query::new("", Vec::new());
    let pred = scope::predicate(&mut query, scope, "p");
    let pattern = query.push_arg(format!("%{text}%"));
    let limit = query.push_arg(limit);
    query.sql = format!(
        "SELECT p.id FROM people p WHERE {pred} AND p.name LIKE {pattern} \
         ORDER BY p.county_code, p.path, p.name_pinyin, p.id LIMIT {limit}"
    )
    .into();
    exec.scalars(query).await
}
