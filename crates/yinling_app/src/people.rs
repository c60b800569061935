//! People files (一人一档): search, read (masked), reveal (audited), create, change, roles,
//! specialties, tags.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use yinling_domain::{
    id_number::{IdNumber, age_on},
    name::{PersonName, SearchKey, search_key},
    org::{OrgKind, OrgPath},
    person::{PersonRoleKind, PersonStatus, RoleDetails, TagSource},
    phone::Phone,
    role::Permission,
    scope::Scope,
};
use yinling_store::{
    audit as store_audit,
    ids::{self, Seq},
    org as store_org,
    people::{
        self as store_people, NewPerson, NewRole, PersonFilter, PersonListRow, PersonRow,
        PersonUpdate, RoleRow, SearchTerm,
    },
    places as store_places,
    tags::{self as store_tags, NewPersonTag, PersonTagRow},
};

use crate::{
    App, AppError, AppResult, Caller, Page, PageRequest, audit::Event, text::TextKind, vault::Field,
};

/// Filters for the people list. All optional; combined with AND.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct PeopleQuery {
    /// A name (or its start), pinyin initials or a full pinyin spelling (five letters or
    /// more may be its start), the last 4 of the ID number, a full ID number, or an
    /// 11-digit phone.
    pub q: Option<String>,
    /// Only people under this unit: "county/id".
    pub unit: Option<String>,
    pub tag: Option<i64>,
    pub role: Option<String>,
    pub status: Option<String>,
    pub gender: Option<String>,
    pub age_min: Option<u32>,
    pub age_max: Option<u32>,
}

/// A row of the people list as shown: sensitive fields masked.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonListItem {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
    pub gender: String,
    pub gender_label: &'static str,
    /// The full birth date (`1944-03-15`), only for a caller who may reveal this person's
    /// numbers; null otherwise: beside a masked ID number it would leave a handful of
    /// candidates for the whole number.
    pub birth_date: Option<String>,
    pub birth_year: i32,
    /// Whole years today.
    pub age: u32,
    pub id_number_masked: String,
    pub phone_masked: Option<String>,
    pub unit_name: Option<String>,
    pub household: Option<String>,
    pub status: String,
    pub status_label: &'static str,
}

/// A person's whole file as the caller may see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonFile {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
    pub name_pinyin: String,
    pub gender: String,
    pub gender_label: &'static str,
    /// The full birth date, only for a caller who may reveal this person's numbers (and the
    /// person themselves); null otherwise.
    pub birth_date: Option<String>,
    pub birth_year: i32,
    /// Whole years today.
    pub age: u32,
    pub id_number_masked: String,
    pub phone_masked: Option<String>,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub address: Option<String>,
    pub note: Option<String>,
    pub status: String,
    pub status_label: &'static str,
    pub synthetic: bool,
    pub home_unit: UnitRef,
    pub household: Option<HouseholdRef>,
    pub roles: Vec<RoleView>,
    pub skills: Vec<String>,
    pub tags: Vec<PersonTagRow>,
    pub can_edit: bool,
    pub can_reveal: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitRef {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdRef {
    pub id: i64,
    pub label: String,
    pub address: Option<String>,
    /// Others in the household.
    pub members: Vec<HouseholdMember>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdMember {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleView {
    pub id: i64,
    pub kind: String,
    pub kind_label: &'static str,
    pub unit_name: Option<String>,
    pub unit_county_code: Option<i64>,
    pub unit_id: Option<i64>,
    pub since: Option<String>,
    pub details: RoleDetails,
    /// A readable summary ("1976年7月入党，党龄50年").
    pub summary: String,
}

/// A member of a unit's roster as the caller may see them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterItem {
    pub county_code: i64,
    pub person_id: i64,
    pub name: String,
    pub gender: String,
    /// The full birth date, only for a caller who may reveal this person's numbers.
    pub birth_date: Option<String>,
    pub birth_year: i32,
    pub age: u32,
    pub kind: String,
    pub unit_name: Option<String>,
    pub details: String,
}

/// What creating or changing a person takes. Gender and birth date come from the ID number.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonInput {
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub phone: Option<String>,
    pub home_unit_county_code: i64,
    pub home_unit_id: i64,
    #[serde(default)]
    pub household_id: Option<i64>,
    #[serde(default)]
    pub ethnicity: Option<String>,
    #[serde(default)]
    pub education: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Only on update.
    #[serde(default)]
    pub status: Option<PersonStatus>,
    /// Only on update: the version read, so concurrent edits are detected.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A role to add to a person.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleInput {
    pub kind: PersonRoleKind,
    #[serde(default)]
    pub unit_county_code: Option<i64>,
    #[serde(default)]
    pub unit_id: Option<i64>,
    #[serde(default)]
    pub since: Option<NaiveDate>,
    #[serde(default)]
    pub details: RoleDetails,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagInput {
    pub tag_id: i64,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Which sensitive field to reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SensitiveField {
    IdNumber,
    Phone,
}

impl SensitiveField {
    pub fn as_str(self) -> &'static str {
        match self {
            SensitiveField::IdNumber => "id_number",
            SensitiveField::Phone => "phone",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SensitiveField::IdNumber => "身份证号码",
            SensitiveField::Phone => "手机号码",
        }
    }
}

/// What the city-wide lookup of an ID number being registered found.
enum IdNumberCheck {
    /// No other file holds it.
    Free,
    /// A file the registrar may not reveal holds it: register, and route to the county.
    RouteToCounty(Box<PersonRow>),
}

/// A search by a full number: which kind, and the number as normalised.
struct Exact {
    field: SensitiveField,
    number: String,
}

impl Exact {
    /// A keyed digest of the number for the audit log, never the number.
    fn digest(&self, app: &App) -> String {
        app.vault().digest(&format!(
            "exact_search:{}:{}",
            self.field.as_str(),
            self.number
        ))
    }
}

fn gender_label(g: &str) -> &'static str {
    match g {
        "male" => "男",
        "female" => "女",
        _ => "未知",
    }
}

fn status_label(s: &str) -> &'static str {
    PersonStatus::parse(s).map_or("未知", PersonStatus::label_zh)
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A birth date as the caller may see it: the full date only when `full`, always the year
/// and the age today.
fn birth_view(birth_date: &str, full: bool, today: NaiveDate) -> (Option<String>, i32, u32) {
    let date = parse_date(birth_date);
    (
        full.then(|| birth_date.to_owned()),
        date.map_or(0, |d| d.year()),
        date.map_or(0, |b| age_on(b, today)),
    )
}

/// Parses "county/id" (as used in links and filters).
pub fn parse_key(s: &str) -> Option<(i64, i64)> {
    let (c, i) = s.split_once('/')?;
    Some((c.trim().parse().ok()?, i.trim().parse().ok()?))
}

/// Trims an optional text, refusing more than `max` characters and what the text checker
/// refuses for its kind (invisible characters; phone and ID numbers in free text).
fn clean(
    o: Option<String>,
    kind: TextKind,
    field: &'static str,
    what: &str,
    max: usize,
) -> AppResult<Option<String>> {
    match o.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max => Err(AppError::invalid(
            "too_long",
            field,
            format!("内容过长：最多{max}个字"),
        )),
        Some(s) => {
            crate::text::check(&s, kind, field, what)?;
            Ok(Some(s))
        }
        None => Ok(None),
    }
}

/// The validated, sealed form of a [`PersonInput`].
struct Sealed {
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
    fn audit_state(&self, home: &str, household: Option<i64>, status: &str) -> serde_json::Value {
        serde_json::json!({
            "name": self.name.as_str(),
            "id_bidx": hex::encode(&self.id_bidx),
            "phone_bidx": self.phone_bidx.as_ref().map(hex::encode),
            "ethnicity": self.ethnicity, "education": self.education, "address": self.address,
            "note": self.note, "home": home, "household": household, "status": status,
        })
    }
}

fn row_audit_state(p: &PersonRow, id_bidx: &[u8], phone_bidx: Option<&[u8]>) -> serde_json::Value {
    serde_json::json!({
        "name": p.name,
        "id_bidx": hex::encode(id_bidx),
        "phone_bidx": phone_bidx.map(hex::encode),
        "ethnicity": p.ethnicity, "education": p.education, "address": p.address,
        "note": p.note, "home": p.path, "household": p.household_id, "status": p.status,
    })
}

impl App {
    fn seal_person(&self, input: &PersonInput) -> AppResult<Sealed> {
        crate::text::check(&input.name, TextKind::Label, "name", "姓名")?;
        let name = PersonName::parse(&input.name)
            .map_err(|e| AppError::invalid("invalid_name", "name", e.to_string()))?;
        let id_number = IdNumber::parse_at(&input.id_number, self.clock().today())
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
        let v = self.vault();
        Ok(Sealed {
            id_enc: v.seal(Field::IdNumber, id_number.as_str()),
            id_bidx: v.blind_index(Field::IdNumber, id_number.as_str()),
            id4_bidx: v.blind_index(Field::IdLast4, id_number.last4()),
            phone_enc: phone.as_ref().map(|p| v.seal(Field::Phone, p.as_str())),
            phone_bidx: phone
                .as_ref()
                .map(|p| v.blind_index(Field::Phone, p.as_str())),
            ethnicity: clean(
                input.ethnicity.clone(),
                TextKind::Label,
                "ethnicity",
                "民族",
                20,
            )?,
            education: clean(
                input.education.clone(),
                TextKind::Label,
                "education",
                "文化程度",
                20,
            )?,
            address: clean(
                input.address.clone(),
                TextKind::Line,
                "address",
                "住址",
                100,
            )?,
            note: clean(input.note.clone(), TextKind::Lines, "note", "备注", 500)?,
            name,
            id_number,
        })
    }

    fn mask_id(&self, id_enc: &[u8]) -> String {
        match self.vault().open(Field::IdNumber, id_enc) {
            Ok(clear) => self.settings().privacy.id_number_mask.apply(&clear),
            Err(_) => "（无法解密）".into(),
        }
    }

    fn mask_phone(&self, phone_enc: Option<&[u8]>) -> Option<String> {
        phone_enc.map(|enc| match self.vault().open(Field::Phone, enc) {
            Ok(clear) => self.settings().privacy.phone_mask.apply(&clear),
            Err(_) => "（无法解密）".into(),
        })
    }

    /// Loads a person if visible to `caller` under permission `p`; NotFound otherwise, so
    /// an out-of-scope person looks exactly like a missing one.
    pub(crate) async fn person_in_scope(
        &self,
        caller: &Caller,
        p: Permission,
        county: i64,
        id: i64,
    ) -> AppResult<PersonRow> {
        let scope = caller.scope(p);
        let mut exec = self.store().read();
        let own_file = p == Permission::ViewPeople && caller.person == Some((county, id));
        if !own_file && !store_people::visible(&mut exec, &scope, county, id).await? {
            return Err(AppError::NotFound { what: "人员" });
        }
        store_people::get(&mut exec, county, id)
            .await?
            .ok_or(AppError::NotFound { what: "人员" })
    }

    /// The unit a filter names, narrowed to the caller's scope.
    async fn narrowed_scope(
        &self,
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
                let unit = store_org::get(&mut self.store().read(), c, i)
                    .await?
                    .ok_or(AppError::NotFound { what: "组织" })?;
                let path =
                    OrgPath::parse(&unit.path).map_err(|e| AppError::Internal(e.to_string()))?;
                Ok(scope.narrow_to(&path))
            }
        }
    }

    /// The filter a query asks for, and the full number when it is an exact search.
    fn person_filter(&self, q: &PeopleQuery) -> AppResult<(PersonFilter, Option<Exact>)> {
        let today = self.clock().today();
        let mut exact = None;
        let term = match q.q.as_deref().map(search_key) {
            None | Some(SearchKey::Empty) => None,
            Some(SearchKey::Name(n)) => Some(SearchTerm::Name(n)),
            Some(SearchKey::Initials(l) | SearchKey::Pinyin(l)) => Some(SearchTerm::Letters(l)),
            Some(SearchKey::Digits(d)) => Some(match d.len() {
                4 => SearchTerm::IdLast4Bidx(self.vault().blind_index(Field::IdLast4, &d)),
                18 => {
                    let id = IdNumber::parse_at(&d, today)
                        .map_err(|e| AppError::invalid(e.code(), "q", e.to_string()))?;
                    exact = Some(Exact {
                        field: SensitiveField::IdNumber,
                        number: id.as_str().to_owned(),
                    });
                    SearchTerm::IdBidx(self.vault().blind_index(Field::IdNumber, id.as_str()))
                }
                11 => {
                    let p = Phone::parse(&d)
                        .map_err(|e| AppError::invalid(e.code(), "q", e.to_string()))?;
                    exact = Some(Exact {
                        field: SensitiveField::Phone,
                        number: p.as_str().to_owned(),
                    });
                    SearchTerm::PhoneBidx(self.vault().blind_index(Field::Phone, p.as_str()))
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
        if let Some(s) = &q.status
            && !s.is_empty()
            && PersonStatus::parse(s).is_none()
        {
            return Err(AppError::invalid(
                "invalid_status",
                "status",
                "状态参数不正确",
            ));
        }
        if let Some(r) = &q.role
            && !r.is_empty()
            && PersonRoleKind::parse(r).is_none()
        {
            return Err(AppError::invalid("invalid_role", "role", "身份参数不正确"));
        }
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
            status: q.status.clone().filter(|s| !s.is_empty()),
            role_kind: q.role.clone().filter(|s| !s.is_empty()),
            tag_id: q.tag,
            gender: q.gender.clone().filter(|s| s == "male" || s == "female"),
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
    pub(crate) fn reveal_scope_of(&self, caller: &Caller) -> Scope {
        caller.reveal_scope(&self.settings().privacy.reveal_roles)
    }

    /// The rules on searches by number, applied before a search in `scope` runs. An exact
    /// search (full ID number or phone) needs the reveal permission, counts against the
    /// caller's exact-search limit and is narrowed to where the caller may reveal; a refusal
    /// is audited. A search by the last four characters that reaches people the caller may
    /// not reveal counts against the last-four limit. Returns the scope to search.
    async fn guard_number_search(
        &self,
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
            self.throttle(
                &self.settings().privacy.last4_search_limit(),
                &format!("account:{account}"),
            )
            .await?;
        }
        Ok(scope)
    }

    /// Counts one lookup by a full number (a search, or a registration or change carrying a
    /// full ID number) against the caller's hourly limit. The command line is not limited.
    async fn count_exact_lookup(&self, caller: &Caller) -> AppResult<()> {
        if let Some(account) = caller.account_id {
            self.throttle(
                &self.settings().privacy.exact_search_limit(),
                &format!("account:{account}"),
            )
            .await?;
        }
        Ok(())
    }

    /// The county chain for an event about a search: the first county of the caller's
    /// people scope (0, the chain outside any county, for the city).
    fn search_chain(caller: &Caller) -> i64 {
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
    async fn audit_exact_search(
        &self,
        caller: &Caller,
        exact: &Exact,
        found: &[(i64, i64)],
    ) -> AppResult<()> {
        let keys: Vec<String> = found
            .iter()
            .take(20)
            .map(|(c, i)| format!("{c}/{i}"))
            .collect();
        let event = self.audit_event(
            caller,
            Event {
                county_code: found
                    .first()
                    .map_or_else(|| Self::search_chain(caller), |k| k.0),
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
                    exact.digest(self)
                )),
            },
        );
        let mut tx = self.store().begin().await?;
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_exact_refusal(
        &self,
        caller: &Caller,
        exact: &Exact,
        reason: &str,
    ) -> AppResult<()> {
        let event = self.audit_event(
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
                    exact.digest(self)
                )),
            },
        );
        let mut tx = self.store().begin().await?;
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    fn list_item(&self, r: PersonListRow, today: NaiveDate, reveal: &Scope) -> PersonListItem {
        let full = OrgPath::parse(&r.path).is_ok_and(|p| reveal.covers(&p));
        let (birth_date, birth_year, age) = birth_view(&r.birth_date, full, today);
        PersonListItem {
            birth_date,
            birth_year,
            age,
            id_number_masked: self.mask_id(&r.id_enc),
            phone_masked: self.mask_phone(r.phone_enc.as_deref()),
            gender_label: gender_label(&r.gender),
            status_label: status_label(&r.status),
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
    pub async fn search_people(
        &self,
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
        let (filter, exact) = self.person_filter(q)?;
        let scope = self
            .guard_number_search(caller, &filter, exact.as_ref(), scope)
            .await?;
        let (rows, total) = store_people::search(
            &mut self.store().read(),
            &scope,
            &filter,
            page.per_page,
            page.offset(),
        )
        .await?;
        if let Some(exact) = &exact {
            let found: Vec<(i64, i64)> = rows.iter().map(|r| (r.county_code, r.id)).collect();
            self.audit_exact_search(caller, exact, &found).await?;
        }
        let today = self.clock().today();
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
    pub async fn person_file(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
    ) -> AppResult<PersonFile> {
        let p = self
            .person_in_scope(caller, Permission::ViewPeople, county, id)
            .await?;
        let mut exec = self.store().read();
        let unit = store_org::get(&mut exec, p.county_code, p.home_unit_id).await?;
        let household = match p.household_id {
            Some(h) => match store_places::get(&mut exec, p.county_code, h).await? {
                Some(place) => Some(HouseholdRef {
                    members: store_places::residents(&mut exec, p.county_code, h)
                        .await?
                        .into_iter()
                        .filter(|(pid, _)| *pid != p.id)
                        .map(|(id, name)| HouseholdMember { id, name })
                        .collect(),
                    id: place.id,
                    label: place.label,
                    address: place.address,
                }),
                None => None,
            },
            None => None,
        };
        let today = self.clock().today();
        let roles = store_people::roles_of(&mut exec, county, id)
            .await?
            .into_iter()
            .map(|r| role_view(r, today))
            .collect();
        let skills = store_people::skills_of(&mut exec, county, id).await?;
        let tags = store_tags::of_person(&mut exec, county, id).await?;
        let path = OrgPath::parse(&p.path).map_err(|e| AppError::Internal(e.to_string()))?;
        let can_edit = caller.scope(Permission::EditPeople).covers(&path);
        let can_reveal = self.reveal_scope_of(caller).covers(&path);
        // Their own birth date is no secret to the person; to staff it is as telling as the
        // number it is part of.
        let own = caller.person == Some((county, id));
        let (birth_date, birth_year, age) = birth_view(&p.birth_date, own || can_reveal, today);
        Ok(PersonFile {
            county_code: p.county_code,
            id: p.id,
            birth_date,
            birth_year,
            age,
            id_number_masked: self.mask_id(&p.id_enc),
            phone_masked: self.mask_phone(p.phone_enc.as_deref()),
            gender_label: gender_label(&p.gender),
            status_label: status_label(&p.status),
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
    pub async fn reveal(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        field: SensitiveField,
    ) -> AppResult<Option<String>> {
        let p = self
            .person_in_scope(caller, Permission::ViewPeople, county, id)
            .await?;
        let path = OrgPath::parse(&p.path).map_err(|e| AppError::Internal(e.to_string()))?;
        if !self.reveal_scope_of(caller).covers(&path) {
            return Err(AppError::forbidden(format!(
                "您的角色不能查看完整的{}",
                field.label_zh()
            )));
        }
        let value = match field {
            SensitiveField::IdNumber => Some(
                self.vault()
                    .open(Field::IdNumber, &p.id_enc)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            ),
            SensitiveField::Phone => p
                .phone_enc
                .as_deref()
                .map(|enc| self.vault().open(Field::Phone, enc))
                .transpose()
                .map_err(|e| AppError::Internal(e.to_string()))?,
        };
        let mut tx = self.store().begin().await?;
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.reveal",
                entity: "person",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: None,
                detail: Some(field.as_str().into()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// Checks the home unit and household of a person input; returns the unit's path.
    async fn check_home(&self, caller: &Caller, input: &PersonInput) -> AppResult<OrgPath> {
        let unit = store_org::get(
            &mut self.store().read(),
            input.home_unit_county_code,
            input.home_unit_id,
        )
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
        if !OrgKind::parse(&unit.kind).is_some_and(OrgKind::is_home) {
            return Err(AppError::invalid(
                "invalid_home_unit",
                "home_unit",
                "居住地须选择社区、村、小区、网格或党员中心户",
            ));
        }
        if let Some(h) = input.household_id {
            let place = store_places::get(&mut self.store().read(), unit.county_code, h)
                .await?
                .filter(|pl| pl.kind == "household");
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

    pub async fn create_person(
        &self,
        caller: &Caller,
        input: PersonInput,
    ) -> AppResult<(i64, i64)> {
        if !caller.may(Permission::EditPeople) {
            return Err(AppError::forbidden("您无权登记人员"));
        }
        let sealed = self.seal_person(&input)?;
        let path = self.check_home(caller, &input).await?;
        // A registration carries a full number: it is a lookup like an exact search.
        self.count_exact_lookup(caller).await?;
        let county = input.home_unit_county_code;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let check = self
            .check_id_number(&mut tx, caller, &sealed.id_bidx, None)
            .await?;
        let id = ids::next(&mut tx.exec(), Seq::People).await?;
        // A routed duplicate is written under a placeholder index first, then takes the
        // number's index together with its case (the per-county uniqueness skips it).
        let id_bidx = match &check {
            IdNumberCheck::Free => sealed.id_bidx.clone(),
            IdNumberCheck::RouteToCounty(_) => self
                .vault()
                .blind_index(Field::IdNumber, &format!("pending:{county}/{id}")),
        };
        let new = NewPerson {
            county_code: county,
            id,
            path: path.to_string(),
            home_unit_id: input.home_unit_id,
            household_id: input.household_id,
            name: sealed.name.as_str().to_owned(),
            name_initials: sealed.name.initials(),
            name_pinyin: sealed.name.full_pinyin(),
            gender: sealed.id_number.gender().as_str().to_owned(),
            birth_date: sealed.id_number.birth_date().to_string(),
            id_enc: sealed.id_enc.clone(),
            id_bidx,
            id4_bidx: sealed.id4_bidx.clone(),
            phone_enc: sealed.phone_enc.clone(),
            phone_bidx: sealed.phone_bidx.clone(),
            ethnicity: sealed.ethnicity.clone(),
            education: sealed.education.clone(),
            address: sealed.address.clone(),
            status: PersonStatus::Active.as_str().to_owned(),
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
            self.route_duplicate(&mut tx, caller, (county, id), existing, &sealed.id_bidx)
                .await?;
        }
        let after = sealed.audit_state(path.as_str(), input.household_id, "active");
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.create",
                entity: "person",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok((county, id))
    }

    /// Opens a case for the county: the file `person` now holds the number (blind index
    /// `id_bidx`) that `existing`, outside where the registrar may reveal, already held.
    async fn route_duplicate(
        &self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        person: (i64, i64),
        existing: &PersonRow,
        id_bidx: &[u8],
    ) -> AppResult<()> {
        let (county, id) = person;
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
                registered_by: caller.account_id,
                registered_by_name: caller.display_name.clone(),
                registered_at: self.now(),
            },
        )
        .await?;
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.duplicate_routed",
                entity: "person",
                entity_key: format!("{county}/{id}"),
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
    async fn check_id_number(
        &self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        id_bidx: &[u8],
        except: Option<(i64, i64)>,
    ) -> AppResult<IdNumberCheck> {
        let lock = i64::from_be_bytes(id_bidx[..8].try_into().unwrap_or_default());
        yinling_store::lock_key(&mut tx.exec(), lock).await?;
        let city_lo = crate::CITY_COUNTY_CODE;
        let holders: Vec<PersonRow> =
            store_people::holders_of_id_bidx(&mut tx.exec(), city_lo, city_lo + 99, id_bidx)
                .await?
                .into_iter()
                .filter(|p| except != Some((p.county_code, p.id)))
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

    pub async fn update_person(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: PersonInput,
    ) -> AppResult<()> {
        let current = self
            .person_in_scope(caller, Permission::EditPeople, county, id)
            .await?;
        if PersonStatus::parse(&current.status).is_some_and(PersonStatus::is_closed_by_review) {
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
        let v = self.vault();
        let current_id = v
            .open(Field::IdNumber, &current.id_enc)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if input.id_number.contains('*') {
            if input.id_number.trim() != self.settings().privacy.id_number_mask.apply(&current_id) {
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
                Some(cp) if phone.trim() == self.settings().privacy.phone_mask.apply(&cp) => {
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
        let sealed = self.seal_person(&input)?;
        let path = self.check_home(caller, &input).await?;
        let status = input
            .status
            .unwrap_or(PersonStatus::Active)
            .as_str()
            .to_owned();
        let now = self.now();
        let before_id = v.blind_index(Field::IdNumber, &current_id);
        let before_phone = current
            .phone_enc
            .as_deref()
            .and_then(|e| v.open(Field::Phone, e).ok())
            .map(|s| v.blind_index(Field::Phone, &s));
        let before = row_audit_state(&current, &before_id, before_phone.as_deref());
        let after = sealed.audit_state(path.as_str(), input.household_id, &status);
        let update = PersonUpdate {
            name: sealed.name.as_str().to_owned(),
            name_initials: sealed.name.initials(),
            name_pinyin: sealed.name.full_pinyin(),
            gender: sealed.id_number.gender().as_str().to_owned(),
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
            household_id: input.household_id,
        };
        let number_changed = update.id_bidx != before_id;
        if number_changed {
            self.count_exact_lookup(caller).await?;
        }
        let mut tx = self.store().begin().await?;
        if number_changed
            && let IdNumberCheck::RouteToCounty(existing) = self
                .check_id_number(&mut tx, caller, &update.id_bidx, Some((county, id)))
                .await?
        {
            self.route_duplicate(&mut tx, caller, (county, id), &existing, &update.id_bidx)
                .await?;
        }
        store_people::update(&mut tx.exec(), county, id, version, &update, now)
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
        if current.home_unit_id != input.home_unit_id {
            store_people::set_home(
                &mut tx.exec(),
                county,
                id,
                input.home_unit_id,
                path.as_str(),
                input.household_id,
                now,
            )
            .await?;
        }
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.update",
                entity: "person",
                entity_key: format!("{county}/{id}"),
                before: Some(&before),
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_role(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: RoleInput,
    ) -> AppResult<i64> {
        self.person_in_scope(caller, Permission::EditPeople, county, id)
            .await?;
        // The role's unit must exist, lie in the caller's EditPeople scope (a grid worker
        // cannot attach someone to a branch in another street) and fit: the person's county
        // or the city's own units. Anything else looks like a missing unit.
        let edit_scope = caller.scope(Permission::EditPeople);
        let unit = match (input.unit_county_code, input.unit_id) {
            (Some(c), Some(u)) => Some(
                store_org::get(&mut self.store().read(), c, u)
                    .await?
                    .filter(|unit| {
                        unit.county_code == county || unit.county_code == crate::CITY_COUNTY_CODE
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
            .validate(input.kind, unit.is_some(), self.clock().today())
            .map_err(|e| {
                let code = match &e {
                    yinling_domain::person::RoleError::Text { error, .. } => error.code(),
                    _ => "invalid_role",
                };
                AppError::invalid(code, "details", e.to_string())
            })?;
        if input.since.is_some_and(|d| d > self.clock().today()) {
            return Err(AppError::invalid(
                "invalid_since",
                "since",
                "起始日期不能晚于今天",
            ));
        }
        let existing = store_people::roles_of(&mut self.store().read(), county, id).await?;
        if existing
            .iter()
            .any(|r| r.kind == input.kind.as_str() && r.unit_id == unit.as_ref().map(|u| u.id))
        {
            return Err(AppError::conflict(
                "role_exists",
                Some("kind"),
                format!("已有“{}”身份", input.kind.label_zh()),
            ));
        }
        let details =
            serde_json::to_string(&input.details).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let role_id = ids::next(&mut tx.exec(), Seq::PersonRoles).await?;
        store_people::insert_roles(
            &mut tx.exec(),
            &[NewRole {
                county_code: county,
                id: role_id,
                person_id: id,
                kind: input.kind.as_str().to_owned(),
                unit_county_code: unit.as_ref().map(|u| u.county_code),
                unit_id: unit.as_ref().map(|u| u.id),
                path: unit.as_ref().map(|u| u.path.clone()),
                since: input.since.map(|d| d.to_string()),
                details: details.clone(),
                now,
            }],
        )
        .await?;
        let after = serde_json::json!({"kind": input.kind.as_str(), "unit": unit.as_ref().map(|u| &u.path), "details": details});
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.role_add",
                entity: "person",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(&after),
                detail: Some(input.kind.as_str().to_owned()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(role_id)
    }

    pub async fn remove_role(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        role_id: i64,
    ) -> AppResult<()> {
        self.person_in_scope(caller, Permission::EditPeople, county, id)
            .await?;
        let mut tx = self.store().begin().await?;
        store_people::delete_role(&mut tx.exec(), county, id, role_id)
            .await
            .map_err(|_| AppError::NotFound { what: "身份" })?;
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.role_remove",
                entity: "person",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: None,
                detail: Some(role_id.to_string()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_skills(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        skills: Vec<String>,
    ) -> AppResult<()> {
        self.person_in_scope(caller, Permission::EditPeople, county, id)
            .await?;
        let mut clean_skills: Vec<String> = Vec::new();
        for s in skills.iter().flat_map(|s| s.split(['，', ',', '、', '\n'])) {
            let s = s.trim();
            if s.is_empty() {
                continue;
            }
            if s.chars().count() > 20 {
                return Err(AppError::invalid(
                    "skill_too_long",
                    "skills",
                    format!("特长“{s}”过长：每项最多20个字"),
                ));
            }
            crate::text::check(s, TextKind::Label, "skills", "特长")?;
            if !clean_skills.iter().any(|c| c == s) {
                clean_skills.push(s.to_owned());
            }
        }
        if clean_skills.len() > 20 {
            return Err(AppError::invalid(
                "too_many_skills",
                "skills",
                "特长最多填写20项",
            ));
        }
        let mut tx = self.store().begin().await?;
        store_people::set_skills(&mut tx.exec(), county, id, &clean_skills).await?;
        let after = serde_json::json!(clean_skills);
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.skills",
                entity: "person",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn tag_person(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: TagInput,
    ) -> AppResult<i64> {
        let p = self
            .person_in_scope(caller, Permission::EditPeople, county, id)
            .await?;
        let def = store_tags::def(&mut self.store().read(), input.tag_id)
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
        let note = clean(input.note, TextKind::Lines, "note", "标签备注", 200)?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if store_tags::has_active(&mut tx.exec(), county, id, def.id).await? {
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
                county_code: county,
                id: tag_row,
                person_id: id,
                tag_id: def.id,
                path: p.path.clone(),
                source: TagSource::Manual.as_str().to_owned(),
                source_ref: None,
                set_by: caller.account_id,
                set_at: now,
                valid_from: input.valid_from.map(|d| d.to_string()),
                valid_to: input.valid_to.map(|d| d.to_string()),
                note,
            }],
        )
        .await?;
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.tag",
                entity: "person",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: None,
                detail: Some(def.code.clone()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(tag_row)
    }

    pub async fn untag_person(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        tag_row_id: i64,
    ) -> AppResult<()> {
        self.person_in_scope(caller, Permission::EditPeople, county, id)
            .await?;
        let mut tx = self.store().begin().await?;
        store_tags::revoke(
            &mut tx.exec(),
            county,
            id,
            tag_row_id,
            caller.account_id.unwrap_or(0),
            self.now(),
        )
        .await
        .map_err(|_| AppError::NotFound { what: "标签" })?;
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.untag",
                entity: "person",
                entity_key: format!("{county}/{id}"),
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
    pub(crate) async fn people_for_export(
        &self,
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
        let (filter, exact) = self.person_filter(q)?;
        let scope = self
            .guard_number_search(caller, &filter, exact.as_ref(), scope)
            .await?;
        let rows =
            store_people::export_rows(&mut self.store().read(), &scope, &filter, max).await?;
        if let Some(exact) = &exact {
            let found: Vec<(i64, i64)> = rows.iter().map(|r| (r.county_code, r.id)).collect();
            self.audit_exact_search(caller, exact, &found).await?;
        }
        let today = self.clock().today();
        let reveal = self.reveal_scope_of(caller);
        Ok(rows
            .into_iter()
            .map(|r| self.list_item(r, today, &reveal))
            .collect())
    }

    /// Households under a unit, for the person form's picker.
    pub async fn households_under(
        &self,
        caller: &Caller,
        county: i64,
        unit_id: i64,
    ) -> AppResult<Vec<yinling_store::places::PlaceRow>> {
        let unit = self.find_unit(caller, county, unit_id).await?;
        let path = OrgPath::parse(&unit.path).map_err(|e| AppError::Internal(e.to_string()))?;
        let scope = caller.scope(Permission::ViewPeople).narrow_to(&path);
        Ok(store_places::households(&mut self.store().read(), &scope, 500).await?)
    }

    /// The people holding roles in the units of a subtree (a branch's members).
    pub async fn roster(
        &self,
        caller: &Caller,
        county: i64,
        unit_id: i64,
        kind: Option<PersonRoleKind>,
        page: PageRequest,
    ) -> AppResult<Page<RosterItem>> {
        let unit = self.find_unit(caller, county, unit_id).await?;
        let path = OrgPath::parse(&unit.path).map_err(|e| AppError::Internal(e.to_string()))?;
        let scope = caller.scope(Permission::ViewPeople).narrow_to(&path);
        let (items, total) = store_people::roster(
            &mut self.store().read(),
            &scope,
            kind.map(PersonRoleKind::as_str),
            page.per_page,
            page.offset(),
        )
        .await?;
        let today = self.clock().today();
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

/// The same calendar day `n` years earlier (29 February falls back to the 28th).
fn years_before(today: NaiveDate, n: u32) -> NaiveDate {
    let year = today.year() - n as i32;
    today
        .with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, today.month(), 28))
        .unwrap_or(today)
}

fn role_view(r: RoleRow, today: NaiveDate) -> RoleView {
    let details: RoleDetails = serde_json::from_str(&r.details).unwrap_or_default();
    let kind = PersonRoleKind::parse(&r.kind);
    let mut summary = Vec::new();
    if let Some(j) = details.join_date {
        summary.push(format!(
            "{}入党，党龄{}年",
            j.format("%Y年%-m月"),
            age_on(j, today)
        ));
    }
    if details.probationary {
        summary.push("预备党员".into());
    }
    if let Some(k) = details.retire_kind {
        summary.push(k.label_zh().to_owned());
    }
    if let Some(u) = &details.former_unit {
        summary.push(format!("原单位：{u}"));
    }
    if let Some(rank) = &details.former_rank {
        summary.push(format!("原职务：{rank}"));
    }
    if let Some(p) = &details.position {
        summary.push(format!("岗位：{p}"));
    }
    RoleView {
        id: r.id,
        kind_label: kind.map_or("其他", PersonRoleKind::label_zh),
        kind: r.kind,
        unit_name: r.unit_name,
        unit_county_code: r.unit_county_code,
        unit_id: r.unit_id,
        since: r.since,
        details,
        summary: summary.join("；"),
    }
}

// ---- duplicate registrations: the county's review queue ----

/// One side of a duplicate case as the reviewer may see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateFile {
    pub county_code: i64,
    pub id: i64,
    /// The name and home unit, when the file lies in the reviewer's people scope; null
    /// otherwise (a file in another county: ask that county, or the city).
    pub name: Option<String>,
    pub unit_name: Option<String>,
    /// The rest of what a reviewer compares, on a visible file only: gender, year of birth
    /// and age (never the full date), status, the numbers masked.
    pub gender_label: Option<&'static str>,
    pub birth_year: Option<i32>,
    pub age: Option<u32>,
    pub status_label: Option<&'static str>,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub visible: bool,
}

/// A registration whose ID number another file already held, routed to the county.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateCase {
    pub county_code: i64,
    pub id: i64,
    /// open, merged or rejected.
    pub status: String,
    pub status_label: &'static str,
    /// The new file: the registration under review.
    pub registration: DuplicateFile,
    /// The file that already held the number.
    pub existing: DuplicateFile,
    pub registered_by_name: String,
    pub registered_at: i64,
    pub resolved_by_name: Option<String>,
    pub resolved_at: Option<i64>,
    pub note: Option<String>,
    pub version: i64,
}

/// What a reviewer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DuplicateDecision {
    /// The same person: the new file is closed as 已并档, the existing file stands.
    Merge,
    /// A wrong or misused number: the new file is closed as 登记作废.
    Reject,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolveDuplicateInput {
    pub decision: DuplicateDecision,
    #[serde(default)]
    pub note: Option<String>,
    /// The case's version as read.
    pub version: i64,
}

/// One file of a duplicate row, before masking.
struct SideRow {
    name: String,
    path: String,
    unit: Option<String>,
    gender: String,
    birth_date: String,
    status: String,
    id_enc: Vec<u8>,
    phone_enc: Option<Vec<u8>>,
}

fn duplicate_status_label(s: &str) -> &'static str {
    match s {
        "open" => "待复核",
        "merged" => "已并档",
        "rejected" => "已驳回",
        _ => "未知",
    }
}

impl App {
    fn duplicate_case(&self, caller: &Caller, d: store_people::DuplicateRow) -> DuplicateCase {
        let view = caller.scope(Permission::ViewPeople);
        let today = self.clock().today();
        let side = |county_code: i64, id: i64, f: SideRow| {
            let visible = OrgPath::parse(&f.path).is_ok_and(|p| view.covers(&p));
            if !visible {
                return DuplicateFile {
                    county_code,
                    id,
                    name: None,
                    unit_name: None,
                    gender_label: None,
                    birth_year: None,
                    age: None,
                    status_label: None,
                    id_number_masked: None,
                    phone_masked: None,
                    visible,
                };
            }
            let (_, birth_year, age) = birth_view(&f.birth_date, false, today);
            DuplicateFile {
                county_code,
                id,
                name: Some(f.name),
                unit_name: f.unit,
                gender_label: Some(gender_label(&f.gender)),
                birth_year: Some(birth_year),
                age: Some(age),
                status_label: Some(status_label(&f.status)),
                id_number_masked: Some(self.mask_id(&f.id_enc)),
                phone_masked: self.mask_phone(f.phone_enc.as_deref()),
                visible,
            }
        };
        DuplicateCase {
            county_code: d.county_code,
            id: d.id,
            status_label: duplicate_status_label(&d.status),
            registration: side(
                d.county_code,
                d.person_id,
                SideRow {
                    name: d.person_name,
                    path: d.person_path,
                    unit: d.person_unit,
                    gender: d.person_gender,
                    birth_date: d.person_birth_date,
                    status: d.person_status,
                    id_enc: d.person_id_enc,
                    phone_enc: d.person_phone_enc,
                },
            ),
            existing: side(
                d.existing_county_code,
                d.existing_id,
                SideRow {
                    name: d.existing_name,
                    path: d.existing_path,
                    unit: d.existing_unit,
                    gender: d.existing_gender,
                    birth_date: d.existing_birth_date,
                    status: d.existing_status,
                    id_enc: d.existing_id_enc,
                    phone_enc: d.existing_phone_enc,
                },
            ),
            status: d.status,
            registered_by_name: d.registered_by_name,
            registered_at: d.registered_at,
            resolved_by_name: d.resolved_by_name,
            resolved_at: d.resolved_at,
            note: d.note,
            version: d.version,
        }
    }

    /// The county's review queue: registrations made in the caller's review scope whose ID
    /// number another file already held, open cases first. Nobody reviews their own.
    pub async fn list_duplicates(
        &self,
        caller: &Caller,
        status: Option<&str>,
        page: PageRequest,
    ) -> AppResult<Page<DuplicateCase>> {
        if !caller.may(Permission::ReviewDuplicates) {
            return Err(AppError::forbidden("您无权复核重复登记"));
        }
        let status = status.filter(|s| !s.is_empty());
        if let Some(s) = status
            && !matches!(s, "open" | "merged" | "rejected")
        {
            return Err(AppError::invalid(
                "invalid_status",
                "status",
                "状态参数不正确",
            ));
        }
        let (rows, total) = store_people::list_duplicates(
            &mut self.store().read(),
            &caller.scope(Permission::ReviewDuplicates),
            status,
            caller.account_id,
            page.per_page,
            page.offset(),
        )
        .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|d| self.duplicate_case(caller, d))
                .collect(),
            total,
            total_is_lower_bound: false,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// How many cases wait for the caller (0 for those who may not review).
    pub async fn open_duplicates(&self, caller: &Caller) -> AppResult<i64> {
        if !caller.may(Permission::ReviewDuplicates) {
            return Ok(0);
        }
        Ok(store_people::count_duplicates(
            &mut self.store().read(),
            &caller.scope(Permission::ReviewDuplicates),
            Some("open"),
            caller.account_id,
        )
        .await?)
    }

    /// Closes a case: merge (the same person; the new file becomes 已并档) or reject (the new
    /// file becomes 登记作废). Either way the new file gives up the number, and is closed to
    /// edits. Merging needs the existing file in the reviewer's people scope, so nobody
    /// declares two people one without seeing both.
    pub async fn resolve_duplicate(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: ResolveDuplicateInput,
    ) -> AppResult<()> {
        if !caller.may(Permission::ReviewDuplicates) {
            return Err(AppError::forbidden("您无权复核重复登记"));
        }
        let d = store_people::get_duplicate(&mut self.store().read(), county, id)
            .await?
            .filter(|d| {
                OrgPath::parse(&d.person_path)
                    .is_ok_and(|p| caller.scope(Permission::ReviewDuplicates).covers(&p))
            })
            .ok_or(AppError::NotFound {
                what: "重复登记"
            })?;
        if d.registered_by.is_some() && d.registered_by == caller.account_id {
            return Err(AppError::forbidden(
                "不能复核自己登记的档案，请由本县（市、区）其他管理员或市级管理员复核",
            ));
        }
        if d.status != "open" {
            return Err(AppError::conflict(
                "already_resolved",
                None,
                "该重复登记已经处理",
            ));
        }
        if d.version != input.version {
            return Err(AppError::conflict(
                "stale",
                None,
                "该记录已被他人修改，请刷新后重新填写",
            ));
        }
        let note = clean(input.note, TextKind::Lines, "note", "处理说明", 200)?;
        if input.decision == DuplicateDecision::Merge
            && !OrgPath::parse(&d.existing_path)
                .is_ok_and(|p| caller.scope(Permission::ViewPeople).covers(&p))
        {
            return Err(AppError::forbidden(
                "已有档案不在您的辖区内，无法核实是否同一人；请与该档案所在县（市、区）核实，或报市级管理员处理",
            ));
        }
        let (status, person_status, action) = match input.decision {
            DuplicateDecision::Merge => ("merged", PersonStatus::Merged, "person.duplicate_merge"),
            DuplicateDecision::Reject => {
                ("rejected", PersonStatus::Voided, "person.duplicate_reject")
            }
        };
        let tombstone = self
            .vault()
            .blind_index(Field::IdNumber, &format!("duplicate-case:{county}/{id}"));
        let mut tx = self.store().begin().await?;
        store_people::resolve_duplicate(
            &mut tx.exec(),
            &d,
            &store_people::DuplicateResolution {
                status,
                person_status: person_status.as_str(),
                resolved_by: caller.account_id,
                resolved_by_name: &caller.display_name,
                note: note.as_deref(),
                tombstone: &tombstone,
                now: self.now(),
            },
        )
        .await?;
        // The new file's status before and after, digested like any change to a file.
        let before = serde_json::json!({ "status": d.person_status });
        let after = serde_json::json!({ "status": person_status.as_str() });
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action,
                entity: "person",
                entity_key: format!("{}/{}", d.county_code, d.person_id),
                before: Some(&before),
                after: Some(&after),
                detail: Some(format!(
                    "case={county}/{id}; existing={}/{}",
                    d.existing_county_code, d.existing_id
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }
}
