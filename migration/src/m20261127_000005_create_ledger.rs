//! The ledger (一问题一台账): progress entries and the evidence attached to them.
//!
//! Both tables are append-only, and the database itself enforces it with triggers, so that no
//! code path (nor a careless SQL console) can rewrite history: a mistake is answered by a new
//! entry of kind `correction` that points at the entry it corrects.

use crate::helpers::*;
use crate::m20261127_000003_create_finding::{Finding, Measure};
use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum ProgressEntry {
    Table,
    Id,
    FindingId,
    MeasureId,
    EntryDate,
    Kind,
    Content,
    AuthorSub,
    AuthorName,
    AuthorRole,
    CorrectsId,
    /// Structured facts of the entry, e.g. `{"from": "in_progress", "to": "pending_review"}`.
    Details,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Evidence {
    Table,
    Id,
    ProgressEntryId,
    Title,
    Kind,
    Url,
    Sha256,
    SizeBytes,
    MediaType,
    CreatedAt,
}

/// Tables whose rows may be inserted but never updated or deleted.
pub const APPEND_ONLY: [&str; 2] = ["progress_entry", "evidence"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProgressEntry::Table)
                    .col(pk_auto(ProgressEntry::Id))
                    .col(integer(ProgressEntry::FindingId))
                    .col(integer_null(ProgressEntry::MeasureId))
                    .col(date(ProgressEntry::EntryDate))
                    .col(one_of(
                        ProgressEntry::Kind,
                        &[
                            "progress",
                            "status_change",
                            "meeting",
                            "recheck",
                            "comment",
                            "correction",
                        ],
                    ))
                    .col(required_text(ProgressEntry::Content))
                    .col(string(ProgressEntry::AuthorSub))
                    .col(string_null(ProgressEntry::AuthorName))
                    .col(string_null(ProgressEntry::AuthorRole))
                    .col(integer_null(ProgressEntry::CorrectsId))
                    .col(json_binary_null(ProgressEntry::Details))
                    .col(utc(ProgressEntry::CreatedAt))
                    // A correction must say which entry it corrects, and only a correction may.
                    .check(sql("(kind = 'correction' AND corrects_id IS NOT NULL) \
                         OR (kind <> 'correction' AND corrects_id IS NULL)"))
                    .foreign_key(&mut fk(
                        ProgressEntry::Table,
                        ProgressEntry::FindingId,
                        Finding::Table,
                    ))
                    .foreign_key(&mut fk(
                        ProgressEntry::Table,
                        ProgressEntry::MeasureId,
                        Measure::Table,
                    ))
                    .foreign_key(&mut fk(
                        ProgressEntry::Table,
                        ProgressEntry::CorrectsId,
                        ProgressEntry::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Evidence::Table)
                    .col(pk_auto(Evidence::Id))
                    .col(integer(Evidence::ProgressEntryId))
                    .col(required_text(Evidence::Title))
                    .col(one_of(Evidence::Kind, &["file", "link"]))
                    .col(text_null(Evidence::Url))
                    .col(string_len_null(Evidence::Sha256, 64))
                    .col(big_integer_null(Evidence::SizeBytes))
                    .col(string_null(Evidence::MediaType))
                    .col(utc(Evidence::CreatedAt))
                    // A link carries its address; a file carries its content digest.
                    .check(sql(
                        "(kind = 'link' AND url IS NOT NULL) OR (kind = 'file' AND sha256 IS NOT NULL)",
                    ))
                    .foreign_key(&mut fk(
                        Evidence::Table,
                        Evidence::ProgressEntryId,
                        ProgressEntry::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index(
                    ProgressEntry::Table,
                    "progress_entry_finding_id_idx",
                    vec![
                        ProgressEntry::FindingId.into_iden(),
                        ProgressEntry::Id.into_iden(),
                    ],
                ),
                index(
                    ProgressEntry::Table,
                    "progress_entry_measure_id_idx",
                    vec![ProgressEntry::MeasureId.into_iden()],
                ),
                index(
                    ProgressEntry::Table,
                    "progress_entry_corrects_id_idx",
                    vec![ProgressEntry::CorrectsId.into_iden()],
                ),
                index(
                    ProgressEntry::Table,
                    "progress_entry_created_at_idx",
                    vec![ProgressEntry::CreatedAt.into_iden()],
                ),
                index(
                    Evidence::Table,
                    "evidence_progress_entry_id_idx",
                    vec![Evidence::ProgressEntryId.into_iden()],
                ),
                index(
                    Evidence::Table,
                    "evidence_sha256_idx",
                    vec![Evidence::Sha256.into_iden()],
                ),
            ],
        )
        .await?;
        for table in APPEND_ONLY {
            forbid_changes(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in APPEND_ONLY {
            allow_changes(manager, table).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS rectrack_append_only()")
                .await?;
        }
        drop_tables(
            manager,
            vec![
                Evidence::Table.into_iden(),
                ProgressEntry::Table.into_iden(),
            ],
        )
        .await
    }
}

/// Installs triggers that abort any UPDATE or DELETE on `table`.
pub async fn forbid_changes(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(
                "CREATE OR REPLACE FUNCTION rectrack_append_only() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN \
                 RAISE EXCEPTION '% is append-only', TG_TABLE_NAME \
                 USING ERRCODE = 'restrict_violation'; END $$",
            )
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION rectrack_append_only()"
            ))
            .await?;
        }
        _ => {
            for op in ["update", "delete"] {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_no_{op} BEFORE {op} ON {table} \
                     BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// Removes the triggers of [`forbid_changes`].
pub async fn allow_changes(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {table}_append_only ON {table}"
            ))
            .await?;
        }
        _ => {
            for op in ["update", "delete"] {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_no_{op}"))
                    .await?;
            }
        }
    }
    Ok(())
}
