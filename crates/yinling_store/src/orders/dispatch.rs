//! Dispatch: the orders awaiting it or overdue, providers' loads and conflicts (a volunteer
//! may not serve their own or their household's order), and capacity checked inside the
//! dispatching write.

use super::*;

/// Open orders of a county not yet accepted and not waiting on an offer, most urgent and
/// oldest first: what batch dispatch assigns.
pub async fn awaiting_dispatch(
    exec: &mut Exec<'_>,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<OrderRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "o");
    let l = q.push_arg(limit);
    q.sql = format!(
        "SELECT {} FROM orders o WHERE {wh} AND o.state = 'submitted'
          ORDER BY CASE o.urgency WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END,
                   o.created_at, o.id LIMIT {l}",
        prefixed(COLUMNS, "o")
    )
    .into();
    exec.fetch_all(q).await
}

/// Open orders past their SLA and not yet accepted (for the escalation job).
pub async fn overdue(exec: &mut Exec<'_>, now: Micros, limit: i64) -> Result<Vec<OrderRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {COLUMNS} FROM orders WHERE state IN ('submitted', 'dispatched') AND sla_due_at <= $1
              ORDER BY sla_due_at, county_code, id LIMIT $2"
        ),
        now,
        limit
    ))
    .await
}

/// What makes up a provider's load — the one rule for ranking ([`provider_loads`]) and for
/// the capacity check inside dispatching ([`lock_loads`]): their open offers plus the
/// orders they have accepted or are serving.
pub(super) const LOAD_OFFERS: &str = "status = 'open'";

pub(super) const LOAD_ORDERS: &str = "state IN ('accepted', 'in_service')";

/// Each provider's current load (open offers plus orders accepted or in service) and how
/// many orders it took since `since`, for a county.
pub async fn provider_loads(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    since: Micros,
) -> Result<Vec<(ProviderId, i64, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        provider_id: ProviderId,
        load: i64,
        recent: i64,
    }
    let rows: Vec<Row> = exec
        .fetch_all(q!(
            format!(
                "SELECT provider_id, SUM(load) AS load, SUM(recent) AS recent FROM (
                     SELECT provider_id, 1 AS load, 0 AS recent FROM order_offers
                      WHERE county_code = $1 AND {LOAD_OFFERS}
                     UNION ALL
                     SELECT provider_id, 1 AS load, 0 AS recent FROM orders
                      WHERE county_code = $1 AND {LOAD_ORDERS}
                     UNION ALL
                     SELECT provider_id, 0 AS load, 1 AS recent FROM orders
                      WHERE county_code = $1 AND accepted_at >= $2
                 ) x WHERE provider_id IS NOT NULL GROUP BY provider_id"
            ),
            county_code,
            since
        ))
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.provider_id, r.load, r.recent))
        .collect())
}

/// For each of these orders, the providers party to it: a volunteer who is the resident, a
/// member of the resident's household or the person who placed it; a team, studio or
/// partner one of whose members (accounts holding a role on its unit) placed it or is such
/// a person. Matching leaves them out and they may not accept, serve or be paid for it.
pub async fn conflicted_providers(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    order_ids: &[OrderId],
) -> Result<Vec<(OrderId, ProviderId)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        order_id: OrderId,
        provider_id: ProviderId,
    }
    let pg = exec.is_postgres();
    let mut out = Vec::new();
    for chunk in order_ids.chunks(10_000) {
        let sql = format!(
            "WITH o AS (
                 SELECT id, person_id, placed_by FROM orders WHERE county_code = $1 AND {ids}
             ),
             parties AS (
                 SELECT o.id AS order_id, o.person_id AS person_id FROM o
                 UNION
                 SELECT o.id, h.id FROM o
                   JOIN people r ON r.county_code = $1 AND r.id = o.person_id
                   JOIN people h ON h.county_code = $1 AND h.household_id = r.household_id
                 UNION
                 SELECT o.id, a.person_id FROM o JOIN accounts a ON a.id = o.placed_by
                  WHERE a.person_county_code = $1 AND a.person_id IS NOT NULL
             ),
             party_accounts AS (
                 SELECT o.id AS order_id, o.placed_by AS account_id FROM o
                  WHERE o.placed_by IS NOT NULL
                 UNION
                 SELECT x.order_id, a.id FROM parties x
                   JOIN accounts a ON a.person_county_code = $1 AND a.person_id = x.person_id
             )
             SELECT x.order_id, p.id AS provider_id FROM parties x
               JOIN providers p ON p.county_code = $1 AND p.person_id = x.person_id
             UNION
             SELECT y.order_id, p.id FROM party_accounts y
               JOIN grants g ON g.account_id = y.account_id AND g.unit_county_code = $1
               JOIN providers p ON p.county_code = $1 AND p.unit_id = g.unit_id",
            ids = db::in_list(pg, "id", "$2", "BIGINT")
        );
        let rows: Vec<Row> = exec
            .fetch_all(q!(sql, county_code, db::id_list(pg, &numbers(chunk))))
            .await?;
        out.extend(rows.into_iter().map(|r| (r.order_id, r.provider_id)));
    }
    Ok(out)
}

/// Locks the providers' rows until the transaction ends (PostgreSQL `FOR UPDATE`, in id
/// order so two dispatchers never deadlock; SQLite's one writer already serialises), then
/// counts each one's load in a statement of its own. Under READ COMMITTED that statement
/// sees every dispatch committed before the lock was granted, so a dispatcher that offers
/// only while `load < capacity` cannot push anyone over: the capacity check is part of the
/// dispatching transaction, not a read before it.
pub async fn lock_loads(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    provider_ids: &[ProviderId],
) -> Result<Vec<ProviderLoad>> {
    let mut ids = numbers(provider_ids);
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let pg = exec.is_postgres();
    let lock = db::Lock::Update.clause(pg);
    if !lock.is_empty() {
        exec.scalars::<i64>(q!(
            format!(
                "SELECT id FROM providers WHERE county_code = $1 AND {} ORDER BY id{lock}",
                db::in_list(pg, "id", "$2", "BIGINT")
            ),
            county_code,
            db::id_list(pg, &ids)
        ))
        .await?;
    }
    exec.fetch_all(q!(
        format!(
            "SELECT p.id, p.capacity, p.active,
                    (SELECT COUNT(*) FROM order_offers f
                      WHERE f.county_code = p.county_code AND f.provider_id = p.id
                        AND f.{LOAD_OFFERS})
                  + (SELECT COUNT(*) FROM orders o
                      WHERE o.county_code = p.county_code AND o.provider_id = p.id
                        AND o.{LOAD_ORDERS}) AS load
               FROM providers p WHERE p.county_code = $1 AND {ids} ORDER BY p.id",
            ids = db::in_list(pg, "p.id", "$2", "BIGINT")
        ),
        county_code,
        db::id_list(pg, &ids)
    ))
    .await
}

/// Moves the orders still awaiting dispatch among `ids` to dispatched, returning those
/// moved (batch dispatch: orders that changed meanwhile are skipped). Both states come from
/// the domain's state machine: batch dispatch is staff's `dispatch` of a submitted order.
pub async fn dispatch_awaiting(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    ids: &[OrderId],
    now: Micros,
) -> Result<Vec<OrderId>> {
    let from = OrderState::Submitted;
    let to = service::transition(from, OrderAction::Dispatch, OrderActor::Staff)
        .map_err(|e| StoreError::Internal(format!("batch dispatch: {e}")))?;
    let pg = exec.is_postgres();
    let mut moved = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        moved.extend(
            exec.scalars::<OrderId>(q!(
                format!(
                    "UPDATE orders SET state = $4, updated_at = $3, version = version + 1
                      WHERE county_code = $1 AND state = $5 AND {} RETURNING id",
                    db::in_list(pg, "id", "$2", "BIGINT")
                ),
                county_code,
                db::id_list(pg, &numbers(chunk)),
                now,
                to.as_str(),
                from.as_str()
            ))
            .await?,
        );
    }
    Ok(moved)
}

/// How many of a county's orders are in `state`.
pub async fn count_in_state(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
    state: OrderState,
) -> Result<i64> {
    exec.scalar(q!(
        "SELECT COUNT(*) FROM orders WHERE county_code = $1 AND state = $2",
        county_code,
        state.as_str()
    ))
    .await
}

/// How many of a county's providers hold more open offers than their capacity (none should:
/// `yinling bench dispatch` checks it after a batch).
pub async fn providers_over_capacity(exec: &mut Exec<'_>, county_code: CountyCode) -> Result<i64> {
    exec.scalar(q!(
        format!(
            "SELECT COUNT(*) FROM (SELECT f.provider_id, COUNT(*) AS n, MAX(p.capacity) AS cap
               FROM order_offers f
               JOIN providers p ON p.county_code = f.county_code AND p.id = f.provider_id
              WHERE f.county_code = $1 AND f.{LOAD_OFFERS} GROUP BY f.provider_id) x
             WHERE n > cap"
        ),
        county_code
    ))
    .await
}

/// The numbers of typed ids, for an id-list parameter.
fn numbers<T: yinling_domain::ids::Id>(ids: &[T]) -> Vec<i64> {
    ids.iter().map(|id| id.get()).collect()
}
