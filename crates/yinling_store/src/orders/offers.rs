//! Offers of an order to providers: make, mark, close, and what a provider is offered.

use super::*;

/// Offers an order to providers (re-opening an earlier declined offer is not done: a
/// provider who declined is not asked again).
pub async fn offer(
    exec: &mut Exec<'_>,
    rows: &[(Key<OrderId>, ProviderId)],
    now: Micros,
) -> Result<()> {
    for chunk in rows.chunks(db::rows_per_statement(3)) {
        let mut q = Query::new("", Vec::new());
        let t = q.push_arg(now);
        let values: Vec<String> = chunk
            .iter()
            .map(|(o, p)| {
                format!(
                    "({}, {}, {}, 'open', {t}, {t})",
                    q.push_arg(o.county_code),
                    q.push_arg(o.id),
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
    order: Key<OrderId>,
    provider_id: ProviderId,
    status: OfferStatus,
    now: Micros,
) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO order_offers (county_code, order_id, provider_id, status, offered_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (county_code, order_id, provider_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
        order.county_code,
        order.id,
        provider_id,
        status.as_str(),
        now
    ))
    .await
    .map(|_| ())
}

/// Sets the status of one provider's offer, or (provider `None`) of every open offer.
pub async fn close_offers(
    exec: &mut Exec<'_>,
    order: Key<OrderId>,
    provider_id: Option<ProviderId>,
    status: OfferStatus,
    now: Micros,
) -> Result<u64> {
    match provider_id {
        Some(p) => {
            exec.execute(q!(
                "UPDATE order_offers SET status = $4, updated_at = $5
                  WHERE county_code = $1 AND order_id = $2 AND provider_id = $3 AND status = 'open'",
                order.county_code,
                order.id,
                p,
                status.as_str(),
                now
            ))
            .await
        }
        None => {
            exec.execute(q!(
                "UPDATE order_offers SET status = $3, updated_at = $4
                  WHERE county_code = $1 AND order_id = $2 AND status = 'open'",
                order.county_code,
                order.id,
                status.as_str(),
                now
            ))
            .await
        }
    }
}

pub async fn offers(exec: &mut Exec<'_>, order: Key<OrderId>) -> Result<Vec<OfferRow>> {
    exec.fetch_all(q!(
        "SELECT provider_id, status, offered_at FROM order_offers
          WHERE county_code = $1 AND order_id = $2 ORDER BY offered_at, provider_id",
        order.county_code,
        order.id
    ))
    .await
}

/// Providers who declined this order or had it taken away: not offered it again.
pub async fn excluded_providers(
    exec: &mut Exec<'_>,
    order: Key<OrderId>,
) -> Result<Vec<ProviderId>> {
    exec.scalars(q!(
        "SELECT provider_id FROM order_offers
          WHERE county_code = $1 AND order_id = $2 AND status IN ('declined', 'withdrawn', 'open')",
        order.county_code,
        order.id
    ))
    .await
}

/// For every order of a county awaiting dispatch, the providers not to ask again: what
/// batch dispatch excludes, in one query rather than one per order.
pub async fn excluded_for_awaiting(
    exec: &mut Exec<'_>,
    county_code: CountyCode,
) -> Result<Vec<(OrderId, ProviderId)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        order_id: OrderId,
        provider_id: ProviderId,
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
    provider: Key<ProviderId>,
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
        provider.county_code,
        provider.id,
        limit
    ))
    .await
}

/// Whether the provider holds an open offer for the order.
pub async fn has_open_offer(
    exec: &mut Exec<'_>,
    order: Key<OrderId>,
    provider_id: ProviderId,
) -> Result<bool> {
    Ok(exec
        .scalar_optional::<i64>(q!(
            "SELECT provider_id FROM order_offers WHERE county_code = $1 AND order_id = $2 AND provider_id = $3 AND status = 'open'",
            order.county_code,
            order.id,
            provider_id
        ))
        .await?
        .is_some())
}
