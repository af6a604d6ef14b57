use sea_orm::entity::prelude::*;
use serde::Serialize;

/// Where a peer stands as received: the last bundle merged from it and the end of its audit
/// chain as far as this instance holds it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "exchange_received")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub peer_id: i32,
    /// The last bundle number merged.
    pub sequence: i32,
    /// The last event of the peer's chain received, and its hash.
    pub event_id: i32,
    pub hash: String,
    /// The SHA-256 of the last bundle file merged.
    pub bundle_sha256: String,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
