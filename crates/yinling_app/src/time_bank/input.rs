//! What callers send: a gift of hours, a payment's confirmation, a dispute and its decision.

use super::*;

/// Hours given to a family member.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct GiftInput {
    /// The household member receiving them.
    pub to: Key<PersonId>,
    pub minutes: i64,
    #[serde(default)]
    pub memo: Option<String>,
    pub idempotency_key: String,
}

/// Confirms a time-bank payment: the minutes the confirmation step showed.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PayHoursInput {
    pub minutes: i64,
}

/// A dispute of a time-bank charge (有异议).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DisputeInput {
    /// What is wrong, e.g. 服务时长不对 (2–200 characters).
    pub reason: String,
}

/// A staff decision on a dispute.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DisputeDecision {
    /// True: the dispute stands and the charge is reversed; false: the charge stands.
    pub uphold: bool,
    #[serde(default)]
    pub note: Option<String>,
}
