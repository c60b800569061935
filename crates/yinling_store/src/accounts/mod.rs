//! Accounts and the roles granted to them on organisation subtrees.

pub mod caller;
pub mod sessions;
pub mod throttle;

use serde::Serialize;
use yinling_domain::{
    ids::{AccountId, PersonId, UnitId},
    org::OrgKind,
    region::CountyCode,
    role::Role,
    scope::Scope,
};

use crate::{Exec, Micros, Query, Result, StoreError, kernel::scope, q};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AccountRow {
    pub id: AccountId,
    pub username: String,
    pub display_name: String,
    pub person_county_code: Option<CountyCode>,
    pub person_id: Option<PersonId>,
    #[serde(skip)]
    pub password_hash: String,
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

const COLUMNS: &str = "id, username, display_name, person_county_code, person_id, password_hash, \
     must_change_password, failed_logins, locked_until, disabled, elder_mode, created_at, updated_at, \
     password_changed_at, last_login_at";

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: AccountId,
    pub username: String,
    pub display_name: String,
    pub person_county_code: Option<CountyCode>,
    pub person_id: Option<PersonId>,
    pub password_hash: String,
    pub must_change_password: bool,
    pub now: Micros,
}

pub async fn insert(exec: &mut Exec<'_>, a: &NewAccount) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO accounts (id, username, display_name, person_county_code, person_id, password_hash,
            must_change_password, created_at, updated_at, password_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8)",
        a.id,
        &a.username,
        &a.display_name,
        a.person_county_code,
        a.person_id,
        &a.password_hash,
        a.must_change_password,
        a.now
    ))
    .await?;
    Ok(())
}

pub async fn get(exec: &mut Exec<'_>, id: AccountId) -> Result<Option<AccountRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM accounts WHERE id = $1"),
        id
    ))
    .await
}

pub async fn by_username(exec: &mut Exec<'_>, username: &str) -> Result<Option<AccountRow>> {
    exec.fetch_optional(q!(
        format!("SELECT {COLUMNS} FROM accounts WHERE username = $1"),
        username
    ))
    .await
}

/// Records a failed login; locks the account until `lock_until` once `max` is reached. A
/// lock that has run out starts the count afresh. Returns the failure count after this
/// attempt.
pub async fn record_failure(
    exec: &mut Exec<'_>,
    id: i64,
    max: i64,
    lock_until: Micros,
    now: Micros,
) -> Result<i64> {
    exec.scalar(q!(
        "UPDATE accounts
            SET failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $4
                                     THEN 1 ELSE failed_logins + 1 END,
                locked_until = CASE
                    WHEN locked_until IS NOT NULL AND locked_until <= $4 THEN NULL
                    WHEN failed_logins + 1 >= $2 THEN $3
                    ELSE locked_until END,
                updated_at = $4
          WHERE id = $1
      RETURNING failed_logins",
        id,
        max,
        lock_until,
        now
    ))
    .await
}

pub async fn record_success(exec: &mut Exec<'_>, id: AccountId, now: Micros) -> Result<()> {
    exec.execute(q!(
        "UPDATE accounts SET failed_logins = 0, locked_until = NULL, last_login_at = $2 WHERE id = $1",
        id,
        now
    ))
    .await?;
    Ok(())
}

pub async fn set_password(
    exec: &mut Exec<'_>,
    id: i64,
    hash: &str,
    must_change: bool,
    now: Micros,
) -> Result<()> {
    let n = exec
        .execute(q!(
            "UPDATE accounts SET password_hash = $2, must_change_password = $3, password_changed_at = $4,
                    updated_at = $4, failed_logins = 0, locked_until = NULL
              WHERE id = $1",
            id,
            hash,
            must_change,
            now
        ))
        .await?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub async fn set_disabled(
    exec: &mut Exec<'_>,
    id: AccountId,
    disabled: bool,
    now: Micros,
) -> Result<()> {
    exec.execute(q!(
        "UPDATE accounts SET disabled = $2, updated_at = $3 WHERE id = $1",
        id,
        disabled,
        now
    ))
    .await?;
    Ok(())
}

pub async fn set_elder_mode(exec: &mut Exec<'_>, id: AccountId, on: bool) -> Result<()> {
    exec.execute(q!(
        "UPDATE accounts SET elder_mode = $2 WHERE id = $1",
        id,
        on
    ))
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct GrantRow {
    pub id: i64,
    pub account_id: AccountId,
    pub role: Role,
    pub unit_county_code: CountyCode,
    pub unit_id: UnitId,
    pub path: String,
    pub unit_name: Option<String>,
    pub unit_kind: Option<OrgKind>,
}

pub async fn grants_of(exec: &mut Exec<'_>, account_id: AccountId) -> Result<Vec<GrantRow>> {
    exec.fetch_all(q!(
        "SELECT g.id, g.account_id, g.role, g.unit_county_code, g.unit_id, g.path,
                u.name AS unit_name, u.kind AS unit_kind
           FROM grants g
           LEFT JOIN org_units u ON u.county_code = g.unit_county_code AND u.id = g.unit_id
          WHERE g.account_id = $1 ORDER BY g.id",
        account_id
    ))
    .await
}

#[derive(Debug, Clone)]
pub struct NewGrant {
    pub id: i64,
    pub account_id: AccountId,
    pub role: Role,
    pub unit_county_code: CountyCode,
    pub unit_id: UnitId,
    pub path: String,
    pub created_by: Option<AccountId>,
    pub now: Micros,
}

pub async fn insert_grant(exec: &mut Exec<'_>, g: &NewGrant) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO grants (id, account_id, role, unit_county_code, unit_id, path, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        g.id,
        g.account_id,
        g.role.as_str(),
        g.unit_county_code,
        g.unit_id,
        &g.path,
        g.now,
        g.created_by
    ))
    .await?;
    Ok(())
}

pub async fn delete_grant(exec: &mut Exec<'_>, account_id: AccountId, grant_id: i64) -> Result<()> {
    let n = exec
        .execute(q!(
            "DELETE FROM grants WHERE account_id = $1 AND id = $2",
            account_id,
            grant_id
        ))
        .await?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// An account row for lists, with its roles summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AccountListRow {
    pub id: AccountId,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub locked_until: Option<Micros>,
    pub last_login_at: Option<Micros>,
}

/// One subtree in which a caller administers accounts, and the roles they administer there
/// (those ranked below their own; see `Role::manages`).
#[derive(Debug, Clone)]
pub struct Reach {
    pub subtree: Scope,
    pub roles: Vec<&'static str>,
}

/// Accounts the caller administers: accounts with at least one grant, **every** one of which
/// lies in some subtree of `reach` and holds a role listed for that subtree. A single grant
/// elsewhere or of a role the caller does not administer keeps the account out of the list,
/// count included. With `include_ungranted`, accounts with no grant at all are listed too
/// (only city administrators manage those).
pub async fn list(
    exec: &mut Exec<'_>,
    reach: &[Reach],
    include_ungranted: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AccountListRow>, i64)> {
    let mut q = Query::new("", Vec::new());
    let mut managed: Vec<String> = Vec::new();
    for r in reach
        .iter()
        .filter(|r| !r.subtree.is_empty() && !r.roles.is_empty())
    {
        let pred = scope::predicate_on(&mut q, &r.subtree, "g.unit_county_code", "g.path");
        let roles: Vec<String> = r.roles.iter().map(|role| q.push_arg(*role)).collect();
        managed.push(format!("({pred} AND g.role IN ({}))", roles.join(", ")));
    }
    let managed = if managed.is_empty() {
        "1 = 0".to_owned()
    } else {
        managed.join(" OR ")
    };
    let granted = format!(
        "(EXISTS (SELECT 1 FROM grants g0 WHERE g0.account_id = a.id)
          AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.account_id = a.id AND NOT ({managed})))"
    );
    let wh = if include_ungranted {
        format!("({granted} OR NOT EXISTS (SELECT 1 FROM grants g2 WHERE g2.account_id = a.id))")
    } else {
        granted
    };
    let mut count_q = q.clone();
    count_q.sql = format!("SELECT COUNT(*) FROM accounts a WHERE {wh}").into();
    let total = exec.scalar(count_q).await?;
    let (l, o) = (q.push_arg(limit), q.push_arg(offset));
    q.sql = format!(
        "SELECT a.id, a.username, a.display_name, a.disabled, a.must_change_password, a.locked_until,
                a.last_login_at
           FROM accounts a WHERE {wh} ORDER BY a.username LIMIT {l} OFFSET {o}"
    )
    .into();
    Ok((exec.fetch_all(q).await?, total))
}

pub async fn count(exec: &mut Exec<'_>) -> Result<i64> {
    exec.scalar(q!("SELECT COUNT(*) FROM accounts")).await
}
