//! What the mediation forms share: the draft a refused form shows again, dates, the form's
//! version, mediator references and the vocabulary choices.

use chrono::NaiveDate;
use yinling_app::AppError;
use yinling_domain::mediation::{CaseStatus, DisputeCategory, Mediator, Outcome};

use crate::ui::kernel::{Choice, choices};

/// What a refused form held, so it can be shown again as typed.
#[derive(Debug, Clone, Default)]
pub(super) struct Draft(pub(super) Vec<(String, String)>);

impl Draft {
    pub(super) fn get(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    pub(super) fn or(&self, key: &str, default: &str) -> String {
        let v = self.get(key);
        if v.is_empty() { default.to_owned() } else { v }
    }

    pub(super) fn has(&self, key: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == key && v == value)
    }

    pub(super) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

pub(super) fn day(s: &str, field: &'static str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            "invalid_date",
            field,
            "请选择日期（格式为 年-月-日，例如 2026-07-01）",
        )
    })
}

pub(super) fn version(d: &Draft) -> Result<i64, AppError> {
    d.get("version").parse().map_err(|_| {
        AppError::invalid(
            "invalid_form",
            "version",
            "表单已过期，请刷新页面后重新填写",
        )
    })
}

/// "studio/12" → a mediator.
pub(super) fn mediator_ref(s: &str, field: &'static str) -> Result<Mediator, AppError> {
    Mediator::parse(s)
        .ok_or_else(|| AppError::invalid("invalid_mediator", field, "调解员选择有误，请重新选择"))
}

pub(super) fn status_choices(current: &str) -> Vec<Choice> {
    choices(
        CaseStatus::ALL.iter().map(|s| (s.as_str(), s.label_zh())),
        current,
    )
}

pub(super) fn category_choices(current: &str) -> Vec<Choice> {
    choices(
        DisputeCategory::ALL
            .iter()
            .map(|c| (c.as_str(), c.label_zh())),
        current,
    )
}

pub(super) fn outcome_choices(current: &str) -> Vec<Choice> {
    choices(
        Outcome::ALL.iter().map(|o| (o.as_str(), o.label_zh())),
        current,
    )
}
