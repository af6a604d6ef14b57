//! Stages (阶段目标) of long-term (长期坚持) findings: what is to be reached by when on the way
//! to a finding that stays open, and the day it was reached. Versioned and archived (soft
//! deleted) like measures; read by finding, in order.

use crate::helpers::*;
use crate::m20261127_000003_create_finding::Finding;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Stage {
    Table,
    Id,
    FindingId,
    Ordinal,
    /// What is to be reached.
    Content,
    /// By when (the target date).
    TargetOn,
    /// The day it was reached, once it was.
    AchievedOn,
    Version,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Stage::Table)
                    .col(pk_auto(Stage::Id))
                    .col(integer(Stage::FindingId))
                    .col(integer(Stage::Ordinal).check(sql("ordinal > 0")))
                    .col(required_text(Stage::Content))
                    .col(date(Stage::TargetOn))
                    .col(date_null(Stage::AchievedOn))
                    .col(integer(Stage::Version).default(1))
                    .col(utc_null(Stage::ArchivedAt))
                    .col(utc(Stage::CreatedAt))
                    .col(utc(Stage::UpdatedAt))
                    .foreign_key(&mut fk(Stage::Table, Stage::FindingId, Finding::Table))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![index(
                Stage::Table,
                "stage_finding_id_ordinal_idx",
                vec![Stage::FindingId.into_iden(), Stage::Ordinal.into_iden()],
            )],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, vec![Stage::Table.into_iden()]).await
    }
}
