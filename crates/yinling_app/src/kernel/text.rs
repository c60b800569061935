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

pub use yinling_domain::text::{Bounded, Label, LabelKind, Line, LineKind, Lines, LinesKind};

/// Reads a form or JSON field into a [`Bounded`] text, refusing it with the field's name:
/// `Label::<30>::read(&input.name, "name", "名称")?`.
pub trait ReadField: Sized {
    fn read(text: &str, field: &str, what: &str) -> AppResult<Self>;
    /// An optional field: empty is `None`.
    fn read_opt(text: Option<&str>, field: &str, what: &str) -> AppResult<Option<Self>>;
}

impl<K: yinling_domain::text::Kind, const MIN: usize, const MAX: usize> ReadField
    for Bounded<K, MIN, MAX>
{
    fn read(text: &str, field: &str, what: &str) -> AppResult<Self> {
        Bounded::parse(text).map_err(|e| AppError::invalid(e.code(), field, e.message(what)))
    }

    fn read_opt(text: Option<&str>, field: &str, what: &str) -> AppResult<Option<Self>> {
        Bounded::parse_opt(text).map_err(|e| AppError::invalid(e.code(), field, e.message(what)))
    }
}
