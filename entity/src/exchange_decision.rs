use sea_orm::entity::prelude::*;
use serde::Serialize;

/// At the office: a close-out decision on a unit's finding kept under its origin, to be
/// carried to the unit in a decision bundle and applied there; its outcome once answered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "exchange_decision")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub peer_id: i32,
    /// The finding here, and its id at the unit (its origin id).
    pub finding_id: i32,
    pub origin_id: i32,
    /// `approveCloseOut`, `returnFinding` or `reopenFinding`.
    #[sea_orm(column_name = "move")]
    pub step: String,
    pub text: Option<String>,
    /// The finding's version as received from the unit: the state the decision was made on.
    pub version: i32,
    pub from_status: String,
    pub decided_by: String,
    pub decided_by_name: Option<String>,
    pub decided_at: DateTimeUtc,
    /// The first bundle that carried it.
    pub first_sequence: Option<i32>,
    /// `applied` or `conflict`, once the unit answered.
    pub outcome: Option<String>,
    pub outcome_code: Option<String>,
    pub outcome_message: Option<String>,
    pub answered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
