//! Accounts: logging in and out, sessions and passwords ([`sessions`]), and account
//! administration — creating accounts, granting roles on subtrees, resetting passwords,
//! disabling ([`users`]).

mod sessions;
mod users;

pub use sessions::*;
pub use users::*;

use crate::App;

/// Accounts and sessions, reached as [`App::accounts`].
#[derive(Clone, Copy)]
pub struct Accounts<'a> {
    app: &'a App,
}

impl App {
    /// Accounts: who may log in, with which roles on which subtrees; their sessions.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { app: self }
    }
}
