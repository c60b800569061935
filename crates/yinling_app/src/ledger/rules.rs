//! A county's ledger rules and its earning rules.

use super::*;
use crate::kernel::text::{Label, ReadField};

// ---- rules ----

/// A county's ledger rules, with the defaults where it has set none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    pub county_code: CountyCode,
    /// Most points one person may earn in a day; none: no cap.
    pub daily_points_cap: Option<i64>,
    /// Most time-bank minutes one person may earn in a day.
    pub daily_minutes_cap: Option<i64>,
    /// Points expire this many months after they were earned, oldest first; none: never.
    pub expiry_months: Option<i64>,
    /// Whether hours may be given to a member of one's household.
    pub family_transfer: bool,
    /// Most minutes one person may give to family in a calendar year.
    pub family_max_minutes_year: i64,
    /// Most points one redemption code may spend; the elder may choose less for a code.
    #[serde(default = "Rules::default_code_cap")]
    pub max_points_per_code: i64,
    /// 0 before the county first saved its rules.
    pub version: i64,
}

impl Rules {
    pub(super) fn defaults(county_code: CountyCode) -> Rules {
        Rules {
            county_code,
            daily_points_cap: Some(100),
            daily_minutes_cap: Some(8 * 60),
            expiry_months: Some(24),
            family_transfer: true,
            family_max_minutes_year: 50 * 60,
            max_points_per_code: Self::default_code_cap(),
            version: 0,
        }
    }

    pub(super) fn default_code_cap() -> i64 {
        300
    }

    pub(super) fn from_row(r: RulesRow) -> Rules {
        Rules {
            county_code: r.county_code,
            daily_points_cap: r.daily_points_cap,
            daily_minutes_cap: r.daily_minutes_cap,
            expiry_months: r.expiry_months,
            family_transfer: r.family_transfer == FamilyTransfer::Household,
            family_max_minutes_year: r.family_max_minutes_year,
            max_points_per_code: r.max_points_per_code,
            version: r.version,
        }
    }

    pub fn daily_cap(&self, unit: Unit) -> Option<i64> {
        match unit {
            Unit::Points => self.daily_points_cap,
            Unit::Minutes => self.daily_minutes_cap,
        }
    }
}

/// An earning rule: what an activity type or a mediation outcome is worth.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EarningRuleInput {
    pub county_code: CountyCode,
    /// `activity` or `mediation`.
    pub source_kind: SourceKind,
    /// The activity type (e.g. `theme_day`) or mediation outcome (`success`, `partial`, …).
    pub code: String,
    pub label: String,
    pub points: i64,
    pub minutes: i64,
}

impl Ledger<'_> {
    #[tracing::instrument(name = "ledger.rules", skip_all, err(level = "debug"), fields(county = %county))]
    pub async fn rules(self, county: CountyCode) -> AppResult<Rules> {
        Ok(store_ledger::rules(&mut self.app.store().read(), county)
            .await?
            .map_or_else(|| Rules::defaults(county), Rules::from_row))
    }

    pub(super) fn may_manage_county(self, caller: &Caller, county: CountyCode) -> AppResult<()> {
        if caller
            .scope(Permission::ManageLedger)
            .covers(&crate::county_path(county.as_i64()))
        {
            Ok(())
        } else {
            Err(AppError::forbidden("只有县级管理员可以修改积分规则"))
        }
    }

    #[tracing::instrument(name = "ledger.set_rules", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn set_rules(self, caller: &Caller, r: Rules) -> AppResult<Rules> {
        self.may_manage_county(caller, r.county_code)?;
        for (v, field, what) in [
            (r.daily_points_cap, "daily_points_cap", "每日积分上限"),
            (
                r.daily_minutes_cap,
                "daily_minutes_cap",
                "每日时长上限（分钟）",
            ),
        ] {
            if let Some(v) = v
                && !(1..=ledger::MAX_AMOUNT).contains(&v)
            {
                return Err(AppError::invalid(
                    "invalid_rule",
                    field,
                    format!("{what}须为正整数"),
                ));
            }
        }
        if let Some(m) = r.expiry_months
            && !(1..=120).contains(&m)
        {
            return Err(AppError::invalid(
                "invalid_rule",
                "expiry_months",
                "积分有效期须为1至120个月",
            ));
        }
        if !(1..=ledger::MAX_AMOUNT).contains(&r.max_points_per_code) {
            return Err(AppError::invalid(
                "invalid_rule",
                "max_points_per_code",
                format!(
                    "每个兑换码最多可兑换的积分须为1至{}之间的整数",
                    ledger::MAX_AMOUNT
                ),
            ));
        }
        if !(0..=ledger::MAX_AMOUNT).contains(&r.family_max_minutes_year) {
            return Err(AppError::invalid(
                "invalid_rule",
                "family_max_minutes_year",
                "每年转赠上限须为0或正整数（分钟）",
            ));
        }
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let row = RulesRow {
            county_code: r.county_code,
            daily_points_cap: r.daily_points_cap,
            daily_minutes_cap: r.daily_minutes_cap,
            expiry_months: r.expiry_months,
            family_transfer: if r.family_transfer {
                FamilyTransfer::Household
            } else {
                FamilyTransfer::Off
            },
            family_max_minutes_year: r.family_max_minutes_year,
            max_points_per_code: r.max_points_per_code,
            updated_at: now,
            version: r.version,
        };
        if !store_ledger::save_rules(&mut tx.exec(), &row, r.version).await? {
            return Err(yinling_store::StoreError::Stale.into());
        }
        let after = serde_json::to_value(&r).unwrap_or_default();
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: r.county_code.as_i64(),
                action: "ledger.rules",
                entity: "ledger_rules",
                entity_key: r.county_code.to_string(),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        self.rules(r.county_code).await
    }

    #[tracing::instrument(
        name = "ledger.earning_rules",
        skip_all,
        err(level = "debug"),
        fields(county = %county)
    )]
    pub async fn earning_rules(self, county: CountyCode) -> AppResult<Vec<EarningRuleRow>> {
        Ok(store_ledger::earning_rules(&mut self.app.store().read(), county).await?)
    }

    #[tracing::instrument(name = "ledger.put_earning_rule", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn put_earning_rule(
        self,
        caller: &Caller,
        input: EarningRuleInput,
    ) -> AppResult<EarningRuleRow> {
        self.may_manage_county(caller, input.county_code)?;
        if !matches!(
            input.source_kind,
            SourceKind::Activity | SourceKind::Mediation
        ) {
            return Err(AppError::invalid(
                "invalid_rule",
                "source_kind",
                "积分规则只能按活动类型或调解结果设置（服务项目的积分在服务清单中设置）",
            ));
        }
        let code = input.code.trim();
        if code.is_empty()
            || code.len() > 40
            || !code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(AppError::invalid(
                "invalid_rule",
                "code",
                "代码须为1至40个小写字母、数字或下划线",
            ));
        }
        if input.source_kind == SourceKind::Mediation
            && yinling_domain::mediation::Outcome::parse(code).is_none()
        {
            return Err(AppError::invalid(
                "invalid_rule",
                "code",
                "调解结果只能是 success、partial、failed 或 referred",
            ));
        }
        let label = Label::<30>::read(&input.label, "label", "名称")?;
        for (v, field) in [(input.points, "points"), (input.minutes, "minutes")] {
            if !(0..=10_000).contains(&v) {
                return Err(AppError::invalid(
                    "invalid_rule",
                    field,
                    "积分和时长须为0至10000之间的整数",
                ));
            }
        }
        let row = EarningRuleRow {
            county_code: input.county_code,
            source_kind: input.source_kind,
            code: code.to_owned(),
            label: label.into_string(),
            points: input.points,
            minutes: input.minutes,
            updated_at: self.app.now(),
        };
        let mut tx = self.app.store().begin().await?;
        store_ledger::put_earning_rule(&mut tx.exec(), &row).await?;
        let after = serde_json::to_value(&row).unwrap_or_default();
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: row.county_code.as_i64(),
                action: "ledger.earning_rule",
                entity: "earning_rule",
                entity_key: format!("{}/{}", row.source_kind, row.code),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(row)
    }
}
