use crate::enums::RelapseKind;
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A relapse of a closed finding (问题反弹), as the look-back found it. Written once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "relapse")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub finding_id: i32,
    pub kind: RelapseKind,
    pub occurred_on: Date,
    pub occurred_at: DateTimeUtc,
    pub progress_entry_id: Option<i32>,
    pub actor_sub: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
