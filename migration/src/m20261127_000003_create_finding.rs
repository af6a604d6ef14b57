//! Findings (问题), their rectification measures (整改措施) and measurable targets.

use crate::helpers::*;
use crate::m20261127_000001_create_department::Department;
use crate::m20261127_000002_create_inspection::{Category, Inspection};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Finding {
    Table,
    Id,
    InspectionId,
    CategoryId,
    Ordinal,
    Title,
    Description,
    RectificationType,
    Status,
    Deadline,
    ResponsibleLeader,
    DepartmentId,
    ResponsiblePerson,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
    Version,
    ArchivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Measure {
    Table,
    Id,
    FindingId,
    Ordinal,
    Content,
    DepartmentId,
    ResponsiblePerson,
    Deadline,
    Status,
    CompletedOn,
    Version,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Target {
    Table,
    Id,
    FindingId,
    Name,
    Unit,
    Baseline,
    RequiredValue,
    CurrentValue,
    AsOf,
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
                    .table(Finding::Table)
                    .col(pk_auto(Finding::Id))
                    .col(integer(Finding::InspectionId))
                    .col(integer_null(Finding::CategoryId))
                    .col(integer(Finding::Ordinal).check(sql("ordinal > 0")))
                    .col(required_text(Finding::Title))
                    .col(text(Finding::Description).default(""))
                    .col(one_of(
                        Finding::RectificationType,
                        &["immediate", "by_deadline", "long_term"],
                    ))
                    .col(one_of(
                        Finding::Status,
                        &["not_started", "in_progress", "pending_review", "closed"],
                    ))
                    .col(date_null(Finding::Deadline))
                    .col(string_null(Finding::ResponsibleLeader))
                    .col(integer(Finding::DepartmentId))
                    .col(string_null(Finding::ResponsiblePerson))
                    .col(utc(Finding::CreatedAt))
                    .col(utc(Finding::UpdatedAt))
                    .col(utc_null(Finding::ClosedAt))
                    .col(integer(Finding::Version).default(1))
                    .col(utc_null(Finding::ArchivedAt))
                    // A closed finding always says when it was closed.
                    .check(sql("status <> 'closed' OR closed_at IS NOT NULL"))
                    .foreign_key(&mut fk(
                        Finding::Table,
                        Finding::InspectionId,
                        Inspection::Table,
                    ))
                    .foreign_key(&mut fk(
                        Finding::Table,
                        Finding::CategoryId,
                        Category::Table,
                    ))
                    .foreign_key(&mut fk(
                        Finding::Table,
                        Finding::DepartmentId,
                        Department::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Measure::Table)
                    .col(pk_auto(Measure::Id))
                    .col(integer(Measure::FindingId))
                    .col(integer(Measure::Ordinal).check(sql("ordinal > 0")))
                    .col(required_text(Measure::Content))
                    .col(integer_null(Measure::DepartmentId))
                    .col(string_null(Measure::ResponsiblePerson))
                    .col(date_null(Measure::Deadline))
                    .col(one_of(Measure::Status, &["planned", "in_progress", "done"]))
                    .col(date_null(Measure::CompletedOn))
                    .col(integer(Measure::Version).default(1))
                    .col(utc_null(Measure::ArchivedAt))
                    .col(utc(Measure::CreatedAt))
                    .col(utc(Measure::UpdatedAt))
                    // A done measure always says when it was completed.
                    .check(sql("status <> 'done' OR completed_on IS NOT NULL"))
                    .foreign_key(&mut fk(Measure::Table, Measure::FindingId, Finding::Table))
                    .foreign_key(&mut fk(
                        Measure::Table,
                        Measure::DepartmentId,
                        Department::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Target::Table)
                    .col(pk_auto(Target::Id))
                    .col(integer(Target::FindingId))
                    .col(required_text(Target::Name))
                    .col(string(Target::Unit).default(""))
                    .col(double_null(Target::Baseline))
                    .col(double_null(Target::RequiredValue))
                    .col(double_null(Target::CurrentValue))
                    .col(date_null(Target::AsOf))
                    .col(integer(Target::Version).default(1))
                    .col(utc_null(Target::ArchivedAt))
                    .col(utc(Target::CreatedAt))
                    .col(utc(Target::UpdatedAt))
                    .foreign_key(&mut fk(Target::Table, Target::FindingId, Finding::Table))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index(
                    Finding::Table,
                    "finding_inspection_ordinal_key",
                    vec![
                        Finding::InspectionId.into_iden(),
                        Finding::Ordinal.into_iden(),
                    ],
                )
                .unique()
                .to_owned(),
                index(
                    Finding::Table,
                    "finding_category_id_idx",
                    vec![Finding::CategoryId.into_iden()],
                ),
                index(
                    Finding::Table,
                    "finding_department_id_idx",
                    vec![Finding::DepartmentId.into_iden()],
                ),
                index(
                    Finding::Table,
                    "finding_status_idx",
                    vec![Finding::Status.into_iden()],
                ),
                index(
                    Finding::Table,
                    "finding_deadline_idx",
                    vec![Finding::Deadline.into_iden()],
                ),
                index(
                    Finding::Table,
                    "finding_updated_at_idx",
                    vec![Finding::UpdatedAt.into_iden(), Finding::Id.into_iden()],
                ),
                index(
                    Measure::Table,
                    "measure_finding_ordinal_key",
                    vec![Measure::FindingId.into_iden(), Measure::Ordinal.into_iden()],
                )
                .unique()
                .to_owned(),
                index(
                    Measure::Table,
                    "measure_department_id_idx",
                    vec![Measure::DepartmentId.into_iden()],
                ),
                index(
                    Measure::Table,
                    "measure_status_idx",
                    vec![Measure::Status.into_iden()],
                ),
                index(
                    Measure::Table,
                    "measure_deadline_idx",
                    vec![Measure::Deadline.into_iden()],
                ),
                index(
                    Measure::Table,
                    "measure_updated_at_idx",
                    vec![Measure::UpdatedAt.into_iden()],
                ),
                index(
                    Target::Table,
                    "target_finding_id_idx",
                    vec![Target::FindingId.into_iden()],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                Target::Table.into_iden(),
                Measure::Table.into_iden(),
                Finding::Table.into_iden(),
            ],
        )
        .await
    }
}
