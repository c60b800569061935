//! Households under a unit and the roster of people with a role.

use super::*;

impl People<'_> {
    /// Households under a unit, for the person form's picker.
    #[tracing::instrument(name = "people.households_under", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = unit.county(), unit_id = unit.id()))]
    pub async fn households_under(
        self,
        caller: &Caller,
        unit: Key<UnitId>,
    ) -> AppResult<Vec<yinling_store::org::places::PlaceRow>> {
        let unit = self
            .app
            .org()
            .find_unit(caller, crate::org::unit_key(unit.county(), unit.id())?)
            .await?;
        let path = OrgPath::parse(&unit.path).map_err(|e| AppError::Internal(e.to_string()))?;
        let scope = caller.scope(Permission::ViewPeople).narrow_to(&path);
        Ok(store_places::households(&mut self.app.store().read(), &scope, 500).await?)
    }

    /// The people holding roles in the units of a subtree (a branch's members).
    #[tracing::instrument(name = "people.roster", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = unit.county(), unit_id = unit.id()))]
    pub async fn roster(
        self,
        caller: &Caller,
        unit: Key<UnitId>,
        kind: Option<PersonRoleKind>,
        page: PageRequest,
    ) -> AppResult<Page<RosterItem>> {
        let unit = self
            .app
            .org()
            .find_unit(caller, crate::org::unit_key(unit.county(), unit.id())?)
            .await?;
        let path = OrgPath::parse(&unit.path).map_err(|e| AppError::Internal(e.to_string()))?;
        let scope = caller.scope(Permission::ViewPeople).narrow_to(&path);
        let (items, total) = store_people::roster(
            &mut self.app.store().read(),
            &scope,
            kind,
            page.per_page,
            page.offset(),
        )
        .await?;
        let today = self.app.clock().today();
        let reveal = self.reveal_scope_of(caller);
        let items = items
            .into_iter()
            .map(|r| {
                let full = OrgPath::parse(&r.path).is_ok_and(|p| reveal.covers(&p));
                let (birth_date, birth_year, age) = birth_view(&r.birth_date, full, today);
                RosterItem {
                    county_code: r.county_code,
                    person_id: r.person_id,
                    name: r.name,
                    gender: r.gender,
                    birth_date,
                    birth_year,
                    age,
                    kind: r.kind,
                    unit_name: r.unit_name,
                    details: r.details,
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
}
