//! The audit trail (a hash chain of every change) and local login accounts.

use crate::helpers::*;
use crate::m20261127_000001_create_department::Department;
use crate::m20261127_000005_create_ledger::{allow_changes, forbid_changes};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum AuditEvent {
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
    PrevHash,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Account {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    Role,
    DepartmentId,
    Disabled,
    FailedAttempts,
    LockedUntil,
    /// Raised when the account is disabled or its password changes; tokens carry the version
    /// they were issued under, so raising it invalidates every earlier token at once.
    TokenVersion,
    LastLoginAt,
    CreatedAt,
    UpdatedAt,
}

const ROLES: [&str; 5] = ["admin", "inspector", "manager", "officer", "viewer"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut actor_roles = ROLES.to_vec();
        actor_roles.push("system");
        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(pk_auto(AuditEvent::Id))
                    .col(utc(AuditEvent::OccurredAt))
                    .col(string(AuditEvent::ActorSub))
                    .col(one_of(AuditEvent::ActorRole, &actor_roles))
                    .col(string(AuditEvent::Action))
                    .col(string(AuditEvent::EntityType))
                    .col(string(AuditEvent::EntityId))
                    .col(json_binary_null(AuditEvent::Before))
                    .col(json_binary_null(AuditEvent::After))
                    .col(string_null(AuditEvent::RequestId))
                    .col(string_len(AuditEvent::PrevHash, 64))
                    .col(string_len_uniq(AuditEvent::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Account::Table)
                    .col(pk_auto(Account::Id))
                    .col(string_uniq(Account::Username).check(sql("length(trim(username)) > 0")))
                    .col(string_null(Account::DisplayName))
                    .col(string(Account::PasswordHash))
                    .col(one_of(Account::Role, &ROLES))
                    .col(integer_null(Account::DepartmentId))
                    .col(boolean(Account::Disabled).default(false))
                    .col(integer(Account::FailedAttempts).default(0))
                    .col(utc_null(Account::LockedUntil))
                    .col(integer(Account::TokenVersion).default(0))
                    .col(utc_null(Account::LastLoginAt))
                    .col(utc(Account::CreatedAt))
                    .col(utc(Account::UpdatedAt))
                    // Managers and officers act for a department; without one they could act
                    // for nobody (or, worse, be mistaken for unscoped).
                    .check(sql(
                        "role NOT IN ('manager', 'officer') OR department_id IS NOT NULL",
                    ))
                    .foreign_key(&mut fk(
                        Account::Table,
                        Account::DepartmentId,
                        Department::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index(
                    AuditEvent::Table,
                    "audit_event_entity_idx",
                    vec![
                        AuditEvent::EntityType.into_iden(),
                        AuditEvent::EntityId.into_iden(),
                    ],
                ),
                index(
                    AuditEvent::Table,
                    "audit_event_occurred_at_idx",
                    vec![AuditEvent::OccurredAt.into_iden()],
                ),
                index(
                    Account::Table,
                    "account_department_id_idx",
                    vec![Account::DepartmentId.into_iden()],
                ),
            ],
        )
        .await?;
        forbid_changes(manager, "audit_event").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        allow_changes(manager, "audit_event").await?;
        drop_tables(
            manager,
            vec![Account::Table.into_iden(), AuditEvent::Table.into_iden()],
        )
        .await
    }
}
