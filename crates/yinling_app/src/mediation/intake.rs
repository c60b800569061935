//! Taking in a case (受理): the unit, parties, free text and mediators checked, then one
//! transaction with its audit event.

use super::*;
use crate::kernel::text::{Bounded, LineKind, LinesKind, ReadField};

impl Mediation<'_> {
    /// Takes in a case (受理). Returns its key.
    #[tracing::instrument(name = "mediation.create", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn create(self, caller: &Caller, input: CaseInput) -> AppResult<Key<CaseId>> {
        if !caller.may(Permission::Mediate) {
            return Err(AppError::forbidden("您无权受理矛盾纠纷"));
        }
        // A number that is no county code names no unit.
        let county = CountyCode::from_i64(input.unit_county_code)
            .map_err(|_| AppError::NotFound { what: "组织" })?;
        let unit = store_org::get(
            &mut self.app.store().read(),
            Key::new(county, input.unit_id),
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
        if !Some(unit.kind).is_some_and(OrgKind::is_home) {
            return Err(AppError::invalid(
                "not_an_area",
                "unit",
                "矛盾纠纷须登记在发生地所在的社区、村、小区或网格",
            ));
        }
        if let Some(pid) = input.place_id {
            store_places::get(&mut self.app.store().read(), Key::new(county, pid))
                .await?
                .filter(|pl| OrgPath::parse(&pl.path).is_ok_and(|pp| pp.is_within(&path)))
                .ok_or(AppError::NotFound { what: "住所" })?;
        }
        let summary =
            Bounded::<LinesKind, 5, 500>::read(&input.summary, "summary", "纠纷简要情况")?
                .into_string();
        let location = Bounded::<LineKind, 1, 60>::read_opt(
            input.location.as_deref(),
            "location",
            "发生地点",
        )?
        .map(String::from);
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
            Some(n) if !n.is_empty() => {
                Bounded::<LineKind, 1, 20>::read(n, "taken_by_name", "受理人")?.into_string()
            }
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
                    store_people::get(&mut self.app.store().read(), Key::new(county, pid))
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
                    let n = Bounded::<LineKind, 1, 20>::read(&p.name, "parties", "当事人姓名")?
                        .into_string();
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
        let id = CaseId(ids::next(&mut tx.exec(), Seq::MediationCases).await?);
        let key = Key::new(county, id);
        let new = NewCase {
            county_code: county,
            id,
            path: unit.path.clone(),
            unit_id: unit.id,
            place_id: input.place_id,
            location,
            category: input.category,
            summary,
            intake_on: intake_on.to_string(),
            taken_by: caller.account_id.map(AccountId),
            taken_by_name,
            status: CaseStatus::Intake,
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
                side: *side,
                name: name.clone(),
                person_id: *person,
            })
            .collect();
        store::insert_parties(&mut tx.exec(), &party_rows).await?;
        store::insert_mediators(
            &mut tx.exec(),
            &new_mediators(key, &mediators, &caller.display_name, now),
        )
        .await?;
        let after = serde_json::json!({
            "unit": new.path, "category": new.category, "summary": new.summary,
            "intake_on": new.intake_on, "parties": parties.iter().map(|p| &p.2).collect::<Vec<_>>(),
            "mediators": mediators.iter().map(|m| m.mediator.to_string()).collect::<Vec<_>>(),
        });
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county.as_i64(),
                action: "mediation.create",
                entity: "mediation_case",
                entity_key: key.to_string(),
                before: None,
                after: Some(&after),
                detail: Some(format!("category={}", new.category)),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(key)
    }
}
