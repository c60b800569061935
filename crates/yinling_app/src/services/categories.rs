//! Need and service categories: the built-in ones (养老服务, 矛盾调解, 环境整治, 助餐, 托管,
//! 就医陪诊, 政策咨询) everywhere, plus those an administrator adds for a county or the city.

use serde::{Deserialize, Serialize};
use yinling_domain::{
    org::OrgPath,
    region::CountyCode,
    role::Permission,
    service::{BUILTIN_CATEGORIES, valid_category_code},
};
use yinling_store::{kernel::audit as store_audit, services as store_services};

use crate::{AppError, AppResult, CITY_COUNTY_CODE, Caller, kernel::audit::Event};

use super::*;
use crate::kernel::text::{Label, ReadField};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    pub code: String,
    pub label: String,
    /// Built in (every county has it) rather than added by an administrator.
    pub builtin: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CategoryInput {
    /// Lower-case letters, digits and `_`, starting with a letter: `haircut`.
    pub code: String,
    /// What people see: 理发.
    pub label: String,
    /// The county it is added for; omitted by a city administrator for the whole city.
    #[serde(default)]
    pub county_code: Option<i64>,
}

/// The county codes among these numbers (a number that is no county names no categories).
fn codes(numbers: impl IntoIterator<Item = i64>) -> Vec<CountyCode> {
    numbers
        .into_iter()
        .filter_map(|n| CountyCode::from_i64(n).ok())
        .collect()
}

impl Services<'_> {
    /// The categories in use in a county: built-in, city-wide, then the county's own.
    #[tracing::instrument(
        name = "services.categories",
        skip_all,
        err(level = "debug"),
        fields(county = county)
    )]
    pub async fn categories(self, county: i64) -> AppResult<Vec<Category>> {
        let mut out: Vec<Category> = BUILTIN_CATEGORIES
            .iter()
            .map(|(code, label)| Category {
                code: (*code).to_owned(),
                label: (*label).to_owned(),
                builtin: true,
            })
            .collect();
        let added = store_services::categories(
            &mut self.app.store().read(),
            &codes([CITY_COUNTY_CODE, county]),
        )
        .await?;
        out.extend(added.into_iter().map(|r| Category {
            code: r.code,
            label: r.label,
            builtin: false,
        }));
        Ok(out)
    }

    /// The category with this code in a county, or a clear error naming the field.
    #[tracing::instrument(
        name = "services.category",
        skip_all,
        err(level = "debug"),
        fields(county = county)
    )]
    pub async fn category(self, county: i64, code: &str, field: &str) -> AppResult<Category> {
        self.categories(county)
            .await?
            .into_iter()
            .find(|c| c.code == code)
            .ok_or_else(|| AppError::invalid("unknown_category", field, "请选择有效的类别"))
    }

    /// Adds a category for a county (county administrators) or the city (city administrators).
    #[tracing::instrument(name = "services.add_category", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn add_category(self, caller: &Caller, input: CategoryInput) -> AppResult<Category> {
        let code = input.code.trim().to_lowercase();
        if !valid_category_code(&code) {
            return Err(AppError::invalid(
                "invalid_category_code",
                "code",
                "类别代码须为2至32位小写英文字母、数字或下划线，并以字母开头",
            ));
        }
        let label = String::from(Label::<12>::read(&input.label, "label", "类别名称")?);
        let county = input.county_code.unwrap_or(CITY_COUNTY_CODE);
        let allowed = if county == CITY_COUNTY_CODE {
            caller.is_city_admin()
        } else {
            caller
                .scope(Permission::ManageServices)
                .covers(&OrgPath::root(crate::CITY_CODE).child(&county.to_string()))
        };
        if !allowed {
            return Err(AppError::forbidden(
                "只有县级管理员可以为本县增加类别，市级管理员可以为全市增加类别",
            ));
        }
        // A city-wide category joins every county's list, so it must not collide with a
        // category any county already added for itself.
        let mut existing = self.categories(county).await?;
        if county == CITY_COUNTY_CODE {
            let counties = codes(CITY_COUNTY_CODE + 1..=CITY_COUNTY_CODE + 99);
            existing.extend(
                store_services::categories(&mut self.app.store().read(), &counties)
                    .await?
                    .into_iter()
                    .map(|r| Category {
                        code: r.code,
                        label: r.label,
                        builtin: false,
                    }),
            );
        }
        if existing.iter().any(|c| c.code == code || c.label == label) {
            return Err(AppError::conflict(
                "duplicate_category",
                Some("code"),
                format!("已有同名或同代码的类别：{label}"),
            ));
        }
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let county_code = CountyCode::from_i64(county)
            .map_err(|e| AppError::invalid("invalid_county", "county_code", e.to_string()))?;
        store_services::insert_category(&mut tx.exec(), county_code, &code, &label, now)
            .await
            .map_err(|e| {
                if matches!(e, yinling_store::StoreError::Conflict { .. }) {
                    AppError::conflict("duplicate_category", Some("code"), "该类别代码已存在")
                } else {
                    e.into()
                }
            })?;
        let after = serde_json::json!({"code": code, "label": label});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "category.create",
                entity: "service_category",
                entity_key: format!("{county}/{code}"),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(Category {
            code,
            label,
            builtin: false,
        })
    }
}
