//! The rows of people, their roles, the roster and duplicate cases.

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PersonRow {
    pub county_code: CountyCode,
    pub id: PersonId,
    pub path: String,
    pub home_unit_id: UnitId,
    pub household_id: Option<PlaceId>,
    pub name: String,
    pub name_initials: String,
    pub name_pinyin: String,
    pub gender: Gender,
    pub birth_date: String,
    #[serde(skip)]
    pub id_enc: Vec<u8>,
    #[serde(skip)]
    pub phone_enc: Option<Vec<u8>>,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub address: Option<String>,
    pub status: PersonStatus,
    pub note: Option<String>,
    pub synthetic: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
}

pub(super) const COLUMNS: &str = "p.county_code, p.id, p.path, p.home_unit_id, p.household_id, p.name, \
     p.name_initials, p.name_pinyin, p.gender, p.birth_date, p.id_enc, p.phone_enc, p.ethnicity, \
     p.education, p.address, p.status, p.note, p.synthetic, p.created_at, p.updated_at, p.version";

/// A person to insert, with sensitive fields already sealed and blind-indexed.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub county_code: CountyCode,
    pub id: PersonId,
    pub path: String,
    pub home_unit_id: UnitId,
    pub household_id: Option<PlaceId>,
    pub name: String,
    pub name_initials: String,
    pub name_pinyin: String,
    pub gender: Gender,
    pub birth_date: String,
    pub id_enc: Vec<u8>,
    pub id_bidx: Vec<u8>,
    pub id4_bidx: Vec<u8>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_bidx: Option<Vec<u8>>,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub address: Option<String>,
    pub status: PersonStatus,
    pub note: Option<String>,
    pub synthetic: bool,
    pub now: Micros,
}

/// What a search can match on. A name matches as a prefix (张 finds 张三丰); see
/// [`SearchTerm::Letters`] for initials and pinyin; the blind indexes match whole.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchTerm {
    Name(String),
    /// Pinyin initials ("zsf") or full pinyin ("zhangsanfeng"), both tried. Initials and a
    /// short pinyin must match whole; a pinyin of five letters or more may be a prefix
    /// ("zhangsan"). A prefix as short as "li" would match a tenth of the city.
    Letters(String),
    IdLast4Bidx(Vec<u8>),
    IdBidx(Vec<u8>),
    PhoneBidx(Vec<u8>),
}

#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    pub term: Option<SearchTerm>,
    pub status: Option<PersonStatus>,
    pub role_kind: Option<PersonRoleKind>,
    pub tag_id: Option<TagId>,
    pub gender: Option<Gender>,
    /// Born on or before this date ("age at least").
    pub born_on_or_before: Option<String>,
    /// Born on or after this date ("age at most").
    pub born_on_or_after: Option<String>,
}

/// A row of the people list, with the home unit's name.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PersonListRow {
    pub county_code: CountyCode,
    pub id: PersonId,
    pub path: String,
    pub name: String,
    pub gender: Gender,
    pub birth_date: String,
    #[serde(skip)]
    pub id_enc: Vec<u8>,
    #[serde(skip)]
    pub phone_enc: Option<Vec<u8>>,
    pub status: PersonStatus,
    pub unit_name: Option<String>,
    pub household_label: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PersonUpdate {
    pub name: String,
    pub name_initials: String,
    pub name_pinyin: String,
    pub gender: Gender,
    pub birth_date: String,
    pub id_enc: Vec<u8>,
    pub id_bidx: Vec<u8>,
    pub id4_bidx: Vec<u8>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_bidx: Option<Vec<u8>>,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub address: Option<String>,
    pub status: PersonStatus,
    pub note: Option<String>,
    pub household_id: Option<PlaceId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RoleRow {
    pub county_code: CountyCode,
    pub id: PersonRoleId,
    pub person_id: PersonId,
    pub kind: PersonRoleKind,
    pub unit_county_code: Option<CountyCode>,
    pub unit_id: Option<UnitId>,
    pub path: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub details: String,
    pub unit_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewRole {
    pub county_code: CountyCode,
    pub id: PersonRoleId,
    pub person_id: PersonId,
    pub kind: PersonRoleKind,
    pub unit_county_code: Option<CountyCode>,
    pub unit_id: Option<UnitId>,
    pub path: Option<String>,
    pub since: Option<String>,
    pub details: String,
    pub now: Micros,
}

/// A unit's roster: people holding a role in units of `scope`, with the role.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RosterRow {
    pub county_code: CountyCode,
    pub person_id: PersonId,
    /// Where the person lives (whether the caller may see the full birth date).
    pub path: String,
    pub name: String,
    pub gender: Gender,
    pub birth_date: String,
    pub kind: PersonRoleKind,
    pub unit_name: Option<String>,
    pub details: String,
}

/// A registration whose ID number another file already held, for the county to review.
#[derive(Debug, Clone)]
pub struct NewDuplicate {
    pub county_code: CountyCode,
    pub id: i64,
    pub person_id: PersonId,
    pub existing_county_code: CountyCode,
    pub existing_id: PersonId,
    pub id_bidx: Vec<u8>,
    pub registered_by: Option<AccountId>,
    pub registered_by_name: String,
    pub registered_at: Micros,
}

/// A case with both files' names and places, for the county's review list.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DuplicateRow {
    pub county_code: CountyCode,
    pub id: i64,
    pub person_id: PersonId,
    pub person_name: String,
    pub person_path: String,
    pub person_unit: Option<String>,
    pub existing_county_code: CountyCode,
    pub existing_id: PersonId,
    pub existing_name: String,
    pub existing_path: String,
    pub existing_unit: Option<String>,
    /// What the review page shows of each file, masked by the caller: gender, birth date,
    /// status, the sealed numbers.
    pub person_gender: Gender,
    pub person_birth_date: String,
    pub person_status: PersonStatus,
    #[serde(skip)]
    pub person_id_enc: Vec<u8>,
    #[serde(skip)]
    pub person_phone_enc: Option<Vec<u8>>,
    pub existing_gender: Gender,
    pub existing_birth_date: String,
    pub existing_status: PersonStatus,
    #[serde(skip)]
    pub existing_id_enc: Vec<u8>,
    #[serde(skip)]
    pub existing_phone_enc: Option<Vec<u8>>,
    #[serde(skip)]
    pub id_bidx: Vec<u8>,
    pub registered_by: Option<AccountId>,
    pub registered_by_name: String,
    pub registered_at: Micros,
    pub status: DuplicateStatus,
    pub resolved_by_name: Option<String>,
    pub resolved_at: Option<Micros>,
    pub note: Option<String>,
    pub version: i64,
}

pub(super) const DUPLICATE_SELECT: &str =
    "SELECT d.county_code, d.id, d.person_id, p.name AS person_name,
        p.path AS person_path, pu.name AS person_unit, d.existing_county_code, d.existing_id,
        e.name AS existing_name, e.path AS existing_path, eu.name AS existing_unit,
        p.gender AS person_gender, p.birth_date AS person_birth_date, p.status AS person_status,
        p.id_enc AS person_id_enc, p.phone_enc AS person_phone_enc,
        e.gender AS existing_gender, e.birth_date AS existing_birth_date,
        e.status AS existing_status, e.id_enc AS existing_id_enc,
        e.phone_enc AS existing_phone_enc, d.id_bidx,
        d.registered_by, d.registered_by_name, d.registered_at, d.status, d.resolved_by_name,
        d.resolved_at, d.note, d.version
   FROM person_duplicates d
   JOIN people p ON p.county_code = d.county_code AND p.id = d.person_id
   JOIN people e ON e.county_code = d.existing_county_code AND e.id = d.existing_id
   LEFT JOIN org_units pu ON pu.county_code = p.county_code AND pu.id = p.home_unit_id
   LEFT JOIN org_units eu ON eu.county_code = e.county_code AND eu.id = e.home_unit_id";

/// What closing a case writes.
#[derive(Debug, Clone)]
pub struct DuplicateResolution<'a> {
    /// `merged` or `rejected`.
    pub status: DuplicateStatus,
    /// What the new file becomes (`merged`, `voided`).
    pub person_status: PersonStatus,
    pub resolved_by: Option<AccountId>,
    pub resolved_by_name: &'a str,
    pub note: Option<&'a str>,
    /// Replaces the number's blind index on the new file, if it still holds it, so the file
    /// no longer counts as a holder of the number.
    pub tombstone: &'a [u8],
    pub now: Micros,
}
