//! The wire types of the needs ledger, mapped from the app's views and the store's rows with
//! `From` and into the app's inputs; each keeps its published schema name
//! (`#[schema(as = …)]`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yinling_app::needs::{
    FollowUpInput, FollowUpView, ImportProblem, NeedImportReport, NeedInput, NeedItem, NeedView,
};
use yinling_domain::{
    need::{NeedSource, NeedStatus},
    service::Urgency,
};
use yinling_store::needs::FollowupRow;

use crate::{api::kernel::Micros, kernel::error::ErrorBody};

fn default_urgency() -> Urgency {
    Urgency::Normal
}

fn default_source() -> NeedSource {
    NeedSource::DoorKnock
}

/// What a refused import answers: the report of every problem by row and column, or the
/// error envelope when the file itself cannot be read (empty, not a workbook, no header).
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documents the two shapes only
pub enum ImportRefused {
    Report(NeedImportReportResponse),
    Error(ErrorBody),
}

/// One need with its follow-ups and what the caller may do next.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeedView)]
pub struct NeedResponse {
    pub need: NeedItemResponse,
    pub followups: Vec<FollowUpResponse>,
    pub can_follow_up: bool,
    /// The statuses a follow-up may move the need to.
    pub next_statuses: Vec<NeedStatus>,
}

impl From<NeedView> for NeedResponse {
    fn from(v: NeedView) -> Self {
        NeedResponse {
            need: v.need.into(),
            followups: v.followups.into_iter().map(Into::into).collect(),
            can_follow_up: v.can_follow_up,
            next_statuses: v.next_statuses,
        }
    }
}

/// A need as listed and shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeedItem)]
pub struct NeedItemResponse {
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

impl From<NeedItem> for NeedItemResponse {
    fn from(v: NeedItem) -> Self {
        NeedItemResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            unit_id: v.unit_id.get(),
            unit_name: v.unit_name,
            person_id: v.person_id.map(i64::from),
            person_name: v.person_name,
            age: v.age,
            household_id: v.household_id.map(i64::from),
            household: v.household,
            category: v.category,
            category_label: v.category_label,
            description: v.description,
            urgency: v.urgency.as_str().to_owned(),
            urgency_label: v.urgency_label,
            source: v.source.as_str().to_owned(),
            source_label: v.source_label,
            status: v.status.as_str().to_owned(),
            status_label: v.status_label,
            recorded_by_name: v.recorded_by_name,
            followup_count: v.followup_count,
            last_followup_at: v.last_followup_at,
            order_id: v.order_id.map(i64::from),
            synthetic: v.synthetic,
            created_at: v.created_at,
            version: v.version,
        }
    }
}

/// A follow-up as shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FollowUpView)]
pub struct FollowUpResponse {
    #[serde(flatten)]
    pub row: FollowUpRowResponse,
    pub from_label: &'static str,
    pub to_label: &'static str,
    pub changed: bool,
}

impl From<FollowUpView> for FollowUpResponse {
    fn from(v: FollowUpView) -> Self {
        FollowUpResponse {
            row: v.row.into(),
            from_label: v.from_label,
            to_label: v.to_label,
            changed: v.changed,
        }
    }
}

/// One follow-up on a need.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FollowupRow)]
pub struct FollowUpRowResponse {
    pub seq: i64,
    pub at: Micros,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub note: String,
    pub from_status: String,
    pub to_status: String,
}

impl From<FollowupRow> for FollowUpRowResponse {
    fn from(v: FollowupRow) -> Self {
        FollowUpRowResponse {
            seq: v.seq,
            at: v.at,
            actor_id: v.actor_id.map(i64::from),
            actor_name: v.actor_name,
            note: v.note,
            from_status: v.from_status.as_str().to_owned(),
            to_status: v.to_status.as_str().to_owned(),
        }
    }
}

/// What an import did. Nothing is imported unless every row is valid.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeedImportReport)]
pub struct NeedImportReportResponse {
    /// Data rows read (blank rows skipped).
    pub rows: usize,
    /// Needs created: all rows, or none when any row has a problem.
    pub imported: usize,
    /// How many problems there were in all.
    pub problem_count: usize,
    /// The problems, in row order (at most 1,000 listed).
    pub problems: Vec<ImportProblemResponse>,
}

impl From<NeedImportReport> for NeedImportReportResponse {
    fn from(v: NeedImportReport) -> Self {
        NeedImportReportResponse {
            rows: v.rows,
            imported: v.imported,
            problem_count: v.problem_count,
            problems: v.problems.into_iter().map(Into::into).collect(),
        }
    }
}

/// One problem in an uploaded ledger.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ImportProblem)]
pub struct ImportProblemResponse {
    /// The row number as Excel shows it.
    pub row: u32,
    /// The column's heading, e.g. 身份证号码.
    pub column: String,
    pub message: String,
}

impl From<ImportProblem> for ImportProblemResponse {
    fn from(v: ImportProblem) -> Self {
        ImportProblemResponse {
            row: v.row,
            column: v.column,
            message: v.message,
        }
    }
}

/// What recording a need takes. Give a person, a household, or both; the unit defaults to
/// the person's home unit (or the household's).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NeedInput)]
pub struct NewNeed {
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

impl From<NewNeed> for NeedInput {
    fn from(v: NewNeed) -> Self {
        NeedInput {
            county_code: v.county_code,
            person_id: v.person_id,
            household_id: v.household_id,
            unit_id: v.unit_id,
            category: v.category,
            description: v.description,
            urgency: v.urgency,
            source: v.source,
        }
    }
}

/// A follow-up: what was done, and optionally the new status.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = FollowUpInput)]
pub struct NewFollowUp {
    pub note: String,
    /// The new status; omitted keeps the current one.
    #[serde(default)]
    pub status: Option<NeedStatus>,
    /// The version read, so two people following up at once are detected; omitted takes
    /// the current one.
    #[serde(default)]
    pub version: Option<i64>,
}

impl From<NewFollowUp> for FollowUpInput {
    fn from(v: NewFollowUp) -> Self {
        FollowUpInput {
            note: v.note,
            status: v.status,
            version: v.version,
        }
    }
}
