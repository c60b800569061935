//! What a new database needs before anyone can log in: the divisions, the city's root unit,
//! and a check that the data key is the one the data was sealed with.

use yinling_domain::org::{OrgKind, OrgPath};
use yinling_store::{
    kernel::ids::{self, Seq},
    meta_init,
    org::{self as store_org, NewOrgUnit, OrgUnitRow},
};

use crate::{App, AppError, AppResult, CITY_CODE, CITY_COUNTY_CODE};

const KEY_CHECK: &str = "data_key_check";

impl App {
    /// Refuses to run with a data key other than the one the database was first used with:
    /// every sealed ID number and phone would be unreadable.
    pub async fn check_data_key(&self) -> AppResult<()> {
        let mine = self.vault().digest("yinling data key check v1");
        let stored = meta_init(&mut self.store().write(), KEY_CHECK, &mine).await?;
        if stored != mine {
            return Err(AppError::Internal(
                "数据密钥与数据库不匹配：这个数据库是用另一把密钥加密的。请使用原来的 YINLING_DATA_KEY 或密钥文件。"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Loads the divisions and creates the city's root unit if missing. Idempotent.
    pub async fn bootstrap(&self) -> AppResult<OrgUnitRow> {
        self.check_data_key().await?;
        self.org().load_regions().await?;
        let root_path = OrgPath::root(CITY_CODE);
        if let Some(root) = store_org::get_by_path(
            &mut self.store().read(),
            CITY_COUNTY_CODE,
            root_path.as_str(),
        )
        .await?
        {
            return Ok(root);
        }
        let mut tx = self.store().begin().await?;
        let id = ids::next(&mut tx.exec(), Seq::OrgUnits).await?;
        let unit = NewOrgUnit {
            county_code: crate::kernel::key::stored_county(CITY_COUNTY_CODE)?,
            id: yinling_domain::ids::UnitId(id),
            parent_county_code: None,
            parent_id: None,
            kind: OrgKind::City,
            name: "中共济宁市委组织部".into(),
            code: CITY_CODE.into(),
            path: root_path.to_string(),
            depth: 1,
            region_code: Some(CITY_CODE.into()),
            address: None,
            lat: None,
            lng: None,
            synthetic: false,
            now: self.now(),
        };
        store_org::insert_many(&mut tx.exec(), std::slice::from_ref(&unit)).await?;
        tx.commit().await?;
        store_org::get(
            &mut self.store().read(),
            crate::org::unit_key(CITY_COUNTY_CODE, id)?,
        )
        .await?
        .ok_or_else(|| AppError::Internal("root unit missing after insert".into()))
    }
}
