//! Idempotency keys: a retried mutation with the same key and body gets the stored response
//! instead of doing the work twice, across restarts and across server processes (the primary
//! key is the lock).

use crate::helpers::*;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum IdempotencyKey {
    Table,
    /// The caller's token subject: keys are per caller.
    Caller,
    Key,
    RequestHash,
    State,
    ResponseStatus,
    ResponseContentType,
    ResponseBody,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKey::Table)
                    .col(string(IdempotencyKey::Caller))
                    .col(string(IdempotencyKey::Key))
                    .col(string_len(IdempotencyKey::RequestHash, 64))
                    .col(one_of(IdempotencyKey::State, &["in_progress", "done"]))
                    .col(integer_null(IdempotencyKey::ResponseStatus))
                    .col(string_null(IdempotencyKey::ResponseContentType))
                    .col(text_null(IdempotencyKey::ResponseBody))
                    .col(utc(IdempotencyKey::CreatedAt))
                    .col(utc(IdempotencyKey::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKey::Caller)
                            .col(IdempotencyKey::Key),
                    )
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![index(
                IdempotencyKey::Table,
                "idempotency_key_expires_at_idx",
                vec![IdempotencyKey::ExpiresAt.into_iden()],
            )],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, vec![IdempotencyKey::Table.into_iden()]).await
    }
}
