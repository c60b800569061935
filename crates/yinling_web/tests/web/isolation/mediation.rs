//! Isolation cases of mediation: cases, mediators, sessions, outcomes, follow-ups and statistics.

use super::*;

/// API operations on an area's objects.
pub(super) fn api() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/api/v1/mediation/cases/{county}/{id}",
            C::ViewServices,
            |e| in_county(e, e.a.case.get()),
            none,
        ),
        case(
            M::GET,
            "/api/v1/mediation/cases/{county}/{id}/mediator-choices",
            C::Mediate,
            |e| in_county(e, e.a.case.get()),
            none,
        ),
        case(
            M::POST,
            "/api/v1/mediation/cases/{county}/{id}/mediators",
            C::Mediate,
            |e| in_county(e, e.a.case.get()),
            |e| {
                json(
                    json!({"version": STALE, "mediators": [{"kind": "person", "id": e.a.volunteer.1}]}),
                )
            },
        ),
        case(
            M::POST,
            "/api/v1/mediation/cases/{county}/{id}/sessions",
            C::Mediate,
            |e| in_county(e, e.a.case.get()),
            |_| {
                json(
                    json!({"version": STALE, "held_on": "2026-07-01", "present": [], "note": "记录"}),
                )
            },
        ),
        case(
            M::POST,
            "/api/v1/mediation/cases/{county}/{id}/outcome",
            C::Mediate,
            |e| in_county(e, e.a.case.get()),
            |_| {
                json(
                    json!({"version": STALE, "outcome": "referred", "concluded_on": "2026-07-01",
                "referred_to": "司法所"}),
                )
            },
        ),
        case(
            M::POST,
            "/api/v1/mediation/cases/{county}/{id}/follow-ups",
            C::Mediate,
            |e| in_county(e, e.a.case.get()),
            |_| json(json!({"version": STALE, "visited_on": "2026-07-01", "note": "回访"})),
        ),
        case(
            M::POST,
            "/api/v1/mediation/cases",
            C::Mediate,
            no_args,
            |e| {
                json(
                    json!({"unit_county_code": e.a.grid.county_code.as_i64(), "unit_id": e.a.grid.id,
                "category": "neighbour", "summary": "受理的纠纷",
                "parties": [{"side": "applicant", "name": "某某"}]}),
                )
            },
        ),
    ]
}

/// Pages on an area's objects.
pub(super) fn pages() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![case(
        M::GET,
        "/mediation/{county}/{id}",
        C::ViewServices,
        |e| in_county(e, e.a.case.get()),
        none,
    )]
}

/// Forms posted on an area's objects.
pub(super) fn forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::POST, "/mediation/new", C::Mediate, no_args, |e| {
            form(&[
                (
                    "unit",
                    key(e.a.grid.county_code.as_i64(), e.a.grid.id.get()),
                ),
                ("category", "neighbour".into()),
                ("summary", "受理的纠纷".into()),
                ("party_side", "applicant".into()),
                ("party_name", "某某".into()),
            ])
        }),
        case(
            M::POST,
            "/mediation/{county}/{id}/mediators",
            C::Mediate,
            |e| in_county(e, e.a.case.get()),
            |e| {
                form(&[
                    ("version", STALE.to_string()),
                    ("mediator", format!("person/{}", e.a.volunteer.1)),
                ])
            },
        ),
        case(
            M::POST,
            "/mediation/{county}/{id}/sessions",
            C::Mediate,
            |e| in_county(e, e.a.case.get()),
            |_| {
                form(&[
                    ("version", STALE.to_string()),
                    ("held_on", "2026-07-01".into()),
                    ("note", "记录".into()),
                ])
            },
        ),
        case(
            M::POST,
            "/mediation/{county}/{id}/outcome",
            C::Mediate,
            |e| in_county(e, e.a.case.get()),
            |_| {
                form(&[
                    ("version", STALE.to_string()),
                    ("outcome", "referred".into()),
                    ("concluded_on", "2026-07-01".into()),
                    ("referred_to", "司法所".into()),
                ])
            },
        ),
        case(
            M::POST,
            "/mediation/{county}/{id}/follow-ups",
            C::Mediate,
            |e| in_county(e, e.a.case.get()),
            |_| {
                form(&[
                    ("version", STALE.to_string()),
                    ("visited_on", "2026-07-01".into()),
                    ("note", "回访".into()),
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
        get("/api/v1/mediation/cases", C::List(P::ViewServices)),
        get("/api/v1/mediation/stats", C::List(P::ViewServices)),
        get("/api/v1/mediation/stats/export", C::List(P::ViewServices)),
    ]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/mediation", C::List(P::ViewServices)),
        get("/mediation/new", C::List(P::Mediate)),
        get("/mediation/stats", C::List(P::ViewServices)),
        get("/mediation/stats.xlsx", C::List(P::ViewServices)),
    ]
}
