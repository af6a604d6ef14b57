//! The office side of exchange (issue 43, import): what was received from each peer, and the
//! records kept under their origin.
//!
//! - `exchange_received`: per peer, the last bundle merged (its sequence number and digest)
//!   and where the peer's audit chain stands as received (`event_id`, `hash`): the next bundle
//!   must be number `sequence + 1` and its chain segment must continue this one.
//! - `exchange_chain_event`: every event of a peer's audit chain received (id and hash), so a
//!   later bundle that repeats part of the chain with a different history is caught and the
//!   first edited event named.
//! - `exchange_origin`: a record merged from a peer: (peer, kind, the sender's id) → the local
//!   row. Unique both ways: one origin record is one local row, and a local row has at most one
//!   origin (such a row is written only by bundles from its origin).

use crate::helpers::*;
use crate::m20261207_000024_exchange::ExchangePeer;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum ExchangeReceived {
    Table,
    PeerId,
    Sequence,
    EventId,
    Hash,
    BundleSha256,
    ReceivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum ExchangeChainEvent {
    Table,
    PeerId,
    EventId,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum ExchangeOrigin {
    Table,
    Id,
    PeerId,
    Kind,
    OriginId,
    LocalId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExchangeReceived::Table)
                    .col(integer(ExchangeReceived::PeerId).primary_key())
                    .col(integer(ExchangeReceived::Sequence))
                    .col(integer(ExchangeReceived::EventId))
                    .col(string(ExchangeReceived::Hash))
                    .col(string(ExchangeReceived::BundleSha256))
                    .col(utc(ExchangeReceived::ReceivedAt))
                    .foreign_key(&mut fk(
                        ExchangeReceived::Table,
                        ExchangeReceived::PeerId,
                        ExchangePeer::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExchangeChainEvent::Table)
                    .col(integer(ExchangeChainEvent::PeerId))
                    .col(integer(ExchangeChainEvent::EventId))
                    .col(string(ExchangeChainEvent::Hash))
                    .primary_key(
                        Index::create()
                            .col(ExchangeChainEvent::PeerId)
                            .col(ExchangeChainEvent::EventId),
                    )
                    .foreign_key(&mut fk(
                        ExchangeChainEvent::Table,
                        ExchangeChainEvent::PeerId,
                        ExchangePeer::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExchangeOrigin::Table)
                    .col(pk_auto(ExchangeOrigin::Id))
                    .col(integer(ExchangeOrigin::PeerId))
                    .col(string(ExchangeOrigin::Kind))
                    .col(integer(ExchangeOrigin::OriginId))
                    .col(integer(ExchangeOrigin::LocalId))
                    .col(utc(ExchangeOrigin::CreatedAt))
                    .foreign_key(&mut fk(
                        ExchangeOrigin::Table,
                        ExchangeOrigin::PeerId,
                        ExchangePeer::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "exchange_origin_peer_kind_origin_idx",
                vec![
                    ExchangeOrigin::PeerId.into_iden(),
                    ExchangeOrigin::Kind.into_iden(),
                    ExchangeOrigin::OriginId.into_iden(),
                ],
            ),
            (
                "exchange_origin_kind_local_idx",
                vec![
                    ExchangeOrigin::Kind.into_iden(),
                    ExchangeOrigin::LocalId.into_iden(),
                ],
            ),
        ] {
            let mut stmt = index(ExchangeOrigin::Table, name, columns);
            manager.create_index(stmt.unique().to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                ExchangeOrigin::Table.into_iden(),
                ExchangeChainEvent::Table.into_iden(),
                ExchangeReceived::Table.into_iden(),
            ],
        )
        .await
    }
}
