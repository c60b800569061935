//! Isolation cases of people: files, roles, skills, tags, the tag vocabulary and duplicate review.

use super::*;

/// API operations on an area's objects.
pub(super) fn api() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(
            M::GET,
            "/api/v1/people/{county}/{id}",
            C::ViewPerson,
            person,
            none,
        ),
        case(
            M::PUT,
            "/api/v1/people/{county}/{id}",
            C::EditPeople,
            person,
            |e| {
                json(json!({"name": e.a.names[0], "id_number": new_id(e),
                "home_unit_county_code": e.a.grid.county_code.as_i64(), "home_unit_id": e.a.grid.id,
                "version": STALE}))
            },
        ),
        case(
            M::POST,
            "/api/v1/people/{county}/{id}/reveal",
            C::Reveal,
            person,
            |_| json(json!({"field": "id_number"})),
        ),
        case(
            M::POST,
            "/api/v1/people/{county}/{id}/roles",
            C::EditPeople,
            person,
            |_| json(json!({"kind": "volunteer"})),
        ),
        case(
            M::DELETE,
            "/api/v1/people/{county}/{id}/roles/{role_id}",
            C::EditPeople,
            |e| [person(e), vec![e.fresh.to_string()]].concat(),
            none,
        )
        .fresh(Fresh::Role),
        case(
            M::PUT,
            "/api/v1/people/{county}/{id}/skills",
            C::EditPeople,
            person,
            |_| json(json!({"skills": ["理发"]})),
        ),
        case(
            M::POST,
            "/api/v1/people/{county}/{id}/tags",
            C::EditPeople,
            person,
            |e| json(json!({"tag_id": e.tag})),
        ),
        case(
            M::DELETE,
            "/api/v1/people/{county}/{id}/tags/{tag_row_id}",
            C::EditPeople,
            |e| [person(e), vec![e.fresh.to_string()]].concat(),
            none,
        )
        .fresh(Fresh::Tag),
        case(M::POST, "/api/v1/people", C::EditPeople, no_args, |e| {
            json(json!({"name": "某某", "id_number": new_id(e),
                "home_unit_county_code": e.a.grid.county_code.as_i64(), "home_unit_id": e.a.grid.id}))
        }),
    ]
}

/// Runs after every other capability's API cases and before the last ones (see `api_cases`).
pub(super) fn api_stale() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        // A stale version: a reviewer passes the scope check and meets 409, nothing closes.
        case(
            M::POST,
            "/api/v1/people/duplicates/{county}/{id}/decision",
            C::ReviewDuplicates,
            |e| in_county(e, e.x.duplicate),
            |_| json(json!({"decision": "reject", "version": 0})),
        ),
    ]
}

/// Pages on an area's objects.
pub(super) fn pages() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::GET, "/people/{county}/{id}", C::ViewPerson, person, none),
        case(
            M::GET,
            "/people/{county}/{id}/edit",
            C::EditPeople,
            person,
            none,
        ),
        case(
            M::GET,
            "/people/new?unit={unit}",
            C::ViewPeople,
            unit_q,
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
            "/people/{county}/{id}/edit",
            C::EditPeople,
            person,
            |e| {
                form(&[
                    ("name", e.a.names[0].clone()),
                    ("id_number", new_id(e)),
                    (
                        "unit",
                        key(e.a.grid.county_code.as_i64(), e.a.grid.id.get()),
                    ),
                    ("version", STALE.to_string()),
                ])
            },
        ),
        case(
            M::POST,
            "/people/{county}/{id}/reveal",
            C::Reveal,
            person,
            |_| form(&[("field", "phone".into())]),
        ),
        case(
            M::POST,
            "/people/{county}/{id}/roles",
            C::EditPeople,
            person,
            |_| form(&[("kind", "volunteer".into())]),
        ),
        case(
            M::POST,
            "/people/{county}/{id}/roles/{role}/remove",
            C::EditPeople,
            |e| [person(e), vec![e.fresh.to_string()]].concat(),
            |_| form(&[]),
        )
        .fresh(Fresh::Role),
        case(
            M::POST,
            "/people/{county}/{id}/skills",
            C::EditPeople,
            person,
            |_| form(&[("skills", "理发".into())]),
        ),
        case(
            M::POST,
            "/people/{county}/{id}/tags",
            C::EditPeople,
            person,
            |e| form(&[("tag_id", e.tag.to_string())]),
        ),
        case(
            M::POST,
            "/people/{county}/{id}/tags/{tag}/remove",
            C::EditPeople,
            |e| [person(e), vec![e.fresh.to_string()]].concat(),
            |_| form(&[]),
        )
        .fresh(Fresh::Tag),
        case(M::POST, "/people/new", C::EditPeople, no_args, |e| {
            form(&[
                ("name", "某某".into()),
                ("id_number", new_id(e)),
                (
                    "unit",
                    key(e.a.grid.county_code.as_i64(), e.a.grid.id.get()),
                ),
            ])
        }),
    ]
}

/// Runs after every other capability's forms and before the last ones (see `page_cases`).
pub(super) fn forms_stale() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        // A stale version: a reviewer passes the scope check and meets 409, nothing closes.
        case(
            M::POST,
            "/people/duplicates/{county}/{id}",
            C::ReviewDuplicates,
            |e| in_county(e, e.x.duplicate),
            |_| form(&[("decision", "reject".into()), ("version", "0".into())]),
        ),
    ]
}

/// API lists and the caller's own things: reads only.
pub(super) fn lists() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/api/v1/people", C::List(P::ViewPeople)),
        get("/api/v1/people/export", C::List(P::ViewPeople)),
        get("/api/v1/tags", C::Staff),
        get("/api/v1/people/duplicates", C::List(P::ReviewDuplicates)),
    ]
}

/// API writes without an area.
pub(super) fn list_posts() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::POST, "/api/v1/tags", C::CityWide, no_args, |e| {
            json(
                json!({"code": format!("t{}", e.n), "name": format!("标签{}", e.n), "category": "其他"}),
            )
        }),
        case(
            M::PUT,
            "/api/v1/tags/{id}",
            C::CityWide,
            |e| vec![e.tag.to_string()],
            |_| json(json!({"code": "iso_a", "name": "独居", "category": "其他"})),
        ),
    ]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/people", C::List(P::ViewPeople)),
        get("/people/export.xlsx", C::List(P::ViewPeople)),
        get("/people/new", C::List(P::Dispatch)),
        get("/tags", C::Staff),
        get("/people/duplicates", C::List(P::ReviewDuplicates)),
    ]
}

/// Forms without an area.
pub(super) fn list_forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::POST, "/tags", C::CityWide, no_args, |e| {
            form(&[
                ("code", format!("p{}", e.n)),
                ("name", format!("页面标签{}", e.n)),
                ("category", "其他".into()),
            ])
        }),
        case(
            M::POST,
            "/tags/{id}",
            C::CityWide,
            |e| vec![e.tag.to_string()],
            |_| {
                form(&[
                    ("code", "iso_a".into()),
                    ("name", "独居".into()),
                    ("category", "其他".into()),
                ])
            },
        ),
    ]
}
