use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A scheduled look-back re-check (回头看) of a closed finding: due by a day, by someone.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "recheck")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub inspection_id: i32,
    pub finding_id: i32,
    pub due_on: Date,
    pub assignee: String,
    pub scheduled_by: String,
    pub created_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
    pub passed: Option<bool>,
    pub progress_entry_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    inspection_id,
    finding_id,
    due_on,
    assignee,
    scheduled_by,
    created_at,
    done_at,
    passed,
    progress_entry_id
);
