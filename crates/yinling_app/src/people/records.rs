//! Keeping a person's file: registering (routing a number already on file to the county's
//! queue), changing it, roles, skills and tags.

use super::*;
use crate::kernel::text::{Bounded, Label, LabelKind, LineKind, LinesKind, ReadField};

/// What the city-wide lookup of an ID number being registered found.
pub(super) enum IdNumberCheck {
    /// No other file holds it.
    Free,
    /// A file the registrar may not reveal holds it: register, and route to the county.
    RouteToCounty(Box<PersonRow>),
}

pub(super) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The validated, sealed form of a [`PersonInput`].
pub(super) struct Sealed {
    name: PersonName,
    id_number: IdNumber,
    id_enc: Vec<u8>,
    id_bidx: Vec<u8>,
    id4_bidx: Vec<u8>,
    phone_enc: Option<Vec<u8>>,
    phone_bidx: Option<Vec<u8>>,
    ethnicity: Option<String>,
    education: Option<String>,
    address: Option<String>,
    note: Option<String>,
}

impl Sealed {
    /// A digest-friendly picture of the record: no clear personal numbers.
    pub(super) fn audit_state(
        &self,
        home: &str,
        household: Option<PlaceId>,
        status: PersonStatus,
    ) -> serde_json::Value {
        serde_json::json!({
            "name": self.name.as_str(),
            "id_bidx": hex::encode(&self.id_bidx),
            "phone_bidx": self.phone_bidx.as_ref().map(hex::encode),
            "ethnicity": self.ethnicity, "education": self.education, "address": self.address,
            "note": self.note, "home": home, "household": household, "status": status,
        })
    }
}

pub(super) fn row_audit_state(
    p: &PersonRow,
    id_bidx: &[u8],
    phone_bidx: Option<&[u8]>,
) -> serde_json::Value {
    serde_json::json!({
        "name": p.name,
        "id_bidx": hex::encode(id_bidx),
        "phone_bidx": phone_bidx.map(hex::encode),
        "ethnicity": p.ethnicity, "education": p.education, "address": p.address,
        "note": p.note, "home": p.path, "household": p.household_id, "status": p.status,
    })
}

/// The same calendar day `n` years earlier (29 February falls back to the 28th).
pub(super) fn years_before(today: NaiveDate, n: u32) -> NaiveDate {
    let year = today.year() - n as i32;
    today
        .with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, today.month(), 28))
        .unwrap_or(today)
}

impl People<'_> {
    pub(super) fn seal(self, input: &PersonInput) -> AppResult<Sealed> {
        crate::kernel::text::check(&input.name, TextKind::Label, "name", "姓名")?;
        let name = PersonName::parse(&input.name)
            .map_err(|e| AppError::invalid("invalid_name", "name", e.to_string()))?;
        let id_number = IdNumber::parse_at(&input.id_number, self.app.clock().today())
            .map_err(|e| AppError::invalid(e.code(), "id_number", e.to_string()))?;
        let phone = match input
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(p) => Some(
                Phone::parse(p).map_err(|e| AppError::invalid(e.code(), "phone", e.to_string()))?,
            ),
            None => None,
        };
        let v = self.app.vault();
        Ok(Sealed {
            id_enc: v.seal(Field::IdNumber, id_number.as_str()),
            id_bidx: v.blind_index(Field::IdNumber, id_number.as_str()),
            id4_bidx: v.blind_index(Field::IdLast4, id_number.last4()),
            phone_enc: phone.as_ref().map(|p| v.seal(Field::Phone, p.as_str())),
            phone_bidx: phone
                .as_ref()
                .map(|p| v.blind_index(Field::Phone, p.as_str())),
            ethnicity: Bounded::<LabelKind, 1, 20>::read_opt(
                input.ethnicity.clone().as_deref(),
                "ethnicity",
                "民族",
            )?
            .map(String::from),
            education: Bounded::<LabelKind, 1, 20>::read_opt(
                input.education.clone().as_deref(),
                "education",
                "文化程度",
            )?
            .map(String::from),
            address: Bounded::<LineKind, 1, 100>::read_opt(
                input.address.clone().as_deref(),
                "address",
                "住址",
            )?
            .map(String::from),
            note: Bounded::<LinesKind, 1, 500>::read_opt(
                input.note.clone().as_deref(),
                "note",
                "备注",
            )?
            .map(String::from),
            name,
            id_number,
        })
    }

    /// Checks the home unit and household of a person input; returns the unit's path.
    pub(super) async fn check_home(
        self,
        caller: &Caller,
        input: &PersonInput,
    ) -> AppResult<OrgPath> {
        let home = Key::<UnitId>::from_parts(input.home_unit_county_code, input.home_unit_id)
            .map_err(|_| AppError::NotFound {
                what: "所属组织"
            })?;
        let unit = store_org::get(&mut self.app.store().read(), home)
            .await?
            .ok_or(AppError::NotFound {
                what: "所属组织"
            })?;
        let path = OrgPath::parse(&unit.path).map_err(|e| AppError::Internal(e.to_string()))?;
        if !caller.scope(Permission::EditPeople).covers(&path) {
            return Err(AppError::NotFound {
                what: "所属组织"
            });
        }
        if !unit.kind.is_home() {
            return Err(AppError::invalid(
                "invalid_home_unit",
                "home_unit",
                "居住地须选择社区、村、小区、网格或党员中心户",
            ));
        }
        if let Some(h) = input.household_id {
            let place = store_places::get(
                &mut self.app.store().read(),
                Key::new(unit.county_code, PlaceId(h)),
            )
            .await?
            .filter(|pl| pl.kind == yinling_domain::org::PlaceKind::Household);
            let edit_scope = caller.scope(Permission::EditPeople);
            match place {
                Some(pl)
                    if (pl.path.starts_with(path.as_str())
                        || path.as_str().starts_with(&pl.path))
                        && OrgPath::parse(&pl.path).is_ok_and(|p| edit_scope.covers(&p)) => {}
                _ => {
                    return Err(AppError::invalid(
                        "invalid_household",
                        "household_id",
                        "所选户不在该组织辖区内",
                    ));
                }
            }
        }
        Ok(path)
    }

    #[tracing::instrument(name = "people.create", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn create(self, caller: &Caller, input: PersonInput) -> AppResult<Key<PersonId>> {
        if !caller.may(Permission::EditPeople) {
            return Err(AppError::forbidden("您无权登记人员"));
        }
        let sealed = self.seal(&input)?;
        let path = self.check_home(caller, &input).await?;
        // A registration carries a full number: it is a lookup like an exact search.
        self.count_exact_lookup(caller).await?;
        let county = input.home_unit_county_code;
        let county_code = CountyCode::from_i64(county).map_err(|_| AppError::NotFound {
            what: "所属组织",
        })?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let check = self
            .check_id_number(&mut tx, caller, &sealed.id_bidx, None)
            .await?;
        let id = PersonId(ids::next(&mut tx.exec(), Seq::People).await?);
        let key = Key::new(county_code, id);
        // A routed duplicate is written under a placeholder index first, then takes the
        // number's index together with its case (the per-county uniqueness skips it).
        let id_bidx = match &check {
            IdNumberCheck::Free => sealed.id_bidx.clone(),
            IdNumberCheck::RouteToCounty(_) => self
                .app
                .vault()
                .blind_index(Field::IdNumber, &format!("pending:{county}/{id}")),
        };
        let new = NewPerson {
            county_code,
            id,
            path: path.to_string(),
            home_unit_id: UnitId(input.home_unit_id),
            household_id: input.household_id.map(PlaceId),
            name: sealed.name.as_str().to_owned(),
            name_initials: sealed.name.initials(),
            name_pinyin: sealed.name.full_pinyin(),
            gender: sealed.id_number.gender(),
            birth_date: sealed.id_number.birth_date().to_string(),
            id_enc: sealed.id_enc.clone(),
            id_bidx,
            id4_bidx: sealed.id4_bidx.clone(),
            phone_enc: sealed.phone_enc.clone(),
            phone_bidx: sealed.phone_bidx.clone(),
            ethnicity: sealed.ethnicity.clone(),
            education: sealed.education.clone(),
            address: sealed.address.clone(),
            status: PersonStatus::Active,
            note: sealed.note.clone(),
            synthetic: false,
            now,
        };
        store_people::insert_many(&mut tx.exec(), std::slice::from_ref(&new))
            .await
            .map_err(|e| {
                if e.is_conflict_on("id_bidx") {
                    AppError::conflict(
                        "duplicate_id_number",
                        Some("id_number"),
                        "该身份证号码已登记",
                    )
                } else {
                    e.into()
                }
            })?;
        if let IdNumberCheck::RouteToCounty(existing) = &check {
            self.route_duplicate(&mut tx, caller, key, existing, &sealed.id_bidx)
                .await?;
        }
        let after = sealed.audit_state(
            path.as_str(),
            input.household_id.map(PlaceId),
            PersonStatus::Active,
        );
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.create",
                entity: "person",
                entity_key: key.to_string(),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(key)
    }

    /// Opens a case for the county: the file `person` now holds the number (blind index
    /// `id_bidx`) that `existing`, outside where the registrar may reveal, already held.
    pub(super) async fn route_duplicate(
        self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        person: Key<PersonId>,
        existing: &PersonRow,
        id_bidx: &[u8],
    ) -> AppResult<()> {
        let (county, id) = (person.county_code, person.id);
        let key = person;
        let case = ids::next(&mut tx.exec(), Seq::PersonDuplicates).await?;
        store_people::insert_duplicate(
            &mut tx.exec(),
            &store_people::NewDuplicate {
                county_code: county,
                id: case,
                person_id: id,
                existing_county_code: existing.county_code,
                existing_id: existing.id,
                id_bidx: id_bidx.to_vec(),
                registered_by: caller.account_id.map(AccountId),
                registered_by_name: caller.display_name.clone(),
                registered_at: self.app.now(),
            },
        )
        .await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county.as_i64(),
                action: "person.duplicate_routed",
                entity: "person",
                entity_key: key.to_string(),
                before: None,
                after: None,
                detail: Some(format!(
                    "case={county}/{case}; existing={}/{}",
                    existing.county_code, existing.id
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        Ok(())
    }

    /// Looks the ID number up city-wide. The number is unique city-wide but each county's
    /// index is its own, so a lock on the number keeps two counties from registering it at
    /// the same moment. A file holding it where the caller may reveal numbers is named in a
    /// refusal, as the caller could read the number there anyway; a file anywhere else is
    /// not mentioned — a refusal would tell whether a number is registered somewhere in the
    /// city — and the registration goes to the county as a possible duplicate instead.
    pub(super) async fn check_id_number(
        self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        id_bidx: &[u8],
        except: Option<Key<PersonId>>,
    ) -> AppResult<IdNumberCheck> {
        let lock = i64::from_be_bytes(id_bidx[..8].try_into().unwrap_or_default());
        yinling_store::lock_key(&mut tx.exec(), lock).await?;
        let city_lo = crate::CITY_COUNTY_CODE;
        let holders: Vec<PersonRow> =
            store_people::holders_of_id_bidx(&mut tx.exec(), city_lo, city_lo + 99, id_bidx)
                .await?
                .into_iter()
                .filter(|p| except != Some(Key::new(p.county_code, p.id)))
                .collect();
        let reveal = self.reveal_scope_of(caller);
        if let Some(mine) = holders
            .iter()
            .find(|p| OrgPath::parse(&p.path).is_ok_and(|path| reveal.covers(&path)))
        {
            return Err(AppError::conflict(
                "duplicate_id_number",
                Some("id_number"),
                format!("该身份证号码已登记：{}（档案编号{}）", mine.name, mine.id),
            ));
        }
        Ok(match holders.into_iter().next() {
            None => IdNumberCheck::Free,
            Some(elsewhere) => IdNumberCheck::RouteToCounty(Box::new(elsewhere)),
        })
    }

    #[tracing::instrument(name = "people.update", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn update(
        self,
        caller: &Caller,
        key: Key<PersonId>,
        input: PersonInput,
    ) -> AppResult<()> {
        let county = key.county();
        let current = self.in_scope(caller, Permission::EditPeople, key).await?;
        if current.status.is_closed_by_review() {
            return Err(AppError::conflict(
                "file_closed",
                None,
                "该档案已经县级复核并档或作废，不能再修改",
            ));
        }
        if input.status.is_some_and(PersonStatus::is_closed_by_review) {
            return Err(AppError::invalid(
                "invalid_status",
                "status",
                "“已并档”“登记作废”只能由县级复核重复登记时设定",
            ));
        }
        let version = input.version.ok_or_else(|| {
            AppError::invalid(
                "version_required",
                "version",
                "缺少版本号，请刷新页面后重试",
            )
        })?;
        if input.home_unit_county_code != county {
            return Err(AppError::invalid(
                "cross_county_move",
                "home_unit",
                "跨县（市、区）迁移请由市级管理员办理",
            ));
        }
        // A masked value sent back unchanged (the edit form shows them masked) keeps the
        // stored one; anything else must be a complete, valid number.
        let mut input = input;
        let v = self.app.vault();
        let current_id = v
            .open(Field::IdNumber, &current.id_enc)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if input.id_number.contains('*') {
            if input.id_number.trim()
                != self
                    .app
                    .settings()
                    .privacy
                    .id_number_mask
                    .apply(&current_id)
            {
                return Err(AppError::invalid(
                    "invalid_id_number",
                    "id_number",
                    "修改身份证号码时请完整填写18位号码",
                ));
            }
            input.id_number = current_id.clone();
        }
        if let Some(phone) = input.phone.clone().filter(|p| p.contains('*')) {
            let current_phone = current
                .phone_enc
                .as_deref()
                .and_then(|e| v.open(Field::Phone, e).ok());
            match current_phone {
                Some(cp) if phone.trim() == self.app.settings().privacy.phone_mask.apply(&cp) => {
                    input.phone = Some(cp)
                }
                _ => {
                    return Err(AppError::invalid(
                        "invalid_phone",
                        "phone",
                        "修改手机号码时请完整填写11位号码",
                    ));
                }
            }
        }
        let sealed = self.seal(&input)?;
        let path = self.check_home(caller, &input).await?;
        let status = input.status.unwrap_or(PersonStatus::Active);
        let now = self.app.now();
        let before_id = v.blind_index(Field::IdNumber, &current_id);
        let before_phone = current
            .phone_enc
            .as_deref()
            .and_then(|e| v.open(Field::Phone, e).ok())
            .map(|s| v.blind_index(Field::Phone, &s));
        let before = row_audit_state(&current, &before_id, before_phone.as_deref());
        let after = sealed.audit_state(path.as_str(), input.household_id.map(PlaceId), status);
        let update = PersonUpdate {
            name: sealed.name.as_str().to_owned(),
            name_initials: sealed.name.initials(),
            name_pinyin: sealed.name.full_pinyin(),
            gender: sealed.id_number.gender(),
            birth_date: sealed.id_number.birth_date().to_string(),
            id_enc: sealed.id_enc,
            id_bidx: sealed.id_bidx,
            id4_bidx: sealed.id4_bidx,
            phone_enc: sealed.phone_enc,
            phone_bidx: sealed.phone_bidx,
            ethnicity: sealed.ethnicity,
            education: sealed.education,
            address: sealed.address,
            status,
            note: sealed.note,
            household_id: input.household_id.map(PlaceId),
        };
        let number_changed = update.id_bidx != before_id;
        if number_changed {
            self.count_exact_lookup(caller).await?;
        }
        let mut tx = self.app.store().begin().await?;
        if number_changed
            && let IdNumberCheck::RouteToCounty(existing) = self
                .check_id_number(&mut tx, caller, &update.id_bidx, Some(key))
                .await?
        {
            self.route_duplicate(&mut tx, caller, key, &existing, &update.id_bidx)
                .await?;
        }
        store_people::update(&mut tx.exec(), key, version, &update, now)
            .await
            .map_err(|e| {
                if e.is_conflict_on("id_bidx") {
                    AppError::conflict(
                        "duplicate_id_number",
                        Some("id_number"),
                        "该身份证号码已登记给其他人",
                    )
                } else {
                    e.into()
                }
            })?;
        if current.home_unit_id.get() != input.home_unit_id {
            store_people::set_home(
                &mut tx.exec(),
                key,
                UnitId(input.home_unit_id),
                path.as_str(),
                input.household_id.map(PlaceId),
                now,
            )
            .await?;
        }
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.update",
                entity: "person",
                entity_key: key.to_string(),
                before: Some(&before),
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(name = "people.add_role", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn add_role(
        self,
        caller: &Caller,
        key: Key<PersonId>,
        input: RoleInput,
    ) -> AppResult<PersonRoleId> {
        self.in_scope(caller, Permission::EditPeople, key).await?;
        let county = key.county();
        // The role's unit must exist, lie in the caller's EditPeople scope (a grid worker
        // cannot attach someone to a branch in another street) and fit: the person's county
        // or the city's own units. Anything else looks like a missing unit.
        let edit_scope = caller.scope(Permission::EditPeople);
        let unit = match (input.unit_county_code, input.unit_id) {
            (Some(c), Some(u)) => Some(
                store_org::get(
                    &mut self.app.store().read(),
                    Key::from_parts(c, u).map_err(|_| AppError::NotFound {
                        what: "所属组织"
                    })?,
                )
                .await?
                .filter(|unit| {
                    unit.county_code == key.county_code
                        || unit.county_code.as_i64() == crate::CITY_COUNTY_CODE
                })
                .filter(|unit| OrgPath::parse(&unit.path).is_ok_and(|p| edit_scope.covers(&p)))
                .ok_or(AppError::NotFound {
                    what: "所属组织"
                })?,
            ),
            (None, None) => None,
            _ => {
                return Err(AppError::invalid(
                    "invalid_unit",
                    "unit_id",
                    "所属组织参数不完整",
                ));
            }
        };
        input
            .details
            .validate(input.kind, unit.is_some(), self.app.clock().today())
            .map_err(|e| {
                let code = match &e {
                    yinling_domain::person::RoleError::Text { error, .. } => error.code(),
                    _ => "invalid_role",
                };
                AppError::invalid(code, "details", e.to_string())
            })?;
        if input.since.is_some_and(|d| d > self.app.clock().today()) {
            return Err(AppError::invalid(
                "invalid_since",
                "since",
                "起始日期不能晚于今天",
            ));
        }
        let existing = store_people::roles_of(&mut self.app.store().read(), key).await?;
        if existing.iter().any(|r| {
            r.kind == input.kind
                && r.unit_id.map(UnitId::get) == unit.as_ref().map(|u| u.id).map(|i| i.get())
        }) {
            return Err(AppError::conflict(
                "role_exists",
                Some("kind"),
                format!("已有“{}”身份", input.kind.label_zh()),
            ));
        }
        let details =
            serde_json::to_string(&input.details).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let role_id = PersonRoleId(ids::next(&mut tx.exec(), Seq::PersonRoles).await?);
        store_people::insert_roles(
            &mut tx.exec(),
            &[NewRole {
                county_code: key.county_code,
                id: role_id,
                person_id: key.id,
                kind: input.kind,
                unit_county_code: unit
                    .as_ref()
                    .map(|u| CountyCode::from_i64(u.county_code.as_i64()))
                    .transpose()
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                unit_id: unit.as_ref().map(|u| UnitId(u.id.get())),
                path: unit.as_ref().map(|u| u.path.clone()),
                since: input.since.map(|d| d.to_string()),
                details: details.clone(),
                now,
            }],
        )
        .await?;
        let after = serde_json::json!({"kind": input.kind.as_str(), "unit": unit.as_ref().map(|u| &u.path), "details": details});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.role_add",
                entity: "person",
                entity_key: key.to_string(),
                before: None,
                after: Some(&after),
                detail: Some(input.kind.as_str().to_owned()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(role_id)
    }

    #[tracing::instrument(name = "people.remove_role", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id(), role_id = role_id.get()))]
    pub async fn remove_role(
        self,
        caller: &Caller,
        key: Key<PersonId>,
        role_id: PersonRoleId,
    ) -> AppResult<()> {
        self.in_scope(caller, Permission::EditPeople, key).await?;
        let county = key.county();
        let mut tx = self.app.store().begin().await?;
        store_people::delete_role(&mut tx.exec(), key, role_id)
            .await
            .map_err(|_| AppError::NotFound { what: "身份" })?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.role_remove",
                entity: "person",
                entity_key: key.to_string(),
                before: None,
                after: None,
                detail: Some(role_id.to_string()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(name = "people.set_skills", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn set_skills(
        self,
        caller: &Caller,
        key: Key<PersonId>,
        skills: Vec<String>,
    ) -> AppResult<()> {
        self.in_scope(caller, Permission::EditPeople, key).await?;
        let county = key.county();
        let mut clean_skills: Vec<String> = Vec::new();
        for s in skills.iter().flat_map(|s| s.split(['，', ',', '、', '\n'])) {
            let s = s.trim();
            if s.is_empty() {
                continue;
            }
            let s = Label::<20>::read(s, "skills", "特长")?.into_string();
            if !clean_skills.contains(&s) {
                clean_skills.push(s);
            }
        }
        if clean_skills.len() > 20 {
            return Err(AppError::invalid(
                "too_many_skills",
                "skills",
                "特长最多填写20项",
            ));
        }
        let mut tx = self.app.store().begin().await?;
        store_people::set_skills(&mut tx.exec(), key, &clean_skills).await?;
        let after = serde_json::json!(clean_skills);
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.skills",
                entity: "person",
                entity_key: key.to_string(),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(name = "people.tag", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn tag(self, caller: &Caller, key: Key<PersonId>, input: TagInput) -> AppResult<i64> {
        let p = self.in_scope(caller, Permission::EditPeople, key).await?;
        let county = key.county();
        let def = store_tags::def(&mut self.app.store().read(), input.tag_id)
            .await?
            .filter(|d| !d.archived)
            .ok_or(AppError::NotFound { what: "标签" })?;
        if let (Some(a), Some(b)) = (input.valid_from, input.valid_to)
            && a > b
        {
            return Err(AppError::invalid(
                "invalid_validity",
                "valid_to",
                "有效期结束日期不能早于开始日期",
            ));
        }
        let note =
            Bounded::<LinesKind, 1, 200>::read_opt(input.note.as_deref(), "note", "标签备注")?
                .map(String::from);
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        if store_tags::has_active(&mut tx.exec(), key, def.id).await? {
            return Err(AppError::conflict(
                "tag_exists",
                Some("tag_id"),
                format!("已有标签“{}”", def.name),
            ));
        }
        let tag_row = ids::next(&mut tx.exec(), Seq::PersonTags).await?;
        store_tags::insert_person_tags(
            &mut tx.exec(),
            &[NewPersonTag {
                county_code: key.county_code,
                id: tag_row,
                person_id: key.id,
                tag_id: def.id,
                path: p.path.clone(),
                source: TagSource::Manual,
                source_ref: None,
                set_by: caller.account_id.map(AccountId),
                set_at: now,
                valid_from: input.valid_from.map(|d| d.to_string()),
                valid_to: input.valid_to.map(|d| d.to_string()),
                note,
            }],
        )
        .await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.tag",
                entity: "person",
                entity_key: key.to_string(),
                before: None,
                after: None,
                detail: Some(def.code.clone()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(tag_row)
    }

    #[tracing::instrument(name = "people.untag", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id(), tag_row_id = tag_row_id))]
    pub async fn untag(
        self,
        caller: &Caller,
        key: Key<PersonId>,
        tag_row_id: i64,
    ) -> AppResult<()> {
        self.in_scope(caller, Permission::EditPeople, key).await?;
        let county = key.county();
        let mut tx = self.app.store().begin().await?;
        store_tags::revoke(
            &mut tx.exec(),
            key,
            tag_row_id,
            AccountId(caller.account_id.unwrap_or(0)),
            self.app.now(),
        )
        .await
        .map_err(|_| AppError::NotFound { what: "标签" })?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.untag",
                entity: "person",
                entity_key: key.to_string(),
                before: None,
                after: None,
                detail: Some(tag_row_id.to_string()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rows for an export of the people list (masked), at most `max`.
    pub(crate) async fn for_export(
        self,
        caller: &Caller,
        q: &PeopleQuery,
        max: i64,
    ) -> AppResult<Vec<PersonListItem>> {
        if !caller.may(Permission::Export) {
            return Err(AppError::forbidden("您无权导出"));
        }
        let scope = self
            .narrowed_scope(caller, Permission::Export, q.unit.as_deref())
            .await?;
        let (filter, exact) = self.filter(q)?;
        let scope = self
            .guard_number_search(caller, &filter, exact.as_ref(), scope)
            .await?;
        let rows =
            store_people::export_rows(&mut self.app.store().read(), &scope, &filter, max).await?;
        if let Some(exact) = &exact {
            let found: Vec<Key<PersonId>> =
                rows.iter().map(|r| Key::new(r.county_code, r.id)).collect();
            self.audit_exact_search(caller, exact, &found).await?;
        }
        let today = self.app.clock().today();
        let reveal = self.reveal_scope_of(caller);
        Ok(rows
            .into_iter()
            .map(|r| self.list_item(r, today, &reveal))
            .collect())
    }
}
