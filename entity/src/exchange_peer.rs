use sea_orm::entity::prelude::*;
use serde::Serialize;

/// Another rectrack instance this one exchanges signed bundles with, for one unit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "exchange_peer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The peer's instance id (`rectrack exchange identity` there).
    #[sea_orm(unique)]
    pub instance_id: String,
    /// Its Ed25519 public key, base64 (32 bytes).
    pub public_key: String,
    pub name: String,
    /// The unit whose records are exchanged with it.
    pub department_id: i32,
    /// The last bundle number written to it.
    pub sent_sequence: i32,
    /// The last bundle number it acknowledged.
    pub acked_sequence: i32,
    /// The last audit event it acknowledged: the next bundle starts after it.
    pub acked_event_id: i32,
    pub created_by: String,
    pub version: i32,
    pub archived_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    instance_id,
    public_key,
    name,
    department_id,
    sent_sequence,
    acked_sequence,
    acked_event_id,
    created_by,
    version,
    archived_at,
    created_at,
    updated_at
);
