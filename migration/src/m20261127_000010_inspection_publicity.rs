//! What a public bulletin (通报) says beyond the findings: the organisational measures the unit
//! took (组织领导、研究部署、压实责任 ...), who issues it and where the public can reach it.

use crate::m20261127_000002_create_inspection::Inspection;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Added {
    /// `{"organisational_measures": [{"title", "content"}], "issuer": "...", "contact": "..."}`
    Publicity,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Inspection::Table)
                    .add_column(json_binary_null(Added::Publicity))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Inspection::Table)
                    .drop_column(Added::Publicity)
                    .to_owned(),
            )
            .await
    }
}
