//! What callers send: a new order and a step in its life.

use super::*;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OrderInput {
    /// The service item (county, id).
    pub item_id: ServiceItemId,
    /// The resident the order is for. Omitted: the caller's own person file.
    #[serde(default)]
    pub person: Option<Key<PersonId>>,
    /// When the service is wanted, microseconds since the epoch (or use `wanted_at_text`).
    #[serde(default)]
    pub wanted_at: Option<i64>,
    /// When the service is wanted, "2026-07-02 12:00" in Beijing time.
    #[serde(default)]
    pub wanted_at_text: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub urgency: Option<Urgency>,
    #[serde(default)]
    pub address: Option<String>,
    /// The needs-ledger entry this order answers, if any.
    #[serde(default)]
    pub need_id: Option<NeedId>,
}

/// A step in an order's life, as sent by a form or the API.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OrderStep {
    /// Which provider the caller acts as, when they act for more than one (a volunteer who
    /// also leads a team).
    #[serde(default)]
    pub provider_id: Option<ProviderId>,
    #[serde(default)]
    pub note: Option<String>,
    /// Stars, 1–5 (rating).
    #[serde(default)]
    pub stars: Option<i64>,
    /// A stored photo's key (completion).
    #[serde(default)]
    pub photo_key: Option<String>,
}

/// Parses "2026-07-02 12:00" (also with a T, or seconds) as Beijing time.
pub fn parse_local_minutes(text: &str) -> Option<i64> {
    let t = text.trim().replace('T', " ");
    let naive = chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S"))
        .ok()?;
    let local = naive
        .and_local_timezone(yinling_domain::time::shanghai())
        .single()?;
    Some(local.timestamp_micros())
}
