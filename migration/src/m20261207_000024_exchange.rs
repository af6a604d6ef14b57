//! Exchange between instances (报送 across networks): the peers an instance trades signed
//! bundles with, and the log of what was exchanged.
//!
//! - `exchange_peer`: another instance, known by its id and Ed25519 public key, for one unit
//!   (department): at the office, the unit whose bundles it sends; at the unit, the unit whose
//!   records go to it. `sent_sequence` is the last bundle number written to it;
//!   `acked_sequence` / `acked_event_id` what it has acknowledged (the next bundle starts after
//!   that audit event). The instance's own signing key is never stored here (it lives beside
//!   the data, in `RECTRACK_DATA_DIR`).
//! - `exchange_log`: one row per bundle written or read (direction, sequence, digest, result,
//!   who), append-only in use.

use crate::helpers::*;
use crate::m20261127_000001_create_department::Department;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum ExchangePeer {
    Table,
    Id,
    InstanceId,
    PublicKey,
    Name,
    DepartmentId,
    SentSequence,
    AckedSequence,
    AckedEventId,
    CreatedBy,
    Version,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum ExchangeLog {
    Table,
    Id,
    PeerId,
    Direction,
    Sequence,
    BundleSha256,
    Result,
    Code,
    Detail,
    Counts,
    ActorSub,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExchangePeer::Table)
                    .col(pk_auto(ExchangePeer::Id))
                    .col(string(ExchangePeer::InstanceId).unique_key())
                    .col(string(ExchangePeer::PublicKey))
                    .col(required_text(ExchangePeer::Name))
                    .col(integer(ExchangePeer::DepartmentId))
                    .col(integer(ExchangePeer::SentSequence).default(0))
                    .col(integer(ExchangePeer::AckedSequence).default(0))
                    .col(integer(ExchangePeer::AckedEventId).default(0))
                    .col(text(ExchangePeer::CreatedBy))
                    .col(integer(ExchangePeer::Version).default(1))
                    .col(utc_null(ExchangePeer::ArchivedAt))
                    .col(utc(ExchangePeer::CreatedAt))
                    .col(utc(ExchangePeer::UpdatedAt))
                    .foreign_key(&mut fk(
                        ExchangePeer::Table,
                        ExchangePeer::DepartmentId,
                        Department::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExchangeLog::Table)
                    .col(pk_auto(ExchangeLog::Id))
                    .col(integer_null(ExchangeLog::PeerId))
                    .col(one_of(ExchangeLog::Direction, &["export", "import"]))
                    .col(integer_null(ExchangeLog::Sequence))
                    .col(string_null(ExchangeLog::BundleSha256))
                    .col(one_of(
                        ExchangeLog::Result,
                        &["written", "merged", "duplicate", "refused"],
                    ))
                    .col(string_null(ExchangeLog::Code))
                    .col(text_null(ExchangeLog::Detail))
                    .col(json_null(ExchangeLog::Counts))
                    .col(text(ExchangeLog::ActorSub))
                    .col(utc(ExchangeLog::CreatedAt))
                    .foreign_key(&mut fk(
                        ExchangeLog::Table,
                        ExchangeLog::PeerId,
                        ExchangePeer::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                // A unit's peers (the export's addressee is found by instance id: unique).
                index(
                    ExchangePeer::Table,
                    "exchange_peer_department_id_idx",
                    vec![
                        ExchangePeer::DepartmentId.into_iden(),
                        ExchangePeer::Id.into_iden(),
                    ],
                ),
                // A peer's log, newest first.
                index(
                    ExchangeLog::Table,
                    "exchange_log_peer_id_idx",
                    vec![ExchangeLog::PeerId.into_iden(), ExchangeLog::Id.into_iden()],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                ExchangeLog::Table.into_iden(),
                ExchangePeer::Table.into_iden(),
            ],
        )
        .await
    }
}
