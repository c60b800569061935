//! What callers get back: an order with names and labels, and its detail page.

use super::*;

/// An order as callers see it: the row plus names and labels.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    #[serde(flatten)]
    pub order: OrderRow,
    pub state_label: &'static str,
    pub urgency_label: &'static str,
    pub item_name: String,
    pub resident_name: String,
    pub provider_name: Option<String>,
    /// 2026-07-02 12:00 (Shanghai).
    pub wanted_at_text: String,
    pub sla_due_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub view: OrderView,
    pub events: Vec<OrderEventRow>,
    pub offers: Vec<OfferRow>,
    /// What the caller may do next, by action code (`accept`, `rate` …).
    pub actions: Vec<&'static str>,
}
