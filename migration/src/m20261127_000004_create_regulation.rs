//! Regulations (规章制度) made or revised in answer to findings, and their links to findings.

use crate::helpers::*;
use crate::m20261127_000001_create_department::Department;
use crate::m20261127_000003_create_finding::Finding;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Regulation {
    Table,
    Id,
    Title,
    DocumentNumber,
    Domain,
    DepartmentId,
    IssuedOn,
    Status,
    Version,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum FindingRegulation {
    Table,
    FindingId,
    RegulationId,
    LinkedAt,
    LinkedBy,
    /// Unlinking is soft: the row stays with this time set, and linking again clears it.
    UnlinkedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Regulation::Table)
                    .col(pk_auto(Regulation::Id))
                    .col(required_text(Regulation::Title))
                    .col(string_null(Regulation::DocumentNumber))
                    .col(one_of(
                        Regulation::Domain,
                        &[
                            "party_building",
                            "clean_government",
                            "finance",
                            "personnel",
                            "administration",
                            "ideology",
                            "other",
                        ],
                    ))
                    .col(integer_null(Regulation::DepartmentId))
                    .col(date_null(Regulation::IssuedOn))
                    .col(one_of(
                        Regulation::Status,
                        &["draft", "in_force", "revised", "repealed"],
                    ))
                    .col(integer(Regulation::Version).default(1))
                    .col(utc_null(Regulation::ArchivedAt))
                    .col(utc(Regulation::CreatedAt))
                    .col(utc(Regulation::UpdatedAt))
                    .foreign_key(&mut fk(
                        Regulation::Table,
                        Regulation::DepartmentId,
                        Department::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FindingRegulation::Table)
                    .col(integer(FindingRegulation::FindingId))
                    .col(integer(FindingRegulation::RegulationId))
                    .col(utc(FindingRegulation::LinkedAt))
                    .col(string(FindingRegulation::LinkedBy))
                    .col(utc_null(FindingRegulation::UnlinkedAt))
                    .primary_key(
                        Index::create()
                            .col(FindingRegulation::FindingId)
                            .col(FindingRegulation::RegulationId),
                    )
                    .foreign_key(&mut fk(
                        FindingRegulation::Table,
                        FindingRegulation::FindingId,
                        Finding::Table,
                    ))
                    .foreign_key(&mut fk(
                        FindingRegulation::Table,
                        FindingRegulation::RegulationId,
                        Regulation::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index(
                    Regulation::Table,
                    "regulation_department_id_idx",
                    vec![Regulation::DepartmentId.into_iden()],
                ),
                index(
                    Regulation::Table,
                    "regulation_domain_idx",
                    vec![Regulation::Domain.into_iden()],
                ),
                index(
                    Regulation::Table,
                    "regulation_status_idx",
                    vec![Regulation::Status.into_iden()],
                ),
                index(
                    Regulation::Table,
                    "regulation_updated_at_idx",
                    vec![Regulation::UpdatedAt.into_iden()],
                ),
                index(
                    FindingRegulation::Table,
                    "finding_regulation_regulation_id_idx",
                    vec![FindingRegulation::RegulationId.into_iden()],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                FindingRegulation::Table.into_iden(),
                Regulation::Table.into_iden(),
            ],
        )
        .await
    }
}
