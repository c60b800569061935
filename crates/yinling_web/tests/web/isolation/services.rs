//! Isolation cases of services: providers, service items and categories.

use super::*;

/// API operations on an area's objects.
pub(super) fn api() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/api/v1/providers/{county}/{id}",
            C::ViewServices,
            |e| in_county(e, e.a.provider),
            none,
        ),
        case(
            M::PUT,
            "/api/v1/providers/{county}/{id}",
            C::ManageServices,
            |e| in_county(e, e.a.provider),
            |e| {
                json(
                    json!({"kind": "volunteer", "person": {"county_code": e.a.volunteer.0,
                "id": e.a.volunteer.1}, "skills": ["做饭"], "capacity": 2, "version": STALE}),
                )
            },
        ),
        case(
            M::POST,
            "/api/v1/providers",
            C::ManageServices,
            no_args,
            |e| {
                json(
                    json!({"kind": "volunteer", "person": {"county_code": e.a.person.0,
                "id": e.a.person.1}, "skills": ["做饭"], "capacity": 2}),
                )
            },
        ),
        case(
            M::PUT,
            "/api/v1/service-items/{county}/{id}",
            C::ManageServices,
            |e| in_county(e, e.a.item),
            item_body,
        ),
        case(
            M::POST,
            "/api/v1/service-categories",
            C::CountyServices,
            no_args,
            |e| {
                json(
                    json!({"code": format!("cat{}", e.n), "label": format!("类别{}", e.n),
                "county_code": e.a.grid.county_code.as_i64()}),
                )
            },
        ),
    ]
}

/// Pages on an area's objects.
pub(super) fn pages() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/providers/new?person={person}",
            C::ManageServices,
            person_q,
            none,
        ),
        case(
            M::GET,
            "/providers/{county}/{id}/edit",
            C::ManageServices,
            |e| in_county(e, e.a.provider),
            none,
        ),
    ]
}

/// Forms posted on an area's objects.
pub(super) fn forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::POST, "/providers/new", C::ManageServices, no_args, |e| {
            form(&[
                ("person", key(e.a.person.0, e.a.person.1)),
                ("kind", "volunteer".into()),
                ("capacity", "2".into()),
                (
                    "areas",
                    key(e.a.grid.county_code.as_i64(), e.a.grid.id.get()),
                ),
            ])
        }),
        case(
            M::POST,
            "/providers/{county}/{id}/edit",
            C::ManageServices,
            |e| in_county(e, e.a.provider),
            |e| {
                form(&[
                    ("version", STALE.to_string()),
                    ("capacity", "9".into()),
                    (
                        "areas",
                        key(e.a.grid.county_code.as_i64(), e.a.grid.id.get()),
                    ),
                ])
            },
        ),
        case(
            M::POST,
            "/service-items/new",
            C::ManageServices,
            no_args,
            |e| {
                form(&[
                    (
                        "unit",
                        key(e.a.grid.county_code.as_i64(), e.a.grid.id.get()),
                    ),
                    ("category", "meals".into()),
                    ("name", format!("送餐{}", e.n)),
                    ("skills", "做饭".into()),
                    ("duration_minutes", "30".into()),
                    ("points", "1".into()),
                    ("hours_minutes", "30".into()),
                    ("sla_minutes", "60".into()),
                ])
            },
        ),
    ]
}

/// API lists and the caller's own things: reads only.
pub(super) fn lists() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/api/v1/providers", C::List(P::ViewServices)),
        get("/api/v1/service-items", C::Anyone),
        get("/api/v1/service-categories", C::Anyone),
    ]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/providers", C::List(P::ViewServices)),
        get("/providers/new", C::List(P::ManageServices)),
        get("/service-items", C::Staff),
        get("/service-items/new", C::List(P::ManageServices)),
    ]
}
