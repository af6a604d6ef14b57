use crate::enums::DepartmentKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "department")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// External identifier used by other government systems (e.g. an organisation code).
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub kind: DepartmentKind,
    pub parent_id: Option<i32>,
    /// Materialised path of ids from the root, `/1/4/`; a subtree is `path LIKE '/1/4/%'`.
    pub path: String,
    pub principal_leader: Option<String>,
    pub version: i32,
    pub archived_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    code,
    name,
    kind,
    parent_id,
    path,
    principal_leader,
    version,
    archived_at,
    created_at,
    updated_at
);
