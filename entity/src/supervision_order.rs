use crate::enums::{SupervisionLevel, SupervisionStatus};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A supervision order (督办单) from the inspection office to an inspected unit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "supervision_order")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub inspection_id: i32,
    /// The inspected unit it is addressed to.
    pub unit_id: i32,
    pub level: SupervisionLevel,
    pub requirement: String,
    pub reply_deadline: Date,
    pub status: SupervisionStatus,
    pub issued_by: String,
    pub issued_by_name: Option<String>,
    pub accepted_by: Option<String>,
    pub accepted_at: Option<DateTimeUtc>,
    pub overdue_at: Option<DateTimeUtc>,
    pub reminded_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    inspection_id,
    unit_id,
    level,
    requirement,
    reply_deadline,
    status,
    issued_by,
    issued_by_name,
    accepted_by,
    accepted_at,
    overdue_at,
    reminded_at,
    version,
    created_at,
    updated_at
);
