use sea_orm::entity::prelude::*;
use serde::Serialize;

/// Which evidence rows came with which supervision reply (the rows themselves are in the
/// reply's ledger notes).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "supervision_reply_evidence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub reply_id: i32,
    pub evidence_id: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
