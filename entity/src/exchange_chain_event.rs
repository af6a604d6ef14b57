use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One event of a peer's audit chain as received: its id and hash.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "exchange_chain_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub peer_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: i32,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
