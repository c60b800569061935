//! Account administration: creating accounts, granting roles on subtrees, resetting
//! passwords. Nobody grants a role above their own or outside their scope.
//!
//! One rule decides whom a caller administers (views, lists, resets — which unlocks —,
//! disables, enables, grants to and revokes from): **every** grant of the target account
//! must lie inside the caller's ManageUsers scope and hold a role the caller's best managing
//! role over that grant's unit ranks above ([`Role::manages`]; city administrators
//! administer one another). An account without grants is administered only by city
//! administrators. The command line (the system caller) administers everyone. An account out
//! of reach answers exactly like a missing one, and a refused reset, disable, enable, grant or
//! revoke leaves an `account.refused` audit record committed on its own.

use serde::{Deserialize, Serialize};
use yinling_domain::scope::Scope;
use yinling_domain::{
    org::{OrgKind, OrgPath},
    role::{Permission, Role},
};
use yinling_store::{
    accounts::sessions,
    accounts::{self, AccountListRow, AccountRow, NewAccount, NewGrant, Reach},
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    org as store_org,
};

use super::Accounts;
use crate::kernel::text::{Label, ReadField};
use crate::{
    AppError, AppResult, Caller, Grant, Page, PageRequest,
    accounts::{grant_of_row, hash_password, normalise_username},
    kernel::audit::Event,
};

/// Whether `caller` administers an account holding `grants` (the rule in the module
/// documentation). `complete` is false when a stored grant could not be read: such an
/// account is left to the command line.
fn administers(caller: &Caller, grants: &[Grant], complete: bool) -> bool {
    if caller.is_system() {
        return true;
    }
    if !complete || !caller.may(Permission::ManageUsers) {
        return false;
    }
    if grants.is_empty() {
        return caller.is_city_admin();
    }
    grants.iter().all(|g| caller.manages_grant(g.role, &g.path))
}

/// The same rule as data for the account list's SQL: each subtree where the caller
/// administers accounts, with the roles administered there.
fn reach(caller: &Caller) -> Vec<Reach> {
    let roles = |mine: Role| -> Vec<&'static str> {
        Role::ALL
            .into_iter()
            .filter(|r| mine.manages(*r))
            .map(Role::as_str)
            .collect()
    };
    if caller.is_system() {
        return vec![Reach {
            subtree: caller.scope(Permission::ManageUsers),
            roles: roles(Role::CityAdmin),
        }];
    }
    caller
        .grants
        .iter()
        .filter(|g| g.role.allows(Permission::ManageUsers))
        .map(|g| Reach {
            subtree: Scope::from_paths([g.path.clone()]),
            roles: roles(g.role),
        })
        .collect()
}

/// What a new account needs.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NewAccountInput {
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

/// An account as shown to administrators.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub account: AccountRow,
    pub grants: Vec<Grant>,
}

impl Accounts<'_> {
    /// Checks that `caller` may grant `role` on unit (county, id); returns the unit's path.
    async fn check_grantable(
        &self,
        caller: &Caller,
        role: Role,
        county: i64,
        unit_id: i64,
    ) -> AppResult<OrgPath> {
        let unit = store_org::get(
            &mut self.app.store().read(),
            crate::org::unit_key(county, unit_id)?,
        )
        .await?
        .ok_or(AppError::NotFound { what: "组织" })?;
        let path = OrgPath::parse(&unit.path).map_err(|e| AppError::Internal(e.to_string()))?;
        // No managing role over the unit: it lies outside the caller's ManageUsers scope.
        let mine = caller
            .manager_over(&path)
            .ok_or(AppError::NotFound { what: "组织" })?;
        if !mine.manages(role) {
            return Err(AppError::forbidden(format!(
                "您的角色（{}）不能授予“{}”",
                mine.label_zh(),
                role.label_zh()
            )));
        }
        let kind = OrgKind::parse(unit.kind.as_str()).unwrap_or(OrgKind::Other);
        if !role.fits_unit(kind) {
            return Err(AppError::invalid(
                "role_unit_mismatch",
                "unit",
                format!("“{}”不能授予在{}上", role.label_zh(), kind.label_zh()),
            ));
        }
        Ok(path)
    }

    #[tracing::instrument(name = "accounts.create", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn create(self, caller: &Caller, input: NewAccountInput) -> AppResult<i64> {
        if !caller.may(Permission::ManageUsers) {
            return Err(AppError::forbidden("您无权管理账号"));
        }
        let username = normalise_username(&input.username)?;
        let display_name = String::from(Label::<30>::read(
            &input.display_name,
            "display_name",
            "姓名",
        )?);
        self.app
            .settings()
            .security
            .password_policy()
            .check(&input.password, &username)
            .map_err(|e| AppError::invalid("weak_password", "password", e.to_string()))?;
        let path = self
            .check_grantable(caller, input.role, input.unit_county_code, input.unit_id)
            .await?;
        let person = match (input.person_county_code, input.person_id) {
            (Some(c), Some(p)) => {
                // Linking a person file needs the person in scope.
                self.app
                    .people()
                    .in_scope(
                        caller,
                        Permission::ViewPeople,
                        crate::people::person_key(c, p)?,
                    )
                    .await?;
                Some((c, p))
            }
            _ => None,
        };
        let hash = hash_password(&input.password)?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        if accounts::by_username(&mut tx.exec(), &username)
            .await?
            .is_some()
        {
            return Err(AppError::conflict(
                "username_taken",
                Some("username"),
                "该用户名已被使用",
            ));
        }
        let id = ids::next(&mut tx.exec(), Seq::Accounts).await?;
        accounts::insert(
            &mut tx.exec(),
            &NewAccount {
                id: yinling_domain::ids::AccountId(id),
                username: username.clone(),
                display_name: display_name.clone(),
                person_county_code: person
                    .map(|p| crate::kernel::key::stored_county(p.0))
                    .transpose()?,
                person_id: person.map(|p| yinling_domain::ids::PersonId(p.1)),
                password_hash: hash,
                must_change_password: input.must_change_password,
                now,
            },
        )
        .await?;
        let grant_id = ids::next(&mut tx.exec(), Seq::Grants).await?;
        accounts::insert_grant(
            &mut tx.exec(),
            &NewGrant {
                id: grant_id,
                account_id: yinling_domain::ids::AccountId(id),
                role: input.role,
                unit_county_code: crate::kernel::key::stored_county(input.unit_county_code)?,
                unit_id: yinling_domain::ids::UnitId(input.unit_id),
                path: path.to_string(),
                created_by: caller.account_id.map(yinling_domain::ids::AccountId),
                now,
            },
        )
        .await?;
        let after = serde_json::json!({"username": username, "display_name": display_name,
            "role": input.role.as_str(), "unit": path.as_str()});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: input.unit_county_code,
                action: "account.create",
                entity: "account",
                entity_key: id.to_string(),
                before: None,
                after: Some(&after),
                detail: Some(format!("{}@{}", input.role.as_str(), path)),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Loads an account the caller administers (every grant of it within reach; see the
    /// module documentation). Missing and out-of-reach accounts answer alike.
    #[tracing::instrument(name = "accounts.get", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, id = id))]
    pub async fn get(self, caller: &Caller, id: i64) -> AppResult<AccountView> {
        let not_found = || AppError::NotFound { what: "账号" };
        if !caller.may(Permission::ManageUsers) {
            return Err(not_found());
        }
        let account = accounts::get(
            &mut self.app.store().read(),
            yinling_domain::ids::AccountId(id),
        )
        .await?
        .ok_or_else(not_found)?;
        let rows = accounts::grants_of(
            &mut self.app.store().read(),
            yinling_domain::ids::AccountId(id),
        )
        .await?;
        let stored = rows.len();
        let grants: Vec<Grant> = rows.into_iter().filter_map(grant_of_row).collect();
        if !administers(caller, &grants, grants.len() == stored) {
            return Err(not_found());
        }
        Ok(AccountView { account, grants })
    }

    pub async fn list(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> AppResult<Page<AccountListRow>> {
        if !caller.may(Permission::ManageUsers) {
            return Err(AppError::forbidden("您无权管理账号"));
        }
        let (items, total) = accounts::list(
            &mut self.app.store().read(),
            &reach(caller),
            caller.is_city_admin(),
            page.per_page,
            page.offset(),
        )
        .await?;
        Ok(Page {
            items,
            total,
            total_is_lower_bound: false,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Passes `result` through; a refusal (not found or forbidden) of `action` on the account
    /// is first recorded as `account.refused` in a transaction of its own, so the attempt
    /// stays on record although nothing changed. The record goes to chain 0 (events outside
    /// any county, read by city administrators) with the same detail whether the account is
    /// missing or out of reach.
    async fn refusal_audited<T>(
        &self,
        caller: &Caller,
        account_id: i64,
        action: &str,
        result: AppResult<T>,
    ) -> AppResult<T> {
        let outcome = match &result {
            Err(AppError::NotFound { .. }) => "not_found",
            Err(AppError::Forbidden { .. }) => "forbidden",
            _ => return result,
        };
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: 0,
                action: "account.refused",
                entity: "account",
                entity_key: account_id.to_string(),
                before: None,
                after: None,
                detail: Some(format!("{action}: {outcome}")),
            },
        );
        let mut tx = self.app.store().begin().await?;
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        result
    }

    pub async fn add_grant(
        &self,
        caller: &Caller,
        account_id: i64,
        role: Role,
        county: i64,
        unit_id: i64,
    ) -> AppResult<i64> {
        let result = self
            .add_grant_checked(caller, account_id, role, county, unit_id)
            .await;
        let action = format!("grant {}@{county}/{unit_id}", role.as_str());
        self.refusal_audited(caller, account_id, &action, result)
            .await
    }

    async fn add_grant_checked(
        &self,
        caller: &Caller,
        account_id: i64,
        role: Role,
        county: i64,
        unit_id: i64,
    ) -> AppResult<i64> {
        let view = self.get(caller, account_id).await?;
        let path = self.check_grantable(caller, role, county, unit_id).await?;
        if view
            .grants
            .iter()
            .any(|g| g.role == role && g.unit_id == unit_id && g.unit_county_code == county)
        {
            return Err(AppError::conflict(
                "grant_exists",
                Some("role"),
                "该账号已有此角色",
            ));
        }
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let grant_id = ids::next(&mut tx.exec(), Seq::Grants).await?;
        accounts::insert_grant(
            &mut tx.exec(),
            &NewGrant {
                id: grant_id,
                account_id: yinling_domain::ids::AccountId(account_id),
                role,
                unit_county_code: crate::kernel::key::stored_county(county)?,
                unit_id: yinling_domain::ids::UnitId(unit_id),
                path: path.to_string(),
                created_by: caller.account_id.map(yinling_domain::ids::AccountId),
                now,
            },
        )
        .await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "account.grant",
                entity: "account",
                entity_key: account_id.to_string(),
                before: None,
                after: None,
                detail: Some(format!("{}@{}", role.as_str(), path)),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(grant_id)
    }

    pub async fn remove_grant(
        &self,
        caller: &Caller,
        account_id: i64,
        grant_id: i64,
    ) -> AppResult<()> {
        let result = self
            .remove_grant_checked(caller, account_id, grant_id)
            .await;
        let action = format!("revoke grant {grant_id}");
        self.refusal_audited(caller, account_id, &action, result)
            .await
    }

    async fn remove_grant_checked(
        &self,
        caller: &Caller,
        account_id: i64,
        grant_id: i64,
    ) -> AppResult<()> {
        let view = self.get(caller, account_id).await?;
        let grant = view
            .grants
            .iter()
            .find(|g| g.id == grant_id)
            .ok_or(AppError::NotFound { what: "角色" })?;
        // Already implied by `get_account` (every grant is administered); kept next to the
        // write it guards.
        if !caller.manages_grant(grant.role, &grant.path) {
            return Err(AppError::forbidden("您无权撤销该角色"));
        }
        if caller.account_id == Some(account_id) && view.grants.len() == 1 {
            return Err(AppError::forbidden("不能撤销自己唯一的角色"));
        }
        let mut tx = self.app.store().begin().await?;
        accounts::delete_grant(
            &mut tx.exec(),
            yinling_domain::ids::AccountId(account_id),
            grant_id,
        )
        .await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: grant.unit_county_code,
                action: "account.revoke",
                entity: "account",
                entity_key: account_id.to_string(),
                before: None,
                after: None,
                detail: Some(format!("{}@{}", grant.role.as_str(), grant.path)),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new initial password (the user must change it) and unlocks the account. Not
    /// for one's own account: that goes through the password change, which asks for the
    /// current password.
    pub async fn reset_password(
        &self,
        caller: &Caller,
        account_id: i64,
        new_initial: &str,
        must_change: bool,
    ) -> AppResult<()> {
        let result = self
            .reset_password_checked(caller, account_id, new_initial, must_change)
            .await;
        self.refusal_audited(caller, account_id, "password_reset", result)
            .await
    }

    async fn reset_password_checked(
        &self,
        caller: &Caller,
        account_id: i64,
        new_initial: &str,
        must_change: bool,
    ) -> AppResult<()> {
        let view = self.get(caller, account_id).await?;
        if caller.account_id == Some(account_id) {
            return Err(AppError::forbidden(
                "不能在这里重置自己的密码，请到“我的账号”中修改密码",
            ));
        }
        self.app
            .settings()
            .security
            .password_policy()
            .check(new_initial, &view.account.username)
            .map_err(|e| AppError::invalid("weak_password", "password", e.to_string()))?;
        let hash = hash_password(new_initial)?;
        let mut tx = self.app.store().begin().await?;
        accounts::set_password(
            &mut tx.exec(),
            account_id,
            &hash,
            must_change,
            self.app.now(),
        )
        .await?;
        sessions::delete_for_account(&mut tx.exec(), account_id).await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: 0,
                action: "account.password_reset",
                entity: "account",
                entity_key: account_id.to_string(),
                before: None,
                after: None,
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_disabled(
        &self,
        caller: &Caller,
        account_id: i64,
        disabled: bool,
    ) -> AppResult<()> {
        let result = self
            .set_disabled_checked(caller, account_id, disabled)
            .await;
        let action = if disabled { "disable" } else { "enable" };
        self.refusal_audited(caller, account_id, action, result)
            .await
    }

    async fn set_disabled_checked(
        &self,
        caller: &Caller,
        account_id: i64,
        disabled: bool,
    ) -> AppResult<()> {
        self.get(caller, account_id).await?;
        if caller.account_id == Some(account_id) {
            return Err(AppError::forbidden("不能停用自己的账号"));
        }
        let mut tx = self.app.store().begin().await?;
        accounts::set_disabled(
            &mut tx.exec(),
            yinling_domain::ids::AccountId(account_id),
            disabled,
            self.app.now(),
        )
        .await?;
        if disabled {
            sessions::delete_for_account(&mut tx.exec(), account_id).await?;
        }
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: 0,
                action: if disabled {
                    "account.disable"
                } else {
                    "account.enable"
                },
                entity: "account",
                entity_key: account_id.to_string(),
                before: None,
                after: None,
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(name = "accounts.by_id", skip_all, err(level = "debug"), fields(id = id))]
    pub async fn by_id(self, id: i64) -> AppResult<Option<AccountRow>> {
        Ok(accounts::get(
            &mut self.app.store().read(),
            yinling_domain::ids::AccountId(id),
        )
        .await?)
    }

    /// Looks an account up by username for the command line.
    #[tracing::instrument(name = "accounts.by_username", skip_all, err(level = "debug"))]
    pub async fn by_username(self, username: &str) -> AppResult<Option<AccountRow>> {
        Ok(accounts::by_username(
            &mut self.app.store().read(),
            &username.trim().to_lowercase(),
        )
        .await?)
    }
}
