use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One person alerted of one early-warning crossing (the in-app inbox).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub crossing_id: i32,
    pub finding_id: i32,
    /// `responsible_person`, `responsible_leader` or `principal_leader`.
    pub role: String,
    pub recipient: Option<String>,
    pub level: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    crossing_id,
    finding_id,
    role,
    recipient,
    level,
    title,
    body,
    created_at,
    read_at
);
