//! What callers get back: a payment's charge and a dispute as staff see it.

use yinling_domain::region::CountyCode;

use super::*;

/// A time-bank payment for an order: what it takes (shown before it is taken), or took.
#[derive(Debug, Clone, Serialize)]
pub struct HoursCharge {
    pub county_code: CountyCode,
    pub order_id: OrderId,
    /// Whose hours: the resident who received the service.
    pub person_id: PersonId,
    pub item_name: String,
    /// Minutes the provider recorded between check-in and completion.
    pub recorded_minutes: i64,
    /// The service item's duration: the most a service is charged.
    pub cap_minutes: i64,
    /// What is charged: the recorded minutes, at most the item's duration.
    pub minutes: i64,
    /// The same in words: 1小时30分钟.
    pub minutes_text: String,
    /// The resident's time-bank balance, in minutes.
    pub balance: i64,
    pub balance_text: String,
    pub enough: bool,
    /// The charge, once paid.
    pub paid: Option<TransferRow>,
    /// A dispute of the charge, if one was raised.
    pub dispute: Option<HoursDisputeRow>,
}

/// A dispute as staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct HoursDisputeView {
    #[serde(flatten)]
    pub dispute: HoursDisputeRow,
    pub item_name: String,
    pub resident_name: String,
    pub minutes_text: String,
    pub status_label: &'static str,
    /// Whether the caller may decide it (open, and not their own).
    pub may_decide: bool,
}
