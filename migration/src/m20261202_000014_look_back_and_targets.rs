//! The look-back (回头看) that remembers, and targets that judge themselves.
//!
//! - `relapse`: one row per relapse of a finding (a failed re-check, or a reopen not already
//!   counted by the failed re-check that led to it). Rows are facts: written once, never changed.
//! - `recheck`: the re-check schedule: which closed finding is to be re-checked by when, and by
//!   whom; a recorded re-check marks the scheduled one done.
//! - `target.better`: whether a higher or a lower value is better (12% against a required 25%
//!   is short of it; 11.57万元 misused against a required 0 is over it).

use crate::helpers::*;
use crate::m20261127_000002_create_inspection::Inspection;
use crate::m20261127_000003_create_finding::{Finding, Target};
use crate::m20261127_000005_create_ledger::ProgressEntry;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Relapse {
    Table,
    Id,
    FindingId,
    /// `failed_recheck` or `reopen`.
    Kind,
    /// The unit's day it happened on.
    OccurredOn,
    OccurredAt,
    /// The ledger entry that records it.
    ProgressEntryId,
    ActorSub,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Recheck {
    Table,
    Id,
    InspectionId,
    FindingId,
    DueOn,
    /// Who is to re-check it (a person or a section, as the unit writes it).
    Assignee,
    ScheduledBy,
    CreatedAt,
    /// Set when a re-check of the finding is recorded.
    DoneAt,
    Passed,
    ProgressEntryId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Added {
    Better,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Relapse::Table)
                    .col(pk_auto(Relapse::Id))
                    .col(integer(Relapse::FindingId))
                    .col(one_of(Relapse::Kind, &["failed_recheck", "reopen"]))
                    .col(date(Relapse::OccurredOn))
                    .col(utc(Relapse::OccurredAt))
                    .col(integer_null(Relapse::ProgressEntryId))
                    .col(string(Relapse::ActorSub))
                    .foreign_key(&mut fk(Relapse::Table, Relapse::FindingId, Finding::Table))
                    .foreign_key(&mut fk(
                        Relapse::Table,
                        Relapse::ProgressEntryId,
                        ProgressEntry::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Recheck::Table)
                    .col(pk_auto(Recheck::Id))
                    .col(integer(Recheck::InspectionId))
                    .col(integer(Recheck::FindingId))
                    .col(date(Recheck::DueOn))
                    .col(required_text(Recheck::Assignee))
                    .col(string(Recheck::ScheduledBy))
                    .col(utc(Recheck::CreatedAt))
                    .col(utc_null(Recheck::DoneAt))
                    .col(boolean_null(Recheck::Passed))
                    .col(integer_null(Recheck::ProgressEntryId))
                    .foreign_key(&mut fk(
                        Recheck::Table,
                        Recheck::InspectionId,
                        Inspection::Table,
                    ))
                    .foreign_key(&mut fk(Recheck::Table, Recheck::FindingId, Finding::Table))
                    .foreign_key(&mut fk(
                        Recheck::Table,
                        Recheck::ProgressEntryId,
                        ProgressEntry::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index(
                    Relapse::Table,
                    "relapse_finding_id_idx",
                    vec![Relapse::FindingId.into_iden()],
                ),
                index(
                    Recheck::Table,
                    "recheck_finding_id_idx",
                    vec![Recheck::FindingId.into_iden()],
                ),
                index(
                    Recheck::Table,
                    "recheck_inspection_id_due_on_idx",
                    vec![
                        Recheck::InspectionId.into_iden(),
                        Recheck::DueOn.into_iden(),
                    ],
                ),
            ],
        )
        .await?;
        let mut better = one_of(Added::Better, &["higher", "lower"]);
        better.not_null().default("higher");
        manager
            .alter_table(
                Table::alter()
                    .table(Target::Table)
                    .add_column(better)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Target::Table)
                    .drop_column(Added::Better)
                    .to_owned(),
            )
            .await?;
        drop_tables(
            manager,
            vec![Recheck::Table.into_iden(), Relapse::Table.into_iden()],
        )
        .await
    }
}
