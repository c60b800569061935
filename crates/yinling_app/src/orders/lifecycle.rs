//! An order's life: placing it (for oneself, or for a resident by staff), reading it within
//! reach, each step through the domain's state machine, and the entitlements a completed
//! order earns.

use super::*;
use crate::kernel::text::{Bounded, LineKind, LinesKind, ReadField};

/// How the caller stands to an order.
pub(super) struct Standing {
    /// The resident themself, or staff who placed it for them.
    pub(super) resident: bool,
    pub(super) staff: bool,
    /// The caller's providers that hold an offer for it or were assigned it.
    pub(super) providers: Vec<ProviderRow>,
}

impl Standing {
    pub(super) fn actor_for(&self, action: OrderAction) -> Option<OrderActor> {
        use OrderAction as A;
        match action {
            A::Accept | A::Decline | A::CheckIn | A::Complete => {
                (!self.providers.is_empty()).then_some(OrderActor::Provider)
            }
            A::Rate | A::Cancel if self.resident => Some(OrderActor::Resident),
            A::Dispatch | A::Reassign | A::Close | A::Escalate | A::Cancel if self.staff => {
                Some(OrderActor::Staff)
            }
            _ => None,
        }
    }
}

impl Orders<'_> {
    /// Places an order (点单): by the resident for themself, or by staff for a resident in
    /// their scope (代点单).
    #[tracing::instrument(name = "orders.place", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn place(self, caller: &Caller, input: OrderInput) -> AppResult<OrderView> {
        let me = caller
            .person
            .and_then(|(c, i)| Key::<PersonId>::from_parts(c, i).ok());
        let (resident, proxy) = match (input.person, me) {
            (Some(p), Some(me)) if p == me => (p, false),
            (Some(p), _) => (p, true),
            (None, Some(me)) => (me, false),
            (None, None) => {
                return Err(AppError::invalid(
                    "person_required",
                    "person",
                    "请选择为哪位居民下单",
                ));
            }
        };
        let county = resident.county_code;
        let person = store_people::get(&mut self.app.store().read(), resident)
            .await?
            .ok_or(AppError::NotFound { what: "人员" })?;
        let path = parse_path(&person.path)?;
        if proxy && !caller.scope(Permission::Dispatch).covers(&path) {
            return Err(AppError::NotFound { what: "人员" });
        }
        let item = self
            .app
            .services()
            .item_row(Key::new(county, input.item_id))
            .await?;
        if !item.active || !path.as_str().starts_with(&item.path) {
            return Err(AppError::invalid(
                "item_not_offered",
                "item_id",
                "您所在的社区暂不提供这项服务，请选择其他服务",
            ));
        }
        let now = self.app.now();
        let wanted_at = match (input.wanted_at, input.wanted_at_text.as_deref()) {
            (Some(t), _) => t,
            (None, Some(text)) if !text.trim().is_empty() => {
                parse_local_minutes(text).ok_or_else(|| {
                    AppError::invalid(
                        "invalid_time",
                        "wanted_at",
                        "请选择服务时间，例如 2026-07-02 12:00",
                    )
                })?
            }
            _ => now,
        };
        if wanted_at < now - 10 * MINUTE || wanted_at > now + 60 * 24 * 60 * MINUTE {
            return Err(AppError::invalid(
                "invalid_time",
                "wanted_at",
                "服务时间须在现在到60天以内",
            ));
        }
        let description = Bounded::<LinesKind, 1, 200>::read_opt(
            input.description.as_deref(),
            "description",
            "需求说明",
        )?
        .map(String::from);
        let address =
            Bounded::<LineKind, 1, 100>::read_opt(input.address.as_deref(), "address", "服务地址")?
                .map(String::from)
                .or_else(|| person.address.clone());
        let urgency = input.urgency.unwrap_or(Urgency::Normal);
        if let Some(need_id) = input.need_id {
            self.check_need(caller, &person, proxy, need_id).await?;
        }
        let mut tx = self.app.store().begin().await?;
        let id = OrderId(ids::next(&mut tx.exec(), Seq::Orders).await?);
        let key = Key::new(county, id);
        let new = NewOrder {
            county_code: county,
            id,
            path: person.path.clone(),
            unit_id: person.home_unit_id,
            person_id: resident.id,
            item_id: item.id,
            category: item.category.clone(),
            description,
            urgency,
            wanted_at,
            address,
            lat: None,
            lng: None,
            placed_by: caller.account_id.map(AccountId),
            placed_by_name: caller.display_name.clone(),
            proxy,
            sla_due_at: now + item.sla_minutes * MINUTE,
            need_id: input.need_id,
            synthetic: false,
            now,
        };
        store_orders::insert_many(&mut tx.exec(), std::slice::from_ref(&new)).await?;
        let note = proxy.then(|| format!("由{}代为下单", caller.display_name));
        self.record(
            &mut tx,
            caller,
            key,
            OrderAction::Submit,
            OrderState::Submitted,
            OrderState::Submitted,
            None,
            note,
        )
        .await?;
        tx.commit().await?;
        self.view_of(self.row(key).await?).await
    }

    /// The needs-ledger entry an order answers must exist in the resident's county, be
    /// visible to the caller (their own need; or, placing for someone, in the dispatcher's
    /// scope) and be the resident's: recorded for them, or for their household without
    /// naming a person. Another resident's need is refused even inside the scope.
    pub(super) async fn check_need(
        self,
        caller: &Caller,
        person: &store_people::PersonRow,
        proxy: bool,
        need_id: NeedId,
    ) -> AppResult<()> {
        let need_key = Key::new(person.county_code, need_id);
        let need = store_needs::get(&mut self.app.store().read(), need_key)
            .await?
            .ok_or(AppError::NotFound { what: "需求" })?;
        let theirs = match need.person_id {
            Some(p) => p == person.id,
            None => need.household_id.is_some() && need.household_id == person.household_id,
        };
        let visible = if proxy {
            caller
                .scope(Permission::Dispatch)
                .covers(&parse_path(&need.path)?)
        } else {
            theirs
        };
        if !visible {
            return Err(AppError::NotFound { what: "需求" });
        }
        if !theirs {
            return Err(AppError::invalid(
                "need_other_person",
                "need_id",
                "这条需求不是这位居民的，请选择他（她）本人或本户的需求",
            ));
        }
        Ok(())
    }

    /// Through which of its providers the caller is party to the order and so may not
    /// accept, serve or be paid for it: any, when the caller placed it; otherwise a
    /// volunteer who is the resident it is for, a member of the resident's household or
    /// the person who placed it, or a team (studio, partner) one of whose members is such a
    /// person (see `store_orders::conflicted_providers`, which also finds the caller's own
    /// volunteer record and teams through the caller's linked file and grants).
    pub(crate) async fn parties(self, caller: &Caller, order: &OrderRow) -> AppResult<Parties> {
        Ok(Parties {
            placed_by_caller: caller.account_id.is_some()
                && caller.account_id == order.placed_by.map(AccountId::get),
            providers: store_orders::conflicted_providers(
                &mut self.app.store().read(),
                order.county_code,
                &[order.id],
            )
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect(),
        })
    }

    /// Records a refused sensitive action on an order (serving or dispatching to one's
    /// own or one's household's order) in the audit chain, in a transaction of its own so
    /// the record stays although the action changed nothing.
    pub(crate) async fn audit_refusal(
        self,
        caller: &Caller,
        key: Key<OrderId>,
        action: &str,
        why: &str,
    ) -> AppResult<()> {
        let mut tx = self.app.store().begin().await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: key.county(),
                action: "order.refused",
                entity: "order",
                entity_key: key.to_string(),
                before: None,
                after: None,
                detail: Some(format!("{action}: {why}")),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn row(self, key: Key<OrderId>) -> AppResult<OrderRow> {
        store_orders::get(&mut self.app.store().read(), key)
            .await?
            .ok_or(AppError::NotFound { what: "订单" })
    }

    /// How the caller stands to an order; `NotFound` when not at all.
    pub(super) async fn standing(self, caller: &Caller, order: &OrderRow) -> AppResult<Standing> {
        let path = parse_path(&order.path)?;
        let staff = caller.scope(Permission::Dispatch).covers(&path);
        let viewer = caller.scope(Permission::ViewServices).covers(&path);
        let resident = caller.person == Some((order.county_code.as_i64(), order.person_id.get()))
            || (staff && order.proxy);
        let mut providers = Vec::new();
        let mut exec = self.app.store().read();
        for p in self.app.services().my_providers(caller).await? {
            if p.county_code != order.county_code {
                continue;
            }
            let assigned = order.provider_id == Some(p.id);
            let offered = store_orders::has_open_offer(&mut exec, order_key(order), p.id).await?;
            let open_to_all = order.state == OrderState::Submitted && serves_path(&p, &order.path);
            if assigned || offered || open_to_all {
                providers.push(p);
            }
        }
        if !staff && !viewer && !resident && providers.is_empty() {
            return Err(AppError::NotFound { what: "订单" });
        }
        Ok(Standing {
            resident,
            staff,
            providers,
        })
    }

    /// Whether one of the caller's providers was offered the order or serves its area:
    /// they could have accepted it before it was taken.
    pub(super) async fn was_open_to(self, caller: &Caller, order: &OrderRow) -> AppResult<bool> {
        let offers = store_orders::offers(&mut self.app.store().read(), order_key(order)).await?;
        Ok(self
            .app
            .services()
            .my_providers(caller)
            .await?
            .iter()
            .any(|p| {
                p.county_code == order.county_code
                    && (offers.iter().any(|o| o.provider_id == p.id) || serves_path(p, &order.path))
            }))
    }

    #[tracing::instrument(name = "orders.detail", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn detail(self, caller: &Caller, key: Key<OrderId>) -> AppResult<OrderDetail> {
        let order = self.row(key).await?;
        let standing = self.standing(caller, &order).await?;
        let state = order.state;
        let actions = OrderAction::ALL
            .iter()
            .filter(|a| !matches!(a, OrderAction::Submit | OrderAction::Escalate))
            .filter(|a| {
                standing
                    .actor_for(**a)
                    .is_some_and(|w| transition(state, **a, w).is_ok())
            })
            .filter(|a| {
                // A provider who only sees an open order may accept it, nothing else.
                **a != OrderAction::Decline
                    || standing
                        .providers
                        .iter()
                        .any(|p| Some(p.id) == order.provider_id)
                    || state == OrderState::Dispatched
            })
            .map(|a| a.as_str())
            .collect::<Vec<_>>();
        let mut actions = actions;
        if actions
            .iter()
            .any(|a| ["accept", "check_in", "complete"].contains(a))
        {
            let parties = self.parties(caller, &order).await?;
            if standing.providers.iter().all(|p| parties.include(p)) {
                actions.retain(|a| !["accept", "check_in", "complete"].contains(a));
            }
        }
        let mut exec = self.app.store().read();
        let events = store_orders::events(&mut exec, key).await?;
        let offers = if standing.staff {
            store_orders::offers(&mut exec, key).await?
        } else {
            Vec::new()
        };
        Ok(OrderDetail {
            view: self.view_of(order).await?,
            events,
            offers,
            actions,
        })
    }

    pub(crate) async fn view_of(self, order: OrderRow) -> AppResult<OrderView> {
        let mut exec = self.app.store().read();
        let county = order.county_code;
        let item_name = store_services::item(&mut exec, Key::new(county, order.item_id))
            .await?
            .map(|i| i.name)
            .unwrap_or_default();
        let resident_name = store_people::get(&mut exec, Key::new(county, order.person_id))
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        let provider_name = match order.provider_id {
            Some(pid) => store_services::provider(&mut exec, Key::new(county, pid))
                .await?
                .map(|p| p.name),
            None => None,
        };
        Ok(OrderView {
            state_label: order.state.label_zh(),
            urgency_label: order.urgency.label_zh(),
            wanted_at_text: format_minutes(order.wanted_at),
            sla_due_text: format_minutes(order.sla_due_at),
            item_name,
            resident_name,
            provider_name,
            order,
        })
    }

    pub(super) async fn views(self, rows: Vec<OrderRow>) -> AppResult<Vec<OrderView>> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.view_of(r).await?);
        }
        Ok(out)
    }

    /// Orders in the caller's scope, most urgent and oldest first.
    #[tracing::instrument(name = "orders.list", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn list(
        self,
        caller: &Caller,
        filter: OrderFilter,
        page: PageRequest,
    ) -> AppResult<Page<OrderView>> {
        let scope = caller.scope(Permission::ViewServices);
        let (rows, total) = store_orders::list(
            &mut self.app.store().read(),
            &scope,
            &filter,
            page.per_page,
            page.offset(),
        )
        .await?;
        Ok(Page {
            items: self.views(rows).await?,
            total,
            total_is_lower_bound: false,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// The caller's own orders as a resident, newest first.
    #[tracing::instrument(name = "orders.mine", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn mine(self, caller: &Caller) -> AppResult<Vec<OrderView>> {
        let Some(me) = caller
            .person
            .and_then(|(c, i)| Key::<PersonId>::from_parts(c, i).ok())
        else {
            return Ok(Vec::new());
        };
        let rows = store_orders::for_person(&mut self.app.store().read(), me, 50).await?;
        self.views(rows).await
    }

    /// Orders offered to or held by the caller's providers (the volunteer's list).
    #[tracing::instrument(name = "orders.provider_orders", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn provider_orders(
        self,
        caller: &Caller,
        open_only: bool,
    ) -> AppResult<Vec<OrderView>> {
        let mut rows = Vec::new();
        for p in self.app.services().my_providers(caller).await? {
            rows.extend(
                store_orders::for_provider(
                    &mut self.app.store().read(),
                    Key::new(p.county_code, p.id),
                    open_only,
                    100,
                )
                .await?,
            );
        }
        rows.sort_by_key(|o| (o.wanted_at, o.id));
        rows.dedup_by_key(|o| (o.county_code, o.id));
        self.views(rows).await
    }

    /// One step in an order's life by the caller. Refused steps change nothing.
    #[tracing::instrument(name = "orders.step", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn step(
        self,
        caller: &Caller,
        key: Key<OrderId>,
        action: OrderAction,
        step: OrderStep,
    ) -> AppResult<OrderView> {
        let order = self.row(key).await?;
        let standing = match self.standing(caller, &order).await {
            // Someone else accepted between the caller seeing the order and pressing 接单:
            // say so, rather than "not found", to whoever it was open to.
            Err(AppError::NotFound { .. })
                if action == OrderAction::Accept && self.was_open_to(caller, &order).await? =>
            {
                return Err(self.lost_race(key, action).await);
            }
            standing => standing?,
        };
        let from = order.state;
        if matches!(
            action,
            OrderAction::Submit
                | OrderAction::Dispatch
                | OrderAction::Reassign
                | OrderAction::Escalate
        ) {
            return Err(AppError::invalid(
                "use_dispatch",
                "action",
                "派单、改派请使用派单功能",
            ));
        }
        let actor = standing.actor_for(action).ok_or_else(|| {
            AppError::forbidden(match action {
                OrderAction::Accept
                | OrderAction::Decline
                | OrderAction::CheckIn
                | OrderAction::Complete => "只有接到这张订单的服务者可以这样做",
                OrderAction::Rate => "只有下单的居民可以评价",
                _ => "您无权处理这张订单",
            })
        })?;
        let mut to = transition(from, action, actor)
            .map_err(|e| AppError::conflict("illegal_transition", None, e.to_string()))?;
        let note = Bounded::<LinesKind, 1, 500>::read_opt(step.note.as_deref(), "note", "备注")?
            .map(String::from);
        let now = self.app.now();
        let provider = match actor {
            OrderActor::Provider => Some(pick_provider(&standing.providers, step.provider_id)?),
            _ => None,
        };
        if let Some(p) = &provider
            && matches!(action, OrderAction::Accept | OrderAction::Complete)
            && self.parties(caller, &order).await?.include(p)
        {
            let why = if action == OrderAction::Accept {
                "不能接自己或同户家人的订单"
            } else {
                "不能为自己或同户家人的订单完成服务、领取奖励"
            };
            self.audit_refusal(caller, key, action.as_str(), why)
                .await?;
            return Err(AppError::forbidden(if p.person_id.is_some() {
                why.to_owned()
            } else {
                format!("{why}（{}有成员是下单人、服务对象或其同户家人）", p.name)
            }));
        }
        let mut change = Change::default();
        let mut from_states = vec![from];
        match action {
            OrderAction::Accept => {
                let p = provider
                    .as_ref()
                    .ok_or_else(|| AppError::Internal("no provider".into()))?;
                change.provider_id = Some(Some(p.id));
                change.served_by = Some(p.person_id.or(caller.person.map(|x| PersonId(x.1))));
                change.accepted_at = Some(now);
                from_states = vec![OrderState::Submitted, OrderState::Dispatched];
            }
            OrderAction::Decline => {
                let p = provider
                    .as_ref()
                    .ok_or_else(|| AppError::Internal("no provider".into()))?;
                let holds = order.provider_id == Some(p.id);
                let offers = store_orders::offers(&mut self.app.store().read(), key).await?;
                let open = |o: &&OfferRow| o.status == OfferStatus::Open;
                let offered = offers.iter().filter(open).any(|o| o.provider_id == p.id);
                if !holds && !offered {
                    return Err(AppError::conflict(
                        "not_offered",
                        None,
                        "这张订单没有派给您，无需拒单",
                    ));
                }
                let others = offers
                    .iter()
                    .filter(open)
                    .filter(|o| o.provider_id != p.id)
                    .count();
                to = after_decline(others);
                if holds {
                    change.provider_id = Some(None);
                    change.served_by = Some(None);
                }
            }
            OrderAction::CheckIn | OrderAction::Complete => {
                let p = provider
                    .as_ref()
                    .ok_or_else(|| AppError::Internal("no provider".into()))?;
                if order.provider_id != Some(p.id) {
                    return Err(AppError::forbidden("这张订单由其他服务者负责"));
                }
                if action == OrderAction::CheckIn {
                    change.checked_in_at = Some(now);
                } else {
                    let started = order.checked_in_at.unwrap_or(now);
                    let minutes = ((now - started) / MINUTE).max(1);
                    let photo = step.photo_key.clone().filter(|k| !k.is_empty());
                    // Only a photo uploaded for this very order by `upload_order_photo` and
                    // not used before; attached in the completing transaction below.
                    if let Some(photo) = &photo {
                        match store_orders::photo(
                            &mut self.app.store().read(),
                            key.county_code,
                            photo,
                        )
                        .await?
                        {
                            Some(row) if row.order_id == key.id && row.attached_at.is_none() => {}
                            Some(row) if row.order_id == key.id => return Err(photo_used()),
                            _ => return Err(photo_unknown()),
                        }
                    }
                    change.completed = Some((now, minutes, note.clone(), photo));
                }
            }
            OrderAction::Rate => {
                let stars = step.stars.filter(|s| valid_rating(*s)).ok_or_else(|| {
                    AppError::invalid("invalid_rating", "stars", "请选择1到5颗星")
                })?;
                change.rating = Some((stars, note.clone()));
            }
            OrderAction::Cancel => {
                change.cancel_reason =
                    Some(note.clone().unwrap_or_else(|| "未说明原因".to_owned()));
            }
            OrderAction::Close => {}
            OrderAction::Submit
            | OrderAction::Dispatch
            | OrderAction::Reassign
            | OrderAction::Escalate => {
                unreachable!("refused above")
            }
        }
        let mut tx = self.app.store().begin().await?;
        let won = store_orders::transition(
            &mut tx.exec(),
            Expect {
                key,
                version: order.version,
                states: &from_states,
            },
            to,
            &change,
            now,
        )
        .await?;
        if !won {
            drop(tx);
            return Err(self.lost_race(key, action).await);
        }
        let provider_id = provider.as_ref().map(|p| p.id);
        match action {
            OrderAction::Accept => {
                store_orders::close_offers(
                    &mut tx.exec(),
                    key,
                    provider_id,
                    OfferStatus::Taken,
                    now,
                )
                .await?;
                store_orders::close_offers(&mut tx.exec(), key, None, OfferStatus::Withdrawn, now)
                    .await?;
            }
            OrderAction::Decline => {
                let p = provider_id.ok_or_else(|| AppError::Internal("no provider".into()))?;
                store_orders::mark_offer(&mut tx.exec(), key, p, OfferStatus::Declined, now)
                    .await?;
            }
            OrderAction::Cancel => {
                store_orders::close_offers(&mut tx.exec(), key, None, OfferStatus::Withdrawn, now)
                    .await?;
            }
            OrderAction::Complete => {
                if let Some((_, _, _, Some(photo))) = &change.completed
                    && !store_orders::attach_photo(&mut tx.exec(), key, photo, now).await?
                {
                    // Used or removed since it was checked above.
                    return Err(photo_used());
                }
                self.entitle(&mut tx, &order, now).await?;
            }
            OrderAction::Rate => {
                if let (Some(pid), Some((stars, _))) = (order.provider_id, &change.rating) {
                    store_services::add_rating(
                        &mut tx.exec(),
                        Key::new(key.county_code, pid),
                        *stars,
                    )
                    .await?;
                    store_services::bump_providers(&mut tx.exec(), key.county_code, &[pid]).await?;
                }
            }
            _ => {}
        }
        self.record(&mut tx, caller, key, action, from, to, provider_id, note)
            .await?;
        tx.commit().await?;
        self.view_of(self.row(key).await?).await
    }

    /// The error for a conditional update that matched nothing: someone else moved first.
    pub(super) async fn lost_race(self, key: Key<OrderId>, action: OrderAction) -> AppError {
        let now_state = match self.row(key).await {
            Ok(o) => o.state,
            Err(e) => return e,
        };
        if action == OrderAction::Accept && now_state == OrderState::Accepted {
            return AppError::conflict("already_taken", None, "这张订单已被其他服务者接单");
        }
        let label = now_state.label_zh();
        AppError::conflict(
            "order_changed",
            None,
            format!("订单刚刚有了变化（现在{label}），请刷新后再操作"),
        )
    }

    /// Records the award owed to whoever served a completed order, exactly once.
    pub(super) async fn entitle(self, tx: &mut Tx, order: &OrderRow, now: i64) -> AppResult<()> {
        let Some(person_id) = order.served_by else {
            return Ok(());
        };
        let item = store_services::item(&mut tx.exec(), Key::new(order.county_code, order.item_id))
            .await?
            .ok_or(AppError::NotFound {
                what: "服务项目"
            })?;
        if item.points == 0 && item.hours_minutes == 0 {
            return Ok(());
        }
        let id = ids::next(&mut tx.exec(), Seq::AwardEntitlements).await?;
        store_orders::insert_entitlement(
            &mut tx.exec(),
            &EntitlementRow {
                county_code: order.county_code.as_i64(),
                id,
                source_kind: "order".to_owned(),
                source_id: order.id.get(),
                person_id: person_id.get(),
                points: item.points,
                hours_minutes: item.hours_minutes,
                status: "pending".to_owned(),
                created_at: now,
            },
        )
        .await?;
        Ok(())
    }

    /// Awards owed for an order (for the order page and the points ledger).
    #[tracing::instrument(name = "orders.entitlements", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn entitlements(
        self,
        caller: &Caller,
        key: Key<OrderId>,
    ) -> AppResult<Vec<EntitlementRow>> {
        let order = self.row(key).await?;
        self.standing(caller, &order).await?;
        Ok(store_orders::entitlements_of_source(
            &mut self.app.store().read(),
            key.county(),
            "order",
            key.id(),
        )
        .await?)
    }

    /// Appends the order event and the audit event of a transition.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record(
        self,
        tx: &mut Tx,
        caller: &Caller,
        key: Key<OrderId>,
        action: OrderAction,
        from: OrderState,
        to: OrderState,
        provider_id: Option<ProviderId>,
        note: Option<String>,
    ) -> AppResult<()> {
        let now = self.app.now();
        store_orders::append_events(
            &mut tx.exec(),
            &[NewOrderEvent {
                county_code: key.county_code,
                order_id: key.id,
                at: now,
                actor_id: caller.account_id.map(AccountId),
                actor_name: caller.display_name.clone(),
                action,
                from_state: from,
                to_state: to,
                provider_id,
                note,
            }],
        )
        .await?;
        let after = serde_json::json!({"state": to, "provider": provider_id});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: key.county(),
                action: order_audit_action(action),
                entity: "order",
                entity_key: key.to_string(),
                before: None,
                after: Some(&after),
                detail: Some(format!("{from} -> {to}")),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        Ok(())
    }

    /// Checks an order is in the caller's dispatch scope and returns it.
    pub(crate) async fn for_dispatch(
        self,
        caller: &Caller,
        key: Key<OrderId>,
    ) -> AppResult<OrderRow> {
        let order = self.row(key).await?;
        let path = parse_path(&order.path)?;
        if !caller.scope(Permission::Dispatch).covers(&path) {
            if caller.scope(Permission::ViewServices).covers(&path) {
                return Err(AppError::forbidden("您无权为这张订单派单"));
            }
            return Err(AppError::NotFound { what: "订单" });
        }
        Ok(order)
    }
}

pub(super) fn order_audit_action(a: OrderAction) -> &'static str {
    match a {
        OrderAction::Submit => "order.submit",
        OrderAction::Dispatch => "order.dispatch",
        OrderAction::Accept => "order.accept",
        OrderAction::Decline => "order.decline",
        OrderAction::Reassign => "order.reassign",
        OrderAction::Escalate => "order.escalate",
        OrderAction::CheckIn => "order.check_in",
        OrderAction::Complete => "order.complete",
        OrderAction::Rate => "order.rate",
        OrderAction::Close => "order.close",
        OrderAction::Cancel => "order.cancel",
    }
}

pub(super) fn pick_provider(
    mine: &[ProviderRow],
    wanted: Option<ProviderId>,
) -> AppResult<ProviderRow> {
    match wanted {
        Some(id) => mine
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .ok_or_else(|| AppError::forbidden("您不能以该服务者的身份处理这张订单")),
        None => mine
            .first()
            .cloned()
            .ok_or_else(|| AppError::forbidden("只有接到这张订单的服务者可以这样做")),
    }
}

/// Whether a provider's service area takes in an order's place.
pub(super) fn serves_path(p: &ProviderRow, path: &str) -> bool {
    serde_json::from_str::<Vec<String>>(&p.areas)
        .unwrap_or_default()
        .iter()
        .any(|a| path.starts_with(a.as_str()))
}

/// The providers through which a caller is party to an order ([`App::parties`]).
pub(crate) struct Parties {
    placed_by_caller: bool,
    providers: Vec<ProviderId>,
}

impl Parties {
    /// Whether acting as `provider` the caller would serve their own or their household's
    /// order.
    pub(crate) fn include(&self, provider: &ProviderRow) -> bool {
        self.placed_by_caller || self.providers.contains(&provider.id)
    }
}

/// The key of an order row.
pub(crate) fn order_key(order: &OrderRow) -> Key<OrderId> {
    Key::new(order.county_code, order.id)
}
