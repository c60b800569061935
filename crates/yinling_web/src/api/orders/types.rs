//! The wire types of service orders, the three lists (categories, providers, items) and
//! disputes of hours, mapped from the app's views and the store's rows with `From` and into
//! the app's inputs; each keeps its published schema name (`#[schema(as = …)]`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yinling_app::{
    orders::{
        BatchReport, Candidate, DispatchInput, OrderDetail, OrderInput, OrderStep, OrderView,
    },
    services::{Category, CategoryInput, Provider, ProviderInput, ServiceItem, ServiceItemInput},
    time_bank::{DisputeDecision, DisputeInput, HoursCharge, HoursDisputeView},
};
use yinling_store::{
    ledger::TransferRow,
    orders::{EntitlementRow, HoursDisputeRow, OfferRow, OrderEventRow, OrderRow},
};

use yinling_domain::{
    ids::{Key, NeedId, PersonId, ProviderId, ServiceItemId, UnitId},
    matching::{Ranked, ScorePart},
    service::{ProviderKind, Urgency, WeeklyWindow},
};

use crate::api::kernel::{KeyBody, Micros};

fn yes() -> bool {
    true
}

/// A stored photo, to send as the `complete` step's `photo_key`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoKey {
    pub key: String,
}

/// An order as callers see it: the row plus names and labels.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderView)]
pub struct OrderResponse {
    #[serde(flatten)]
    pub order: OrderRowResponse,
    pub state_label: &'static str,
    pub urgency_label: &'static str,
    pub item_name: String,
    pub resident_name: String,
    pub provider_name: Option<String>,
    /// 2026-07-02 12:00 (Shanghai).
    pub wanted_at_text: String,
    pub sla_due_text: String,
}

impl From<OrderView> for OrderResponse {
    fn from(v: OrderView) -> Self {
        OrderResponse {
            order: v.order.into(),
            state_label: v.state_label,
            urgency_label: v.urgency_label,
            item_name: v.item_name,
            resident_name: v.resident_name,
            provider_name: v.provider_name,
            wanted_at_text: v.wanted_at_text,
            sla_due_text: v.sla_due_text,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderRow)]
pub struct OrderRowResponse {
    pub county_code: i64,
    pub id: i64,
    pub path: String,
    pub unit_id: i64,
    pub person_id: i64,
    pub item_id: i64,
    pub category: String,
    pub description: Option<String>,
    pub urgency: String,
    pub wanted_at: Micros,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub placed_by: Option<i64>,
    pub placed_by_name: String,
    pub proxy: bool,
    pub state: String,
    pub provider_id: Option<i64>,
    pub served_by: Option<i64>,
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
    pub need_id: Option<i64>,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub version: i64,
}

impl From<OrderRow> for OrderRowResponse {
    fn from(v: OrderRow) -> Self {
        OrderRowResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            path: v.path,
            unit_id: v.unit_id.get(),
            person_id: v.person_id.get(),
            item_id: v.item_id.get(),
            category: v.category,
            description: v.description,
            urgency: v.urgency.as_str().to_owned(),
            wanted_at: v.wanted_at,
            address: v.address,
            lat: v.lat,
            lng: v.lng,
            placed_by: v.placed_by.map(i64::from),
            placed_by_name: v.placed_by_name,
            proxy: v.proxy,
            state: v.state.as_str().to_owned(),
            provider_id: v.provider_id.map(i64::from),
            served_by: v.served_by.map(i64::from),
            escalation_level: v.escalation_level,
            escalated_to: v.escalated_to,
            sla_due_at: v.sla_due_at,
            accepted_at: v.accepted_at,
            checked_in_at: v.checked_in_at,
            completed_at: v.completed_at,
            service_minutes: v.service_minutes,
            completion_note: v.completion_note,
            photo_key: v.photo_key,
            rating: v.rating,
            rating_comment: v.rating_comment,
            cancel_reason: v.cancel_reason,
            need_id: v.need_id.map(i64::from),
            created_at: v.created_at,
            updated_at: v.updated_at,
            version: v.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderDetail)]
pub struct OrderDetailResponse {
    #[serde(flatten)]
    pub view: OrderResponse,
    pub events: Vec<OrderEventResponse>,
    pub offers: Vec<OfferResponse>,
    /// What the caller may do next, by action code (`accept`, `rate` …).
    pub actions: Vec<&'static str>,
}

impl From<OrderDetail> for OrderDetailResponse {
    fn from(v: OrderDetail) -> Self {
        OrderDetailResponse {
            view: v.view.into(),
            events: v.events.into_iter().map(Into::into).collect(),
            offers: v.offers.into_iter().map(Into::into).collect(),
            actions: v.actions,
        }
    }
}

/// One recorded transition.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderEventRow)]
pub struct OrderEventResponse {
    pub seq: i64,
    pub at: Micros,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub provider_id: Option<i64>,
    pub note: Option<String>,
}

impl From<OrderEventRow> for OrderEventResponse {
    fn from(v: OrderEventRow) -> Self {
        OrderEventResponse {
            seq: v.seq,
            at: v.at,
            actor_id: v.actor_id.map(i64::from),
            actor_name: v.actor_name,
            action: v.action.as_str().to_owned(),
            from_state: v.from_state.as_str().to_owned(),
            to_state: v.to_state.as_str().to_owned(),
            provider_id: v.provider_id.map(i64::from),
            note: v.note,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OfferRow)]
pub struct OfferResponse {
    pub provider_id: i64,
    pub status: String,
    pub offered_at: Micros,
}

impl From<OfferRow> for OfferResponse {
    fn from(v: OfferRow) -> Self {
        OfferResponse {
            provider_id: v.provider_id.get(),
            status: v.status.as_str().to_owned(),
            offered_at: v.offered_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TransferRow)]
pub struct TransferResponse {
    pub county_code: i64,
    pub id: i64,
    pub idem_key: String,
    pub fingerprint: String,
    pub unit: String,
    pub debit_id: i64,
    pub credit_id: i64,
    pub amount: i64,
    pub debit_after: i64,
    pub credit_after: i64,
    pub reason: String,
    pub source_kind: String,
    pub source_ref: String,
    pub memo: String,
    pub reverses: Option<i64>,
    pub actor_id: Option<i64>,
    pub created_at: Micros,
    /// The debit account's transfer before this one.
    pub debit_prev: Option<i64>,
    /// The credit account's transfer before this one.
    pub credit_prev: Option<i64>,
}

impl From<TransferRow> for TransferResponse {
    fn from(v: TransferRow) -> Self {
        TransferResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            idem_key: v.idem_key,
            fingerprint: v.fingerprint,
            unit: v.unit.as_str().to_owned(),
            debit_id: v.debit_id.get(),
            credit_id: v.credit_id.get(),
            amount: v.amount,
            debit_after: v.debit_after,
            credit_after: v.credit_after,
            reason: v.reason.as_str().to_owned(),
            source_kind: v.source_kind.as_str().to_owned(),
            source_ref: v.source_ref,
            memo: v.memo,
            reverses: v.reverses.map(|t| t.get()),
            actor_id: v.actor_id.map(|a| a.get()),
            created_at: v.created_at,
            debit_prev: v.debit_prev.map(|t| t.get()),
            credit_prev: v.credit_prev.map(|t| t.get()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EntitlementRow)]
pub struct EntitlementResponse {
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

impl From<EntitlementRow> for EntitlementResponse {
    fn from(v: EntitlementRow) -> Self {
        EntitlementResponse {
            county_code: v.county_code,
            id: v.id,
            source_kind: v.source_kind,
            source_id: v.source_id,
            person_id: v.person_id,
            points: v.points,
            hours_minutes: v.hours_minutes,
            status: v.status,
            created_at: v.created_at,
        }
    }
}

/// A resident's objection to the time-bank charge for an order (有异议).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HoursDisputeRow)]
pub struct HoursDisputeRowResponse {
    pub county_code: i64,
    pub order_id: i64,
    /// The charge disputed (a ledger transfer).
    pub transfer_id: i64,
    pub person_id: i64,
    pub minutes: i64,
    pub reason: String,
    /// `open`, `upheld` (the charge was reversed) or `rejected`.
    pub status: String,
    pub raised_by: Option<i64>,
    pub raised_by_name: String,
    pub raised_at: Micros,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Micros>,
    pub decision_note: Option<String>,
    /// The reversing transfer, when upheld.
    pub reversal_id: Option<i64>,
}

impl From<HoursDisputeRow> for HoursDisputeRowResponse {
    fn from(v: HoursDisputeRow) -> Self {
        HoursDisputeRowResponse {
            county_code: v.county_code.as_i64(),
            order_id: v.order_id.get(),
            transfer_id: v.transfer_id.get(),
            person_id: v.person_id.get(),
            minutes: v.minutes,
            reason: v.reason,
            status: v.status.as_str().to_owned(),
            raised_by: v.raised_by.map(i64::from),
            raised_by_name: v.raised_by_name,
            raised_at: v.raised_at,
            decided_by: v.decided_by.map(i64::from),
            decided_by_name: v.decided_by_name,
            decided_at: v.decided_at,
            decision_note: v.decision_note,
            reversal_id: v.reversal_id.map(i64::from),
        }
    }
}

/// A dispute as staff see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HoursDisputeView)]
pub struct HoursDisputeResponse {
    #[serde(flatten)]
    pub dispute: HoursDisputeRowResponse,
    pub item_name: String,
    pub resident_name: String,
    pub minutes_text: String,
    pub status_label: &'static str,
    /// Whether the caller may decide it (open, and not their own).
    pub may_decide: bool,
}

impl From<HoursDisputeView> for HoursDisputeResponse {
    fn from(v: HoursDisputeView) -> Self {
        HoursDisputeResponse {
            dispute: v.dispute.into(),
            item_name: v.item_name,
            resident_name: v.resident_name,
            minutes_text: v.minutes_text,
            status_label: v.status_label,
            may_decide: v.may_decide,
        }
    }
}

/// A time-bank payment for an order: what it takes (shown before it is taken), or took.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HoursCharge)]
pub struct HoursChargeResponse {
    pub county_code: i64,
    pub order_id: i64,
    /// Whose hours: the resident who received the service.
    pub person_id: i64,
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
    pub paid: Option<TransferResponse>,
    /// A dispute of the charge, if one was raised.
    pub dispute: Option<HoursDisputeRowResponse>,
}

impl From<HoursCharge> for HoursChargeResponse {
    fn from(v: HoursCharge) -> Self {
        HoursChargeResponse {
            county_code: v.county_code.as_i64(),
            order_id: v.order_id.get(),
            person_id: v.person_id.get(),
            item_name: v.item_name,
            recorded_minutes: v.recorded_minutes,
            cap_minutes: v.cap_minutes,
            minutes: v.minutes,
            minutes_text: v.minutes_text,
            balance: v.balance,
            balance_text: v.balance_text,
            enough: v.enough,
            paid: v.paid.map(Into::into),
            dispute: v.dispute.map(Into::into),
        }
    }
}

/// What a batch dispatch did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BatchReport)]
pub struct BatchReportResponse {
    /// Open orders considered.
    pub considered: usize,
    pub dispatched: usize,
    /// Orders nobody could take now (no one in reach with a free slot and the skills).
    pub unmatched: usize,
}

impl From<BatchReport> for BatchReportResponse {
    fn from(v: BatchReport) -> Self {
        BatchReportResponse {
            considered: v.considered,
            dispatched: v.dispatched,
            unmatched: v.unmatched,
        }
    }
}

/// A ranked candidate with the provider's name and kind.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Candidate)]
pub struct CandidateResponse {
    pub name: String,
    pub kind_label: &'static str,
    #[serde(flatten)]
    pub ranked: RankedResponse,
}

/// A ranked candidate with the reasons for its score.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Ranked)]
pub struct RankedResponse {
    pub county_code: i64,
    pub id: i64,
    /// Out of 100.
    pub score: f64,
    pub parts: Vec<ScorePart>,
}

impl From<Candidate> for CandidateResponse {
    fn from(v: Candidate) -> Self {
        let Ranked { key, score, parts } = v.ranked;
        CandidateResponse {
            name: v.name,
            kind_label: v.kind_label,
            ranked: RankedResponse {
                county_code: key.county(),
                id: key.id(),
                score,
                parts,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Category)]
pub struct CategoryResponse {
    pub code: String,
    pub label: String,
    /// Built in (every county has it) rather than added by an administrator.
    pub builtin: bool,
}

impl From<Category> for CategoryResponse {
    fn from(v: Category) -> Self {
        CategoryResponse {
            code: v.code,
            label: v.label,
            builtin: v.builtin,
        }
    }
}

/// A provider on the resource list, with its JSON columns unpacked.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Provider)]
pub struct ProviderResponse {
    pub county_code: i64,
    pub id: i64,
    pub kind: ProviderKind,
    pub kind_label: &'static str,
    pub name: String,
    pub person_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub path: String,
    pub skills: Vec<String>,
    /// Organisation paths served.
    pub areas: Vec<String>,
    pub windows: Vec<WeeklyWindow>,
    /// The windows as people read them: 周三 08:00-11:30.
    pub windows_text: Vec<String>,
    pub capacity: i64,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub radius_m: Option<i64>,
    pub rating_count: i64,
    /// Average stars, one decimal; `None` before the first rating.
    pub rating: Option<f64>,
    pub active: bool,
    pub version: i64,
}

impl From<Provider> for ProviderResponse {
    fn from(v: Provider) -> Self {
        ProviderResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            kind: v.kind,
            kind_label: v.kind_label,
            name: v.name,
            person_id: v.person_id.map(i64::from),
            unit_id: v.unit_id.map(i64::from),
            path: v.path,
            skills: v.skills,
            areas: v.areas,
            windows: v.windows,
            windows_text: v.windows_text,
            capacity: v.capacity,
            lat: v.lat,
            lng: v.lng,
            radius_m: v.radius_m,
            rating_count: v.rating_count,
            rating: v.rating,
            active: v.active,
            version: v.version,
        }
    }
}

/// A service item, with its skills unpacked.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ServiceItem)]
pub struct ServiceItemResponse {
    pub county_code: i64,
    pub id: i64,
    pub path: String,
    pub category: String,
    pub category_label: String,
    pub name: String,
    pub description: Option<String>,
    pub skills: Vec<String>,
    pub duration_minutes: i64,
    /// Points awarded to whoever serves it (信用+积分).
    pub points: i64,
    /// Time-bank minutes deposited for whoever serves it.
    pub hours_minutes: i64,
    /// Minutes within which someone must accept it, or it goes one level up.
    pub sla_minutes: i64,
    pub active: bool,
    pub version: i64,
}

impl From<ServiceItem> for ServiceItemResponse {
    fn from(v: ServiceItem) -> Self {
        ServiceItemResponse {
            county_code: v.county_code.as_i64(),
            id: v.id.get(),
            path: v.path,
            category: v.category,
            category_label: v.category_label,
            name: v.name,
            description: v.description,
            skills: v.skills,
            duration_minutes: v.duration_minutes,
            points: v.points,
            hours_minutes: v.hours_minutes,
            sla_minutes: v.sla_minutes,
            active: v.active,
            version: v.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = OrderInput)]
pub struct NewOrder {
    /// The service item (county, id).
    pub item_id: i64,
    /// The resident the order is for. Omitted: the caller's own person file.
    #[serde(default)]
    pub person: Option<KeyBody>,
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
    pub need_id: Option<i64>,
}

/// The person a key on the wire names: numbers that cannot be a key name nobody, as before
/// keys had types.
pub(crate) fn person_key(k: KeyBody) -> Result<Key<PersonId>, yinling_app::AppError> {
    k.key("人员")
}

impl TryFrom<NewOrder> for OrderInput {
    type Error = yinling_app::AppError;
    fn try_from(v: NewOrder) -> Result<Self, Self::Error> {
        Ok(OrderInput {
            item_id: ServiceItemId(v.item_id),
            person: v.person.map(person_key).transpose()?,
            wanted_at: v.wanted_at,
            wanted_at_text: v.wanted_at_text,
            description: v.description,
            urgency: v.urgency,
            address: v.address,
            need_id: v.need_id.map(NeedId),
        })
    }
}

/// A step in an order's life, as sent by a form or the API.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = OrderStep)]
pub struct OrderStepRequest {
    /// Which provider the caller acts as, when they act for more than one (a volunteer who
    /// also leads a team).
    #[serde(default)]
    pub provider_id: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
    /// Stars, 1–5 (rating).
    #[serde(default)]
    pub stars: Option<i64>,
    /// A stored photo's key (completion).
    #[serde(default)]
    pub photo_key: Option<String>,
}

impl From<OrderStepRequest> for OrderStep {
    fn from(v: OrderStepRequest) -> Self {
        OrderStep {
            provider_id: v.provider_id.map(ProviderId),
            note: v.note,
            stars: v.stars,
            photo_key: v.photo_key,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = DispatchInput)]
pub struct DispatchRequest {
    /// The provider to offer it to; omitted: the best-ranked (一键派单).
    #[serde(default)]
    pub provider_id: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

impl From<DispatchRequest> for DispatchInput {
    fn from(v: DispatchRequest) -> Self {
        DispatchInput {
            provider_id: v.provider_id.map(ProviderId),
            note: v.note,
        }
    }
}

/// A dispute of a time-bank charge (有异议).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = DisputeInput)]
pub struct NewDispute {
    /// What is wrong, e.g. 服务时长不对 (2–200 characters).
    pub reason: String,
}

impl From<NewDispute> for DisputeInput {
    fn from(v: NewDispute) -> Self {
        DisputeInput { reason: v.reason }
    }
}

/// A staff decision on a dispute.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = DisputeDecision)]
pub struct DisputeDecisionRequest {
    /// True: the dispute stands and the charge is reversed; false: the charge stands.
    pub uphold: bool,
    #[serde(default)]
    pub note: Option<String>,
}

impl From<DisputeDecisionRequest> for DisputeDecision {
    fn from(v: DisputeDecisionRequest) -> Self {
        DisputeDecision {
            uphold: v.uphold,
            note: v.note,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CategoryInput)]
pub struct NewCategory {
    /// Lower-case letters, digits and `_`, starting with a letter: `haircut`.
    pub code: String,
    /// What people see: 理发.
    pub label: String,
    /// The county it is added for; omitted by a city administrator for the whole city.
    #[serde(default)]
    pub county_code: Option<i64>,
}

impl From<NewCategory> for CategoryInput {
    fn from(v: NewCategory) -> Self {
        CategoryInput {
            code: v.code,
            label: v.label,
            county_code: v.county_code,
        }
    }
}

/// A new or changed provider. A volunteer is a person file; a team, studio or partner is
/// an organisation unit.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ProviderInput)]
pub struct NewProvider {
    pub kind: ProviderKind,
    /// The volunteer's person file (kind `volunteer`).
    #[serde(default)]
    pub person: Option<KeyBody>,
    /// The team's, studio's or partner's unit (other kinds).
    #[serde(default)]
    pub unit: Option<KeyBody>,
    /// Defaults to the person's or unit's name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    /// Units served (grids, communities): county and id. Empty: where the provider is.
    #[serde(default)]
    pub areas: Vec<KeyBody>,
    /// Weekly windows as text, "周三 08:00-11:30". Empty: any time.
    #[serde(default)]
    pub windows: Vec<String>,
    /// Orders at once (1–50).
    pub capacity: i64,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    /// Serves within this many metres of lat/lng, beside the areas (100 m – 50 km).
    #[serde(default)]
    pub radius_m: Option<i64>,
    #[serde(default = "yes")]
    pub active: bool,
    /// Required when changing.
    #[serde(default)]
    pub version: Option<i64>,
}

/// The unit a key on the wire names: numbers that cannot be a key name no unit.
pub(crate) fn unit_key(k: KeyBody) -> Result<Key<UnitId>, yinling_app::AppError> {
    k.key("组织")
}

impl TryFrom<NewProvider> for ProviderInput {
    type Error = yinling_app::AppError;
    fn try_from(v: NewProvider) -> Result<Self, Self::Error> {
        Ok(ProviderInput {
            kind: v.kind,
            person: v.person.map(person_key).transpose()?,
            unit: v.unit.map(unit_key).transpose()?,
            name: v.name,
            skills: v.skills,
            areas: v
                .areas
                .into_iter()
                .map(unit_key)
                .collect::<Result<_, _>>()?,
            windows: v.windows,
            capacity: v.capacity,
            lat: v.lat,
            lng: v.lng,
            radius_m: v.radius_m,
            active: v.active,
            version: v.version,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ServiceItemInput)]
pub struct NewServiceItem {
    pub category: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    pub duration_minutes: i64,
    pub points: i64,
    pub hours_minutes: i64,
    pub sla_minutes: i64,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub version: Option<i64>,
}

impl From<NewServiceItem> for ServiceItemInput {
    fn from(v: NewServiceItem) -> Self {
        ServiceItemInput {
            category: v.category,
            name: v.name,
            description: v.description,
            skills: v.skills,
            duration_minutes: v.duration_minutes,
            points: v.points,
            hours_minutes: v.hours_minutes,
            sla_minutes: v.sla_minutes,
            active: v.active,
            version: v.version,
        }
    }
}

/// A changed new provider: the same body as a new one, with the `version` read.
pub type ProviderUpdate = NewProvider;

/// A changed new service item: the same body as a new one, with the `version` read.
pub type ServiceItemUpdate = NewServiceItem;
