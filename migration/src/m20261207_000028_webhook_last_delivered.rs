//! When an endpoint last delivered (`last_delivered_at`): an attempt that began before it and
//! failed after it is a late report of a receiver that has since come back, not the start of a
//! new run of failures (which would tell the administrators twice about one outage).

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveIden, Clone, Copy)]
enum WebhookEndpoint {
    Table,
    LastDeliveredAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEndpoint::Table)
                    .add_column(utc_null(WebhookEndpoint::LastDeliveredAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEndpoint::Table)
                    .drop_column(WebhookEndpoint::LastDeliveredAt)
                    .to_owned(),
            )
            .await
    }
}
