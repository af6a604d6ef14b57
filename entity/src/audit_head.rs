use sea_orm::entity::prelude::*;

/// The newest end of the audit chain, written with every append: the last event, its hash and
/// how many events there are. A chain that ends elsewhere has lost its newest events.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_head")]
pub struct Model {
    /// Always 1: there is one head.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub last_event_id: i32,
    pub last_hash: String,
    pub events: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
