use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A finding or measure crossing into an early-warning level for one deadline; unique per
/// (subject, level, deadline), so each crossing notifies once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "warning_crossing")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `finding` or `measure`.
    pub subject_type: String,
    pub subject_id: i32,
    pub finding_id: i32,
    /// `green`, `yellow` or `red`.
    pub level: String,
    pub deadline: Date,
    pub crossed_on: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    subject_type,
    subject_id,
    finding_id,
    level,
    deadline,
    crossed_on,
    created_at
);
