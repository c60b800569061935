//! The tag vocabulary (标签化管理): defined city-wide by administrators, applied to people
//! by staff in scope, each application with its provenance.

use serde::{Deserialize, Serialize};
use yinling_domain::{ids::TagId, org::OrgPath, role::Permission};
use yinling_store::{
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    people::tags::{self as store_tags, TagDefRow},
};

use super::People;
use crate::{
    AppError, AppResult, Caller,
    kernel::audit::Event,
    kernel::text::{Bounded, Label, LinesKind, ReadField},
};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TagDefInput {
    pub code: String,
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub archived: bool,
}

/// A tag with how many people in the caller's scope carry it.
#[derive(Debug, Clone, Serialize)]
pub struct TagUsage {
    #[serde(flatten)]
    pub def: TagDefRow,
    pub people: i64,
}

/// Categories offered when defining a tag.
pub const TAG_CATEGORIES: &[&str] = &[
    "人群特征",
    "健康状况",
    "居住情况",
    "政治面貌",
    "服务需求",
    "优待政策",
    "其他",
];

fn validate(input: &TagDefInput) -> AppResult<TagDefInput> {
    let code = input.code.trim().to_lowercase();
    if code.is_empty()
        || code.len() > 32
        || !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(AppError::invalid(
            "invalid_tag_code",
            "code",
            "标签代码须为1至32位小写英文字母、数字或下划线",
        ));
    }
    let name = String::from(Label::<20>::read(&input.name, "name", "标签名称")?);
    let category = input.category.trim().to_owned();
    if !TAG_CATEGORIES.contains(&category.as_str()) {
        return Err(AppError::invalid(
            "invalid_tag_category",
            "category",
            "请选择标签类别",
        ));
    }
    let description =
        Bounded::<LinesKind, 0, 200>::read(&input.description, "description", "说明")?
            .into_string();
    Ok(TagDefInput {
        code,
        name,
        category,
        description,
        archived: input.archived,
    })
}

/// Tag definitions are one vocabulary for the whole city, so only the level that owns it
/// changes it: a ManageTags grant on the city itself (the city administrator). A county
/// administrator, whose ManageTags reaches only the county, applies tags to people in scope
/// but cannot create, rename, recategorise or archive a definition every county shares.
pub fn may_define_tags(caller: &Caller) -> bool {
    caller
        .scope(Permission::ManageTags)
        .covers(&OrgPath::root(crate::CITY_CODE))
}

impl People<'_> {
    pub async fn tag_definitions(
        &self,
        caller: &Caller,
        include_archived: bool,
    ) -> AppResult<Vec<TagUsage>> {
        if !caller.may(Permission::ViewPeople) {
            return Err(AppError::forbidden("您无权查看标签"));
        }
        let mut exec = self.app.store().read();
        let defs = store_tags::defs(&mut exec, include_archived).await?;
        let usage = store_tags::usage(&mut exec, &caller.scope(Permission::ViewPeople)).await?;
        Ok(defs
            .into_iter()
            .map(|def| TagUsage {
                people: usage
                    .iter()
                    .find(|(id, _)| *id == def.id)
                    .map_or(0, |(_, n)| *n),
                def,
            })
            .collect())
    }

    #[tracing::instrument(name = "people.define_tag", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn define_tag(self, caller: &Caller, input: TagDefInput) -> AppResult<TagId> {
        if !may_define_tags(caller) {
            return Err(AppError::forbidden(
                "标签全市通用，只有市级管理员可以定义标签",
            ));
        }
        let input = validate(&input)?;
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        if store_tags::def_by_code(&mut tx.exec(), &input.code)
            .await?
            .is_some()
        {
            return Err(AppError::conflict(
                "tag_code_taken",
                Some("code"),
                "标签代码已存在",
            ));
        }
        let id = TagId(ids::next(&mut tx.exec(), Seq::TagDefs).await?);
        let def = TagDefRow {
            id,
            code: input.code.clone(),
            name: input.name.clone(),
            category: input.category.clone(),
            description: input.description.clone(),
            archived: false,
            created_at: now,
            updated_at: now,
        };
        store_tags::insert_def(&mut tx.exec(), &def)
            .await
            .map_err(|e| {
                if e.is_conflict_on("name") {
                    AppError::conflict("tag_name_taken", Some("name"), "标签名称已存在")
                } else {
                    e.into()
                }
            })?;
        let after = serde_json::to_value(&def).unwrap_or_default();
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: 0,
                action: "tag.create",
                entity: "tag",
                entity_key: id.to_string(),
                before: None,
                after: Some(&after),
                detail: Some(def.code.clone()),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Renames, recategorises or archives a tag (the code never changes: rules refer to it).
    #[tracing::instrument(name = "people.update_tag_definition", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, id = id.get()))]
    pub async fn update_tag_definition(
        self,
        caller: &Caller,
        id: TagId,
        input: TagDefInput,
    ) -> AppResult<()> {
        if !may_define_tags(caller) {
            return Err(AppError::forbidden(
                "标签全市通用，只有市级管理员可以修改标签",
            ));
        }
        let mut tx = self.app.store().begin().await?;
        let current = store_tags::def(&mut tx.exec(), id)
            .await?
            .ok_or(AppError::NotFound { what: "标签" })?;
        let input = validate(&TagDefInput {
            code: current.code.clone(),
            ..input
        })?;
        let updated = TagDefRow {
            name: input.name,
            category: input.category,
            description: input.description,
            archived: input.archived,
            updated_at: self.app.now(),
            ..current.clone()
        };
        store_tags::update_def(&mut tx.exec(), &updated)
            .await
            .map_err(|e| {
                if e.is_conflict_on("name") {
                    AppError::conflict("tag_name_taken", Some("name"), "标签名称已存在")
                } else {
                    e.into()
                }
            })?;
        let before = serde_json::to_value(&current).unwrap_or_default();
        let after = serde_json::to_value(&updated).unwrap_or_default();
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: 0,
                action: "tag.update",
                entity: "tag",
                entity_key: id.to_string(),
                before: Some(&before),
                after: Some(&after),
                detail: None,
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(())
    }
}
