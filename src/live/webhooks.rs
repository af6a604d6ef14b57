//! Webhook delivery: at least once, from the outbox, never in a request's way.
//!
//! - The dispatcher turns new events into deliveries: in one transaction it reads the events
//!   after the shared cursor, renders each for every enabled endpoint that wants its kind and
//!   may read its record, inserts the deliveries (unique per endpoint and event) and moves the
//!   cursor. Instances take turns through the cursor row's lock, so an event becomes
//!   deliveries once.
//! - The sender claims due deliveries (moving their next attempt past a lease, guarded by the
//!   value it read, so that two instances never send one at the same time), POSTs them signed,
//!   and records the outcome: delivered; or retried after a backoff that doubles up to a cap;
//!   or, after the last attempt, failed. An instance killed mid-attempt leaves the claim to
//!   expire, and the delivery is sent again under the same `webhook-id`.
//! - An endpoint failing `webhook_disable_after` attempts in a row is disabled, and that is
//!   audited.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entity::{webhook_cursor, webhook_delivery, webhook_endpoint};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
};
use tokio::sync::{Notify, Semaphore};

use crate::config::Config;
use crate::domain::warning::Thresholds;
use crate::domain::{Acting, events, webhook};
use crate::error::{AppError, AppResult};

/// Deliveries sent at once by one instance.
const PARALLEL: usize = 16;

/// Starts the dispatcher and the sender.
pub fn start(db: DatabaseConnection, config: Arc<Config>, bus: super::Bus) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(config.live.webhook_timeout)
        .connect_timeout(config.live.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("rectrack/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let queued = Arc::new(Notify::new());
    tokio::spawn(dispatch_loop(
        db.clone(),
        config.clone(),
        bus,
        queued.clone(),
    ));
    tokio::spawn(send_loop(db, config, client, queued));
    Ok(())
}

async fn dispatch_loop(
    db: DatabaseConnection,
    config: Arc<Config>,
    bus: super::Bus,
    queued: Arc<Notify>,
) {
    let mut follow = bus.follow(&[], None);
    loop {
        loop {
            match dispatch(&db, &config).await {
                Ok(0) => break,
                Ok(_) => queued.notify_one(),
                Err(err) => {
                    tracing::warn!(
                        code = err.code(),
                        message = err.message(),
                        "webhook dispatch failed"
                    );
                    break;
                }
            }
        }
        // Woken by any new event, or by the poll (the cursor may be behind after a restart).
        tokio::select! {
            next = follow.next() => if next.is_none() { return },
            () = tokio::time::sleep(config.live.events_poll * 5) => {}
        }
    }
}

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
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .filter(webhook_endpoint::Column::ArchivedAt.is_null())
        .all(&txn)
        .await?;
    let thresholds = Thresholds::from_config(config);
    let now = Utc::now();
    for endpoint in &endpoints {
        let wanted: Vec<_> = read
            .iter()
            .filter(|e| webhook::wants(endpoint, &e.kind))
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

async fn send_loop(
    db: DatabaseConnection,
    config: Arc<Config>,
    client: reqwest::Client,
    queued: Arc<Notify>,
) {
    let slots = Arc::new(Semaphore::new(PARALLEL));
    loop {
        match claim(&db, &config).await {
            Ok(claimed) if !claimed.is_empty() => {
                for (delivery, endpoint) in claimed {
                    let Ok(slot) = slots.clone().acquire_owned().await else {
                        return;
                    };
                    let (db, config, client) = (db.clone(), config.clone(), client.clone());
                    tokio::spawn(async move {
                        if let Err(err) = attempt(&db, &config, &client, delivery, endpoint).await {
                            tracing::warn!(
                                code = err.code(),
                                message = err.message(),
                                "recording a webhook attempt failed"
                            );
                        }
                        drop(slot);
                    });
                }
                continue;
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(
                    code = err.code(),
                    message = err.message(),
                    "claiming webhook deliveries failed"
                );
            }
        }
        tokio::select! {
            () = queued.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}

/// Due deliveries this instance now holds: each one's next attempt moved past the lease, if
/// nobody moved it first.
async fn claim(
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

/// Sends one delivery and records how it went.
async fn attempt(
    db: &DatabaseConnection,
    config: &Config,
    client: &reqwest::Client,
    delivery: webhook_delivery::Model,
    endpoint: webhook_endpoint::Model,
) -> AppResult<()> {
    let id = webhook::message_id(&delivery);
    let timestamp = Utc::now().timestamp();
    let signature = webhook::signature(&endpoint.secret, &id, timestamp, &delivery.body)?;
    let sent = client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.body.clone())
        .send()
        .await;
    let (status, error) = match sent {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
        Ok(response) => {
            let status = response.status();
            (Some(status.as_u16()), Some(format!("HTTP {status}")))
        }
        Err(err) if err.is_timeout() => (None, Some("timed out".to_owned())),
        Err(err) if err.is_connect() => (None, Some("could not connect".to_owned())),
        Err(err) => (None, Some(format!("request failed: {err}"))),
    };
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
    let failures = match &error {
        None => {
            update = update
                .col_expr(webhook_delivery::Column::Status, Expr::value("delivered"))
                .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(now));
            webhook_endpoint::Entity::update_many()
                .col_expr(
                    webhook_endpoint::Column::ConsecutiveFailures,
                    Expr::value(0),
                )
                .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                .exec(&txn)
                .await?;
            0
        }
        Some(_) => {
            if attempts >= config.live.webhook_max_attempts {
                update = update.col_expr(webhook_delivery::Column::Status, Expr::value("failed"));
            } else {
                let wait = backoff(config, attempts);
                update = update.col_expr(
                    webhook_delivery::Column::NextAttemptAt,
                    Expr::value(
                        now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
                    ),
                );
            }
            webhook_endpoint::Entity::update_many()
                .col_expr(
                    webhook_endpoint::Column::ConsecutiveFailures,
                    Expr::col(webhook_endpoint::Column::ConsecutiveFailures).add(1),
                )
                .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                .exec(&txn)
                .await?;
            webhook_endpoint::Entity::find_by_id(endpoint.id)
                .one(&txn)
                .await?
                .map_or(0, |e| e.consecutive_failures)
        }
    };
    update.exec(&txn).await?;
    if failures >= config.live.webhook_disable_after {
        let who = Acting::system("webhooks", config.timezone);
        let reason = t!(
            "webhook-disabled-failing",
            failures = failures,
            error = error.unwrap_or_default()
        );
        webhook::disable_failing(&txn, &who, endpoint.id, reason).await?;
    }
    txn.commit().await?;
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

/// Deletes delivered and failed deliveries created before `before`.
pub async fn prune(db: &DatabaseConnection, before: chrono::DateTime<Utc>) -> AppResult<u64> {
    Ok(webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::Status.ne("pending"))
        .filter(webhook_delivery::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
