//! Evidence (佐证材料) with a supervision order's written reply (书面回复), as progress
//! entries have it: the reply's note in each subject finding's ledger carries the evidence rows
//! (files stored once by content, links), and this table says which of them came with which
//! reply, so that the reply shows its evidence and the ledger shows the same files. Append-only
//! as the ledger is.

use crate::helpers::*;
use crate::m20261127_000005_create_ledger::{Evidence, allow_changes, forbid_changes};
use crate::m20261207_000023_supervision_orders::SupervisionReply;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum SupervisionReplyEvidence {
    Table,
    Id,
    ReplyId,
    EvidenceId,
}

const TABLE: &str = "supervision_reply_evidence";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupervisionReplyEvidence::Table)
                    .col(pk_auto(SupervisionReplyEvidence::Id))
                    .col(integer(SupervisionReplyEvidence::ReplyId))
                    .col(integer(SupervisionReplyEvidence::EvidenceId))
                    .foreign_key(&mut fk(
                        SupervisionReplyEvidence::Table,
                        SupervisionReplyEvidence::ReplyId,
                        SupervisionReply::Table,
                    ))
                    .foreign_key(&mut fk(
                        SupervisionReplyEvidence::Table,
                        SupervisionReplyEvidence::EvidenceId,
                        Evidence::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                // A page of replies' evidence, read by reply.
                index(
                    SupervisionReplyEvidence::Table,
                    "supervision_reply_evidence_reply_id_idx",
                    vec![
                        SupervisionReplyEvidence::ReplyId.into_iden(),
                        SupervisionReplyEvidence::EvidenceId.into_iden(),
                    ],
                ),
                // The foreign key's other side.
                index(
                    SupervisionReplyEvidence::Table,
                    "supervision_reply_evidence_evidence_id_idx",
                    vec![SupervisionReplyEvidence::EvidenceId.into_iden()],
                ),
            ],
        )
        .await?;
        forbid_changes(manager, TABLE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        allow_changes(manager, TABLE).await?;
        drop_tables(manager, vec![SupervisionReplyEvidence::Table.into_iden()]).await
    }
}
