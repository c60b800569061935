//! What every step checks: dates, free text, the state machine's refusals, keys read
//! from a path and county codes read back from other capabilities' rows.

use super::*;

pub(super) fn parse_day(s: &str, field: &'static str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            "invalid_date",
            field,
            "日期格式不正确，请按“年-月-日”填写，例如2026-07-01",
        )
    })
}

pub(super) fn opt_day(s: &Option<String>, field: &'static str) -> AppResult<Option<NaiveDate>> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => parse_day(v, field).map(Some),
        None => Ok(None),
    }
}

pub(super) fn refused(e: TransitionError) -> AppError {
    let code = match e {
        TransitionError::Closed { .. } => "case_closed",
        TransitionError::NoMediators => "no_mediators",
        TransitionError::NotMediatedYet => "not_mediated_yet",
        TransitionError::NotConcluded => "not_concluded",
    };
    AppError::conflict(code, Some("status"), e.to_string())
}

pub(super) fn org_path(s: &str) -> AppResult<OrgPath> {
    OrgPath::parse(s).map_err(|e| AppError::Internal(e.to_string()))
}

/// A case's key from the two numbers of a path; numbers that cannot be one answer as a
/// case that is not there.
pub fn case_key(county: i64, id: i64) -> AppResult<Key<CaseId>> {
    crate::kernel::key::found(county, id, "调解案件")
}

impl Mediation<'_> {
    /// A date that may be neither in the future nor before `not_before` (an ISO date).
    pub(super) fn check_day(
        self,
        day: NaiveDate,
        not_before: &str,
        field: &'static str,
        what: &str,
        before_what: &str,
    ) -> AppResult<()> {
        if day > self.app.clock().today() {
            return Err(AppError::invalid(
                "date_in_future",
                field,
                format!("{what}不能晚于今天"),
            ));
        }
        if day.to_string().as_str() < not_before {
            return Err(AppError::invalid(
                "date_too_early",
                field,
                format!("{what}不能早于{before_what}（{not_before}）"),
            ));
        }
        Ok(())
    }
}
