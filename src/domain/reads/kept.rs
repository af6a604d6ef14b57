//! Answers computed from the data and kept until the data changes: the status summaries and
//! the `totalCount`s of lists.
//!
//! An answer is kept with the audit chain's generation ([`Generation`]) read before it was
//! computed, and serves while the generation stays: every committed change writes an audit
//! event, from any process sharing the database, so a change anywhere makes every kept answer
//! stale and the next reader computes afresh. Only answers over rows whose every change is
//! audited, read on the pool (not inside a caller's transaction, whose own writes the pool does
//! not see), may be kept.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QuerySelect};
use tokio::sync::Notify;

use crate::error::AppResult;

/// A change counter: the id of the latest audit event.
async fn latest_event(db: &impl ConnectionTrait) -> AppResult<i64> {
    let last: Option<i32> = entity::audit_event::Entity::find()
        .select_only()
        .column_as(entity::audit_event::Column::Id.max(), "last")
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    Ok(last.map_or(0, i64::from))
}

/// The change counter as the pool reads it, one read at a time for all requests.
///
/// A request needs a read that began after it arrived: such a read sees every change committed
/// before the request, which is all that "never stale" asks. So requests that arrive while a
/// read runs wait for the next one and share it; under load there are a few reads per
/// millisecond instead of one per request (a third of the statements of a page with counts).
pub struct Generation {
    pool: DatabaseConnection,
    flight: Mutex<Flight>,
    finished: Notify,
}

#[derive(Default)]
struct Flight {
    /// Reads begun so far; the running one, if any, is the last of them.
    begun: u64,
    running: bool,
    /// The last read that succeeded: its number and what it read.
    last: Option<(u64, i64)>,
}

impl Generation {
    pub fn new(pool: DatabaseConnection) -> Self {
        Self {
            pool,
            flight: Mutex::default(),
            finished: Notify::new(),
        }
    }

    /// The counter as of a moment after this call began.
    pub async fn read(&self) -> AppResult<i64> {
        let need = self.flight().begun + 1;
        loop {
            // Made before the state is looked at, so that a read finishing in between still
            // wakes this request.
            let finished = self.finished.notified();
            let number = {
                let mut flight = self.flight();
                match flight.last {
                    Some((number, value)) if number >= need => return Ok(value),
                    _ if flight.running => None,
                    _ => {
                        flight.begun += 1;
                        flight.running = true;
                        Some(flight.begun)
                    }
                }
            };
            let Some(number) = number else {
                finished.await;
                continue;
            };
            // Ends the flight however the read ends (answered, failed, or dropped with its
            // request), so that the waiters go on.
            let _landing = Landing(self);
            let value = latest_event(&self.pool).await?;
            self.flight().last = Some((number, value));
            return Ok(value);
        }
    }

    fn flight(&self) -> std::sync::MutexGuard<'_, Flight> {
        // The state stays consistent under any panic: each change is one assignment.
        self.flight.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Landing<'a>(&'a Generation);

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.0.flight().running = false;
        self.0.finished.notify_waiters();
    }
}

/// Answers by key (the key must name everything the answer depends on besides the data: the
/// caller's scope, the filter, the day).
pub struct Kept<V> {
    generation: Arc<Generation>,
    entries: Mutex<HashMap<String, (i64, V)>>,
    /// Entries kept at most; beyond, the store starts afresh.
    most: usize,
}

impl<V: Clone> Kept<V> {
    pub fn new(generation: Arc<Generation>, most: usize) -> Self {
        Self {
            generation,
            entries: Mutex::new(HashMap::new()),
            most,
        }
    }

    /// The kept answer for `key` if the data has not changed since, otherwise `compute`'s
    /// (then kept). `compute` must read on the pool.
    pub async fn get_or(
        &self,
        key: String,
        compute: impl Future<Output = AppResult<V>>,
    ) -> AppResult<V> {
        let generation = self.generation.read().await?;
        if let Ok(entries) = self.entries.lock()
            && let Some((at, value)) = entries.get(&key)
            && *at == generation
        {
            return Ok(value.clone());
        }
        // Read before computing: a change committed meanwhile raises the generation past the
        // one stored, so the next reader computes again.
        let value = compute.await?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.most {
                entries.clear();
            }
            entries.insert(key, (generation, value.clone()));
        }
        Ok(value)
    }
}
