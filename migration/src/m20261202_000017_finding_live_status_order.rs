//! The live-status index widened by the lists' default order (inspection, ordinal, id). A page
//! of one status (`findings(filter: {status: [IN_PROGRESS]}, first: 20)`) then walks the index
//! in order and stops at the page's end; with the status alone, SQLite read and sorted every
//! finding of that status (41,000 of 100,000 in the benchmark) to keep twenty. Counts by status
//! are still answered from the index alone, so it replaces the narrower one. On SQLite the
//! plain status index goes too: SQLite preferred it, and then fetched every row to check
//! `archived_at` (a count of 40,000 IN_PROGRESS findings: 37 ms from it, 4 ms from this one);
//! only lists that include archived findings filter by status without it there. PostgreSQL
//! chooses the partial index by itself and keeps the plain one (for those lists, and for
//! other readers of the tables).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX finding_live_status_order_idx ON finding (status, inspection_id, ordinal, id) WHERE archived_at IS NULL",
        )
        .await?;
        db.execute_unprepared("DROP INDEX finding_live_status_idx")
            .await?;
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
            db.execute_unprepared("DROP INDEX finding_status_idx")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX finding_live_status_idx ON finding (status) WHERE archived_at IS NULL",
        )
        .await?;
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
            db.execute_unprepared("CREATE INDEX finding_status_idx ON finding (status)")
                .await?;
        }
        db.execute_unprepared("DROP INDEX finding_live_status_order_idx")
            .await?;
        Ok(())
    }
}
