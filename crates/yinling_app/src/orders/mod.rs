//! Service orders (群众点单、老干部接单): placed by a resident or for them by a grid worker,
//! offered to providers, accepted by exactly one, served, completed, rated and closed.
//! Every transition is checked by the domain state machine, written as a conditional
//! update (so concurrent actors cannot both succeed), and recorded with who and when.

use serde::{Deserialize, Serialize};
use yinling_domain::{
    ids::{AccountId, Key, NeedId, OrderId, PersonId, ProviderId, ServiceItemId},
    role::Permission,
    service::{
        OfferStatus, OrderAction, OrderActor, OrderState, Urgency, after_decline, transition,
        valid_rating,
    },
    time::format_minutes,
};
use yinling_store::{
    Tx,
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    needs as store_needs,
    orders::{
        self as store_orders, Change, EntitlementRow, Expect, NewOrder, NewOrderEvent, OfferRow,
        OrderEventRow, OrderFilter, OrderRow, PhotoRow,
    },
    people as store_people,
    services::{self as store_services, ProviderRow},
};

use crate::{
    App, AppError, AppResult, Caller, Page, PageRequest, kernel::audit::Event,
    kernel::clock::MINUTE, services::parse_path,
};

mod dispatch;
mod input;
mod lifecycle;
mod photos;
mod view;

pub use dispatch::*;
pub use input::*;
pub(crate) use lifecycle::order_key;
pub use photos::*;
pub use view::*;

/// Service orders (点单/接单), reached as [`App::orders`].
#[derive(Clone, Copy)]
pub struct Orders<'a> {
    app: &'a App,
}

impl App {
    /// Service orders: placing, accepting, serving, rating, dispatch and escalation.
    pub fn orders(&self) -> Orders<'_> {
        Orders { app: self }
    }
}
