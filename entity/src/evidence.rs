use crate::enums::EvidenceKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A file (stored content-addressed by SHA-256) or a link attached to a progress entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "evidence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub progress_entry_id: i32,
    pub title: String,
    pub kind: EvidenceKind,
    pub url: Option<String>,
    pub sha256: Option<String>,
    pub size_bytes: Option<i64>,
    pub media_type: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
