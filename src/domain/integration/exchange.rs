//! Exchange peers and the exchange log: the other instances this one trades signed bundles
//! with (报送 across networks), registered by administrators, and the record of every bundle
//! written or read. The bundle itself is `crate::exchange`'s.

use entity::{exchange_log, exchange_peer};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::Value;

use crate::auth::{Permission, Reach};
use crate::domain::Acting;
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::reads::scope;
use crate::domain::records::change::{Record, audited};
use crate::domain::records::department;
use crate::error::{AppError, AppResult};

/// A peer as an administrator registers it.
#[derive(Debug, Clone)]
pub struct NewPeer {
    /// The unit whose records are exchanged with it.
    pub unit_code: String,
    pub instance_id: String,
    /// Base64 of its 32-byte Ed25519 public key.
    pub public_key: String,
    pub name: String,
}

/// Registers another instance (administrators). Its instance id is taken once: registering
/// it again is a `CONFLICT`.
pub async fn register(
    db: &impl ConnectionTrait,
    who: &Acting,
    new: NewPeer,
) -> AppResult<exchange_peer::Model> {
    who.require(Permission::ManageExchange)?;
    let unit = department::active_by_code(db, "unitCode", new.unit_code.trim()).await?;
    let instance_id = new.instance_id.trim().to_ascii_lowercase();
    if instance_id.len() != 32 || !instance_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::bad_input(
            "instanceId",
            t!("exchange-instance-id-invalid"),
        ));
    }
    if super::signature::public_key(&new.public_key).is_none() {
        return Err(AppError::bad_input(
            "publicKey",
            t!("exchange-public-key-invalid"),
        ));
    }
    let name = crate::domain::records::text::required("name", &new.name, 200)?;
    let taken = exchange_peer::Entity::find()
        .filter(exchange_peer::Column::InstanceId.eq(&instance_id))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(AppError::Conflict(t!("exchange-peer-taken")));
    }
    let now = who.now();
    let created = exchange_peer::ActiveModel {
        id: NotSet,
        instance_id: Set(instance_id),
        public_key: Set(new.public_key.trim().to_owned()),
        name: Set(name),
        department_id: Set(unit.id),
        sent_sequence: Set(0),
        acked_sequence: Set(0),
        acked_event_id: Set(0),
        created_by: Set(who.sub().to_owned()),
        version: Set(1),
        archived_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "exchange_peer",
        id: created.id,
        department_id: Some(unit.id),
    };
    audited(
        db,
        who,
        "exchange_peer.register",
        record,
        None,
        Some(&created),
    )
    .await?;
    Ok(created)
}

/// The peers, newest first (administrators).
pub async fn list(
    db: &impl ConnectionTrait,
    who: &Acting,
    args: &PageArgs,
) -> AppResult<Page<exchange_peer::Model>> {
    who.require(Permission::ManageExchange)?;
    let select = exchange_peer::Entity::find().filter(exchange_peer::Column::ArchivedAt.is_null());
    let order = Order {
        name: "exchange_peer.id",
        exprs: vec![Expr::col(exchange_peer::Column::Id)],
        keys: |p: &exchange_peer::Model| vec![Key::I(p.id.into())],
        descending: true,
    };
    page::fetch(db, select, &order, args).await
}

/// The peer a bundle is addressed to, by instance id, for a caller who may exchange its
/// unit's records: administrators, and the managers (report makers) of that unit. Out of
/// reach reads as not found.
pub async fn addressee(
    db: &impl ConnectionTrait,
    who: &Acting,
    instance_id: &str,
) -> AppResult<exchange_peer::Model> {
    who.require(Permission::ManageReports)?;
    let peer = exchange_peer::Entity::find()
        .filter(exchange_peer::Column::InstanceId.eq(instance_id.trim().to_ascii_lowercase()))
        .filter(exchange_peer::Column::ArchivedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("exchange_peer", instance_id.trim()))?;
    let reach = who.caller.write_reach();
    if reach != Reach::All {
        let unit = scope::subtree_reach(db, peer.department_id).await?;
        let inside = matches!((&reach, &unit), (Reach::Subtree(mine), Reach::Subtree(its)) if its.starts_with(mine.as_str()));
        if !inside {
            return Err(AppError::not_found("exchange_peer", instance_id.trim()));
        }
    }
    Ok(peer)
}

/// The registered (not archived) peer with this instance id: a bundle's sender.
pub async fn sender(
    db: &impl ConnectionTrait,
    instance_id: &str,
) -> AppResult<Option<exchange_peer::Model>> {
    Ok(exchange_peer::Entity::find()
        .filter(exchange_peer::Column::InstanceId.eq(instance_id.trim().to_ascii_lowercase()))
        .filter(exchange_peer::Column::ArchivedAt.is_null())
        .one(db)
        .await?)
}

/// Moves the peer's sent sequence from `from` to `from + 1` (the bundle numbered `from + 1`
/// was written), guarded: two exports at once cannot take one number.
pub async fn take_sequence(
    db: &impl ConnectionTrait,
    peer: &exchange_peer::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<i32> {
    let next = peer.sent_sequence + 1;
    let moved = exchange_peer::Entity::update_many()
        .col_expr(exchange_peer::Column::SentSequence, Expr::value(next))
        .col_expr(exchange_peer::Column::UpdatedAt, Expr::value(now))
        .filter(exchange_peer::Column::Id.eq(peer.id))
        .filter(exchange_peer::Column::SentSequence.eq(peer.sent_sequence))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(t!("exchange-sequence-moved")));
    }
    Ok(next)
}

/// Moves the peer's sent sequence back to `to` (bundle `to` is written again; the later ones
/// are abandoned), guarded like [`take_sequence`].
pub async fn rewind_sequence(
    db: &impl ConnectionTrait,
    peer: &exchange_peer::Model,
    to: i32,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<i32> {
    let moved = exchange_peer::Entity::update_many()
        .col_expr(exchange_peer::Column::SentSequence, Expr::value(to))
        .col_expr(exchange_peer::Column::UpdatedAt, Expr::value(now))
        .filter(exchange_peer::Column::Id.eq(peer.id))
        .filter(exchange_peer::Column::SentSequence.eq(peer.sent_sequence))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(t!("exchange-sequence-moved")));
    }
    Ok(to)
}

/// One line of the exchange log.
pub struct Entry<'a> {
    pub peer_id: Option<i32>,
    pub direction: &'a str,
    pub sequence: Option<i32>,
    pub bundle_sha256: Option<String>,
    pub result: &'a str,
    pub code: Option<&'a str>,
    pub detail: Option<String>,
    pub counts: Option<Value>,
}

/// Writes a line of the log.
pub async fn log(
    db: &impl ConnectionTrait,
    who: &Acting,
    entry: Entry<'_>,
) -> AppResult<exchange_log::Model> {
    Ok(exchange_log::ActiveModel {
        id: NotSet,
        peer_id: Set(entry.peer_id),
        direction: Set(entry.direction.to_owned()),
        sequence: Set(entry.sequence),
        bundle_sha256: Set(entry.bundle_sha256),
        result: Set(entry.result.to_owned()),
        code: Set(entry.code.map(str::to_owned)),
        detail: Set(entry.detail),
        counts: Set(entry.counts),
        actor_sub: Set(who.sub().to_owned()),
        created_at: Set(who.now()),
    }
    .insert(db)
    .await?)
}

/// The exchange log, newest first: administrators see all of it, a unit's managers the lines
/// of their unit's peers.
pub async fn log_page(
    db: &impl ConnectionTrait,
    who: &Acting,
    args: &PageArgs,
) -> AppResult<Page<exchange_log::Model>> {
    who.require(Permission::ManageReports)?;
    let mut select = exchange_log::Entity::find();
    let reach = who.caller.write_reach();
    if reach != Reach::All {
        let peers = sea_orm::sea_query::Query::select()
            .column(exchange_peer::Column::Id)
            .from(exchange_peer::Entity)
            .cond_where(scope::department_in(
                exchange_peer::Column::DepartmentId,
                &reach,
            ))
            .to_owned();
        select = select.filter(exchange_log::Column::PeerId.in_subquery(peers));
    }
    let order = Order {
        name: "exchange_log.id",
        exprs: vec![Expr::col(exchange_log::Column::Id)],
        keys: |l: &exchange_log::Model| vec![Key::I(l.id.into())],
        descending: true,
    };
    page::fetch(db, select, &order, args).await
}

/// Records that `peer` acknowledged bundle `sequence`, holding this instance's chain up to
/// `event_id`: the next bundle to it starts after that event. Only forward: an older
/// acknowledgement (arriving late) changes nothing; answers whether it moved.
pub async fn acknowledged(
    db: &impl ConnectionTrait,
    peer: &exchange_peer::Model,
    sequence: i32,
    event_id: i32,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    let moved = exchange_peer::Entity::update_many()
        .col_expr(exchange_peer::Column::AckedSequence, Expr::value(sequence))
        .col_expr(exchange_peer::Column::AckedEventId, Expr::value(event_id))
        .col_expr(exchange_peer::Column::UpdatedAt, Expr::value(now))
        .filter(exchange_peer::Column::Id.eq(peer.id))
        .filter(exchange_peer::Column::AckedSequence.lt(sequence))
        .exec(db)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// The unit a peer stands for: its department, whose subtree's records and audit events are
/// what bundles to the peer carry.
pub async fn unit_of(
    db: &impl ConnectionTrait,
    peer: &exchange_peer::Model,
) -> AppResult<entity::department::Model> {
    crate::domain::reads::relations::departments(db, [peer.department_id])
        .await?
        .remove(&peer.department_id)
        .ok_or_else(|| AppError::not_found("department", peer.department_id))
}

/// The ids of the departments of the unit's subtree.
pub async fn departments_of(
    db: &impl ConnectionTrait,
    unit: &entity::department::Model,
) -> AppResult<std::collections::HashSet<i32>> {
    let ids: Vec<i32> = entity::department::Entity::find()
        .select_only()
        .column(entity::department::Column::Id)
        .filter(entity::department::Column::Id.in_subquery(scope::subtree_ids(&unit.path)))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Whether the unit's audit trail changed after the event the peer acknowledged, up to the
/// chain's end `head`: an event in the unit's departments, its own exchange events
/// (`exchange.*`: writing, importing, acknowledging bundles) not counted, or every round would
/// write a bundle about the last one.
pub async fn unit_changed(
    db: &impl ConnectionTrait,
    peer: &exchange_peer::Model,
    head: i32,
) -> AppResult<bool> {
    let unit = unit_of(db, peer).await?;
    crate::audit::any_in_segment(
        db,
        peer.acked_event_id,
        head,
        scope::subtree_ids(&unit.path),
        "exchange.%",
    )
    .await
}
