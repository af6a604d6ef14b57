use crate::enums::{FindingStatus, RectificationType};
use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "finding")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub inspection_id: i32,
    pub category_id: Option<i32>,
    /// Number of the finding within its inspection (1, 2, ...).
    pub ordinal: i32,
    pub title: String,
    pub description: String,
    pub rectification_type: RectificationType,
    pub status: FindingStatus,
    pub deadline: Option<Date>,
    pub responsible_leader: Option<String>,
    /// Responsible department (责任科室): the scope a finding belongs to.
    pub department_id: i32,
    pub responsible_person: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// Optimistic concurrency: raised by every update.
    pub version: i32,
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
