//! Who mediates: the choices for a case, checking each mediator picked, and assigning them.

use super::*;

/// A mediator resolved and checked, ready to insert.
pub(super) struct Resolved {
    pub(super) mediator: Mediator,
    pub(super) path: String,
    pub(super) name: String,
}

impl Mediation<'_> {
    /// Who may be assigned to a case: the case county's studios and teams, and the retired
    /// cadres living in the caller's scope.
    #[tracing::instrument(name = "mediation.mediator_choices", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn mediator_choices(
        self,
        caller: &Caller,
        key: Key<CaseId>,
    ) -> AppResult<MediatorChoices> {
        let case = self.case_for(caller, Permission::Mediate, key).await?;
        let mut exec = self.app.store().read();
        let county_scope = Scope::from_paths([crate::county_path(case.county_code.as_i64())]);
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
                .narrow_to(&crate::county_path(case.county_code.as_i64())),
            300,
        )
        .await?;
        Ok(MediatorChoices {
            studios: studios
                .into_iter()
                .map(|u| unit_choice(u, Mediator::Studio))
                .collect(),
            teams: teams
                .into_iter()
                .map(|u| unit_choice(u, Mediator::Team))
                .collect(),
            cadres: cadres.into_iter().map(cadre_choice).collect(),
        })
    }

    /// Checks each mediator exists, fits its kind and lies in the caller's reach: a retired
    /// cadre living in the caller's `Mediate` scope, or a studio or team of the case's county.
    pub(super) async fn resolve_mediators(
        self,
        caller: &Caller,
        county: CountyCode,
        refs: &[Mediator],
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
            if out.iter().any(|m| m.mediator == *r) || already.iter().any(|m| m.mediator == *r) {
                return Err(AppError::conflict(
                    "mediator_assigned",
                    Some("mediators"),
                    "该调解员已指派到本案，不能重复指派",
                ));
            }
            let resolved = match *r {
                Mediator::Person(person) => {
                    let p = store_people::get(&mut exec, Key::new(county, person))
                        .await?
                        .filter(|p| OrgPath::parse(&p.path).is_ok_and(|pp| scope.covers(&pp)))
                        .ok_or(AppError::NotFound { what: "调解员" })?;
                    if !store::is_retired_cadre(&mut exec, Key::new(county, person)).await? {
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
                        mediator: *r,
                        path: p.path,
                        name: p.name,
                    }
                }
                Mediator::Studio(unit) | Mediator::Team(unit) => {
                    let want = if matches!(r, Mediator::Studio(_)) {
                        OrgKind::CadreStudio
                    } else {
                        OrgKind::VolunteerTeam
                    };
                    // Any studio or team of the case's county: the county's bureau keeps
                    // them, not the community where the dispute arose.
                    let u = store_org::get(&mut exec, Key::new(county, unit))
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
                        mediator: *r,
                        path: u.path,
                        name: u.name,
                    }
                }
            };
            out.push(resolved);
        }
        Ok(out)
    }

    /// Assigns mediators to an open case.
    #[tracing::instrument(name = "mediation.assign", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn assign(
        self,
        caller: &Caller,
        key: Key<CaseId>,
        input: AssignInput,
    ) -> AppResult<()> {
        let case = self.case_for(caller, Permission::Mediate, key).await?;
        let next = transition(case.status, CaseAction::AssignMediators).map_err(refused)?;
        if input.mediators.is_empty() {
            return Err(AppError::invalid(
                "no_mediators",
                "mediators",
                "请选择要指派的调解员或调解组织",
            ));
        }
        let already = store::mediators(&mut self.app.store().read(), key).await?;
        let resolved = self
            .resolve_mediators(caller, key.county_code, &input.mediators, &already)
            .await?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store::bump(&mut tx.exec(), key, input.version, next, now).await?;
        store::insert_mediators(
            &mut tx.exec(),
            &new_mediators(key, &resolved, &caller.display_name, now),
        )
        .await?;
        let after = serde_json::json!({"mediators": resolved.iter().map(|m| m.mediator.to_string()).collect::<Vec<_>>()});
        self.case_event(&mut tx, caller, key, "mediation.assign", &after)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(super) fn new_mediators(
    case: Key<CaseId>,
    resolved: &[Resolved],
    by: &str,
    now: i64,
) -> Vec<NewMediator> {
    resolved
        .iter()
        .map(|m| NewMediator {
            county_code: case.county_code,
            case_id: case.id,
            mediator: m.mediator,
            mediator_path: m.path.clone(),
            name: m.name.clone(),
            assigned_by_name: by.to_owned(),
            now,
        })
        .collect()
}
