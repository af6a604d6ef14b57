//! Reading the audit trail, and verifying its hash chain.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{audit_event, audit_head, report};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::audit::{GENESIS, fields_of_model, hash_of};
use crate::auth::{Caller, Permission, Reach};
use crate::domain::documents::report::snapshot_digest;
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::reads::scope;
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
    /// Every event matches its hash and links to the one before, the chain ends where its head
    /// says, and every report's snapshot matches the hash its generation recorded.
    Intact { events: u64, reports: u64 },
    /// The first event (or the head, or a report) that does not.
    Broken {
        event_id: i32,
        reason: String,
        checked: u64,
    },
}

/// Walks the whole chain in id order, a thousand events at a time, and reports the first event
/// whose content does not match its hash or whose link does not match its predecessor; then
/// checks the chain's end against its head (so that removing the newest events is found too)
/// and every report snapshot against the content hash in its `report.generate` event.
pub async fn verify(db: &impl ConnectionTrait) -> AppResult<Verdict> {
    let mut previous = GENESIS.to_owned();
    let mut last_id = 0;
    let mut checked = 0;
    let mut digests: HashMap<String, String> = HashMap::new();
    loop {
        let batch = audit_event::Entity::find()
            .filter(audit_event::Column::Id.gt(last_id))
            .order_by_asc(audit_event::Column::Id)
            .limit(1000)
            .all(db)
            .await?;
        if batch.is_empty() {
            break;
        }
        for event in batch {
            if event.prev_hash != previous {
                return Ok(broken(
                    event.id,
                    "its link does not match the event before it (an event was removed or altered)",
                    checked,
                ));
            }
            if hash_of(&fields_of_model(&event)) != event.hash {
                return Ok(broken(
                    event.id,
                    "its content does not match its hash (the event was altered)",
                    checked,
                ));
            }
            if event.action == "report.generate"
                && let Some(digest) = event
                    .after
                    .as_ref()
                    .and_then(|a| a.get("snapshot_sha256"))
                    .and_then(|d| d.as_str())
            {
                digests.insert(event.entity_id.clone(), digest.to_owned());
            }
            checked += 1;
            previous = event.hash;
            last_id = event.id;
        }
    }
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    match head {
        None => {
            return Ok(broken(
                last_id,
                "the chain's head record is missing",
                checked,
            ));
        }
        Some(head) if head.last_event_id != last_id || head.last_hash != previous => {
            return Ok(broken(
                head.last_event_id,
                "the chain ends before its head: its newest events were removed",
                checked,
            ));
        }
        Some(head) if u64::try_from(head.events).ok() != Some(checked) => {
            return Ok(broken(
                head.last_event_id,
                "the chain holds fewer events than its head counts (events were removed)",
                checked,
            ));
        }
        Some(_) => {}
    }
    let mut reports = 0;
    for report in report::Entity::find()
        .order_by_asc(report::Column::Id)
        .all(db)
        .await?
    {
        let recorded = digests.get(&report.id.to_string());
        match recorded {
            // Reports generated before snapshots were hashed have no digest to check.
            None => {}
            Some(digest) if *digest == snapshot_digest(&report.snapshot) => {}
            Some(_) => {
                return Ok(Verdict::Broken {
                    event_id: last_id,
                    reason: format!(
                        "report {}'s snapshot does not match the hash recorded when it was generated (the snapshot was altered)",
                        report.id
                    ),
                    checked,
                });
            }
        }
        reports += 1;
    }
    Ok(Verdict::Intact {
        events: checked,
        reports,
    })
}

fn broken(event_id: i32, reason: &str, checked: u64) -> Verdict {
    Verdict::Broken {
        event_id,
        reason: reason.to_owned(),
        checked,
    }
}
