//! A department's materialised path (`/1/4/`) compared byte by byte on PostgreSQL too, as
//! SQLite compares it. A subtree is then the range `path >= '/1/' AND path < '/10'`, which both
//! databases answer from the path's index; `LIKE '/1/%'` with a bound pattern cannot use an
//! index, and every scoped read scanned all departments for the caller's subtree (0.2 ms of a
//! manager's 0.35 ms page of findings at 2,000 departments). Under a language's collation the
//! range would be wrong ('/' sorts as nothing in en_US), so the column takes the "C" collation:
//! the path is a machine string of digits and slashes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                r#"ALTER TABLE department ALTER COLUMN path TYPE varchar COLLATE "C""#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                r#"ALTER TABLE department ALTER COLUMN path TYPE varchar COLLATE "default""#,
            )
            .await?;
        Ok(())
    }
}
