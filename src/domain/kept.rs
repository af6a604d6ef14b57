//! Answers computed from the data and kept until the data changes: the status summaries and
//! the `totalCount`s of lists.
//!
//! An answer is kept with the audit chain's generation ([`generation`]) read before it was
//! computed, and serves while the generation stays: every committed change writes an audit
//! event, from any process sharing the database, so a change anywhere makes every kept answer
//! stale and the next reader computes afresh. Only answers over rows whose every change is
//! audited may be kept.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QuerySelect};

use crate::error::AppResult;

/// A change counter: the id of the latest audit event.
pub async fn generation(db: &impl ConnectionTrait) -> AppResult<i64> {
    let last: Option<i32> = entity::audit_event::Entity::find()
        .select_only()
        .column_as(entity::audit_event::Column::Id.max(), "last")
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    Ok(last.map_or(0, i64::from))
}

/// Answers by key (the key must name everything the answer depends on besides the data: the
/// caller's scope, the filter, the day).
pub struct Kept<V> {
    entries: Mutex<HashMap<String, (i64, V)>>,
    /// Entries kept at most; beyond, the store starts afresh.
    most: usize,
}

impl<V: Clone> Kept<V> {
    pub fn new(most: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            most,
        }
    }

    /// The kept answer for `key` if the data has not changed since, otherwise `compute`'s
    /// (then kept).
    pub async fn get_or(
        &self,
        db: &impl ConnectionTrait,
        key: String,
        compute: impl Future<Output = AppResult<V>>,
    ) -> AppResult<V> {
        let generation = generation(db).await?;
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
