//! Isolation cases of needs: registration, follow-ups, import and export.

use super::*;

/// API operations on an area's objects.
pub(super) fn api() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/api/v1/needs/{county}/{id}",
            C::ViewServices,
            |e| in_county(e, e.a.need),
            none,
        ),
        case(
            M::POST,
            "/api/v1/needs/{county}/{id}/followups",
            C::Dispatch,
            |e| in_county(e, e.a.need),
            |_| json(json!({"note": "看过了", "status": "following"})),
        ),
        case(M::POST, "/api/v1/needs", C::Dispatch, no_args, |e| {
            json(
                json!({"county_code": e.a.person.0, "person_id": e.a.person.1,
                "category": "meals", "description": "登记的需求"}),
            )
        }),
    ]
}

/// Pages on an area's objects.
pub(super) fn pages() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/needs/{county}/{id}",
            C::ViewServices,
            |e| in_county(e, e.a.need),
            none,
        ),
        case(M::GET, "/needs/new?unit={unit}", C::Dispatch, unit_q, none),
        case(
            M::GET,
            "/needs/new?person={person}",
            C::Dispatch,
            person_q,
            none,
        ),
    ]
}

/// Forms posted on an area's objects.
pub(super) fn forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::POST, "/needs/new", C::Dispatch, no_args, |e| {
            form(&[
                ("person", key(e.a.person.0, e.a.person.1)),
                ("category", "meals".into()),
                ("description", "登记的需求".into()),
            ])
        }),
        case(
            M::POST,
            "/needs/{county}/{id}/followups",
            C::Dispatch,
            |e| in_county(e, e.a.need),
            |_| form(&[("note", "看过了".into()), ("status", "following".into())]),
        ),
    ]
}

/// API lists and the caller's own things: reads only.
pub(super) fn lists() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/api/v1/needs", C::List(P::ViewServices)),
        get("/api/v1/needs/export", C::List(P::ViewServices)),
        get("/api/v1/needs/import-template", C::List(P::Dispatch)),
    ]
}

/// API writes without an area.
pub(super) fn list_posts() -> Vec<Case> {
    use Class as C;
    use Method as M;
    use Perm as P;
    vec![case(
        M::POST,
        "/api/v1/needs/import",
        C::List(P::Dispatch),
        no_args,
        |_| Payload::None,
    )]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/needs", C::List(P::ViewServices)),
        get("/needs/export.xlsx", C::List(P::ViewServices)),
        get("/needs/template.xlsx", C::List(P::Dispatch)),
        get("/needs/import", C::List(P::Dispatch)),
        get("/needs/new", C::List(P::Dispatch)),
    ]
}

/// Forms without an area.
pub(super) fn list_forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    use Perm as P;
    vec![case(
        M::POST,
        "/needs/import",
        C::List(P::Dispatch),
        no_args,
        |_| form(&[]),
    )]
}
