//! Departments: the tree that every permission is scoped by. A unit (被巡察单位) is a department;
//! its sections (责任科室) are child departments.

use crate::helpers::*;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Department {
    Table,
    Id,
    Code,
    Name,
    Kind,
    ParentId,
    /// Materialised path of ids, e.g. `/1/4/`: a subtree is `path LIKE '/1/4/%'`, one indexed
    /// range scan on both databases instead of a recursive query on every scoped read.
    Path,
    PrincipalLeader,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Department::Table)
                    .col(pk_auto(Department::Id))
                    .col(string_uniq(Department::Code).check(sql("length(trim(code)) > 0")))
                    .col(required_text(Department::Name))
                    .col(one_of(Department::Kind, &["unit", "section"]))
                    .col(integer_null(Department::ParentId))
                    .col(string(Department::Path))
                    .col(string_null(Department::PrincipalLeader))
                    .col(utc_null(Department::ArchivedAt))
                    .col(utc(Department::CreatedAt))
                    .col(utc(Department::UpdatedAt))
                    .foreign_key(&mut fk(
                        Department::Table,
                        Department::ParentId,
                        Department::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index(
                    Department::Table,
                    "department_parent_id_idx",
                    vec![Department::ParentId.into_iden()],
                ),
                index(
                    Department::Table,
                    "department_path_idx",
                    vec![Department::Path.into_iden()],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, vec![Department::Table.into_iden()]).await
    }
}
