//! Isolation cases of orders: placing, dispatch, completion, photos, paying with hours and its disputes.

use super::*;

/// API operations on an area's objects.
pub(super) fn api() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::POST,
            "/api/v1/orders",
            C::OrderForVolunteer,
            no_args,
            |e| {
                json(
                    json!({"item_id": e.a.item, "person": {"county_code": e.a.volunteer.0,
                "id": e.a.volunteer.1}}),
                )
            },
        ),
        case(
            M::GET,
            "/api/v1/orders/{county}/{id}",
            C::ViewOrder,
            order,
            none,
        ),
        case(
            M::GET,
            "/api/v1/orders/{county}/{id}/candidates",
            C::Dispatch,
            order,
            none,
        ),
        case(
            M::GET,
            "/api/v1/orders/{county}/{id}/entitlements",
            C::ViewOrder,
            order,
            none,
        ),
        case(
            M::POST,
            "/api/v1/orders/{county}/{id}/dispatch",
            C::Dispatch,
            order,
            |e| json(json!({"provider_id": e.a.provider})),
        ),
        case(
            M::POST,
            "/api/v1/orders/{county}/{id}/photos",
            C::VolunteersOrder,
            done,
            none,
        ),
        case(
            M::GET,
            "/api/v1/orders/{county}/{id}/hours-charge",
            C::PayHours,
            done,
            none,
        ),
        case(
            M::POST,
            "/api/v1/orders/{county}/{id}/pay-with-hours",
            C::PayHours,
            done,
            |_| json(json!({"minutes": 1})),
        ),
        case(
            M::POST,
            "/api/v1/orders/{county}/{id}/hours-dispute",
            C::PayHours,
            done,
            |_| json(json!({"reason": "服务时长不对"})),
        ),
        case(
            M::POST,
            "/api/v1/orders/{county}/{id}/hours-dispute/decision",
            C::Dispatch,
            done,
            |_| json(json!({"uphold": true})),
        ),
    ]
}

/// State-changing API cases that run last (see `api_cases`).
pub(super) fn api_last() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![case(
        M::POST,
        "/api/v1/orders/{county}/{id}/steps/{action}",
        C::CancelOrder,
        |e| [order(e), vec!["cancel".into()]].concat(),
        |_| json(json!({})),
    )]
}

/// Pages on an area's objects.
pub(super) fn pages() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/orders/new?person={person}",
            C::OrderForResident,
            person_q,
            none,
        ),
        case(
            M::GET,
            "/orders/{county}/{id}",
            C::ViewOrderPage,
            order,
            none,
        ),
        case(
            M::GET,
            "/orders/{county}/{id}/placed",
            C::ViewOrderPage,
            order,
            none,
        ),
        case(
            M::GET,
            "/orders/{county}/{id}/complete",
            C::ViewOrderPage,
            order,
            none,
        ),
        case(
            M::GET,
            "/orders/{county}/{id}/photo",
            C::ViewOrder,
            done,
            none,
        ),
        case(
            M::GET,
            "/orders/{county}/{id}/pay-hours",
            C::PayHours,
            done,
            none,
        ),
    ]
}

/// Forms posted on an area's objects.
pub(super) fn forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::POST, "/orders/new", C::OrderForVolunteer, no_args, |e| {
            form(&[
                ("person", key(e.a.volunteer.0, e.a.volunteer.1)),
                ("item", e.a.item.to_string()),
            ])
        }),
        case(M::POST, "/orders/batch", C::Dispatch, no_args, |e| {
            form(&[(
                "unit",
                key(e.a.grid.county_code.as_i64(), e.a.grid.id.get()),
            )])
        }),
        case(
            M::POST,
            "/orders/{county}/{id}/dispatch",
            C::Dispatch,
            order,
            |e| form(&[("provider_id", e.a.provider.to_string())]),
        ),
        case(
            M::POST,
            "/orders/{county}/{id}/complete",
            C::ViewOrderPage,
            order,
            |_| form(&[("note", "完成".into())]),
        ),
        case(
            M::POST,
            "/orders/{county}/{id}/pay-hours",
            C::PayHours,
            done,
            |_| form(&[("minutes", "1".into())]),
        ),
        case(
            M::POST,
            "/orders/{county}/{id}/hours-dispute",
            C::PayHours,
            done,
            |_| form(&[("reason", "服务时长不对".into())]),
        ),
        case(
            M::POST,
            "/orders/{county}/{id}/hours-dispute/decision",
            C::Dispatch,
            done,
            |_| form(&[("decision", "uphold".into())]),
        ),
    ]
}

/// State-changing forms that run last (see `page_cases`).
pub(super) fn forms_last() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![case(
        M::POST,
        "/orders/{county}/{id}/step",
        C::CancelOrder,
        order,
        |_| form(&[("action", "cancel".into())]),
    )]
}

/// API lists and the caller's own things: reads only.
pub(super) fn lists() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/api/v1/orders", C::List(P::ViewServices)),
        get("/api/v1/orders/mine", C::Personal),
        get("/api/v1/orders/offered", C::Personal),
        get("/api/v1/hours-disputes", C::List(P::Dispatch)),
    ]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/orders", C::List(P::ViewServices)),
        get("/orders/new", C::Anyone),
        get("/orders/mine", C::Personal),
        get("/orders/offered", C::Personal),
        get("/orders/disputes", C::List(P::Dispatch)),
    ]
}
