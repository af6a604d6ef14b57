use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Which regulations answer which findings. Unlinking sets `unlinked_at`; the row stays.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "finding_regulation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub finding_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub regulation_id: i32,
    pub linked_at: DateTimeUtc,
    pub linked_by: String,
    pub unlinked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::regulation::Entity",
        from = "Column::RegulationId",
        to = "super::regulation::Column::Id"
    )]
    Regulation,
}

impl Related<super::regulation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Regulation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
