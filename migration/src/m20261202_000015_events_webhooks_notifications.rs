//! Real time: the event outbox, outbound webhooks, and early warnings that reach people.
//!
//! - `event`: the outbox. One row per change that others are told of, written by the audit
//!   trail in the transaction that makes the change (so an event exists exactly when its change
//!   does). Instances fan it out to subscribers; a subscriber that reconnects asks for the
//!   events after the last id it saw. Rows older than the retention window are pruned.
//! - `webhook_endpoint`: a subscriber system (admin-managed): where to POST, which event kinds,
//!   the department subtree it may learn of, and the secret its deliveries are signed with.
//! - `webhook_delivery`: one event for one endpoint, with the body as first rendered (retries
//!   send the same bytes under the same `webhook-id`), its attempts and outcome.
//! - `webhook_cursor`: the last event turned into deliveries (one row).
//! - `warning_crossing`: a finding or measure crossing into an early-warning level for a given
//!   deadline; unique per (subject, level, deadline), so that a crossing notifies once however
//!   many sweeps, restarts or instances see it.
//! - `notification`: the in-app inbox: one row per person the crossing's level alerts.

use crate::helpers::*;
use crate::m20261127_000001_create_department::Department;
use crate::m20261127_000003_create_finding::Finding;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Event {
    Table,
    Id,
    /// `finding.changed`, `warning.raised`, `report.submitted`, `report.published`.
    Kind,
    /// The audit action behind it, e.g. `measure.update`.
    Action,
    EntityType,
    EntityId,
    /// The finding it concerns, when it concerns one (scoped reads decide who learns of it).
    FindingId,
    DepartmentId,
    Payload,
    OccurredAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum WebhookEndpoint {
    Table,
    Id,
    Url,
    Description,
    /// The event kinds it receives (a JSON array).
    EventTypes,
    /// Its reach: this department's subtree; everything when null.
    DepartmentId,
    Secret,
    Enabled,
    /// Failed attempts in a row; a success resets it.
    ConsecutiveFailures,
    DisabledAt,
    DisabledReason,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
    ArchivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum WebhookDelivery {
    Table,
    Id,
    EndpointId,
    EventId,
    EventKind,
    /// The JSON body as rendered for the endpoint's reach.
    Body,
    /// `pending`, `delivered` or `failed` (gave up).
    Status,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    /// The receiver's HTTP status of the last attempt.
    LastStatus,
    LastError,
    DeliveredAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum WebhookCursor {
    Table,
    Id,
    LastEventId,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum WarningCrossing {
    Table,
    Id,
    /// `finding` or `measure`.
    SubjectType,
    SubjectId,
    FindingId,
    /// `green`, `yellow` or `red`.
    Level,
    Deadline,
    /// The unit's day it was seen on.
    CrossedOn,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Notification {
    Table,
    Id,
    CrossingId,
    FindingId,
    /// `responsible_person`, `responsible_leader` or `principal_leader`.
    Role,
    /// The name on record; null when none is recorded.
    Recipient,
    Level,
    Title,
    Body,
    CreatedAt,
    ReadAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Event::Table)
                    .col(pk_auto(Event::Id))
                    .col(string(Event::Kind))
                    .col(string(Event::Action))
                    .col(string(Event::EntityType))
                    .col(integer(Event::EntityId))
                    .col(integer_null(Event::FindingId))
                    .col(integer_null(Event::DepartmentId))
                    .col(json_binary_null(Event::Payload))
                    .col(utc(Event::OccurredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoint::Table)
                    .col(pk_auto(WebhookEndpoint::Id))
                    .col(required_text(WebhookEndpoint::Url))
                    .col(text_null(WebhookEndpoint::Description))
                    .col(json_binary(WebhookEndpoint::EventTypes))
                    .col(integer_null(WebhookEndpoint::DepartmentId))
                    .col(string(WebhookEndpoint::Secret))
                    .col(boolean(WebhookEndpoint::Enabled).default(true))
                    .col(integer(WebhookEndpoint::ConsecutiveFailures).default(0))
                    .col(utc_null(WebhookEndpoint::DisabledAt))
                    .col(text_null(WebhookEndpoint::DisabledReason))
                    .col(string(WebhookEndpoint::CreatedBy))
                    .col(utc(WebhookEndpoint::CreatedAt))
                    .col(utc(WebhookEndpoint::UpdatedAt))
                    .col(integer(WebhookEndpoint::Version).default(1))
                    .col(utc_null(WebhookEndpoint::ArchivedAt))
                    .foreign_key(&mut fk(
                        WebhookEndpoint::Table,
                        WebhookEndpoint::DepartmentId,
                        Department::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDelivery::Table)
                    .col(pk_auto(WebhookDelivery::Id))
                    .col(integer(WebhookDelivery::EndpointId))
                    .col(integer(WebhookDelivery::EventId))
                    .col(string(WebhookDelivery::EventKind))
                    .col(text(WebhookDelivery::Body))
                    .col(one_of(
                        WebhookDelivery::Status,
                        &["pending", "delivered", "failed"],
                    ))
                    .col(integer(WebhookDelivery::Attempts).default(0))
                    .col(utc(WebhookDelivery::NextAttemptAt))
                    .col(utc_null(WebhookDelivery::LastAttemptAt))
                    .col(integer_null(WebhookDelivery::LastStatus))
                    .col(text_null(WebhookDelivery::LastError))
                    .col(utc_null(WebhookDelivery::DeliveredAt))
                    .col(utc(WebhookDelivery::CreatedAt))
                    .foreign_key(&mut fk(
                        WebhookDelivery::Table,
                        WebhookDelivery::EndpointId,
                        WebhookEndpoint::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookCursor::Table)
                    .col(integer(WebhookCursor::Id).primary_key())
                    .col(integer(WebhookCursor::LastEventId))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(WebhookCursor::Table)
                    .columns([WebhookCursor::Id, WebhookCursor::LastEventId])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WarningCrossing::Table)
                    .col(pk_auto(WarningCrossing::Id))
                    .col(one_of(
                        WarningCrossing::SubjectType,
                        &["finding", "measure"],
                    ))
                    .col(integer(WarningCrossing::SubjectId))
                    .col(integer(WarningCrossing::FindingId))
                    .col(one_of(WarningCrossing::Level, &["green", "yellow", "red"]))
                    .col(date(WarningCrossing::Deadline))
                    .col(date(WarningCrossing::CrossedOn))
                    .col(utc(WarningCrossing::CreatedAt))
                    .foreign_key(&mut fk(
                        WarningCrossing::Table,
                        WarningCrossing::FindingId,
                        Finding::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notification::Table)
                    .col(pk_auto(Notification::Id))
                    .col(integer(Notification::CrossingId))
                    .col(integer(Notification::FindingId))
                    .col(one_of(
                        Notification::Role,
                        &[
                            "responsible_person",
                            "responsible_leader",
                            "principal_leader",
                        ],
                    ))
                    .col(text_null(Notification::Recipient))
                    .col(one_of(Notification::Level, &["green", "yellow", "red"]))
                    .col(text(Notification::Title))
                    .col(text(Notification::Body))
                    .col(utc(Notification::CreatedAt))
                    .col(utc_null(Notification::ReadAt))
                    .foreign_key(&mut fk(
                        Notification::Table,
                        Notification::CrossingId,
                        WarningCrossing::Table,
                    ))
                    .foreign_key(&mut fk(
                        Notification::Table,
                        Notification::FindingId,
                        Finding::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index(
                    Event::Table,
                    "event_occurred_at_idx",
                    vec![Event::OccurredAt.into_iden()],
                ),
                index(
                    WebhookDelivery::Table,
                    "webhook_delivery_endpoint_event_key",
                    vec![
                        WebhookDelivery::EndpointId.into_iden(),
                        WebhookDelivery::EventId.into_iden(),
                    ],
                )
                .unique()
                .to_owned(),
                index(
                    WebhookDelivery::Table,
                    "webhook_delivery_status_next_attempt_at_idx",
                    vec![
                        WebhookDelivery::Status.into_iden(),
                        WebhookDelivery::NextAttemptAt.into_iden(),
                    ],
                ),
                index(
                    WarningCrossing::Table,
                    "warning_crossing_subject_level_deadline_key",
                    vec![
                        WarningCrossing::SubjectType.into_iden(),
                        WarningCrossing::SubjectId.into_iden(),
                        WarningCrossing::Level.into_iden(),
                        WarningCrossing::Deadline.into_iden(),
                    ],
                )
                .unique()
                .to_owned(),
                index(
                    Notification::Table,
                    "notification_recipient_idx",
                    vec![
                        Notification::Recipient.into_iden(),
                        Notification::Id.into_iden(),
                    ],
                ),
                index(
                    Notification::Table,
                    "notification_finding_id_idx",
                    vec![Notification::FindingId.into_iden()],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                Notification::Table.into_iden(),
                WarningCrossing::Table.into_iden(),
                WebhookCursor::Table.into_iden(),
                WebhookDelivery::Table.into_iden(),
                WebhookEndpoint::Table.into_iden(),
                Event::Table.into_iden(),
            ],
        )
        .await
    }
}
