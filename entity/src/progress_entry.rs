use crate::enums::ProgressKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One entry of a finding's ledger (台账记录). Append-only: the database refuses updates and
/// deletes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "progress_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub finding_id: i32,
    pub measure_id: Option<i32>,
    pub entry_date: Date,
    pub kind: ProgressKind,
    pub content: String,
    pub author_sub: String,
    pub author_name: Option<String>,
    pub author_role: Option<String>,
    /// For a correction: the entry it corrects.
    pub corrects_id: Option<i32>,
    pub details: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    finding_id,
    measure_id,
    entry_date,
    kind,
    content,
    author_sub,
    author_name,
    author_role,
    corrects_id,
    details,
    created_at
);
