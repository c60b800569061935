//! The service list (服务清单): what may be ordered where, with its time limit, points and
//! time-bank price.

use super::*;
use crate::kernel::text::{Label, Lines, ReadField};

/// A service item, with its skills unpacked.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceItem {
    pub county_code: CountyCode,
    pub id: ServiceItemId,
    pub path: String,
    pub category: String,
    pub category_label: String,
    pub name: String,
    pub description: Option<String>,
    pub skills: Vec<String>,
    pub duration_minutes: i64,
    /// Points awarded to whoever serves it (信用+积分).
    pub points: i64,
    /// Time-bank minutes deposited for whoever serves it.
    pub hours_minutes: i64,
    /// Minutes within which someone must accept it, or it goes one level up.
    pub sla_minutes: i64,
    pub active: bool,
    pub version: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServiceItemInput {
    pub category: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    pub duration_minutes: i64,
    pub points: i64,
    pub hours_minutes: i64,
    pub sla_minutes: i64,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub version: Option<i64>,
}

impl Services<'_> {
    pub(super) fn item_view(
        self,
        r: ServiceItemRow,
        labels: &[crate::services::Category],
    ) -> ServiceItem {
        ServiceItem {
            category_label: labels
                .iter()
                .find(|c| c.code == r.category)
                .map_or_else(|| r.category.clone(), |c| c.label.clone()),
            skills: serde_json::from_str(&r.skills).unwrap_or_default(),
            county_code: r.county_code,
            id: r.id,
            path: r.path,
            category: r.category,
            name: r.name,
            description: r.description,
            duration_minutes: r.duration_minutes,
            points: r.points,
            hours_minutes: r.hours_minutes,
            sla_minutes: r.sla_minutes,
            active: r.active,
            version: r.version,
        }
    }

    /// Service items defined anywhere in the caller's scope.
    #[tracing::instrument(name = "services.items", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn items(self, caller: &Caller) -> AppResult<Vec<ServiceItem>> {
        let scope = caller.scope(Permission::ViewServices);
        let rows = store_services::items_in_scope(&mut self.app.store().read(), &scope).await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut labels: Option<(CountyCode, Vec<crate::services::Category>)> = None;
        for r in rows {
            if labels.as_ref().is_none_or(|(c, _)| *c != r.county_code) {
                labels = Some((
                    r.county_code,
                    self.categories(r.county_code.as_i64()).await?,
                ));
            }
            let l = labels.as_ref().map(|(_, l)| l.as_slice()).unwrap_or(&[]);
            out.push(self.item_view(r, l));
        }
        Ok(out)
    }

    /// The items a resident living at `path` can order.
    #[tracing::instrument(
        name = "services.items_offered_at",
        skip_all,
        err(level = "debug"),
        fields(county = %county)
    )]
    pub async fn items_offered_at(
        self,
        county: CountyCode,
        path: &str,
    ) -> AppResult<Vec<ServiceItem>> {
        let rows = store_services::items_for_path(&mut self.app.store().read(), county, path, true)
            .await?;
        let labels = self.categories(county.as_i64()).await?;
        Ok(rows
            .into_iter()
            .map(|r| self.item_view(r, &labels))
            .collect())
    }

    pub(crate) async fn item_row(self, key: Key<ServiceItemId>) -> AppResult<ServiceItemRow> {
        store_services::item(&mut self.app.store().read(), key)
            .await?
            .ok_or(AppError::NotFound {
                what: "服务项目"
            })
    }

    pub(super) async fn item_fields(
        self,
        county: CountyCode,
        path: String,
        input: &ServiceItemInput,
    ) -> AppResult<ItemFields> {
        let category = self
            .category(county.as_i64(), input.category.trim(), "category")
            .await?;
        let name = Label::<30>::read(&input.name, "name", "名称")?.into_string();
        let description =
            Lines::<300>::read_opt(input.description.as_deref(), "description", "说明")?
                .map(String::from);
        check_range(
            input.duration_minutes,
            5,
            8 * 60,
            "duration_minutes",
            "预计时长（分钟）",
        )?;
        check_range(input.points, 0, 1000, "points", "奖励积分")?;
        check_range(
            input.hours_minutes,
            0,
            8 * 60,
            "hours_minutes",
            "时间银行存入（分钟）",
        )?;
        check_range(
            input.sla_minutes,
            10,
            7 * 24 * 60,
            "sla_minutes",
            "接单时限（分钟）",
        )?;
        Ok(ItemFields {
            path,
            category: category.code,
            name,
            description,
            skills: to_json(&clean_skills(&input.skills)?),
            duration_minutes: input.duration_minutes,
            points: input.points,
            hours_minutes: input.hours_minutes,
            sla_minutes: input.sla_minutes,
            active: input.active,
        })
    }

    /// Adds an item offered under a unit (a county's items serve the whole county).
    #[tracing::instrument(name = "services.create_item", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, unit = %unit))]
    pub async fn create_item(
        self,
        caller: &Caller,
        unit: Key<UnitId>,
        input: ServiceItemInput,
    ) -> AppResult<ServiceItem> {
        let county = unit.county_code;
        let (_, path) = self
            .unit_for(caller, Permission::ManageServices, unit)
            .await?;
        let fields = self.item_fields(county, path.to_string(), &input).await?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let key = Key::new(
            county,
            ServiceItemId(ids::next(&mut tx.exec(), Seq::ServiceItems).await?),
        );
        store_services::insert_items(&mut tx.exec(), &[(key, fields.clone())], false, now).await?;
        self.audit_item(&mut tx, caller, key, "service_item.create", &fields)
            .await?;
        tx.commit().await?;
        let labels = self.categories(county.as_i64()).await?;
        Ok(self.item_view(self.item_row(key).await?, &labels))
    }

    #[tracing::instrument(name = "services.update_item", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, key = %key))]
    pub async fn update_item(
        self,
        caller: &Caller,
        key: Key<ServiceItemId>,
        input: ServiceItemInput,
    ) -> AppResult<ServiceItem> {
        let county = key.county_code;
        let existing = self.item_row(key).await?;
        if !caller
            .scope(Permission::ManageServices)
            .covers(&parse_path(&existing.path)?)
        {
            return Err(AppError::NotFound {
                what: "服务项目"
            });
        }
        let version = input.version.ok_or_else(|| {
            AppError::invalid("version_required", "version", "缺少版本号，请刷新后重试")
        })?;
        let fields = self.item_fields(county, existing.path, &input).await?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        store_services::update_item(&mut tx.exec(), key, version, &fields, now).await?;
        self.audit_item(&mut tx, caller, key, "service_item.update", &fields)
            .await?;
        tx.commit().await?;
        let labels = self.categories(county.as_i64()).await?;
        Ok(self.item_view(self.item_row(key).await?, &labels))
    }

    pub(super) async fn audit_item(
        self,
        tx: &mut yinling_store::Tx,
        caller: &Caller,
        key: Key<ServiceItemId>,
        action: &'static str,
        f: &ItemFields,
    ) -> AppResult<()> {
        let after = serde_json::json!({"category": f.category, "name": f.name, "points": f.points, "hours_minutes": f.hours_minutes, "sla_minutes": f.sla_minutes, "active": f.active});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: key.county(),
                action,
                entity: "service_item",
                entity_key: key.to_string(),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        Ok(())
    }
}
