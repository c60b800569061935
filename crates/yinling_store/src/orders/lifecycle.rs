//! Orders and their events: insert, read, list, and the versioned change of state.

use super::*;

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
                q.push_arg(o.urgency.as_str()),
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

pub async fn get(exec: &mut Exec<'_>, key: Key<OrderId>) -> Result<Option<OrderRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM orders WHERE county_code = $1 AND id = $2"),
        key.county_code,
        key.id
    ))
    .await
}

/// Moves an order to `to` if it is still as `expect` says. Returns false (and changes
/// nothing) when another writer got there first.
pub async fn transition(
    exec: &mut Exec<'_>,
    expect: Expect<'_>,
    to: OrderState,
    change: &Change,
    now: Micros,
) -> Result<bool> {
    let Expect {
        key,
        version,
        states: from,
    } = expect;
    let mut q = Query::new("", Vec::new());
    let mut sets = vec![
        format!("state = {}", q.push_arg(to.as_str())),
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
    let states: Vec<String> = from.iter().map(|s| q.push_arg(s.as_str())).collect();
    let (c, i, v) = (
        q.push_arg(key.county_code),
        q.push_arg(key.id),
        q.push_arg(version),
    );
    q.sql = format!(
        "UPDATE orders SET {} WHERE county_code = {c} AND id = {i} AND version = {v} AND state IN ({})",
        sets.join(", "),
        states.join(", ")
    )
    .into();
    Ok(exec.execute(q).await? == 1)
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
                q.push_arg(e.action.as_str()),
                q.push_arg(e.from_state.as_str()),
                q.push_arg(e.to_state.as_str()),
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

pub async fn events(exec: &mut Exec<'_>, order: Key<OrderId>) -> Result<Vec<OrderEventRow>> {
    exec.fetch_all(q!(
        "SELECT seq, at, actor_id, actor_name, action, from_state, to_state, provider_id, note
           FROM order_events WHERE county_code = $1 AND order_id = $2 ORDER BY seq",
        order.county_code,
        order.id
    ))
    .await
}

/// A resident's own orders, newest first.
pub async fn for_person(
    exec: &mut Exec<'_>,
    person: Key<PersonId>,
    limit: i64,
) -> Result<Vec<OrderRow>> {
    exec.fetch_all(q!(
        format!(
            "SELECT {COLUMNS} FROM orders WHERE county_code = $1 AND person_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
        ),
        person.county_code,
        person.id,
        limit
    ))
    .await
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
        let s: Vec<String> = filter
            .states
            .iter()
            .map(|s| q.push_arg(s.as_str()))
            .collect();
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
