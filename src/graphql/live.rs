//! Subscriptions (graphql-transport-ws on `/graphql`): changes as they commit, to whoever may
//! read them. Each event is checked by the scoped reads a list uses, when it is delivered: a
//! subscriber never learns of a record it could not read.
//!
//! Every event has an id. A client that reconnects passes the last one it saw as `after` and
//! first receives what it missed (within the configured retention), then live events.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use std::future::Future;

use async_graphql::{Context, ID, Result, Subscription};

use super::catalogue::{self, Fields};
use entity::{event, measure};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sea_orm::DatabaseConnection;

use super::finding::{Finding, FindingFilterInput, list_terms};
use super::measure::Measure;
use super::report::{Report, ReportStatus};
use super::scalars::{Date, Time};
use super::supervision::SupervisionOrder;
use super::warning::WarningLevel;
use super::{ContextExt, parse_opt_id};
use crate::auth::Caller;
use crate::config::Config;
use crate::domain::integration::events::{
    self, FINDING_CHANGED, REPORT_PUBLISHED, REPORT_SUBMITTED, WARNING_RAISED,
};
use crate::domain::reads::finding_list::{self, FindingFilter};
use crate::domain::records::change::Kind;
use crate::domain::workflow::supervision;
use crate::domain::workflow::warning::{Level, Thresholds};
use crate::domain::{Acting, documents::report};
use crate::error::{AppError, AppResult};
use crate::live::{Bus, Follow};

#[derive(Default)]
pub struct Subscription;

/// A change of a finding or of one of its measures, targets, ledger entries, regulation links
/// or re-checks.
#[derive(Clone)]
pub struct FindingChange {
    /// The event's id: pass the last one seen as `after` to resume without a gap.
    pub event_id: ID,
    /// What was done, as the audit trail names it: `finding.update`, `finding.close`,
    /// `measure.update`, `target.update`, `progress_entry.create`, `regulation.link`, ...
    pub action: String,
    /// The kind of record that changed: finding, measure, target, progress_entry, recheck, relapse.
    pub entity_type: String,
    /// That record's id.
    pub entity_id: ID,
    pub occurred_at: Time,
    /// The finding as it is when the event is delivered.
    pub finding: Finding,
}

impl catalogue::Object for FindingChange {
    const NAME: &'static str = "FindingChange";
    const DOC: &'static str = "A change of a finding or of one of its measures, targets, ledger entries, regulation links\nor re-checks.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "eventId",
            "The event's id: pass the last one seen as `after` to resume without a gap.",
            |r, _| r.event_id.clone(),
        );
        f.value("action", "What was done, as the audit trail names it: `finding.update`, `finding.close`,\n`measure.update`, `target.update`, `progress_entry.create`, `regulation.link`, ...", |r, _| r.action.clone());
        f.value("entityType", "The kind of record that changed: finding, measure, target, progress_entry, recheck, relapse.", |r, _| r.entity_type.clone());
        f.value("entityId", "That record's id.", |r, _| r.entity_id.clone());
        f.value("occurredAt", "", |r, _| r.occurred_at);
        f.nested(
            "finding",
            "The finding as it is when the event is delivered.",
            |r| &r.finding,
        );
    }
}

crate::object!(FindingChange);

/// A finding or measure crossed into an early-warning level (预警).
#[derive(Clone)]
pub struct WarningRaised {
    pub event_id: ID,
    /// The level crossed into.
    pub level: WarningLevel,
    /// The deadline the level is reckoned from.
    pub deadline: Date,
    /// The day the crossing was seen, in the configured time zone.
    pub crossed_on: Date,
    pub occurred_at: Time,
    /// The finding concerned (for a measure's crossing, the measure's finding).
    pub finding: Finding,
    /// The measure whose deadline it is, when it is a measure's.
    pub measure: Option<Measure>,
}

impl catalogue::Object for WarningRaised {
    const NAME: &'static str = "WarningRaised";
    const DOC: &'static str = "A finding or measure crossed into an early-warning level (预警).";

    fn fields(f: &mut Fields<Self>) {
        f.value("eventId", "", |r, _| r.event_id.clone());
        f.value("level", "The level crossed into.", |r, _| r.level);
        f.value(
            "deadline",
            "The deadline the level is reckoned from.",
            |r, _| r.deadline,
        );
        f.value(
            "crossedOn",
            "The day the crossing was seen, in the configured time zone.",
            |r, _| r.crossed_on,
        );
        f.value("occurredAt", "", |r, _| r.occurred_at);
        f.nested(
            "finding",
            "The finding concerned (for a measure's crossing, the measure's finding).",
            |r| &r.finding,
        );
        f.nested(
            "measure",
            "The measure whose deadline it is, when it is a measure's.",
            |r| &r.measure,
        );
    }
}

crate::object!(WarningRaised);

/// A report moved on: a semi-monthly report submitted, or a bulletin published.
#[derive(Clone)]
pub struct ReportEvent {
    pub event_id: ID,
    /// SUBMITTED or PUBLISHED.
    pub status: ReportStatus,
    pub occurred_at: Time,
    pub report: Report,
}

impl catalogue::Object for ReportEvent {
    const NAME: &'static str = "ReportEvent";
    const DOC: &'static str =
        "A report moved on: a semi-monthly report submitted, or a bulletin published.";

    fn fields(f: &mut Fields<Self>) {
        f.value("eventId", "", |r, _| r.event_id.clone());
        f.value("status", "SUBMITTED or PUBLISHED.", |r, _| r.status);
        f.value("occurredAt", "", |r, _| r.occurred_at);
        f.nested("report", "", |r| &r.report);
    }
}

crate::object!(ReportEvent);

/// A supervision order (督办单) moved: issued, replied to, returned, accepted, reminded (催办)
/// or found overdue and raised a level (逾期未复).
#[derive(Clone)]
pub struct SupervisionEvent {
    pub event_id: ID,
    /// The event's kind: supervision.issued, .replied, .returned, .accepted, .reminded or
    /// .overdue (as webhooks name it).
    pub kind: String,
    pub occurred_at: Time,
    /// The order as it is when the event is delivered.
    pub order: SupervisionOrder,
}

impl catalogue::Object for SupervisionEvent {
    const NAME: &'static str = "SupervisionEvent";
    const DOC: &'static str = "A supervision order (督办单) moved: issued, replied to, returned, accepted, reminded (催办)\nor found overdue and raised a level (逾期未复).";

    fn fields(f: &mut Fields<Self>) {
        f.value("eventId", "", |r, _| r.event_id.clone());
        f.value("kind", "The event's kind: supervision.issued, .replied, .returned, .accepted, .reminded or\n.overdue (as webhooks name it).", |r, _| r.kind.clone());
        f.value("occurredAt", "", |r, _| r.occurred_at);
        f.nested(
            "order",
            "The order as it is when the event is delivered.",
            |r| &r.order,
        );
    }
}

crate::object!(SupervisionEvent);

#[Subscription]
impl Subscription {
    /// Moves of the supervision orders (督办单) you may read: a unit's about its findings, a
    /// section's about findings it works on, the office's all. Delivered as early warnings
    /// are, to the unit's managers and the office alike.
    async fn supervision_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Resume after this event id (the last `eventId` seen).")] after: Option<
            ID,
        >,
    ) -> Result<BoxStream<'static, Result<SupervisionEvent>>> {
        let watch = Watch::new(ctx, None, &events::SUPERVISION, after.as_ref()).await?;
        Ok(watch.stream(|w, batch| async move {
            let mut out = Vec::new();
            for e in &batch {
                let order = match supervision::get(&w.db, &w.caller, e.entity_id).await {
                    Ok(order) => order,
                    Err(AppError::NotFound(_)) => continue,
                    Err(err) => return Err(err),
                };
                out.push(SupervisionEvent {
                    event_id: ID(e.id.to_string()),
                    kind: e.kind.clone(),
                    occurred_at: Time(e.occurred_at),
                    order: order.into(),
                });
            }
            Ok(out)
        }))
    }

    /// Changes of the findings you may read that match `filter` (archived ones included, so
    /// that an archiving is seen): the finding itself, its measures, targets, ledger entries,
    /// regulation links and re-checks.
    async fn finding_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        #[graphql(desc = "Resume after this event id (the last `eventId` seen).")] after: Option<
            ID,
        >,
    ) -> Result<BoxStream<'static, Result<FindingChange>>> {
        let watch = Watch::new(ctx, filter, &[FINDING_CHANGED], after.as_ref()).await?;
        Ok(watch.stream(|w, batch| async move {
            let found = w.findings(&batch).await?;
            Ok(batch
                .iter()
                .filter_map(|e| {
                    let finding = found.get(&e.finding_id?)?.clone();
                    Some(FindingChange {
                        event_id: ID(e.id.to_string()),
                        action: e.action.clone(),
                        entity_type: e.entity_type.clone(),
                        entity_id: ID(e.entity_id.to_string()),
                        occurred_at: Time(e.occurred_at),
                        finding: finding.into(),
                    })
                })
                .collect())
        }))
    }

    /// Early warnings raised on the findings you may read that match `filter`, and on their
    /// measures: one event per crossing into GREEN, YELLOW or RED.
    async fn warning_raised(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        #[graphql(desc = "Resume after this event id (the last `eventId` seen).")] after: Option<
            ID,
        >,
    ) -> Result<BoxStream<'static, Result<WarningRaised>>> {
        let watch = Watch::new(ctx, filter, &[WARNING_RAISED], after.as_ref()).await?;
        Ok(watch.stream(|w, batch| async move {
            let found = w.findings(&batch).await?;
            let mut out = Vec::new();
            for e in &batch {
                let Some(finding) = e.finding_id.and_then(|id| found.get(&id)) else {
                    continue;
                };
                let Some(crossing) = e.payload.as_ref().and_then(Crossing::of) else {
                    continue;
                };
                let measure = match crossing.measure_id {
                    // The measure's own read rule, as `measure(id)` applies it.
                    Some(id) => {
                        let who = Acting::new(&w.caller, None, w.config.timezone);
                        match <measure::Entity as Kind>::readable(&w.db, &who, id).await {
                            Ok(m) => Some(Measure::from(m)),
                            Err(AppError::NotFound(_)) => None,
                            Err(err) => return Err(err),
                        }
                    }
                    None => None,
                };
                out.push(WarningRaised {
                    event_id: ID(e.id.to_string()),
                    level: crossing.level.into(),
                    deadline: Date(crossing.deadline),
                    crossed_on: Date(crossing.crossed_on),
                    occurred_at: Time(e.occurred_at),
                    finding: finding.clone().into(),
                    measure,
                });
            }
            Ok(out)
        }))
    }

    /// Semi-monthly reports submitted, and bulletins published, that you may read.
    async fn report_submitted(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Resume after this event id (the last `eventId` seen).")] after: Option<
            ID,
        >,
    ) -> Result<BoxStream<'static, Result<ReportEvent>>> {
        let watch = Watch::new(
            ctx,
            None,
            &[REPORT_SUBMITTED, REPORT_PUBLISHED],
            after.as_ref(),
        )
        .await?;
        Ok(watch.stream(|w, batch| async move {
            let mut out = Vec::new();
            for e in &batch {
                let model = match report::get(&w.db, &w.caller, e.entity_id).await {
                    Ok(model) => model,
                    Err(AppError::NotFound(_)) => continue,
                    Err(err) => return Err(err),
                };
                out.push(ReportEvent {
                    event_id: ID(e.id.to_string()),
                    status: if e.kind == REPORT_PUBLISHED {
                        ReportStatus::Published
                    } else {
                        ReportStatus::Submitted
                    },
                    occurred_at: Time(e.occurred_at),
                    report: model.into(),
                });
            }
            Ok(out)
        }))
    }
}

/// A warning crossing as its event carries it (the audited crossing row).
struct Crossing {
    measure_id: Option<i32>,
    level: Level,
    deadline: chrono::NaiveDate,
    crossed_on: chrono::NaiveDate,
}

impl Crossing {
    fn of(payload: &serde_json::Value) -> Option<Self> {
        let date = |key: &str| {
            payload
                .get(key)
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse().ok())
        };
        let measure_id = match payload.get("subject_type")?.as_str()? {
            "measure" => Some(i32::try_from(payload.get("subject_id")?.as_i64()?).ok()?),
            _ => None,
        };
        Some(Self {
            measure_id,
            level: Level::parse(payload.get("level")?.as_str()?)?,
            deadline: date("deadline")?,
            crossed_on: date("crossed_on")?,
        })
    }
}

/// What one subscription needs: its place in the event stream, and what its events are
/// checked with.
struct Watch {
    follow: Follow,
    reader: Arc<Reader>,
}

/// The caller and filter a subscription's events are checked with.
struct Reader {
    db: DatabaseConnection,
    caller: Caller,
    config: Arc<Config>,
    filter: FindingFilter,
    shared: Arc<SharedReads>,
}

impl Watch {
    async fn new(
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        kinds: &'static [&'static str],
        after: Option<&ID>,
    ) -> AppResult<Self> {
        let caller = ctx.caller().clone();
        caller.require_identity()?;
        let (mut filter, _) = list_terms(filter.unwrap_or_default(), None)?;
        filter.include_archived = true;
        // Without `after`, "from now on" is from what the database holds now, written by any
        // instance: this instance's pump may not have read another's newest commits yet.
        let after = match parse_opt_id("after", after)? {
            Some(after) => after,
            None => events::latest(ctx.db()).await?,
        };
        let bus = ctx.data_unchecked::<Bus>();
        Ok(Self {
            follow: bus.follow(kinds, Some(after)),
            reader: Arc::new(Reader {
                db: ctx.db().clone(),
                caller,
                config: ctx.data_unchecked::<Arc<Config>>().clone(),
                filter,
                shared: ctx.data_unchecked::<Arc<SharedReads>>().clone(),
            }),
        })
    }

    /// The items of each batch of events, as `deliver` makes them; a failed batch is one
    /// error item, and the subscription goes on.
    fn stream<T, F, Fut>(self, deliver: F) -> BoxStream<'static, Result<T>>
    where
        T: Send + 'static,
        F: Fn(Arc<Reader>, Vec<event::Model>) -> Fut + Send + 'static,
        Fut: Future<Output = AppResult<Vec<T>>> + Send + 'static,
    {
        let state = (self, VecDeque::<Result<T>>::new(), deliver);
        futures_util::stream::unfold(state, |(mut w, mut queue, deliver)| async move {
            loop {
                if let Some(item) = queue.pop_front() {
                    return Some((item, (w, queue, deliver)));
                }
                match w.follow.next().await? {
                    Ok(batch) => match deliver(w.reader.clone(), batch).await {
                        Ok(items) => queue.extend(items.into_iter().map(Ok)),
                        Err(err) => queue.push_back(Err(err.into())),
                    },
                    Err(err) => queue.push_back(Err(err.into())),
                }
            }
        })
        .boxed()
    }
}

/// What a batch's finding read depends on: the batch (its events, so that a later change is
/// read afresh), the reader's reach, the filter and the day (warning levels and overdue are
/// reckoned from it).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FindingsKey {
    events: (i32, i32),
    ids: Vec<i32>,
    reach: crate::auth::Reach,
    filter: FindingFilter,
    today: chrono::NaiveDate,
}

/// The finding reads shared by this instance's subscriptions.
pub type SharedReads = crate::live::Memo<FindingsKey, Arc<HashMap<i32, entity::finding::Model>>>;

impl Reader {
    /// The findings of `batch` the caller may read that match the filter, by id: the list's
    /// rule ([`finding_list::among`]), read once for every subscriber of the same reach and
    /// filter.
    async fn findings(
        &self,
        batch: &[event::Model],
    ) -> AppResult<Arc<HashMap<i32, entity::finding::Model>>> {
        let mut ids: Vec<i32> = batch.iter().filter_map(|e| e.finding_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let thresholds = Thresholds::from_config(&self.config);
        let events = (
            batch.first().map_or(0, |e| e.id),
            batch.last().map_or(0, |e| e.id),
        );
        let key = FindingsKey {
            events,
            ids,
            reach: self.caller.read_reach(),
            filter: self.filter.clone(),
            today: thresholds.today,
        };
        let ids = key.ids.clone();
        self.shared
            .get_or_try(key, async || {
                let found =
                    finding_list::among(&self.db, &self.caller, &self.filter, &thresholds, &ids)
                        .await?;
                Ok(Arc::new(found.into_iter().map(|f| (f.id, f)).collect()))
            })
            .await
    }
}
