//! Inputs for tests: each names only what the test sets apart.

use chrono::NaiveDate;
use yinling_domain::{
    ids::{GoodsId, Key, PersonId, ServiceItemId},
    ledger::{SourceKind, Unit},
    mediation::{DisputeCategory, Mediator, Outcome, PartySide},
    need::NeedSource,
    org::OrgKind,
    person::{PersonRoleKind, RoleDetails},
    region::CountyCode,
    role::Role,
    service::Urgency,
};

use super::{PASSWORD, key};
use yinling_store::org::OrgUnitRow;

use crate::{
    accounts::NewAccountInput,
    ledger::{AdjustmentInput, EarnInput, EarningRuleInput},
    mediation::{AssignInput, CaseInput, FollowUpInput, OutcomeInput, PartyInput, SessionInput},
    needs::NeedInput,
    orders::OrderInput,
    org::NewUnitInput,
    people::RoleInput,
    redeem::{GoodsInput, RedeemInput},
    time_bank::GiftInput,
};

/// An account to create in a test: `display_name` is the username, the password is
/// [`PASSWORD`] and need not be changed, no linked person. Override any field with
/// `NewAccountInput { must_change_password: true, ..account(…) }`.
pub fn account(username: impl Into<String>, role: Role, unit: (i64, i64)) -> NewAccountInput {
    let username = username.into();
    NewAccountInput {
        display_name: username.clone(),
        username,
        password: PASSWORD.into(),
        role,
        unit_county_code: unit.0,
        unit_id: unit.1,
        must_change_password: false,
        person_county_code: None,
        person_id: None,
    }
}

/// A unit to create in a test: a kind and a name, nothing else.
pub fn unit(kind: OrgKind, name: impl Into<String>) -> NewUnitInput {
    NewUnitInput {
        kind,
        name: name.into(),
        region_code: None,
        address: None,
        lat: None,
        lng: None,
        geojson: None,
    }
}

/// A neighbours' dispute to take in at `unit` (county, id): "楼道堆放杂物", an applicant and
/// a respondent by name, taken in today by the caller, no place and no mediators yet.
pub fn case_input(unit: &OrgUnitRow) -> CaseInput {
    CaseInput {
        unit_county_code: unit.county_code.as_i64(),
        unit_id: unit.id,
        place_id: None,
        location: Some("3号楼楼道".into()),
        category: DisputeCategory::Neighbour,
        summary: "楼道堆放杂物引发邻里争吵".into(),
        intake_on: None,
        taken_by_name: None,
        parties: vec![
            party_input(PartySide::Applicant, "王某某"),
            party_input(PartySide::Respondent, "刘某"),
        ],
        mediators: Vec::new(),
    }
}

/// A party by name, not linked to a person file.
pub fn party_input(side: PartySide, name: impl Into<String>) -> PartyInput {
    PartyInput {
        side,
        name: name.into(),
        person_id: None,
    }
}

/// Mediators to assign to a case read at `version`.
pub fn assign_input(version: i64, mediators: Vec<Mediator>) -> AssignInput {
    AssignInput { version, mediators }
}

/// A session held on `held_on` with `present` there, and a short note.
pub fn session_input(version: i64, held_on: NaiveDate, present: Vec<Mediator>) -> SessionInput {
    SessionInput {
        version,
        held_on,
        present,
        note: "分别做双方工作".into(),
    }
}

/// An outcome on `concluded_on`, without a note or where it was referred to.
pub fn outcome_input(version: i64, outcome: Outcome, concluded_on: NaiveDate) -> OutcomeInput {
    OutcomeInput {
        version,
        outcome,
        concluded_on,
        note: None,
        referred_to: None,
    }
}

/// A follow-up visit on `visited_on`, saying whether the agreement holds, noted "回访".
pub fn follow_up_input(version: i64, visited_on: NaiveDate, holds: Option<bool>) -> FollowUpInput {
    FollowUpInput {
        version,
        visited_on,
        holds,
        note: "回访".into(),
    }
}

/// Goods for a shop's shelf: on offer and new (no version yet).
pub fn goods(name: impl Into<String>, price_points: i64, stock: i64) -> GoodsInput {
    GoodsInput {
        name: name.into(),
        price_points,
        stock,
        active: true,
        version: None,
    }
}

/// One of `goods` bought at the till with the elder's `code`, under the till's `key`.
pub fn redemption(code: impl Into<String>, goods: GoodsId, key: impl Into<String>) -> RedeemInput {
    RedeemInput {
        code: code.into(),
        goods_id: goods.get(),
        quantity: 1,
        idempotency_key: key.into(),
    }
}

/// A proposed change of a person's points by `amount`, with the memo of a forgotten award.
/// Other units or memos: `AdjustmentInput { unit: Unit::Minutes, ..adjustment(…) }`.
pub fn adjustment(person: Key<PersonId>, amount: i64) -> AdjustmentInput {
    AdjustmentInput {
        person,
        unit: Unit::Points,
        amount,
        memo: "补记十月敬老活动积分".into(),
    }
}

/// What attending the activity type `code` (labelled `label`) is worth in a county.
pub fn earning_rule(
    county: CountyCode,
    code: impl Into<String>,
    label: impl Into<String>,
    points: i64,
    minutes: i64,
) -> EarningRuleInput {
    EarningRuleInput {
        county_code: county,
        source_kind: SourceKind::Activity,
        code: code.into(),
        label: label.into(),
        points,
        minutes,
    }
}

/// An award to a person for attending `activity` (`activity/2026-07`), under the caller's
/// idempotency `key`.
pub fn award(
    person: Key<PersonId>,
    activity: impl Into<String>,
    key: impl Into<String>,
) -> EarnInput {
    EarnInput {
        person,
        activity: activity.into(),
        source_ref: "activity/2026-07".into(),
        idempotency_key: key.into(),
    }
}

/// A need of the person `person` (county, id) recorded at a door knock: meals, "午饭没人做",
/// normal urgency, no household and no unit. Other needs:
/// `NeedInput { urgency: Urgency::Urgent, ..need(person) }`.
pub fn need(person: (i64, i64)) -> NeedInput {
    NeedInput {
        county_code: person.0,
        person_id: Some(person.1),
        household_id: None,
        unit_id: None,
        category: "meals".into(),
        description: "午饭没人做".into(),
        urgency: Urgency::Normal,
        source: NeedSource::DoorKnock,
    }
}

/// A role of `kind` with no unit, no start date and no details.
pub fn role(kind: PersonRoleKind) -> RoleInput {
    RoleInput {
        kind,
        unit_county_code: None,
        unit_id: None,
        since: None,
        details: RoleDetails::default(),
    }
}

/// A role of `kind` held in `unit` (a party branch, a volunteer team …).
pub fn role_in(kind: PersonRoleKind, unit: &OrgUnitRow) -> RoleInput {
    RoleInput {
        unit_county_code: Some(unit.county_code.as_i64()),
        unit_id: Some(unit.id.get()),
        ..role(kind)
    }
}

/// An order of the service `item` for the caller's own person file, wanted at
/// "2026-07-01 12:00", without a description, urgency, address or need.
pub fn order(item: impl Into<i64>) -> OrderInput {
    OrderInput {
        item_id: ServiceItemId(item.into()),
        person: None,
        wanted_at: None,
        wanted_at_text: Some("2026-07-01 12:00".into()),
        description: None,
        urgency: None,
        address: None,
        need_id: None,
    }
}

/// A gift of `minutes` from the caller's time-bank account to the household member `to`
/// (county, id), without a memo, under the idempotency `key`.
pub fn gift(to: (i64, i64), minutes: i64, idempotency_key: impl Into<String>) -> GiftInput {
    GiftInput {
        to: key(to.0, to.1),
        minutes,
        memo: None,
        idempotency_key: idempotency_key.into(),
    }
}
