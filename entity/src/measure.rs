use crate::enums::MeasureStatus;
use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "measure")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub finding_id: i32,
    pub ordinal: i32,
    pub content: String,
    pub department_id: Option<i32>,
    pub responsible_person: Option<String>,
    pub deadline: Option<Date>,
    pub status: MeasureStatus,
    pub completed_on: Option<Date>,
    pub version: i32,
    pub archived_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
