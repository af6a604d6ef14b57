use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A record merged from a peer: the sender's id of it (its origin id) and the local row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "exchange_origin")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The origin instance (a registered peer).
    pub peer_id: i32,
    /// The table: `inspection`, `finding`, `progress_entry`, ...
    pub kind: String,
    pub origin_id: i32,
    pub local_id: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
