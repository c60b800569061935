//! Service orders (点单 → 接单), their offers, their event log and the awards they earn.
//!
//! State changes are conditional updates: `UPDATE … WHERE state IN (…) AND version = …`.
//! Whoever's update matches first wins; a concurrent second gets zero rows and is told the
//! order moved on. This is what makes "two volunteers accept at once, exactly one wins"
//! hold on both SQLite (one writer) and PostgreSQL (row locks, re-checked predicate).

use serde::Serialize;
use yinling_domain::scope::Scope;

use crate::{Exec, Micros, Query, Result, db, q, scope, services::prefixed};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OrderRow {
    pub county_code: i64,
    pub id: i64,
    pub path: String,
    pub unit_id: i64,
    pub person_id: i64,
    pub item_id: i64,
    pub category: String,
    pub description: Option<String>,
    pub urgency: String,
    pub wanted_at: Micros,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub placed_by: Option<i64>,
    pub placed_by_name: String,
    pub proxy: bool,
    pub state: String,
    pub provider_id: Option<i64>,
    pub served_by: Option<i64>,
    pub escalation_level: i64,
    pub escalated_to: Option<String>,
    pub sla_due_at: Micros,
    pub accepted_at: Option<Micros>,
    pub checked_in_at: Option<Micros>,
    pub completed_at: Option<Micros>,
    pub service_minutes: Option<i64>,
    pub completion_note: Option<String>,
    pub photo_key: Option<String>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub cancel_reason: Option<String>,
    pub need_id: Option<i64>,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
}

const COLUMNS: &str = "county_code, id, path, unit_id, person_id, item_id, category, description, urgency, \
     wanted_at, address, lat, lng, placed_by, placed_by_name, proxy, state, provider_id, served_by, \
     escalation_level, escalated_to, sla_due_at, accepted_at, checked_in_at, completed_at, \
     service_minutes, completion_note, photo_key, rating, rating_comment, cancel_reason, need_id, \
     created_at, updated_at, version";

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub county_code: i64,
    pub id: i64,
    pub path: String,
    pub unit_id: i64,
    pub person_id: i64,
    pub item_id: i64,
    pub category: String,
    pub description: Option<String>,
    pub urgency: String,
    pub wanted_at: Micros,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub placed_by: Option<i64>,
    pub placed_by_name: String,
    pub proxy: bool,
    pub sla_due_at: Micros,
    pub need_id: Option<i64>,
    pub synthetic: bool,
    pub now: Micros,
}

pub async fn insert_many(exec: &mut Exec<'_>, orders: &[NewOrder]) -> Result<()> {
    for chunk in orders.chunks(db::rows_per_statement(20)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        for o in chunk {
            let v = [
                q.push_arg(o.county_code),
                q.push_arg(o.id),
                q.push_arg(&o.path),
                q.push_arg(o.unit_id),
                q.push_arg(o.person_id),
                q.push_arg(o.item_id),
                q.push_arg(&o.category),
                q.push_arg(o.description.as_deref()),
                q.push_arg(&o.urgency),
                q.push_arg(o.wanted_at),
                q.push_arg(o.address.as_deref()),
                q.push_arg(o.lat),
                q.push_arg(o.lng),
                q.push_arg(o.placed_by),
                q.push_arg(&o.placed_by_name),
                q.push_arg(o.proxy),
                q.push_arg(o.sla_due_at),
                q.push_arg(o.need_id),
                q.push_arg(o.synthetic),
                q.push_arg(o.now),
            ];
            values.push(format!("({}, 'submitted', {})", v.join(", "), v[19]));
        }
        q.sql = format!(
            "INSERT INTO orders (county_code, id, path, unit_id, person_id, item_id, category, description, \
             urgency, wanted_at, address, lat, lng, placed_by, placed_by_name, proxy, sla_due_at, need_id, \
             synthetic, created_at, state, updated_at) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn get(exec: &mut Exec<'_>, county_code: i64, id: i64) -> Result<Option<OrderRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM orders WHERE county_code = $1 AND id = $2"),
        county_code,
        id
    ))
    .await
}

/// What a state change writes beside the state. `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub provider_id: Option<Option<i64>>,
    pub served_by: Option<Option<i64>>,
    pub escalation: Option<(i64, Option<String>, Micros)>,
    pub accepted_at: Option<Micros>,
    pub checked_in_at: Option<Micros>,
    pub completed: Option<(Micros, i64, Option<String>, Option<String>)>,
    pub rating: Option<(i64, Option<String>)>,
    pub cancel_reason: Option<String>,
}

/// The order a transition expects to find: which one, at which version, in which states.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    pub county_code: i64,
    pub id: i64,
    pub version: i64,
    pub states: &'a [&'a str],
}

/// Moves an order to `to` if it is still as `expect` says. Returns false (and changes
/// nothing) when another writer got there first.
pub async fn transition(
    exec: &mut Exec<'_>,
    expect: Expect<'_>,
    to: &str,
    change: &Change,
    now: Micros,
) -> Result<bool> {
    let Expect {
        county_code,
        id,
        version,
        states: from,
    } = expect;
    let mut q = Query::new("", Vec::new());
    let mut sets = vec![
        format!("state = {}", q.push_arg(to)),
        format!("updated_at = {}", q.push_arg(now)),
        "version = version + 1".to_owned(),
    ];
    if let Some(p) = change.provider_id {
        sets.push(format!("provider_id = {}", q.push_arg(p)));
    }
    if let Some(p) = change.served_by {
        sets.push(format!("served_by = {}", q.push_arg(p)));
    }
    if let Some((level, to_path, due)) = &change.escalation {
        sets.push(format!("escalation_level = {}", q.push_arg(*level)));
        sets.push(format!("escalated_to = {}", q.push_arg(to_path.as_deref())));
        sets.push(format!("sla_due_at = {}", q.push_arg(*due)));
    }
    if let Some(t) = change.accepted_at {
        sets.push(format!("accepted_at = {}", q.push_arg(t)));
    }
    if let Some(t) = change.checked_in_at {
        sets.push(format!("checked_in_at = {}", q.push_arg(t)));
    }
    if let Some((t, minutes, note, photo)) = &change.completed {
        sets.push(format!("completed_at = {}", q.push_arg(*t)));
        sets.push(format!("service_minutes = {}", q.push_arg(*minutes)));
        sets.push(format!("completion_note = {}", q.push_arg(note.as_deref())));
        sets.push(format!("photo_key = {}", q.push_arg(photo.as_deref())));
    }
    if let Some((stars, comment)) = &change.rating {
        sets.push(format!("rating = {}", q.push_arg(*stars)));
        sets.push(format!(
            "rating_comment = {}",
            q.push_arg(comment.as_deref())
        ));
    }
    if let Some(r) = &change.cancel_reason {
        sets.push(format!("cancel_reason = {}", q.push_arg(r)));
    }
    let states: Vec<String> = from.iter().map(|s| q.push_arg(*s)).collect();
    let (c, i, v) = (q.push_arg(county_code), q.push_arg(id), q.push_arg(version));
    q.sql = format!(
        "UPDATE orders SET {} WHERE county_code = {c} AND id = {i} AND version = {v} AND state IN ({})",
        sets.join(", "),
        states.join(", ")
    )
    .into();
    Ok(exec.execute(q).await? == 1)
}

/// One recorded transition.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OrderEventRow {
    pub seq: i64,
    pub at: Micros,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub provider_id: Option<i64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewOrderEvent {
    pub county_code: i64,
    pub order_id: i64,
    pub at: Micros,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub provider_id: Option<i64>,
    pub note: Option<String>,
}

/// Appends events; each order's events are numbered 1, 2, 3… in the order written.
pub async fn append_events(exec: &mut Exec<'_>, events: &[NewOrderEvent]) -> Result<()> {
    for chunk in events.chunks(db::rows_per_statement(11)) {
        let mut q = Query::new("", Vec::new());
        let mut values = Vec::with_capacity(chunk.len());
        for (k, e) in chunk.iter().enumerate() {
            // Events for the same order within one batch take consecutive numbers.
            let earlier = chunk[..k]
                .iter()
                .filter(|x| x.county_code == e.county_code && x.order_id == e.order_id)
                .count() as i64;
            let (c, o) = (q.push_arg(e.county_code), q.push_arg(e.order_id));
            let seq = format!(
                "(SELECT COALESCE(MAX(seq), 0) + 1 + {} FROM order_events WHERE county_code = {c} AND order_id = {o})",
                q.push_arg(earlier)
            );
            let v = [
                c,
                o,
                seq,
                q.push_arg(e.at),
                q.push_arg(e.actor_id),
                q.push_arg(&e.actor_name),
                q.push_arg(&e.action),
                q.push_arg(&e.from_state),
                q.push_arg(&e.to_state),
                q.push_arg(e.provider_id),
                q.push_arg(e.note.as_deref()),
            ];
            values.push(format!("({})", v.join(", ")));
        }
        q.sql = format!(
            "INSERT INTO order_events (county_code, order_id, seq, at, actor_id, actor_name, action, \
             from_state, to_state, provider_id, note) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

pub async fn events(
    exec: &mut Exec<'_>,
    county_code: i64,
    order_id: i64,
) -> Result<Vec<OrderEventRow>> {
    exec.fetch_all(q!(
        "SELECT seq, at, actor_id, actor_name, action, from_state, to_state, provider_id, note
           FROM order_events WHERE county_code = $1 AND order_id = $2 ORDER BY seq",
        county_code,
        order_id
    ))
    .await
}

/// Offers an order to providers (re-opening an earlier declined offer is not done: a
/// provider who declined is not asked again).
pub async fn offer(exec: &mut Exec<'_>, rows: &[(i64, i64, i64)], now: Micros) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(3)) {
        let mut q = Query::new("", Vec::new());
        let t = q.push_arg(now);
        let values: Vec<String> = chunk
            .iter()
            .map(|(c, o, p)| {
                format!(
                    "({}, {}, {}, 'open', {t}, {t})",
                    q.push_arg(*c),
                    q.push_arg(*o),
                    q.push_arg(*p)
                )
            })
            .collect();
        q.sql = format!(
            "INSERT INTO order_offers (county_code, order_id, provider_id, status, offered_at, updated_at) VALUES {}",
            values.join(", ")
        )
        .into();
        exec.execute(q).await?;
    }
    Ok(())
}

/// Records a provider's standing on an order whatever it was before (a decline after
/// accepting turns the taken offer into a declined one).
pub async fn mark_offer(
    exec: &mut Exec<'_>,
    county_code: i64,
    order_id: i64,
    provider_id: i64,
    status: &str,
    now: Micros,
) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO order_offers (county_code, order_id, provider_id, status, offered_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (county_code, order_id, provider_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
        county_code,
        order_id,
        provider_id,
        status,
        now
    ))
    .await
    .map(|_| ())
}

/// Sets the status of one provider's offer, or (provider `None`) of every open offer.
pub async fn close_offers(
    exec: &mut Exec<'_>,
    county_code: i64,
    order_id: i64,
    provider_id: Option<i64>,
    status: &str,
    now: Micros,
) -> Result<u64> {
    match provider_id {
        Some(p) => {
            exec.execute(q!(
                "UPDATE order_offers SET status = $4, updated_at = $5
                  WHERE county_code = $1 AND order_id = $2 AND provider_id = $3 AND status = 'open'",
                county_code,
                order_id,
                p,
                status,
                now
            ))
            .await
        }
        None => {
            exec.execute(q!(
                "UPDATE order_offers SET status = $3, updated_at = $4
                  WHERE county_code = $1 AND order_id = $2 AND status = 'open'",
                county_code,
                order_id,
                status,
                now
            ))
            .await
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OfferRow {
    pub provider_id: i64,
    pub status: String,
    pub offered_at: Micros,
}

pub async fn offers(exec: &mut Exec<'_>, county_code: i64, order_id: i64) -> Result<Vec<OfferRow>> {
    exec.fetch_all(q!(
        "SELECT provider_id, status, offered_at FROM order_offers
          WHERE county_code = $1 AND order_id = $2 ORDER BY offered_at, provider_id",
        county_code,
        order_id
    ))
    .await
}

/// Providers who declined this order or had it taken away: not offered it again.
pub async fn excluded_providers(
    exec: &mut Exec<'_>,
    county_code: i64,
    order_id: i64,
) -> Result<Vec<i64>> {
    exec.scalars(q!(
        "SELECT provider_id FROM order_offers
          WHERE county_code = $1 AND order_id = $2 AND status IN ('declined', 'withdrawn', 'open')",
        county_code,
        order_id
    ))
    .await
}

/// For every order of a county awaiting dispatch, the providers not to ask again: what
/// batch dispatch excludes, in one query rather than one per order.
pub async fn excluded_for_awaiting(
    exec: &mut Exec<'_>,
    county_code: i64,
) -> Result<Vec<(i64, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        order_id: i64,
        provider_id: i64,
    }
    Ok(exec
        .fetch_all::<Row>(q!(
            "SELECT f.order_id, f.provider_id FROM order_offers f
               JOIN orders o ON o.county_code = f.county_code AND o.id = f.order_id
              WHERE f.county_code = $1 AND o.state = 'submitted'
                AND f.status IN ('declined', 'withdrawn', 'open')",
            county_code
        ))
        .await?
        .into_iter()
        .map(|r| (r.order_id, r.provider_id))
        .collect())
}

/// Orders offered to or held by a provider (the volunteer's "my orders" page).
pub async fn for_provider(
    exec: &mut Exec<'_>,
    county_code: i64,
    provider_id: i64,
    open_only: bool,
    limit: i64,
) -> Result<Vec<OrderRow>> {
    let states = if open_only {
        "o.state IN ('submitted', 'dispatched', 'accepted', 'in_service')"
    } else {
        "1 = 1"
    };
    exec.fetch_all(q!(
        format!(
            "SELECT {cols} FROM orders o
              WHERE o.county_code = $1 AND {states} AND (
                    o.provider_id = $2
                 OR EXISTS (SELECT 1 FROM order_offers f WHERE f.county_code = o.county_code
                             AND f.order_id = o.id AND f.provider_id = $2 AND f.status = 'open'))
              ORDER BY o.wanted_at, o.id LIMIT $3",
            cols = prefixed(COLUMNS, "o")
        ),
        county_code,
        provider_id,
        limit
    ))
    .await
}

/// Whether the provider holds an open offer for the order.
pub async fn has_open_offer(
    exec: &mut Exec<'_>,
    county_code: i64,
    order_id: i64,
    provider_id: i64,
) -> Result<bool> {
    Ok(exec
        .scalar_optional::<i64>(q!(
            "SELECT provider_id FROM order_offers WHERE county_code = $1 AND order_id = $2 AND provider_id = $3 AND status = 'open'",
            county_code,
            order_id,
            provider_id
        ))
        .await?
        .is_some())
}

/// A resident's own orders, newest first.
pub async fn for_person(
    exec: &mut Exec<'_>,
    county_code: i64,
    person_id: i64,
    limit: i64,
) -> Result<Vec<OrderRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {COLUMNS} FROM orders WHERE county_code = $1 AND person_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
        ),
        county_code,
        person_id,
        limit
    ))
    .await
}

/// Filters for the staff order list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub states: Vec<String>,
    pub category: Option<String>,
    /// Only orders escalated to a unit in this subtree.
    pub escalated: bool,
}

pub async fn list(
    exec: &mut Exec<'_>,
    scope: &Scope,
    filter: &OrderFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrderRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let mut wh = vec![scope::predicate(&mut q, scope, "o")];
    if !filter.states.is_empty() {
        let s: Vec<String> = filter.states.iter().map(|s| q.push_arg(s)).collect();
        wh.push(format!("o.state IN ({})", s.join(", ")));
    }
    if let Some(c) = &filter.category {
        wh.push(format!("o.category = {}", q.push_arg(c)));
    }
    if filter.escalated {
        wh.push("o.escalation_level > 0".to_owned());
    }
    let wh = wh.join(" AND ");
    let total: i64 = exec
        .scalar(Query::new(
            format!("SELECT COUNT(*) FROM orders o WHERE {wh}"),
            q.args.clone(),
        ))
        .await?;
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "SELECT {} FROM orders o WHERE {wh}
          ORDER BY CASE o.urgency WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END,
                   o.created_at, o.id LIMIT {l} OFFSET {o}",
        prefixed(COLUMNS, "o")
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

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
const LOAD_OFFERS: &str = "status = 'open'";
const LOAD_ORDERS: &str = "state IN ('accepted', 'in_service')";

/// Each provider's current load (open offers plus orders accepted or in service) and how
/// many orders it took since `since`, for a county.
pub async fn provider_loads(
    exec: &mut Exec<'_>,
    county_code: i64,
    since: Micros,
) -> Result<Vec<(i64, i64, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        provider_id: i64,
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

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EntitlementRow {
    pub county_code: i64,
    pub id: i64,
    pub source_kind: String,
    pub source_id: i64,
    pub person_id: i64,
    pub points: i64,
    pub hours_minutes: i64,
    pub status: String,
    pub created_at: Micros,
}

/// Records an award owed. The unique key on (source, person) makes a second one for the
/// same work impossible; returns false if it already existed.
pub async fn insert_entitlement(exec: &mut Exec<'_>, row: &EntitlementRow) -> Result<bool> {
    let n = exec
        .execute(q!(
            "INSERT INTO award_entitlements (county_code, id, source_kind, source_id, person_id, points,
                    hours_minutes, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (county_code, source_kind, source_id, person_id) DO NOTHING",
            row.county_code,
            row.id,
            &row.source_kind,
            row.source_id,
            row.person_id,
            row.points,
            row.hours_minutes,
            &row.status,
            row.created_at
        ))
        .await?;
    Ok(n == 1)
}

pub async fn entitlements_of_source(
    exec: &mut Exec<'_>,
    county_code: i64,
    source_kind: &str,
    source_id: i64,
) -> Result<Vec<EntitlementRow>> {
    exec.fetch_all(q!(
        "SELECT county_code, id, source_kind, source_id, person_id, points, hours_minutes, status, created_at
           FROM award_entitlements WHERE county_code = $1 AND source_kind = $2 AND source_id = $3 ORDER BY id",
        county_code,
        source_kind,
        source_id
    ))
    .await
}

/// Pending awards, oldest first, across counties. On PostgreSQL rows another claimer holds
/// are skipped rather than waited for.
pub async fn pending_entitlements(exec: &mut Exec<'_>, limit: i64) -> Result<Vec<EntitlementRow>> {
    let lock = if exec.is_postgres() {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    exec.fetch_all(q!(
        format!(
            "SELECT county_code, id, source_kind, source_id, person_id, points, hours_minutes, status, created_at
               FROM award_entitlements WHERE status = 'pending' ORDER BY created_at, county_code, id
              LIMIT $1{lock}"
        ),
        limit
    ))
    .await
}

/// Closes a pending award as `taken` (in the ledger) or `capped` (nothing left today).
pub async fn close_entitlement(
    exec: &mut Exec<'_>,
    county: i64,
    id: i64,
    status: &str,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE award_entitlements SET status = $3, taken_at = $4
              WHERE county_code = $1 AND id = $2 AND status = 'pending'",
            county,
            id,
            status,
            now
        ))
        .await?;
    if n != 1 {
        return Err(crate::StoreError::Stale);
    }
    Ok(())
}

/// Sets a pending award aside as `failed` with the reason the ledger refused it, so the
/// claim job goes on with the others and does not try it again on every run.
pub async fn set_aside_entitlement(
    exec: &mut Exec<'_>,
    county: i64,
    id: i64,
    failure: &str,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE award_entitlements SET status = 'failed', failure = $3, taken_at = $4
              WHERE county_code = $1 AND id = $2 AND status = 'pending'",
            county,
            id,
            failure,
            now
        ))
        .await?;
    if n != 1 {
        return Err(crate::StoreError::Stale);
    }
    Ok(())
}

// ---- who is party to an order (a volunteer may not serve their own or their household's) ----

/// For each of these orders, the providers party to it: a volunteer who is the resident, a
/// member of the resident's household or the person who placed it; a team, studio or
/// partner one of whose members (accounts holding a role on its unit) placed it or is such
/// a person. Matching leaves them out and they may not accept, serve or be paid for it.
pub async fn conflicted_providers(
    exec: &mut Exec<'_>,
    county_code: i64,
    order_ids: &[i64],
) -> Result<Vec<(i64, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        order_id: i64,
        provider_id: i64,
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
            .fetch_all(q!(sql, county_code, db::id_list(pg, chunk)))
            .await?;
        out.extend(rows.into_iter().map(|r| (r.order_id, r.provider_id)));
    }
    Ok(out)
}

// ---- capacity, checked inside the dispatching write ----

/// A provider's capacity and current load (open offers plus orders accepted or in service),
/// read under the provider's row lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ProviderLoad {
    pub id: i64,
    pub capacity: i64,
    pub active: bool,
    pub load: i64,
}

/// Locks the providers' rows until the transaction ends (PostgreSQL `FOR UPDATE`, in id
/// order so two dispatchers never deadlock; SQLite's one writer already serialises), then
/// counts each one's load in a statement of its own. Under READ COMMITTED that statement
/// sees every dispatch committed before the lock was granted, so a dispatcher that offers
/// only while `load < capacity` cannot push anyone over: the capacity check is part of the
/// dispatching transaction, not a read before it.
pub async fn lock_loads(
    exec: &mut Exec<'_>,
    county_code: i64,
    provider_ids: &[i64],
) -> Result<Vec<ProviderLoad>> {
    let mut ids = provider_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let pg = exec.is_postgres();
    if pg {
        exec.scalars::<i64>(q!(
            format!(
                "SELECT id FROM providers WHERE county_code = $1 AND {} ORDER BY id FOR UPDATE",
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
/// moved (batch dispatch: orders that changed meanwhile are skipped).
pub async fn dispatch_awaiting(
    exec: &mut Exec<'_>,
    county_code: i64,
    ids: &[i64],
    now: Micros,
) -> Result<Vec<i64>> {
    let pg = exec.is_postgres();
    let mut moved = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        moved.extend(
            exec.scalars::<i64>(q!(
                format!(
                    "UPDATE orders SET state = 'dispatched', updated_at = $3, version = version + 1
                      WHERE county_code = $1 AND state = 'submitted' AND {} RETURNING id",
                    db::in_list(pg, "id", "$2", "BIGINT")
                ),
                county_code,
                db::id_list(pg, chunk),
                now
            ))
            .await?,
        );
    }
    Ok(moved)
}

// ---- completion photos ----

/// A completion photo as uploaded (see migration 0009).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PhotoRow {
    pub county_code: i64,
    pub photo_key: String,
    pub order_id: i64,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: Micros,
    pub attached_at: Option<Micros>,
}

const PHOTO_COLUMNS: &str =
    "county_code, photo_key, order_id, uploaded_by, uploaded_at, attached_at";

pub async fn insert_photo(exec: &mut Exec<'_>, row: &PhotoRow) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO order_photos (county_code, photo_key, order_id, uploaded_by, uploaded_at, attached_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        row.county_code,
        &row.photo_key,
        row.order_id,
        row.uploaded_by,
        row.uploaded_at,
        row.attached_at
    ))
    .await
    .map(|_| ())
}

pub async fn photo(exec: &mut Exec<'_>, county_code: i64, key: &str) -> Result<Option<PhotoRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {PHOTO_COLUMNS} FROM order_photos WHERE county_code = $1 AND photo_key = $2"
        ),
        county_code,
        key
    ))
    .await
}

/// Holds the order's row until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite's
/// `BEGIN IMMEDIATE` already serialises writers), so a count read after it stays true until
/// the write that depends on it commits.
pub async fn lock_order(exec: &mut Exec<'_>, county_code: i64, id: i64) -> Result<()> {
    if exec.is_postgres() {
        exec.scalars::<i64>(q!(
            "SELECT id FROM orders WHERE county_code = $1 AND id = $2 FOR UPDATE",
            county_code,
            id
        ))
        .await?;
    }
    Ok(())
}

/// Photos uploaded for an order and not attached to it (yet).
pub async fn unattached_photo_count(
    exec: &mut Exec<'_>,
    county_code: i64,
    order_id: i64,
) -> Result<i64> {
    exec.scalar(q!(
        "SELECT COUNT(*) FROM order_photos
          WHERE county_code = $1 AND order_id = $2 AND attached_at IS NULL",
        county_code,
        order_id
    ))
    .await
}

/// Marks a photo used by the order's completion: only a photo uploaded for this very
/// order and not used before. False (nothing changed) otherwise.
pub async fn attach_photo(
    exec: &mut Exec<'_>,
    county_code: i64,
    order_id: i64,
    key: &str,
    now: Micros,
) -> Result<bool> {
    Ok(exec
        .execute(q!(
            "UPDATE order_photos SET attached_at = $4
              WHERE county_code = $1 AND photo_key = $2 AND order_id = $3 AND attached_at IS NULL",
            county_code,
            key,
            order_id,
            now
        ))
        .await?
        == 1)
}

/// Unattached photos uploaded before `cutoff`, oldest first, across counties.
pub async fn unattached_photos_before(
    exec: &mut Exec<'_>,
    cutoff: Micros,
    limit: i64,
) -> Result<Vec<PhotoRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {PHOTO_COLUMNS} FROM order_photos
              WHERE attached_at IS NULL AND uploaded_at < $1
              ORDER BY uploaded_at, county_code, photo_key LIMIT $2"
        ),
        cutoff,
        limit
    ))
    .await
}

/// Deletes a photo's row if it is still unattached; false if it was attached (or gone)
/// meanwhile, in which case its file must stay.
pub async fn delete_unattached_photo(
    exec: &mut Exec<'_>,
    county_code: i64,
    key: &str,
) -> Result<bool> {
    Ok(exec
        .execute(q!(
            "DELETE FROM order_photos WHERE county_code = $1 AND photo_key = $2 AND attached_at IS NULL",
            county_code,
            key
        ))
        .await?
        == 1)
}

// ---- disputes of time-bank charges ----

/// A resident's objection to the time-bank charge for an order (有异议).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct HoursDisputeRow {
    pub county_code: i64,
    pub order_id: i64,
    /// The charge disputed (a ledger transfer).
    pub transfer_id: i64,
    pub person_id: i64,
    pub minutes: i64,
    pub reason: String,
    /// `open`, `upheld` (the charge was reversed) or `rejected`.
    pub status: String,
    pub raised_by: Option<i64>,
    pub raised_by_name: String,
    pub raised_at: Micros,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Micros>,
    pub decision_note: Option<String>,
    /// The reversing transfer, when upheld.
    pub reversal_id: Option<i64>,
}

const DISPUTE_COLUMNS: &str = "county_code, order_id, transfer_id, person_id, minutes, reason, status, \
     raised_by, raised_by_name, raised_at, decided_by, decided_by_name, decided_at, decision_note, reversal_id";

/// Records a dispute; false if the order already has one.
pub async fn insert_dispute(exec: &mut Exec<'_>, row: &HoursDisputeRow) -> Result<bool> {
    Ok(exec
        .execute(q!(
            "INSERT INTO hours_disputes (county_code, order_id, transfer_id, person_id, minutes, reason,
                    status, raised_by, raised_by_name, raised_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9)
             ON CONFLICT (county_code, order_id) DO NOTHING",
            row.county_code,
            row.order_id,
            row.transfer_id,
            row.person_id,
            row.minutes,
            &row.reason,
            row.raised_by,
            &row.raised_by_name,
            row.raised_at
        ))
        .await?
        == 1)
}

pub async fn dispute(
    exec: &mut Exec<'_>,
    county_code: i64,
    order_id: i64,
) -> Result<Option<HoursDisputeRow>> {
    exec.fetch_optional(q!(
        format!(
            "SELECT {DISPUTE_COLUMNS} FROM hours_disputes WHERE county_code = $1 AND order_id = $2"
        ),
        county_code,
        order_id
    ))
    .await
}

/// Disputes over orders in the scope, oldest first; only open ones if `open_only`.
pub async fn disputes(
    exec: &mut Exec<'_>,
    scope: &Scope,
    open_only: bool,
    limit: i64,
) -> Result<Vec<HoursDisputeRow>> {
    let mut q = Query::new("", Vec::new());
    let wh = scope::predicate(&mut q, scope, "o");
    let status = if open_only {
        " AND d.status = 'open'"
    } else {
        ""
    };
    let l = q.push_arg(limit);
    q.sql = format!(
        "SELECT {} FROM hours_disputes d
           JOIN orders o ON o.county_code = d.county_code AND o.id = d.order_id
          WHERE {wh}{status} ORDER BY d.raised_at, d.county_code, d.order_id LIMIT {l}",
        prefixed(DISPUTE_COLUMNS, "d")
    )
    .into();
    exec.fetch_all(q).await
}

/// Decides an open dispute; false (nothing changed) if it was decided meanwhile.
#[allow(clippy::too_many_arguments)]
pub async fn decide_dispute(
    exec: &mut Exec<'_>,
    county_code: i64,
    order_id: i64,
    status: &str,
    by: Option<i64>,
    by_name: &str,
    note: Option<&str>,
    reversal_id: Option<i64>,
    now: Micros,
) -> Result<bool> {
    Ok(exec
        .execute(q!(
            "UPDATE hours_disputes SET status = $3, decided_by = $4, decided_by_name = $5,
                    decision_note = $6, reversal_id = $7, decided_at = $8
              WHERE county_code = $1 AND order_id = $2 AND status = 'open'",
            county_code,
            order_id,
            status,
            by,
            by_name,
            note,
            reversal_id,
            now
        ))
        .await?
        == 1)
}
