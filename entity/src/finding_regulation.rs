use sea_orm::entity::prelude::*;

/// Which regulations answer which findings. Unlinking sets `unlinked_at`; the row stays.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
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
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
