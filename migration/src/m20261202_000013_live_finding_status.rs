//! An index on the status of live (not archived) findings. Lists and their `totalCount`s
//! filter live findings by status more than anything else; the plain status index leaves the
//! archive check to the table, so counting one status visits every matching row's page. This
//! one answers such counts from the index alone. (SQLite and PostgreSQL both have partial
//! indexes.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX finding_live_status_idx ON finding (status) WHERE archived_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX finding_live_status_idx")
            .await?;
        Ok(())
    }
}
