use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A finding (or one of its measures) a supervision order is about.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "supervision_order_subject")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    pub finding_id: i32,
    pub measure_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(id, order_id, finding_id, measure_id);
