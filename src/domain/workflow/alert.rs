//! Early warnings that reach people: when a finding or measure crosses into GREEN, YELLOW or
//! RED (by [`crate::domain::workflow::warning`]'s thresholds), one crossing is recorded and the level's
//! audience is notified (an inbox row each, and a `warning.raised` event for subscribers and
//! webhooks, through the audit trail).
//!
//! A crossing is unique per (subject, level, deadline): however many sweeps, restarts and
//! instances see it, the database keeps one, and only the transaction that inserted it writes
//! the notifications. A new deadline is a new crossing.

use chrono::NaiveDate;
use entity::enums::{FindingStatus, MeasureStatus};
use entity::{finding, measure, notification, warning_crossing};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use crate::audit::Change;
use crate::auth::Caller;
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::reads::scope;
use crate::domain::workflow::warning::{Audience, Level, Thresholds, audience};
use crate::domain::{Acting, reads::relations};
use crate::error::{AppError, AppResult};
use crate::i18n::{Language, message_in};
use sea_orm::sea_query::Expr;

/// Work with a deadline: a finding, or one of its measures.
#[derive(Debug, Clone)]
pub struct Subject {
    /// `finding` or `measure`.
    pub kind: &'static str,
    pub id: i32,
    pub finding_id: i32,
    /// What it is called: the finding's title or the measure's content.
    pub title: String,
    pub finding_title: String,
    pub deadline: NaiveDate,
    pub finished: bool,
    pub person: Option<String>,
    pub leader: Option<String>,
    pub inspection_id: i32,
    /// The finding's department (what the crossing's audit event is filed under).
    pub department_id: i32,
}

impl Subject {
    pub fn of_finding(f: &finding::Model) -> Option<Self> {
        Some(Self {
            kind: "finding",
            id: f.id,
            finding_id: f.id,
            title: f.title.clone(),
            finding_title: f.title.clone(),
            deadline: f.deadline?,
            finished: f.status == FindingStatus::Closed || f.archived_at.is_some(),
            person: f.responsible_person.clone(),
            leader: f.responsible_leader.clone(),
            inspection_id: f.inspection_id,
            department_id: f.department_id,
        })
    }

    /// A measure, with its finding's people where it names none (as its warning does).
    pub fn of_measure(m: &measure::Model, f: &finding::Model) -> Option<Self> {
        Some(Self {
            kind: "measure",
            id: m.id,
            finding_id: f.id,
            title: m.content.clone(),
            finding_title: f.title.clone(),
            deadline: m.deadline?,
            finished: m.status == MeasureStatus::Done
                || m.archived_at.is_some()
                || f.status == FindingStatus::Closed
                || f.archived_at.is_some(),
            person: m
                .responsible_person
                .clone()
                .or_else(|| f.responsible_person.clone()),
            leader: f.responsible_leader.clone(),
            inspection_id: f.inspection_id,
            department_id: f.department_id,
        })
    }
}

/// How a new crossing is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// Its level's audience is notified (the inbox), and subscribers and webhook receivers
    /// are told (`warning.raised`); audited as `warning.raise`.
    Alerted,
    /// Recorded as history, telling nobody: the work of a unit's older ledger brought in by a
    /// historical import was late before rectrack knew of it, and its people know. Audited as
    /// [`HISTORICAL`]; no notification, no event. Later crossings (a new level, a new
    /// deadline) alert as any other.
    Historical,
}

/// The audit action of a crossing recorded as history ([`Told::Historical`]): the outbox
/// tells nobody of it.
pub use crate::domain::integration::events::HISTORICAL_CROSSING as HISTORICAL;

/// Crossings (7 values each) and notifications (9) inserted per statement: far under both
/// databases' limits on bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// Records the crossings of `subjects` at their level today that are not recorded yet, with
/// their notifications; returns how many were new. Runs in the caller's transaction.
pub async fn raise(
    db: &impl ConnectionTrait,
    who: &Acting,
    thresholds: &Thresholds,
    subjects: &[Subject],
) -> AppResult<usize> {
    raise_as(db, who, thresholds, subjects, Told::Alerted).await
}

/// [`raise`], told as `told` says. A few statements for any number of subjects: the
/// crossings inserted together (those already recorded skipped by the database), then their
/// notifications together, then their audit events in one append to the chain.
pub async fn raise_as(
    db: &impl ConnectionTrait,
    who: &Acting,
    thresholds: &Thresholds,
    subjects: &[Subject],
    told: Told,
) -> AppResult<usize> {
    let at_level: Vec<(&Subject, Level)> = subjects
        .iter()
        .map(|s| (s, thresholds.level(Some(s.deadline), s.finished)))
        .filter(|(_, level)| *level != Level::None)
        .collect();
    if at_level.is_empty() {
        return Ok(0);
    }
    let mut new: Vec<(&Subject, Level, warning_crossing::Model)> = Vec::new();
    for chunk in at_level.chunks(ROWS_PER_STATEMENT) {
        let rows = chunk
            .iter()
            .map(|(subject, level)| warning_crossing::ActiveModel {
                id: NotSet,
                subject_type: Set(subject.kind.to_owned()),
                subject_id: Set(subject.id),
                finding_id: Set(subject.finding_id),
                level: Set(level.as_str().to_owned()),
                deadline: Set(subject.deadline),
                crossed_on: Set(thresholds.today),
                created_at: Set(who.now()),
            });
        // Whoever inserts a crossing first tells of it; everyone else finds it there. The
        // rows come back from the insert itself, only those it made.
        let mut insert = warning_crossing::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    warning_crossing::Column::SubjectType,
                    warning_crossing::Column::SubjectId,
                    warning_crossing::Column::Level,
                    warning_crossing::Column::Deadline,
                ])
                .do_nothing()
                .to_owned(),
            )
            .into_query();
        insert.returning_all();
        for row in db.query_all(&insert).await? {
            let crossing = warning_crossing::Model::from_query_result(&row, "")?;
            let found = chunk.iter().find(|(s, level)| {
                s.kind == crossing.subject_type
                    && s.id == crossing.subject_id
                    && level.as_str() == crossing.level
            });
            if let Some((subject, level)) = found {
                new.push((subject, *level, crossing));
            }
        }
    }
    if new.is_empty() {
        return Ok(0);
    }
    if told == Told::Alerted {
        let principals = principal_leaders(db, new.iter().map(|(s, ..)| s.inspection_id)).await?;
        let mut notifications = Vec::new();
        for (subject, level, crossing) in &new {
            let principal = principals
                .iter()
                .find(|(id, _)| *id == subject.inspection_id)
                .and_then(|(_, name)| name.clone());
            for role in audience(*level) {
                let recipient = match role {
                    Audience::ResponsiblePerson => subject.person.clone(),
                    Audience::ResponsibleLeader => subject.leader.clone(),
                    Audience::PrincipalLeader => principal.clone(),
                };
                let (title, body) = texts(subject, *level, *role, recipient.as_deref(), thresholds);
                notifications.push(notification::ActiveModel {
                    id: NotSet,
                    crossing_id: Set(Some(crossing.id)),
                    finding_id: Set(Some(subject.finding_id)),
                    role: Set(role.as_str().to_owned()),
                    recipient: Set(recipient),
                    level: Set(level.as_str().to_owned()),
                    title: Set(title),
                    body: Set(body),
                    created_at: Set(who.now()),
                    read_at: Set(None),
                    supervision_order_id: Set(None),
                    public_feedback_id: Set(None),
                });
            }
        }
        let mut notifications = notifications.into_iter().peekable();
        while notifications.peek().is_some() {
            let chunk: Vec<notification::ActiveModel> =
                notifications.by_ref().take(ROWS_PER_STATEMENT).collect();
            notification::Entity::insert_many(chunk).exec(db).await?;
        }
    }
    let action = match told {
        Told::Alerted => "warning.raise",
        Told::Historical => HISTORICAL,
    };
    let changes = new
        .iter()
        .map(|(subject, _, crossing)| Change {
            action,
            entity_type: "warning_crossing",
            entity_id: crossing.id.to_string(),
            department_id: Some(subject.department_id),
            before: None,
            after: serde_json::to_value(crossing).ok(),
        })
        .collect();
    crate::audit::record_many(db, &who.actor, changes).await?;
    Ok(new.len())
}

/// Records the crossings of these findings and their measures as history
/// ([`Told::Historical`]): a historical import calls it in its transaction, before the
/// per-change check or the sweep could alert anyone about deadlines long past.
pub async fn record_historical(
    db: &impl ConnectionTrait,
    who: &Acting,
    thresholds: &Thresholds,
    finding_ids: &[i32],
) -> AppResult<usize> {
    let mut recorded = 0;
    for ids in finding_ids.chunks(ROWS_PER_STATEMENT) {
        let findings = finding::Entity::find()
            .filter(finding::Column::Id.is_in(ids.iter().copied()))
            .all(db)
            .await?;
        let mut subjects: Vec<Subject> = findings.iter().filter_map(Subject::of_finding).collect();
        let measures = measure::Entity::find()
            .filter(measure::Column::FindingId.is_in(ids.iter().copied()))
            .all(db)
            .await?;
        for m in &measures {
            if let Some(f) = findings.iter().find(|f| f.id == m.finding_id) {
                subjects.extend(Subject::of_measure(m, f));
            }
        }
        recorded += raise_as(db, who, thresholds, &subjects, Told::Historical).await?;
    }
    Ok(recorded)
}

/// The principal leader (主要负责同志) of each inspection's unit.
async fn principal_leaders(
    db: &impl ConnectionTrait,
    inspections: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<(i32, Option<String>)>> {
    let inspections = relations::inspections(db, inspections).await?;
    let units = relations::departments(db, inspections.iter().map(|i| i.unit_id)).await?;
    Ok(inspections
        .iter()
        .map(|i| {
            let name = units
                .get(&i.unit_id)
                .and_then(|u| u.principal_leader.clone());
            (i.id, name)
        })
        .collect())
}

/// A notification's title and body, in Simplified Chinese (documents people read).
fn texts(
    subject: &Subject,
    level: Level,
    role: Audience,
    name: Option<&str>,
    thresholds: &Thresholds,
) -> (String, String) {
    let zh = |id: &str, args: &[(&str, crate::i18n::Arg)]| message_in(Language::Chinese, id, args);
    let what = zh(
        &format!("warning-subject-{}", subject.kind),
        &[("title", clipped(&subject.title, 40).into())],
    );
    let days = (subject.deadline - thresholds.today).num_days().abs();
    let title = zh(
        &format!("warning-title-{}", level.as_str()),
        &[("subject", what.into()), ("days", days.into())],
    );
    let body = zh(
        "warning-body",
        &[
            ("finding", subject.finding_title.clone().into()),
            (
                "deadline",
                crate::report::chinese_date(subject.deadline).into(),
            ),
            (
                "role",
                zh(&format!("warning-role-{}", role.as_str()), &[]).into(),
            ),
            ("name", name.unwrap_or_default().into()),
        ],
    );
    (title, body)
}

/// The open findings and measures due within the GREEN window (or overdue) as of `today`,
/// `limit` at a time after finding id `after`: the sweep's work, page by page. Also the id to
/// go on after (none on the last page) and the last finding id the page read (its progress).
pub async fn due_subjects(
    db: &impl ConnectionTrait,
    thresholds: &Thresholds,
    after: i32,
    limit: u64,
) -> AppResult<(Vec<Subject>, Option<i32>, i32)> {
    let horizon = thresholds
        .today
        .checked_add_days(chrono::Days::new(thresholds.green_days.into()))
        .unwrap_or(NaiveDate::MAX);
    let findings = finding::Entity::find()
        .filter(finding::Column::Id.gt(after))
        .filter(finding::Column::ArchivedAt.is_null())
        .filter(finding::Column::Status.ne(FindingStatus::Closed))
        .order_by_asc(finding::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let last = findings.last().map_or(after, |f| f.id);
    let next = (findings.len() as u64 == limit).then_some(last);
    let ids: Vec<i32> = findings.iter().map(|f| f.id).collect();
    let mut subjects: Vec<Subject> = findings
        .iter()
        .filter(|f| f.deadline.is_some_and(|d| d <= horizon))
        .filter_map(Subject::of_finding)
        .collect();
    if !ids.is_empty() {
        let measures = measure::Entity::find()
            .filter(measure::Column::FindingId.is_in(ids))
            .filter(measure::Column::ArchivedAt.is_null())
            .filter(measure::Column::Status.ne(MeasureStatus::Done))
            .filter(measure::Column::Deadline.lte(horizon))
            .all(db)
            .await?;
        for m in &measures {
            if let Some(f) = findings.iter().find(|f| f.id == m.finding_id) {
                subjects.extend(Subject::of_measure(m, f));
            }
        }
    }
    Ok((subjects, next, last))
}

/// Checks one finding and its measures after a change of deadline (or of anything that
/// decides a level): crossings not recorded yet are raised in the change's transaction.
/// The tables [`recheck_finding`] reads besides the crossings it writes: a change that writes
/// none of them cannot move a finding's warnings, and is not checked again (`live::sweep`).
pub const RECHECK_READS: &[&str] = &["finding", "measure"];

pub async fn recheck_finding(
    db: &impl ConnectionTrait,
    who: &Acting,
    thresholds: &Thresholds,
    finding_id: i32,
) -> AppResult<()> {
    let Some(f) = finding::Entity::find_by_id(finding_id).one(db).await? else {
        return Ok(());
    };
    let mut subjects: Vec<Subject> = Subject::of_finding(&f).into_iter().collect();
    let measures = measure::Entity::find()
        .filter(measure::Column::FindingId.eq(finding_id))
        .all(db)
        .await?;
    subjects.extend(measures.iter().filter_map(|m| Subject::of_measure(m, &f)));
    raise(db, who, thresholds, &subjects).await?;
    Ok(())
}

/// `text` cut to `max` characters, with an ellipsis when cut (a title, not the record).
fn clipped(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The notices a caller may see (addressed to it or not): those about findings it may read,
/// and those about public feedback it may read (which name no finding).
fn visible(caller: &Caller) -> sea_orm::Condition {
    if matches!(caller.read_reach(), crate::auth::Reach::All) {
        return sea_orm::Condition::all();
    }
    let feedback = crate::domain::workflow::public_feedback::readable(caller)
        .select_only()
        .column(entity::public_feedback::Column::Id)
        .into_query();
    sea_orm::Condition::any()
        .add(scope::readable_finding(
            notification::Column::FindingId,
            caller,
        ))
        .add(notification::Column::PublicFeedbackId.in_subquery(feedback))
}

/// The caller's inbox (newest first): the notifications addressed to the caller's name on
/// findings (or public feedback) the caller may read; `unread` only, if asked. A caller without
/// a name on its token has none.
pub async fn inbox(
    db: &impl ConnectionTrait,
    caller: &Caller,
    unread: bool,
    args: &PageArgs,
) -> AppResult<Page<notification::Model>> {
    let identity = caller.require_identity()?;
    let name = identity.name.clone().unwrap_or_default();
    let mut select = notification::Entity::find()
        .filter(notification::Column::Recipient.eq(name))
        .filter(visible(caller));
    if unread {
        select = select.filter(notification::Column::ReadAt.is_null());
    }
    let order = Order {
        name: "notification.id",
        exprs: vec![Expr::col(notification::Column::Id)],
        keys: |n: &notification::Model| vec![Key::I(n.id.into())],
        descending: true,
    };
    page::fetch(db, select, &order, args).await
}

/// Marks notifications of the caller's inbox read; ids outside it are `NOT_FOUND` (and
/// nothing is marked). Returns them as they are now.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    who: &Acting,
    ids: &[i32],
) -> AppResult<Vec<notification::Model>> {
    let identity = who.caller.require_identity()?;
    let name = identity.name.clone().unwrap_or_default();
    let mine = notification::Entity::find()
        .filter(notification::Column::Id.is_in(ids.iter().copied()))
        .filter(notification::Column::Recipient.eq(name))
        .filter(visible(&who.caller))
        .all(db)
        .await?;
    if let Some(missing) = ids.iter().find(|id| !mine.iter().any(|n| n.id == **id)) {
        return Err(AppError::not_found("notification", *missing));
    }
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(who.now()))
        .filter(notification::Column::Id.is_in(ids.iter().copied()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(notification::Entity::find()
        .filter(notification::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await?)
}
