use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A measurable target of a finding, e.g. 12% of departments against a required 25%.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "target")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub finding_id: i32,
    pub name: String,
    pub unit: String,
    pub baseline: Option<f64>,
    pub required_value: Option<f64>,
    pub current_value: Option<f64>,
    pub as_of: Option<Date>,
    pub version: i32,
    pub archived_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
