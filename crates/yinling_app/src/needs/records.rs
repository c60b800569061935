//! The ledger itself: reading within scope, recording a need, following it up.

use super::*;
use crate::kernel::text::ReadField;

pub(super) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

pub(super) fn path_of(s: &str) -> AppResult<OrgPath> {
    OrgPath::parse(s).map_err(|e| AppError::Internal(e.to_string()))
}

/// The same calendar day `n` years earlier (29 February falls back to the 28th).
pub(super) fn years_before(today: NaiveDate, n: u32) -> NaiveDate {
    use chrono::Datelike;
    let year = today.year() - n as i32;
    today
        .with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, today.month(), 28))
        .unwrap_or(today)
}

impl Needs<'_> {
    /// The categories of each county seen, looked up once per county.
    pub(super) async fn category_labels(
        self,
        cache: &mut HashMap<CountyCode, Vec<Category>>,
        county: CountyCode,
        code: &str,
    ) -> AppResult<String> {
        if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(county) {
            e.insert(self.app.services().categories(county.as_i64()).await?);
        }
        Ok(cache
            .get(&county)
            .and_then(|cs| cs.iter().find(|c| c.code == code))
            .map_or_else(|| code.to_owned(), |c| c.label.clone()))
    }

    pub(super) async fn item(
        self,
        r: NeedRow,
        cache: &mut HashMap<CountyCode, Vec<Category>>,
    ) -> AppResult<NeedItem> {
        let today = self.app.clock().today();
        Ok(NeedItem {
            category_label: self
                .category_labels(cache, r.county_code, &r.category)
                .await?,
            age: r
                .person_birth_date
                .as_deref()
                .and_then(parse_date)
                .map(|b| age_on(b, today)),
            urgency_label: r.urgency.label_zh(),
            source_label: r.source.label_zh(),
            status_label: r.status.label_zh(),
            county_code: r.county_code,
            id: r.id,
            unit_id: r.unit_id,
            unit_name: r.unit_name,
            person_id: r.person_id,
            person_name: r.person_name,
            household_id: r.household_id,
            household: r.household_label,
            category: r.category,
            description: r.description,
            urgency: r.urgency,
            source: r.source,
            status: r.status,
            recorded_by_name: r.recorded_by_name,
            followup_count: r.followup_count,
            last_followup_at: r.last_followup_at,
            order_id: r.order_id,
            synthetic: r.synthetic,
            created_at: r.created_at,
            version: r.version,
        })
    }

    /// The caller's scope for `p`, narrowed to the unit a filter names.
    pub(super) async fn scope(
        self,
        caller: &Caller,
        p: Permission,
        unit: Option<&str>,
    ) -> AppResult<Scope> {
        let scope = caller.scope(p);
        match unit.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(scope),
            Some(key) => {
                let (c, i) = parse_key(key).ok_or_else(|| {
                    AppError::invalid("invalid_unit", "unit", "组织参数格式不正确")
                })?;
                let unit =
                    store_org::get(&mut self.app.store().read(), crate::org::unit_key(c, i)?)
                        .await?
                        .ok_or(AppError::NotFound { what: "组织" })?;
                Ok(scope.narrow_to(&path_of(&unit.path)?))
            }
        }
    }

    pub(super) fn filter(self, q: &NeedQuery) -> AppResult<NeedFilter> {
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let status = nonempty(&q.status)
            .map(|s| {
                NeedStatus::parse(&s)
                    .ok_or_else(|| AppError::invalid("invalid_status", "status", "状态参数不正确"))
            })
            .transpose()?;
        let urgency = nonempty(&q.urgency)
            .map(|s| {
                Urgency::parse(&s).ok_or_else(|| {
                    AppError::invalid("invalid_urgency", "urgency", "紧急程度参数不正确")
                })
            })
            .transpose()?;
        let source = nonempty(&q.source)
            .map(|s| {
                NeedSource::parse(&s)
                    .ok_or_else(|| AppError::invalid("invalid_source", "source", "来源参数不正确"))
            })
            .transpose()?;
        if let (Some(a), Some(b)) = (q.age_min, q.age_max)
            && a > b
        {
            return Err(AppError::invalid(
                "invalid_age",
                "age_min",
                "最小年龄不能大于最大年龄",
            ));
        }
        if q.age_min.is_some_and(|a| a > 150) || q.age_max.is_some_and(|a| a > 150) {
            return Err(AppError::invalid(
                "invalid_age",
                "age_min",
                "年龄须为0至150之间的整数",
            ));
        }
        let person = match nonempty(&q.person) {
            Some(p) => Some(
                parse_key(&p)
                    .and_then(|(c, i)| Key::from_parts(c, i).ok())
                    .ok_or_else(|| {
                        AppError::invalid("invalid_person", "person", "人员参数格式不正确")
                    })?,
            ),
            None => None,
        };
        let today = self.app.clock().today();
        Ok(NeedFilter {
            category: nonempty(&q.category),
            status,
            urgency,
            source,
            born_on_or_before: q.age_min.map(|n| years_before(today, n).to_string()),
            born_on_or_after: q
                .age_max
                .and_then(|n| years_before(today, n + 1).succ_opt())
                .map(|d| d.to_string()),
            person,
        })
    }

    /// The ledger: needs in the caller's scope matching the filters, newest first.
    #[tracing::instrument(name = "needs.list", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn list(
        self,
        caller: &Caller,
        q: &NeedQuery,
        page: PageRequest,
    ) -> AppResult<Page<NeedItem>> {
        if !caller.may(Permission::ViewServices) {
            return Err(AppError::forbidden("您无权查看需求台账"));
        }
        let scope = self
            .scope(caller, Permission::ViewServices, q.unit.as_deref())
            .await?;
        let filter = self.filter(q)?;
        let (rows, total) = store_needs::list(
            &mut self.app.store().read(),
            &scope,
            &filter,
            page.per_page,
            page.offset(),
        )
        .await?;
        let mut cache = HashMap::new();
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            items.push(self.item(r, &mut cache).await?);
        }
        Ok(Page {
            items,
            total: total.min(store_needs::COUNT_CAP),
            total_is_lower_bound: total > store_needs::COUNT_CAP,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// How many needs in the caller's scope stand at each status.
    #[tracing::instrument(name = "needs.status_counts", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn status_counts(self, caller: &Caller) -> AppResult<Vec<(NeedStatus, i64)>> {
        let counts = store_needs::count_by_status(
            &mut self.app.store().read(),
            &caller.scope(Permission::ViewServices),
        )
        .await?;
        Ok(NeedStatus::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n),
                )
            })
            .collect())
    }

    /// Loads a need visible to the caller; NotFound otherwise, so a need out of scope looks
    /// exactly like a missing one.
    pub(super) async fn in_scope(self, caller: &Caller, key: Key<NeedId>) -> AppResult<NeedRow> {
        let row = store_needs::get(&mut self.app.store().read(), key)
            .await?
            .ok_or(AppError::NotFound { what: "需求" })?;
        if !caller
            .scope(Permission::ViewServices)
            .covers(&path_of(&row.path)?)
        {
            return Err(AppError::NotFound { what: "需求" });
        }
        Ok(row)
    }

    /// One need with its follow-ups.
    #[tracing::instrument(name = "needs.detail", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn detail(self, caller: &Caller, key: Key<NeedId>) -> AppResult<NeedView> {
        let row = self.in_scope(caller, key).await?;
        let can_follow_up = caller
            .scope(Permission::Dispatch)
            .covers(&path_of(&row.path)?);
        let status = row.status;
        let next_statuses = if can_follow_up {
            NeedStatus::ALL
                .iter()
                .copied()
                .filter(|t| status.can_change_to(*t))
                .collect()
        } else {
            Vec::new()
        };
        let followups = store_needs::followups_of(&mut self.app.store().read(), key)
            .await?
            .into_iter()
            .map(|f| FollowUpView {
                from_label: f.from_status.label_zh(),
                to_label: f.to_status.label_zh(),
                changed: f.from_status != f.to_status,
                row: f,
            })
            .collect();
        let mut cache = HashMap::new();
        Ok(NeedView {
            need: self.item(row, &mut cache).await?,
            followups,
            can_follow_up: can_follow_up && status != NeedStatus::Closed,
            next_statuses,
        })
    }

    /// Records a need for a person or household in the caller's scope.
    #[tracing::instrument(name = "needs.record", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn record(self, caller: &Caller, input: NeedInput) -> AppResult<Key<NeedId>> {
        if !caller.may(Permission::Dispatch) {
            return Err(AppError::forbidden("您无权登记需求"));
        }
        let county = input.county_code;
        if input.person_id.is_none() && input.household_id.is_none() {
            return Err(AppError::invalid(
                "subject_required",
                "person_id",
                "请选择提出需求的人员或住户",
            ));
        }
        let description =
            rules::Description::read(&input.description, "description", "需求内容")?.into_string();
        let category = self
            .app
            .services()
            .category(county, input.category.trim(), "category")
            .await?;
        let scope = caller.scope(Permission::Dispatch);
        let mut exec = self.app.store().read();
        let person = match input.person_id {
            Some(pid) => {
                let p = store_people::get(&mut exec, crate::people::person_key(county, pid)?)
                    .await?
                    .filter(|p| path_of(&p.path).is_ok_and(|path| scope.covers(&path)))
                    .ok_or(AppError::NotFound { what: "人员" })?;
                Some(p)
            }
            None => None,
        };
        let household = match input.household_id {
            Some(hid) => {
                let h = store_places::get(
                    &mut exec,
                    yinling_domain::ids::Key::from_parts(county, hid)
                        .map_err(|_| AppError::NotFound { what: "住户" })?,
                )
                .await?
                .filter(|h| h.kind == yinling_domain::org::PlaceKind::Household)
                .filter(|h| path_of(&h.path).is_ok_and(|path| scope.covers(&path)))
                .ok_or(AppError::NotFound { what: "住户" })?;
                Some(h)
            }
            None => None,
        };
        if let (Some(p), Some(h)) = (&person, &household)
            && p.household_id.map(yinling_domain::ids::PlaceId::get) != Some(h.id.get())
        {
            return Err(AppError::invalid(
                "person_not_in_household",
                "household_id",
                format!("{}不是所选住户“{}”的成员", p.name, h.label),
            ));
        }
        // The unit: the one chosen, or where the person lives, or the household's.
        let (unit_id, unit_path) = match input.unit_id {
            Some(uid) => {
                let unit = store_org::get(&mut exec, crate::org::unit_key(county, uid)?)
                    .await?
                    .ok_or(AppError::NotFound { what: "组织" })?;
                let path = path_of(&unit.path)?;
                if !scope.covers(&path) {
                    return Err(AppError::NotFound { what: "组织" });
                }
                if !OrgKind::parse(unit.kind.as_str()).is_some_and(OrgKind::is_home) {
                    return Err(AppError::invalid(
                        "not_an_area",
                        "unit_id",
                        "需求须登记在社区、村、小区、网格或党员中心户下",
                    ));
                }
                (unit.id.get(), path)
            }
            None => match (&person, &household) {
                (Some(p), _) => (p.home_unit_id.get(), path_of(&p.path)?),
                (None, Some(h)) => (h.unit_id.get(), path_of(&h.path)?),
                (None, None) => unreachable!("checked above"),
            },
        };
        if let Some(p) = &person
            && !path_of(&p.path)?.is_within(&unit_path)
        {
            return Err(AppError::invalid(
                "not_in_unit",
                "person_id",
                format!("{}不住在所选组织的辖区内", p.name),
            ));
        }
        if let Some(h) = &household
            && !path_of(&h.path)?.is_within(&unit_path)
        {
            return Err(AppError::invalid(
                "not_in_unit",
                "household_id",
                format!("住户“{}”不在所选组织的辖区内", h.label),
            ));
        }
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let key: Key<NeedId> =
            crate::kernel::key::stored(county, ids::next(&mut tx.exec(), Seq::Needs).await?)?;
        let new = NewNeed {
            county_code: key.county_code,
            id: key.id,
            path: unit_path.to_string(),
            unit_id: UnitId(unit_id),
            person_id: person.as_ref().map(|p| p.id),
            household_id: household
                .as_ref()
                .map(|h| h.id)
                .or_else(|| person.as_ref().and_then(|p| p.household_id)),
            category: category.code.clone(),
            description,
            urgency: input.urgency,
            source: input.source,
            status: NeedStatus::Open,
            recorded_by: caller.account_id.map(AccountId),
            recorded_by_name: caller.display_name.clone(),
            synthetic: false,
            now,
        };
        store_needs::insert_many(&mut tx.exec(), std::slice::from_ref(&new)).await?;
        let after = serde_json::json!({
            "unit": new.path, "person": new.person_id, "household": new.household_id,
            "category": new.category, "description": new.description, "urgency": new.urgency,
            "source": new.source, "status": new.status,
        });
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "need.create",
                entity: "need",
                entity_key: key.to_string(),
                before: None,
                after: Some(&after),
                detail: Some(new.category.clone()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(key)
    }

    /// Records a follow-up on a need, changing its status if asked and allowed.
    #[tracing::instrument(name = "needs.follow_up", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn follow_up(
        self,
        caller: &Caller,
        key: Key<NeedId>,
        input: FollowUpInput,
    ) -> AppResult<NeedStatus> {
        let row = self.in_scope(caller, key).await?;
        if !caller
            .scope(Permission::Dispatch)
            .covers(&path_of(&row.path)?)
        {
            return Err(AppError::forbidden("您无权跟进该需求"));
        }
        let note = rules::FollowUpNote::read(&input.note, "note", "跟进情况")?.into_string();
        let from = row.status;
        let to = rules::follow_up(from, input.status)
            .map_err(|e| AppError::invalid(e.code(), "status", e.to_string()))?;
        let version = input.version.unwrap_or(row.version);
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store_needs::follow_up(
            &mut tx.exec(),
            version,
            &NewFollowup {
                county_code: key.county_code,
                need_id: key.id,
                at: now,
                actor_id: caller.account_id.map(AccountId),
                actor_name: caller.display_name.clone(),
                note: note.clone(),
                from_status: from,
                to_status: to,
            },
        )
        .await
        .map_err(|e| match e {
            yinling_store::StoreError::Stale => AppError::conflict(
                "stale",
                Some("version"),
                "该需求刚被他人跟进过，请刷新后查看最新情况再填写",
            ),
            other => other.into(),
        })?;
        let before = serde_json::json!({"status": from.as_str()});
        let after = serde_json::json!({"status": to.as_str(), "note": note});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: key.county(),
                action: "need.follow_up",
                entity: "need",
                entity_key: key.to_string(),
                before: Some(&before),
                after: Some(&after),
                detail: Some(format!("{}->{}", from.as_str(), to.as_str())),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(to)
    }

    pub(super) fn masked_id(self, enc: Option<&[u8]>) -> String {
        enc.map(|enc| match self.app.vault().open(Field::IdNumber, enc) {
            Ok(clear) => self.app.settings().privacy.id_number_mask.apply(&clear),
            Err(_) => "（无法解密）".into(),
        })
        .unwrap_or_default()
    }

    pub(super) fn masked_phone(self, enc: Option<&[u8]>) -> String {
        enc.map(|enc| match self.app.vault().open(Field::Phone, enc) {
            Ok(clear) => self.app.settings().privacy.phone_mask.apply(&clear),
            Err(_) => "（无法解密）".into(),
        })
        .unwrap_or_default()
    }
}
