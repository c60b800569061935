//! Compiles a caller's [`Scope`] into SQL: one range predicate per granted subtree, placed
//! inside the query so counting, paging and sorting only ever see visible rows.

use yinling_domain::scope::Scope;

use crate::Query;

/// Appends the scope's arguments to `q` and returns the predicate text for a table alias
/// (`"p"` → `p.county_code = $3 AND p.path >= $4 AND p.path < $5`). An empty scope
/// compiles to a predicate that is always false.
pub fn predicate(q: &mut Query, scope: &Scope, alias: &str) -> String {
    predicate_on(
        q,
        scope,
        &format!("{alias}.county_code"),
        &format!("{alias}.path"),
    )
}

/// The tenants a scope can touch, as a condition on `county_col`: equality for a county,
/// `IN (the city's county codes)` for a city, so an index leading with
/// `(county_code, key)` is probed once per county rather than scanned whole.
pub fn tenants(q: &mut Query, scope: &Scope, county_col: &str) -> String {
    if scope.is_empty() {
        return "1 = 0".to_owned();
    }
    let parts: Vec<String> = scope
        .ranges()
        .iter()
        .map(|r| match r.single_county() {
            Some(c) => format!("{county_col} = {}", q.push_arg(c)),
            None => format!(
                "{county_col} IN (SELECT county_code FROM regions WHERE level IN ('city', 'county') \
                 AND county_code BETWEEN {} AND {})",
                q.push_arg(r.county_lo),
                q.push_arg(r.county_hi)
            ),
        })
        .collect();
    format!("({})", parts.join(" OR "))
}

/// Same, naming the county and path columns explicitly (e.g. a role's `unit_county_code`).
pub fn predicate_on(q: &mut Query, scope: &Scope, county_col: &str, path_col: &str) -> String {
    if scope.is_empty() {
        return "1 = 0".to_owned();
    }
    let parts: Vec<String> = scope
        .ranges()
        .iter()
        .map(|r| {
            let county = match r.single_county() {
                Some(c) => format!("{county_col} = {}", q.push_arg(c)),
                None => format!(
                    "{county_col} BETWEEN {} AND {}",
                    q.push_arg(r.county_lo),
                    q.push_arg(r.county_hi)
                ),
            };
            format!(
                "({county} AND {path_col} >= {} AND {path_col} < {})",
                q.push_arg(r.path.as_str()),
                q.push_arg(r.path.upper_bound())
            )
        })
        .collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join(" OR "))
    }
}
