//! Isolation cases of the time bank: gifts of hours.

use super::*;

/// API writes without an area.
pub(super) fn list_posts() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![case(
        M::POST,
        "/api/v1/timebank/gifts",
        C::Personal,
        no_args,
        |e| {
            json(
                json!({"to": {"county_code": e.a.volunteer.0, "id": e.a.volunteer.1},
                "minutes": 1, "idempotency_key": format!("iso-gift-{}", e.n)}),
            )
        },
    )]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    vec![
        get("/points/gift", C::Personal),
        get("/points/gift/confirm", C::Personal),
    ]
}

/// Forms without an area.
pub(super) fn list_forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![case(M::POST, "/points/gift", C::Personal, no_args, |e| {
        form(&[
            ("to", key(e.a.volunteer.0, e.a.volunteer.1)),
            ("minutes", "1".into()),
            ("idempotency_key", format!("iso-page-gift-{}", e.n)),
        ])
    })]
}
