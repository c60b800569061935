//! Places (地): buildings, their entrances (单元), households and free addresses, kept by
//! the staff of the area they lie in.

use serde::{Deserialize, Serialize};
use yinling_domain::{org::OrgPath, role::Permission};
use yinling_store::{
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    org::places::{self as store_places, NewPlace, PlaceRow},
};

use crate::{
    AppError, AppResult, Caller,
    kernel::audit::Event,
    kernel::text::{Label, Line, ReadField},
};

use super::*;

pub use yinling_domain::org::PlaceKind;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PlaceInput {
    pub kind: PlaceKind,
    /// The containing place, if any (a building for an entrance, an entrance for a household).
    #[serde(default)]
    pub parent_id: Option<i64>,
    /// "3号楼", "2单元", "501室".
    pub label: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
}

/// A place with who lives there (households only).
#[derive(Debug, Clone, Serialize)]
pub struct PlaceView {
    #[serde(flatten)]
    pub place: PlaceRow,
    pub kind_label: &'static str,
    pub residents: Vec<crate::people::HouseholdMember>,
}

impl Org<'_> {
    /// An area unit the caller may see under `p`, with its path.
    pub(super) async fn area_unit(
        self,
        caller: &Caller,
        p: Permission,
        key: Key<UnitId>,
    ) -> AppResult<(yinling_store::org::OrgUnitRow, OrgPath)> {
        let unit = self.find_unit(caller, key).await?;
        let path = OrgPath::parse(&unit.path).map_err(|e| AppError::Internal(e.to_string()))?;
        if !caller.scope(p).covers(&path) {
            return Err(AppError::forbidden("您无权维护该组织的楼栋和住户"));
        }
        if !unit.kind.is_home() {
            return Err(AppError::invalid(
                "not_an_area",
                "unit",
                "楼栋和住户只能登记在社区、村、小区、网格或党员中心户下",
            ));
        }
        Ok((unit, path))
    }

    /// Places directly under a unit (`parent` None) or under a place of that unit.
    #[tracing::instrument(name = "org.places", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), unit_id = key.id()))]
    pub async fn places(
        self,
        caller: &Caller,
        key: Key<UnitId>,
        parent: Option<PlaceId>,
    ) -> AppResult<Vec<PlaceView>> {
        let county = key.county_code;
        let (unit, _) = self.area_unit(caller, Permission::ViewPeople, key).await?;
        let mut exec = self.app.store().read();
        if let Some(pid) = parent {
            store_places::get(&mut exec, Key::new(county, pid))
                .await?
                .filter(|p| p.unit_id == unit.id)
                .ok_or(AppError::NotFound { what: "住所" })?;
        }
        let rows = store_places::children(&mut exec, county, parent, unit.id).await?;
        let mut out = Vec::with_capacity(rows.len());
        for place in rows {
            let residents = if place.kind.is_household() {
                store_places::residents(&mut exec, Key::new(county, place.id))
                    .await?
                    .into_iter()
                    .map(|(id, name)| crate::people::HouseholdMember { id, name })
                    .collect()
            } else {
                Vec::new()
            };
            out.push(PlaceView {
                kind_label: place.kind.label_zh(),
                place,
                residents,
            });
        }
        Ok(out)
    }

    #[tracing::instrument(name = "org.create_place", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), unit_id = key.id()))]
    pub async fn create_place(
        self,
        caller: &Caller,
        key: Key<UnitId>,
        input: PlaceInput,
    ) -> AppResult<PlaceRow> {
        let county = key.county_code;
        let (unit, path) = self.area_unit(caller, Permission::EditPeople, key).await?;
        let label = String::from(Label::<40>::read(&input.label, "label", "名称")?);
        let address =
            Line::<100>::read_opt(input.address.as_deref(), "address", "地址")?.map(String::from);
        match (input.lat, input.lng) {
            (None, None) => {}
            (Some(la), Some(ln))
                if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&ln) => {}
            _ => {
                return Err(AppError::invalid(
                    "invalid_coordinates",
                    "lat",
                    "经纬度须同时填写且在有效范围内",
                ));
            }
        }
        let parent_kind = match input.parent_id {
            Some(pid) => {
                let parent =
                    store_places::get(&mut self.app.store().read(), Key::new(county, PlaceId(pid)))
                        .await?
                        .filter(|p| p.unit_id == unit.id)
                        .ok_or(AppError::NotFound {
                            what: "上级住所"
                        })?;
                Some(parent.kind)
            }
            None => None,
        };
        if !input.kind.fits_under(parent_kind) {
            return Err(AppError::invalid(
                "kind_not_allowed",
                "kind",
                format!(
                    "{}不能登记在{}下",
                    input.kind.label_zh(),
                    parent_kind.map_or("组织", PlaceKind::label_zh)
                ),
            ));
        }
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let id = PlaceId(ids::next(&mut tx.exec(), Seq::Places).await?);
        let new = NewPlace {
            county_code: county,
            id,
            kind: input.kind,
            parent_id: input.parent_id.map(PlaceId),
            unit_id: unit.id,
            path: path.to_string(),
            label: label.clone(),
            address,
            lat: input.lat,
            lng: input.lng,
            synthetic: false,
            now,
        };
        store_places::insert_many(&mut tx.exec(), std::slice::from_ref(&new)).await?;
        let after = serde_json::json!({"kind": new.kind, "label": label, "parent": new.parent_id, "unit": new.path});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county.as_i64(),
                action: "place.create",
                entity: "place",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        let row = store_places::get(&mut tx.exec(), Key::new(county, id))
            .await?
            .ok_or_else(|| AppError::Internal("inserted place missing".into()))?;
        tx.commit().await?;
        Ok(row)
    }
}
