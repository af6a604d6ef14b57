//! Tamper evidence at the edges of what is kept:
//! - `audit_head` anchors the newest end of the audit chain (its last event, that event's hash,
//!   and how many events there are), written in the transaction of every append, so that
//!   removing the newest events is found by `rectrack audit verify` like any other removal;
//! - report snapshots become append-only: once generated, a report's content and identity never
//!   change, its status only moves on from a draft, and reports are never deleted (the content
//!   hash of each snapshot is also in the chain);
//! - an idempotency key remembers the request id of the attempt that holds it, so that a retry
//!   after a lost answer can tell whether that attempt's write committed.

use crate::helpers::*;
use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditHead {
    Table,
    Id,
    LastEventId,
    LastHash,
    Events,
}

#[derive(DeriveIden, Clone, Copy)]
enum IdempotencyKey {
    Table,
    RequestId,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(integer(AuditHead::Id).primary_key().check(sql("id = 1")))
                    .col(integer(AuditHead::LastEventId))
                    .col(string_len(AuditHead::LastHash, 64))
                    .col(big_integer(AuditHead::Events))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "INSERT INTO audit_head (id, last_event_id, last_hash, events) \
             SELECT 1, COALESCE(MAX(id), 0), \
             COALESCE((SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1), '{GENESIS}'), \
             COUNT(*) FROM audit_event"
        ))
        .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE OR REPLACE FUNCTION rectrack_report_fixed() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN \
                     IF TG_OP = 'DELETE' THEN \
                       RAISE EXCEPTION 'reports are never deleted' USING ERRCODE = 'restrict_violation'; \
                     END IF; \
                     IF NEW.snapshot IS DISTINCT FROM OLD.snapshot OR NEW.kind IS DISTINCT FROM OLD.kind \
                        OR NEW.period_end IS DISTINCT FROM OLD.period_end \
                        OR NEW.inspection_id IS DISTINCT FROM OLD.inspection_id \
                        OR NEW.created_by IS DISTINCT FROM OLD.created_by \
                        OR NEW.created_at IS DISTINCT FROM OLD.created_at OR OLD.status <> 'draft' THEN \
                       RAISE EXCEPTION 'report snapshots are append-only' USING ERRCODE = 'restrict_violation'; \
                     END IF; \
                     RETURN NEW; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER report_fixed BEFORE UPDATE OR DELETE ON report \
                     FOR EACH ROW EXECUTE FUNCTION rectrack_report_fixed()",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_head_kept BEFORE DELETE ON audit_head \
                     FOR EACH ROW EXECUTE FUNCTION rectrack_append_only()",
                )
                .await?;
            }
            _ => {
                for statement in [
                    "CREATE TRIGGER report_snapshot_fixed BEFORE UPDATE OF snapshot, kind, period_end, \
                     inspection_id, created_by, created_at ON report \
                     BEGIN SELECT RAISE(ABORT, 'report snapshots are append-only'); END",
                    "CREATE TRIGGER report_status_forward BEFORE UPDATE ON report \
                     WHEN OLD.status <> 'draft' \
                     BEGIN SELECT RAISE(ABORT, 'report snapshots are append-only'); END",
                    "CREATE TRIGGER report_no_delete BEFORE DELETE ON report \
                     BEGIN SELECT RAISE(ABORT, 'reports are never deleted'); END",
                    "CREATE TRIGGER audit_head_kept BEFORE DELETE ON audit_head \
                     BEGIN SELECT RAISE(ABORT, 'audit_head is kept'); END",
                ] {
                    db.execute_unprepared(statement).await?;
                }
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKey::Table)
                    .add_column(string_null(IdempotencyKey::RequestId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS report_fixed ON report")
                    .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS rectrack_report_fixed()")
                    .await?;
                db.execute_unprepared("DROP TRIGGER IF EXISTS audit_head_kept ON audit_head")
                    .await?;
            }
            _ => {
                for name in [
                    "report_snapshot_fixed",
                    "report_status_forward",
                    "report_no_delete",
                    "audit_head_kept",
                ] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}"))
                        .await?;
                }
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKey::Table)
                    .drop_column(IdempotencyKey::RequestId)
                    .to_owned(),
            )
            .await?;
        drop_tables(manager, vec![AuditHead::Table.into_iden()]).await
    }
}
