//! The event outbox: what subscribers and webhook receivers are told of.
//!
//! Events are not written by the commands one by one: the audit trail writes one for every
//! audited change that others are told of ([`of_audit`]) when it puts the change's audit event
//! on the chain, under the chain's lock: on SQLite in the change's transaction, on PostgreSQL
//! in the chainer's, right after the change commits and before it is answered (a change of a
//! process killed in between gets its event when the next pass chains it, at the latest when
//! a server starts). So every committed change gets its event once, no command can forget
//! one, and ids become visible in order (the lock is held to commit), which lets readers
//! follow the outbox by id alone. On PostgreSQL the chaining transaction sends a `NOTIFY`,
//! delivered at commit, to wake every instance; the outbox stays the truth, so a lost
//! notification only delays an event until the next poll.
//!
//! Who learns of an event is decided when it is read, by the scoped reads: a finding event
//! reaches a subscriber only if the finding is within the subscriber's reach.

use chrono::{DateTime, Utc};
use entity::{audit_event, event};
use sea_orm::ActiveValue::NotSet;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;

use crate::error::AppResult;

/// The audit action of an early-warning crossing recorded as history (a historical import's
/// late work, which its people already know): it tells nobody.
pub const HISTORICAL_CROSSING: &str = "warning.record_historical";

/// A finding, one of its measures, targets, ledger entries, links or re-checks changed.
pub const FINDING_CHANGED: &str = "finding.changed";
/// A finding or measure crossed into an early-warning level.
pub const WARNING_RAISED: &str = "warning.raised";
/// A semi-monthly report was submitted.
pub const REPORT_SUBMITTED: &str = "report.submitted";
/// A bulletin was published.
pub const REPORT_PUBLISHED: &str = "report.published";

/// A supervision order (督办单) was issued to a unit.
pub const SUPERVISION_ISSUED: &str = "supervision.issued";
/// A unit replied to a supervision order.
pub const SUPERVISION_REPLIED: &str = "supervision.replied";
/// The office accepted a reply (办结).
pub const SUPERVISION_ACCEPTED: &str = "supervision.accepted";
/// The office returned a reply with a new deadline.
pub const SUPERVISION_RETURNED: &str = "supervision.returned";

/// The unit was reminded of a supervision order's deadline (催办).
pub const SUPERVISION_REMINDED: &str = "supervision.reminded";
/// A supervision order went unanswered past its deadline (逾期未复) and rose a level.
pub const SUPERVISION_OVERDUE: &str = "supervision.overdue";

/// The public sent feedback about a bulletin (公众监督): which feedback, never its text or sender.
pub const FEEDBACK_RECEIVED: &str = "feedback.received";

/// The kinds a supervision order's moves publish.
pub const SUPERVISION: [&str; 6] = [
    SUPERVISION_ISSUED,
    SUPERVISION_REPLIED,
    SUPERVISION_ACCEPTED,
    SUPERVISION_RETURNED,
    SUPERVISION_REMINDED,
    SUPERVISION_OVERDUE,
];

/// Every kind, in the order documentation lists them.
pub const KINDS: [&str; 11] = [
    FINDING_CHANGED,
    WARNING_RAISED,
    REPORT_SUBMITTED,
    REPORT_PUBLISHED,
    SUPERVISION_ISSUED,
    SUPERVISION_REPLIED,
    SUPERVISION_ACCEPTED,
    SUPERVISION_RETURNED,
    SUPERVISION_REMINDED,
    SUPERVISION_OVERDUE,
    FEEDBACK_RECEIVED,
];

/// The PostgreSQL channel that wakes instances when events commit.
pub const CHANNEL: &str = "rectrack_events";

/// Most events read in one go.
pub const BATCH: u64 = 500;

/// The kind of event an audited change publishes, and the finding it concerns; `None` for
/// changes nobody subscribes to (accounts, departments, ...).
fn classify(event: &audit_event::Model) -> Option<(&'static str, Option<i32>)> {
    let finding_of = |v: &Option<Value>| {
        v.as_ref()
            .and_then(|v| v.get("finding_id"))
            .and_then(Value::as_i64)
            .and_then(|id| i32::try_from(id).ok())
    };
    let referred = || finding_of(&event.after).or_else(|| finding_of(&event.before));
    match event.entity_type.as_str() {
        "finding" => Some((FINDING_CHANGED, event.entity_id.parse().ok())),
        "measure" | "target" | "stage" | "progress_entry" | "recheck" | "relapse" => {
            referred().map(|id| (FINDING_CHANGED, Some(id)))
        }
        // A crossing recorded as history tells nobody (a historical import's).
        "warning_crossing" if event.action == HISTORICAL_CROSSING => None,
        "warning_crossing" => Some((WARNING_RAISED, referred())),
        // Filed under its first finding, so that who learns of it is decided by the finding.
        "supervision_order" => match event.action.as_str() {
            "supervision.issue" => Some((SUPERVISION_ISSUED, referred())),
            "supervision.reply" => Some((SUPERVISION_REPLIED, referred())),
            "supervision.accept" => Some((SUPERVISION_ACCEPTED, referred())),
            "supervision.return" => Some((SUPERVISION_RETURNED, referred())),
            "supervision.remind" => Some((SUPERVISION_REMINDED, referred())),
            "supervision.overdue" => Some((SUPERVISION_OVERDUE, referred())),
            _ => None,
        },
        // New feedback only (a folded resend is the same feedback); it carries no payload:
        // the receiver is told which feedback, read within its reach when rendered.
        "public_feedback" if event.action == "public_feedback.receive" => {
            Some((FEEDBACK_RECEIVED, None))
        }
        "report" => match event.action.as_str() {
            "report.submitted" => Some((REPORT_SUBMITTED, None)),
            "report.published" => Some((REPORT_PUBLISHED, None)),
            _ => None,
        },
        _ => None,
    }
}

/// The outbox row an audited change publishes, if it publishes one (its id is the database's).
pub fn of_audit(audited: &audit_event::Model) -> Option<event::Model> {
    let (kind, finding_id) = classify(audited)?;
    let entity_id = audited.entity_id.parse::<i32>().ok()?;
    let payload = (kind == WARNING_RAISED || audited.entity_type == "supervision_order")
        .then(|| audited.after.clone())
        .flatten();
    Some(event::Model {
        id: 0,
        kind: kind.to_owned(),
        action: audited.action.clone(),
        entity_type: audited.entity_type.clone(),
        entity_id,
        finding_id,
        department_id: audited.department_id,
        payload,
        occurred_at: audited.occurred_at,
    })
}

/// Writes an outbox row. Called by the audit trail inside the change's transaction, after its
/// event is chained (SQLite: writes are serial; PostgreSQL writes the row in the chain's own
/// statement, see [`crate::audit`]).
pub async fn write(db: &impl ConnectionTrait, row: event::Model) -> AppResult<()> {
    let mut active: event::ActiveModel = row.into();
    active.id = NotSet;
    active.insert(db).await?;
    Ok(())
}

/// [`of_audit`] for many audited changes at once (the audit trail's `record_many`): their
/// events inserted a few hundred per statement, one `NOTIFY` for them all.
pub async fn of_audits(db: &impl ConnectionTrait, audited: &[audit_event::Model]) -> AppResult<()> {
    let rows: Vec<event::ActiveModel> = audited
        .iter()
        .filter_map(of_audit)
        .map(|row| {
            let mut active: event::ActiveModel = row.into();
            active.id = NotSet;
            active
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // 8 values a row: far under both databases' limits on bound values.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<event::ActiveModel> = rows.by_ref().take(1000).collect();
        event::Entity::insert_many(chunk).exec(db).await?;
    }
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(())
}

/// The events after `after` (oldest first), at most [`BATCH`], of `kinds` (all when empty).
pub async fn after(
    db: &impl ConnectionTrait,
    after: i32,
    kinds: &[&str],
) -> AppResult<Vec<event::Model>> {
    let mut select = event::Entity::find().filter(event::Column::Id.gt(after));
    if !kinds.is_empty() {
        select = select.filter(event::Column::Kind.is_in(kinds.iter().copied()));
    }
    Ok(select
        .order_by_asc(event::Column::Id)
        .limit(BATCH)
        .all(db)
        .await?)
}

/// Whether any event is newer than `after`.
pub async fn exist_after(db: &impl ConnectionTrait, after: i32) -> AppResult<bool> {
    // Ordered by id so that PostgreSQL's generic plan walks the key from `after`: without an
    // order it scans the whole table (estimating a third of it newer), 23 ms at 126,000 events,
    // on every wake-up of the webhook dispatcher.
    Ok(event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .filter(event::Column::Id.gt(after))
        .order_by_asc(event::Column::Id)
        .limit(1)
        .into_tuple::<i32>()
        .one(db)
        .await?
        .is_some())
}

/// The id of the newest event, 0 when there is none.
pub async fn latest(db: &impl ConnectionTrait) -> AppResult<i32> {
    Ok(event::Entity::find()
        .select_only()
        .column_as(event::Column::Id.max(), "id")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// Deletes events older than `before` (the retention window); returns how many.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> AppResult<u64> {
    Ok(event::Entity::delete_many()
        .filter(event::Column::OccurredAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
