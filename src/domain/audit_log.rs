//! Reading the audit trail, and verifying its hash chain.

use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::audit::{GENESIS, fields_of_model, hash_of};
use crate::auth::{Caller, Permission, Reach};
use crate::domain::page::{self, Key, Order, Page, PageArgs};
use crate::domain::scope;
use crate::error::AppResult;

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_sub: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Events the caller may read, newest first unless `ascending`: everything for admins and
/// inspectors, the events of its subtree's records for a manager.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &AuditFilter,
    ascending: bool,
    args: &PageArgs,
) -> AppResult<Page<audit_event::Model>> {
    caller.require(Permission::ReadAuditLog)?;
    let mut select = audit_event::Entity::find();
    match caller.read_reach() {
        Reach::All => {}
        reach => {
            select = select.filter(scope::department_in(
                audit_event::Column::DepartmentId,
                &reach,
            ))
        }
    }
    if let Some(v) = &filter.entity_type {
        select = select.filter(audit_event::Column::EntityType.eq(v.as_str()));
    }
    if let Some(v) = &filter.entity_id {
        select = select.filter(audit_event::Column::EntityId.eq(v.as_str()));
    }
    if let Some(v) = &filter.actor_sub {
        select = select.filter(audit_event::Column::ActorSub.eq(v.as_str()));
    }
    if let Some(v) = &filter.action {
        select = select.filter(audit_event::Column::Action.eq(v.as_str()));
    }
    if let Some(v) = filter.from {
        select = select.filter(audit_event::Column::OccurredAt.gte(v));
    }
    if let Some(v) = filter.to {
        select = select.filter(audit_event::Column::OccurredAt.lte(v));
    }
    let order = Order {
        name: "audit.id",
        exprs: vec![Expr::col(audit_event::Column::Id)],
        keys: |e: &audit_event::Model| vec![Key::I(e.id.into())],
        descending: !ascending,
    };
    page::fetch(db, select, &order, args).await
}

/// The outcome of walking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every event matches its hash and links to the one before.
    Intact { events: u64 },
    /// The first event that does not.
    Broken {
        event_id: i32,
        reason: String,
        checked: u64,
    },
}

/// Walks the whole chain in id order, a thousand events at a time, and reports the first event
/// whose content does not match its hash or whose link does not match its predecessor.
pub async fn verify(db: &impl ConnectionTrait) -> AppResult<Verdict> {
    let mut previous = GENESIS.to_owned();
    let mut after = 0;
    let mut checked = 0;
    loop {
        let batch = audit_event::Entity::find()
            .filter(audit_event::Column::Id.gt(after))
            .order_by_asc(audit_event::Column::Id)
            .limit(1000)
            .all(db)
            .await?;
        if batch.is_empty() {
            return Ok(Verdict::Intact { events: checked });
        }
        for event in batch {
            if event.prev_hash != previous {
                return Ok(Verdict::Broken {
                    event_id: event.id,
                    reason: "its link does not match the event before it (an event was removed or altered)".to_owned(),
                    checked,
                });
            }
            if hash_of(&fields_of_model(&event)) != event.hash {
                return Ok(Verdict::Broken {
                    event_id: event.id,
                    reason: "its content does not match its hash (the event was altered)"
                        .to_owned(),
                    checked,
                });
            }
            checked += 1;
            previous = event.hash;
            after = event.id;
        }
    }
}
