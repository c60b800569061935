//! Logging in and out, sessions, passwords.
//!
//! Passwords are hashed with argon2id. Five failed logins in a row lock the account for
//! fifteen minutes (settings). A session is a random token held in an HttpOnly cookie; the
//! database keeps only its SHA-256. It ends after thirty minutes without activity.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use yinling_domain::org::OrgPath;
use yinling_store::{
    accounts, accounts::caller as store_caller, accounts::sessions, kernel::audit as store_audit,
};

use super::Accounts;
use crate::{AppError, AppResult, Caller, Grant, kernel::audit::Event, kernel::clock::MINUTE};

/// A session just created by a login.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The secret for the cookie (or a Bearer header). Shown once, never stored.
    pub token: String,
    pub csrf_token: String,
    pub must_change_password: bool,
    pub elder_mode: bool,
}

/// An authenticated request's session.
#[derive(Debug, Clone)]
pub struct Session {
    pub caller: Caller,
    pub csrf_token: String,
    pub must_change_password: bool,
}

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random URL-safe token (256 bits from the OS).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Usernames are lowercase ASCII so that "Admin" and "admin" are one account.
pub fn normalise_username(raw: &str) -> AppResult<String> {
    let u = raw.trim().to_lowercase();
    let ok_chars = u
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'));
    if u.len() < 3 || u.len() > 32 || !ok_chars {
        return Err(AppError::invalid(
            "invalid_username",
            "username",
            "用户名须为3至32位，只能包含英文字母、数字、下划线、点或短横线",
        ));
    }
    Ok(u)
}

fn login_failed_message(sec: &crate::kernel::settings::SecuritySettings) -> String {
    format!(
        "用户名或密码不正确。连续输错{}次，账号将锁定{}分钟",
        sec.max_failed_logins, sec.lockout_minutes
    )
}

/// A stored grant as a [`Grant`]; `None` if its role or path no longer parses.
pub(crate) fn grant_of_row(g: accounts::GrantRow) -> Option<Grant> {
    Some(Grant {
        id: g.id,
        role: g.role,
        unit_county_code: g.unit_county_code.as_i64(),
        unit_id: g.unit_id.get(),
        unit_name: g.unit_name.unwrap_or_default(),
        path: OrgPath::parse(&g.path).ok()?,
    })
}

impl Accounts<'_> {
    /// Checks a username and password and opens a session.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> AppResult<NewSession> {
        let now = self.app.now();
        let sec = &self.app.settings().security;
        let username = username.trim().to_lowercase();
        let account = accounts::by_username(&mut self.app.store().read(), &username).await?;
        let Some(account) = account else {
            // Spend the same time as a real check so timing does not reveal which names exist.
            let _ = verify_password(dummy_hash(), password);
            return Err(AppError::LoginFailed {
                message: login_failed_message(sec),
            });
        };
        let actor = Caller::system(&account.username).with_ip(ip.clone());
        if account.disabled {
            return Err(AppError::LoginFailed {
                message: "该账号已停用，请联系管理员".into(),
            });
        }
        if let Some(until) = account.locked_until
            && until > now
        {
            return Err(AppError::LoginFailed {
                message: format!(
                    "连续输错密码次数过多，账号已锁定，请于{}后再试",
                    yinling_domain::time::from_micros(until).format("%H:%M")
                ),
            });
        }
        if !verify_password(&account.password_hash, password) {
            let mut tx = self.app.store().begin().await?;
            let lock_until = now + sec.lockout_minutes * MINUTE;
            let failures = accounts::record_failure(
                &mut tx.exec(),
                account.id.get(),
                sec.max_failed_logins,
                lock_until,
                now,
            )
            .await?;
            let event = self.app.audit_event(
                &actor,
                Event {
                    county_code: 0,
                    action: "auth.login_failed",
                    entity: "account",
                    entity_key: account.id.to_string(),
                    before: None,
                    after: None,
                    detail: Some(format!("failures={failures}")),
                },
            );
            store_audit::append(&mut tx.exec(), &[event]).await?;
            tx.commit().await?;
            // The same message whether or not the account exists, until it locks.
            let message = if failures >= sec.max_failed_logins {
                format!(
                    "连续输错密码{}次，账号已锁定{}分钟",
                    sec.max_failed_logins, sec.lockout_minutes
                )
            } else {
                login_failed_message(sec)
            };
            return Err(AppError::LoginFailed { message });
        }
        let token = new_token();
        let csrf_token = new_token();
        let mut tx = self.app.store().begin().await?;
        accounts::record_success(&mut tx.exec(), account.id, now).await?;
        sessions::insert(
            &mut tx.exec(),
            &token_hash(&token),
            account.id.get(),
            &csrf_token,
            ip.as_deref(),
            user_agent.as_deref().map(|s| truncate(s, 200)),
            now,
        )
        .await?;
        let mut actor = actor;
        actor.account_id = Some(account.id.get());
        let event = self.app.audit_event(
            &actor,
            Event {
                county_code: 0,
                action: "auth.login",
                entity: "account",
                entity_key: account.id.to_string(),
                before: None,
                after: None,
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            csrf_token,
            must_change_password: account.must_change_password,
            elder_mode: account.elder_mode,
        })
    }

    /// Resolves a session token into a caller. The session, its account and the account's
    /// grants come from one statement ([`store_caller::by_token`]), read fresh on every
    /// request: a logout, a disabled account or a revoked grant counts from the next request,
    /// in every server process, with no cache to invalidate.
    ///
    /// Ends the session if it has been idle too long. Otherwise records the activity, but
    /// only when the stored activity is over a minute old (decided from the same read), so a
    /// session in use costs one write a minute rather than one a request. The idle timeout
    /// counts from the stored activity, as it always has: it may end a session up to a
    /// minute early, never late.
    #[tracing::instrument(name = "accounts.authenticate", skip_all, err(level = "debug"))]
    pub async fn authenticate(self, token: &str, ip: Option<String>) -> AppResult<Session> {
        let now = self.app.now();
        let hash = token_hash(token);
        let found = store_caller::by_token(&mut self.app.store().read(), &hash)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let idle = self.app.settings().security.idle_timeout_minutes * MINUTE;
        if now - found.last_seen_at > idle {
            sessions::delete(&mut self.app.store().write(), &hash).await?;
            return Err(AppError::SessionExpired);
        }
        if found.disabled {
            return Err(AppError::Unauthenticated);
        }
        if now - found.last_seen_at > MINUTE {
            sessions::touch(&mut self.app.store().write(), &hash, now).await?;
        }
        let grants = found.grants.into_iter().filter_map(grant_of_row).collect();
        let person = found
            .person_county_code
            .zip(found.person_id)
            .map(|(c, id)| (c.as_i64(), id.get()));
        let caller = Caller::new(
            found.account_id.get(),
            found.username,
            found.display_name,
            grants,
            person,
            found.elder_mode,
        )
        .with_ip(ip);
        Ok(Session {
            caller,
            csrf_token: found.csrf_token,
            must_change_password: found.must_change_password,
        })
    }

    /// The CSRF token bound to a session, if the session exists.
    #[tracing::instrument(name = "accounts.session_csrf", skip_all, err(level = "debug"))]
    pub async fn session_csrf(self, token: &str) -> AppResult<Option<String>> {
        Ok(
            sessions::get(&mut self.app.store().read(), &token_hash(token))
                .await?
                .map(|s| s.csrf_token),
        )
    }

    #[tracing::instrument(name = "accounts.logout", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn logout(self, caller: &Caller, token: &str) -> AppResult<()> {
        let mut tx = self.app.store().begin().await?;
        sessions::delete(&mut tx.exec(), &token_hash(token)).await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: 0,
                action: "auth.logout",
                entity: "account",
                entity_key: caller.account_id.unwrap_or_default().to_string(),
                before: None,
                after: None,
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the caller's own password. Other sessions of the account end; this one stays.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current_token: &str,
        old: &str,
        new: &str,
    ) -> AppResult<()> {
        let account_id = caller.account_id.ok_or(AppError::Unauthenticated)?;
        let account = accounts::get(
            &mut self.app.store().read(),
            yinling_domain::ids::AccountId(account_id),
        )
        .await?
        .ok_or(AppError::Unauthenticated)?;
        if !verify_password(&account.password_hash, old) {
            return Err(AppError::invalid(
                "wrong_password",
                "old_password",
                "当前密码不正确",
            ));
        }
        if old == new {
            return Err(AppError::invalid(
                "same_password",
                "new_password",
                "新密码不能与当前密码相同",
            ));
        }
        self.app
            .settings()
            .security
            .password_policy()
            .check(new, &account.username)
            .map_err(|e| AppError::invalid("weak_password", "new_password", e.to_string()))?;
        let hash = hash_password(new)?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        accounts::set_password(&mut tx.exec(), account_id, &hash, false, now).await?;
        sessions::delete_others(&mut tx.exec(), account_id, &token_hash(current_token)).await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: 0,
                action: "auth.password_change",
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

    /// Deletes sessions idle for longer than the timeout.
    #[tracing::instrument(name = "accounts.purge_idle_sessions", skip_all, err(level = "debug"))]
    pub async fn purge_idle_sessions(self) -> AppResult<u64> {
        let cutoff = self.app.now() - self.app.settings().security.idle_timeout_minutes * MINUTE;
        Ok(sessions::purge_idle(&mut self.app.store().write(), cutoff).await?)
    }

    /// Remembers the caller's 长辈模式 choice for their next visit.
    #[tracing::instrument(name = "accounts.set_elder_mode", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn set_elder_mode(self, caller: &Caller, on: bool) -> AppResult<()> {
        if let Some(id) = caller.account_id {
            accounts::set_elder_mode(
                &mut self.app.store().write(),
                yinling_domain::ids::AccountId(id),
                on,
            )
            .await?;
        }
        Ok(())
    }
}

fn truncate(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A real argon2id hash, verified against when the username is unknown.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("yinling-dummy-password").unwrap_or_default())
}
