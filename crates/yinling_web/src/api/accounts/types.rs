//! The wire types of accounts: what `/api/v1/session`, `/api/v1/me` and `/api/v1/users` read
//! and answer. Mapped from the app's views and rows with `From`, so a renamed column or view
//! field is a compile error here, not a change on the wire; each keeps its published schema
//! name (`#[schema(as = …)]`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yinling_app::{
    Grant,
    accounts::{AccountView, NewAccountInput},
};
use yinling_domain::role::Role;
use yinling_store::accounts::{AccountListRow, AccountRow};

use crate::api::kernel::Micros;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// The session token: send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// For cookie-authenticated writes: send it as `X-CSRF-Token`.
    pub csrf_token: String,
    pub must_change_password: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub account_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<GrantResponse>,
    pub elder_mode: bool,
    /// The caller's own person file, "county/id".
    pub person: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordRequest {
    pub old_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantRequest {
    pub role: Role,
    pub unit_county_code: i64,
    pub unit_id: i64,
}

/// One role on one subtree.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Grant)]
pub struct GrantResponse {
    pub id: i64,
    pub role: Role,
    pub unit_county_code: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub path: String,
}

impl From<Grant> for GrantResponse {
    fn from(g: Grant) -> Self {
        GrantResponse {
            id: g.id,
            role: g.role,
            unit_county_code: g.unit_county_code,
            unit_id: g.unit_id,
            unit_name: g.unit_name,
            path: g.path.to_string(),
        }
    }
}

/// An account row for lists, with its roles summarised.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = AccountListRow)]
pub struct AccountListItemResponse {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub locked_until: Option<Micros>,
    pub last_login_at: Option<Micros>,
}

impl From<AccountListRow> for AccountListItemResponse {
    fn from(r: AccountListRow) -> Self {
        AccountListItemResponse {
            id: r.id.get(),
            username: r.username,
            display_name: r.display_name,
            disabled: r.disabled,
            must_change_password: r.must_change_password,
            locked_until: r.locked_until,
            last_login_at: r.last_login_at,
        }
    }
}

// An account; never its password hash (the row skips it too).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = AccountRow)]
pub struct AccountResponse {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub person_county_code: Option<i64>,
    pub person_id: Option<i64>,
    pub must_change_password: bool,
    pub failed_logins: i64,
    pub locked_until: Option<Micros>,
    pub disabled: bool,
    pub elder_mode: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub password_changed_at: Option<Micros>,
    pub last_login_at: Option<Micros>,
}

impl From<AccountRow> for AccountResponse {
    fn from(r: AccountRow) -> Self {
        AccountResponse {
            id: r.id.get(),
            username: r.username,
            display_name: r.display_name,
            person_county_code: r.person_county_code.map(|c| c.as_i64()),
            person_id: r.person_id.map(|i| i.get()),
            must_change_password: r.must_change_password,
            failed_logins: r.failed_logins,
            locked_until: r.locked_until,
            disabled: r.disabled,
            elder_mode: r.elder_mode,
            created_at: r.created_at,
            updated_at: r.updated_at,
            password_changed_at: r.password_changed_at,
            last_login_at: r.last_login_at,
        }
    }
}

/// An account as shown to administrators.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = AccountView)]
pub struct AccountViewResponse {
    pub account: AccountResponse,
    pub grants: Vec<GrantResponse>,
}

impl From<AccountView> for AccountViewResponse {
    fn from(v: AccountView) -> Self {
        AccountViewResponse {
            account: v.account.into(),
            grants: v.grants.into_iter().map(Into::into).collect(),
        }
    }
}

/// What a new account needs.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = NewAccountInput)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    /// The initial password; the user must change it at first login unless
    /// `must_change_password` is false (scripted set-ups only).
    pub password: String,
    pub role: Role,
    pub unit_county_code: i64,
    pub unit_id: i64,
    #[serde(default = "yes")]
    pub must_change_password: bool,
    /// Link to the person's own file (residents, volunteers).
    #[serde(default)]
    pub person_county_code: Option<i64>,
    #[serde(default)]
    pub person_id: Option<i64>,
}

fn yes() -> bool {
    true
}

impl From<NewAccount> for NewAccountInput {
    fn from(a: NewAccount) -> Self {
        NewAccountInput {
            username: a.username,
            display_name: a.display_name,
            password: a.password,
            role: a.role,
            unit_county_code: a.unit_county_code,
            unit_id: a.unit_id,
            must_change_password: a.must_change_password,
            person_county_code: a.person_county_code,
            person_id: a.person_id,
        }
    }
}
