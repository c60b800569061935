//! Reading cases within scope: the list with its filters, a case with everything recorded
//! on it, and the units where a case can be taken in.

use super::*;

impl Mediation<'_> {
    /// A case the caller may read (`ViewServices`) or work on (`Mediate`). Out of scope
    /// looks the same as missing; readable but not workable is forbidden.
    pub(super) async fn case_for(
        self,
        caller: &Caller,
        p: Permission,
        key: Key<CaseId>,
    ) -> AppResult<CaseRow> {
        let not_found = AppError::NotFound {
            what: "调解案件"
        };
        let case = store::get_case(&mut self.app.store().read(), key)
            .await?
            .ok_or(not_found)?;
        let path = org_path(&case.path)?;
        if caller.scope(p).covers(&path) {
            return Ok(case);
        }
        if caller.scope(Permission::ViewServices).covers(&path) {
            return Err(AppError::forbidden("您无权办理该调解案件"));
        }
        Err(AppError::NotFound {
            what: "调解案件"
        })
    }

    /// The caller's scope for `p`, narrowed to a unit ("county/id") when one is given.
    pub(super) async fn scope(
        self,
        caller: &Caller,
        p: Permission,
        unit: Option<&str>,
    ) -> AppResult<(Scope, Option<OrgUnitRow>)> {
        let scope = caller.scope(p);
        if scope.is_empty() {
            return Err(AppError::forbidden("您无权查看矛盾调解案件"));
        }
        match unit.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok((scope, None)),
            Some(key) => {
                let (c, i) = parse_key(key).ok_or_else(|| {
                    AppError::invalid("invalid_unit", "unit", "组织参数格式不正确")
                })?;
                let unit =
                    store_org::get(&mut self.app.store().read(), crate::org::unit_key(c, i)?)
                        .await?
                        .ok_or(AppError::NotFound { what: "组织" })?;
                let path = org_path(&unit.path)?;
                let narrowed = scope.narrow_to(&path);
                if narrowed.is_empty() {
                    return Err(AppError::NotFound { what: "组织" });
                }
                Ok((narrowed, Some(unit)))
            }
        }
    }

    /// The case list: filters inside the caller's scope, newest intake first.
    #[tracing::instrument(name = "mediation.list", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn list(
        self,
        caller: &Caller,
        q: &CaseQuery,
        page: PageRequest,
    ) -> AppResult<Page<CaseListItem>> {
        let (scope, _) = self
            .scope(caller, Permission::ViewServices, q.unit.as_deref())
            .await?;
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let status = match nonempty(&q.status) {
            Some(s) => Some(CaseStatus::parse(&s).ok_or_else(|| {
                AppError::invalid("invalid_status", "status", "请选择有效的办理状态")
            })?),
            None => None,
        };
        let category = match nonempty(&q.category) {
            Some(c) => Some(DisputeCategory::parse_any(&c).ok_or_else(|| {
                AppError::invalid("invalid_category", "category", "请选择有效的纠纷类别")
            })?),
            None => None,
        };
        let outcome = match nonempty(&q.outcome) {
            Some(s) => Some(Outcome::parse(&s).ok_or_else(|| {
                AppError::invalid("invalid_outcome", "outcome", "请选择有效的调解结果")
            })?),
            None => None,
        };
        let from = opt_day(&q.from, "from")?;
        let to = opt_day(&q.to, "to")?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(AppError::invalid(
                "invalid_period",
                "from",
                "开始日期不能晚于结束日期",
            ));
        }
        let mediator = match nonempty(&q.mediator) {
            Some(m) => Some(Mediator::parse(&m).ok_or_else(|| {
                AppError::invalid("invalid_mediator", "mediator", "调解员参数格式不正确")
            })?),
            None => None,
        };
        let filter = CaseFilter {
            status,
            category,
            outcome,
            intake_from: from.map(|d| d.to_string()),
            intake_to: to.map(|d| d.to_string()),
            mediator,
        };
        let mut exec = self.app.store().read();
        let (rows, total) =
            store::list_cases(&mut exec, &scope, &filter, page.per_page, page.offset()).await?;
        let keys: Vec<Key<CaseId>> = rows.iter().map(|r| Key::new(r.county_code, r.id)).collect();
        let names = store::mediator_names(&mut exec, &keys).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let key = Key::new(r.county_code, r.id);
                let mediators = names
                    .iter()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join("、");
                CaseListItem {
                    category_label: r.category.label_zh(),
                    status_label: r.status.label_zh(),
                    outcome_label: r.outcome.map(Outcome::label_zh),
                    county_code: r.county_code,
                    id: r.id,
                    unit_name: r.unit_name,
                    category: r.category,
                    summary: r.summary,
                    intake_on: r.intake_on,
                    status: r.status,
                    outcome: r.outcome,
                    concluded_on: r.concluded_on,
                    mediators,
                }
            })
            .collect();
        Ok(Page {
            items,
            total,
            total_is_lower_bound: false,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// A case with its parties, mediators, sessions and follow-ups.
    #[tracing::instrument(name = "mediation.case", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn case(self, caller: &Caller, key: Key<CaseId>) -> AppResult<CaseView> {
        let case = self.case_for(caller, Permission::ViewServices, key).await?;
        let mut exec = self.app.store().read();
        let parties = store::parties(&mut exec, key)
            .await?
            .into_iter()
            .map(|p| PartyView {
                side_label: p.side.label_zh(),
                seq: p.seq,
                side: p.side,
                name: p.name,
                person_id: p.person_id,
            })
            .collect();
        let mediators: Vec<MediatorView> = store::mediators(&mut exec, key)
            .await?
            .into_iter()
            .map(mediator_view)
            .collect();
        let sessions = store::sessions(&mut exec, key)
            .await?
            .into_iter()
            .map(|s| SessionView {
                present: serde_json::from_str(&s.present).unwrap_or_default(),
                id: s.id,
                held_on: s.held_on,
                note: s.note,
                recorded_at: s.recorded_at,
                recorded_by_name: s.recorded_by_name,
            })
            .collect();
        let followups = store::followups(&mut exec, key).await?;
        let may = caller
            .scope(Permission::Mediate)
            .covers(&org_path(&case.path)?);
        let status = case.status;
        let ok = |a| may && transition(status, a).is_ok();
        let allowed = AllowedActions {
            assign: ok(CaseAction::AssignMediators),
            session: ok(CaseAction::RecordSession {
                has_mediators: !mediators.is_empty(),
            }),
            conclude: ok(CaseAction::Conclude(Outcome::Referred)),
            refer_only: status == CaseStatus::Intake,
            follow_up: ok(CaseAction::FollowUp),
        };
        Ok(CaseView {
            category_label: case.category.label_zh(),
            status_label: case.status.label_zh(),
            outcome_label: case.outcome.map(Outcome::label_zh),
            case,
            parties,
            mediators,
            sessions,
            followups,
            allowed,
        })
    }

    /// Units where the caller may take in a case (community and below), for the form.
    #[tracing::instrument(name = "mediation.units", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn units(self, caller: &Caller) -> AppResult<Vec<PickItem>> {
        let scope = caller.scope(Permission::Mediate);
        if scope.is_empty() {
            return Err(AppError::forbidden("您无权受理矛盾纠纷"));
        }
        let kinds: Vec<&str> = OrgKind::ALL
            .into_iter()
            .filter(|k| k.is_home())
            .map(OrgKind::as_str)
            .collect();
        Ok(
            store::units_of_kinds(&mut self.app.store().read(), &scope, &kinds, 500)
                .await?
                .into_iter()
                .map(pick)
                .collect(),
        )
    }
}
