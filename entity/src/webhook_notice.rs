use sea_orm::entity::prelude::*;
use serde::Serialize;

/// What the administrators are told of an endpoint: its deliveries began to fail, or it was
/// disabled after failing continuously.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "webhook_notice")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub endpoint_id: i32,
    /// `failing` or `disabled`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(id, endpoint_id, kind, title, body, created_at);
