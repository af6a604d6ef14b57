//! Departments and categories become editable through the API: give them the optimistic
//! concurrency version every other editable record has, and categories a soft delete.

use crate::m20261127_000001_create_department::Department;
use crate::m20261127_000002_create_inspection::Category;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Added {
    Version,
    ArchivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Department::Table)
                    .add_column(integer(Added::Version).default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Category::Table)
                    .add_column(integer(Added::Version).default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Category::Table)
                    .add_column(timestamp_with_time_zone_null(Added::ArchivedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            (Category::Table.into_iden(), Added::ArchivedAt.into_iden()),
            (Category::Table.into_iden(), Added::Version.into_iden()),
            (Department::Table.into_iden(), Added::Version.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
