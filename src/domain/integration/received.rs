//! What this instance has received from each peer: where its sequence stands (the last bundle
//! merged, the last event of the peer's chain and its hash), the hash of every event of the
//! peer's chain received (so that a later bundle repeating one can be held against it), and
//! which bundle file was merged under a number (a resend of the same file is a duplicate, not
//! a conflict). The bundle's format and checks are `crate::exchange`'s; these are the rows.

use std::collections::HashMap;

use entity::{exchange_chain_event, exchange_log, exchange_received};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
};

use crate::error::AppResult;

/// Chain events inserted per statement.
const EVENTS_PER_STATEMENT: usize = 500;

/// Locks the peer for the transaction, so that one import per peer runs at a time: its row on
/// PostgreSQL; on SQLite the transaction's write lock (an immediate transaction) holds already.
pub async fn lock_peer(db: &impl ConnectionTrait, peer: i32) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        // An id is a whole number, written into the statement as such.
        db.execute_unprepared(&format!(
            "SELECT id FROM exchange_peer WHERE id = {peer} FOR UPDATE"
        ))
        .await?;
    }
    Ok(())
}

/// Where the peer's sequence stands here; `None` before its first bundle is merged.
pub async fn position(
    db: &impl ConnectionTrait,
    peer: i32,
) -> AppResult<Option<exchange_received::Model>> {
    Ok(exchange_received::Entity::find_by_id(peer).one(db).await?)
}

/// The SHA-256 of the bundle file merged from the peer under `sequence`, if one was (the last
/// merge of it, as the exchange log recorded it).
pub async fn merged_file(
    db: &impl ConnectionTrait,
    peer: i32,
    sequence: i32,
) -> AppResult<Option<String>> {
    Ok(exchange_log::Entity::find()
        .filter(exchange_log::Column::PeerId.eq(peer))
        .filter(exchange_log::Column::Direction.eq("import"))
        .filter(exchange_log::Column::Result.eq("merged"))
        .filter(exchange_log::Column::Sequence.eq(sequence))
        .order_by_desc(exchange_log::Column::Id)
        .one(db)
        .await?
        .and_then(|line| line.bundle_sha256))
}

/// Moves the peer's position to a bundle just merged (`before`: the position it moves from).
pub async fn advance(
    db: &impl ConnectionTrait,
    before: Option<&exchange_received::Model>,
    now: exchange_received::Model,
) -> AppResult<()> {
    let row = exchange_received::ActiveModel {
        peer_id: Set(now.peer_id),
        sequence: Set(now.sequence),
        event_id: Set(now.event_id),
        hash: Set(now.hash),
        bundle_sha256: Set(now.bundle_sha256),
        received_at: Set(now.received_at),
    };
    if before.is_some() {
        row.update(db).await?;
    } else {
        row.insert(db).await?;
    }
    Ok(())
}

/// The hashes of the peer's chain events `ids`, as received (the ids not received are absent).
pub async fn chain_hashes(
    db: &impl ConnectionTrait,
    peer: i32,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<HashMap<i32, String>> {
    Ok(exchange_chain_event::Entity::find()
        .filter(exchange_chain_event::Column::PeerId.eq(peer))
        .filter(exchange_chain_event::Column::EventId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.event_id, e.hash))
        .collect())
}

/// Records the peer's chain events `(id, hash)` as received.
pub async fn record_chain(
    db: &impl ConnectionTrait,
    peer: i32,
    events: Vec<(i32, String)>,
) -> AppResult<()> {
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        let rows = chunk
            .iter()
            .map(|(id, hash)| exchange_chain_event::ActiveModel {
                peer_id: Set(peer),
                event_id: Set(*id),
                hash: Set(hash.clone()),
            });
        exchange_chain_event::Entity::insert_many(rows)
            .exec(db)
            .await?;
    }
    Ok(())
}
