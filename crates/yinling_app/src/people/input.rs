//! What callers send: the people list's filters, a person, a role, a tag, which
//! sensitive field to reveal, and the "county/id" keys of links and filters.

use super::*;

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

/// What creating or changing a person takes. Gender and birth date come from the ID number.
#[derive(Debug, Clone, Deserialize, Serialize)]
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
pub struct TagInput {
    pub tag_id: TagId,
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

/// Parses "county/id" (as used in links and filters).
pub fn parse_key(s: &str) -> Option<(i64, i64)> {
    let (c, i) = s.split_once('/')?;
    Some((c.trim().parse().ok()?, i.trim().parse().ok()?))
}
