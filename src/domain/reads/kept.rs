//! Answers computed from the data and kept until the data they read changes: the status
//! summaries and the `totalCount`s of lists.
//!
//! Every committed change writes an audit event, from any process sharing the database, and
//! the event names the kind of record it is about (`entity_type`). [`Generation`] follows the
//! trail and knows the newest event of each kind; an answer is kept with the newest event among
//! the kinds that may change it ([`Reads::stamp`]), read before it was computed, and serves
//! while that stays. So a webhook endpoint's edit or a failed login leaves a count of findings
//! kept, while a change to a finding, from any instance, makes it stale and the next reader
//! computes afresh. Which tables a kind of change may write is said once, in [`WRITES`]; a kind
//! not named there may write anything. Only answers over rows whose every change is audited,
//! read on the pool (not inside a caller's transaction, whose own writes the pool does not
//! see), may be kept.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use tokio::sync::Notify;

use crate::error::AppResult;

/// The tables each kind of audited change (an audit event's `entity_type`) may write, for the
/// kinds whose commands write few. Every other kind (a finding's, a measure's, an inspection's,
/// the ledger's, ...: their commands write the record, its ledger notes, its links) counts as
/// writing every table, and so does a kind this list does not know: a kind missing here only
/// keeps less. Every table a transaction writes must be among the tables of the kinds of the
/// events it records (including the commands' ledger notes), or an answer over the others
/// would be kept past the change.
pub const WRITES: &[(&str, &[&str])] = &[
    // Creating, editing, disabling an account, and its password.
    ("account", &["account"]),
    // Failed and throttled logins write nothing but their events.
    ("login", &[]),
    // Endpoints, their secrets, and the deliveries a replay queues.
    (
        "webhook_endpoint",
        &["webhook_endpoint", "webhook_delivery"],
    ),
    ("webhook_notice", &["webhook_notice"]),
    // A report's snapshot and its status; the data it reports is read, not written.
    ("report", &["report"]),
    // A warning raised and the notifications it sends.
    ("warning_crossing", &["warning_crossing", "notification"]),
    // A supervision order's move: the order, its subjects and replies, a note in each subject
    // finding's ledger (a reply's with its evidence, and which evidence the reply brought),
    // and the inbox notices; the findings themselves are not written.
    (
        "supervision_order",
        &[
            "supervision_order",
            "supervision_order_subject",
            "supervision_reply",
            "progress_entry",
            "evidence",
            "supervision_reply_evidence",
            "notification",
        ],
    ),
    // A department or a category made, edited or archived: its own row only.
    ("department", &["department"]),
    ("category", &["category"]),
    // A ledger entry, its evidence, and a correction of it. What the entry moves besides (the
    // first work starts its finding, a re-check completes a look-back) is recorded as events
    // of those records' kinds in the same transaction, and they count for it.
    ("progress_entry", &["progress_entry", "evidence"]),
];

/// The tables `kind` may write, `None` for any.
fn writes(kind: &str) -> Option<&'static [&'static str]> {
    WRITES.iter().find(|(k, _)| *k == kind).map(|(_, t)| *t)
}

/// Whether a change of `kind` (an audit event's `entity_type`) may write any of `tables`.
pub fn may_write(kind: &str, tables: &[&str]) -> bool {
    writes(kind).is_none_or(|written| written.iter().any(|t| tables.contains(t)))
}

/// What an answer reads: every table, or the tables a statement names.
#[derive(Debug, Clone)]
pub enum Reads {
    /// Any change may change the answer.
    Everything,
    /// The identifiers the answer's statement names (tables among its columns and aliases:
    /// naming more only keeps less).
    Named(Vec<String>),
}

impl Reads {
    /// The tables (and other identifiers) named in `sql`, as sea-query quotes them on both
    /// databases (`"finding"."status"`).
    pub fn named_in(sql: &str) -> Self {
        let mut names: Vec<String> = sql
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        names.sort_unstable();
        names.dedup();
        if names.is_empty() {
            // A statement written by hand, without quotes: its tables are not known.
            return Self::Everything;
        }
        Self::Named(names)
    }

    /// Whether a change of `kind` may change what is read.
    fn changed_by(&self, kind: &str) -> bool {
        match (self, writes(kind)) {
            (Self::Everything, _) | (_, None) => true,
            (Self::Named(names), Some(tables)) => tables
                .iter()
                .any(|t| names.binary_search_by(|n| n.as_str().cmp(t)).is_ok()),
        }
    }

    /// The generation of what is read in `trail`: the newest event that may have changed it
    /// (or an event at least as old, for what happened before this process first looked).
    pub fn stamp(&self, trail: &Trail) -> i64 {
        trail
            .newest
            .iter()
            .filter(|(kind, _)| self.changed_by(kind))
            .map(|(_, id)| *id)
            .fold(trail.floor, i64::max)
    }
}

/// The audit trail as of one read: the newest event of each kind seen since the first read,
/// and the newest event at the first read (every kind's, as far as this process knows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trail {
    floor: i64,
    newest: BTreeMap<String, i64>,
}

impl Trail {
    /// The newest event of any kind.
    pub fn latest(&self) -> i64 {
        self.newest.values().copied().fold(self.floor, i64::max)
    }

    /// The trail after `self` with the events written since (`entity_type`, newest id).
    fn after(&self, news: Vec<(String, i32)>) -> Self {
        let mut next = self.clone();
        for (kind, id) in news {
            let id = i64::from(id);
            let at = next.newest.entry(kind).or_insert(id);
            *at = (*at).max(id);
        }
        next
    }
}

/// Reads the trail on from `last` (the whole of it the first time, as one number). Audit
/// events are appended to the chain one transaction at a time (under the chain's lock, held to
/// commit: `crate::audit`), so ids commit in order, and what follows the newest id seen is
/// exactly what was chained since: the read is a range of the primary key, a few rows. (On
/// PostgreSQL a change is chained just after it commits, before it is answered: an answer kept
/// meanwhile carries the older stamp, and the chaining makes it stale.)
async fn read_trail(db: &impl ConnectionTrait, last: Option<&Trail>) -> AppResult<Trail> {
    use entity::audit_event::{Column, Entity};
    let Some(last) = last else {
        let newest: Option<i32> = Entity::find()
            .select_only()
            .column_as(Column::Id.max(), "last")
            .into_tuple()
            .one(db)
            .await?
            .flatten();
        return Ok(Trail {
            floor: newest.map_or(0, i64::from),
            newest: BTreeMap::new(),
        });
    };
    // Ids are 32-bit in the table; the floor came from them.
    let from = i32::try_from(last.latest()).unwrap_or(i32::MAX);
    let news: Vec<(String, Option<i32>)> = Entity::find()
        .select_only()
        .column(Column::EntityType)
        .column_as(Column::Id.max(), "newest")
        .filter(Column::Id.gt(from))
        .group_by(Column::EntityType)
        .into_tuple()
        .all(db)
        .await?;
    Ok(last.after(
        news.into_iter()
            .filter_map(|(kind, id)| id.map(|id| (kind, id)))
            .collect(),
    ))
}

/// The audit trail as the pool reads it, one read at a time for all requests.
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
    last: Option<(u64, Arc<Trail>)>,
}

impl Generation {
    pub fn new(pool: DatabaseConnection) -> Self {
        Self {
            pool,
            flight: Mutex::default(),
            finished: Notify::new(),
        }
    }

    /// The trail as of a moment after this call began.
    pub async fn read(&self) -> AppResult<Arc<Trail>> {
        let need = self.flight().begun + 1;
        loop {
            // Made before the state is looked at, so that a read finishing in between still
            // wakes this request.
            let finished = self.finished.notified();
            let (number, last) = {
                let mut flight = self.flight();
                match &flight.last {
                    Some((number, trail)) if *number >= need => return Ok(trail.clone()),
                    _ if flight.running => (None, None),
                    _ => {
                        flight.begun += 1;
                        flight.running = true;
                        (
                            Some(flight.begun),
                            flight.last.as_ref().map(|l| l.1.clone()),
                        )
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
            let trail = Arc::new(read_trail(&self.pool, last.as_deref()).await?);
            self.flight().last = Some((number, trail.clone()));
            return Ok(trail);
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
    /// The computation running for a key: readers that find the same answer stale wait for it
    /// instead of each computing it again (after a change, every reader of a summary would
    /// otherwise scan the findings at once).
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Entries kept at most; beyond, the store starts afresh.
    most: usize,
}

impl<V: Clone> Kept<V> {
    pub fn new(generation: Arc<Generation>, most: usize) -> Self {
        Self {
            generation,
            entries: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            most,
        }
    }

    /// The kept answer for `key` if nothing `reads` names has changed since, otherwise
    /// `compute`'s (then kept). `compute` must read on the pool, and only what `reads` names.
    pub async fn get_or_reading(
        &self,
        key: String,
        reads: &Reads,
        compute: impl Future<Output = AppResult<V>>,
    ) -> AppResult<V> {
        let generation = reads.stamp(&*self.generation.read().await?);
        if let Some(value) = self.fresh(&key, generation) {
            return Ok(value);
        }
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            if flights.len() >= self.most {
                flights.clear();
            }
            flights.entry(key.clone()).or_default().clone()
        };
        let turn = flight.lock().await;
        // The reader before may have computed it as of this generation or a later one.
        if let Some(value) = self.fresh(&key, generation) {
            return Ok(value);
        }
        // The generation was read before computing: a change committed meanwhile raises it past
        // the one stored, so the next reader computes again.
        let value = compute.await;
        drop(turn);
        if let Ok(mut flights) = self.flights.lock()
            && flights
                .get(&key)
                .is_some_and(|f| Arc::ptr_eq(f, &flight) && Arc::strong_count(f) == 2)
        {
            flights.remove(&key);
        }
        let value = value?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.most {
                entries.clear();
            }
            // Never replace an answer of a later generation by an earlier one.
            if entries.get(&key).is_none_or(|(at, _)| *at <= generation) {
                entries.insert(key, (generation, value.clone()));
            }
        }
        Ok(value)
    }

    /// The kept answer for `key` if it is of `generation` or later.
    fn fresh(&self, key: &str, generation: i64) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (at, value) = entries.get(key)?;
        (*at >= generation).then(|| value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::{Reads, Trail};

    fn trail(floor: i64, newest: &[(&str, i64)]) -> Trail {
        Trail {
            floor,
            newest: newest.iter().map(|(k, i)| ((*k).to_owned(), *i)).collect(),
        }
    }

    const FINDINGS: &str = r#"SELECT COUNT(*) FROM (SELECT "finding"."id" FROM "finding" WHERE "finding"."status" = $1) AS "counted""#;

    #[test]
    fn a_count_of_findings_keeps_its_stamp_across_changes_to_other_tables() {
        let reads = Reads::named_in(FINDINGS);
        let before = trail(10, &[("finding", 7)]);
        assert_eq!(reads.stamp(&before), 10);
        let others = before.after(vec![
            ("account".into(), 11),
            ("login".into(), 12),
            ("webhook_endpoint".into(), 13),
            ("department".into(), 14),
        ]);
        assert_eq!(reads.stamp(&others), 10);
        assert_eq!(others.latest(), 14);
        // A finding's change, or a kind nobody described, moves it.
        assert_eq!(reads.stamp(&others.after(vec![("finding".into(), 15)])), 15);
        assert_eq!(
            reads.stamp(&others.after(vec![("new_kind".into(), 16)])),
            16
        );
    }

    #[test]
    fn a_count_that_names_a_table_is_stale_after_its_kinds_change() {
        let scoped = Reads::named_in(
            r#"SELECT COUNT(*) FROM "finding" WHERE "finding"."department_id" IN (SELECT "id" FROM "department")"#,
        );
        assert_eq!(
            scoped.stamp(&trail(3, &[("department", 9), ("account", 11)])),
            9
        );
        // Unquoted text names nothing known: every change counts.
        let bare = Reads::named_in("SELECT COUNT(*) FROM finding");
        assert_eq!(bare.stamp(&trail(3, &[("login", 4)])), 4);
    }
}
