//! The rows of orders, their events, offers, entitlements, photos and disputes.

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OrderRow {
    pub county_code: CountyCode,
    pub id: OrderId,
    pub path: String,
    pub unit_id: UnitId,
    pub person_id: PersonId,
    pub item_id: ServiceItemId,
    pub category: String,
    pub description: Option<String>,
    pub urgency: Urgency,
    pub wanted_at: Micros,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub placed_by: Option<AccountId>,
    pub placed_by_name: String,
    pub proxy: bool,
    pub state: OrderState,
    pub provider_id: Option<ProviderId>,
    pub served_by: Option<PersonId>,
    pub escalation_level: i64,
    pub escalated_to: Option<String>,
    pub sla_due_at: Micros,
    pub accepted_at: Option<Micros>,
    pub checked_in_at: Option<Micros>,
    pub completed_at: Option<Micros>,
    pub service_minutes: Option<i64>,
    pub completion_note: Option<String>,
    pub photo_key: Option<String>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub cancel_reason: Option<String>,
    pub need_id: Option<NeedId>,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
}

pub(super) const COLUMNS: &str = "county_code, id, path, unit_id, person_id, item_id, category, description, urgency, \
     wanted_at, address, lat, lng, placed_by, placed_by_name, proxy, state, provider_id, served_by, \
     escalation_level, escalated_to, sla_due_at, accepted_at, checked_in_at, completed_at, \
     service_minutes, completion_note, photo_key, rating, rating_comment, cancel_reason, need_id, \
     created_at, updated_at, version";

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub county_code: CountyCode,
    pub id: OrderId,
    pub path: String,
    pub unit_id: UnitId,
    pub person_id: PersonId,
    pub item_id: ServiceItemId,
    pub category: String,
    pub description: Option<String>,
    pub urgency: Urgency,
    pub wanted_at: Micros,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub placed_by: Option<AccountId>,
    pub placed_by_name: String,
    pub proxy: bool,
    pub sla_due_at: Micros,
    pub need_id: Option<NeedId>,
    pub synthetic: bool,
    pub now: Micros,
}

/// What a state change writes beside the state. `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub provider_id: Option<Option<ProviderId>>,
    pub served_by: Option<Option<PersonId>>,
    pub escalation: Option<(i64, Option<String>, Micros)>,
    pub accepted_at: Option<Micros>,
    pub checked_in_at: Option<Micros>,
    pub completed: Option<(Micros, i64, Option<String>, Option<String>)>,
    pub rating: Option<(i64, Option<String>)>,
    pub cancel_reason: Option<String>,
}

/// The order a transition expects to find: which one, at which version, in which states.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    pub key: Key<OrderId>,
    pub version: i64,
    pub states: &'a [OrderState],
}

/// One recorded transition.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OrderEventRow {
    pub seq: i64,
    pub at: Micros,
    pub actor_id: Option<AccountId>,
    pub actor_name: String,
    pub action: OrderAction,
    pub from_state: OrderState,
    pub to_state: OrderState,
    pub provider_id: Option<ProviderId>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewOrderEvent {
    pub county_code: CountyCode,
    pub order_id: OrderId,
    pub at: Micros,
    pub actor_id: Option<AccountId>,
    pub actor_name: String,
    pub action: OrderAction,
    pub from_state: OrderState,
    pub to_state: OrderState,
    pub provider_id: Option<ProviderId>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OfferRow {
    pub provider_id: ProviderId,
    pub status: OfferStatus,
    pub offered_at: Micros,
}

/// Filters for the staff order list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub states: Vec<OrderState>,
    pub category: Option<String>,
    /// Only orders escalated to a unit in this subtree.
    pub escalated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EntitlementRow {
    pub county_code: i64,
    pub id: i64,
    pub source_kind: String,
    pub source_id: i64,
    pub person_id: i64,
    pub points: i64,
    pub hours_minutes: i64,
    pub status: String,
    pub created_at: Micros,
}

/// A provider's capacity and current load (open offers plus orders accepted or in service),
/// read under the provider's row lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ProviderLoad {
    pub id: ProviderId,
    pub capacity: i64,
    pub active: bool,
    pub load: i64,
}

/// A completion photo as uploaded (see migration 0009).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PhotoRow {
    pub county_code: CountyCode,
    pub photo_key: String,
    pub order_id: OrderId,
    pub uploaded_by: Option<AccountId>,
    pub uploaded_at: Micros,
    pub attached_at: Option<Micros>,
}

pub(super) const PHOTO_COLUMNS: &str =
    "county_code, photo_key, order_id, uploaded_by, uploaded_at, attached_at";

/// A resident's objection to the time-bank charge for an order (有异议).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct HoursDisputeRow {
    pub county_code: CountyCode,
    pub order_id: OrderId,
    /// The charge disputed (a ledger transfer).
    pub transfer_id: TransferId,
    pub person_id: PersonId,
    pub minutes: i64,
    pub reason: String,
    pub status: HoursDisputeStatus,
    pub raised_by: Option<AccountId>,
    pub raised_by_name: String,
    pub raised_at: Micros,
    pub decided_by: Option<AccountId>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Micros>,
    pub decision_note: Option<String>,
    /// The reversing transfer, when upheld.
    pub reversal_id: Option<TransferId>,
}

pub(super) const DISPUTE_COLUMNS: &str = "county_code, order_id, transfer_id, person_id, minutes, reason, status, \
     raised_by, raised_by_name, raised_at, decided_by, decided_by_name, decided_at, decision_note, reversal_id";
