//! Isolation cases of the points ledger: adjustments, transfers, earning rules and statements.

use super::*;

/// API operations on an area's objects.
pub(super) fn api() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/api/v1/ledger/people/{county}/{id}",
            C::ViewLedger,
            person,
            none,
        ),
        case(
            M::GET,
            "/api/v1/ledger/people/{county}/{id}/statement",
            C::ViewLedger,
            person,
            none,
        ),
        case(
            M::POST,
            "/api/v1/ledger/earn",
            C::AwardPoints,
            no_args,
            |e| {
                json(
                    json!({"person": {"county_code": e.a.person.0, "id": e.a.person.1},
                "activity": "theme_day", "source_ref": format!("a/{}", e.n),
                "idempotency_key": format!("iso-earn-{}", e.n)}),
                )
            },
        ),
        case(
            M::POST,
            "/api/v1/ledger/adjustments",
            C::AwardPoints,
            no_args,
            |e| {
                json(
                    json!({"person": {"county_code": e.a.person.0, "id": e.a.person.1},
                "unit": "points", "amount": 1, "memo": "补记活动积分"}),
                )
            },
        ),
        case(
            M::GET,
            "/api/v1/ledger/rules/{county}",
            C::PublicRules,
            county,
            none,
        ),
        case(
            M::PUT,
            "/api/v1/ledger/rules/{county}",
            C::CountyLedger,
            county,
            |e| {
                json(
                    json!({"county_code": e.a.grid.county_code.as_i64(), "daily_points_cap": null,
                "daily_minutes_cap": null, "expiry_months": null, "family_transfer": false,
                "family_max_minutes_year": 0, "version": STALE}),
                )
            },
        ),
        case(
            M::PUT,
            "/api/v1/ledger/earning-rules",
            C::CountyLedger,
            no_args,
            |e| {
                json(
                    json!({"county_code": e.a.grid.county_code.as_i64(), "source_kind": "activity",
                "code": "theme_day", "label": "主题党日", "points": 5, "minutes": 0}),
                )
            },
        ),
    ]
}

/// State-changing API cases that run last (see `api_cases`).
pub(super) fn api_last() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::POST,
            "/api/v1/ledger/adjustments/{county}/{id}/{decision}",
            C::Approve,
            |e| [in_county(e, e.a.adjustment), vec!["approve".into()]].concat(),
            none,
        ),
        case(
            M::POST,
            "/api/v1/ledger/transfers/{county}/{id}/reverse",
            C::Reverse,
            |e| in_county(e, e.a.transfer),
            |_| json(json!({"memo": "冲正一笔"})),
        ),
    ]
}

/// Forms posted on an area's objects.
pub(super) fn forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::POST,
            "/ledger/adjustments/new",
            C::AwardPoints,
            no_args,
            |e| {
                form(&[
                    ("person", key(e.a.person.0, e.a.person.1)),
                    ("unit", "points".into()),
                    ("direction", "add".into()),
                    ("amount", "1".into()),
                    ("memo", "补记活动积分".into()),
                ])
            },
        ),
        case(M::POST, "/ledger/rules", C::CountyLedger, no_args, |e| {
            form(&[
                ("county", e.a.grid.county_code.to_string()),
                ("version", STALE.to_string()),
            ])
        }),
        case(
            M::POST,
            "/ledger/rules/earning",
            C::CountyLedger,
            no_args,
            |e| {
                form(&[
                    ("county", e.a.grid.county_code.to_string()),
                    ("source_kind", "activity".into()),
                    ("code", "theme_day".into()),
                    ("label", "主题党日".into()),
                    ("points", "5".into()),
                    ("minutes", "0".into()),
                ])
            },
        ),
    ]
}

/// State-changing forms that run last (see `page_cases`).
pub(super) fn forms_last() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![case(
        M::POST,
        "/ledger/adjustments/{county}/{id}/decide",
        C::Approve,
        |e| in_county(e, e.a.adjustment),
        |_| form(&[("decision", "approve".into())]),
    )]
}

/// API lists and the caller's own things: reads only.
pub(super) fn lists() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/api/v1/ledger/me", C::Personal),
        get("/api/v1/ledger/earning-rules", C::Anyone),
        get("/api/v1/ledger/adjustments", C::List(P::AwardPoints)),
    ]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/points", C::Personal),
        get("/points/statement", C::Personal),
        get("/ledger/adjustments", C::List(P::AwardPoints)),
        get("/ledger/adjustments/new", C::List(P::AwardPoints)),
        get("/ledger/rules", C::List(P::ManageLedger)),
    ]
}
