//! Duplicate registrations: the county's review queue.

use super::*;
use crate::kernel::text::{Bounded, LinesKind, ReadField};

// ---- duplicate registrations: the county's review queue ----

/// One side of a duplicate case as the reviewer may see it.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateFile {
    pub county_code: CountyCode,
    pub id: PersonId,
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
pub struct DuplicateCase {
    pub county_code: CountyCode,
    pub id: i64,
    pub status: DuplicateStatus,
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
pub struct ResolveDuplicateInput {
    pub decision: DuplicateDecision,
    #[serde(default)]
    pub note: Option<String>,
    /// The case's version as read.
    pub version: i64,
}

/// One file of a duplicate row, before masking.
pub(super) struct SideRow {
    name: String,
    path: String,
    unit: Option<String>,
    gender: Gender,
    birth_date: String,
    status: PersonStatus,
    id_enc: Vec<u8>,
    phone_enc: Option<Vec<u8>>,
}

impl People<'_> {
    pub(super) fn duplicate_case(
        self,
        caller: &Caller,
        d: store_people::DuplicateRow,
    ) -> DuplicateCase {
        let view = caller.scope(Permission::ViewPeople);
        let today = self.app.clock().today();
        let side = |county_code: CountyCode, id: PersonId, f: SideRow| {
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
                gender_label: Some(f.gender.label_zh()),
                birth_year: Some(birth_year),
                age: Some(age),
                status_label: Some(f.status.label_zh()),
                id_number_masked: Some(self.mask_id(&f.id_enc)),
                phone_masked: self.mask_phone(f.phone_enc.as_deref()),
                visible,
            }
        };
        DuplicateCase {
            county_code: d.county_code,
            id: d.id,
            status_label: d.status.label_zh(),
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
    #[tracing::instrument(name = "people.duplicates", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn duplicates(
        self,
        caller: &Caller,
        status: Option<&str>,
        page: PageRequest,
    ) -> AppResult<Page<DuplicateCase>> {
        if !caller.may(Permission::ReviewDuplicates) {
            return Err(AppError::forbidden("您无权复核重复登记"));
        }
        let status = status
            .filter(|s| !s.is_empty())
            .map(|s| {
                DuplicateStatus::parse(s)
                    .ok_or_else(|| AppError::invalid("invalid_status", "status", "状态参数不正确"))
            })
            .transpose()?;
        let (rows, total) = store_people::list_duplicates(
            &mut self.app.store().read(),
            &caller.scope(Permission::ReviewDuplicates),
            status,
            caller.account_id.map(AccountId),
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
    #[tracing::instrument(name = "people.open_duplicates", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn open_duplicates(self, caller: &Caller) -> AppResult<i64> {
        if !caller.may(Permission::ReviewDuplicates) {
            return Ok(0);
        }
        Ok(store_people::count_duplicates(
            &mut self.app.store().read(),
            &caller.scope(Permission::ReviewDuplicates),
            Some(DuplicateStatus::Open),
            caller.account_id.map(AccountId),
        )
        .await?)
    }

    /// Closes a case: merge (the same person; the new file becomes 已并档) or reject (the new
    /// file becomes 登记作废). Either way the new file gives up the number, and is closed to
    /// edits. Merging needs the existing file in the reviewer's people scope, so nobody
    /// declares two people one without seeing both.
    #[tracing::instrument(name = "people.resolve_duplicate", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = county.as_i64(), id = id))]
    pub async fn resolve_duplicate(
        self,
        caller: &Caller,
        county: CountyCode,
        id: i64,
        input: ResolveDuplicateInput,
    ) -> AppResult<()> {
        if !caller.may(Permission::ReviewDuplicates) {
            return Err(AppError::forbidden("您无权复核重复登记"));
        }
        let d = store_people::get_duplicate(&mut self.app.store().read(), county, id)
            .await?
            .filter(|d| {
                OrgPath::parse(&d.person_path)
                    .is_ok_and(|p| caller.scope(Permission::ReviewDuplicates).covers(&p))
            })
            .ok_or(AppError::NotFound {
                what: "重复登记"
            })?;
        if d.registered_by.is_some() && d.registered_by == caller.account_id.map(AccountId) {
            return Err(AppError::forbidden(
                "不能复核自己登记的档案，请由本县（市、区）其他管理员或市级管理员复核",
            ));
        }
        if !d.status.is_open() {
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
        let note =
            Bounded::<LinesKind, 1, 200>::read_opt(input.note.as_deref(), "note", "处理说明")?
                .map(String::from);
        if input.decision == DuplicateDecision::Merge
            && !OrgPath::parse(&d.existing_path)
                .is_ok_and(|p| caller.scope(Permission::ViewPeople).covers(&p))
        {
            return Err(AppError::forbidden(
                "已有档案不在您的辖区内，无法核实是否同一人；请与该档案所在县（市、区）核实，或报市级管理员处理",
            ));
        }
        let (status, person_status, action) = match input.decision {
            DuplicateDecision::Merge => (
                DuplicateStatus::Merged,
                PersonStatus::Merged,
                "person.duplicate_merge",
            ),
            DuplicateDecision::Reject => (
                DuplicateStatus::Rejected,
                PersonStatus::Voided,
                "person.duplicate_reject",
            ),
        };
        let tombstone = self
            .app
            .vault()
            .blind_index(Field::IdNumber, &format!("duplicate-case:{county}/{id}"));
        let mut tx = self.app.store().begin().await?;
        store_people::resolve_duplicate(
            &mut tx.exec(),
            &d,
            &store_people::DuplicateResolution {
                status,
                person_status,
                resolved_by: caller.account_id.map(AccountId),
                resolved_by_name: &caller.display_name,
                note: note.as_deref(),
                tombstone: &tombstone,
                now: self.app.now(),
            },
        )
        .await?;
        // The new file's status before and after, digested like any change to a file.
        let before = serde_json::json!({ "status": d.person_status });
        let after = serde_json::json!({ "status": person_status.as_str() });
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county.as_i64(),
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
