//! Decisions travelling back (issue 43, office → unit): the office's close-out decisions on a
//! unit's records kept under their origin, and the unit's record of applying them.
//!
//! - `exchange_decision` (at the office): one decision (approve, return or reopen a merged
//!   finding's close-out) waiting to be carried to the unit that owns the finding, with the
//!   finding's version as received (the unit's version it was decided on) and, once the unit
//!   acknowledges it, the outcome: `applied`, or `conflict` with the unit's reason.
//! - `exchange_applied` (at the unit): each decision received, once per (peer, decision), with
//!   what applying it through the unit's own close-out command gave. A conflict is kept here
//!   for a person (the conflict report), never forced.

use crate::helpers::*;
use crate::m20261207_000024_exchange::ExchangePeer;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum ExchangeDecision {
    Table,
    Id,
    PeerId,
    FindingId,
    OriginId,
    Move,
    Text,
    Version,
    FromStatus,
    DecidedBy,
    DecidedByName,
    DecidedAt,
    FirstSequence,
    Outcome,
    OutcomeCode,
    OutcomeMessage,
    AnsweredAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum ExchangeApplied {
    Table,
    Id,
    PeerId,
    DecisionId,
    FindingId,
    Move,
    Text,
    DecidedByName,
    DecidedAt,
    Sequence,
    Result,
    Code,
    Message,
    CreatedAt,
}

const MOVES: &[&str] = &["approveCloseOut", "returnFinding", "reopenFinding"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExchangeDecision::Table)
                    .col(pk_auto(ExchangeDecision::Id))
                    .col(integer(ExchangeDecision::PeerId))
                    .col(integer(ExchangeDecision::FindingId))
                    .col(integer(ExchangeDecision::OriginId))
                    .col(one_of(ExchangeDecision::Move, MOVES))
                    .col(text_null(ExchangeDecision::Text))
                    .col(integer(ExchangeDecision::Version))
                    .col(string(ExchangeDecision::FromStatus))
                    .col(string(ExchangeDecision::DecidedBy))
                    .col(string_null(ExchangeDecision::DecidedByName))
                    .col(utc(ExchangeDecision::DecidedAt))
                    .col(integer_null(ExchangeDecision::FirstSequence))
                    .col(string_null(ExchangeDecision::Outcome).check(Expr::cust(
                        "outcome IS NULL OR outcome IN ('applied', 'conflict')",
                    )))
                    .col(string_null(ExchangeDecision::OutcomeCode))
                    .col(text_null(ExchangeDecision::OutcomeMessage))
                    .col(utc_null(ExchangeDecision::AnsweredAt))
                    .foreign_key(&mut fk(
                        ExchangeDecision::Table,
                        ExchangeDecision::PeerId,
                        ExchangePeer::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        // The decisions still to carry to a peer, in order; the conflicts, newest first.
        manager
            .create_index(index(
                ExchangeDecision::Table,
                "exchange_decision_peer_outcome_idx",
                vec![
                    ExchangeDecision::PeerId.into_iden(),
                    ExchangeDecision::Outcome.into_iden(),
                    ExchangeDecision::Id.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExchangeApplied::Table)
                    .col(pk_auto(ExchangeApplied::Id))
                    .col(integer(ExchangeApplied::PeerId))
                    .col(integer(ExchangeApplied::DecisionId))
                    .col(integer(ExchangeApplied::FindingId))
                    .col(one_of(ExchangeApplied::Move, MOVES))
                    .col(text_null(ExchangeApplied::Text))
                    .col(string_null(ExchangeApplied::DecidedByName))
                    .col(utc(ExchangeApplied::DecidedAt))
                    .col(integer(ExchangeApplied::Sequence))
                    .col(one_of(ExchangeApplied::Result, &["applied", "conflict"]))
                    .col(string_null(ExchangeApplied::Code))
                    .col(text_null(ExchangeApplied::Message))
                    .col(utc(ExchangeApplied::CreatedAt))
                    .foreign_key(&mut fk(
                        ExchangeApplied::Table,
                        ExchangeApplied::PeerId,
                        ExchangePeer::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        let mut once = index(
            ExchangeApplied::Table,
            "exchange_applied_peer_decision_idx",
            vec![
                ExchangeApplied::PeerId.into_iden(),
                ExchangeApplied::DecisionId.into_iden(),
            ],
        );
        manager.create_index(once.unique().to_owned()).await?;
        manager
            .create_index(index(
                ExchangeApplied::Table,
                "exchange_applied_result_idx",
                vec![
                    ExchangeApplied::Result.into_iden(),
                    ExchangeApplied::Id.into_iden(),
                ],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                ExchangeApplied::Table.into_iden(),
                ExchangeDecision::Table.into_iden(),
            ],
        )
        .await
    }
}
