//! 一键调度: ranking providers for an order, dispatching to one (or the best), reassigning,
//! batch dispatch of a subtree's open orders within everyone's capacity, and escalating
//! orders nobody accepted within the item's SLA to the next level up.

use std::{collections::HashMap, sync::Arc};

use serde::{Deserialize, Serialize};
use tokio::sync::OwnedMutexGuard;
use yinling_domain::{
    ids::{AccountId, Key, OrderId, ProviderId, UnitId},
    matching::{self, Need, Pool, Ranked, SkillVocab},
    org::OrgPath,
    region::CountyCode,
    role::Permission,
    service::{OrderAction, OrderActor, OrderState, WeeklyWindow, transition},
};
use yinling_store::{
    kernel::audit as store_audit,
    orders::{self as store_orders, Change, Expect, NewOrderEvent, OrderRow},
    services::{self as store_services, ProviderRow},
};

use crate::{AppError, AppResult, Caller, kernel::audit::Event};

use super::*;
use crate::kernel::text::{Bounded, LinesKind, ReadField};

/// A ranked candidate with the provider's name and kind.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub name: String,
    pub kind_label: &'static str,
    #[serde(flatten)]
    pub ranked: Ranked,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DispatchInput {
    /// The provider to offer it to; omitted: the best-ranked (一键派单).
    #[serde(default)]
    pub provider_id: Option<ProviderId>,
    #[serde(default)]
    pub note: Option<String>,
}

/// What a batch dispatch did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    /// Open orders considered.
    pub considered: usize,
    pub dispatched: usize,
    /// Orders nobody could take now (no one in reach with a free slot and the skills).
    pub unmatched: usize,
}

/// The in-memory matching pools, one per county: caches of the resource list (the
/// database stays the truth), refreshed from its change log before each use.
#[derive(Default)]
pub struct PoolCache {
    slots: std::sync::Mutex<HashMap<CountyCode, Arc<tokio::sync::Mutex<CachedPool>>>>,
}

impl PoolCache {
    fn slot(&self, county: CountyCode) -> Arc<tokio::sync::Mutex<CachedPool>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(county).or_default().clone()
    }
}

/// A county's pool and the revision of the resource list it reflects.
#[derive(Default)]
pub struct CachedPool {
    pub pool: Pool,
    built: bool,
    rev: i64,
    /// Provider id -> name and kind label, for showing candidates.
    names: HashMap<ProviderId, (String, &'static str)>,
}

/// More changes than this since the pool was built: read the county whole again.
pub(super) const FULL_RELOAD_AFTER: i64 = 5_000;

/// A stored provider as matching sees it; skills are interned into `vocab`.
pub(super) fn to_matching(r: &ProviderRow, vocab: &mut SkillVocab) -> matching::Provider {
    let skills: Vec<String> = serde_json::from_str(&r.skills).unwrap_or_default();
    matching::Provider {
        key: Key::new(r.county_code, r.id),
        skills: vocab.set(skills.iter().map(String::as_str)),
        areas: serde_json::from_str(&r.areas).unwrap_or_default(),
        home_path: r.home_path.clone(),
        lat: r.lat,
        lng: r.lng,
        radius_m: r.radius_m.and_then(|m| u32::try_from(m).ok()),
        windows: serde_json::from_str::<Vec<WeeklyWindow>>(&r.windows).unwrap_or_default(),
        capacity: u32::try_from(r.capacity).unwrap_or(0),
        load: 0,
        rating_sum: u32::try_from(r.rating_sum).unwrap_or(0),
        rating_count: u32::try_from(r.rating_count).unwrap_or(0),
        recent: 0,
    }
}

/// How far back "recent" orders count for fairness.
pub(super) const FAIRNESS_WINDOW: i64 = 30 * 24 * 3_600_000_000;

impl Orders<'_> {
    /// The matching pool of a county, brought up to date with the resource list's change
    /// log and loaded with every provider's current load. Held locked while in use.
    #[tracing::instrument(
        name = "orders.matching_pool",
        skip_all,
        err(level = "debug"),
        fields(county = %county_code)
    )]
    pub async fn matching_pool(
        self,
        county_code: CountyCode,
    ) -> AppResult<OwnedMutexGuard<CachedPool>> {
        let slot = self.app.pools().slot(county_code);
        let mut cached = slot.lock_owned().await;
        let mut exec = self.app.store().read();
        let county = county_code;
        let rev = store_services::providers_rev(&mut exec, county).await?;
        if !cached.built || rev - cached.rev > FULL_RELOAD_AFTER {
            let rows = store_services::active_providers(&mut exec, county).await?;
            let mut vocab = SkillVocab::default();
            let providers = rows.iter().map(|r| to_matching(r, &mut vocab)).collect();
            cached.names = rows
                .iter()
                .map(|r| (r.id, (r.name.clone(), r.kind.label_zh())))
                .collect();
            cached.pool = Pool::new(providers, vocab);
            cached.built = true;
        } else if rev != cached.rev {
            let rows =
                store_services::changed_providers(&mut exec, county, cached.rev, rev).await?;
            let CachedPool { pool, names, .. } = &mut *cached;
            let changes = rows
                .iter()
                .map(|r| {
                    names.insert(r.id, (r.name.clone(), r.kind.label_zh()));
                    let p = r.active.then(|| to_matching(r, &mut pool.vocab));
                    (Key::new(r.county_code, r.id), p)
                })
                .collect();
            pool.apply_changes(changes);
        }
        cached.rev = rev;
        let loads: HashMap<ProviderId, (u32, u32)> =
            store_orders::provider_loads(&mut exec, county_code, self.app.now() - FAIRNESS_WINDOW)
                .await?
                .into_iter()
                .map(|(p, l, r)| {
                    (
                        p,
                        (
                            u32::try_from(l).unwrap_or(u32::MAX),
                            u32::try_from(r).unwrap_or(u32::MAX),
                        ),
                    )
                })
                .collect();
        cached
            .pool
            .set_loads(|k| loads.get(&k.id).copied().unwrap_or((0, 0)));
        Ok(cached)
    }

    pub(super) async fn need_of(self, pool: &Pool, order: &OrderRow) -> AppResult<Need> {
        let item = self
            .app
            .services()
            .item_row(Key::new(order.county_code, order.item_id))
            .await?;
        let skills: Vec<String> = serde_json::from_str(&item.skills).unwrap_or_default();
        Ok(pool.need(
            skills.iter().map(String::as_str),
            order.path.clone(),
            order.lat,
            order.lng,
            order.wanted_at,
        ))
    }

    /// The best candidates for an order, with the reasons for each score.
    #[tracing::instrument(name = "orders.candidates", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn candidates(
        self,
        caller: &Caller,
        key: Key<OrderId>,
        k: usize,
    ) -> AppResult<Vec<Candidate>> {
        let order = self.for_dispatch(caller, key).await?;
        let mut exec = self.app.store().read();
        // Not asked again: who declined or had it withdrawn; never asked: who is party to it
        // (the resident, their household, whoever placed it, or their team).
        let exclude: Vec<Key<ProviderId>> = store_orders::excluded_providers(&mut exec, key)
            .await?
            .into_iter()
            .chain(
                store_orders::conflicted_providers(&mut exec, key.county_code, &[key.id])
                    .await?
                    .into_iter()
                    .map(|(_, p)| p),
            )
            .map(|p| Key::new(key.county_code, p))
            .collect();
        let cached = self.matching_pool(key.county_code).await?;
        let need = self.need_of(&cached.pool, &order).await?;
        let ranked = cached.pool.rank(&need, k.clamp(1, 50), &exclude);
        Ok(ranked
            .into_iter()
            .map(|r| {
                let (name, kind_label) = cached.names.get(&r.key.id).cloned().unwrap_or_default();
                Candidate {
                    name,
                    kind_label,
                    ranked: r,
                }
            })
            .collect())
    }

    /// Offers an order to one provider (the named one, or the best-ranked), from awaiting
    /// dispatch, or as a reassignment from dispatched or accepted. Never to a provider party
    /// to the order (the resident, their household, whoever placed it, or their team), and
    /// never beyond a provider's capacity: the load is counted under the provider's lock
    /// inside the dispatching transaction, so simultaneous dispatches cannot overfill anyone.
    #[tracing::instrument(name = "orders.dispatch", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn dispatch(
        self,
        caller: &Caller,
        key: Key<OrderId>,
        input: DispatchInput,
    ) -> AppResult<crate::orders::OrderView> {
        let note = Bounded::<LinesKind, 1, 200>::read_opt(input.note.as_deref(), "note", "备注")?
            .map(String::from);
        // One click: the best-ranked; if a simultaneous dispatch filled them first, the next
        // best (the ranking reads loads afresh).
        for _ in 0..3 {
            let order = self.for_dispatch(caller, key).await?;
            let from = order.state;
            let action = match from {
                OrderState::Submitted => OrderAction::Dispatch,
                OrderState::Accepted => OrderAction::Reassign,
                OrderState::Dispatched => OrderAction::Reassign,
                _ => OrderAction::Dispatch,
            };
            let to = transition(from, action, OrderActor::Staff)
                .map_err(|e| AppError::conflict("illegal_transition", None, e.to_string()))?;
            let provider = match input.provider_id {
                Some(pid) => self.named_provider(caller, &order, pid).await?,
                None => {
                    let best = self.candidates(caller, key, 1).await?;
                    let Some(best) = best.first() else {
                        return Err(no_candidate());
                    };
                    store_services::provider(&mut self.app.store().read(), best.ranked.key)
                        .await?
                        .ok_or(AppError::NotFound { what: "服务者" })?
                }
            };
            if order.provider_id == Some(provider.id) {
                return Err(AppError::conflict(
                    "same_provider",
                    Some("provider_id"),
                    "这张订单已派给该服务者",
                ));
            }
            let offered = self
                .offer_within_capacity(caller, &order, (from, action, to), &provider, note.clone())
                .await?;
            match offered {
                Some(view) => return Ok(view),
                None if input.provider_id.is_some() => {
                    return Err(AppError::conflict(
                        "provider_full",
                        Some("provider_id"),
                        format!(
                            "{}手头的订单刚刚满额（最多{}单），请选择其他服务者",
                            provider.name, provider.capacity
                        ),
                    ));
                }
                None => continue,
            }
        }
        Err(no_candidate())
    }

    /// A provider named by the dispatcher: active, in the order's county, not party to it,
    /// and able to take it (serves its place, has a free slot and the skills).
    pub(super) async fn named_provider(
        self,
        caller: &Caller,
        order: &OrderRow,
        pid: ProviderId,
    ) -> AppResult<ProviderRow> {
        let county = order.county_code;
        let p = store_services::provider(&mut self.app.store().read(), Key::new(county, pid))
            .await?
            .filter(|p| p.active)
            .ok_or(AppError::NotFound { what: "服务者" })?;
        let party =
            store_orders::conflicted_providers(&mut self.app.store().read(), county, &[order.id])
                .await?
                .iter()
                .any(|(_, x)| *x == pid);
        if party {
            let why = format!(
                "{}是下单人、服务对象或其同户家人（或其成员是），不能派给他们",
                p.name
            );
            self.audit_refusal(caller, order_key(order), "dispatch", &why)
                .await?;
            return Err(AppError::forbidden(why));
        }
        let cached = self.matching_pool(county).await?;
        let need = self.need_of(&cached.pool, order).await?;
        let reachable = cached
            .pool
            .providers
            .iter()
            .find(|x| x.key.id == pid)
            .is_some_and(|x| matching::score(x, &need, false).is_some());
        if !reachable {
            return Err(AppError::invalid(
                "provider_cannot_take",
                "provider_id",
                format!(
                    "{}不能承接这张订单（不在服务范围、已满额或不具备所需技能）",
                    p.name
                ),
            ));
        }
        Ok(p)
    }

    /// Moves the order and offers it to `provider` in one transaction, provided the
    /// provider — locked for the rest of it — still has a free slot. `None`, with nothing
    /// changed, when they are full (or no longer active).
    pub(super) async fn offer_within_capacity(
        self,
        caller: &Caller,
        order: &OrderRow,
        (from, action, to): (OrderState, OrderAction, OrderState),
        provider: &ProviderRow,
        note: Option<String>,
    ) -> AppResult<Option<crate::orders::OrderView>> {
        let key = order_key(order);
        let provider_id = provider.id;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let free = store_orders::lock_loads(&mut tx.exec(), key.county_code, &[provider_id])
            .await?
            .first()
            .is_some_and(|l| l.active && l.load < l.capacity);
        if !free {
            return Ok(None);
        }
        let change = Change {
            provider_id: Some(None),
            served_by: Some(None),
            ..Change::default()
        };
        let won = store_orders::transition(
            &mut tx.exec(),
            Expect {
                key,
                version: order.version,
                states: &[from],
            },
            to,
            &change,
            now,
        )
        .await?;
        if !won {
            return Err(AppError::conflict(
                "order_changed",
                None,
                "订单刚刚有了变化，请刷新后再派单",
            ));
        }
        store_orders::close_offers(&mut tx.exec(), key, None, OfferStatus::Withdrawn, now).await?;
        // A provider asked before (and who declined) is not asked again.
        let asked: Vec<ProviderId> = store_orders::excluded_providers(&mut tx.exec(), key).await?;
        if asked.contains(&provider_id) {
            return Err(AppError::conflict(
                "already_asked",
                Some("provider_id"),
                format!(
                    "{}已拒绝或被撤回过这张订单，请选择其他服务者",
                    provider.name
                ),
            ));
        }
        store_orders::offer(&mut tx.exec(), &[(key, provider_id)], now).await?;
        self.record(
            &mut tx,
            caller,
            key,
            action,
            from,
            to,
            Some(provider_id),
            note.or_else(|| Some(format!("派给{}", provider.name))),
        )
        .await?;
        tx.commit().await?;
        let row = store_orders::get(&mut self.app.store().read(), key)
            .await?
            .ok_or(AppError::NotFound { what: "订单" })?;
        Ok(Some(self.view_of(row).await?))
    }

    /// Dispatches every order awaiting dispatch under a unit, most urgent and oldest first,
    /// each to its best candidate, never beyond anyone's capacity. One transaction per
    /// county; orders that changed meanwhile are skipped.
    #[tracing::instrument(name = "orders.batch_dispatch", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, unit = %unit))]
    pub async fn batch_dispatch(
        self,
        caller: &Caller,
        unit: Key<UnitId>,
    ) -> AppResult<BatchReport> {
        let county = unit.county_code;
        let (_, path) = self
            .app
            .services()
            .unit_for(caller, Permission::Dispatch, unit)
            .await?;
        let scope = yinling_domain::scope::Scope::from_paths([path.clone()]);
        let orders =
            store_orders::awaiting_dispatch(&mut self.app.store().read(), &scope, 50_000).await?;
        let mut cached = self.matching_pool(county).await?;
        let pool = &mut cached.pool;
        let mut asked: HashMap<OrderId, Vec<Key<ProviderId>>> = HashMap::new();
        for (order, provider) in
            store_orders::excluded_for_awaiting(&mut self.app.store().read(), county).await?
        {
            asked
                .entry(order)
                .or_default()
                .push(Key::new(county, provider));
        }
        // Nobody is given an order they are party to (their own, their household's, one
        // they placed, or their team's member's).
        let ids: Vec<OrderId> = orders.iter().map(|o| o.id).collect();
        for (order, provider) in
            store_orders::conflicted_providers(&mut self.app.store().read(), county, &ids).await?
        {
            asked
                .entry(order)
                .or_default()
                .push(Key::new(county, provider));
        }
        let mut needs = Vec::with_capacity(orders.len());
        let mut excludes = Vec::with_capacity(orders.len());
        let mut item_skills: std::collections::HashMap<ServiceItemId, Vec<String>> =
            Default::default();
        for o in &orders {
            let skills = match item_skills.entry(o.item_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let item = self
                        .app
                        .services()
                        .item_row(Key::new(o.county_code, o.item_id))
                        .await?;
                    e.insert(serde_json::from_str(&item.skills).unwrap_or_default())
                }
            };
            needs.push(pool.need(
                skills.iter().map(String::as_str),
                o.path.clone(),
                o.lat,
                o.lng,
                o.wanted_at,
            ));
            let excl = asked.remove(&o.id).unwrap_or_default();
            excludes.push(excl);
        }
        let chosen = pool.assign(&needs, &excludes);
        let pairs: Vec<(&OrderRow, ProviderId)> = orders
            .iter()
            .zip(&chosen)
            .filter_map(|(o, c)| c.map(|i| (o, pool.providers[i].key.id)))
            .collect();
        let dispatched = self.write_batch(caller, county, &path, &pairs).await?;
        Ok(BatchReport {
            considered: orders.len(),
            dispatched,
            unmatched: orders.len() - dispatched,
        })
    }

    pub(super) async fn write_batch(
        self,
        caller: &Caller,
        county: CountyCode,
        path: &OrgPath,
        pairs: &[(&OrderRow, ProviderId)],
    ) -> AppResult<usize> {
        if pairs.is_empty() {
            return Ok(0);
        }
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        // Capacity, under the chosen providers' locks: a dispatch committed since the
        // ranking read the loads counts now, and no one is given more than they have room for.
        let providers: Vec<ProviderId> = pairs.iter().map(|(_, p)| *p).collect();
        let mut room: HashMap<ProviderId, i64> =
            store_orders::lock_loads(&mut tx.exec(), county, &providers)
                .await?
                .into_iter()
                .map(|l| (l.id, if l.active { l.capacity - l.load } else { 0 }))
                .collect();
        let fits: Vec<&(&OrderRow, ProviderId)> = pairs
            .iter()
            .filter(|(_, p)| match room.get_mut(p) {
                Some(r) if *r > 0 => {
                    *r -= 1;
                    true
                }
                _ => false,
            })
            .collect();
        // Move every chosen order that is still awaiting dispatch, learning which moved.
        let ids: Vec<OrderId> = fits.iter().map(|(o, _)| o.id).collect();
        let moved: std::collections::HashSet<OrderId> =
            store_orders::dispatch_awaiting(&mut tx.exec(), county, &ids, now)
                .await?
                .into_iter()
                .collect();
        let done: Vec<&(&OrderRow, ProviderId)> = fits
            .into_iter()
            .filter(|(o, _)| moved.contains(&o.id))
            .collect();
        let offers: Vec<(Key<OrderId>, ProviderId)> =
            done.iter().map(|(o, p)| (order_key(o), *p)).collect();
        store_orders::offer(&mut tx.exec(), &offers, now).await?;
        let events: Vec<NewOrderEvent> = done
            .iter()
            .map(|(o, p)| NewOrderEvent {
                county_code: county,
                order_id: o.id,
                at: now,
                actor_id: caller.account_id.map(AccountId),
                actor_name: caller.display_name.clone(),
                action: OrderAction::Dispatch,
                from_state: OrderState::Submitted,
                to_state: OrderState::Dispatched,
                provider_id: Some(*p),
                note: Some("批量派单".to_owned()),
            })
            .collect();
        store_orders::append_events(&mut tx.exec(), &events).await?;
        let after = serde_json::json!({"dispatched": done.len(), "unit": path.as_str()});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county.as_i64(),
                action: "order.batch_dispatch",
                entity: "order",
                entity_key: path.to_string(),
                before: None,
                after: Some(&after),
                detail: Some(format!("批量派单 {} 张", done.len())),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(done.len())
    }

    /// Escalates every open order whose SLA has passed without anyone accepting it: one
    /// level up the organisation tree (grid → community → street → county), with a new SLA
    /// period. Safe to run twice: an escalated order is not due again until then.
    #[tracing::instrument(name = "orders.escalate_overdue", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn escalate_overdue(self, caller: &Caller) -> AppResult<usize> {
        let now = self.app.now();
        let due = store_orders::overdue(&mut self.app.store().read(), now, 1000).await?;
        let mut n = 0;
        for order in due {
            let Ok(path) = OrgPath::parse(&order.path) else {
                continue;
            };
            let level = order.escalation_level + 1;
            // Two segments are the city and county: escalation stops at the county.
            let steps = usize::try_from(level).unwrap_or(usize::MAX);
            let target_depth = path.depth().saturating_sub(steps).max(2);
            let target: String = path
                .as_str()
                .split_inclusive('/')
                .take(target_depth)
                .collect();
            let item = self
                .app
                .services()
                .item_row(Key::new(order.county_code, order.item_id))
                .await?;
            let change = Change {
                escalation: Some((level, Some(target.clone()), now + item.sla_minutes * MINUTE)),
                ..Change::default()
            };
            let mut tx = self.app.store().begin().await?;
            let won = store_orders::transition(
                &mut tx.exec(),
                Expect {
                    key: order_key(&order),
                    version: order.version,
                    states: &[order.state],
                },
                order.state,
                &change,
                now,
            )
            .await?;
            if !won {
                continue;
            }
            let unit_name = yinling_store::org::get_by_path(
                &mut tx.exec(),
                order.county_code.as_i64(),
                &target,
            )
            .await?
            .map(|u| u.name)
            .unwrap_or_else(|| target.clone());
            self.record(
                &mut tx,
                caller,
                order_key(&order),
                OrderAction::Escalate,
                order.state,
                order.state,
                None,
                Some(format!(
                    "超过接单时限无人接单，上报至{unit_name}（第{level}级）"
                )),
            )
            .await?;
            tx.commit().await?;
            n += 1;
        }
        Ok(n)
    }
}

pub(super) fn no_candidate() -> AppError {
    AppError::conflict(
        "no_candidate",
        None,
        "暂时没有能承接这张订单的服务者（范围内无人有空档或具备所需技能），可稍后再派或上报上级",
    )
}
