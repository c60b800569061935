//! Asserting that a use case refused, and how.

use crate::{AppError, AppResult};

/// What a use case answered when a test expects it to refuse: the error itself (or a
/// reference to it), or a result that must be an error (an `Ok` fails the test and shows the
/// value).
pub trait Refusal {
    fn refusal(&self) -> &AppError;
}

impl Refusal for AppError {
    fn refusal(&self) -> &AppError {
        self
    }
}

impl<R: Refusal> Refusal for &R {
    #[track_caller]
    fn refusal(&self) -> &AppError {
        (**self).refusal()
    }
}

impl<T: std::fmt::Debug> Refusal for AppResult<T> {
    #[track_caller]
    fn refusal(&self) -> &AppError {
        match self {
            Ok(v) => panic!("expected a refusal, got Ok({v:?})"),
            Err(e) => e,
        }
    }
}

/// Asserts a conflict with this code (a duplicate, a stale version, a state that moved on);
/// returns its message for further checks.
#[track_caller]
pub fn assert_conflict(outcome: impl Refusal, code: &str) -> String {
    match outcome.refusal() {
        AppError::Conflict {
            code: c, message, ..
        } if *c == code => message.clone(),
        other => panic!("expected conflict {code:?}, got {other:?}"),
    }
}

/// Asserts bad input on this field; returns the error's code.
#[track_caller]
pub fn assert_invalid(outcome: impl Refusal, field: &str) -> &'static str {
    match outcome.refusal() {
        AppError::Invalid {
            code,
            field: Some(f),
            ..
        } if f == field => code,
        other => panic!("expected invalid input on {field:?}, got {other:?}"),
    }
}

/// Asserts "not there or not yours" — which must look the same.
#[track_caller]
pub fn assert_not_found(outcome: impl Refusal) {
    match outcome.refusal() {
        AppError::NotFound { .. } => {}
        other => panic!("expected not found, got {other:?}"),
    }
}

/// Asserts the caller may not do this.
#[track_caller]
pub fn assert_forbidden(outcome: impl Refusal) {
    match outcome.refusal() {
        AppError::Forbidden { .. } => {}
        other => panic!("expected forbidden, got {other:?}"),
    }
}

/// Asserts the throttle refused; returns when it lifts.
#[track_caller]
pub fn assert_too_many(outcome: impl Refusal) -> i64 {
    match outcome.refusal() {
        AppError::TooMany { until, .. } => *until,
        other => panic!("expected too many attempts, got {other:?}"),
    }
}
