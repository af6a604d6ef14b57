//! Real time: fanning the event outbox out to this instance's subscribers, and the background
//! work that reaches other systems and people.
//!
//! - [`Bus`]: one pump per instance follows the outbox by id and broadcasts each batch of new
//!   events to the instance's subscriptions. It wakes on PostgreSQL `NOTIFY` (sent by every
//!   instance's commits), on this process's own commits (as `db::commit` tells them), and on a timer, so that a lost
//!   notification only delays an event. A subscription that falls behind the broadcast, or
//!   that resumes after an event id, reads the outbox itself: nothing within the retention
//!   window is lost.
//! - [`webhooks`]: turning events into signed deliveries and sending them, with retries.
//! - [`sweep`]: the daily early-warning sweep.

pub mod sweep;
pub mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use entity::event;
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::{broadcast, watch};

use crate::domain::integration::events;
use crate::error::AppResult;

/// Starts the instance's background work: webhook delivery, early warnings (when enabled)
/// and the pruning of old events and deliveries.
pub fn start(
    db: DatabaseConnection,
    config: Arc<crate::config::Config>,
    bus: &Bus,
    metrics: Arc<crate::metrics::Metrics>,
) -> anyhow::Result<()> {
    webhooks::start(db.clone(), config.clone(), bus.clone(), metrics.clone())?;
    if config.live.warning_alerts {
        sweep::start(db.clone(), config.clone(), bus, metrics);
    }
    tokio::spawn(prune(db, config));
    Ok(())
}

/// Every hour: events older than the retention window go, and so do settled deliveries.
async fn prune(db: DatabaseConnection, config: Arc<crate::config::Config>) {
    loop {
        let retention = chrono::Duration::from_std(config.live.events_retention)
            .unwrap_or(chrono::Duration::MAX);
        if let Some(before) = chrono::Utc::now().checked_sub_signed(retention) {
            if let Err(err) = events::prune(&db, before).await {
                tracing::warn!(code = err.code(), "pruning old events failed");
            }
            if let Err(err) = crate::domain::integration::delivery::prune(&db, before).await {
                tracing::warn!(code = err.code(), "pruning old webhook deliveries failed");
            }
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

/// Answers shared by the subscriptions of one instance: a thousand subscribers with the same
/// reach and filter need one read of a batch's records, not a thousand. The key holds
/// everything the answer depends on, so sharing changes no answer; the newest `cap` keys are
/// kept.
pub struct Memo<K, V> {
    cells: std::sync::Mutex<Cells<K, V>>,
    cap: usize,
}

/// A memo's answers by key, and its keys oldest first.
type Cells<K, V> = (
    std::collections::HashMap<K, Arc<tokio::sync::OnceCell<V>>>,
    std::collections::VecDeque<K>,
);

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Memo<K, V> {
    pub fn new(cap: usize) -> Self {
        Self {
            cells: std::sync::Mutex::new(Default::default()),
            cap,
        }
    }

    /// The answer for `key`, computed by the first caller (the others wait for it); an error
    /// is not kept, and the next caller tries again.
    pub async fn get_or_try<E>(
        &self,
        key: K,
        compute: impl AsyncFnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let cell = {
            let mut guard = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            let (cells, order) = &mut *guard;
            match cells.get(&key) {
                Some(cell) => cell.clone(),
                None => {
                    let cell = Arc::new(tokio::sync::OnceCell::new());
                    cells.insert(key.clone(), cell.clone());
                    order.push_back(key);
                    while order.len() > self.cap {
                        if let Some(old) = order.pop_front() {
                            cells.remove(&old);
                        }
                    }
                    cell
                }
            }
        };
        cell.get_or_try_init(|| compute()).await.cloned()
    }
}

/// Events read together, oldest first.
pub type Batch = Arc<Vec<event::Model>>;

/// The instance's event fan-out.
#[derive(Clone)]
pub struct Bus {
    db: DatabaseConnection,
    sender: broadcast::Sender<Batch>,
    /// The newest event id broadcast (or seen at start).
    cursor: Arc<AtomicI32>,
}

impl Bus {
    /// Starts the pump (and on PostgreSQL the listener that wakes it) from the newest event.
    pub async fn start(db: DatabaseConnection, poll: Duration) -> AppResult<Self> {
        let start = events::latest(&db).await?;
        let (sender, _) = broadcast::channel(1024);
        let bus = Self {
            db,
            sender,
            cursor: Arc::new(AtomicI32::new(start)),
        };
        let woken = if bus.db.get_database_backend() == DbBackend::Postgres {
            let (wake, woken) = watch::channel(0u64);
            tokio::spawn(listen(bus.db.clone(), wake));
            Some(woken)
        } else {
            None
        };
        tokio::spawn(pump(bus.clone(), woken, poll));
        Ok(bus)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The newest event id the pump has handed on (the outbox lag is measured from it).
    pub fn delivered(&self) -> i32 {
        self.cursor.load(Ordering::Acquire)
    }

    /// Batches of events of `kinds` (all when empty) after `after` (from the outbox, as far as
    /// it reaches back), then each batch as it commits; without `after`, from the newest event
    /// this instance's pump has read (which may lag another instance's latest commits).
    pub fn follow(&self, kinds: &'static [&'static str], after: Option<i32>) -> Follow {
        // Subscribe before reading the cursor: what is broadcast after it is then received.
        let receiver = self.sender.subscribe();
        let last = after.unwrap_or_else(|| self.cursor.load(Ordering::Acquire));
        Follow {
            db: self.db.clone(),
            kinds,
            receiver,
            last,
            catching_up: after.is_some(),
        }
    }
}

/// One subscription's place in the event stream.
pub struct Follow {
    db: DatabaseConnection,
    kinds: &'static [&'static str],
    receiver: broadcast::Receiver<Batch>,
    /// The newest event id handed out.
    last: i32,
    /// Reading the outbox rather than the broadcast (resuming, or fallen behind).
    catching_up: bool,
}

impl Follow {
    /// The next events, waiting for them; `None` when the instance is shutting down.
    pub async fn next(&mut self) -> Option<AppResult<Vec<event::Model>>> {
        loop {
            if self.catching_up {
                let read = match events::after(&self.db, self.last, self.kinds).await {
                    Ok(read) => read,
                    Err(err) => return Some(Err(err)),
                };
                if (read.len() as u64) < events::BATCH {
                    self.catching_up = false;
                }
                if let Some(newest) = read.last() {
                    self.last = newest.id;
                    return Some(Ok(read));
                }
                continue;
            }
            match self.receiver.recv().await {
                Ok(batch) => {
                    let wanted: Vec<_> = batch
                        .iter()
                        .filter(|e| e.id > self.last)
                        .filter(|e| self.kinds.is_empty() || self.kinds.contains(&e.kind.as_str()))
                        .cloned()
                        .collect();
                    if let Some(newest) = batch.last() {
                        self.last = self.last.max(newest.id);
                    }
                    if !wanted.is_empty() {
                        return Some(Ok(wanted));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.catching_up = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Reads new events whenever woken (or every `poll`) and broadcasts them.
async fn pump(bus: Bus, mut woken: Option<watch::Receiver<u64>>, poll: Duration) {
    // This process's own commits, told by the database layer that makes them.
    let mut commits = crate::db::watch_commits();
    loop {
        let notified = async {
            if let Some(w) = woken.as_mut()
                && w.changed().await.is_ok()
            {
                return;
            }
            // No listener (SQLite), or it has ended: the timer drives the pump.
            std::future::pending::<()>().await
        };
        tokio::select! {
            () = notified => {}
            _ = commits.changed() => {}
            () = tokio::time::sleep(poll) => {}
        }
        loop {
            let last = bus.cursor.load(Ordering::Acquire);
            let read = match events::after(&bus.db, last, &[]).await {
                Ok(read) => read,
                Err(err) => {
                    tracing::warn!(code = err.code(), "reading the event outbox failed");
                    break;
                }
            };
            let Some(newest) = read.last().map(|e| e.id) else {
                break;
            };
            let full = read.len() as u64 == events::BATCH;
            bus.cursor.store(newest, Ordering::Release);
            // No receivers is not an error: nobody subscribes on this instance yet.
            let _ = bus.sender.send(Arc::new(read));
            if !full {
                break;
            }
        }
    }
}

/// Wakes the pump on every `NOTIFY` of the outbox channel; reconnects after a failure.
async fn listen(db: DatabaseConnection, wake: watch::Sender<u64>) {
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        let pool = db.get_postgres_connection_pool();
        match PgListener::connect_with(pool).await {
            Ok(mut listener) => {
                if let Err(err) = listener.listen(events::CHANNEL).await {
                    tracing::warn!(%err, "LISTEN on the event channel failed");
                } else {
                    // A reconnect may have missed notifications: read once now.
                    wake.send_modify(|n| *n = n.wrapping_add(1));
                    while listener.recv().await.is_ok() {
                        wake.send_modify(|n| *n = n.wrapping_add(1));
                    }
                }
            }
            Err(err) => tracing::warn!(%err, "connecting the event listener failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
