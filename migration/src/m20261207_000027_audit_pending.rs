//! Audited writes on PostgreSQL leave their events here, unchained, in their own transaction;
//! one chainer at a time moves them onto the chain after commit (`rectrack::audit`). The
//! chain's lock is then held for a batch of events instead of for every write's commit.
//! SQLite's writes are serial and keep chaining in their own transaction: the table stays
//! empty there.

use crate::helpers::*;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditPending {
    Table,
    Id,
    OccurredAt,
    ActorSub,
    ActorRole,
    Action,
    EntityType,
    EntityId,
    Before,
    After,
    RequestId,
    DepartmentId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The columns of an audit event but its links; no foreign keys, as the trail has none.
        manager
            .create_table(
                Table::create()
                    .table(AuditPending::Table)
                    .col(pk_auto(AuditPending::Id))
                    .col(utc(AuditPending::OccurredAt))
                    .col(string(AuditPending::ActorSub))
                    .col(string(AuditPending::ActorRole))
                    .col(string(AuditPending::Action))
                    .col(string(AuditPending::EntityType))
                    .col(string(AuditPending::EntityId))
                    .col(json_binary_null(AuditPending::Before))
                    .col(json_binary_null(AuditPending::After))
                    .col(string_null(AuditPending::RequestId))
                    .col(integer_null(AuditPending::DepartmentId))
                    .to_owned(),
            )
            .await?;
        // An abandoned idempotency key asks whether its request wrote anything yet.
        create_indexes(
            manager,
            vec![index(
                AuditPending::Table,
                "audit_pending_request_id_idx",
                vec![AuditPending::RequestId.into_iden()],
            )],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, vec![AuditPending::Table.into_iden()]).await
    }
}
