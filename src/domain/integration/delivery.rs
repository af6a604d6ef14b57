//! Webhook deliveries as records: made from the outbox, claimed for an attempt, and the
//! outcome of each attempt. The sending itself (HTTP, the loops) is in
//! `live` (its webhooks), which calls down to this module; what an endpoint is and how a body is rendered and signed is
//! [`crate::domain::integration::webhook`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{webhook_cursor, webhook_delivery, webhook_endpoint};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter,
};

use crate::config::Config;
use crate::domain::integration::webhook_notice::{self, NoticeKind};
use crate::domain::workflow::warning::Thresholds;
use crate::domain::{Acting, integration::events, integration::webhook};
use crate::error::{AppError, AppResult};
use crate::i18n::{Language, message_in};

/// Deliveries sent at once by one instance.
pub const PARALLEL: usize = 16;

/// Turns the events after the cursor into deliveries; returns how many events it consumed.
pub async fn dispatch(db: &DatabaseConnection, config: &Config) -> AppResult<usize> {
    // A read first: most wake-ups find nothing new, and need no write lock for that.
    let cursor = webhook_cursor::Entity::find_by_id(1).one(db).await?;
    let Some(cursor) = cursor else {
        return Err(AppError::internal("the webhook cursor row is missing"));
    };
    if !events::exist_after(db, cursor.last_event_id).await? {
        return Ok(0);
    }
    // With no receiver there is nothing to make, and no write: the cursor stays where it is,
    // and a receiver registered later is told only of what happens from then on (below).
    let receivers = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::ArchivedAt.is_null())
        .count(db)
        .await?;
    if receivers == 0 {
        return Ok(0);
    }
    let txn = crate::db::begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SELECT 1 FROM webhook_cursor WHERE id = 1 FOR UPDATE")
            .await?;
    }
    let cursor = webhook_cursor::Entity::find_by_id(1)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("the webhook cursor row is missing"))?;
    let read = events::after(&txn, cursor.last_event_id, &[]).await?;
    let Some(newest) = read.last().map(|e| e.id) else {
        return Ok(0);
    };
    // A disabled endpoint's messages are made all the same and wait, pending, until it is
    // enabled again: nothing that happened while it was off is lost.
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::ArchivedAt.is_null())
        .all(&txn)
        .await?;
    let thresholds = Thresholds::from_config(config);
    let now = Utc::now();
    for endpoint in &endpoints {
        // A receiver is told of what happens once it is registered, not of the history
        // before it (the demo data loaded at start-up, say).
        let wanted: Vec<_> = read
            .iter()
            .filter(|e| webhook::wants(endpoint, &e.kind) && e.occurred_at >= endpoint.created_at)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let reader = webhook::reader(&txn, endpoint).await?;
        let bodies = webhook::render(&txn, &reader, &thresholds, &wanted).await?;
        let rows: Vec<_> = wanted
            .iter()
            .zip(bodies)
            .filter_map(|(e, body)| {
                Some(webhook_delivery::ActiveModel {
                    id: NotSet,
                    endpoint_id: Set(endpoint.id),
                    event_id: Set(e.id),
                    event_kind: Set(e.kind.clone()),
                    body: Set(body?),
                    status: Set("pending".to_owned()),
                    attempts: Set(0),
                    next_attempt_at: Set(now),
                    last_attempt_at: Set(None),
                    last_status: Set(None),
                    last_error: Set(None),
                    delivered_at: Set(None),
                    created_at: Set(now),
                })
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        webhook_delivery::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    webhook_delivery::Column::EndpointId,
                    webhook_delivery::Column::EventId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    webhook_cursor::Entity::update_many()
        .col_expr(webhook_cursor::Column::LastEventId, Expr::value(newest))
        .filter(webhook_cursor::Column::Id.eq(1))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(read.len())
}

/// Due deliveries this instance now holds: each one's next attempt moved past the lease, if
/// nobody moved it first.
pub async fn claim(
    db: &DatabaseConnection,
    config: &Config,
) -> AppResult<Vec<(webhook_delivery::Model, webhook_endpoint::Model)>> {
    let now = Utc::now();
    let lease = config.live.webhook_timeout * 2 + Duration::from_secs(5);
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let mut claimed = Vec::new();
    for (delivery, endpoint) in webhook::due(db, now, PARALLEL as u64 * 4).await? {
        let taken = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(until))
            .filter(webhook_delivery::Column::Id.eq(delivery.id))
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .filter(webhook_delivery::Column::NextAttemptAt.eq(delivery.next_attempt_at))
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            claimed.push((delivery, endpoint));
        }
    }
    Ok(claimed)
}

/// How one attempt went, as the log keeps it: the HTTP status when an answer came back, and
/// nothing of why a connection failed (a closed port, a server that is not HTTP, a timeout
/// and a refused address look alike, so that the log cannot map a network).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered(u16),
    /// Any other answer.
    Refused(u16),
    /// No answer.
    NotDelivered,
}

/// Records how one attempt went: delivered; or retried after the backoff; or, after the last
/// attempt, failed (kept, and replayable). An endpoint that delivers is healthy again; one
/// that fails keeps when its run of failures began: the first failure of a run is told to the
/// administrators, and a run longer than `webhook_disable_after` with no delivery in between
/// disables the endpoint (audited, and told). A count of attempts would not do: a receiver
/// down for half a minute during a burst of changes fails hundreds of attempts.
///
/// `began` is when the attempt was sent. Attempts overlap: one sent while the receiver was
/// down may fail after another, sent later, was delivered. Such a failure is retried like any
/// other but is no evidence against the endpoint (the receiver is back): it neither counts as
/// a failure in a row nor begins a run (which would tell the administrators a second time).
pub async fn record(
    db: &DatabaseConnection,
    config: &Config,
    delivery: &webhook_delivery::Model,
    endpoint: &webhook_endpoint::Model,
    outcome: Outcome,
    began: DateTime<Utc>,
) -> AppResult<()> {
    let (status, failed) = match outcome {
        Outcome::Delivered(status) => (Some(status), false),
        Outcome::Refused(status) => (Some(status), true),
        Outcome::NotDelivered => (None, true),
    };
    // Stored as a marker; every reader shows it in its own language ("未送达").
    let error = failed.then(|| message_in(Language::Chinese, "webhook-not-delivered", &[]));
    let attempts = delivery.attempts + 1;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let mut update = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(webhook_delivery::Column::LastAttemptAt, Expr::value(now))
        .col_expr(
            webhook_delivery::Column::LastStatus,
            Expr::value(status.map(i32::from)),
        )
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value(error.clone()),
        )
        .filter(webhook_delivery::Column::Id.eq(delivery.id));
    if !failed {
        update = update
            .col_expr(webhook_delivery::Column::Status, Expr::value("delivered"))
            .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(now));
        webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::ConsecutiveFailures,
                Expr::value(0),
            )
            .col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                webhook_endpoint::Column::LastDeliveredAt,
                Expr::value(Some(now)),
            )
            .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
            .exec(&txn)
            .await?;
        update.exec(&txn).await?;
        txn.commit().await?;
        return Ok(());
    }
    if attempts >= config.live.webhook_max_attempts {
        update = update.col_expr(webhook_delivery::Column::Status, Expr::value("failed"));
    } else {
        let wait = backoff(config, attempts);
        update = update.col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)),
        );
    }
    update.exec(&txn).await?;
    // Read in the transaction that records the failure: a delivery recorded after this
    // attempt was sent means the receiver is back.
    let delivered_since = webhook_endpoint::Entity::find_by_id(endpoint.id)
        .one(&txn)
        .await?
        .and_then(|e| e.last_delivered_at)
        .is_some_and(|at| at >= began);
    if delivered_since {
        txn.commit().await?;
        return Ok(());
    }
    webhook_endpoint::Entity::update_many()
        .col_expr(
            webhook_endpoint::Column::ConsecutiveFailures,
            Expr::col(webhook_endpoint::Column::ConsecutiveFailures).add(1),
        )
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .exec(&txn)
        .await?;
    // The run begins with the attempt that finds none begun: of failures recorded at once,
    // exactly one sets the time and tells the administrators.
    let began = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .filter(webhook_endpoint::Column::FailingSince.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let who = Acting::system("webhooks", config.timezone);
    let after = config.live.webhook_disable_after;
    let current = webhook_endpoint::Entity::find_by_id(endpoint.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("a webhook endpoint vanished"))?;
    let since = current.failing_since.unwrap_or(now);
    if began && current.enabled {
        webhook_notice::notify(&txn, &who, &current, NoticeKind::Failing, since, after).await?;
    }
    let failing_for = (now - since).to_std().unwrap_or_default();
    if current.enabled && failing_for >= after {
        let reason = message_in(
            Language::Chinese,
            "webhook-disabled-failing",
            &[
                ("since", webhook_notice::local_time(&who, since).into()),
                ("failures", current.consecutive_failures.into()),
            ],
        );
        webhook::disable_failing(&txn, &who, endpoint.id, reason).await?;
        webhook_notice::notify(&txn, &who, &current, NoticeKind::Disabled, since, after).await?;
    }
    // Audited (a notice, a disabled endpoint): committed as every audited change is.
    crate::db::commit(db, txn).await?;
    Ok(())
}

/// The wait before retry `attempts` + 1: the base, doubled per attempt made, up to the cap.
fn backoff(config: &Config, attempts: i32) -> Duration {
    let doubled = config
        .live
        .webhook_backoff
        .saturating_mul(1u32 << attempts.clamp(1, 20).saturating_sub(1));
    doubled.min(config.live.webhook_backoff_max)
}

/// Deletes deliveries created before `before` that are delivered, or that belong to a deleted
/// endpoint. An undelivered message of a live endpoint (failed, or waiting while it is
/// disabled) is kept however old, so that it can still be replayed.
pub async fn prune(db: &DatabaseConnection, before: chrono::DateTime<Utc>) -> AppResult<u64> {
    let deleted = Query::select()
        .column(webhook_endpoint::Column::Id)
        .from(webhook_endpoint::Entity)
        .and_where(webhook_endpoint::Column::ArchivedAt.is_not_null())
        .to_owned();
    Ok(webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::CreatedAt.lt(before))
        .filter(
            Condition::any()
                .add(webhook_delivery::Column::Status.eq("delivered"))
                .add(webhook_delivery::Column::EndpointId.in_subquery(deleted)),
        )
        .exec(db)
        .await?
        .rows_affected)
}
