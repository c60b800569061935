//! The organisation tree: browsing within scope, creating and editing units, grid
//! boundaries, and moving a subtree (every path-bearing column the schema shows).

use super::*;

pub(super) fn unit_path(u: &OrgUnitRow) -> AppResult<OrgPath> {
    OrgPath::parse(&u.path).map_err(|e| AppError::Internal(e.to_string()))
}

pub(super) fn validate_coords(lat: Option<f64>, lng: Option<f64>) -> AppResult<()> {
    match (lat, lng) {
        (None, None) => Ok(()),
        (Some(la), Some(ln)) if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&ln) => {
            Ok(())
        }
        (Some(_), Some(_)) => Err(AppError::invalid(
            "invalid_coordinates",
            "lat",
            "经纬度超出范围",
        )),
        _ => Err(AppError::invalid(
            "invalid_coordinates",
            "lat",
            "经度和纬度须同时填写",
        )),
    }
}

/// Checks a grid boundary is a GeoJSON Polygon or MultiPolygon with closed rings of valid
/// longitude/latitude pairs, and returns it re-serialised compactly.
pub fn validate_geojson(text: &str) -> AppResult<String> {
    let bad = |m: &str| {
        AppError::invalid(
            "invalid_geojson",
            "geojson",
            format!("网格范围格式不正确：{m}"),
        )
    };
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("不是有效的JSON"))?;
    let geometry = match v.get("type").and_then(|t| t.as_str()) {
        Some("Feature") => v
            .get("geometry")
            .cloned()
            .ok_or_else(|| bad("缺少geometry"))?,
        _ => v.clone(),
    };
    let polygons: Vec<&serde_json::Value> = match geometry.get("type").and_then(|t| t.as_str()) {
        Some("Polygon") => vec![
            geometry
                .get("coordinates")
                .ok_or_else(|| bad("缺少coordinates"))?,
        ],
        Some("MultiPolygon") => geometry
            .get("coordinates")
            .and_then(|c| c.as_array())
            .ok_or_else(|| bad("缺少coordinates"))?
            .iter()
            .collect(),
        _ => return Err(bad("只支持Polygon或MultiPolygon")),
    };
    for poly in polygons {
        let rings = poly.as_array().ok_or_else(|| bad("多边形应为坐标环数组"))?;
        if rings.is_empty() {
            return Err(bad("多边形没有坐标"));
        }
        for ring in rings {
            let pts = ring.as_array().ok_or_else(|| bad("坐标环应为点数组"))?;
            if pts.len() < 4 {
                return Err(bad("每个坐标环至少需要4个点（首尾相同）"));
            }
            let mut parsed = Vec::with_capacity(pts.len());
            for p in pts {
                let pair = p
                    .as_array()
                    .filter(|a| a.len() >= 2)
                    .ok_or_else(|| bad("点应为[经度, 纬度]"))?;
                let (lng, lat) = (pair[0].as_f64(), pair[1].as_f64());
                match (lng, lat) {
                    (Some(x), Some(y))
                        if (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y) =>
                    {
                        parsed.push((x, y))
                    }
                    _ => return Err(bad("经纬度超出范围")),
                }
            }
            if parsed.first() != parsed.last() {
                return Err(bad("坐标环首尾点须相同"));
            }
        }
    }
    let text = geometry.to_string();
    crate::kernel::text::check(&text, TextKind::Label, "geojson", "网格范围")?;
    Ok(text)
}

impl Org<'_> {
    #[tracing::instrument(name = "org.overview", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn overview(self, caller: &Caller) -> AppResult<Overview> {
        let scope = caller.scope(Permission::ViewPeople);
        let roots = self.roots(caller).await?;
        let mut exec = self.app.store().read();
        let people = store_people::count_in_scope(&mut exec, &scope).await?;
        let counts = store_org::count_by_kind(&mut exec, &scope).await?;
        let shown = [
            OrgKind::StreetCommittee,
            OrgKind::TownshipCommittee,
            OrgKind::CommunityCommittee,
            OrgKind::VillageCommittee,
            OrgKind::CompoundBranch,
            OrgKind::GridPartyGroup,
            OrgKind::CentralHousehold,
            OrgKind::RetiredBranch,
        ];
        let units = shown
            .iter()
            .filter_map(|k| {
                counts
                    .iter()
                    .find(|(kind, _)| kind == k)
                    .map(|(_, n)| (k.label_zh(), *n))
            })
            .collect();
        Ok(Overview {
            roots,
            people,
            units,
        })
    }

    /// The units the caller's grants sit on: where browsing starts.
    #[tracing::instrument(name = "org.roots", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn roots(self, caller: &Caller) -> AppResult<Vec<OrgUnitRow>> {
        let scope = caller.scope(Permission::ViewPeople);
        let paths: Vec<(i64, String)> = scope
            .ranges()
            .iter()
            .filter_map(|r| Some((r.path.county_code()?, r.path.to_string())))
            .collect();
        Ok(store_org::by_paths(&mut self.app.store().read(), &paths).await?)
    }

    /// A unit the caller may see, or NotFound.
    #[tracing::instrument(name = "org.find_unit", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn find_unit(self, caller: &Caller, key: Key<UnitId>) -> AppResult<OrgUnitRow> {
        let unit = store_org::get(&mut self.app.store().read(), key)
            .await?
            .ok_or(AppError::NotFound { what: "组织" })?;
        if !caller
            .scope(Permission::ViewPeople)
            .covers(&unit_path(&unit)?)
        {
            return Err(AppError::NotFound { what: "组织" });
        }
        Ok(unit)
    }

    #[tracing::instrument(name = "org.unit_view", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn unit_view(self, caller: &Caller, key: Key<UnitId>) -> AppResult<UnitView> {
        let unit = self.find_unit(caller, key).await?;
        let path = unit_path(&unit)?;
        let scope = caller.scope(Permission::ViewPeople);
        let mut exec = self.app.store().read();
        let mut prefixes = Vec::new();
        let mut p = path.parent();
        while let Some(ancestor) = p {
            if let Some(c) = ancestor.county_code() {
                prefixes.push((c, ancestor.to_string()));
            }
            p = ancestor.parent();
        }
        let ancestors = store_org::by_paths(&mut exec, &prefixes)
            .await?
            .into_iter()
            .map(|a| Crumb {
                visible: OrgPath::parse(&a.path).is_ok_and(|ap| scope.covers(&ap)),
                county_code: a.county_code,
                id: a.id,
                name: a.name,
            })
            .collect();
        let children = store_org::children(&mut exec, &unit)
            .await?
            .into_iter()
            .map(|row| ChildView {
                kind_label: row.kind.label_zh(),
                row,
            })
            .collect();
        let people_count = store_people::count_in_scope(&mut exec, &scope.narrow_to(&path)).await?;
        let geojson =
            store_org::grid_geojson(&mut exec, Key::new(unit.county_code, unit.id)).await?;
        let kind = unit.kind;
        let can_manage = caller.scope(Permission::ManageOrg).covers(&path);
        Ok(UnitView {
            kind_label: kind.label_zh(),
            allowed_child_kinds: OrgKind::ALL
                .into_iter()
                .filter(|k| kind.allows_child(*k))
                .collect(),
            is_area: kind.is_home(),
            unit,
            ancestors,
            children,
            people_count,
            geojson,
            can_manage,
        })
    }

    #[tracing::instrument(name = "org.units", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn units(
        self,
        caller: &Caller,
        filter: UnitFilter,
        page: PageRequest,
    ) -> AppResult<Page<OrgUnitRow>> {
        let scope = caller.scope(Permission::ViewPeople);
        let (items, total) = store_org::list(
            &mut self.app.store().read(),
            &scope,
            &filter,
            page.per_page,
            page.offset(),
        )
        .await?;
        Ok(Page {
            items,
            total,
            total_is_lower_bound: false,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub(super) async fn managed_unit(
        self,
        caller: &Caller,
        key: Key<UnitId>,
    ) -> AppResult<(OrgUnitRow, OrgPath)> {
        let unit = self.find_unit(caller, key).await?;
        let path = unit_path(&unit)?;
        if !caller.scope(Permission::ManageOrg).covers(&path) {
            return Err(AppError::forbidden("您无权调整该组织"));
        }
        Ok((unit, path))
    }

    /// Creates a unit under `parent`. A unit standing for a division takes the division's
    /// code as its path segment; a county-level unit becomes its own tenant.
    #[tracing::instrument(name = "org.create_unit", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, parent_county = parent.county(), parent_id = parent.id()))]
    pub async fn create_unit(
        self,
        caller: &Caller,
        parent: Key<UnitId>,
        input: NewUnitInput,
    ) -> AppResult<OrgUnitRow> {
        let parent_key = parent;
        let (parent, parent_path) = self.managed_unit(caller, parent_key).await?;
        let parent_kind = parent.kind;
        if !parent_kind.allows_child(input.kind) {
            return Err(AppError::invalid(
                "kind_not_allowed",
                "kind",
                format!(
                    "{}下不能设立{}",
                    parent_kind.label_zh(),
                    input.kind.label_zh()
                ),
            ));
        }
        let name = String::from(Label::<50>::read(&input.name, "name", "名称")?);
        validate_coords(input.lat, input.lng)?;
        let geojson = input
            .geojson
            .as_deref()
            .filter(|g| !g.trim().is_empty())
            .map(validate_geojson)
            .transpose()?;
        if geojson.is_some() && input.kind != OrgKind::GridPartyGroup {
            return Err(AppError::invalid(
                "geojson_not_grid",
                "geojson",
                "只有网格可以设置范围",
            ));
        }
        let region = match input
            .region_code
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(code) => {
                let rc = RegionCode::parse(code).map_err(|e| {
                    AppError::invalid("invalid_region", "region_code", e.to_string())
                })?;
                if !parent
                    .region_code
                    .as_deref()
                    .is_none_or(|pc| rc.as_str().starts_with(pc.trim_end_matches("00")))
                {
                    return Err(AppError::invalid(
                        "region_outside_parent",
                        "region_code",
                        "行政区划不在上级组织的辖区内",
                    ));
                }
                Some(rc)
            }
            None => None,
        };
        let county = match (input.kind, &region) {
            (OrgKind::County, Some(rc)) => rc.county_code().ok_or_else(|| {
                AppError::invalid(
                    "invalid_region",
                    "region_code",
                    "县级组织须填写县级行政区划代码",
                )
            })?,
            (OrgKind::County, None) => {
                return Err(AppError::invalid(
                    "region_required",
                    "region_code",
                    "县级组织须填写行政区划代码",
                ));
            }
            _ => parent.county_code,
        };
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let id = ids::next(&mut tx.exec(), Seq::OrgUnits).await?;
        let code = OrgPath::segment_for(input.kind, region.as_ref().map(|r| r.as_str()), id);
        let path = parent_path.child(&code);
        if store_org::get_by_path(&mut tx.exec(), county.as_i64(), path.as_str())
            .await?
            .is_some()
        {
            return Err(AppError::conflict(
                "unit_exists",
                Some("region_code"),
                "该行政区划已有对应组织",
            ));
        }
        let new = NewOrgUnit {
            county_code: county,
            id: UnitId(id),
            parent_county_code: Some(parent.county_code),
            parent_id: Some(parent.id),
            kind: input.kind,
            name: name.clone(),
            code,
            path: path.to_string(),
            depth: path.depth() as i64,
            region_code: region.map(|r| r.as_str().to_owned()),
            address: Line::<100>::read_opt(input.address.as_deref(), "address", "地址")?
                .map(String::from),
            lat: input.lat,
            lng: input.lng,
            synthetic: false,
            now,
        };
        store_org::insert_many(&mut tx.exec(), std::slice::from_ref(&new)).await?;
        if input.kind == OrgKind::GridPartyGroup {
            store_org::set_grid_geojson(
                &mut tx.exec(),
                Key::new(county, UnitId(id)),
                geojson.as_deref(),
            )
            .await?;
        }
        let after = serde_json::json!({"kind": new.kind, "name": name, "path": new.path});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county.as_i64(),
                action: "org.create",
                entity: "org_unit",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        let row = store_org::get(&mut tx.exec(), crate::org::unit_key(county.as_i64(), id)?)
            .await?
            .ok_or(AppError::Internal("inserted unit missing".into()))?;
        tx.commit().await?;
        Ok(row)
    }

    #[tracing::instrument(name = "org.update_unit", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn update_unit(
        self,
        caller: &Caller,
        key: Key<UnitId>,
        input: UnitUpdateInput,
    ) -> AppResult<()> {
        let (county, id) = (key.county(), key.id());
        let (unit, _) = self.managed_unit(caller, key).await?;
        let name = String::from(Label::<50>::read(&input.name, "name", "名称")?);
        validate_coords(input.lat, input.lng)?;
        let before = serde_json::json!({"name": unit.name, "address": unit.address, "lat": unit.lat, "lng": unit.lng});
        let update = OrgUnitUpdate {
            name,
            address: Line::<100>::read_opt(input.address.as_deref(), "address", "地址")?
                .map(String::from),
            lat: input.lat,
            lng: input.lng,
        };
        let after = serde_json::json!({"name": update.name, "address": update.address, "lat": update.lat, "lng": update.lng});
        let mut tx = self.app.store().begin().await?;
        store_org::update(&mut tx.exec(), key, input.version, &update, self.app.now()).await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "org.update",
                entity: "org_unit",
                entity_key: format!("{county}/{id}"),
                before: Some(&before),
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(name = "org.set_grid_boundary", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id()))]
    pub async fn set_grid_boundary(
        self,
        caller: &Caller,
        key: Key<UnitId>,
        geojson: Option<&str>,
    ) -> AppResult<()> {
        let (county, id) = (key.county(), key.id());
        let (unit, _) = self.managed_unit(caller, key).await?;
        if unit.kind != OrgKind::GridPartyGroup {
            return Err(AppError::invalid(
                "geojson_not_grid",
                "geojson",
                "只有网格可以设置范围",
            ));
        }
        let geojson = geojson
            .filter(|g| !g.trim().is_empty())
            .map(validate_geojson)
            .transpose()?;
        let mut tx = self.app.store().begin().await?;
        store_org::set_grid_geojson(&mut tx.exec(), key, geojson.as_deref()).await?;
        let after = serde_json::json!({"geojson": geojson});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "grid.update",
                entity: "org_unit",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves a unit and everything under it to a new parent in the same county. Every path in
    /// the subtree — in every table column the schema shows to hold one: units, places,
    /// people, roles, tags, grants, providers and their areas, service items, orders, needs,
    /// mediation cases and mediators, ledger accounts and adjustments — is rewritten in one
    /// transaction (`yinling_store::org::move_subtree`), and the moved providers are logged
    /// for the matching pools. Returns how many units moved.
    #[tracing::instrument(name = "org.move_unit", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, county = key.county(), id = key.id(), new_parent_county = new_parent.county(), new_parent_id = new_parent.id()))]
    pub async fn move_unit(
        self,
        caller: &Caller,
        key: Key<UnitId>,
        new_parent: Key<UnitId>,
    ) -> AppResult<u64> {
        let (county, id) = (key.county(), key.id());
        let (unit, from) = self.managed_unit(caller, key).await?;
        let (parent, parent_path) = self.managed_unit(caller, new_parent).await?;
        if parent.county_code != unit.county_code {
            return Err(AppError::invalid(
                "cross_county_move",
                "parent",
                "不能跨县（市、区）调整隶属关系",
            ));
        }
        if parent_path.is_within(&from) {
            return Err(AppError::invalid(
                "move_into_self",
                "parent",
                "不能把组织移到它自己的下级",
            ));
        }
        let kind = unit.kind;
        let parent_kind = parent.kind;
        if !parent_kind.allows_child(kind) {
            return Err(AppError::invalid(
                "kind_not_allowed",
                "parent",
                format!("{}下不能设立{}", parent_kind.label_zh(), kind.label_zh()),
            ));
        }
        let to = parent_path.child(&unit.code);
        if to == from {
            return Ok(0);
        }
        let depth_delta = to.depth() as i64 - from.depth() as i64;
        let mut tx = self.app.store().begin().await?;
        store_org::set_parent(
            &mut tx.exec(),
            key,
            Key::new(parent.county_code, parent.id),
            &unit.code,
        )
        .await?;
        let moved = store_org::move_subtree(
            &mut tx.exec(),
            county,
            from.as_str(),
            to.as_str(),
            depth_delta,
            self.app.now(),
        )
        .await?;
        let before = serde_json::json!({"path": from.as_str()});
        let after = serde_json::json!({"path": to.as_str()});
        let detail = format!(
            "units={} rows={} providers={}",
            moved.units,
            moved.rows(),
            moved.providers.len()
        );
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "org.move",
                entity: "org_unit",
                entity_key: format!("{county}/{id}"),
                before: Some(&before),
                after: Some(&after),
                detail: Some(detail),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(moved.units)
    }
}
