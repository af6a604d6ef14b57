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
use entity::{webhook_delivery, webhook_endpoint};
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, Semaphore};

use crate::config::Config;
use crate::domain::delivery::{self, PARALLEL};
use crate::domain::webhook;
use crate::error::AppResult;

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
            match delivery::dispatch(&db, &config).await {
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

async fn send_loop(
    db: DatabaseConnection,
    config: Arc<Config>,
    client: reqwest::Client,
    queued: Arc<Notify>,
) {
    let slots = Arc::new(Semaphore::new(PARALLEL));
    loop {
        match delivery::claim(&db, &config).await {
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
    crate::domain::delivery::record(db, config, &delivery, &endpoint, status, error).await
}
