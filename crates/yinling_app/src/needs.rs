//! The needs ledger (需求清单 / 需求台账, 鱼台's 敲门问需): grid workers record what a person
//! or household needs, follow it up until it is resolved or closed, and keep the ledger in
//! Excel — exported masked and audited, imported all-or-nothing with a report of every bad
//! cell, so a corrected file can simply be uploaded again.

use std::collections::HashMap;

use chrono::NaiveDate;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde::{Deserialize, Serialize};
use yinling_domain::{
    id_number::{IdNumber, age_on},
    need::{self as rules, NeedSource, NeedStatus, parse_urgency_any},
    org::{OrgKind, OrgPath},
    role::Permission,
    scope::Scope,
    service::Urgency,
};
use yinling_store::{
    audit as store_audit,
    ids::{self, Seq},
    needs::{self as store_needs, FollowupRow, NeedFilter, NeedRow, NewFollowup, NewNeed},
    org as store_org, people as store_people, places as store_places,
};

use crate::{
    App, AppError, AppResult, CITY_COUNTY_CODE, Caller, Page, PageRequest, audit::Event,
    categories::Category, people::parse_key, vault::Field,
};

/// Uploads larger than this are refused before they are opened.
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// Data rows one import may hold.
pub const MAX_IMPORT_ROWS: usize = 5_000;
/// Problems listed in one report; the count says how many there were in all.
pub const MAX_REPORTED_PROBLEMS: usize = 1_000;
/// More rows than this are refused by the export: narrow the filter instead.
pub const MAX_EXPORT_ROWS: i64 = 100_000;

/// Filters for the ledger. All optional; combined with AND.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct NeedQuery {
    /// Only needs recorded under this unit's subtree: "county/id".
    pub unit: Option<String>,
    /// A category code (`meals`, or one an administrator added).
    pub category: Option<String>,
    /// `open`, `following`, `resolved` or `closed`.
    pub status: Option<String>,
    /// `low`, `normal`, `high` or `urgent`.
    pub urgency: Option<String>,
    /// `door_knock`, `forum`, `survey` or `online`.
    pub source: Option<String>,
    /// The person's age, at least (needs of a household only have no age).
    pub age_min: Option<u32>,
    /// The person's age, at most.
    pub age_max: Option<u32>,
    /// Needs of one person: "county/id".
    pub person: Option<String>,
}

/// What recording a need takes. Give a person, a household, or both; the unit defaults to
/// the person's home unit (or the household's).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NeedInput {
    pub county_code: i64,
    #[serde(default)]
    pub person_id: Option<i64>,
    #[serde(default)]
    pub household_id: Option<i64>,
    /// The community, grid or compound the need is recorded under.
    #[serde(default)]
    pub unit_id: Option<i64>,
    /// A category code from `GET /api/v1/categories` or the built-in list (`meals`).
    pub category: String,
    pub description: String,
    #[serde(default = "default_urgency")]
    pub urgency: Urgency,
    #[serde(default = "default_source")]
    pub source: NeedSource,
}

fn default_urgency() -> Urgency {
    Urgency::Normal
}

fn default_source() -> NeedSource {
    NeedSource::DoorKnock
}

/// A follow-up: what was done, and optionally the new status.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUpInput {
    pub note: String,
    /// The new status; omitted keeps the current one.
    #[serde(default)]
    pub status: Option<NeedStatus>,
    /// The version read, so two people following up at once are detected; omitted takes
    /// the current one.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A need as listed and shown.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NeedItem {
    pub county_code: i64,
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: Option<String>,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub age: Option<u32>,
    pub household_id: Option<i64>,
    pub household: Option<String>,
    pub category: String,
    pub category_label: String,
    pub description: String,
    pub urgency: String,
    pub urgency_label: &'static str,
    pub source: String,
    pub source_label: &'static str,
    pub status: String,
    pub status_label: &'static str,
    pub recorded_by_name: String,
    pub followup_count: i64,
    pub last_followup_at: Option<i64>,
    /// The service order this need became, once the orders module links it.
    pub order_id: Option<i64>,
    pub synthetic: bool,
    pub created_at: i64,
    pub version: i64,
}

/// A follow-up as shown.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUpView {
    #[serde(flatten)]
    pub row: FollowupRow,
    pub from_label: &'static str,
    pub to_label: &'static str,
    pub changed: bool,
}

/// One need with its follow-ups and what the caller may do next.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NeedView {
    pub need: NeedItem,
    pub followups: Vec<FollowUpView>,
    pub can_follow_up: bool,
    /// The statuses a follow-up may move the need to.
    pub next_statuses: Vec<NeedStatus>,
}

/// One problem in an uploaded ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportProblem {
    /// The row number as Excel shows it.
    pub row: u32,
    /// The column's heading, e.g. 身份证号码.
    pub column: String,
    pub message: String,
}

/// What an import did. Nothing is imported unless every row is valid.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NeedImportReport {
    /// Data rows read (blank rows skipped).
    pub rows: usize,
    /// Needs created: all rows, or none when any row has a problem.
    pub imported: usize,
    /// How many problems there were in all.
    pub problem_count: usize,
    /// The problems, in row order (at most 1,000 listed).
    pub problems: Vec<ImportProblem>,
}

impl NeedImportReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The columns of the import template, in order; the first three are required.
pub const IMPORT_COLUMNS: [&str; 5] = ["身份证号码", "类别", "需求内容", "紧急程度", "来源"];

fn status_label(s: &str) -> &'static str {
    NeedStatus::parse(s).map_or("未知", NeedStatus::label_zh)
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn path_of(s: &str) -> AppResult<OrgPath> {
    OrgPath::parse(s).map_err(|e| AppError::Internal(e.to_string()))
}

fn xerr(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {e}"))
}

/// The same calendar day `n` years earlier (29 February falls back to the 28th).
fn years_before(today: NaiveDate, n: u32) -> NaiveDate {
    use chrono::Datelike;
    let year = today.year() - n as i32;
    today
        .with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, today.month(), 28))
        .unwrap_or(today)
}

impl App {
    /// The categories of each county seen, looked up once per county.
    async fn category_labels(
        &self,
        cache: &mut HashMap<i64, Vec<Category>>,
        county: i64,
        code: &str,
    ) -> AppResult<String> {
        if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(county) {
            e.insert(self.categories(county).await?);
        }
        Ok(cache
            .get(&county)
            .and_then(|cs| cs.iter().find(|c| c.code == code))
            .map_or_else(|| code.to_owned(), |c| c.label.clone()))
    }

    async fn need_item(
        &self,
        r: NeedRow,
        cache: &mut HashMap<i64, Vec<Category>>,
    ) -> AppResult<NeedItem> {
        let today = self.clock().today();
        Ok(NeedItem {
            category_label: self
                .category_labels(cache, r.county_code, &r.category)
                .await?,
            age: r
                .person_birth_date
                .as_deref()
                .and_then(parse_date)
                .map(|b| age_on(b, today)),
            urgency_label: Urgency::parse(&r.urgency).map_or("未知", Urgency::label_zh),
            source_label: NeedSource::parse(&r.source).map_or("未知", NeedSource::label_zh),
            status_label: status_label(&r.status),
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
    async fn needs_scope(
        &self,
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
                let unit = store_org::get(&mut self.store().read(), c, i)
                    .await?
                    .ok_or(AppError::NotFound { what: "组织" })?;
                Ok(scope.narrow_to(&path_of(&unit.path)?))
            }
        }
    }

    fn need_filter(&self, q: &NeedQuery) -> AppResult<NeedFilter> {
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let status = nonempty(&q.status);
        if status
            .as_deref()
            .is_some_and(|s| NeedStatus::parse(s).is_none())
        {
            return Err(AppError::invalid(
                "invalid_status",
                "status",
                "状态参数不正确",
            ));
        }
        let urgency = nonempty(&q.urgency);
        if urgency
            .as_deref()
            .is_some_and(|s| Urgency::parse(s).is_none())
        {
            return Err(AppError::invalid(
                "invalid_urgency",
                "urgency",
                "紧急程度参数不正确",
            ));
        }
        let source = nonempty(&q.source);
        if source
            .as_deref()
            .is_some_and(|s| NeedSource::parse(s).is_none())
        {
            return Err(AppError::invalid(
                "invalid_source",
                "source",
                "来源参数不正确",
            ));
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
        let person = match nonempty(&q.person) {
            Some(p) => Some(parse_key(&p).ok_or_else(|| {
                AppError::invalid("invalid_person", "person", "人员参数格式不正确")
            })?),
            None => None,
        };
        let today = self.clock().today();
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
    pub async fn list_needs(
        &self,
        caller: &Caller,
        q: &NeedQuery,
        page: PageRequest,
    ) -> AppResult<Page<NeedItem>> {
        if !caller.may(Permission::ViewServices) {
            return Err(AppError::forbidden("您无权查看需求台账"));
        }
        let scope = self
            .needs_scope(caller, Permission::ViewServices, q.unit.as_deref())
            .await?;
        let filter = self.need_filter(q)?;
        let (rows, total) = store_needs::list(
            &mut self.store().read(),
            &scope,
            &filter,
            page.per_page,
            page.offset(),
        )
        .await?;
        let mut cache = HashMap::new();
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            items.push(self.need_item(r, &mut cache).await?);
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
    pub async fn need_status_counts(&self, caller: &Caller) -> AppResult<Vec<(NeedStatus, i64)>> {
        let counts = store_needs::count_by_status(
            &mut self.store().read(),
            &caller.scope(Permission::ViewServices),
        )
        .await?;
        Ok(NeedStatus::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    counts
                        .iter()
                        .find(|(c, _)| c == s.as_str())
                        .map_or(0, |(_, n)| *n),
                )
            })
            .collect())
    }

    /// Loads a need visible to the caller; NotFound otherwise, so a need out of scope looks
    /// exactly like a missing one.
    async fn need_in_scope(&self, caller: &Caller, county: i64, id: i64) -> AppResult<NeedRow> {
        let row = store_needs::get(&mut self.store().read(), county, id)
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
    pub async fn need_detail(&self, caller: &Caller, county: i64, id: i64) -> AppResult<NeedView> {
        let row = self.need_in_scope(caller, county, id).await?;
        let can_follow_up = caller
            .scope(Permission::Dispatch)
            .covers(&path_of(&row.path)?);
        let status = NeedStatus::parse(&row.status);
        let next_statuses = match status {
            Some(s) if can_follow_up => NeedStatus::ALL
                .iter()
                .copied()
                .filter(|t| s.can_change_to(*t))
                .collect(),
            _ => Vec::new(),
        };
        let followups = store_needs::followups_of(&mut self.store().read(), county, id)
            .await?
            .into_iter()
            .map(|f| FollowUpView {
                from_label: status_label(&f.from_status),
                to_label: status_label(&f.to_status),
                changed: f.from_status != f.to_status,
                row: f,
            })
            .collect();
        let mut cache = HashMap::new();
        Ok(NeedView {
            need: self.need_item(row, &mut cache).await?,
            followups,
            can_follow_up: can_follow_up && status != Some(NeedStatus::Closed),
            next_statuses,
        })
    }

    /// Records a need for a person or household in the caller's scope.
    pub async fn record_need(&self, caller: &Caller, input: NeedInput) -> AppResult<(i64, i64)> {
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
        let description = rules::clean_description(&input.description)
            .map_err(|e| AppError::invalid(e.code(), "description", e.to_string()))?;
        let category = self
            .category(county, input.category.trim(), "category")
            .await?;
        let scope = caller.scope(Permission::Dispatch);
        let mut exec = self.store().read();
        let person = match input.person_id {
            Some(pid) => {
                let p = store_people::get(&mut exec, county, pid)
                    .await?
                    .filter(|p| path_of(&p.path).is_ok_and(|path| scope.covers(&path)))
                    .ok_or(AppError::NotFound { what: "人员" })?;
                Some(p)
            }
            None => None,
        };
        let household = match input.household_id {
            Some(hid) => {
                let h = store_places::get(&mut exec, county, hid)
                    .await?
                    .filter(|h| h.kind == "household")
                    .filter(|h| path_of(&h.path).is_ok_and(|path| scope.covers(&path)))
                    .ok_or(AppError::NotFound { what: "住户" })?;
                Some(h)
            }
            None => None,
        };
        if let (Some(p), Some(h)) = (&person, &household)
            && p.household_id != Some(h.id)
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
                let unit = store_org::get(&mut exec, county, uid)
                    .await?
                    .ok_or(AppError::NotFound { what: "组织" })?;
                let path = path_of(&unit.path)?;
                if !scope.covers(&path) {
                    return Err(AppError::NotFound { what: "组织" });
                }
                if !OrgKind::parse(&unit.kind).is_some_and(OrgKind::is_home) {
                    return Err(AppError::invalid(
                        "not_an_area",
                        "unit_id",
                        "需求须登记在社区、村、小区、网格或党员中心户下",
                    ));
                }
                (unit.id, path)
            }
            None => match (&person, &household) {
                (Some(p), _) => (p.home_unit_id, path_of(&p.path)?),
                (None, Some(h)) => (h.unit_id, path_of(&h.path)?),
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
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let id = ids::next(&mut tx.exec(), Seq::Needs).await?;
        let new = NewNeed {
            county_code: county,
            id,
            path: unit_path.to_string(),
            unit_id,
            person_id: person.as_ref().map(|p| p.id),
            household_id: household
                .as_ref()
                .map(|h| h.id)
                .or_else(|| person.as_ref().and_then(|p| p.household_id)),
            category: category.code.clone(),
            description,
            urgency: input.urgency.as_str().to_owned(),
            source: input.source.as_str().to_owned(),
            status: NeedStatus::Open.as_str().to_owned(),
            recorded_by: caller.account_id,
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
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "need.create",
                entity: "need",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(&after),
                detail: Some(new.category.clone()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok((county, id))
    }

    /// Records a follow-up on a need, changing its status if asked and allowed.
    pub async fn follow_up_need(
        &self,
        caller: &Caller,
        county: i64,
        id: i64,
        input: FollowUpInput,
    ) -> AppResult<NeedStatus> {
        let row = self.need_in_scope(caller, county, id).await?;
        if !caller
            .scope(Permission::Dispatch)
            .covers(&path_of(&row.path)?)
        {
            return Err(AppError::forbidden("您无权跟进该需求"));
        }
        let note = rules::clean_note(&input.note)
            .map_err(|e| AppError::invalid(e.code(), "note", e.to_string()))?;
        let from = NeedStatus::parse(&row.status)
            .ok_or_else(|| AppError::Internal(format!("need status {}", row.status)))?;
        let to = rules::follow_up(from, input.status)
            .map_err(|e| AppError::invalid(e.code(), "status", e.to_string()))?;
        let version = input.version.unwrap_or(row.version);
        let now = self.now();
        let mut tx = self.store().begin().await?;
        store_needs::follow_up(
            &mut tx.exec(),
            version,
            &NewFollowup {
                county_code: county,
                need_id: id,
                at: now,
                actor_id: caller.account_id,
                actor_name: caller.display_name.clone(),
                note: note.clone(),
                from_status: from.as_str().to_owned(),
                to_status: to.as_str().to_owned(),
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
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "need.follow_up",
                entity: "need",
                entity_key: format!("{county}/{id}"),
                before: Some(&before),
                after: Some(&after),
                detail: Some(format!("{}->{}", from.as_str(), to.as_str())),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(to)
    }

    fn masked_id(&self, enc: Option<&[u8]>) -> String {
        enc.map(|enc| match self.vault().open(Field::IdNumber, enc) {
            Ok(clear) => self.settings().privacy.id_number_mask.apply(&clear),
            Err(_) => "（无法解密）".into(),
        })
        .unwrap_or_default()
    }

    fn masked_phone(&self, enc: Option<&[u8]>) -> String {
        enc.map(|enc| match self.vault().open(Field::Phone, enc) {
            Ok(clear) => self.settings().privacy.phone_mask.apply(&clear),
            Err(_) => "（无法解密）".into(),
        })
        .unwrap_or_default()
    }

    /// The ledger as an .xlsx workbook: ID numbers and phones masked; the export is audited.
    pub async fn export_needs_xlsx(&self, caller: &Caller, q: &NeedQuery) -> AppResult<Vec<u8>> {
        if !caller.may(Permission::Export) || !caller.may(Permission::ViewServices) {
            return Err(AppError::forbidden("您无权导出需求台账"));
        }
        let scope = self
            .needs_scope(caller, Permission::Export, q.unit.as_deref())
            .await?;
        let filter = self.need_filter(q)?;
        let rows = store_needs::export_rows(
            &mut self.store().read(),
            &scope,
            &filter,
            MAX_EXPORT_ROWS + 1,
        )
        .await?;
        if rows.len() as i64 > MAX_EXPORT_ROWS {
            return Err(AppError::invalid(
                "export_too_large",
                "unit",
                format!("导出结果超过{MAX_EXPORT_ROWS}条，请缩小范围后再导出"),
            ));
        }
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("需求台账").map_err(xerr)?;
        let title = Format::new().set_bold().set_font_size(14);
        let head = Format::new()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_background_color("#DDEBF7");
        let wrap = Format::new().set_text_wrap();
        sheet
            .write_string_with_format(0, 0, "需求台账", &title)
            .map_err(xerr)?;
        sheet
            .write_string(
                1,
                0,
                format!(
                    "导出人：{}　导出时间：{}　共{}条　身份证号码、手机号码已按规定脱敏",
                    caller.display_name,
                    yinling_domain::time::format_minutes(self.now()),
                    rows.len()
                ),
            )
            .map_err(xerr)?;
        let headers = [
            "序号",
            "需求编号",
            "登记时间",
            "所属组织",
            "住户",
            "姓名",
            "年龄",
            "身份证号码",
            "手机号码",
            "类别",
            "需求内容",
            "紧急程度",
            "来源",
            "状态",
            "跟进次数",
            "最近跟进",
            "登记人",
        ];
        for (c, h) in headers.iter().enumerate() {
            sheet
                .write_string_with_format(3, c as u16, *h, &head)
                .map_err(xerr)?;
        }
        let mut cache = HashMap::new();
        let n = rows.len();
        for (i, r) in rows.into_iter().enumerate() {
            let row = 4 + i as u32;
            let id_masked = self.masked_id(r.person_id_enc.as_deref());
            let phone_masked = self.masked_phone(r.person_phone_enc.as_deref());
            let item = self.need_item(r, &mut cache).await?;
            sheet.write_number(row, 0, (i + 1) as f64).map_err(xerr)?;
            sheet
                .write_string(row, 1, format!("{}-{}", item.county_code, item.id))
                .map_err(xerr)?;
            sheet
                .write_string(
                    row,
                    2,
                    yinling_domain::time::format_minutes(item.created_at),
                )
                .map_err(xerr)?;
            sheet
                .write_string(row, 3, item.unit_name.as_deref().unwrap_or(""))
                .map_err(xerr)?;
            sheet
                .write_string(row, 4, item.household.as_deref().unwrap_or(""))
                .map_err(xerr)?;
            sheet
                .write_string(row, 5, item.person_name.as_deref().unwrap_or(""))
                .map_err(xerr)?;
            if let Some(age) = item.age {
                sheet.write_number(row, 6, f64::from(age)).map_err(xerr)?;
            }
            sheet.write_string(row, 7, &id_masked).map_err(xerr)?;
            sheet.write_string(row, 8, &phone_masked).map_err(xerr)?;
            sheet
                .write_string(row, 9, &item.category_label)
                .map_err(xerr)?;
            sheet
                .write_string_with_format(row, 10, &item.description, &wrap)
                .map_err(xerr)?;
            sheet
                .write_string(row, 11, item.urgency_label)
                .map_err(xerr)?;
            sheet
                .write_string(row, 12, item.source_label)
                .map_err(xerr)?;
            sheet
                .write_string(row, 13, item.status_label)
                .map_err(xerr)?;
            sheet
                .write_number(row, 14, item.followup_count as f64)
                .map_err(xerr)?;
            sheet
                .write_string(
                    row,
                    15,
                    item.last_followup_at
                        .map(yinling_domain::time::format_minutes)
                        .unwrap_or_default(),
                )
                .map_err(xerr)?;
            sheet
                .write_string(row, 16, &item.recorded_by_name)
                .map_err(xerr)?;
        }
        for (c, w) in [
            6.0, 14.0, 17.0, 22.0, 14.0, 10.0, 6.0, 22.0, 14.0, 10.0, 40.0, 8.0, 10.0, 8.0, 8.0,
            17.0, 10.0,
        ]
        .iter()
        .enumerate()
        {
            sheet.set_column_width(c as u16, *w).map_err(xerr)?;
        }
        sheet.set_freeze_panes(4, 0).map_err(xerr)?;
        let bytes = wb.save_to_buffer().map_err(xerr)?;

        let county = scope
            .ranges()
            .first()
            .and_then(|r| r.single_county())
            .unwrap_or(0);
        let mut tx = self.store().begin().await?;
        let event = self.audit_event(
            caller,
            Event {
                county_code: county,
                action: "need.export",
                entity: "need",
                entity_key: "list".into(),
                before: None,
                after: None,
                detail: Some(format!(
                    "rows={n}; query={}",
                    serde_json::to_string(q).unwrap_or_default()
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(bytes)
    }

    /// An empty ledger to fill in and import, with one example row and the allowed values.
    pub async fn need_import_template(&self, caller: &Caller) -> AppResult<Vec<u8>> {
        if !caller.may(Permission::Dispatch) {
            return Err(AppError::forbidden("您无权导入需求"));
        }
        let county = caller
            .scope(Permission::Dispatch)
            .ranges()
            .first()
            .and_then(|r| r.single_county())
            .unwrap_or(CITY_COUNTY_CODE);
        let categories = self.categories(county).await?;
        let mut wb = Workbook::new();
        let head = Format::new()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_background_color("#DDEBF7");
        let text = Format::new().set_num_format("@");
        let sheet = wb.add_worksheet();
        sheet.set_name("需求台账").map_err(xerr)?;
        for (c, h) in IMPORT_COLUMNS.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, *h, &head)
                .map_err(xerr)?;
        }
        // The ID column is text so Excel keeps all 18 digits.
        sheet
            .set_column_format(0, &text)
            .map_err(xerr)?
            .set_column_width(0, 22.0)
            .map_err(xerr)?
            .set_column_width(1, 12.0)
            .map_err(xerr)?
            .set_column_width(2, 48.0)
            .map_err(xerr)?
            .set_column_width(3, 10.0)
            .map_err(xerr)?
            .set_column_width(4, 10.0)
            .map_err(xerr)?;
        let example = [
            "370830194403151238",
            "助餐",
            "独居，腿脚不便，希望每天中午有人送餐（示例行，导入前请删除）",
            "较急",
            "敲门问需",
        ];
        for (c, v) in example.iter().enumerate() {
            sheet.write_string(1, c as u16, *v).map_err(xerr)?;
        }
        let help = wb.add_worksheet();
        help.set_name("填写说明").map_err(xerr)?;
        let lines = [
            "每行一条需求。前三列必填：身份证号码（提出需求的人员，须已登记且在您的辖区内）、类别、需求内容。".to_owned(),
            "身份证号码请以文本格式填写，保留全部18位。".to_owned(),
            format!(
                "类别可填：{}",
                categories
                    .iter()
                    .map(|c| c.label.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            format!(
                "紧急程度可填：{}（不填为“一般”）",
                Urgency::ALL.iter().map(|u| u.label_zh()).collect::<Vec<_>>().join("、")
            ),
            format!(
                "来源可填：{}（不填为“敲门问需”）",
                NeedSource::ALL.iter().map(|s| s.label_zh()).collect::<Vec<_>>().join("、")
            ),
            format!("需求内容最多{}个字。每次最多导入{MAX_IMPORT_ROWS}行，文件不超过5MB。", rules::DESCRIPTION_MAX),
            "只要有一行有误，整个文件都不会导入；请按提示改正后重新上传整个文件，不会重复导入。".to_owned(),
        ];
        for (i, l) in lines.iter().enumerate() {
            help.write_string(i as u32, 0, l).map_err(xerr)?;
        }
        help.set_column_width(0, 100.0).map_err(xerr)?;
        wb.save_to_buffer().map_err(xerr)
    }

    /// Imports needs from an .xlsx ledger: every row is checked first; if any row has a
    /// problem nothing is imported and the report lists each problem with its row and
    /// column, so the corrected file can be uploaded again without creating duplicates.
    pub async fn import_needs_xlsx(
        &self,
        caller: &Caller,
        bytes: &[u8],
    ) -> AppResult<NeedImportReport> {
        if !caller.may(Permission::Dispatch) {
            return Err(AppError::forbidden("您无权导入需求"));
        }
        if bytes.is_empty() {
            return Err(AppError::invalid(
                "file_required",
                "file",
                "请选择要导入的Excel文件",
            ));
        }
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(AppError::invalid(
                "file_too_large",
                "file",
                "文件超过5MB，请分成几个文件分别导入",
            ));
        }
        let rows = read_sheet(bytes)?;
        let (header_at, columns) = find_header(&rows)?;
        let data: Vec<(u32, &Vec<String>)> = rows
            .iter()
            .enumerate()
            .skip(header_at + 1)
            .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
            .map(|(i, r)| (i as u32 + 1, r))
            .collect();
        if data.is_empty() {
            return Err(AppError::invalid(
                "file_empty",
                "file",
                "文件中没有需求数据：请在表头下方逐行填写",
            ));
        }
        if data.len() > MAX_IMPORT_ROWS {
            return Err(AppError::invalid(
                "too_many_rows",
                "file",
                format!(
                    "文件有{}行数据，每次最多导入{MAX_IMPORT_ROWS}行，请分成几个文件",
                    data.len()
                ),
            ));
        }
        // A row names its person by full ID number: like an exact search, it may match only
        // where the caller may also reveal numbers, or the import would test numbers.
        let scope = caller
            .scope(Permission::Dispatch)
            .intersect(&self.reveal_scope_of(caller));
        let today = self.clock().today();
        let mut problems = Vec::new();
        let mut valid: Vec<NewNeed> = Vec::new();
        let mut seen: HashMap<(i64, i64, String, String), u32> = HashMap::new();
        let mut cat_cache: HashMap<i64, Vec<Category>> = HashMap::new();
        let mut exec = self.store().read();
        let now = self.now();
        for (row_no, cells) in &data {
            let row_no = *row_no;
            let cell = |col: usize| {
                columns[col]
                    .and_then(|i| cells.get(i))
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_default()
            };
            let mut problem = |col: usize, message: String| {
                problems.push(ImportProblem {
                    row: row_no,
                    column: IMPORT_COLUMNS[col].to_owned(),
                    message,
                });
            };
            // 身份证号码 → the person, in the caller's scope.
            let id_text = cell(0);
            let person = if id_text.is_empty() {
                problem(0, "请填写身份证号码".into());
                None
            } else {
                match IdNumber::parse_at(&id_text, today) {
                    Err(_) if id_text.contains(['E', 'e', '.']) => {
                        problem(
                            0,
                            "身份证号码被Excel当成了数字，请把该列设为文本格式后重新填写".into(),
                        );
                        None
                    }
                    Err(e) => {
                        problem(0, e.to_string());
                        None
                    }
                    Ok(idn) => {
                        let bidx = self.vault().blind_index(Field::IdNumber, idn.as_str());
                        let found = store_people::holders_of_id_bidx(
                            &mut exec,
                            CITY_COUNTY_CODE,
                            CITY_COUNTY_CODE + 99,
                            &bidx,
                        )
                        .await?
                        .into_iter()
                        .find(|p| path_of(&p.path).is_ok_and(|path| scope.covers(&path)));
                        if found.is_none() {
                            problem(
                                0,
                                "未找到该身份证号码对应的人员，或该人员不在您的辖区内".into(),
                            );
                        }
                        found
                    }
                }
            };
            let county = person.as_ref().map_or(CITY_COUNTY_CODE, |p| p.county_code);
            // 类别: label or code.
            let cat_text = cell(1);
            if let std::collections::hash_map::Entry::Vacant(e) = cat_cache.entry(county) {
                e.insert(self.categories(county).await?);
            }
            let cats = cat_cache
                .get(&county)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let category = if cat_text.is_empty() {
                problem(1, "请填写类别".into());
                None
            } else {
                let found = cats
                    .iter()
                    .find(|c| c.label == cat_text || c.code == cat_text)
                    .map(|c| c.code.clone());
                if found.is_none() {
                    problem(
                        1,
                        format!(
                            "没有“{cat_text}”这个类别，可填：{}",
                            cats.iter()
                                .map(|c| c.label.as_str())
                                .collect::<Vec<_>>()
                                .join("、")
                        ),
                    );
                }
                found
            };
            let description = match rules::clean_description(&cell(2)) {
                Ok(d) => Some(d),
                Err(e) => {
                    problem(2, e.to_string());
                    None
                }
            };
            let urgency_text = cell(3);
            let urgency = if urgency_text.is_empty() {
                Some(Urgency::Normal)
            } else {
                let u = parse_urgency_any(&urgency_text);
                if u.is_none() {
                    problem(3, "紧急程度须填：不急、一般、较急或紧急".into());
                }
                u
            };
            let source_text = cell(4);
            let source = if source_text.is_empty() {
                Some(NeedSource::DoorKnock)
            } else {
                let s = NeedSource::parse_any(&source_text);
                if s.is_none() {
                    problem(4, "来源须填：敲门问需、座谈、问卷或线上".into());
                }
                s
            };
            let (Some(p), Some(category), Some(description), Some(urgency), Some(source)) =
                (person, category, description, urgency, source)
            else {
                continue;
            };
            let key = (p.county_code, p.id, category.clone(), description.clone());
            if let Some(first) = seen.get(&key) {
                problem(2, format!("与第{first}行重复（同一人员、类别和内容）"));
                continue;
            }
            seen.insert(key, row_no);
            valid.push(NewNeed {
                county_code: p.county_code,
                id: 0,
                path: p.path.clone(),
                unit_id: p.home_unit_id,
                person_id: Some(p.id),
                household_id: p.household_id,
                category,
                description,
                urgency: urgency.as_str().to_owned(),
                source: source.as_str().to_owned(),
                status: NeedStatus::Open.as_str().to_owned(),
                recorded_by: caller.account_id,
                recorded_by_name: caller.display_name.clone(),
                synthetic: false,
                now,
            });
        }
        let rows_read = data.len();
        if !problems.is_empty() {
            let problem_count = problems.len();
            problems.truncate(MAX_REPORTED_PROBLEMS);
            return Ok(NeedImportReport {
                rows: rows_read,
                imported: 0,
                problem_count,
                problems,
            });
        }
        let mut tx = self.store().begin().await?;
        let new_ids = ids::allocate(&mut tx.exec(), Seq::Needs, valid.len()).await?;
        for (n, id) in valid.iter_mut().zip(&new_ids) {
            n.id = *id;
        }
        store_needs::insert_many(&mut tx.exec(), &valid).await?;
        let mut by_county: HashMap<i64, Vec<i64>> = HashMap::new();
        for n in &valid {
            by_county.entry(n.county_code).or_default().push(n.id);
        }
        let mut events = Vec::new();
        let mut counties: Vec<_> = by_county.into_iter().collect();
        counties.sort();
        for (county, ids_here) in counties {
            let after = serde_json::json!(ids_here);
            events.push(self.audit_event(
                caller,
                Event {
                    county_code: county,
                    action: "need.import",
                    entity: "need",
                    entity_key: "import".into(),
                    before: None,
                    after: Some(&after),
                    detail: Some(format!(
                        "rows={}; ids={}..{}",
                        ids_here.len(),
                        ids_here.first().copied().unwrap_or_default(),
                        ids_here.last().copied().unwrap_or_default()
                    )),
                },
            ));
        }
        store_audit::append(&mut tx.exec(), &events).await?;
        tx.commit().await?;
        Ok(NeedImportReport {
            rows: rows_read,
            imported: valid.len(),
            problem_count: 0,
            problems: Vec::new(),
        })
    }

    /// Creates about `per_county` synthetic door-knock needs (marked synthetic) in each of
    /// `counties` (the demo uses 汶上 370830 and 鱼台 370827), for residents who live in a
    /// household, some already followed up, resolved or closed. Deterministic for a seed.
    /// Returns how many needs were created. Counties without synthetic residents are skipped.
    pub async fn seed_demo_needs(
        &self,
        counties: &[i64],
        per_county: usize,
        seed: u64,
    ) -> AppResult<usize> {
        let system = Caller::system("demo");
        let mut rng = StdRng::seed_from_u64(seed ^ 0x6e65_6564);
        let mut created = 0;
        for &county in counties {
            let mut residents = store_needs::synthetic_residents(
                &mut self.store().read(),
                county,
                (per_county as i64).saturating_mul(4).max(1),
            )
            .await?;
            residents.shuffle(&mut rng);
            residents.truncate(per_county);
            if residents.is_empty() {
                continue;
            }
            let now = self.now();
            let mut tx = self.store().begin().await?;
            let new_ids = ids::allocate(&mut tx.exec(), Seq::Needs, residents.len()).await?;
            let mut needs = Vec::with_capacity(residents.len());
            let mut plans = Vec::with_capacity(residents.len());
            for (r, id) in residents.iter().zip(&new_ids) {
                let (category, texts) = DEMO_NEEDS[rng.gen_range(0..DEMO_NEEDS.len())];
                let description = texts[rng.gen_range(0..texts.len())];
                let urgency = match rng.gen_range(0..10) {
                    0..=1 => Urgency::Low,
                    2..=6 => Urgency::Normal,
                    7..=8 => Urgency::High,
                    _ => Urgency::Urgent,
                };
                let source = match rng.gen_range(0..10) {
                    0..=5 => NeedSource::DoorKnock,
                    6..=7 => NeedSource::Forum,
                    8 => NeedSource::Survey,
                    _ => NeedSource::Online,
                };
                let days_ago = rng.gen_range(0..90_i64);
                let at = now - days_ago * 86_400_000_000 - rng.gen_range(0..36_000_000_000_i64);
                needs.push(NewNeed {
                    county_code: county,
                    id: *id,
                    path: r.path.clone(),
                    unit_id: r.unit_id,
                    person_id: Some(r.person_id),
                    household_id: Some(r.household_id),
                    category: category.to_owned(),
                    description: description.to_owned(),
                    urgency: urgency.as_str().to_owned(),
                    source: source.as_str().to_owned(),
                    status: NeedStatus::Open.as_str().to_owned(),
                    recorded_by: None,
                    recorded_by_name: "网格员（演示）".into(),
                    synthetic: true,
                    now: at,
                });
                // Older needs are further along.
                let steps: &[(NeedStatus, &str)] = match (days_ago, rng.gen_range(0..10)) {
                    (0..=6, _) => &[],
                    (_, 0..=2) => &[(NeedStatus::Following, "已电话联系本人，约定上门时间")],
                    (_, 3..=7) => &[
                        (NeedStatus::Following, "已上门了解详细情况，转社区协调"),
                        (NeedStatus::Resolved, "已落实，回访本人表示满意"),
                    ],
                    (_, 8) => &[(NeedStatus::Closed, "经核实已由家属解决，本人同意关闭")],
                    _ => &[],
                };
                plans.push((*id, at, steps));
            }
            store_needs::insert_many(&mut tx.exec(), &needs).await?;
            for (id, at, steps) in plans {
                let mut from = NeedStatus::Open;
                for (i, (to, note)) in steps.iter().enumerate() {
                    store_needs::follow_up(
                        &mut tx.exec(),
                        1 + i as i64,
                        &NewFollowup {
                            county_code: county,
                            need_id: id,
                            at: at + (i as i64 + 1) * 2 * 86_400_000_000,
                            actor_id: None,
                            actor_name: "网格员（演示）".into(),
                            note: (*note).to_owned(),
                            from_status: from.as_str().to_owned(),
                            to_status: to.as_str().to_owned(),
                        },
                    )
                    .await?;
                    from = *to;
                }
            }
            let event = self.audit_event(
                &system,
                Event {
                    county_code: county,
                    action: "need.demo",
                    entity: "need",
                    entity_key: "demo".into(),
                    before: None,
                    after: None,
                    detail: Some(format!("synthetic rows={}", needs.len())),
                },
            );
            store_audit::append(&mut tx.exec(), &[event]).await?;
            tx.commit().await?;
            created += needs.len();
        }
        Ok(created)
    }
}

/// Synthetic door-knock needs by category (鱼台's high-frequency needs first).
const DEMO_NEEDS: [(&str, &[&str]); 7] = [
    (
        "elder_care",
        &[
            "独居老人，希望每周有人上门看看，陪着说说话",
            "老伴住院，家中无人照料，需要临时照护",
            "行动不便，想申请居家养老上门服务",
        ],
    ),
    (
        "mediation",
        &[
            "楼上漏水渗到自家，与邻居多次沟通未果，请求调解",
            "与邻居因楼道堆放杂物发生争执",
            "兄弟间因老人赡养问题有矛盾，希望社区出面说和",
        ],
    ),
    (
        "environment",
        &[
            "小区路灯坏了一个多月，晚上出行不安全",
            "楼下垃圾桶满溢无人清运，气味很大",
            "单元门口下水道堵塞，雨天积水",
        ],
    ),
    (
        "meals",
        &[
            "独居，腿脚不便，希望中午有人送餐",
            "老两口做饭困难，想到社区助餐点吃饭",
        ],
    ),
    (
        "childcare",
        &[
            "孩子父母外出务工，放学后无人照看，希望参加四点半课堂",
            "暑假期间孩子无人看管，希望有托管服务",
        ],
    ),
    (
        "medical_escort",
        &[
            "需要定期去县医院复查，子女不在身边，希望有人陪诊",
            "不会使用手机预约挂号，需要帮助",
        ],
    ),
    (
        "policy",
        &[
            "想了解高龄津贴的申请条件和办理流程",
            "咨询城乡居民医保缴费和报销政策",
            "咨询老旧小区加装电梯的补贴政策",
        ],
    ),
];

/// Reads the first worksheet of an .xlsx file as text cells.
fn read_sheet(bytes: &[u8]) -> AppResult<Vec<Vec<String>>> {
    use calamine::{Data, Reader, Xlsx};
    let unreadable = || {
        AppError::invalid(
            "not_xlsx",
            "file",
            "无法读取该文件，请上传Excel（.xlsx）格式的需求台账，可先下载导入模板",
        )
    };
    let mut wb: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).map_err(|_| unreadable())?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(unreadable)?
        .map_err(|_| unreadable())?;
    // Rows are numbered as Excel shows them: the range may start below row 1.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut out: Vec<Vec<String>> = vec![Vec::new(); first_row as usize];
    for r in range.rows() {
        let mut row = vec![String::new(); first_col as usize];
        row.extend(r.iter().map(|c| match c {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            // A long number Excel has stored as a float (an ID number typed without the
            // text format) reads like 3.7083e17 and is refused as such.
            Data::Float(f) => format!("{f:E}"),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => b.to_string(),
            other => other.to_string(),
        }));
        out.push(row);
    }
    Ok(out)
}

/// Finds the header row (within the first ten) and where each template column is.
fn find_header(rows: &[Vec<String>]) -> AppResult<(usize, [Option<usize>; 5])> {
    for (i, row) in rows.iter().enumerate().take(10) {
        let mut cols = [None; 5];
        for (c, name) in IMPORT_COLUMNS.iter().enumerate() {
            cols[c] = row.iter().position(|h| h.trim() == *name);
        }
        if cols.iter().take(3).all(Option::is_some) {
            return Ok((i, cols));
        }
        if cols.iter().any(Option::is_some) {
            let missing: Vec<&str> = IMPORT_COLUMNS
                .iter()
                .take(3)
                .zip(cols)
                .filter(|(_, c)| c.is_none())
                .map(|(n, _)| *n)
                .collect();
            return Err(AppError::invalid(
                "missing_column",
                "file",
                format!("表头缺少“{}”列，请使用导入模板", missing.join("”“")),
            ));
        }
    }
    Err(AppError::invalid(
        "missing_header",
        "file",
        "没有找到表头（身份证号码、类别、需求内容…），请使用导入模板",
    ))
}
