//! The audit trail (审计日志).

use super::scalars::Time;
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use entity::audit_event;

use super::ContextExt;
use super::connection::{Conn, OrderDirection, args, connection};
use crate::domain::reads::audit_log::{self, AuditFilter};

/// One recorded change: who did what to which record, with the record before and after.
#[derive(SimpleObject, Clone)]
pub struct AuditEvent {
    /// Opaque identifier; events are numbered in the order they were recorded.
    pub id: ID,
    /// When the change was made (UTC).
    pub occurred_at: Time,
    /// The token subject that made it.
    pub actor: String,
    /// The role it acted in, or `system`.
    pub actor_role: String,
    /// What was done, e.g. `finding.update`.
    pub action: String,
    /// The kind of record changed, e.g. `finding`.
    pub entity_type: String,
    /// The changed record's id.
    pub entity_id: String,
    /// The record before the change (null when created).
    pub before: Option<Json<serde_json::Value>>,
    /// The record after the change.
    pub after: Option<Json<serde_json::Value>>,
    /// The HTTP request that made the change (`x-request-id`).
    pub request_id: Option<String>,
    /// SHA-256 of the previous event's hash and this event's content: the chain link.
    pub hash: String,
    /// The previous event's hash.
    pub prev_hash: String,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(e: audit_event::Model) -> Self {
        Self {
            id: ID(e.id.to_string()),
            occurred_at: Time(e.occurred_at),
            actor: e.actor_sub,
            actor_role: e.actor_role,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            before: e.before.map(Json),
            after: e.after.map(Json),
            request_id: e.request_id,
            hash: e.hash,
            prev_hash: e.prev_hash,
        }
    }
}

/// Which events to list.
#[derive(InputObject, Default)]
pub struct AuditFilterInput {
    /// The kind of record, e.g. `finding`.
    pub entity_type: Option<String>,
    /// The record's id (with `entityType`).
    pub entity_id: Option<String>,
    /// Changes by this token subject.
    pub actor: Option<String>,
    /// This action, e.g. `finding.approveCloseOut`.
    pub action: Option<String>,
    /// At or after this time.
    pub from: Option<Time>,
    /// At or before this time.
    pub to: Option<Time>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail, newest first by default: admins and inspectors see every event,
    /// managers those of their subtree's records.
    #[graphql(complexity = "super::connection::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilterInput>,
        #[graphql(default_with = "OrderDirection::Desc")] direction: OrderDirection,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<AuditEvent>> {
        let filter = filter.unwrap_or_default();
        let filter = AuditFilter {
            entity_type: filter.entity_type,
            entity_id: filter.entity_id,
            actor_sub: filter.actor,
            action: filter.action,
            from: filter.from.map(|t| t.0),
            to: filter.to.map(|t| t.0),
        };
        let ascending = !direction.descending();
        let page = audit_log::list(
            ctx.db(),
            ctx.caller(),
            &filter,
            ascending,
            &args(first, after, last, before),
        )
        .await?;
        Ok(connection(page, AuditEvent::from))
    }
}
