use crate::enums::TargetBetter;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A measurable target of a finding, e.g. 12% of departments against a required 25%.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
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
    /// Whether higher or lower values are better (absent from events older than the field).
    #[serde(default)]
    pub better: TargetBetter,
    pub version: i32,
    pub archived_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
