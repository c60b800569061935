//! Isolation cases of redemption: shops, tills, goods, settlements, codes, reports and locks.

use super::*;

/// API operations on an area's objects.
pub(super) fn api() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/api/v1/shops/{county}/{id}/goods",
            C::Shop,
            shop,
            none,
        ),
        case(
            M::POST,
            "/api/v1/shops/{county}/{id}/goods",
            C::Shop,
            shop,
            |e| json(json!({"name": format!("大米{}", e.n), "price_points": 5, "stock": 9})),
        ),
        case(
            M::PUT,
            "/api/v1/goods/{county}/{id}",
            C::Shop,
            |e| in_county(e, e.a.goods),
            |_| json(json!({"name": "挂面", "price_points": 5, "stock": 9, "version": STALE})),
        ),
        case(
            M::POST,
            "/api/v1/shops/{county}/{id}/redemptions",
            C::Shop,
            shop,
            |e| {
                json(json!({"code": e.code, "goods_id": e.a.goods,
                "idempotency_key": format!("iso-till-{}", e.n)}))
            },
        )
        .fresh(Fresh::Code),
        case(
            M::GET,
            "/api/v1/shops/{county}/{id}/settlement",
            C::Shop,
            shop,
            none,
        )
        .query("?month=2026-07"),
        case(
            M::GET,
            "/api/v1/shops/{county}/{id}/settlement.xlsx",
            C::Shop,
            shop,
            none,
        )
        .query("?month=2026-07"),
        case(
            M::POST,
            "/api/v1/redeem/redemptions/{county}/{id}/report",
            C::VolunteersRedemption,
            |e| in_county(e, e.x.redemption),
            none,
        ),
        case(
            M::POST,
            "/api/v1/redeem/locks/{county}/{id}/lift",
            C::Oversee,
            |e| in_county(e, e.x.lock),
            none,
        ),
        case(
            M::POST,
            "/api/v1/redeem/reports/{county}/{id}/resolve",
            C::Oversee,
            |e| in_county(e, e.x.report),
            |_| json(json!({"decision": "dismiss", "note": "核实无误，是本人兑换"})),
        ),
    ]
}

/// Pages on an area's objects.
pub(super) fn pages() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::GET, "/shop/{county}/{id}", C::Shop, shop, none),
        case(
            M::GET,
            "/shop/{county}/{id}/receipt?key={key}",
            C::Till,
            |e| [shop(e), vec![format!("iso-seed-{}", e.a.grid.id)]].concat(),
            none,
        ),
        case(M::GET, "/shop/{county}/{id}/goods", C::Shop, shop, none),
        case(
            M::GET,
            "/shop/{county}/{id}/settlement",
            C::Shop,
            shop,
            none,
        ),
        case(
            M::GET,
            "/shop/{county}/{id}/settlement.xlsx",
            C::Shop,
            shop,
            none,
        ),
    ]
}

/// Forms posted on an area's objects.
pub(super) fn forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::POST, "/shop/{county}/{id}/redeem", C::Shop, shop, |e| {
            form(&[
                ("code", e.code.clone()),
                ("goods_id", e.a.goods.to_string()),
                ("idempotency_key", format!("iso-page-till-{}", e.n)),
            ])
        })
        .fresh(Fresh::Code),
        case(M::POST, "/shop/{county}/{id}/goods", C::Shop, shop, |e| {
            form(&[
                ("name", format!("面粉{}", e.n)),
                ("price_points", "5".into()),
                ("stock", "9".into()),
            ])
        }),
        case(
            M::POST,
            "/shop/{county}/{id}/goods/{goods}",
            C::Shop,
            |e| [shop(e), vec![e.a.goods.to_string()]].concat(),
            |_| {
                form(&[
                    ("name", "挂面".into()),
                    ("price_points", "5".into()),
                    ("stock", "9".into()),
                    ("version", STALE.to_string()),
                ])
            },
        ),
    ]
}

/// Forms of redemption oversight (reports and locks), posted after the ledger's forms (see `page_cases`).
pub(super) fn oversight_forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::POST,
            "/points/redemptions/{county}/{id}/report",
            C::VolunteersRedemption,
            |e| in_county(e, e.x.redemption),
            |_| form(&[]),
        ),
        case(
            M::POST,
            "/ledger/redeem-locks/{county}/{id}/lift",
            C::Oversee,
            |e| in_county(e, e.x.lock),
            |_| form(&[]),
        ),
        case(
            M::POST,
            "/ledger/redeem-reports/{county}/{id}/resolve",
            C::Oversee,
            |e| in_county(e, e.x.report),
            |_| {
                form(&[
                    ("decision", "dismiss".into()),
                    ("note", "核实无误，是本人兑换".into()),
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
        get("/api/v1/redeem/locks", C::List(P::Oversee)),
        get("/api/v1/redeem/reports", C::List(P::Oversee)),
        get("/api/v1/redeem/mine", C::Personal),
        get("/api/v1/redeem/receipt", C::Personal),
        get("/api/v1/shops/mine", C::Merchants),
    ]
}

/// API writes without an area.
pub(super) fn list_posts() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![case(
        M::POST,
        "/api/v1/redeem/codes",
        C::ResidentOnly,
        no_args,
        none,
    )]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/points/redeem", C::Personal),
        get("/points/receipt", C::Personal),
        get("/shop", C::Merchants),
        get("/ledger/redeem-locks", C::List(P::Oversee)),
        get("/ledger/redeem-reports", C::List(P::Oversee)),
    ]
}

/// Forms without an area.
pub(super) fn list_forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/points/redeem/{code}",
            C::ResidentOnly,
            |e| vec![e.code.clone()],
            none,
        )
        .fresh(Fresh::Code),
        case(M::POST, "/points/redeem", C::ResidentOnly, no_args, |_| {
            form(&[])
        }),
    ]
}
