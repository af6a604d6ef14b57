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
//! - An endpoint failing continuously for `webhook_disable_after` (a time: 5 days by
//!   default), with no delivery in between, is disabled; the first failure of a run and the
//!   disabling are audited and told to the administrators ([`crate::domain::integration::webhook_notice`]).
//!   Its messages are kept and wait until it is enabled again.
//! - Every attempt goes only where [`webhook_target`] allows: the stored URL is checked again
//!   (the allow-list may have changed since registration), and a host name is resolved by
//!   [`Guarded`], which refuses the whole lookup when any address is refused and otherwise
//!   hands the connector exactly the addresses it checked. No proxy is used (a proxy would
//!   resolve the name itself) and no redirect is followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entity::{webhook_delivery, webhook_endpoint};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, Semaphore};

use crate::config::Config;
use crate::domain::integration::delivery::{self, Outcome, PARALLEL};
use crate::domain::integration::webhook;
use crate::domain::integration::webhook_target::{self, AllowList};
use crate::error::AppResult;

/// The resolver deliveries connect through: the system's lookup, then every address checked.
struct Guarded {
    allow: Arc<AllowList>,
}

/// A name that resolved to an address deliveries may not reach.
#[derive(Debug)]
struct RefusedAddress;

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the receiver's name resolves to an address webhooks may not reach")
    }
}

impl std::error::Error for RefusedAddress {}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ips: Vec<IpAddr> = found.iter().map(SocketAddr::ip).collect();
            if let Err(ip) = webhook_target::resolved(&host, &ips, &allow) {
                tracing::warn!(host, %ip, "webhook receiver resolves to a refused address; not delivered");
                return Err(Box::new(RefusedAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Starts the dispatcher and the sender.
pub fn start(
    db: DatabaseConnection,
    config: Arc<Config>,
    bus: super::Bus,
    metrics: Arc<crate::metrics::Metrics>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(config.live.webhook_timeout)
        .connect_timeout(config.live.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(Guarded {
            allow: Arc::new(config.live.webhook_allow.clone()),
        }))
        .user_agent(concat!("rectrack/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let queued = Arc::new(Notify::new());
    tokio::spawn(dispatch_loop(
        db.clone(),
        config.clone(),
        bus,
        queued.clone(),
    ));
    tokio::spawn(send_loop(db, config, client, queued, metrics));
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
    metrics: Arc<crate::metrics::Metrics>,
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
                    let metrics = metrics.clone();
                    tokio::spawn(async move {
                        let attempted =
                            attempt(&db, &config, &client, delivery, endpoint, &metrics).await;
                        if let Err(err) = attempted {
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
    metrics: &crate::metrics::Metrics,
) -> AppResult<()> {
    // The URL as registered may no longer pass (a narrower allow-list, a row from before these
    // rules): checked again, and an address written in the URL is connected to without any
    // lookup, so this is its only check. A name is checked by the resolver.
    let began = Utc::now();
    let url = match webhook_target::deliverable(&endpoint.url, &config.live.webhook_allow) {
        Ok(url) => url,
        Err(err) => {
            tracing::warn!(
                endpoint = endpoint.id,
                reason = err.message(),
                "webhook receiver refused; not delivered"
            );
            metrics.webhook_failed(endpoint.id);
            return delivery::record(
                db,
                config,
                &delivery,
                &endpoint,
                Outcome::NotDelivered,
                began,
            )
            .await;
        }
    };
    let id = webhook::message_id(&delivery);
    let timestamp = Utc::now().timestamp();
    let signature = webhook::signature(&endpoint.secret, &id, timestamp, &delivery.body)?;
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.body.clone())
        .send()
        .await;
    let outcome = match sent {
        Ok(response) if response.status().is_success() => {
            Outcome::Delivered(response.status().as_u16())
        }
        Ok(response) => Outcome::Refused(response.status().as_u16()),
        Err(err) => {
            // The operator's log keeps the reason; the delivery log does not.
            tracing::info!(endpoint = endpoint.id, error = %err, "webhook not delivered");
            Outcome::NotDelivered
        }
    };
    if !matches!(outcome, Outcome::Delivered(_)) {
        metrics.webhook_failed(endpoint.id);
    }
    delivery::record(db, config, &delivery, &endpoint, outcome, began).await
}
