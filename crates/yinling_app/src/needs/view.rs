//! What callers get back: a need as listed and shown, with its follow-ups.

use super::*;

/// A need as listed and shown.
#[derive(Debug, Clone, Serialize)]
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
pub struct FollowUpView {
    #[serde(flatten)]
    pub row: FollowupRow,
    pub from_label: &'static str,
    pub to_label: &'static str,
    pub changed: bool,
}

/// One need with its follow-ups and what the caller may do next.
#[derive(Debug, Clone, Serialize)]
pub struct NeedView {
    pub need: NeedItem,
    pub followups: Vec<FollowUpView>,
    pub can_follow_up: bool,
    /// The statuses a follow-up may move the need to.
    pub next_statuses: Vec<NeedStatus>,
}

pub(super) fn status_label(s: &str) -> &'static str {
    NeedStatus::parse(s).map_or("未知", NeedStatus::label_zh)
}
