//! Every text a use case stores goes through here: the one checker of
//! `yinling_domain::text` (invisible control and direction characters everywhere; phone and
//! ID numbers in free text), with the field's name in the message.

pub use yinling_domain::text::TextKind;

use crate::{AppError, AppResult};

/// Refuses `text` if it holds what a field of `kind` must not: `what` names the field on
/// screen (备注, 地址…), `field` in the form or JSON.
pub fn check(text: &str, kind: TextKind, field: &str, what: &str) -> AppResult<()> {
    yinling_domain::text::check(text, kind)
        .map_err(|e| AppError::invalid(e.code(), field, format!("{what}中{e}")))
}

/// [`check`] on an optional text.
pub fn check_opt(text: Option<&str>, kind: TextKind, field: &str, what: &str) -> AppResult<()> {
    text.map_or(Ok(()), |t| check(t, kind, field, what))
}
