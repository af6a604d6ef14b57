use sea_orm::entity::prelude::*;
use serde::Serialize;

/// The unit's reply to public feedback; append-only. A published one is shown to the public.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "public_feedback_reply")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub feedback_id: i32,
    pub content: String,
    pub published: bool,
    pub author_sub: String,
    pub author_name: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    feedback_id,
    content,
    published,
    author_sub,
    author_name,
    created_at
);
