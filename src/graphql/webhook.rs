//! Outbound webhooks (admin-managed) and the early-warning inbox.

use std::sync::Arc;

use super::scalars::Time;
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Result, ServerResult};
use entity::{notification, webhook_delivery, webhook_endpoint, webhook_notice};
use futures_util::future::BoxFuture;

use super::catalogue::{self, Arg, Conn, Fields, PageSource, Shown};
use super::loaders::{DepartmentById, FindingById};
use super::warning::{AlertRole, WarningLevel};
use super::{ContextExt, parse_id, patch, write};
use crate::config::Config;
use crate::domain::integration::webhook::{self, EndpointPatch, NewEndpoint};
use crate::domain::reads::page::{Page, PageArgs};
use crate::domain::workflow::warning::{Audience, Level};
use crate::domain::{self, workflow::alert};

/// A system that receives rectrack's events by signed HTTP POST (Standard Webhooks: headers
/// `webhook-id`, `webhook-timestamp` and `webhook-signature`, HMAC-SHA256 of
/// `id.timestamp.body`).
#[derive(Clone)]
pub struct WebhookEndpoint {
    pub id: ID,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub consecutive_failures: i32,
    pub failing_since: Option<Time>,
    pub disabled_at: Option<Time>,
    pub disabled_reason: Option<String>,
    pub created_at: Time,
    pub version: i32,
    pub row_id: i32,
    pub department_id: Option<i32>,
}

impl From<webhook_endpoint::Model> for WebhookEndpoint {
    fn from(e: webhook_endpoint::Model) -> Self {
        Self {
            id: ID(e.id.to_string()),
            url: crate::domain::integration::webhook_target::shown(&e.url),
            description: e.description,
            event_types: e
                .event_types
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            enabled: e.enabled,
            consecutive_failures: e.consecutive_failures,
            failing_since: e.failing_since.map(Time),
            disabled_at: e.disabled_at.map(Time),
            disabled_reason: e.disabled_reason,
            created_at: Time(e.created_at),
            version: e.version,
            row_id: e.id,
            department_id: e.department_id,
        }
    }
}

impl catalogue::Object for WebhookEndpoint {
    const NAME: &'static str = "WebhookEndpoint";
    const DOC: &'static str = "A system that receives rectrack's events by signed HTTP POST (Standard Webhooks: headers\n`webhook-id`, `webhook-timestamp` and `webhook-signature`, HMAC-SHA256 of\n`id.timestamp.body`).";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "", |e, _| e.id.clone());
        f.value("url", "", |e, _| e.url.clone());
        f.value("description", "", |e, _| e.description.clone());
        f.value(
            "eventTypes",
            "The event kinds it receives: finding.changed, warning.raised, report.submitted, report.published, supervision.issued, supervision.replied, supervision.accepted, supervision.returned, supervision.reminded, supervision.overdue, feedback.received.",
            |e, _| e.event_types.clone(),
        );
        f.value(
            "enabled",
            "Whether deliveries are sent (false once disabled by hand or after sustained failure).",
            |e, _| e.enabled,
        );
        f.value(
            "consecutiveFailures",
            "Failed attempts in a row (for information: an endpoint is disabled by time, not count).",
            |e, _| e.consecutive_failures,
        );
        f.value(
            "failingSince",
            "When its current run of failures began; null while it delivers. Failing continuously\nfor `RECTRACK_WEBHOOK_DISABLE_AFTER` (5 days) with no delivery in between disables it.",
            |e, _| e.failing_since,
        );
        f.value("disabledAt", "", |e, _| e.disabled_at);
        f.value(
            "disabledReason",
            "Why the server disabled it, when it did.",
            |e, _| e.disabled_reason.clone(),
        );
        f.value("createdAt", "", |e, _| e.created_at);
        f.value("version", "", |e, _| e.version);
        f.one(
            "department",
            "The department whose subtree it may learn of; null for everything.",
            |e, _, _| e.department_id.map(DepartmentById),
        );
        f.page("deliveries", "Its deliveries, newest first.", Deliveries);
    }
}

crate::object!(WebhookEndpoint);

/// An endpoint's deliveries, read endpoint by endpoint (an administrator looks at a handful).
struct Deliveries;

impl PageSource<WebhookEndpoint> for Deliveries {
    type Node = WebhookDelivery;

    fn args() -> Vec<Arg> {
        vec![Arg::new::<Option<DeliveryStatus>>("status", "")]
    }

    fn pages<'a>(
        &'a self,
        level: &'a catalogue::Level<'a, WebhookEndpoint>,
        field: &'a Context<'a>,
        args: PageArgs,
        _: Shown,
    ) -> BoxFuture<'a, ServerResult<Vec<Page<WebhookDelivery>>>> {
        Box::pin(async move {
            let status = catalogue::argument::<Option<DeliveryStatus>>(field, "status")?
                .map(DeliveryStatus::as_str);
            let acting = field.acting();
            let mut pages = Vec::with_capacity(level.items.len());
            for endpoint in &level.items {
                let page =
                    webhook::deliveries(level.env.db, &acting, endpoint.row_id, status, &args)
                        .await
                        .map_err(|err| {
                            async_graphql::Error::from(err).into_server_error(catalogue::pos(field))
                        })?;
                pages.push(page.map(WebhookDelivery::from));
            }
            Ok(pages)
        })
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DeliveryStatus {
    /// Not yet delivered; attempts go on.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up after the last attempt (replay sends it again).
    Failed,
}

crate::enum_leaf!(DeliveryStatus);

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// One event for one endpoint.
#[derive(Clone)]
pub struct WebhookDelivery {
    pub id: ID,
    pub message_id: String,
    pub event_id: ID,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<Time>,
    pub last_attempt_at: Option<Time>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Time>,
    pub created_at: Time,
}

impl catalogue::Object for WebhookDelivery {
    const NAME: &'static str = "WebhookDelivery";
    const DOC: &'static str = "One event for one endpoint.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "", |d, _| d.id.clone());
        f.value(
            "messageId",
            "The `webhook-id` header: the same on every attempt.",
            |d, _| d.message_id.clone(),
        );
        f.value("eventId", "The outbox event's id.", |d, _| {
            d.event_id.clone()
        });
        f.value("eventType", "", |d, _| d.event_type.clone());
        f.value("status", "", |d, _| d.status);
        f.value("attempts", "", |d, _| d.attempts);
        f.value("nextAttemptAt", "", |d, _| d.next_attempt_at);
        f.value("lastAttemptAt", "", |d, _| d.last_attempt_at);
        f.value(
            "lastStatus",
            "The receiver's HTTP status on the last attempt, when one came back.",
            |d, _| d.last_status,
        );
        f.value(
            "lastError",
            "\"未送达\" (not delivered) when the last attempt failed, and nothing more: whether the\nreceiver refused the connection, answered garbage or was too slow is not told, so that\nthe log cannot map a network.",
            |d, _| d.last_error.clone(),
        );
        f.value("deliveredAt", "", |d, _| d.delivered_at);
        f.value("createdAt", "", |d, _| d.created_at);
    }
}

crate::object!(WebhookDelivery);

impl From<webhook_delivery::Model> for WebhookDelivery {
    fn from(d: webhook_delivery::Model) -> Self {
        let status = match d.status.as_str() {
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        };
        Self {
            id: ID(d.id.to_string()),
            message_id: webhook::message_id(&d),
            event_id: ID(d.event_id.to_string()),
            event_type: d.event_kind,
            status,
            attempts: d.attempts,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(Time(d.next_attempt_at)),
            last_attempt_at: d.last_attempt_at.map(Time),
            last_status: d.last_status,
            last_error: d.last_error.map(|_| t!("webhook-not-delivered")),
            delivered_at: d.delivered_at.map(Time),
            created_at: Time(d.created_at),
        }
    }
}

#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// Where deliveries are POSTed: http or https, with no user name or password, and not on a
    /// loopback, private, link-local, unique-local, reserved or metadata address (unless the
    /// server's allow-list names it; metadata never).
    pub url: String,
    pub description: Option<String>,
    /// Event kinds to receive; all when absent.
    pub event_types: Option<Vec<String>>,
    /// Learn only of this department's subtree; everything when absent.
    pub department_code: Option<String>,
    /// `whsec_` and base64 of 24 to 64 bytes; generated when absent.
    pub secret: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    pub url: Option<String>,
    pub description: MaybeUndefined<String>,
    pub event_types: Option<Vec<String>>,
    /// Null: everything.
    pub department_code: MaybeUndefined<String>,
    /// Enabling again clears the failure count.
    pub enabled: Option<bool>,
}

/// A registered endpoint with its secret, shown this once.
pub struct CreateWebhookEndpointPayload {
    pub endpoint: WebhookEndpoint,
    /// The signing secret: store it now, it is never shown again.
    pub secret: String,
}

impl catalogue::Object for CreateWebhookEndpointPayload {
    const NAME: &'static str = "CreateWebhookEndpointPayload";
    const DOC: &'static str = "A registered endpoint with its secret, shown this once.";

    fn fields(f: &mut Fields<Self>) {
        f.nested("endpoint", "", |r| &r.endpoint);
        f.value(
            "secret",
            "The signing secret: store it now, it is never shown again.",
            |r, _| r.secret.clone(),
        );
    }
}

crate::object!(CreateWebhookEndpointPayload);

/// Why the administrators are told of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum WebhookNoticeKind {
    /// Its deliveries began to fail (the messages wait and are retried).
    Failing,
    /// It was disabled after failing continuously, with no delivery in between.
    Disabled,
}

crate::enum_leaf!(WebhookNoticeKind);

/// A notice to the administrators about a webhook endpoint in trouble.
#[derive(Clone)]
pub struct WebhookNotice {
    pub id: ID,
    pub kind: WebhookNoticeKind,
    pub title: String,
    pub body: String,
    pub created_at: Time,
    pub endpoint_id: i32,
}

impl From<webhook_notice::Model> for WebhookNotice {
    fn from(n: webhook_notice::Model) -> Self {
        Self {
            id: ID(n.id.to_string()),
            kind: if n.kind == "disabled" {
                WebhookNoticeKind::Disabled
            } else {
                WebhookNoticeKind::Failing
            },
            title: n.title,
            body: n.body,
            created_at: Time(n.created_at),
            endpoint_id: n.endpoint_id,
        }
    }
}

impl catalogue::Object for WebhookNotice {
    const NAME: &'static str = "WebhookNotice";
    const DOC: &'static str = "A notice to the administrators about a webhook endpoint in trouble.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "", |n, _| n.id.clone());
        f.value("kind", "", |n, _| n.kind);
        f.value("title", "A line, in Simplified Chinese.", |n, _| {
            n.title.clone()
        });
        f.value("body", "What happened and what to do.", |n, _| {
            n.body.clone()
        });
        f.value("createdAt", "", |n, _| n.created_at);
        f.each("endpoint", "The endpoint it is about.", |n, ctx| {
            Box::pin(async move {
                use crate::domain::records::change::Kind;
                let endpoint =
                    webhook_endpoint::Entity::readable(ctx.db(), &ctx.acting(), n.endpoint_id)
                        .await?;
                Ok(WebhookEndpoint::from(endpoint))
            })
        });
    }
}

crate::object!(WebhookNotice);

/// An early-warning, supervision (督办) or public feedback notification in the caller's inbox.
#[derive(Clone)]
pub struct Notification {
    pub id: ID,
    pub role: AlertRole,
    pub level: WarningLevel,
    pub title: String,
    pub body: String,
    pub created_at: Time,
    pub read_at: Option<Time>,
    pub finding_id: Option<i32>,
    pub supervision_order_id: Option<i32>,
    pub public_feedback_id: Option<i32>,
}

impl From<notification::Model> for Notification {
    fn from(n: notification::Model) -> Self {
        Self {
            id: ID(n.id.to_string()),
            role: match n.role.as_str() {
                "manager" => AlertRole::Manager,
                role => Audience::parse(role)
                    .unwrap_or(Audience::ResponsiblePerson)
                    .into(),
            },
            level: Level::parse(&n.level).unwrap_or(Level::None).into(),
            title: n.title,
            body: n.body,
            created_at: Time(n.created_at),
            read_at: n.read_at.map(Time),
            finding_id: n.finding_id,
            supervision_order_id: n.supervision_order_id,
            public_feedback_id: n.public_feedback_id,
        }
    }
}

impl catalogue::Object for Notification {
    const NAME: &'static str = "Notification";
    const DOC: &'static str = "An early-warning, supervision (督办) or public feedback (公众监督) notification in the caller's inbox.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "", |n, _| n.id.clone());
        f.value("role", "Why the caller is alerted.", |n, _| n.role);
        f.value("level", "", |n, _| n.level);
        f.value(
            "title",
            "A line, in Simplified Chinese: 【红色预警】问题“…”已逾期 3 天.",
            |n, _| n.title.clone(),
        );
        f.value(
            "body",
            "The particulars: finding, deadline, who is alerted.",
            |n, _| n.body.clone(),
        );
        f.value("createdAt", "", |n, _| n.created_at);
        f.value("readAt", "", |n, _| n.read_at);
        f.one(
            "finding",
            "The finding it is about (none for a notice of public feedback).",
            |n, shown, _| {
                n.finding_id
                    .map(|id| FindingById(id, super::finding::columns(shown)))
            },
        );
        // Shown to those who read the feedback (the inbox shows only such notices), with its
        // sender's name and contact to the unit's managers and admins alone, as everywhere.
        f.one(
            "publicFeedback",
            "The public feedback (公众监督) it tells of, if it is such a notice.",
            |n, _, _| n.public_feedback_id.map(super::loaders::FeedbackById),
        );
        // Batched: a page of notices reads their orders at once (the inbox shows a notice
        // only to those who read its finding, one of the order's, so they read the order).
        f.one(
            "supervisionOrder",
            "The supervision order (督办单) it tells of, if it is such a notice.",
            |n, _, _| n.supervision_order_id.map(super::loaders::OrderById),
        );
    }
}

crate::object!(Notification);

#[derive(Default)]
pub struct WebhookQuery;

impl catalogue::Root for WebhookQuery {
    const NAME: &'static str = "WebhookQuery";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "webhookEndpoints",
            "Registered webhook endpoints, newest first (administrators).",
            catalogue::Pages,
            |ctx, pages| Box::pin(Self::webhook_endpoints(ctx, pages)),
        )
        .cost(catalogue::page_cost);
        f.field(
            "webhookNotices",
            "Notices about webhook endpoints in trouble, newest first (administrators): when an\n\
            endpoint's deliveries begin to fail, and when it is disabled.",
            catalogue::Pages,
            |ctx, pages| Box::pin(Self::webhook_notices(ctx, pages)),
        )
        .cost(catalogue::page_cost);
        f.field(
            "notifications",
            "Your early-warning inbox, newest first: notifications addressed to the name on your\n\
            token, on findings you may read.",
            (
                param::<bool>("unreadOnly").or(Default::default),
                catalogue::Pages,
            ),
            |ctx, (unread_only, pages)| Box::pin(Self::notifications(ctx, unread_only, pages)),
        )
        .cost(catalogue::page_cost);
    }
}

crate::root!(WebhookQuery);

impl WebhookQuery {
    async fn webhook_endpoints(
        ctx: &Context<'_>,
        pages: PageArgs,
    ) -> Result<Conn<WebhookEndpoint>> {
        let page = webhook::list(ctx.db(), &ctx.acting(), &pages).await?;
        Ok(Conn::of(page))
    }

    async fn webhook_notices(ctx: &Context<'_>, pages: PageArgs) -> Result<Conn<WebhookNotice>> {
        let page =
            crate::domain::integration::webhook_notice::list(ctx.db(), &ctx.acting(), None, &pages)
                .await?;
        Ok(Conn::of(page))
    }

    async fn notifications(
        ctx: &Context<'_>,
        unread_only: bool,
        pages: PageArgs,
    ) -> Result<Conn<Notification>> {
        let page = alert::inbox(ctx.db(), ctx.caller(), unread_only, &pages).await?;
        Ok(Conn::of(page))
    }
}

#[derive(Default)]
pub struct WebhookMutation;

impl catalogue::Root for WebhookMutation {
    const NAME: &'static str = "WebhookMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "createWebhookEndpoint",
            "Registers a system that receives events (administrators). Only `url` is required.",
            param::<CreateWebhookEndpointInput>("input"),
            |ctx, input| Box::pin(Self::create_webhook_endpoint(ctx, input)),
        );
        f.field(
            "updateWebhookEndpoint",
            "Changes an endpoint at `version` (CONFLICT when it changed since).",
            (
                param::<ID>("id"),
                param::<i32>("version"),
                param::<UpdateWebhookEndpointInput>("input"),
            ),
            |ctx, (id, version, input)| {
                Box::pin(Self::update_webhook_endpoint(ctx, id, version, input))
            },
        );
        f.field(
            "deleteWebhookEndpoint",
            "Removes an endpoint (archived: its deliveries stay on record; none are sent).",
            (param::<ID>("id"), param::<i32>("version")),
            |ctx, (id, version)| Box::pin(Self::delete_webhook_endpoint(ctx, id, version)),
        );
        f.field(
            "replayWebhookDeliveries",
            "Sends an endpoint's deliveries again under their original `webhook-id`: those named,\n\
            or those since a time, or (with `failedOnly`) the given-up ones. Returns how many.",
            (
                param::<ID>("endpointId"),
                param::<Option<Vec<ID>>>("deliveryIds"),
                param::<Option<Time>>("since"),
                param::<bool>("failedOnly").or(Default::default),
            ),
            |ctx, (endpoint_id, delivery_ids, since, failed_only)| {
                Box::pin(Self::replay_webhook_deliveries(
                    ctx,
                    endpoint_id,
                    delivery_ids,
                    since,
                    failed_only,
                ))
            },
        );
        f.field(
            "markNotificationsRead",
            "Marks notifications of your inbox read.",
            param::<Vec<ID>>("ids"),
            |ctx, ids| Box::pin(Self::mark_notifications_read(ctx, ids)),
        );
    }
}

crate::root!(WebhookMutation);

impl WebhookMutation {
    async fn create_webhook_endpoint(
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<CreateWebhookEndpointPayload> {
        let new = NewEndpoint {
            url: input.url,
            description: input.description,
            event_types: input.event_types.unwrap_or_default(),
            department_code: input.department_code,
            secret: input.secret,
        };
        let allow = &ctx.data_unchecked::<Arc<Config>>().live.webhook_allow;
        let (endpoint, secret) = write(ctx, async |txn, who| {
            webhook::create(txn, who, new, allow).await
        })
        .await?;
        Ok(CreateWebhookEndpointPayload {
            endpoint: endpoint.into(),
            secret,
        })
    }

    async fn update_webhook_endpoint(
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: UpdateWebhookEndpointInput,
    ) -> Result<WebhookEndpoint> {
        let id = parse_id("id", &id)?;
        let changes = EndpointPatch {
            url: input.url,
            description: patch(input.description),
            event_types: input.event_types,
            department_code: patch(input.department_code),
            enabled: input.enabled,
        };
        let allow = &ctx.data_unchecked::<Arc<Config>>().live.webhook_allow;
        let updated = write(ctx, async |txn, who| {
            webhook::update(txn, who, id, version, changes, allow).await
        })
        .await?;
        Ok(updated.into())
    }

    async fn delete_webhook_endpoint(
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> Result<WebhookEndpoint> {
        let id = parse_id("id", &id)?;
        let archived = write(ctx, async |txn, who| {
            domain::records::change::archive::<webhook_endpoint::Entity>(txn, who, id, version)
                .await
        })
        .await?;
        Ok(archived.into())
    }

    async fn replay_webhook_deliveries(
        ctx: &Context<'_>,
        endpoint_id: ID,
        delivery_ids: Option<Vec<ID>>,
        since: Option<Time>,
        failed_only: bool,
    ) -> Result<i32> {
        let endpoint_id = parse_id("endpointId", &endpoint_id)?;
        let ids = delivery_ids
            .unwrap_or_default()
            .iter()
            .map(|id| parse_id("deliveryIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let queued = write(ctx, async |txn, who| {
            webhook::replay(txn, who, endpoint_id, &ids, since.map(|t| t.0), failed_only).await
        })
        .await?;
        Ok(i32::try_from(queued).unwrap_or(i32::MAX))
    }

    async fn mark_notifications_read(ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Notification>> {
        let ids = ids
            .iter()
            .map(|id| parse_id("ids", id))
            .collect::<Result<Vec<_>, _>>()?;
        let read = write(ctx, async |txn, who| alert::mark_read(txn, who, &ids).await).await?;
        Ok(read.into_iter().map(Into::into).collect())
    }
}
