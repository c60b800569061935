//! The wire types of people and tags, mapped from the app's views and rows with `From` and
//! into the app's inputs; each keeps its published schema name (`#[schema(as = …)]`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yinling_app::tags::{TagDefInput, TagUsage};
use yinling_store::tags::TagDefRow;

use crate::api::kernel::Micros;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = TagDefRow)]
pub struct TagDefResponse {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub archived: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl From<TagDefRow> for TagDefResponse {
    fn from(r: TagDefRow) -> Self {
        TagDefResponse {
            id: r.id,
            code: r.code,
            name: r.name,
            category: r.category,
            description: r.description,
            archived: r.archived,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A tag with how many people in the caller's scope carry it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = TagUsage)]
pub struct TagUsageResponse {
    #[serde(flatten)]
    pub def: TagDefResponse,
    pub people: i64,
}

impl From<TagUsage> for TagUsageResponse {
    fn from(u: TagUsage) -> Self {
        TagUsageResponse {
            def: u.def.into(),
            people: u.people,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = TagDefInput)]
pub struct NewTag {
    pub code: String,
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub archived: bool,
}

/// A tag's new definition: the same body as a new tag (its code is kept).
pub type TagUpdate = NewTag;

impl From<NewTag> for TagDefInput {
    fn from(t: NewTag) -> Self {
        TagDefInput {
            code: t.code,
            name: t.name,
            category: t.category,
            description: t.description,
            archived: t.archived,
        }
    }
}
