//! Whether a finding is printed in the public bulletin (通报公开). A unit's rectification plan
//! may hold problems it does not publish (a discipline case, a named person); the bulletin
//! still counts them in its figures (将反馈意见分解为N个具体问题) but leaves their text out.
//! Every existing finding stays published.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Finding {
    Table,
    Disclosed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Finding::Table)
                    .add_column(
                        ColumnDef::new(Finding::Disclosed)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Finding::Table)
                    .drop_column(Finding::Disclosed)
                    .to_owned(),
            )
            .await
    }
}
