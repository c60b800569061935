//! The wire types of people, their duplicates and tags, mapped from the app's views and rows with `From` and
//! into the app's inputs; each keeps its published schema name (`#[schema(as = …)]`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yinling_app::{
    people::{
        DuplicateCase, DuplicateDecision, DuplicateFile, HouseholdMember, HouseholdRef, PersonFile,
        PersonInput, PersonListItem, ResolveDuplicateInput, RoleInput, RoleView, SensitiveField,
        TagInput, UnitRef,
    },
    people::{TagDefInput, TagUsage},
};
use yinling_domain::{
    ids::TagId,
    person::{PersonRoleKind, PersonStatus, RoleDetails},
};
use yinling_store::people::tags::{PersonTagRow, TagDefRow};

use crate::api::kernel::Micros;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = TagDefRow)]
pub struct TagDefResponse {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub archived: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl From<TagDefRow> for TagDefResponse {
    fn from(r: TagDefRow) -> Self {
        TagDefResponse {
            id: r.id.get(),
            code: r.code,
            name: r.name,
            category: r.category,
            description: r.description,
            archived: r.archived,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A tag with how many people in the caller's scope carry it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = TagUsage)]
pub struct TagUsageResponse {
    #[serde(flatten)]
    pub def: TagDefResponse,
    pub people: i64,
}

impl From<TagUsage> for TagUsageResponse {
    fn from(u: TagUsage) -> Self {
        TagUsageResponse {
            def: u.def.into(),
            people: u.people,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = TagDefInput)]
pub struct NewTag {
    pub code: String,
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub archived: bool,
}

/// A tag's new definition: the same body as a new tag (its code is kept).
pub type TagUpdate = NewTag;

impl From<NewTag> for TagDefInput {
    fn from(t: NewTag) -> Self {
        TagDefInput {
            code: t.code,
            name: t.name,
            category: t.category,
            description: t.description,
            archived: t.archived,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevealRequest {
    pub field: SensitiveField,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealResponse {
    pub field: SensitiveField,
    /// The full value; null when the person has none (no phone).
    pub value: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SkillsRequest {
    pub skills: Vec<String>,
}

/// A row of the people list as shown: sensitive fields masked.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PersonListItem)]
pub struct PersonListItemResponse {
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

impl From<PersonListItem> for PersonListItemResponse {
    fn from(v: PersonListItem) -> Self {
        PersonListItemResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            name: v.name,
            gender: v.gender.as_str().to_owned(),
            gender_label: v.gender_label,
            birth_date: v.birth_date,
            birth_year: v.birth_year,
            age: v.age,
            id_number_masked: v.id_number_masked,
            phone_masked: v.phone_masked,
            unit_name: v.unit_name,
            household: v.household,
            status: v.status.as_str().to_owned(),
            status_label: v.status_label,
        }
    }
}

/// What creating or changing a person takes. Gender and birth date come from the ID number.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PersonInput)]
pub struct NewPerson {
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

impl From<NewPerson> for PersonInput {
    fn from(v: NewPerson) -> Self {
        PersonInput {
            name: v.name,
            id_number: v.id_number,
            phone: v.phone,
            home_unit_county_code: v.home_unit_county_code,
            home_unit_id: v.home_unit_id,
            household_id: v.household_id,
            ethnicity: v.ethnicity,
            education: v.education,
            address: v.address,
            note: v.note,
            status: v.status,
            version: v.version,
        }
    }
}

/// A person's whole file as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PersonFile)]
pub struct PersonResponse {
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
    pub home_unit: UnitRefResponse,
    pub household: Option<HouseholdRefResponse>,
    pub roles: Vec<RoleResponse>,
    pub skills: Vec<String>,
    pub tags: Vec<PersonTagResponse>,
    pub can_edit: bool,
    pub can_reveal: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<PersonFile> for PersonResponse {
    fn from(v: PersonFile) -> Self {
        PersonResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            name: v.name,
            name_pinyin: v.name_pinyin,
            gender: v.gender.as_str().to_owned(),
            gender_label: v.gender_label,
            birth_date: v.birth_date,
            birth_year: v.birth_year,
            age: v.age,
            id_number_masked: v.id_number_masked,
            phone_masked: v.phone_masked,
            ethnicity: v.ethnicity,
            education: v.education,
            address: v.address,
            note: v.note,
            status: v.status.as_str().to_owned(),
            status_label: v.status_label,
            synthetic: v.synthetic,
            home_unit: v.home_unit.into(),
            household: v.household.map(Into::into),
            roles: v.roles.into_iter().map(Into::into).collect(),
            skills: v.skills,
            tags: v.tags.into_iter().map(Into::into).collect(),
            can_edit: v.can_edit,
            can_reveal: v.can_reveal,
            version: v.version,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HouseholdRef)]
pub struct HouseholdRefResponse {
    pub id: i64,
    pub label: String,
    pub address: Option<String>,
    /// Others in the household.
    pub members: Vec<HouseholdMemberResponse>,
}

impl From<HouseholdRef> for HouseholdRefResponse {
    fn from(v: HouseholdRef) -> Self {
        HouseholdRefResponse {
            id: v.id.get(),
            label: v.label,
            address: v.address,
            members: v.members.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HouseholdMember)]
pub struct HouseholdMemberResponse {
    pub id: i64,
    pub name: String,
}

impl From<HouseholdMember> for HouseholdMemberResponse {
    fn from(v: HouseholdMember) -> Self {
        HouseholdMemberResponse {
            id: v.id.get(),
            name: v.name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RoleView)]
pub struct RoleResponse {
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

impl From<RoleView> for RoleResponse {
    fn from(v: RoleView) -> Self {
        RoleResponse {
            id: v.id.get(),
            kind: v.kind.as_str().to_owned(),
            kind_label: v.kind_label,
            unit_name: v.unit_name,
            unit_county_code: v.unit_county_code.map(|c| c.as_i64()),
            unit_id: v.unit_id.map(|i| i.get()),
            since: v.since,
            details: v.details,
            summary: v.summary,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnitRef)]
pub struct UnitRefResponse {
    pub county_code: i64,
    pub id: i64,
    pub name: String,
    pub path: String,
}

impl From<UnitRef> for UnitRefResponse {
    fn from(v: UnitRef) -> Self {
        UnitRefResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            name: v.name,
            path: v.path,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PersonTagRow)]
pub struct PersonTagResponse {
    pub county_code: i64,
    pub id: i64,
    pub person_id: i64,
    pub tag_id: i64,
    pub tag_name: String,
    pub tag_category: String,
    pub source: String,
    pub source_ref: Option<String>,
    pub set_by: Option<i64>,
    pub set_by_name: Option<String>,
    pub set_at: Micros,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub note: Option<String>,
    pub revoked_at: Option<Micros>,
    pub revoked_by: Option<i64>,
}

impl From<PersonTagRow> for PersonTagResponse {
    fn from(v: PersonTagRow) -> Self {
        PersonTagResponse {
            county_code: v.county_code.as_i64(),
            id: v.id,
            person_id: v.person_id.get(),
            tag_id: v.tag_id.get(),
            tag_name: v.tag_name,
            tag_category: v.tag_category,
            source: v.source.as_str().to_owned(),
            source_ref: v.source_ref,
            set_by: v.set_by.map(|i| i.get()),
            set_by_name: v.set_by_name,
            set_at: v.set_at,
            valid_from: v.valid_from,
            valid_to: v.valid_to,
            note: v.note,
            revoked_at: v.revoked_at,
            revoked_by: v.revoked_by.map(|i| i.get()),
        }
    }
}

/// A role to add to a person.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = RoleInput)]
pub struct NewRole {
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

impl From<NewRole> for RoleInput {
    fn from(v: NewRole) -> Self {
        RoleInput {
            kind: v.kind,
            unit_county_code: v.unit_county_code,
            unit_id: v.unit_id,
            since: v.since,
            details: v.details,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = TagInput)]
pub struct NewPersonTag {
    pub tag_id: i64,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub note: Option<String>,
}

impl From<NewPersonTag> for TagInput {
    fn from(v: NewPersonTag) -> Self {
        TagInput {
            tag_id: TagId(v.tag_id),
            valid_from: v.valid_from,
            valid_to: v.valid_to,
            note: v.note,
        }
    }
}

/// A registration whose ID number another file already held, routed to the county.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DuplicateCase)]
pub struct DuplicateCaseResponse {
    pub county_code: i64,
    pub id: i64,
    /// open, merged or rejected.
    pub status: String,
    pub status_label: &'static str,
    /// The new file: the registration under review.
    pub registration: DuplicateFileResponse,
    /// The file that already held the number.
    pub existing: DuplicateFileResponse,
    pub registered_by_name: String,
    pub registered_at: i64,
    pub resolved_by_name: Option<String>,
    pub resolved_at: Option<i64>,
    pub note: Option<String>,
    pub version: i64,
}

impl From<DuplicateCase> for DuplicateCaseResponse {
    fn from(v: DuplicateCase) -> Self {
        DuplicateCaseResponse {
            county_code: v.county_code.as_i64(),
            id: v.id,
            status: v.status.as_str().to_owned(),
            status_label: v.status_label,
            registration: v.registration.into(),
            existing: v.existing.into(),
            registered_by_name: v.registered_by_name,
            registered_at: v.registered_at,
            resolved_by_name: v.resolved_by_name,
            resolved_at: v.resolved_at,
            note: v.note,
            version: v.version,
        }
    }
}

/// One side of a duplicate case as the reviewer may see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DuplicateFile)]
pub struct DuplicateFileResponse {
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

impl From<DuplicateFile> for DuplicateFileResponse {
    fn from(v: DuplicateFile) -> Self {
        DuplicateFileResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            name: v.name,
            unit_name: v.unit_name,
            gender_label: v.gender_label,
            birth_year: v.birth_year,
            age: v.age,
            status_label: v.status_label,
            id_number_masked: v.id_number_masked,
            phone_masked: v.phone_masked,
            visible: v.visible,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ResolveDuplicateInput)]
pub struct DuplicateDecisionRequest {
    pub decision: DuplicateDecision,
    #[serde(default)]
    pub note: Option<String>,
    /// The case's version as read.
    pub version: i64,
}

impl From<DuplicateDecisionRequest> for ResolveDuplicateInput {
    fn from(v: DuplicateDecisionRequest) -> Self {
        ResolveDuplicateInput {
            decision: v.decision,
            note: v.note,
            version: v.version,
        }
    }
}

/// A person's changed file: the same body as a new one, with the `version` read.
pub type PersonUpdate = NewPerson;
