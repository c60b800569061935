//! Isolation cases of the organisation: units, members and places.

use super::*;

/// API operations on an area's objects.
pub(super) fn api() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/api/v1/org/units/{county}/{id}",
            C::ViewOrg,
            grid,
            none,
        ),
        case(
            M::PATCH,
            "/api/v1/org/units/{county}/{id}",
            C::ManageOrg,
            household,
            |_| json(json!({"name": "改名", "version": STALE})),
        ),
        case(
            M::POST,
            "/api/v1/org/units/{county}/{id}/children",
            C::ManageOrg,
            grid,
            |_| json(json!({"kind": "central_household", "name": "某党员中心户"})),
        ),
        case(
            M::POST,
            "/api/v1/org/units/{county}/{id}/move",
            C::ManageOrg,
            household,
            |e| {
                json(
                    json!({"parent_county_code": e.a.grid.county_code.as_i64(), "parent_id": e.a.grid.id}),
                )
            },
        ),
        case(
            M::GET,
            "/api/v1/org/units/{county}/{id}/members",
            C::ViewPeople,
            grid,
            none,
        ),
        case(
            M::PUT,
            "/api/v1/org/units/{county}/{id}/boundary",
            C::ManageOrg,
            grid,
            |_| json(json!({"geojson": null})),
        ),
        case(
            M::GET,
            "/api/v1/org/units/{county}/{id}/places",
            C::ViewPeople,
            grid,
            none,
        ),
        case(
            M::POST,
            "/api/v1/org/units/{county}/{id}/places",
            C::EditPeople,
            grid,
            |_| json(json!({"kind": "building", "label": "9号楼"})),
        ),
        case(
            M::POST,
            "/api/v1/org/units/{county}/{id}/service-items",
            C::ManageServices,
            grid,
            item_body,
        ),
        case(
            M::POST,
            "/api/v1/org/units/{county}/{id}/dispatch-all",
            C::Dispatch,
            grid,
            none,
        ),
    ]
}

/// Pages on an area's objects.
pub(super) fn pages() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::GET, "/org/{county}/{id}", C::ViewOrg, grid, none),
        case(
            M::GET,
            "/org/{county}/{id}/members",
            C::ViewPeople,
            grid,
            none,
        ),
        case(
            M::GET,
            "/org/{county}/{id}/places",
            C::ViewPeople,
            grid,
            none,
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
            "/org/{county}/{id}/children",
            C::ManageOrg,
            grid,
            |_| {
                form(&[
                    ("kind", "central_household".into()),
                    ("name", "某党员中心户".into()),
                ])
            },
        ),
        case(
            M::POST,
            "/org/{county}/{id}/edit",
            C::ManageOrg,
            household,
            |_| form(&[("name", "改名".into()), ("version", STALE.to_string())]),
        ),
        case(
            M::POST,
            "/org/{county}/{id}/move",
            C::ManageOrg,
            household,
            |e| {
                form(&[(
                    "parent",
                    key(e.a.grid.county_code.as_i64(), e.a.grid.id.get()),
                )])
            },
        ),
        case(
            M::POST,
            "/org/{county}/{id}/boundary",
            C::ManageOrg,
            grid,
            |_| form(&[("geojson", String::new())]),
        ),
        case(
            M::POST,
            "/org/{county}/{id}/places",
            C::EditPeople,
            grid,
            |_| form(&[("kind", "building".into()), ("label", "9号楼".into())]),
        ),
    ]
}

/// API lists and the caller's own things: reads only.
pub(super) fn lists() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![get("/api/v1/org/units", C::List(P::ViewPeople))]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![get("/org", C::List(P::ViewPeople))]
}
