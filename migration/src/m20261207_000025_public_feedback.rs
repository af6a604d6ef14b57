//! Public supervision (公众监督): what the public sends about a published bulletin (通报), and
//! the unit's replies to it.
//!
//! - `public_feedback`: one row per distinct text sent about one bulletin (the same text again
//!   is folded into it: `duplicates` counts the repeats). `receipt_code` (查询码) is the
//!   unguessable key the sender looks the reply up by. `name` and `contact` are the sender's
//!   and are read by the unit's managers and admins only. `status` moves
//!   `received → answered → closed` (or `received → closed`); `answered_at` and `linked_at`
//!   date the first reply and the link to a finding, so that a report counts them as of its day.
//! - `public_feedback_reply`: the unit's replies, append-only; `published` ones are shown on the
//!   receipt page and the bulletin.
//! - `public_feedback_key`: the secret the form's arithmetic challenges are signed with.

use crate::helpers::*;
use crate::m20261127_000001_create_department::Department;
use crate::m20261127_000002_create_inspection::Inspection;
use crate::m20261127_000003_create_finding::Finding;
use crate::m20261127_000006_create_report::Report;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum PublicFeedback {
    Table,
    Id,
    /// The published bulletin (a `report` row) it is about.
    ReportId,
    InspectionId,
    /// The inspected unit whose bulletin it is (the scope of every read).
    UnitId,
    /// The bulletin's number of the problem it concerns (序号), when the sender names one.
    ProblemNo,
    Content,
    /// SHA-256 of the text as folded (white space collapsed): duplicates share it.
    Digest,
    Name,
    Contact,
    ReceiptCode,
    /// `received`, `answered`, `closed`.
    Status,
    FindingId,
    Duplicates,
    Version,
    CreatedAt,
    UpdatedAt,
    AnsweredAt,
    LinkedAt,
    ClosedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum PublicFeedbackReply {
    Table,
    Id,
    FeedbackId,
    Content,
    Published,
    AuthorSub,
    AuthorName,
    CreatedAt,
}

/// The one key the feedback form's challenges are signed with: made by the first server that
/// needs it (one row, id 1), shared by every instance on the database, never sent anywhere.
#[derive(DeriveIden, Clone, Copy)]
pub enum PublicFeedbackKey {
    Table,
    Id,
    Secret,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PublicFeedback::Table)
                    .col(pk_auto(PublicFeedback::Id))
                    .col(integer(PublicFeedback::ReportId))
                    .col(integer(PublicFeedback::InspectionId))
                    .col(integer(PublicFeedback::UnitId))
                    .col(integer_null(PublicFeedback::ProblemNo))
                    .col(required_text(PublicFeedback::Content))
                    .col(text(PublicFeedback::Digest))
                    .col(text_null(PublicFeedback::Name))
                    .col(text_null(PublicFeedback::Contact))
                    .col(text(PublicFeedback::ReceiptCode))
                    .col(one_of(
                        PublicFeedback::Status,
                        &["received", "answered", "closed"],
                    ))
                    .col(integer_null(PublicFeedback::FindingId))
                    .col(integer(PublicFeedback::Duplicates).default(0))
                    .col(integer(PublicFeedback::Version).default(1))
                    .col(utc(PublicFeedback::CreatedAt))
                    .col(utc(PublicFeedback::UpdatedAt))
                    .col(utc_null(PublicFeedback::AnsweredAt))
                    .col(utc_null(PublicFeedback::LinkedAt))
                    .col(utc_null(PublicFeedback::ClosedAt))
                    .foreign_key(&mut fk(
                        PublicFeedback::Table,
                        PublicFeedback::ReportId,
                        Report::Table,
                    ))
                    .foreign_key(&mut fk(
                        PublicFeedback::Table,
                        PublicFeedback::InspectionId,
                        Inspection::Table,
                    ))
                    .foreign_key(&mut fk(
                        PublicFeedback::Table,
                        PublicFeedback::UnitId,
                        Department::Table,
                    ))
                    .foreign_key(&mut fk(
                        PublicFeedback::Table,
                        PublicFeedback::FindingId,
                        Finding::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PublicFeedbackReply::Table)
                    .col(pk_auto(PublicFeedbackReply::Id))
                    .col(integer(PublicFeedbackReply::FeedbackId))
                    .col(required_text(PublicFeedbackReply::Content))
                    .col(boolean(PublicFeedbackReply::Published))
                    .col(text(PublicFeedbackReply::AuthorSub))
                    .col(text_null(PublicFeedbackReply::AuthorName))
                    .col(utc(PublicFeedbackReply::CreatedAt))
                    .foreign_key(&mut fk(
                        PublicFeedbackReply::Table,
                        PublicFeedbackReply::FeedbackId,
                        PublicFeedback::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PublicFeedbackKey::Table)
                    .col(integer(PublicFeedbackKey::Id).primary_key())
                    .col(text(PublicFeedbackKey::Secret))
                    .to_owned(),
            )
            .await?;
        let mut unique_code = index(
            PublicFeedback::Table,
            "public_feedback_receipt_code_idx",
            vec![PublicFeedback::ReceiptCode.into_iden()],
        );
        unique_code.unique();
        // Folding: one row per text per bulletin, even when two send it at once.
        let mut unique_text = index(
            PublicFeedback::Table,
            "public_feedback_report_id_digest_idx",
            vec![
                PublicFeedback::ReportId.into_iden(),
                PublicFeedback::Digest.into_iden(),
            ],
        );
        unique_text.unique();
        create_indexes(
            manager,
            vec![
                unique_code,
                unique_text,
                // The managers' list, newest first, within their units.
                index(
                    PublicFeedback::Table,
                    "public_feedback_unit_id_idx",
                    vec![
                        PublicFeedback::UnitId.into_iden(),
                        PublicFeedback::Id.into_iden(),
                    ],
                ),
                // A report's counts of its inspection's feedback.
                index(
                    PublicFeedback::Table,
                    "public_feedback_inspection_id_idx",
                    vec![
                        PublicFeedback::InspectionId.into_iden(),
                        PublicFeedback::CreatedAt.into_iden(),
                    ],
                ),
                index(
                    PublicFeedbackReply::Table,
                    "public_feedback_reply_feedback_id_idx",
                    vec![
                        PublicFeedbackReply::FeedbackId.into_iden(),
                        PublicFeedbackReply::Id.into_iden(),
                    ],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                PublicFeedbackKey::Table.into_iden(),
                PublicFeedbackReply::Table.into_iden(),
                PublicFeedback::Table.into_iden(),
            ],
        )
        .await
    }
}
