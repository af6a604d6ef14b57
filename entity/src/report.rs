use crate::enums::{ReportKind, ReportStatus};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A stored, immutable snapshot of an inspection's ledger at a date.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "report")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub inspection_id: i32,
    pub kind: ReportKind,
    pub period_end: Date,
    pub status: ReportStatus,
    pub snapshot: Json,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    inspection_id,
    kind,
    period_end,
    status,
    snapshot,
    created_by,
    created_at,
    submitted_by,
    submitted_at,
    published_at
);
