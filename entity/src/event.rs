use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One event of the outbox: a change others are told of (subscriptions, webhooks), written in
/// the transaction that makes the change.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub kind: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: i32,
    pub finding_id: Option<i32>,
    pub department_id: Option<i32>,
    pub payload: Option<Json>,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
