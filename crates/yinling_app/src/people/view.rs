//! What callers get back: list rows and the person file, masked as the caller may see them.

use super::*;

/// A row of the people list as shown: sensitive fields masked.
#[derive(Debug, Clone, Serialize)]
pub struct PersonListItem {
    pub county_code: CountyCode,
    pub id: PersonId,
    pub name: String,
    pub gender: Gender,
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
    pub status: PersonStatus,
    pub status_label: &'static str,
}

/// A person's whole file as the caller may see it.
#[derive(Debug, Clone, Serialize)]
pub struct PersonFile {
    pub county_code: CountyCode,
    pub id: PersonId,
    pub name: String,
    pub name_pinyin: String,
    pub gender: Gender,
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
    pub status: PersonStatus,
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
pub struct UnitRef {
    pub county_code: CountyCode,
    pub id: UnitId,
    pub name: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HouseholdRef {
    pub id: PlaceId,
    pub label: String,
    pub address: Option<String>,
    /// Others in the household.
    pub members: Vec<HouseholdMember>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HouseholdMember {
    pub id: PersonId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleView {
    pub id: PersonRoleId,
    pub kind: PersonRoleKind,
    pub kind_label: &'static str,
    pub unit_name: Option<String>,
    pub unit_county_code: Option<CountyCode>,
    pub unit_id: Option<UnitId>,
    pub since: Option<String>,
    pub details: RoleDetails,
    /// A readable summary ("1976年7月入党，党龄50年").
    pub summary: String,
}

/// A member of a unit's roster as the caller may see them.
#[derive(Debug, Clone, Serialize)]
pub struct RosterItem {
    pub county_code: CountyCode,
    pub person_id: PersonId,
    pub name: String,
    pub gender: Gender,
    /// The full birth date, only for a caller who may reveal this person's numbers.
    pub birth_date: Option<String>,
    pub birth_year: i32,
    pub age: u32,
    pub kind: PersonRoleKind,
    pub unit_name: Option<String>,
    pub details: String,
}

/// A birth date as the caller may see it: the full date only when `full`, always the year
/// and the age today.
pub(super) fn birth_view(
    birth_date: &str,
    full: bool,
    today: NaiveDate,
) -> (Option<String>, i32, u32) {
    let date = parse_date(birth_date);
    (
        full.then(|| birth_date.to_owned()),
        date.map_or(0, |d| d.year()),
        date.map_or(0, |b| age_on(b, today)),
    )
}

pub(super) fn role_view(r: RoleRow, today: NaiveDate) -> RoleView {
    let details: RoleDetails = serde_json::from_str(&r.details).unwrap_or_default();
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
        kind_label: r.kind.label_zh(),
        kind: r.kind,
        unit_name: r.unit_name,
        unit_county_code: r.unit_county_code,
        unit_id: r.unit_id,
        since: r.since,
        details,
        summary: summary.join("；"),
    }
}
