//! Inspections (巡察) and the feedback headings (方面) their findings are grouped under.

use crate::helpers::*;
use crate::m20261127_000001_create_department::Department;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

// Column names are the table's own; `InspectionGroup` repeating the table name is the domain's.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden, Clone, Copy)]
pub enum Inspection {
    Table,
    Id,
    Title,
    InspectionGroup,
    UnitId,
    StartedOn,
    EndedOn,
    FeedbackOn,
    DueOn,
    Version,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Category {
    Table,
    Id,
    InspectionId,
    Ordinal,
    Title,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Inspection::Table)
                    .col(pk_auto(Inspection::Id))
                    .col(required_text(Inspection::Title))
                    .col(required_text(Inspection::InspectionGroup))
                    .col(integer(Inspection::UnitId))
                    .col(date(Inspection::StartedOn))
                    .col(date_null(Inspection::EndedOn))
                    .col(date_null(Inspection::FeedbackOn))
                    .col(date_null(Inspection::DueOn))
                    .col(integer(Inspection::Version).default(1))
                    .col(utc_null(Inspection::ArchivedAt))
                    .col(utc(Inspection::CreatedAt))
                    .col(utc(Inspection::UpdatedAt))
                    // Dates in order; each later date may still be unknown.
                    .check(on_or_after(Inspection::EndedOn, Inspection::StartedOn))
                    .check(on_or_after(Inspection::FeedbackOn, Inspection::StartedOn))
                    .check(on_or_after(Inspection::DueOn, Inspection::StartedOn))
                    .foreign_key(&mut fk(
                        Inspection::Table,
                        Inspection::UnitId,
                        Department::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Category::Table)
                    .col(pk_auto(Category::Id))
                    .col(integer(Category::InspectionId))
                    .col(integer(Category::Ordinal).check(sql("ordinal > 0")))
                    .col(required_text(Category::Title))
                    .col(utc(Category::CreatedAt))
                    .col(utc(Category::UpdatedAt))
                    .foreign_key(&mut fk(
                        Category::Table,
                        Category::InspectionId,
                        Inspection::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index(
                    Inspection::Table,
                    "inspection_unit_id_idx",
                    vec![Inspection::UnitId.into_iden()],
                ),
                index(
                    Inspection::Table,
                    "inspection_updated_at_idx",
                    vec![Inspection::UpdatedAt.into_iden()],
                ),
                index(
                    Category::Table,
                    "category_inspection_ordinal_key",
                    vec![
                        Category::InspectionId.into_iden(),
                        Category::Ordinal.into_iden(),
                    ],
                )
                .unique()
                .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![Category::Table.into_iden(), Inspection::Table.into_iden()],
        )
        .await
    }
}
