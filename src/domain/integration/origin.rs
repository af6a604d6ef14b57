//! Records kept under their origin: at the office, the rows a bundle merged from a unit's own
//! instance (`exchange_origin`: peer, kind, the sender's id → the local row). Such a row is the
//! unit's record; the unit's instance is its system of record, so it is written only by bundles
//! from that instance. The office's ordinary edits of it (editing, archiving, adding measures,
//! targets, stages or ledger entries to a merged finding) are refused here, the one rule every
//! command's road passes through (`change::writable`, the measure and ledger commands).
//! The office reads them as any row of the unit's departments: the scope rules apply as they are.

use std::collections::{HashMap, HashSet};

use entity::{exchange_origin, exchange_peer};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::{AppError, AppResult, codes};
use crate::i18n::kind_name;

/// `KEPT_BY_ORIGIN` when row `id` of `kind` (a table name) was merged from a peer.
pub async fn require_own(db: &impl ConnectionTrait, kind: &str, id: i32) -> AppResult<()> {
    let Some(origin) = of(db, kind, id).await? else {
        return Ok(());
    };
    let peer = exchange_peer::Entity::find_by_id(origin.peer_id)
        .one(db)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    Err(AppError::Request {
        code: codes::KEPT_BY_ORIGIN,
        message: t!(
            "exchange-kept-by-origin",
            kind = kind_name(kind),
            id = id,
            peer = peer
        ),
    })
}

/// Which of `ids` (rows of `kind`) were merged from a peer: the rows [`require_own`] refuses,
/// for a page at once (the `viewerCan` flags). No statement for no ids.
pub async fn kept(
    db: &impl ConnectionTrait,
    kind: &str,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<HashSet<i32>> {
    let ids: Vec<i32> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(exchange_origin::Entity::find()
        .filter(exchange_origin::Column::Kind.eq(kind))
        .filter(exchange_origin::Column::LocalId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.local_id)
        .collect())
}

/// The local ids of the records of `kind` merged from `peer`, by their origin ids.
pub async fn local_ids(
    db: &impl ConnectionTrait,
    peer: i32,
    kind: &str,
) -> AppResult<HashMap<i32, i32>> {
    Ok(exchange_origin::Entity::find()
        .filter(exchange_origin::Column::PeerId.eq(peer))
        .filter(exchange_origin::Column::Kind.eq(kind))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.origin_id, o.local_id))
        .collect())
}

/// Records that the local row `local_id` of `kind` is `peer`'s record `origin_id`.
pub async fn keep(
    db: &impl ConnectionTrait,
    peer: i32,
    kind: &str,
    origin_id: i32,
    local_id: i32,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    exchange_origin::ActiveModel {
        id: NotSet,
        peer_id: Set(peer),
        kind: Set(kind.to_owned()),
        origin_id: Set(origin_id),
        local_id: Set(local_id),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Where row `id` of `kind` came from, when it was merged from a peer.
pub async fn of(
    db: &impl ConnectionTrait,
    kind: &str,
    id: i32,
) -> AppResult<Option<exchange_origin::Model>> {
    Ok(exchange_origin::Entity::find()
        .filter(exchange_origin::Column::Kind.eq(kind))
        .filter(exchange_origin::Column::LocalId.eq(id))
        .one(db)
        .await?)
}

/// Whether this instance holds records merged from `peer`: it is then the office for that
/// peer's unit, and what it sends that peer is its decisions, not records.
pub async fn holds_from(db: &impl ConnectionTrait, peer: i32) -> AppResult<bool> {
    use sea_orm::QuerySelect;
    Ok(exchange_origin::Entity::find()
        .filter(exchange_origin::Column::PeerId.eq(peer))
        .limit(1)
        .one(db)
        .await?
        .is_some())
}
