//! What callers get back: a need as listed and shown, with its follow-ups.

use super::*;

/// A need as listed and shown.
#[derive(Debug, Clone, Serialize)]
pub struct NeedItem {
    pub county_code: CountyCode,
    pub id: NeedId,
    pub unit_id: UnitId,
    pub unit_name: Option<String>,
    pub person_id: Option<PersonId>,
    pub person_name: Option<String>,
    pub age: Option<u32>,
    pub household_id: Option<PlaceId>,
    pub household: Option<String>,
    pub category: String,
    pub category_label: String,
    pub description: String,
    pub urgency: Urgency,
    pub urgency_label: &'static str,
    pub source: NeedSource,
    pub source_label: &'static str,
    pub status: NeedStatus,
    pub status_label: &'static str,
    pub recorded_by_name: String,
    pub followup_count: i64,
    pub last_followup_at: Option<i64>,
    /// The service order this need became, once the orders module links it.
    pub order_id: Option<OrderId>,
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
