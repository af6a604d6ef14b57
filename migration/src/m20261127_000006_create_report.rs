//! Reports: semi-monthly progress reports (整改情况报告) and public bulletins (通报), each an
//! immutable snapshot of the ledger at a date.

use crate::helpers::*;
use crate::m20261127_000002_create_inspection::Inspection;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Report {
    Table,
    Id,
    InspectionId,
    Kind,
    PeriodEnd,
    Status,
    Snapshot,
    CreatedBy,
    CreatedAt,
    SubmittedBy,
    SubmittedAt,
    PublishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Report::Table)
                    .col(pk_auto(Report::Id))
                    .col(integer(Report::InspectionId))
                    .col(one_of(Report::Kind, &["semi_monthly", "bulletin"]))
                    .col(date(Report::PeriodEnd))
                    .col(one_of(Report::Status, &["draft", "submitted", "published"]))
                    .col(json_binary(Report::Snapshot))
                    .col(string(Report::CreatedBy))
                    .col(utc(Report::CreatedAt))
                    .col(string_null(Report::SubmittedBy))
                    .col(utc_null(Report::SubmittedAt))
                    .col(utc_null(Report::PublishedAt))
                    .foreign_key(&mut fk(
                        Report::Table,
                        Report::InspectionId,
                        Inspection::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![index(
                Report::Table,
                "report_inspection_kind_period_idx",
                vec![
                    Report::InspectionId.into_iden(),
                    Report::Kind.into_iden(),
                    Report::PeriodEnd.into_iden(),
                ],
            )],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, vec![Report::Table.into_iden()]).await
    }
}
