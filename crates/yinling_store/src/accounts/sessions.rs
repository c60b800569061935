//! Login sessions. The token itself never reaches the database, only its SHA-256, so a
//! copy of the database cannot be used to log in.

use crate::{Exec, Micros, Result, q};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: Vec<u8>,
    pub account_id: i64,
    pub csrf_token: String,
    pub created_at: Micros,
    pub last_seen_at: Micros,
}

pub async fn insert(
    exec: &mut Exec<'_>,
    token_hash: &[u8],
    account_id: i64,
    csrf_token: &str,
    ip: Option<&str>,
    user_agent: Option<&str>,
    now: Micros,
) -> Result<()> {
    exec.execute(q!(
        "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, last_seen_at, ip, user_agent)
         VALUES ($1, $2, $3, $4, $4, $5, $6)",
        token_hash,
        account_id,
        csrf_token,
        now,
        ip,
        user_agent
    ))
    .await?;
    Ok(())
}

pub async fn get(exec: &mut Exec<'_>, token_hash: &[u8]) -> Result<Option<SessionRow>> {
    exec.fetch_optional(q!(
        "SELECT token_hash, account_id, csrf_token, created_at, last_seen_at FROM sessions WHERE token_hash = $1",
        token_hash
    ))
    .await
}

pub async fn touch(exec: &mut Exec<'_>, token_hash: &[u8], now: Micros) -> Result<()> {
    exec.execute(q!(
        "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
        token_hash,
        now
    ))
    .await?;
    Ok(())
}

pub async fn delete(exec: &mut Exec<'_>, token_hash: &[u8]) -> Result<()> {
    exec.execute(q!("DELETE FROM sessions WHERE token_hash = $1", token_hash))
        .await?;
    Ok(())
}

/// Ends every session of an account (password change, disable).
pub async fn delete_for_account(exec: &mut Exec<'_>, account_id: i64) -> Result<()> {
    exec.execute(q!("DELETE FROM sessions WHERE account_id = $1", account_id))
        .await?;
    Ok(())
}

/// Ends every other session of an account (after a password change).
pub async fn delete_others(
    exec: &mut Exec<'_>,
    account_id: i64,
    keep_token_hash: &[u8],
) -> Result<()> {
    exec.execute(q!(
        "DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2",
        account_id,
        keep_token_hash
    ))
    .await?;
    Ok(())
}

/// Removes sessions idle since before `cutoff`.
pub async fn purge_idle(exec: &mut Exec<'_>, cutoff: Micros) -> Result<u64> {
    exec.execute(q!("DELETE FROM sessions WHERE last_seen_at < $1", cutoff))
        .await
}
