use sea_orm::entity::prelude::*;
use serde::Serialize;

/// At the unit: a decision received from the office and what applying it gave.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "exchange_applied")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub peer_id: i32,
    /// The decision's id at the office.
    pub decision_id: i32,
    /// The finding here.
    pub finding_id: i32,
    #[sea_orm(column_name = "move")]
    pub step: String,
    pub text: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_at: DateTimeUtc,
    /// The bundle that brought it.
    pub sequence: i32,
    /// `applied` or `conflict`.
    pub result: String,
    /// A conflict's code and reason (in Chinese, as the unit's command answered).
    pub code: Option<String>,
    pub message: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
