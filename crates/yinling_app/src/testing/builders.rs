//! Inputs for tests: each names only what the test sets apart.

use yinling_domain::{org::OrgKind, role::Role};

use super::PASSWORD;
use crate::{accounts::NewAccountInput, org::NewUnitInput};

/// An account to create in a test: `display_name` is the username, the password is
/// [`PASSWORD`] and need not be changed, no linked person. Override any field with
/// `NewAccountInput { must_change_password: true, ..account(…) }`.
pub fn account(username: impl Into<String>, role: Role, unit: (i64, i64)) -> NewAccountInput {
    let username = username.into();
    NewAccountInput {
        display_name: username.clone(),
        username,
        password: PASSWORD.into(),
        role,
        unit_county_code: unit.0,
        unit_id: unit.1,
        must_change_password: false,
        person_county_code: None,
        person_id: None,
    }
}

/// A unit to create in a test: a kind and a name, nothing else.
pub fn unit(kind: OrgKind, name: impl Into<String>) -> NewUnitInput {
    NewUnitInput {
        kind,
        name: name.into(),
        region_code: None,
        address: None,
        lat: None,
        lng: None,
        geojson: None,
    }
}
