//! Webhooks that survive an outage (as Svix does): an endpoint is disabled only after failing
//! continuously for a long time with no success in between, so each endpoint keeps when its
//! current run of failures began (`failing_since`, null while it delivers). The first failure
//! of a run and the disabling are told to the administrators as notices (`webhook_notice`).

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::*;

#[derive(DeriveIden, Clone, Copy)]
enum WebhookEndpoint {
    Table,
    FailingSince,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookNotice {
    Table,
    Id,
    EndpointId,
    Kind,
    Title,
    Body,
    CreatedAt,
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
                    .add_column(utc_null(WebhookEndpoint::FailingSince))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookNotice::Table)
                    .col(pk_auto(WebhookNotice::Id))
                    .col(integer(WebhookNotice::EndpointId))
                    .col(one_of(WebhookNotice::Kind, &["failing", "disabled"]))
                    .col(text(WebhookNotice::Title))
                    .col(text(WebhookNotice::Body))
                    .col(utc(WebhookNotice::CreatedAt))
                    .foreign_key(&mut fk(
                        WebhookNotice::Table,
                        WebhookNotice::EndpointId,
                        WebhookEndpoint::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![index(
                WebhookNotice::Table,
                "webhook_notice_endpoint_id_idx",
                vec![WebhookNotice::EndpointId.into_iden()],
            )],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, vec![WebhookNotice::Table.into_iden()]).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEndpoint::Table)
                    .drop_column(WebhookEndpoint::FailingSince)
                    .to_owned(),
            )
            .await
    }
}
