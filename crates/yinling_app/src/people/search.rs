//! Finding people within scope: the list's filters, a search by a full ID number or phone
//! (needs the reveal right, throttled and audited), the person file and revealing a field.

use super::*;

/// A search by a full number: which kind, and the number as normalised.
pub(super) struct Exact {
    field: SensitiveField,
    number: String,
}

impl Exact {
    /// A keyed digest of the number for the audit log, never the number.
    pub(super) fn digest(&self, app: &App) -> String {
        app.vault().digest(&format!(
            "exact_search:{}:{}",
            self.field.as_str(),
            self.number
        ))
    }
}

impl People<'_> {
    pub(super) fn mask_id(self, id_enc: &[u8]) -> String {
        match self.app.vault().open(Field::IdNumber, id_enc) {
            Ok(clear) => self.app.settings().privacy.id_number_mask.apply(&clear),
            Err(_) => "（无法解密）".into(),
        }
    }

    pub(super) fn mask_phone(self, phone_enc: Option<&[u8]>) -> Option<String> {
        phone_enc.map(|enc| match self.app.vault().open(Field::Phone, enc) {
            Ok(clear) => self.app.settings().privacy.phone_mask.apply(&clear),
            Err(_) => "（无法解密）".into(),
        })
    }

    /// Loads a person if visible to `caller` under permission `p`; NotFound otherwise, so
    /// an out-of-scope person looks exactly like a missing one.
    pub(crate) async fn in_scope(
        self,
        caller: &Caller,
        p: Permission,
        key: Key<PersonId>,
    ) -> AppResult<PersonRow> {
        let scope = caller.scope(p);
        let mut exec = self.app.store().read();
        let own_file =
            p == Permission::ViewPeople && caller.person == Some((key.county(), key.id()));
        if !own_file && !store_people::visible(&mut exec, &scope, key).await? {
            return Err(AppError::NotFound { what: "人员" });
        }
        store_people::get(&mut exec, key)
            .await?
            .ok_or(AppError::NotFound { what: "人员" })
    }

    /// The unit a filter names, narrowed to the caller's scope.
    pub(super) async fn narrowed_scope(
        self,
        caller: &Caller,
        p: Permission,
        unit: Option<&str>,
    ) -> AppResult<Scope> {
        let scope = caller.scope(p);
        match unit.filter(|u| !u.is_empty()) {
            None => Ok(scope),
            Some(key) => {
                let (c, i) = parse_key(key).ok_or_else(|| {
                    AppError::invalid("invalid_unit", "unit", "组织参数格式不正确")
                })?;
                let unit =
                    store_org::get(&mut self.app.store().read(), crate::org::unit_key(c, i)?)
                        .await?
                        .ok_or(AppError::NotFound { what: "组织" })?;
                let path =
                    OrgPath::parse(&unit.path).map_err(|e| AppError::Internal(e.to_string()))?;
                Ok(scope.narrow_to(&path))
            }
        }
    }

    /// The filter a query asks for, and the full number when it is an exact search.
    pub(super) fn filter(self, q: &PeopleQuery) -> AppResult<(PersonFilter, Option<Exact>)> {
        let today = self.app.clock().today();
        let mut exact = None;
        let term = match q.q.as_deref().map(search_key) {
            None | Some(SearchKey::Empty) => None,
            Some(SearchKey::Name(n)) => Some(SearchTerm::Name(n)),
            Some(SearchKey::Initials(l) | SearchKey::Pinyin(l)) => Some(SearchTerm::Letters(l)),
            Some(SearchKey::Digits(d)) => Some(match d.len() {
                4 => SearchTerm::IdLast4Bidx(self.app.vault().blind_index(Field::IdLast4, &d)),
                18 => {
                    let id = IdNumber::parse_at(&d, today)
                        .map_err(|e| AppError::invalid(e.code(), "q", e.to_string()))?;
                    exact = Some(Exact {
                        field: SensitiveField::IdNumber,
                        number: id.as_str().to_owned(),
                    });
                    SearchTerm::IdBidx(self.app.vault().blind_index(Field::IdNumber, id.as_str()))
                }
                11 => {
                    let p = Phone::parse(&d)
                        .map_err(|e| AppError::invalid(e.code(), "q", e.to_string()))?;
                    exact = Some(Exact {
                        field: SensitiveField::Phone,
                        number: p.as_str().to_owned(),
                    });
                    SearchTerm::PhoneBidx(self.app.vault().blind_index(Field::Phone, p.as_str()))
                }
                _ => {
                    return Err(AppError::invalid(
                        "invalid_search",
                        "q",
                        "请输入姓名、拼音首字母、身份证号后4位、完整身份证号或11位手机号",
                    ));
                }
            }),
        };
        let status =
            match q.status.as_deref().filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => Some(PersonStatus::parse(s).ok_or_else(|| {
                    AppError::invalid("invalid_status", "status", "状态参数不正确")
                })?),
            };
        let role_kind = match q.role.as_deref().filter(|r| !r.is_empty()) {
            None => None,
            Some(r) => Some(
                PersonRoleKind::parse(r)
                    .ok_or_else(|| AppError::invalid("invalid_role", "role", "身份参数不正确"))?,
            ),
        };
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
        // Age N or more: born on or before today minus N years; age N or less: born after
        // today minus N+1 years.
        let filter = PersonFilter {
            term,
            status,
            role_kind,
            tag_id: q.tag.map(TagId),
            gender: q.gender.as_deref().and_then(Gender::parse),
            born_on_or_before: q.age_min.map(|n| years_before(today, n).to_string()),
            born_on_or_after: q
                .age_max
                .and_then(|n| years_before(today, n + 1).succ_opt())
                .map(|d| d.to_string()),
        };
        Ok((filter, exact))
    }

    /// Where `caller` may see full numbers (and full birth dates): the grants of roles the
    /// privacy policy lets reveal.
    pub(crate) fn reveal_scope_of(self, caller: &Caller) -> Scope {
        caller.reveal_scope(&self.app.settings().privacy.reveal_roles)
    }

    /// The rules on searches by number, applied before a search in `scope` runs. An exact
    /// search (full ID number or phone) needs the reveal permission, counts against the
    /// caller's exact-search limit and is narrowed to where the caller may reveal; a refusal
    /// is audited. A search by the last four characters that reaches people the caller may
    /// not reveal counts against the last-four limit. Returns the scope to search.
    pub(super) async fn guard_number_search(
        self,
        caller: &Caller,
        filter: &PersonFilter,
        exact: Option<&Exact>,
        scope: Scope,
    ) -> AppResult<Scope> {
        let reveal = self.reveal_scope_of(caller);
        if let Some(exact) = exact {
            if reveal.is_empty() {
                self.audit_exact_refusal(caller, exact, "no_reveal_right")
                    .await?;
                return Err(AppError::forbidden(
                    "按完整身份证号或手机号查找需要查看完整号码的权限。\
                     可以按姓名、拼音首字母或身份证号后4位查找",
                ));
            }
            if let Err(e) = self.count_exact_lookup(caller).await {
                if matches!(e, AppError::TooMany { .. }) {
                    self.audit_exact_refusal(caller, exact, "too_many").await?;
                }
                return Err(e);
            }
            return Ok(scope.intersect(&reveal));
        }
        if matches!(filter.term, Some(SearchTerm::IdLast4Bidx(_)))
            && !reveal.includes(&scope)
            && let Some(account) = caller.account_id
        {
            self.app
                .throttle()
                .hit(
                    &self.app.settings().privacy.last4_search_limit(),
                    &format!("account:{account}"),
                )
                .await?;
        }
        Ok(scope)
    }

    /// Counts one lookup by a full number (a search, or a registration or change carrying a
    /// full ID number) against the caller's hourly limit. The command line is not limited.
    pub(super) async fn count_exact_lookup(self, caller: &Caller) -> AppResult<()> {
        if let Some(account) = caller.account_id {
            self.app
                .throttle()
                .hit(
                    &self.app.settings().privacy.exact_search_limit(),
                    &format!("account:{account}"),
                )
                .await?;
        }
        Ok(())
    }

    /// The county chain for an event about a search: the first county of the caller's
    /// people scope (0, the chain outside any county, for the city).
    pub(super) fn search_chain(caller: &Caller) -> i64 {
        caller
            .scope(Permission::ViewPeople)
            .ranges()
            .first()
            .and_then(|r| r.single_county())
            .unwrap_or(0)
    }

    /// Records an exact search as a reveal is recorded: who, from where, which kind of number,
    /// how many files it found and which; of the number only a keyed digest (someone holding
    /// the data key can later ask "who searched for this number", nobody can read it back).
    pub(super) async fn audit_exact_search(
        self,
        caller: &Caller,
        exact: &Exact,
        found: &[Key<PersonId>],
    ) -> AppResult<()> {
        let keys: Vec<String> = found.iter().take(20).map(Key::to_string).collect();
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: found
                    .first()
                    .map_or_else(|| Self::search_chain(caller), |k| k.county()),
                action: "person.exact_search",
                entity: "person",
                entity_key: "search".into(),
                before: None,
                after: None,
                detail: Some(format!(
                    "field={}; results={}; found={}; digest={}",
                    exact.field.as_str(),
                    found.len(),
                    keys.join(","),
                    exact.digest(self.app)
                )),
            },
        );
        let mut tx = self.app.store().begin().await?;
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn audit_exact_refusal(
        self,
        caller: &Caller,
        exact: &Exact,
        reason: &str,
    ) -> AppResult<()> {
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: Self::search_chain(caller),
                action: "person.exact_search_refused",
                entity: "person",
                entity_key: "search".into(),
                before: None,
                after: None,
                detail: Some(format!(
                    "field={}; reason={reason}; digest={}",
                    exact.field.as_str(),
                    exact.digest(self.app)
                )),
            },
        );
        let mut tx = self.app.store().begin().await?;
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) fn list_item(
        self,
        r: PersonListRow,
        today: NaiveDate,
        reveal: &Scope,
    ) -> PersonListItem {
        let full = OrgPath::parse(&r.path).is_ok_and(|p| reveal.covers(&p));
        let (birth_date, birth_year, age) = birth_view(&r.birth_date, full, today);
        PersonListItem {
            birth_date,
            birth_year,
            age,
            id_number_masked: self.mask_id(&r.id_enc),
            phone_masked: self.mask_phone(r.phone_enc.as_deref()),
            gender_label: r.gender.label_zh(),
            status_label: r.status.label_zh(),
            county_code: r.county_code,
            id: r.id,
            name: r.name,
            gender: r.gender,
            unit_name: r.unit_name,
            household: r.household_label,
            status: r.status,
        }
    }

    /// The people list: search and filters inside the caller's scope, masked.
    #[tracing::instrument(name = "people.search", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn search(
        self,
        caller: &Caller,
        q: &PeopleQuery,
        page: PageRequest,
    ) -> AppResult<Page<PersonListItem>> {
        if !caller.may(Permission::ViewPeople) {
            return Err(AppError::forbidden("您无权查看人员信息"));
        }
        let scope = self
            .narrowed_scope(caller, Permission::ViewPeople, q.unit.as_deref())
            .await?;
        let (filter, exact) = self.filter(q)?;
        let scope = self
            .guard_number_search(caller, &filter, exact.as_ref(), scope)
            .await?;
        let (rows, total) = store_people::search(
            &mut self.app.store().read(),
            &scope,
            &filter,
            page.per_page,
            page.offset(),
        )
        .await?;
        if let Some(exact) = &exact {
            let found: Vec<Key<PersonId>> =
                rows.iter().map(|r| Key::new(r.county_code, r.id)).collect();
            self.audit_exact_search(caller, exact, &found).await?;
        }
        let today = self.app.clock().today();
        let reveal = self.reveal_scope_of(caller);
        Ok(Page {
            items: rows
                .into_iter()
                .map(|r| self.list_item(r, today, &reveal))
                .collect(),
            total: total.min(store_people::COUNT_CAP),
            total_is_lower_bound: total > store_people::COUNT_CAP,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// A person's whole file, masked.
    #[tracing::instrument(name = "people.file", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn file(self, caller: &Caller, key: Key<PersonId>) -> AppResult<PersonFile> {
        let p = self.in_scope(caller, Permission::ViewPeople, key).await?;
        let mut exec = self.app.store().read();
        let unit = store_org::get(&mut exec, Key::new(p.county_code, p.home_unit_id)).await?;
        let household = match p.household_id {
            Some(h) => match store_places::get(&mut exec, Key::new(p.county_code, h)).await? {
                Some(place) => Some(HouseholdRef {
                    members: store_places::residents(&mut exec, Key::new(p.county_code, h))
                        .await?
                        .into_iter()
                        .filter(|(pid, _)| *pid != p.id)
                        .map(|(id, name)| HouseholdMember { id, name })
                        .collect(),
                    id: PlaceId(place.id.get()),
                    label: place.label,
                    address: place.address,
                }),
                None => None,
            },
            None => None,
        };
        let today = self.app.clock().today();
        let roles = store_people::roles_of(&mut exec, key)
            .await?
            .into_iter()
            .map(|r| role_view(r, today))
            .collect();
        let skills = store_people::skills_of(&mut exec, key).await?;
        let tags = store_tags::of_person(&mut exec, key).await?;
        let path = OrgPath::parse(&p.path).map_err(|e| AppError::Internal(e.to_string()))?;
        let can_edit = caller.scope(Permission::EditPeople).covers(&path);
        let can_reveal = self.reveal_scope_of(caller).covers(&path);
        // Their own birth date is no secret to the person; to staff it is as telling as the
        // number it is part of.
        let own = caller.person == Some((key.county(), key.id()));
        let (birth_date, birth_year, age) = birth_view(&p.birth_date, own || can_reveal, today);
        Ok(PersonFile {
            county_code: p.county_code,
            id: p.id,
            birth_date,
            birth_year,
            age,
            id_number_masked: self.mask_id(&p.id_enc),
            phone_masked: self.mask_phone(p.phone_enc.as_deref()),
            gender_label: p.gender.label_zh(),
            status_label: p.status.label_zh(),
            home_unit: UnitRef {
                county_code: p.county_code,
                id: p.home_unit_id,
                name: unit.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
                path: p.path.clone(),
            },
            household,
            roles,
            skills,
            tags,
            can_edit,
            can_reveal,
            name: p.name,
            name_pinyin: p.name_pinyin,
            gender: p.gender,
            ethnicity: p.ethnicity,
            education: p.education,
            address: p.address,
            note: p.note,
            status: p.status,
            synthetic: p.synthetic,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        })
    }

    /// Shows one sensitive field in full to a caller whose role may see it, and records that
    /// they did, with when and from where, before returning it.
    #[tracing::instrument(name = "people.reveal", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn reveal(
        self,
        caller: &Caller,
        key: Key<PersonId>,
        field: SensitiveField,
    ) -> AppResult<Option<String>> {
        let p = self.in_scope(caller, Permission::ViewPeople, key).await?;
        let path = OrgPath::parse(&p.path).map_err(|e| AppError::Internal(e.to_string()))?;
        if !self.reveal_scope_of(caller).covers(&path) {
            return Err(AppError::forbidden(format!(
                "您的角色不能查看完整的{}",
                field.label_zh()
            )));
        }
        let value = match field {
            SensitiveField::IdNumber => Some(
                self.app
                    .vault()
                    .open(Field::IdNumber, &p.id_enc)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            ),
            SensitiveField::Phone => p
                .phone_enc
                .as_deref()
                .map(|enc| self.app.vault().open(Field::Phone, enc))
                .transpose()
                .map_err(|e| AppError::Internal(e.to_string()))?,
        };
        let mut tx = self.app.store().begin().await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: key.county(),
                action: "person.reveal",
                entity: "person",
                entity_key: key.to_string(),
                before: None,
                after: None,
                detail: Some(field.as_str().into()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(value)
    }
}
