//! Notices of public feedback (公众监督) in the inbox: when the public sends feedback about a
//! bulletin, the unit's managers are told. Such a notice is about a feedback, not a finding:
//! `notification.finding_id` becomes optional and `public_feedback_id` names the feedback
//! (every row names one or the other; the commands write one). SQLite cannot drop a NOT NULL
//! in place, so there the table is rebuilt with its rows and indexes, as the supervision
//! orders' migration did.

use crate::helpers::*;
use crate::m20261127_000003_create_finding::Finding;
use crate::m20261202_000015_events_webhooks_notifications::{Notification, WarningCrossing};
use crate::m20261207_000023_supervision_orders::SupervisionOrder;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Extra {
    SupervisionOrderId,
    PublicFeedbackId,
    PublicFeedback,
    NotificationNext,
}

const ROLES: &[&str] = &[
    "responsible_person",
    "responsible_leader",
    "principal_leader",
    "manager",
];

/// The inbox table with (`feedback`) or without this migration's change.
fn notification_table(name: DynIden, feedback: bool) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(name.clone())
        .col(pk_auto(Notification::Id))
        .col(integer_null(Notification::CrossingId))
        .col(if feedback {
            integer_null(Notification::FindingId)
        } else {
            integer(Notification::FindingId)
        })
        .col(one_of(Notification::Role, ROLES))
        .col(text_null(Notification::Recipient))
        .col(one_of(Notification::Level, &["green", "yellow", "red"]))
        .col(text(Notification::Title))
        .col(text(Notification::Body))
        .col(utc(Notification::CreatedAt))
        .col(utc_null(Notification::ReadAt))
        .col(integer_null(Extra::SupervisionOrderId));
    if feedback {
        table.col(integer_null(Extra::PublicFeedbackId));
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
        )
        .foreign_key(
            ForeignKey::create()
                .from(name.clone(), Extra::SupervisionOrderId)
                .to(SupervisionOrder::Table, Alias::new("id"))
                .on_delete(ForeignKeyAction::Restrict)
                .on_update(ForeignKeyAction::Restrict),
        );
    if feedback {
        table.foreign_key(
            ForeignKey::create()
                .from(name, Extra::PublicFeedbackId)
                .to(Extra::PublicFeedback, Alias::new("id"))
                .on_delete(ForeignKeyAction::Restrict)
                .on_update(ForeignKeyAction::Restrict),
        );
    }
    table.to_owned()
}

/// Rebuilds the inbox on SQLite, keeping its rows (going down: those about findings) and
/// indexes, in one string of statements run in order on one connection.
async fn rebuild_sqlite(manager: &SchemaManager<'_>, feedback: bool) -> Result<(), DbErr> {
    let create = notification_table(Extra::NotificationNext.into_iden(), feedback)
        .to_string(SqliteQueryBuilder);
    let columns = "id, crossing_id, finding_id, role, recipient, level, title, body, created_at, read_at, supervision_order_id";
    let only = if feedback {
        ""
    } else {
        " WHERE finding_id IS NOT NULL"
    };
    let sql = format!(
        "{create};\n\
         INSERT INTO notification_next ({columns}) SELECT {columns} FROM notification{only};\n\
         DROP TABLE notification;\n\
         ALTER TABLE notification_next RENAME TO notification;\n\
         CREATE INDEX notification_recipient_idx ON notification (recipient, id);\n\
         CREATE INDEX notification_finding_id_idx ON notification (finding_id);{}",
        if feedback {
            "\nCREATE INDEX notification_public_feedback_id_idx ON notification (public_feedback_id);"
        } else {
            ""
        }
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_sqlite(manager, true).await?,
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE notification ALTER COLUMN finding_id DROP NOT NULL",
                )
                .await?;
                db.execute_unprepared(
                    "ALTER TABLE notification ADD COLUMN public_feedback_id integer NULL REFERENCES public_feedback (id) ON DELETE RESTRICT ON UPDATE RESTRICT",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX notification_public_feedback_id_idx ON notification (public_feedback_id)",
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
                db.execute_unprepared("DELETE FROM notification WHERE finding_id IS NULL")
                    .await?;
                db.execute_unprepared("ALTER TABLE notification DROP COLUMN public_feedback_id")
                    .await?;
                db.execute_unprepared(
                    "ALTER TABLE notification ALTER COLUMN finding_id SET NOT NULL",
                )
                .await?;
            }
        }
        Ok(())
    }
}
