//! The audit trail (审计日志).

use super::scalars::Time;
use async_graphql::{Context, InputObject, Json, Result};
use entity::audit_event;

use super::catalogue::{self, Conn, Fields};
use super::enums::OrderDirection;
use super::{ContextExt, id};
use crate::domain::reads::audit_log::{self, AuditFilter};
use crate::domain::reads::page::PageArgs;

/// One recorded change: who did what to which record, with the record before and after.
#[derive(Clone)]
pub struct AuditEvent(pub audit_event::Model);

impl From<audit_event::Model> for AuditEvent {
    fn from(e: audit_event::Model) -> Self {
        Self(e)
    }
}

impl catalogue::Object for AuditEvent {
    const NAME: &'static str = "AuditEvent";
    const DOC: &'static str =
        "One recorded change: who did what to which record, with the record before and after.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "id",
            "Opaque identifier; events are numbered in the order they were recorded.",
            |e, _| id(e.0.id),
        );
        f.value("occurredAt", "When the change was made (UTC).", |e, _| {
            Time(e.0.occurred_at)
        });
        f.value("actor", "The token subject that made it.", |e, _| {
            e.0.actor_sub.clone()
        });
        f.value("actorRole", "The role it acted in, or `system`.", |e, _| {
            e.0.actor_role.clone()
        });
        f.value("action", "What was done, e.g. `finding.update`.", |e, _| {
            e.0.action.clone()
        });
        f.value(
            "entityType",
            "The kind of record changed, e.g. `finding`.",
            |e, _| e.0.entity_type.clone(),
        );
        f.value("entityId", "The changed record's id.", |e, _| {
            e.0.entity_id.clone()
        });
        f.value(
            "before",
            "The record before the change (null when created).",
            |e, _| e.0.before.clone().map(Json),
        );
        f.value("after", "The record after the change.", |e, _| {
            e.0.after.clone().map(Json)
        });
        f.value(
            "requestId",
            "The HTTP request that made the change (`x-request-id`).",
            |e, _| e.0.request_id.clone(),
        );
        f.value(
            "hash",
            "SHA-256 of the previous event's hash and this event's content: the chain link.",
            |e, _| e.0.hash.clone(),
        );
        f.value("prevHash", "The previous event's hash.", |e, _| {
            e.0.prev_hash.clone()
        });
    }
}

crate::object!(AuditEvent);

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

impl catalogue::Root for AuditQuery {
    const NAME: &'static str = "AuditQuery";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "auditLog",
            "The audit trail, newest first by default: admins and inspectors see every event,\n\
            managers those of their subtree's records.",
            (
                param::<Option<AuditFilterInput>>("filter"),
                param::<OrderDirection>("direction").or(|| OrderDirection::Desc),
                catalogue::Pages,
            ),
            |ctx, (filter, direction, pages)| {
                Box::pin(Self::audit_log(ctx, filter, direction, pages))
            },
        )
        .cost(catalogue::page_cost);
    }
}

crate::root!(AuditQuery);

impl AuditQuery {
    #[allow(clippy::too_many_arguments)]
    async fn audit_log(
        ctx: &Context<'_>,
        filter: Option<AuditFilterInput>,
        direction: OrderDirection,
        pages: PageArgs,
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
        let page = audit_log::list(ctx.db(), ctx.caller(), &filter, ascending, &pages).await?;
        Ok(Conn::of(page))
    }
}
