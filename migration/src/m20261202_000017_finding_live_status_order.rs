//! On SQLite, the live-status index widened by the lists' default order (inspection, ordinal,
//! id). A page of one status (`findings(filter: {status: [IN_PROGRESS]}, first: 20)`) then
//! walks the index in order and stops at the page's end; with the status alone, SQLite read and
//! sorted every finding of that status (41,000 of 100,000 in the benchmark) to keep twenty.
//! It replaces the narrow live-status index and the plain status index: SQLite preferred the
//! plain one for counts and then fetched every row to check `archived_at` (a count of 40,000
//! IN_PROGRESS findings: 37 ms from it, 4 ms from this one). Only lists that include archived
//! findings filter by status without it, and those are rare.
//!
//! PostgreSQL keeps its indexes: it walks the order index to a page's end by itself, and counts
//! faster from the narrow index (4 ms against 7 ms from the wide one).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX finding_live_status_order_idx ON finding (status, inspection_id, ordinal, id) WHERE archived_at IS NULL",
        )
        .await?;
        db.execute_unprepared("DROP INDEX finding_live_status_idx")
            .await?;
        db.execute_unprepared("DROP INDEX finding_status_idx")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX finding_live_status_idx ON finding (status) WHERE archived_at IS NULL",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX finding_status_idx ON finding (status)")
            .await?;
        db.execute_unprepared("DROP INDEX finding_live_status_order_idx")
            .await?;
        Ok(())
    }
}
