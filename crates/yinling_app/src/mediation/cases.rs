//! The case's life: reading within scope, intake, assigning mediators, sessions, the
//! outcome (with the mediators' points entitlements) and follow-up visits.

use super::*;

pub(super) fn parse_day(s: &str, field: &'static str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            "invalid_date",
            field,
            "日期格式不正确，请按“年-月-日”填写，例如2026-07-01",
        )
    })
}

pub(super) fn opt_day(s: &Option<String>, field: &'static str) -> AppResult<Option<NaiveDate>> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => parse_day(v, field).map(Some),
        None => Ok(None),
    }
}

/// Free text: trimmed, within `min..=max` characters, through the one text checker (no
/// invisible characters; no phone or ID numbers; newlines only where `kind` allows them).
pub(super) fn text(
    s: &str,
    kind: TextKind,
    field: &'static str,
    what: &str,
    min: usize,
    max: usize,
) -> AppResult<String> {
    let t = s.trim().to_owned();
    let n = t.chars().count();
    if n < min {
        return Err(AppError::invalid(
            "required",
            field,
            if min <= 1 {
                format!("请填写{what}")
            } else {
                format!("请填写{what}，至少{min}个字")
            },
        ));
    }
    if n > max {
        return Err(AppError::invalid(
            "too_long",
            field,
            format!("{what}最多{max}个字"),
        ));
    }
    crate::kernel::text::check(&t, kind, field, what)?;
    Ok(t)
}

pub(super) fn opt_text(
    s: Option<&str>,
    kind: TextKind,
    field: &'static str,
    what: &str,
    max: usize,
) -> AppResult<Option<String>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => text(v, kind, field, what, 1, max).map(Some),
        None => Ok(None),
    }
}

pub(super) fn refused(e: TransitionError) -> AppError {
    let code = match e {
        TransitionError::Closed { .. } => "case_closed",
        TransitionError::NoMediators => "no_mediators",
        TransitionError::NotMediatedYet => "not_mediated_yet",
        TransitionError::NotConcluded => "not_concluded",
    };
    AppError::conflict(code, Some("status"), e.to_string())
}

pub(super) fn org_path(s: &str) -> AppResult<OrgPath> {
    OrgPath::parse(s).map_err(|e| AppError::Internal(e.to_string()))
}

/// A mediator resolved and checked, ready to insert.
pub(super) struct Resolved {
    kind: MediatorKind,
    id: i64,
    path: String,
    name: String,
}

impl Mediation<'_> {
    /// A case the caller may read (`ViewServices`) or work on (`Mediate`). Out of scope
    /// looks the same as missing; readable but not workable is forbidden.
    pub(super) async fn case_for(
        self,
        caller: &Caller,
        p: Permission,
        county: i64,
        id: i64,
    ) -> AppResult<CaseRow> {
        let not_found = AppError::NotFound {
            what: "调解案件"
        };
        let case = store::get_case(&mut self.app.store().read(), county, id)
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
        let status = nonempty(&q.status);
        if status
            .as_deref()
            .is_some_and(|s| CaseStatus::parse(s).is_none())
        {
            return Err(AppError::invalid(
                "invalid_status",
                "status",
                "请选择有效的办理状态",
            ));
        }
        let category = nonempty(&q.category);
        let category = match category {
            Some(c) => Some(
                DisputeCategory::parse_any(&c)
                    .ok_or_else(|| {
                        AppError::invalid("invalid_category", "category", "请选择有效的纠纷类别")
                    })?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        };
        let outcome = nonempty(&q.outcome);
        if outcome
            .as_deref()
            .is_some_and(|s| Outcome::parse(s).is_none())
        {
            return Err(AppError::invalid(
                "invalid_outcome",
                "outcome",
                "请选择有效的调解结果",
            ));
        }
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
            Some(m) => {
                let (k, id) = m
                    .split_once('/')
                    .and_then(|(k, id)| Some((MediatorKind::parse(k)?, id.parse::<i64>().ok()?)))
                    .ok_or_else(|| {
                        AppError::invalid("invalid_mediator", "mediator", "调解员参数格式不正确")
                    })?;
                Some((k.as_str().to_owned(), id))
            }
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
        let keys: Vec<(i64, i64)> = rows.iter().map(|r| (r.county_code, r.id)).collect();
        let names = store::mediator_names(&mut exec, &keys).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let mediators = names
                    .iter()
                    .filter(|(c, id, _)| *c == r.county_code && *id == r.id)
                    .map(|(_, _, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join("、");
                CaseListItem {
                    category_label: category_label(&r.category),
                    status_label: status_label(&r.status),
                    outcome_label: outcome_label(r.outcome.as_deref()),
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
    #[tracing::instrument(name = "mediation.case", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = county, id = id))]
    pub async fn case(self, caller: &Caller, county: i64, id: i64) -> AppResult<CaseView> {
        let case = self
            .case_for(caller, Permission::ViewServices, county, id)
            .await?;
        let mut exec = self.app.store().read();
        let parties = store::parties(&mut exec, county, id)
            .await?
            .into_iter()
            .map(|p| PartyView {
                side_label: PartySide::parse(&p.side).map_or("当事人", PartySide::label_zh),
                seq: p.seq,
                side: p.side,
                name: p.name,
                person_id: p.person_id,
            })
            .collect();
        let mediators: Vec<MediatorView> = store::mediators(&mut exec, county, id)
            .await?
            .into_iter()
            .map(mediator_view)
            .collect();
        let sessions = store::sessions(&mut exec, county, id)
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
        let followups = store::followups(&mut exec, county, id).await?;
        let may = caller
            .scope(Permission::Mediate)
            .covers(&org_path(&case.path)?);
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Intake);
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
            category_label: category_label(&case.category),
            status_label: status_label(&case.status),
            outcome_label: outcome_label(case.outcome.as_deref()),
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

    /// Who may be assigned to a case: the case county's studios and teams, and the retired
    /// cadres living in the caller's scope.
    #[tracing::instrument(name = "mediation.mediator_choices", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = county, id = id))]
    pub async fn mediator_choices(
        self,
        caller: &Caller,
        county: i64,
        id: i64,
    ) -> AppResult<MediatorChoices> {
        let case = self
            .case_for(caller, Permission::Mediate, county, id)
            .await?;
        let mut exec = self.app.store().read();
        let county_scope = Scope::from_paths([crate::county_path(case.county_code)]);
        let units = store::units_of_kinds(
            &mut exec,
            &county_scope,
            &[
                OrgKind::CadreStudio.as_str(),
                OrgKind::VolunteerTeam.as_str(),
            ],
            500,
        )
        .await?;
        let (studios, teams): (Vec<PickRow>, Vec<PickRow>) = units
            .into_iter()
            .partition(|u| u.kind == OrgKind::CadreStudio.as_str());
        let cadres = store::retired_cadres(
            &mut exec,
            &caller
                .scope(Permission::Mediate)
                .narrow_to(&crate::county_path(case.county_code)),
            300,
        )
        .await?;
        Ok(MediatorChoices {
            studios: studios.into_iter().map(pick).collect(),
            teams: teams.into_iter().map(pick).collect(),
            cadres: cadres.into_iter().map(pick).collect(),
        })
    }

    /// Checks each mediator exists, fits its kind and lies in the caller's reach: a retired
    /// cadre living in the caller's `Mediate` scope, or a studio or team of the case's county.
    pub(super) async fn resolve_mediators(
        self,
        caller: &Caller,
        county: i64,
        refs: &[MediatorRef],
        already: &[MediatorRow],
    ) -> AppResult<Vec<Resolved>> {
        if refs.len() > 10 {
            return Err(AppError::invalid(
                "too_many_mediators",
                "mediators",
                "一次最多指派10名（个）调解员",
            ));
        }
        let scope = caller.scope(Permission::Mediate);
        let mut exec = self.app.store().read();
        let mut out: Vec<Resolved> = Vec::with_capacity(refs.len());
        for r in refs {
            if out.iter().any(|m| m.kind == r.kind && m.id == r.id)
                || already
                    .iter()
                    .any(|m| m.kind == r.kind.as_str() && m.mediator_id == r.id)
            {
                return Err(AppError::conflict(
                    "mediator_assigned",
                    Some("mediators"),
                    "该调解员已指派到本案，不能重复指派",
                ));
            }
            let resolved = match r.kind {
                MediatorKind::Person => {
                    let p = store_people::get(&mut exec, crate::people::person_key(county, r.id)?)
                        .await?
                        .filter(|p| OrgPath::parse(&p.path).is_ok_and(|pp| scope.covers(&pp)))
                        .ok_or(AppError::NotFound { what: "调解员" })?;
                    if !store::is_retired_cadre(&mut exec, county, r.id).await? {
                        return Err(AppError::invalid(
                            "not_a_retired_cadre",
                            "mediators",
                            format!("{}的档案中没有“离退休干部”身份，不能指派为调解员", p.name),
                        ));
                    }
                    if p.status != yinling_domain::person::PersonStatus::Active {
                        return Err(AppError::invalid(
                            "person_inactive",
                            "mediators",
                            format!("{}的档案已不在册，不能指派为调解员", p.name),
                        ));
                    }
                    Resolved {
                        kind: r.kind,
                        id: r.id,
                        path: p.path,
                        name: p.name,
                    }
                }
                MediatorKind::Studio | MediatorKind::Team => {
                    let want = if r.kind == MediatorKind::Studio {
                        OrgKind::CadreStudio
                    } else {
                        OrgKind::VolunteerTeam
                    };
                    // Any studio or team of the case's county: the county's bureau keeps
                    // them, not the community where the dispute arose.
                    let u = store_org::get(&mut exec, crate::org::unit_key(county, r.id)?)
                        .await?
                        .ok_or(AppError::NotFound {
                            what: "调解组织"
                        })?;
                    if u.kind != want {
                        return Err(AppError::invalid(
                            "wrong_mediator_kind",
                            "mediators",
                            format!("“{}”不是{}", u.name, want.label_zh()),
                        ));
                    }
                    Resolved {
                        kind: r.kind,
                        id: r.id,
                        path: u.path,
                        name: u.name,
                    }
                }
            };
            out.push(resolved);
        }
        Ok(out)
    }

    /// Takes in a case (受理). Returns (county, id).
    #[tracing::instrument(name = "mediation.create", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn create(self, caller: &Caller, input: CaseInput) -> AppResult<(i64, i64)> {
        if !caller.may(Permission::Mediate) {
            return Err(AppError::forbidden("您无权受理矛盾纠纷"));
        }
        let county = input.unit_county_code;
        let unit = store_org::get(
            &mut self.app.store().read(),
            crate::org::unit_key(county, input.unit_id)?,
        )
        .await?
        .ok_or(AppError::NotFound { what: "组织" })?;
        let path = org_path(&unit.path)?;
        if !caller.scope(Permission::Mediate).covers(&path) {
            if caller.scope(Permission::ViewServices).covers(&path) {
                return Err(AppError::forbidden("您无权在该组织受理矛盾纠纷"));
            }
            return Err(AppError::NotFound { what: "组织" });
        }
        if !OrgKind::parse(unit.kind.as_str()).is_some_and(OrgKind::is_home) {
            return Err(AppError::invalid(
                "not_an_area",
                "unit",
                "矛盾纠纷须登记在发生地所在的社区、村、小区或网格",
            ));
        }
        if let Some(pid) = input.place_id {
            store_places::get(
                &mut self.app.store().read(),
                yinling_domain::ids::Key::from_parts(county, pid)
                    .map_err(|_| AppError::NotFound { what: "住所" })?,
            )
            .await?
            .filter(|pl| OrgPath::parse(&pl.path).is_ok_and(|pp| pp.is_within(&path)))
            .ok_or(AppError::NotFound { what: "住所" })?;
        }
        let summary = text(
            &input.summary,
            TextKind::Lines,
            "summary",
            "纠纷简要情况",
            5,
            500,
        )?;
        let location = opt_text(
            input.location.as_deref(),
            TextKind::Line,
            "location",
            "发生地点",
            60,
        )?;
        let today = self.app.clock().today();
        let intake_on = input.intake_on.unwrap_or(today);
        if intake_on > today {
            return Err(AppError::invalid(
                "date_in_future",
                "intake_on",
                "受理日期不能晚于今天",
            ));
        }
        if intake_on < today - chrono::Days::new(3660) {
            return Err(AppError::invalid(
                "date_too_old",
                "intake_on",
                "受理日期不能早于十年前",
            ));
        }
        let taken_by_name = match input.taken_by_name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => text(n, TextKind::Line, "taken_by_name", "受理人", 1, 20)?,
            _ => caller.display_name.clone(),
        };
        if input.parties.is_empty() {
            return Err(AppError::invalid(
                "no_parties",
                "parties",
                "请至少填写一名当事人",
            ));
        }
        if input.parties.len() > 10 {
            return Err(AppError::invalid(
                "too_many_parties",
                "parties",
                "当事人最多10名",
            ));
        }
        let view_people = caller.scope(Permission::ViewPeople);
        let mediate = caller.scope(Permission::Mediate);
        let mut parties = Vec::with_capacity(input.parties.len());
        for (i, p) in input.parties.iter().enumerate() {
            let name = match p.person_id {
                Some(pid) => {
                    store_people::get(
                        &mut self.app.store().read(),
                        crate::people::person_key(county, pid)?,
                    )
                    .await?
                    .filter(|person| {
                        OrgPath::parse(&person.path)
                            .is_ok_and(|pp| view_people.covers(&pp) || mediate.covers(&pp))
                    })
                    .ok_or(AppError::NotFound {
                        what: "当事人档案"
                    })?
                    .name
                }
                None => {
                    let n = text(&p.name, TextKind::Line, "parties", "当事人姓名", 1, 20)?;
                    if n.chars().any(|c| c.is_ascii_digit()) {
                        return Err(AppError::invalid(
                            "invalid_party_name",
                            "parties",
                            "当事人姓名中不能有数字",
                        ));
                    }
                    n
                }
            };
            parties.push((i as i64 + 1, p.side, name, p.person_id));
        }
        let mediators = self
            .resolve_mediators(caller, county, &input.mediators, &[])
            .await?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let id = ids::next(&mut tx.exec(), Seq::MediationCases).await?;
        let new = NewCase {
            county_code: county,
            id,
            path: unit.path.clone(),
            unit_id: unit.id.get(),
            place_id: input.place_id,
            location,
            category: input.category.as_str().to_owned(),
            summary,
            intake_on: intake_on.to_string(),
            taken_by: caller.account_id,
            taken_by_name,
            status: CaseStatus::Intake.as_str().to_owned(),
            outcome: None,
            concluded_on: None,
            outcome_note: None,
            referred_to: None,
            followed_up_on: None,
            agreement_holds: None,
            synthetic: false,
            now,
        };
        store::insert_cases(&mut tx.exec(), std::slice::from_ref(&new)).await?;
        let party_rows: Vec<NewParty> = parties
            .iter()
            .map(|(seq, side, name, person)| NewParty {
                county_code: county,
                case_id: id,
                seq: *seq,
                side: side.as_str().to_owned(),
                name: name.clone(),
                person_id: *person,
            })
            .collect();
        store::insert_parties(&mut tx.exec(), &party_rows).await?;
        store::insert_mediators(
            &mut tx.exec(),
            &new_mediators(county, id, &mediators, &caller.display_name, now),
        )
        .await?;
        let after = serde_json::json!({
            "unit": new.path, "category": new.category, "summary": new.summary,
            "intake_on": new.intake_on, "parties": parties.iter().map(|p| &p.2).collect::<Vec<_>>(),
            "mediators": mediators.iter().map(|m| format!("{}/{}", m.kind.as_str(), m.id)).collect::<Vec<_>>(),
        });
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "mediation.create",
                entity: "mediation_case",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(&after),
                detail: Some(format!("category={}", new.category)),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok((county, id))
    }

    /// Assigns mediators to an open case.
    #[tracing::instrument(name = "mediation.assign", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = county, id = id))]
    pub async fn assign(
        self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: AssignInput,
    ) -> AppResult<()> {
        let case = self
            .case_for(caller, Permission::Mediate, county, id)
            .await?;
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Intake);
        let next = transition(status, CaseAction::AssignMediators).map_err(refused)?;
        if input.mediators.is_empty() {
            return Err(AppError::invalid(
                "no_mediators",
                "mediators",
                "请选择要指派的调解员或调解组织",
            ));
        }
        let already = store::mediators(&mut self.app.store().read(), county, id).await?;
        let resolved = self
            .resolve_mediators(caller, county, &input.mediators, &already)
            .await?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store::bump(
            &mut tx.exec(),
            county,
            id,
            input.version,
            next.as_str(),
            now,
        )
        .await?;
        store::insert_mediators(
            &mut tx.exec(),
            &new_mediators(county, id, &resolved, &caller.display_name, now),
        )
        .await?;
        let after = serde_json::json!({"mediators": resolved.iter().map(|m| format!("{}/{}", m.kind.as_str(), m.id)).collect::<Vec<_>>()});
        self.case_event(&mut tx, caller, county, id, "mediation.assign", &after)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a mediation session (调解过程). Refused on a concluded case.
    #[tracing::instrument(name = "mediation.record_session", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = county, id = id))]
    pub async fn record_session(
        self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: SessionInput,
    ) -> AppResult<i64> {
        let case = self
            .case_for(caller, Permission::Mediate, county, id)
            .await?;
        let assigned = store::mediators(&mut self.app.store().read(), county, id).await?;
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Intake);
        let next = transition(
            status,
            CaseAction::RecordSession {
                has_mediators: !assigned.is_empty(),
            },
        )
        .map_err(refused)?;
        self.check_day(
            input.held_on,
            &case.intake_on,
            "held_on",
            "调解日期",
            "受理日期",
        )?;
        if input.present.is_empty() {
            return Err(AppError::invalid(
                "no_one_present",
                "present",
                "请选择到场的调解员",
            ));
        }
        let mut present = Vec::with_capacity(input.present.len());
        for r in &input.present {
            let m = assigned
                .iter()
                .find(|m| m.kind == r.kind.as_str() && m.mediator_id == r.id)
                .ok_or_else(|| {
                    AppError::invalid(
                        "not_assigned",
                        "present",
                        "到场的调解员须是本案已指派的调解员或调解组织",
                    )
                })?;
            if !present
                .iter()
                .any(|p: &PresentMediator| p.kind == r.kind && p.id == r.id)
            {
                present.push(PresentMediator {
                    kind: r.kind,
                    id: r.id,
                    name: m.name.clone(),
                });
            }
        }
        let note = text(&input.note, TextKind::Lines, "note", "调解情况", 2, 1000)?;
        let present_json =
            serde_json::to_string(&present).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store::bump(
            &mut tx.exec(),
            county,
            id,
            input.version,
            next.as_str(),
            now,
        )
        .await?;
        let sid = ids::next(&mut tx.exec(), Seq::MediationSessions).await?;
        store::insert_sessions(
            &mut tx.exec(),
            &[NewSession {
                county_code: county,
                id: sid,
                case_id: id,
                held_on: input.held_on.to_string(),
                present: present_json.clone(),
                note: note.clone(),
                recorded_by_name: caller.display_name.clone(),
                now,
            }],
        )
        .await?;
        let after = serde_json::json!({"session": sid, "held_on": input.held_on, "present": present_json, "note": note});
        self.case_event(&mut tx, caller, county, id, "mediation.session", &after)
            .await?;
        tx.commit().await?;
        Ok(sid)
    }

    /// Records how mediation ended.
    #[tracing::instrument(name = "mediation.conclude", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = county, id = id))]
    pub async fn conclude(
        self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: OutcomeInput,
    ) -> AppResult<()> {
        let case = self
            .case_for(caller, Permission::Mediate, county, id)
            .await?;
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Intake);
        let next = transition(status, CaseAction::Conclude(input.outcome)).map_err(refused)?;
        self.check_day(
            input.concluded_on,
            &case.intake_on,
            "concluded_on",
            "办结日期",
            "受理日期",
        )?;
        let sessions = store::sessions(&mut self.app.store().read(), county, id).await?;
        if let Some(last) = sessions.iter().map(|s| s.held_on.as_str()).max() {
            self.check_day(
                input.concluded_on,
                last,
                "concluded_on",
                "办结日期",
                "最后一次调解的日期",
            )?;
        }
        let note = opt_text(
            input.note.as_deref(),
            TextKind::Lines,
            "note",
            "结果说明",
            500,
        )?;
        let referred_to = if input.outcome == Outcome::Referred {
            Some(
                opt_text(
                    input.referred_to.as_deref(),
                    TextKind::Line,
                    "referred_to",
                    "移交单位",
                    40,
                )?
                .ok_or_else(|| {
                    AppError::invalid(
                        "referred_to_required",
                        "referred_to",
                        "选择“移交”时，请填写移交到哪个单位（如司法所、人民法院）",
                    )
                })?,
            )
        } else {
            None
        };
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store::bump(
            &mut tx.exec(),
            county,
            id,
            input.version,
            next.as_str(),
            now,
        )
        .await?;
        store::set_outcome(
            &mut tx.exec(),
            county,
            id,
            input.outcome.as_str(),
            &input.concluded_on.to_string(),
            note.as_deref(),
            referred_to.as_deref(),
        )
        .await?;
        let after = serde_json::json!({"outcome": input.outcome.as_str(), "concluded_on": input.concluded_on, "note": note, "referred_to": referred_to});
        self.case_event(&mut tx, caller, county, id, "mediation.conclude", &after)
            .await?;
        self.entitle_mediators(&mut tx, county, id, input.outcome, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records what the county's earning rule for this outcome awards each mediator who is a
    /// person (信用+积分 for 参与调解纠纷), once per case and person; the ledger job takes it.
    pub(super) async fn entitle_mediators(
        self,
        tx: &mut yinling_store::Tx,
        county: i64,
        id: i64,
        outcome: Outcome,
        now: i64,
    ) -> AppResult<()> {
        let Some(rule) = yinling_store::ledger::earning_rule(
            &mut tx.exec(),
            county,
            "mediation",
            outcome.as_str(),
        )
        .await?
        .filter(|r| r.points > 0 || r.minutes > 0) else {
            return Ok(());
        };
        for m in store::mediators(&mut tx.exec(), county, id).await? {
            if m.kind != "person" {
                continue;
            }
            let eid = yinling_store::kernel::ids::next(
                &mut tx.exec(),
                yinling_store::kernel::ids::Seq::AwardEntitlements,
            )
            .await?;
            yinling_store::orders::insert_entitlement(
                &mut tx.exec(),
                &yinling_store::orders::EntitlementRow {
                    county_code: county,
                    id: eid,
                    source_kind: "mediation".to_owned(),
                    source_id: id,
                    person_id: m.mediator_id,
                    points: rule.points,
                    hours_minutes: rule.minutes,
                    status: "pending".to_owned(),
                    created_at: now,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Records a follow-up visit (回访) to a concluded case.
    #[tracing::instrument(name = "mediation.follow_up", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = county, id = id))]
    pub async fn follow_up(
        self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: FollowUpInput,
    ) -> AppResult<i64> {
        let case = self
            .case_for(caller, Permission::Mediate, county, id)
            .await?;
        let status = CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Intake);
        let next = transition(status, CaseAction::FollowUp).map_err(refused)?;
        let concluded_on = case.concluded_on.clone().unwrap_or(case.intake_on.clone());
        self.check_day(
            input.visited_on,
            &concluded_on,
            "visited_on",
            "回访日期",
            "办结日期",
        )?;
        let has_agreement = case
            .outcome
            .as_deref()
            .and_then(Outcome::parse)
            .is_some_and(Outcome::has_agreement);
        let holds = match (has_agreement, input.holds) {
            (true, None) => {
                return Err(AppError::invalid(
                    "holds_required",
                    "holds",
                    "请选择调解协议是否得到履行",
                ));
            }
            (true, h) => h,
            (false, _) => None,
        };
        let note = text(&input.note, TextKind::Lines, "note", "回访情况", 2, 500)?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store::bump(
            &mut tx.exec(),
            county,
            id,
            input.version,
            next.as_str(),
            now,
        )
        .await?;
        let fid = ids::next(&mut tx.exec(), Seq::MediationFollowups).await?;
        store::insert_followups(
            &mut tx.exec(),
            &[NewFollowup {
                county_code: county,
                id: fid,
                case_id: id,
                visited_on: input.visited_on.to_string(),
                holds,
                note: note.clone(),
                recorded_by_name: caller.display_name.clone(),
                now,
            }],
        )
        .await?;
        store::set_followed_up(
            &mut tx.exec(),
            county,
            id,
            &input.visited_on.to_string(),
            holds,
        )
        .await?;
        let after = serde_json::json!({"follow_up": fid, "visited_on": input.visited_on, "holds": holds, "note": note});
        self.case_event(&mut tx, caller, county, id, "mediation.follow_up", &after)
            .await?;
        tx.commit().await?;
        Ok(fid)
    }

    /// A date that may be neither in the future nor before `not_before` (an ISO date).
    pub(super) fn check_day(
        self,
        day: NaiveDate,
        not_before: &str,
        field: &'static str,
        what: &str,
        before_what: &str,
    ) -> AppResult<()> {
        if day > self.app.clock().today() {
            return Err(AppError::invalid(
                "date_in_future",
                field,
                format!("{what}不能晚于今天"),
            ));
        }
        if day.to_string().as_str() < not_before {
            return Err(AppError::invalid(
                "date_too_early",
                field,
                format!("{what}不能早于{before_what}（{not_before}）"),
            ));
        }
        Ok(())
    }

    pub(super) async fn case_event(
        self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        county: i64,
        id: i64,
        action: &'static str,
        after: &serde_json::Value,
    ) -> AppResult<()> {
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action,
                entity: "mediation_case",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        Ok(())
    }
}

pub(super) fn new_mediators(
    county: i64,
    case_id: i64,
    resolved: &[Resolved],
    by: &str,
    now: i64,
) -> Vec<NewMediator> {
    resolved
        .iter()
        .map(|m| NewMediator {
            county_code: county,
            case_id,
            kind: m.kind.as_str().to_owned(),
            mediator_id: m.id,
            mediator_path: m.path.clone(),
            name: m.name.clone(),
            assigned_by_name: by.to_owned(),
            now,
        })
        .collect()
}
