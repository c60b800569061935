//! The resource list (资源清单): volunteers, teams, studios and stations that serve, with
//! their skills, areas, hours and capacity; who manages them; the choices the forms offer.

use super::*;
use crate::kernel::text::{Label, ReadField};

/// A provider on the resource list, with its JSON columns unpacked.
#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    pub county_code: CountyCode,
    pub id: ProviderId,
    pub kind: ProviderKind,
    pub kind_label: &'static str,
    pub name: String,
    pub person_id: Option<PersonId>,
    pub unit_id: Option<UnitId>,
    pub path: String,
    pub skills: Vec<String>,
    /// Organisation paths served.
    pub areas: Vec<String>,
    pub windows: Vec<WeeklyWindow>,
    /// The windows as people read them: 周三 08:00-11:30.
    pub windows_text: Vec<String>,
    pub capacity: i64,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub radius_m: Option<i64>,
    pub rating_count: i64,
    /// Average stars, one decimal; `None` before the first rating.
    pub rating: Option<f64>,
    pub active: bool,
    pub version: i64,
}

impl Provider {
    /// Whether the caller may change this provider (their ManageServices scope covers it).
    pub fn managed_by(&self, caller: &Caller) -> bool {
        OrgPath::parse(&self.path)
            .is_ok_and(|p| caller.scope(Permission::ManageServices).covers(&p))
    }

    pub fn from_row(r: ProviderRow) -> Provider {
        let kind = r.kind;
        let windows: Vec<WeeklyWindow> = serde_json::from_str(&r.windows).unwrap_or_default();
        Provider {
            county_code: r.county_code,
            id: r.id,
            kind,
            kind_label: kind.label_zh(),
            name: r.name,
            person_id: r.person_id,
            unit_id: r.unit_id,
            path: r.path,
            skills: serde_json::from_str(&r.skills).unwrap_or_default(),
            areas: serde_json::from_str(&r.areas).unwrap_or_default(),
            windows_text: windows.iter().map(ToString::to_string).collect(),
            windows,
            capacity: r.capacity,
            lat: r.lat,
            lng: r.lng,
            radius_m: r.radius_m,
            rating_count: r.rating_count,
            rating: (r.rating_count > 0)
                .then(|| (r.rating_sum as f64 / r.rating_count as f64 * 10.0).round() / 10.0),
            active: r.active,
            version: r.version,
        }
    }
}

/// A new or changed provider. A volunteer is a person file; a team, studio or partner is
/// an organisation unit.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ProviderInput {
    pub kind: ProviderKind,
    /// The volunteer's person file (kind `volunteer`).
    #[serde(default)]
    pub person: Option<Key<PersonId>>,
    /// The team's, studio's or partner's unit (other kinds).
    #[serde(default)]
    pub unit: Option<Key<UnitId>>,
    /// Defaults to the person's or unit's name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    /// Units served (grids, communities): county and id. Empty: where the provider is.
    #[serde(default)]
    pub areas: Vec<Key<UnitId>>,
    /// Weekly windows as text, "周三 08:00-11:30". Empty: any time.
    #[serde(default)]
    pub windows: Vec<String>,
    /// Orders at once (1–50).
    pub capacity: i64,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    /// Serves within this many metres of lat/lng, beside the areas (100 m – 50 km).
    #[serde(default)]
    pub radius_m: Option<i64>,
    #[serde(default = "yes")]
    pub active: bool,
    /// Required when changing.
    #[serde(default)]
    pub version: Option<i64>,
}

pub(super) fn yes() -> bool {
    true
}

impl ProviderInput {
    /// A volunteer serving `areas` at any time of the week (the common case; set the other
    /// fields on the result for windows, a radius or a changed record's version).
    pub fn volunteer(
        person: Option<Key<PersonId>>,
        skills: &[&str],
        areas: Vec<Key<UnitId>>,
        capacity: i64,
    ) -> Self {
        ProviderInput {
            kind: ProviderKind::Volunteer,
            person,
            unit: None,
            name: None,
            skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            areas,
            windows: Vec::new(),
            capacity,
            lat: None,
            lng: None,
            radius_m: None,
            active: true,
            version: None,
        }
    }
}

/// The provider kind a unit is listed as: a volunteer team as a team (服务队), a cadre
/// studio as a studio (工作室), a partner, merchant or station as a partner (共建单位).
pub fn provider_kind_of(unit: OrgKind) -> Option<ProviderKind> {
    match unit {
        OrgKind::VolunteerTeam => Some(ProviderKind::Team),
        OrgKind::CadreStudio => Some(ProviderKind::Studio),
        OrgKind::PartnerOrg | OrgKind::Merchant | OrgKind::Station => Some(ProviderKind::Partner),
        _ => None,
    }
}

/// Unit kinds that can be listed as teams, studios or partners.
pub(super) const PROVIDER_UNIT_KINDS: [OrgKind; 5] = [
    OrgKind::VolunteerTeam,
    OrgKind::CadreStudio,
    OrgKind::PartnerOrg,
    OrgKind::Merchant,
    OrgKind::Station,
];

/// Areas a provider can be chosen to serve.
pub(super) const AREA_KINDS: [OrgKind; 7] = [
    OrgKind::StreetCommittee,
    OrgKind::TownshipCommittee,
    OrgKind::CommunityCommittee,
    OrgKind::VillageCommittee,
    OrgKind::CompoundBranch,
    OrgKind::GridPartyGroup,
    OrgKind::CentralHousehold,
];

/// The areas offered when the fine-grained ones are too many to tick through.
pub(super) const COARSE_AREA_KINDS: [OrgKind; 4] = [
    OrgKind::StreetCommittee,
    OrgKind::TownshipCommittee,
    OrgKind::CommunityCommittee,
    OrgKind::VillageCommittee,
];

/// More area choices than this and grids, compounds and central households are left out.
pub const AREA_CHOICES_MAX: usize = 200;

/// Bounds on the choice lists of a page, so one never grows without limit.
pub(super) const COARSE_AREA_CHOICES_MAX: i64 = 2000;
pub(super) const PROVIDER_UNIT_CHOICES_MAX: i64 = 500;

/// A team, studio or partner unit not yet on the resource list, for the form that adds it.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderUnit {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
    /// What it is listed as.
    pub kind: ProviderKind,
}

/// An area a provider may be set to serve (a street, community, grid …).
#[derive(Debug, Clone, Serialize)]
pub struct AreaChoice {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
    pub path: String,
    /// Levels below the shallowest choice, for indenting the list as a tree.
    pub level: i64,
}

/// The areas a caller may choose from, in tree order.
#[derive(Debug, Clone, Serialize)]
pub struct AreaChoices {
    pub areas: Vec<AreaChoice>,
    /// Grids, compounds and central households were left out, being more than
    /// [`AREA_CHOICES_MAX`] with the rest (a provider's current ones stay in).
    pub coarse: bool,
}

/// Where a person stands on the resource list, as far as the caller may change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonListing {
    /// The caller may not manage the resource list where the person lives.
    NotManaged,
    /// Not on the list yet: the caller may add them as a volunteer.
    Unlisted,
    /// On the list as this provider (county, id).
    Listed(Key<ProviderId>),
}

/// Skill names: trimmed, 1–12 characters, at most 20, no duplicates.
pub(super) fn clean_skills(skills: &[String]) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in skills {
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        let s = Label::<12>::read(s, "skills", "技能名称")?.into_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.len() > 20 {
        return Err(AppError::invalid(
            "too_many_skills",
            "skills",
            "技能最多20项",
        ));
    }
    Ok(out)
}

pub(super) fn check_range(value: i64, lo: i64, hi: i64, field: &str, what: &str) -> AppResult<()> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "out_of_range",
            field,
            format!("{what}应在{lo}到{hi}之间"),
        ))
    }
}

pub(super) fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn parse_path(path: &str) -> AppResult<OrgPath> {
    OrgPath::parse(path).map_err(|e| AppError::Internal(e.to_string()))
}

impl Services<'_> {
    /// A unit the caller may act on with `p`, as (row, path); out of scope looks like absent.
    pub(crate) async fn unit_for(
        self,
        caller: &Caller,
        p: Permission,
        unit: Key<UnitId>,
    ) -> AppResult<(store_org::OrgUnitRow, OrgPath)> {
        let unit = store_org::get(&mut self.app.store().read(), unit)
            .await?
            .ok_or(AppError::NotFound { what: "组织" })?;
        let path = parse_path(&unit.path)?;
        if !caller.scope(p).covers(&path) {
            return Err(AppError::NotFound { what: "组织" });
        }
        Ok((unit, path))
    }

    #[tracing::instrument(name = "services.providers", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn providers(
        self,
        caller: &Caller,
        kind: Option<ProviderKind>,
        skill: Option<&str>,
        page: PageRequest,
    ) -> AppResult<Page<Provider>> {
        let scope = caller.scope(Permission::ViewServices);
        let (rows, total) = store_services::list_providers(
            &mut self.app.store().read(),
            &scope,
            kind,
            skill.map(str::trim).filter(|s| !s.is_empty()),
            page.per_page,
            page.offset(),
        )
        .await?;
        Ok(Page {
            items: rows.into_iter().map(Provider::from_row).collect(),
            total,
            total_is_lower_bound: false,
            page: page.page,
            per_page: page.per_page,
        })
    }

    #[tracing::instrument(name = "services.provider", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn provider(self, caller: &Caller, key: Key<ProviderId>) -> AppResult<Provider> {
        let row = store_services::provider(&mut self.app.store().read(), key)
            .await?
            .filter(|r| {
                OrgPath::parse(&r.path)
                    .is_ok_and(|p| caller.scope(Permission::ViewServices).covers(&p))
            })
            .ok_or(AppError::NotFound { what: "服务者" })?;
        Ok(Provider::from_row(row))
    }

    /// A provider to change, for the edit form: `Forbidden` when the caller can see it but
    /// may not manage it.
    #[tracing::instrument(name = "services.provider_to_edit", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn provider_to_edit(
        self,
        caller: &Caller,
        key: Key<ProviderId>,
    ) -> AppResult<Provider> {
        let p = self.provider(caller, key).await?;
        if !p.managed_by(caller) {
            return Err(AppError::forbidden("您无权修改这个服务者的信息"));
        }
        Ok(p)
    }

    /// Whether a person is on the resource list, and whether the caller may add or change
    /// them there (for the links on the person's file).
    #[tracing::instrument(name = "services.person_listing", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, person = %person))]
    pub async fn person_listing(
        self,
        caller: &Caller,
        person: Key<PersonId>,
    ) -> AppResult<PersonListing> {
        let mut exec = self.app.store().read();
        let Some(person) = store_people::get(&mut exec, person).await? else {
            return Ok(PersonListing::NotManaged);
        };
        if !caller
            .scope(Permission::ManageServices)
            .covers(&parse_path(&person.path)?)
        {
            return Ok(PersonListing::NotManaged);
        }
        let person: Key<PersonId> = Key::new(person.county_code, person.id);
        Ok(
            match store_services::provider_of_person(&mut exec, person).await? {
                Some(p) => PersonListing::Listed(Key::new(p.county_code, p.id)),
                None => PersonListing::Unlisted,
            },
        )
    }

    /// Teams, studios and partners in the caller's ManageServices scope that are not on the
    /// resource list yet, in tree order (at most 500).
    #[tracing::instrument(name = "services.provider_unit_choices", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn provider_unit_choices(self, caller: &Caller) -> AppResult<Vec<ProviderUnit>> {
        let scope = caller.scope(Permission::ManageServices);
        let mut exec = self.app.store().read();
        let units = store_org::of_kinds(
            &mut exec,
            &scope,
            &PROVIDER_UNIT_KINDS,
            PROVIDER_UNIT_CHOICES_MAX,
        )
        .await?;
        let keys: Vec<Key<UnitId>> = units
            .iter()
            .map(|u| Key::new(u.county_code, u.id))
            .collect();
        let listed = store_services::providers_of_units(&mut exec, &keys).await?;
        Ok(units
            .into_iter()
            .filter(|u| {
                !listed
                    .iter()
                    .any(|p| p.county_code == u.county_code && p.unit_id == Some(u.id))
            })
            .filter_map(|u| {
                Some(ProviderUnit {
                    kind: OrgKind::parse(u.kind.as_str()).and_then(provider_kind_of)?,
                    county_code: u.county_code.as_i64(),
                    id: u.id.get(),
                    name: u.name,
                })
            })
            .collect())
    }

    /// The areas the caller may set a provider to serve: streets, townships, communities,
    /// villages, compounds, grids and central households in their ManageServices scope, in
    /// tree order. Past [`AREA_CHOICES_MAX`] only streets, townships, communities and
    /// villages, so the list stays usable; `current`'s areas are always among them.
    #[tracing::instrument(name = "services.area_choices", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn area_choices(
        self,
        caller: &Caller,
        current: Option<&Provider>,
    ) -> AppResult<AreaChoices> {
        let scope = caller.scope(Permission::ManageServices);
        let mut exec = self.app.store().read();
        let max = AREA_CHOICES_MAX as i64;
        let mut units = store_org::of_kinds(&mut exec, &scope, &AREA_KINDS, max + 1).await?;
        let coarse = units.len() > AREA_CHOICES_MAX;
        if coarse {
            units = store_org::of_kinds(
                &mut exec,
                &scope,
                &COARSE_AREA_KINDS,
                COARSE_AREA_CHOICES_MAX,
            )
            .await?;
        }
        if let Some(p) = current {
            let missing: Vec<(i64, String)> = p
                .areas
                .iter()
                .filter(|a| {
                    !units
                        .iter()
                        .any(|u| u.county_code == p.county_code && u.path == **a)
                })
                .map(|a| (p.county_code.as_i64(), a.clone()))
                .collect();
            for u in store_org::by_paths(&mut exec, &missing).await? {
                let in_scope = OrgPath::parse(&u.path).is_ok_and(|path| scope.covers(&path));
                if in_scope
                    && OrgKind::parse(u.kind.as_str()).is_some_and(|k| AREA_KINDS.contains(&k))
                {
                    units.push(u);
                }
            }
            units.sort_by(|a, b| (a.county_code, &a.path).cmp(&(b.county_code, &b.path)));
        }
        let top = units.iter().map(|u| u.depth).min().unwrap_or(0);
        Ok(AreaChoices {
            areas: units
                .into_iter()
                .map(|u| AreaChoice {
                    county_code: u.county_code.as_i64(),
                    id: u.id.get(),
                    level: u.depth - top,
                    name: u.name,
                    path: u.path,
                })
                .collect(),
            coarse,
        })
    }

    /// The nearest area (community, street …) above a unit: where a team, studio or partner
    /// that names no service area serves. The unit's own path if none is found.
    pub(super) async fn area_around(self, county: CountyCode, path: &str) -> AppResult<String> {
        let mut above = Vec::new();
        let mut at = parse_path(path)?;
        while let Some(parent) = at.parent() {
            above.push((county.as_i64(), parent.to_string()));
            at = parent;
        }
        let units = store_org::by_paths(&mut self.app.store().read(), &above).await?;
        Ok(units
            .into_iter()
            .rev()
            .find(|u| OrgKind::parse(u.kind.as_str()).is_some_and(OrgKind::is_area))
            .map_or_else(|| path.to_owned(), |u| u.path))
    }

    /// Validates a provider input into the fields to store, checking every unit and person
    /// named lies in the caller's scope.
    pub(super) async fn provider_fields(
        self,
        caller: &Caller,
        input: &ProviderInput,
        existing: Option<&ProviderRow>,
    ) -> AppResult<(CountyCode, ProviderFields)> {
        let scope = caller.scope(Permission::ManageServices);
        let mut exec = self.app.store().read();
        let (county, name, person_id, unit_id, path) = match existing {
            Some(r) => (
                r.county_code,
                r.name.clone(),
                r.person_id,
                r.unit_id,
                r.path.clone(),
            ),
            None => match (input.kind, input.person, input.unit) {
                (ProviderKind::Volunteer, Some(person), _) => {
                    let row = store_people::get(&mut exec, person)
                        .await?
                        .filter(|p| OrgPath::parse(&p.path).is_ok_and(|path| scope.covers(&path)))
                        .ok_or(AppError::NotFound { what: "人员" })?;
                    (
                        person.county_code,
                        row.name,
                        Some(person.id),
                        None,
                        row.path,
                    )
                }
                (ProviderKind::Volunteer, None, _) => {
                    return Err(AppError::invalid(
                        "person_required",
                        "person",
                        "志愿者须选择本人的人员档案",
                    ));
                }
                (kind, _, Some(key)) => {
                    let (unit, path) = self
                        .unit_for(caller, Permission::ManageServices, key)
                        .await?;
                    if OrgKind::parse(unit.kind.as_str()).and_then(provider_kind_of) != Some(kind) {
                        return Err(AppError::invalid(
                            "unit_kind_mismatch",
                            "unit",
                            format!("“{}”不是{}", unit.name, kind.label_zh()),
                        ));
                    }
                    (
                        key.county_code,
                        unit.name,
                        None,
                        Some(key.id),
                        path.to_string(),
                    )
                }
                (_, _, None) => {
                    return Err(AppError::invalid(
                        "unit_required",
                        "unit",
                        "服务队、工作室和共建单位须选择对应的组织",
                    ));
                }
            },
        };
        let name = match input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            Some(n) => Label::<30>::read(n, "name", "名称")?.into_string(),
            None => name,
        };
        let skills = clean_skills(&input.skills)?;
        check_range(input.capacity, 1, 50, "capacity", "同时可接单数")?;
        let mut areas = Vec::new();
        for area in &input.areas {
            if area.county_code != county {
                return Err(AppError::invalid(
                    "area_other_county",
                    "areas",
                    "服务范围须在服务者所在的县（市、区）内",
                ));
            }
            let (unit, path) = self
                .unit_for(caller, Permission::ManageServices, *area)
                .await?;
            if !OrgKind::parse(unit.kind.as_str()).is_some_and(OrgKind::is_area) {
                return Err(AppError::invalid(
                    "area_not_area",
                    "areas",
                    format!(
                        "“{}”不是辖区，服务范围请选择街道、社区、村或网格",
                        unit.name
                    ),
                ));
            }
            areas.push(path.to_string());
        }
        if areas.is_empty() {
            // Where the provider is: a volunteer's grid or community; for a team, studio or
            // partner the area its unit belongs to (no resident lives under the unit itself).
            areas.push(match unit_id {
                Some(_) => self.area_around(county, &path).await?,
                None => path.clone(),
            });
        }
        let mut windows = Vec::new();
        for w in &input.windows {
            if w.trim().is_empty() {
                continue;
            }
            windows.push(WeeklyWindow::parse(w).map_err(|e| {
                AppError::invalid("invalid_window", "windows", format!("“{w}”：{e}"))
            })?);
        }
        match (input.lat, input.lng) {
            (None, None) => {}
            (Some(la), Some(ln))
                if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&ln) => {}
            _ => {
                return Err(AppError::invalid(
                    "invalid_coordinates",
                    "lat",
                    "经纬度须同时填写且在有效范围内",
                ));
            }
        }
        if let Some(r) = input.radius_m {
            check_range(r, 100, 50_000, "radius_m", "服务半径（米）")?;
            if input.lat.is_none() {
                return Err(AppError::invalid(
                    "radius_without_point",
                    "radius_m",
                    "按半径服务须先填写所在位置的经纬度",
                ));
            }
        }
        Ok((
            county,
            ProviderFields {
                kind: input.kind,
                name,
                person_id,
                unit_id,
                home_path: Some(path.clone()),
                path,
                skills: to_json(&skills),
                areas: to_json(&areas),
                windows: to_json(&windows),
                capacity: input.capacity,
                lat: input.lat,
                lng: input.lng,
                radius_m: input.radius_m,
                active: input.active,
            },
        ))
    }

    #[tracing::instrument(name = "services.create_provider", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn create_provider(
        self,
        caller: &Caller,
        input: ProviderInput,
    ) -> AppResult<Provider> {
        let (county, fields) = self.provider_fields(caller, &input, None).await?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let key = Key::new(
            county,
            ProviderId(ids::next(&mut tx.exec(), Seq::Providers).await?),
        );
        store_services::insert_providers(&mut tx.exec(), &[(key, fields.clone())], false, now)
            .await
            .map_err(|e| match e {
                yinling_store::StoreError::Conflict { .. } => {
                    AppError::conflict("provider_exists", None, "该人员或组织已在资源清单中")
                }
                other => other.into(),
            })?;
        self.audit_provider(&mut tx, caller, key, "provider.create", None, &fields)
            .await?;
        let row = store_services::provider(&mut tx.exec(), key)
            .await?
            .ok_or_else(|| AppError::Internal("inserted provider missing".into()))?;
        tx.commit().await?;
        Ok(Provider::from_row(row))
    }

    #[tracing::instrument(name = "services.update_provider", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn update_provider(
        self,
        caller: &Caller,
        key: Key<ProviderId>,
        input: ProviderInput,
    ) -> AppResult<Provider> {
        let existing = store_services::provider(&mut self.app.store().read(), key)
            .await?
            .filter(|r| {
                OrgPath::parse(&r.path)
                    .is_ok_and(|p| caller.scope(Permission::ManageServices).covers(&p))
            })
            .ok_or(AppError::NotFound { what: "服务者" })?;
        let version = input.version.ok_or_else(|| {
            AppError::invalid("version_required", "version", "缺少版本号，请刷新后重试")
        })?;
        let (_, fields) = self
            .provider_fields(caller, &input, Some(&existing))
            .await?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store_services::update_provider(&mut tx.exec(), key, version, &fields, now).await?;
        let before = serde_json::json!({"skills": existing.skills, "areas": existing.areas, "capacity": existing.capacity});
        self.audit_provider(
            &mut tx,
            caller,
            key,
            "provider.update",
            Some(&before),
            &fields,
        )
        .await?;
        let row = store_services::provider(&mut tx.exec(), key)
            .await?
            .ok_or_else(|| AppError::Internal("updated provider missing".into()))?;
        tx.commit().await?;
        Ok(Provider::from_row(row))
    }

    #[allow(clippy::too_many_arguments)]
    /// Audits a provider write and logs the change for the matching caches.
    pub(super) async fn audit_provider(
        self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        key: Key<ProviderId>,
        action: &'static str,
        before: Option<&serde_json::Value>,
        f: &ProviderFields,
    ) -> AppResult<()> {
        let after = serde_json::json!({"kind": f.kind, "name": f.name, "skills": f.skills, "areas": f.areas, "capacity": f.capacity, "active": f.active});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: key.county(),
                action,
                entity: "provider",
                entity_key: key.to_string(),
                before,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        // The matching caches re-read this provider.
        store_services::bump_providers(&mut tx.exec(), key.county_code, &[key.id]).await?;
        Ok(())
    }

    /// The providers the caller acts for: their own volunteer record, and the teams,
    /// studios or partners they hold a role on.
    #[tracing::instrument(name = "services.my_providers", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn my_providers(self, caller: &Caller) -> AppResult<Vec<ProviderRow>> {
        let mut exec = self.app.store().read();
        let mut out = Vec::new();
        if let Some(person) = caller
            .person
            .and_then(|(c, pid)| Key::<PersonId>::from_parts(c, pid).ok())
            && let Some(p) = store_services::provider_of_person(&mut exec, person).await?
        {
            out.push(p);
        }
        let units: Vec<Key<UnitId>> = caller
            .grants
            .iter()
            .filter_map(|g| Key::from_parts(g.unit_county_code, g.unit_id).ok())
            .collect();
        for p in store_services::providers_of_units(&mut exec, &units).await? {
            if !out
                .iter()
                .any(|o| o.county_code == p.county_code && o.id == p.id)
            {
                out.push(p);
            }
        }
        out.retain(|p| p.active);
        Ok(out)
    }
}
