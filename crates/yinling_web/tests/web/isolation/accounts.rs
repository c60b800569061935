//! Isolation cases of accounts: users, grants, passwords, the signed-in account and its session.

use super::*;

/// API operations on an area's objects.
pub(super) fn api() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::POST, "/api/v1/users", C::ManageUsers, no_args, |e| {
            json(
                json!({"username": format!("made{}", e.n), "display_name": "某",
                "password": "Aa-123456789xyz", "role": "volunteer",
                "unit_county_code": e.a.grid.county_code.as_i64(), "unit_id": e.a.grid.id}),
            )
        }),
        case(M::GET, "/api/v1/users/{id}", C::ManageUsers, account, none),
        case(
            M::POST,
            "/api/v1/users/{id}/grants",
            C::ManageUsers,
            account,
            |e| {
                json(
                    json!({"role": "volunteer", "unit_county_code": e.a.grid.county_code.as_i64(),
                "unit_id": e.a.grid.id}),
                )
            },
        ),
        case(
            M::DELETE,
            "/api/v1/users/{id}/grants/{grant_id}",
            C::ManageUsers,
            |e| vec![e.a.account.to_string(), e.fresh.to_string()],
            none,
        )
        .fresh(Fresh::Grant),
    ]
}

/// Pages on an area's objects.
pub(super) fn pages() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![case(M::GET, "/users/{id}", C::ManageUsers, account, none)]
}

/// Forms posted on an area's objects.
pub(super) fn forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::POST, "/users/new", C::ManageUsers, no_args, |e| {
            form(&[
                ("username", format!("pagemade{}", e.n)),
                ("display_name", "某".into()),
                ("password", "Aa-123456789xyz".into()),
                ("role", "volunteer".into()),
                (
                    "unit",
                    key(e.a.grid.county_code.as_i64(), e.a.grid.id.get()),
                ),
            ])
        }),
        case(
            M::POST,
            "/users/{id}/grants",
            C::ManageUsers,
            account,
            |e| {
                form(&[
                    ("role", "volunteer".into()),
                    (
                        "unit",
                        key(e.a.grid.county_code.as_i64(), e.a.grid.id.get()),
                    ),
                ])
            },
        ),
        case(
            M::POST,
            "/users/{id}/grants/{grant}/remove",
            C::ManageUsers,
            |e| vec![e.a.account.to_string(), e.fresh.to_string()],
            |_| form(&[]),
        )
        .fresh(Fresh::Grant),
        case(
            M::POST,
            "/users/{id}/password",
            C::ManageUsers,
            account,
            |_| form(&[("password", "Bb-987654321xyz".into())]),
        ),
        case(
            M::POST,
            "/users/{id}/disabled",
            C::ManageUsers,
            account,
            |_| form(&[("disabled", "0".into())]),
        ),
    ]
}

/// API lists and the caller's own things: reads only.
pub(super) fn lists() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/api/v1/users", C::List(P::ManageUsers)),
        get("/api/v1/me", C::Anyone),
    ]
}

/// API writes without an area.
pub(super) fn list_posts() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![case(
        M::POST,
        "/api/v1/me/password",
        C::Anyone,
        no_args,
        |_| json(json!({"current": "wrong-password", "new": "Cc-123456789xyz"})),
    )]
}

/// List pages and the caller's own pages: reads only.
pub(super) fn list_pages() -> Vec<Case> {
    use Class as C;
    use Perm as P;
    vec![
        get("/", C::Anyone),
        get("/account", C::Anyone),
        get("/account/password", C::Anyone),
        get("/users", C::List(P::ManageUsers)),
        get("/users/new", C::List(P::ManageUsers)),
    ]
}

/// Forms without an area.
pub(super) fn list_forms() -> Vec<Case> {
    use Class as C;
    use Method as M;
    vec![
        case(M::POST, "/account/password", C::Anyone, no_args, |_| {
            form(&[
                ("current", "wrong-password".into()),
                ("new", "Cc-123456789xyz".into()),
                ("confirm", "Cc-123456789xyz".into()),
            ])
        }),
        case(M::POST, "/elder-mode", C::Anyone, no_args, |_| {
            form(&[("on", "0".into()), ("next", "/".into())])
        }),
        case(M::POST, "/session/ping", C::Anyone, no_args, |_| form(&[])),
    ]
}
