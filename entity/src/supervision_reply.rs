use sea_orm::entity::prelude::*;
use serde::Serialize;

/// The unit's written reply (书面回复) to a supervision order; returned by the office or not.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "supervision_reply")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    pub content: String,
    pub author_sub: String,
    pub author_name: Option<String>,
    pub created_at: DateTimeUtc,
    pub returned_at: Option<DateTimeUtc>,
    pub returned_by: Option<String>,
    pub return_reason: Option<String>,
    pub new_deadline: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    order_id,
    content,
    author_sub,
    author_name,
    created_at,
    returned_at,
    returned_by,
    return_reason,
    new_deadline
);
