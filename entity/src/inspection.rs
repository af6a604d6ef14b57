use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "inspection")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub title: String,
    pub inspection_group: String,
    /// The inspected unit (被巡察单位).
    pub unit_id: i32,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    pub feedback_on: Option<Date>,
    /// Rectification due date.
    pub due_on: Option<Date>,
    /// Organisational measures, issuer and public contact for bulletins (JSON).
    pub publicity: Option<Json>,
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
    title,
    inspection_group,
    unit_id,
    started_on,
    ended_on,
    feedback_on,
    due_on,
    publicity,
    version,
    archived_at,
    created_at,
    updated_at
);
