//! The path's index on PostgreSQL carries the department's id as well, so that a subtree's ids
//! (`SELECT id FROM department WHERE path >= '/1/' AND path < '/10'`, the start of every
//! scoped read) come from the index alone instead of a visit to each department's row: for a
//! subtree of a hundred departments, three pages read instead of twenty-nine, about a quarter
//! of a manager's page of findings in the database. (SQLite's index on the path carries the id
//! already: it is the row id.)

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_path_index(
            manager,
            "CREATE INDEX department_path_idx ON department (path) INCLUDE (id)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_path_index(
            manager,
            "CREATE INDEX department_path_idx ON department (path)",
        )
        .await
    }
}

async fn replace_path_index(manager: &SchemaManager<'_>, create: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared("DROP INDEX department_path_idx")
        .await?;
    db.execute_unprepared(create).await?;
    Ok(())
}
