//! Supervision orders (督办单): the inspection office presses a unit on some of its findings or
//! measures, with a level (一般督办/重点督办/挂牌督办), what is required and a reply deadline;
//! the unit replies in writing, the office accepts (办结) or returns the reply.
//!
//! - `supervision_order`: the order. Its requirement is never rewritten; `status` moves
//!   `open → replied → accepted`, or back to `open` when a reply is returned (with a new
//!   deadline). `overdue_at` / `reminded_at` are set once by the sweep.
//! - `supervision_order_subject`: the findings (and measures) it is about; a measure's row
//!   names its finding too, so that the order is scoped by its findings' departments.
//! - `supervision_reply`: the unit's written replies, append-only but for the office's return
//!   (who, when, why, the new deadline), written once on the reply it returns.
//!
//! The inbox (`notification`) was for early-warning crossings only: its `crossing_id` becomes
//! optional and a row may name the supervision order it tells of instead, addressed to the
//! unit's managers (`manager`) as well as the leaders warnings address. SQLite cannot drop a
//! NOT NULL or a CHECK in place, so there the table is rebuilt with its rows and indexes.

use crate::helpers::*;
use crate::m20261127_000001_create_department::Department;
use crate::m20261127_000002_create_inspection::Inspection;
use crate::m20261127_000003_create_finding::{Finding, Measure};
use crate::m20261202_000015_events_webhooks_notifications::{Notification, WarningCrossing};
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum SupervisionOrder {
    Table,
    Id,
    InspectionId,
    /// The inspected unit (the inspection's unit) the order is addressed to.
    UnitId,
    /// `general` (一般督办), `key` (重点督办), `listed` (挂牌督办).
    Level,
    Requirement,
    ReplyDeadline,
    /// `open`, `replied`, `accepted`.
    Status,
    IssuedBy,
    IssuedByName,
    AcceptedBy,
    AcceptedAt,
    /// When the sweep found it unanswered past its deadline (逾期未复) and raised its level.
    OverdueAt,
    /// When the sweep reminded the unit before the deadline (催办).
    RemindedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum SupervisionOrderSubject {
    Table,
    Id,
    OrderId,
    FindingId,
    MeasureId,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum SupervisionReply {
    Table,
    Id,
    OrderId,
    Content,
    AuthorSub,
    AuthorName,
    CreatedAt,
    ReturnedAt,
    ReturnedBy,
    ReturnReason,
    NewDeadline,
}

#[derive(DeriveIden, Clone, Copy)]
enum Extra {
    SupervisionOrderId,
    NotificationNext,
}

const ROLES_BEFORE: &[&str] = &[
    "responsible_person",
    "responsible_leader",
    "principal_leader",
];
const ROLES_AFTER: &[&str] = &[
    "responsible_person",
    "responsible_leader",
    "principal_leader",
    "manager",
];

/// The inbox table as it stands after (`loose`) or before this migration.
fn notification_table(name: DynIden, loose: bool) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(name.clone())
        .col(pk_auto(Notification::Id))
        .col(if loose {
            integer_null(Notification::CrossingId)
        } else {
            integer(Notification::CrossingId)
        })
        .col(integer(Notification::FindingId))
        .col(one_of(
            Notification::Role,
            if loose { ROLES_AFTER } else { ROLES_BEFORE },
        ))
        .col(text_null(Notification::Recipient))
        .col(one_of(Notification::Level, &["green", "yellow", "red"]))
        .col(text(Notification::Title))
        .col(text(Notification::Body))
        .col(utc(Notification::CreatedAt))
        .col(utc_null(Notification::ReadAt));
    if loose {
        table.col(integer_null(Extra::SupervisionOrderId));
    }
    table
        .foreign_key(
            ForeignKey::create()
                .from(name.clone(), Notification::CrossingId)
                .to(WarningCrossing::Table, Alias::new("id"))
                .on_delete(ForeignKeyAction::Restrict)
                .on_update(ForeignKeyAction::Restrict),
        )
        .foreign_key(
            ForeignKey::create()
                .from(name.clone(), Notification::FindingId)
                .to(Finding::Table, Alias::new("id"))
                .on_delete(ForeignKeyAction::Restrict)
                .on_update(ForeignKeyAction::Restrict),
        );
    if loose {
        table.foreign_key(
            ForeignKey::create()
                .from(name, Extra::SupervisionOrderId)
                .to(SupervisionOrder::Table, Alias::new("id"))
                .on_delete(ForeignKeyAction::Restrict)
                .on_update(ForeignKeyAction::Restrict),
        );
    }
    table.to_owned()
}

/// Rebuilds the inbox on SQLite (loosened or as it was), keeping its rows and indexes. One
/// string of statements, so that they run in order on one connection: run one by one, a later
/// statement could land on a pooled connection still reading the schema from before the drop.
async fn rebuild_sqlite(manager: &SchemaManager<'_>, loose: bool) -> Result<(), DbErr> {
    let create = notification_table(Extra::NotificationNext.into_iden(), loose)
        .to_string(SqliteQueryBuilder);
    let columns =
        "id, crossing_id, finding_id, role, recipient, level, title, body, created_at, read_at";
    let only = if loose {
        ""
    } else {
        " WHERE crossing_id IS NOT NULL"
    };
    let sql = format!(
        "{create};\n\
         INSERT INTO notification_next ({columns}) SELECT {columns} FROM notification{only};\n\
         DROP TABLE notification;\n\
         ALTER TABLE notification_next RENAME TO notification;\n\
         CREATE INDEX notification_recipient_idx ON notification (recipient, id);\n\
         CREATE INDEX notification_finding_id_idx ON notification (finding_id);"
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupervisionOrder::Table)
                    .col(pk_auto(SupervisionOrder::Id))
                    .col(integer(SupervisionOrder::InspectionId))
                    .col(integer(SupervisionOrder::UnitId))
                    .col(one_of(
                        SupervisionOrder::Level,
                        &["general", "key", "listed"],
                    ))
                    .col(required_text(SupervisionOrder::Requirement))
                    .col(date(SupervisionOrder::ReplyDeadline))
                    .col(one_of(
                        SupervisionOrder::Status,
                        &["open", "replied", "accepted"],
                    ))
                    .col(text(SupervisionOrder::IssuedBy))
                    .col(text_null(SupervisionOrder::IssuedByName))
                    .col(text_null(SupervisionOrder::AcceptedBy))
                    .col(utc_null(SupervisionOrder::AcceptedAt))
                    .col(utc_null(SupervisionOrder::OverdueAt))
                    .col(utc_null(SupervisionOrder::RemindedAt))
                    .col(integer(SupervisionOrder::Version).default(1))
                    .col(utc(SupervisionOrder::CreatedAt))
                    .col(utc(SupervisionOrder::UpdatedAt))
                    .foreign_key(&mut fk(
                        SupervisionOrder::Table,
                        SupervisionOrder::InspectionId,
                        Inspection::Table,
                    ))
                    .foreign_key(&mut fk(
                        SupervisionOrder::Table,
                        SupervisionOrder::UnitId,
                        Department::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SupervisionOrderSubject::Table)
                    .col(pk_auto(SupervisionOrderSubject::Id))
                    .col(integer(SupervisionOrderSubject::OrderId))
                    .col(integer(SupervisionOrderSubject::FindingId))
                    .col(integer_null(SupervisionOrderSubject::MeasureId))
                    .foreign_key(&mut fk(
                        SupervisionOrderSubject::Table,
                        SupervisionOrderSubject::OrderId,
                        SupervisionOrder::Table,
                    ))
                    .foreign_key(&mut fk(
                        SupervisionOrderSubject::Table,
                        SupervisionOrderSubject::FindingId,
                        Finding::Table,
                    ))
                    .foreign_key(&mut fk(
                        SupervisionOrderSubject::Table,
                        SupervisionOrderSubject::MeasureId,
                        Measure::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SupervisionReply::Table)
                    .col(pk_auto(SupervisionReply::Id))
                    .col(integer(SupervisionReply::OrderId))
                    .col(required_text(SupervisionReply::Content))
                    .col(text(SupervisionReply::AuthorSub))
                    .col(text_null(SupervisionReply::AuthorName))
                    .col(utc(SupervisionReply::CreatedAt))
                    .col(utc_null(SupervisionReply::ReturnedAt))
                    .col(text_null(SupervisionReply::ReturnedBy))
                    .col(text_null(SupervisionReply::ReturnReason))
                    .col(date_null(SupervisionReply::NewDeadline))
                    .foreign_key(&mut fk(
                        SupervisionReply::Table,
                        SupervisionReply::OrderId,
                        SupervisionOrder::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                // The office's list, newest first, and a unit's.
                index(
                    SupervisionOrder::Table,
                    "supervision_order_unit_id_idx",
                    vec![
                        SupervisionOrder::UnitId.into_iden(),
                        SupervisionOrder::Id.into_iden(),
                    ],
                ),
                // The sweep: open orders by deadline; the status filter.
                index(
                    SupervisionOrder::Table,
                    "supervision_order_status_deadline_idx",
                    vec![
                        SupervisionOrder::Status.into_iden(),
                        SupervisionOrder::ReplyDeadline.into_iden(),
                        SupervisionOrder::Id.into_iden(),
                    ],
                ),
                index(
                    SupervisionOrderSubject::Table,
                    "supervision_order_subject_order_id_idx",
                    vec![SupervisionOrderSubject::OrderId.into_iden()],
                ),
                // A finding's orders, and the scope (orders of readable findings).
                index(
                    SupervisionOrderSubject::Table,
                    "supervision_order_subject_finding_id_idx",
                    vec![
                        SupervisionOrderSubject::FindingId.into_iden(),
                        SupervisionOrderSubject::OrderId.into_iden(),
                    ],
                ),
                index(
                    SupervisionReply::Table,
                    "supervision_reply_order_id_idx",
                    vec![
                        SupervisionReply::OrderId.into_iden(),
                        SupervisionReply::Id.into_iden(),
                    ],
                ),
            ],
        )
        .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_sqlite(manager, true).await?,
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE notification ALTER COLUMN crossing_id DROP NOT NULL",
                )
                .await?;
                db.execute_unprepared(
                    "ALTER TABLE notification ADD COLUMN supervision_order_id integer NULL REFERENCES supervision_order (id) ON DELETE RESTRICT ON UPDATE RESTRICT",
                )
                .await?;
                db.execute_unprepared(
                    "ALTER TABLE notification DROP CONSTRAINT notification_role_check",
                )
                .await?;
                db.execute_unprepared(
                    "ALTER TABLE notification ADD CONSTRAINT notification_role_check CHECK (role IN ('responsible_person', 'responsible_leader', 'principal_leader', 'manager'))",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_sqlite(manager, false).await?,
            _ => {
                db.execute_unprepared("DELETE FROM notification WHERE crossing_id IS NULL")
                    .await?;
                db.execute_unprepared("ALTER TABLE notification DROP COLUMN supervision_order_id")
                    .await?;
                db.execute_unprepared(
                    "ALTER TABLE notification ALTER COLUMN crossing_id SET NOT NULL",
                )
                .await?;
                db.execute_unprepared(
                    "ALTER TABLE notification DROP CONSTRAINT notification_role_check",
                )
                .await?;
                db.execute_unprepared(
                    "ALTER TABLE notification ADD CONSTRAINT notification_role_check CHECK (role IN ('responsible_person', 'responsible_leader', 'principal_leader'))",
                )
                .await?;
            }
        }
        drop_tables(
            manager,
            vec![
                SupervisionReply::Table.into_iden(),
                SupervisionOrderSubject::Table.into_iden(),
                SupervisionOrder::Table.into_iden(),
            ],
        )
        .await
    }
}
