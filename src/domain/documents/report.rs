//! Semi-monthly progress reports (整改情况报告) and public bulletins (通报): generated from the
//! ledger as immutable snapshots, submitted to the inspection office, published to the public.

use std::collections::HashMap;

use chrono::{DateTime, Days, FixedOffset, NaiveDate};
use entity::enums::{ReportKind, ReportStatus};
use entity::{
    category, department, finding, finding_regulation, inspection, measure, progress_entry, report,
    target,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Set,
};

use crate::auth::{Caller, Permission, Reach};
use crate::domain::reads::lists::timetable::due_dates;
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::reads::summary;
use crate::domain::records::change::{Record, audited};
use crate::domain::{
    Acting, reads::as_of, reads::scope, records::inspection as inspections, records::text,
};
use crate::error::{AppError, AppResult};
use crate::report::render::Document;
use crate::report::{
    CategoryFacts, EntryFacts, FindingFacts, InspectionFacts, MeasureFacts, Snapshot, SummaryFacts,
    TargetFacts,
};

/// Reports the caller may open. A report is a unit-wide document (it shows the whole ledger
/// of the unit's inspection), so only callers who read the whole inspected unit open one:
/// admins, the inspection office, the unit's own managers and leaders, but not the officers of
/// one section, who read their section's findings through the lists instead. Drafts are for
/// those who prepare reports (the unit's managers, admins); the others see a report once it is
/// submitted or published.
pub fn visible(caller: &Caller) -> Select<report::Entity> {
    let inspections = inspection::Entity::find()
        .filter(scope::department_in(
            inspection::Column::UnitId,
            &caller.read_reach(),
        ))
        .select_only()
        .column(inspection::Column::Id)
        .into_query();
    let select =
        report::Entity::find().filter(report::Column::InspectionId.in_subquery(inspections));
    if caller.can(Permission::ManageReports) {
        select
    } else {
        select.filter(report::Column::Status.ne(ReportStatus::Draft))
    }
}

pub async fn get(db: &impl ConnectionTrait, caller: &Caller, id: i32) -> AppResult<report::Model> {
    caller.require_identity()?;
    visible(caller)
        .filter(report::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("report", id))
}

/// A published bulletin, for anyone.
pub async fn published_bulletin(db: &impl ConnectionTrait, id: i32) -> AppResult<report::Model> {
    report::Entity::find_by_id(id)
        .filter(report::Column::Kind.eq(ReportKind::Bulletin))
        .filter(report::Column::Status.eq(ReportStatus::Published))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("bulletin", id))
}

/// Published bulletins, for anyone, the latest published first.
pub async fn published_bulletins(
    db: &impl ConnectionTrait,
    args: &PageArgs,
) -> AppResult<Page<report::Model>> {
    let select = report::Entity::find()
        .filter(report::Column::Kind.eq(ReportKind::Bulletin))
        .filter(report::Column::Status.eq(ReportStatus::Published));
    let order = Order {
        name: "bulletin.published_at",
        exprs: vec![
            Expr::col(report::Column::PublishedAt),
            Expr::col(report::Column::Id),
        ],
        keys: |r: &report::Model| {
            vec![
                Key::T(r.published_at.unwrap_or_default()),
                Key::I(r.id.into()),
            ]
        },
        descending: true,
    };
    page::fetch(db, select, &order, args).await
}

/// The index entries of a page of published bulletins.
pub fn index_entries(
    page: &Page<report::Model>,
) -> AppResult<Vec<crate::report::bulletin::IndexEntry>> {
    page.rows
        .iter()
        .map(|(_, r)| {
            Ok(crate::report::bulletin::IndexEntry::of(
                r.id,
                &snapshot_of(r)?,
            ))
        })
        .collect()
}

#[derive(Debug, Default, Clone)]
pub struct ReportFilter {
    pub inspection_id: Option<i32>,
    pub kind: Option<ReportKind>,
    pub status: Vec<ReportStatus>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &ReportFilter,
    args: &PageArgs,
) -> AppResult<Page<report::Model>> {
    caller.require_identity()?;
    let mut select = visible(caller);
    if let Some(id) = filter.inspection_id {
        select = select.filter(report::Column::InspectionId.eq(id));
    }
    if let Some(kind) = filter.kind {
        select = select.filter(report::Column::Kind.eq(kind));
    }
    if !filter.status.is_empty() {
        select = select.filter(report::Column::Status.is_in(filter.status.iter().copied()));
    }
    let order = Order {
        name: "report.id",
        exprs: vec![Expr::col(report::Column::Id)],
        keys: |r: &report::Model| vec![Key::I(r.id.into())],
        descending: true,
    };
    page::fetch(db, select, &order, args).await
}

/// Where a reporting day stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueState {
    /// A report for the day was submitted by the day.
    Submitted,
    /// Submitted, but after the day.
    Late,
    /// The day has passed with no submitted report.
    Missing,
    /// The day has not come yet.
    Upcoming,
}

pub struct DueDate {
    pub due_on: NaiveDate,
    pub state: DueState,
    pub report: Option<report::Model>,
}

/// The reporting days of an inspection, from feedback to the rectification due date (or, with
/// none set, to the next day after today), each with the state of its report.
pub async fn schedule(
    db: &impl ConnectionTrait,
    caller: &Caller,
    inspection_id: i32,
    today: NaiveDate,
    offset: chrono::FixedOffset,
) -> AppResult<Vec<DueDate>> {
    let inspection = inspections::get(db, caller, inspection_id).await?;
    let from = inspection.feedback_on.unwrap_or(inspection.started_on);
    let to = inspection
        .due_on
        .unwrap_or_else(|| today.checked_add_days(Days::new(16)).unwrap_or(today));
    let reports = visible(caller)
        .filter(report::Column::InspectionId.eq(inspection_id))
        .filter(report::Column::Kind.eq(ReportKind::SemiMonthly))
        .filter(report::Column::Status.ne(ReportStatus::Draft))
        .order_by_asc(report::Column::SubmittedAt)
        .all(db)
        .await?;
    let mut by_day: HashMap<NaiveDate, report::Model> = HashMap::new();
    for r in reports {
        by_day.entry(r.period_end).or_insert(r);
    }
    Ok(due_dates(from, to)
        .into_iter()
        .map(|due_on| {
            let report = by_day.get(&due_on).cloned();
            let submitted_on = report
                .as_ref()
                .and_then(|r| r.submitted_at)
                .map(|t| t.with_timezone(&offset).date_naive());
            let state = match submitted_on {
                Some(day) if day <= due_on => DueState::Submitted,
                Some(_) => DueState::Late,
                None if due_on < today => DueState::Missing,
                None => DueState::Upcoming,
            };
            DueDate {
                due_on,
                state,
                report,
            }
        })
        .collect())
}

/// The ledger of an inspection as it stands, every entry included, for the findings the caller
/// may read: what the ledger export renders (and the import reads back).
pub async fn current_ledger(
    db: &impl ConnectionTrait,
    who: &Acting,
    inspection_id: i32,
) -> AppResult<Snapshot> {
    let inspection = inspections::get(db, &who.caller, inspection_id).await?;
    let today = who.today();
    let period = Period {
        kind: "ledger".to_owned(),
        start: None,
        end: today,
    };
    snapshot(
        db,
        &inspection,
        &who.caller.read_reach(),
        period,
        who.local_now(),
    )
    .await
}

/// What a snapshot covers: its kind's name and the days of ledger entries it shows.
struct Period {
    kind: String,
    start: Option<NaiveDate>,
    end: NaiveDate,
}

/// Builds the snapshot of an inspection's ledger over `period`, of the findings within
/// `reach` (a report is the unit's document: its reach is the unit's whole subtree).
async fn snapshot(
    db: &impl ConnectionTrait,
    inspection: &inspection::Model,
    reach: &Reach,
    period: Period,
    now: DateTime<FixedOffset>,
) -> AppResult<Snapshot> {
    let unit = department::Entity::find_by_id(inspection.unit_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("inspection without its unit"))?;
    let Period {
        kind,
        start: period_start,
        end: period_end,
    } = period;
    // The period's end in the unit's zone; nothing later shows, however late it is generated.
    let moment = as_of::end_of_day(period_end, *now.offset()).min(now.to_utc());
    let findings = scope::findings_within(reach)
        .filter(finding::Column::InspectionId.eq(inspection.id))
        .all(db)
        .await?;
    let mut findings = as_of::rows(db, "finding", findings, |f| f.id, |_| false, moment).await?;
    findings.retain(|f| f.archived_at.is_none());
    findings.sort_by_key(|f| (f.ordinal, f.id));
    let ids: Vec<i32> = findings.iter().map(|f| f.id).collect();
    let imported = as_of::imported_after(db, &ids, moment).await?;
    let measures = measure::Entity::find()
        .filter(measure::Column::FindingId.is_in(ids.clone()))
        .all(db)
        .await?;
    let by_import = |finding_id: i32| imported.contains(&finding_id);
    let mut measures = as_of::rows(
        db,
        "measure",
        measures,
        |m| m.id,
        |m| by_import(m.finding_id),
        moment,
    )
    .await?;
    measures.retain(|m| m.archived_at.is_none());
    measures.sort_by_key(|m| (m.finding_id, m.ordinal, m.id));
    let targets = target::Entity::find()
        .filter(target::Column::FindingId.is_in(ids.clone()))
        .all(db)
        .await?;
    // Which way a target is better is how it is judged now, whatever it said then.
    let directions: HashMap<i32, entity::enums::TargetBetter> =
        targets.iter().map(|t| (t.id, t.better)).collect();
    let mut targets = as_of::rows(
        db,
        "target",
        targets,
        |t| t.id,
        |t| by_import(t.finding_id),
        moment,
    )
    .await?;
    for t in &mut targets {
        t.better = directions.get(&t.id).copied().unwrap_or(t.better);
    }
    targets.retain(|t| t.archived_at.is_none());
    targets.sort_by_key(|t| t.id);
    let links = finding_regulation::Entity::find()
        .filter(finding_regulation::Column::FindingId.is_in(ids.clone()))
        .all(db)
        .await?;
    let regulations: std::collections::BTreeSet<i32> = as_of::links(db, links, moment)
        .await?
        .into_iter()
        .map(|l| l.regulation_id)
        .collect();
    let counts = summary::Counts::of(&findings, &measures, period_end);
    // Orders issued by then, overdue as of the period's end or today if that comes first
    // (a report prepared ahead must not call an order overdue before its deadline).
    let orders = crate::domain::reads::supervision_counts::of_inspection(
        db,
        inspection.id,
        moment,
        period_end.min(now.date_naive()),
    )
    .await?;
    let targets_met = targets
        .iter()
        .filter(|t| {
            crate::domain::records::target::met(t.better, t.required_value, t.current_value)
                == Some(true)
        })
        .count() as i64;
    let relapsed: std::collections::BTreeSet<i32> = entity::relapse::Entity::find()
        .filter(entity::relapse::Column::FindingId.is_in(ids.clone()))
        .filter(entity::relapse::Column::OccurredAt.lt(moment))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.finding_id)
        .collect();
    // Recorded by the period's end; entries the system loaded as history (the demo's
    // bulletin) stand for what had been recorded then.
    let recorded = progress_entry::Entity::find()
        .filter(progress_entry::Column::FindingId.is_in(ids.clone()))
        .filter(progress_entry::Column::EntryDate.lte(period_end))
        .filter(
            sea_orm::Condition::any()
                .add(progress_entry::Column::CreatedAt.lt(moment))
                .add(progress_entry::Column::AuthorRole.eq(crate::audit::SYSTEM_ROLE)),
        );
    // Meetings held on the rectification since feedback (a bulletin's 召开N次会议).
    let mut meetings = recorded
        .clone()
        .filter(progress_entry::Column::Kind.eq(entity::enums::ProgressKind::Meeting));
    if let Some(feedback) = inspection.feedback_on {
        meetings = meetings.filter(progress_entry::Column::EntryDate.gte(feedback));
    }
    // One meeting noted in several findings' ledgers (as a bulk entry does) is one meeting.
    let meetings: std::collections::HashSet<(NaiveDate, String)> = meetings
        .select_only()
        .column(progress_entry::Column::EntryDate)
        .column(progress_entry::Column::Content)
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let meetings = meetings.len() as i64;
    let mut entries = recorded;
    if let Some(start) = period_start {
        entries = entries.filter(progress_entry::Column::EntryDate.gte(start));
    }
    let entries = entries
        .order_by_asc(progress_entry::Column::EntryDate)
        .order_by_asc(progress_entry::Column::Id)
        .all(db)
        .await?;
    let mut evidence: HashMap<i32, Vec<String>> = HashMap::new();
    for e in crate::domain::reads::relations::evidence_of_entries(db, entries.iter().map(|e| e.id))
        .await?
    {
        evidence
            .entry(e.progress_entry_id)
            .or_default()
            .push(e.title);
    }
    let departments: HashMap<i32, String> = department::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let categories = category::Entity::find()
        .filter(category::Column::InspectionId.eq(inspection.id))
        .filter(category::Column::ArchivedAt.is_null())
        .order_by_asc(category::Column::Ordinal)
        .all(db)
        .await?;

    let name = |id: Option<i32>| id.and_then(|id| departments.get(&id).cloned());
    let facts_of = |f: &finding::Model| FindingFacts {
        id: f.id,
        ordinal: f.ordinal,
        title: f.title.clone(),
        description: f.description.clone(),
        rectification_type: f.rectification_type.to_string(),
        status: f.status.to_string(),
        deadline: f.deadline,
        responsible_leader: f.responsible_leader.clone(),
        department: name(Some(f.department_id)).unwrap_or_default(),
        responsible_person: f.responsible_person.clone(),
        closed_at: f.closed_at,
        version: f.version,
        disclosed: f.disclosed,
        measures: measures
            .iter()
            .filter(|m| m.finding_id == f.id)
            .map(|m| MeasureFacts {
                id: Some(m.id),
                version: Some(m.version),
                ordinal: m.ordinal,
                content: m.content.clone(),
                status: m.status.to_string(),
                deadline: m.deadline,
                completed_on: m.completed_on,
                department: name(m.department_id),
            })
            .collect(),
        targets: targets
            .iter()
            .filter(|t| t.finding_id == f.id)
            .map(|t| TargetFacts {
                name: t.name.clone(),
                unit: t.unit.clone(),
                baseline: t.baseline,
                required_value: t.required_value,
                current_value: t.current_value,
                as_of: t.as_of,
                met: crate::domain::records::target::met(
                    t.better,
                    t.required_value,
                    t.current_value,
                ),
            })
            .collect(),
        progress: entries
            .iter()
            .filter(|e| e.finding_id == f.id)
            .map(|e| EntryFacts {
                entry_date: e.entry_date,
                kind: e.kind.to_string(),
                content: e.content.clone(),
                author: e
                    .author_name
                    .clone()
                    .unwrap_or_else(|| e.author_sub.clone()),
                measure_id: e.measure_id,
                evidence: evidence.get(&e.id).cloned().unwrap_or_default(),
            })
            .collect(),
    };
    // A bulletin is public: it counts every finding above but prints only those the unit
    // publishes (a report to the inspection office holds them all).
    let printed: Vec<&finding::Model> = findings
        .iter()
        .filter(|f| kind != "bulletin" || f.disclosed)
        .collect();
    let mut groups: Vec<CategoryFacts> = categories
        .iter()
        .map(|c| CategoryFacts {
            ordinal: Some(c.ordinal),
            title: Some(c.title.clone()),
            findings: printed
                .iter()
                .filter(|f| f.category_id == Some(c.id))
                .map(|f| facts_of(f))
                .collect(),
        })
        .filter(|c| !c.findings.is_empty())
        .collect();
    let known: Vec<i32> = categories.iter().map(|c| c.id).collect();
    let loose: Vec<FindingFacts> = printed
        .iter()
        .filter(|f| f.category_id.is_none_or(|c| !known.contains(&c)))
        .map(|f| facts_of(f))
        .collect();
    if !loose.is_empty() {
        groups.push(CategoryFacts {
            ordinal: None,
            title: None,
            findings: loose,
        });
    }
    let publicity = crate::domain::documents::bulletin::of(inspection);
    let feedback = crate::domain::workflow::public_feedback::counts_of_inspection(
        db,
        inspection.id,
        Some(moment),
    )
    .await?;
    // What the figures stand on where the unit's records come from its own instance.
    let exchanged = crate::domain::reads::exchanged::standings(
        db,
        reach,
        summary::Over::Inspection(inspection.id),
        moment,
    )
    .await?
    .into_iter()
    .map(|s| crate::report::ExchangedFacts {
        sentence: s.sentence(crate::i18n::Language::Chinese, *now.offset(), true),
        unit_code: s.unit.code.clone(),
        unit_name: s.unit.name.clone(),
        peer: s.peer.clone(),
        sequence: s.bundle.map(|b| b.sequence),
        received_at: s.bundle.map(|b| b.received_at.with_timezone(now.offset())),
        age_hours: s.age_hours(),
    })
    .collect();
    Ok(Snapshot {
        exchanged,
        kind,
        inspection: InspectionFacts {
            id: inspection.id,
            title: inspection.title.clone(),
            inspection_group: inspection.inspection_group.clone(),
            unit_code: unit.code,
            unit_name: unit.name,
            started_on: inspection.started_on,
            ended_on: inspection.ended_on,
            feedback_on: inspection.feedback_on,
            due_on: inspection.due_on,
        },
        period_start,
        period_end,
        generated_at: now,
        summary: SummaryFacts {
            total: counts.total,
            not_started: counts.not_started,
            in_progress: counts.in_progress,
            pending_review: counts.pending_review,
            closed: counts.closed,
            overdue: counts.overdue,
            measures_total: counts.measures_total,
            measures_done: counts.measures_done,
            completion_rate: counts.completion_rate(),
            regulations: regulations.len() as i64,
            meetings,
            targets_total: targets.len() as i64,
            targets_met,
            relapsed: relapsed.len() as i64,
            feedback_received: feedback.received,
            feedback_answered: feedback.answered,
            feedback_linked: feedback.linked,
            supervision_issued: orders.issued,
            supervision_overdue: orders.overdue,
            supervision_on_time_rate: orders.on_time_rate(),
        },
        categories: groups,
        publicity,
    })
}

/// Generates and stores a report of `kind` for an inspection whose unit the caller manages.
/// The audit event carries the snapshot's content hash, so that an edited snapshot is found
/// by `rectrack audit verify`.
pub async fn generate(
    db: &impl ConnectionTrait,
    who: &Acting,
    inspection_id: i32,
    kind: ReportKind,
    period_end: NaiveDate,
) -> AppResult<report::Model> {
    who.require(Permission::ManageReports)?;
    let period_end = text::date("periodEnd", period_end)?;
    let inspection = inspections::get(db, &who.caller, inspection_id).await?;
    scope::require_writable(db, &who.caller, inspection.unit_id).await?;
    let today = who.today();
    // A report may be prepared ahead for the coming reporting day (at most half a month on).
    if period_end > today.checked_add_days(Days::new(16)).unwrap_or(today) {
        return Err(AppError::bad_input("periodEnd", t!("report-too-early")));
    }
    if let Some(start) = inspection.feedback_on.filter(|f| period_end < *f) {
        return Err(AppError::bad_input(
            "periodEnd",
            t!("report-before-feedback", feedback = start),
        ));
    }
    let previous = report::Entity::find()
        .filter(report::Column::InspectionId.eq(inspection.id))
        .filter(report::Column::Kind.eq(kind))
        .filter(report::Column::PeriodEnd.lt(period_end))
        .order_by_desc(report::Column::PeriodEnd)
        .one(db)
        .await?;
    let period = Period {
        kind: kind.to_string(),
        start: previous
            .map(|p| p.period_end.succ_opt().unwrap_or(p.period_end))
            .or(inspection.feedback_on),
        end: period_end,
    };
    let unit_reach = scope::subtree_reach(db, inspection.unit_id).await?;
    let snapshot = snapshot(db, &inspection, &unit_reach, period, who.local_now()).await?;
    let snapshot = serde_json::to_value(&snapshot).map_err(AppError::internal)?;
    let digest = snapshot_digest(&snapshot);
    let created = report::ActiveModel {
        inspection_id: Set(inspection.id),
        kind: Set(kind),
        period_end: Set(period_end),
        status: Set(ReportStatus::Draft),
        snapshot: Set(snapshot),
        created_by: Set(who.sub().to_owned()),
        created_at: Set(who.now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "report",
        id: created.id,
        department_id: Some(inspection.unit_id),
    };
    let summary = serde_json::json!({
        "kind": kind,
        "period_end": period_end,
        "inspection_id": inspection.id,
        "snapshot_sha256": digest,
    });
    audited(db, who, "report.generate", record, None, Some(&summary)).await?;
    Ok(created)
}

/// The SHA-256 of a snapshot's canonical JSON (keys sorted), as the audit trail records it.
pub fn snapshot_digest(snapshot: &serde_json::Value) -> String {
    crate::audit::digest(snapshot)
}

/// Moves a report on: a semi-monthly report from draft to submitted (the unit's managers), a
/// bulletin from draft to published.
pub async fn advance(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    to: ReportStatus,
) -> AppResult<report::Model> {
    who.require(Permission::ManageReports)?;
    let current = get(db, &who.caller, id).await?;
    let inspection = inspection::Entity::find_by_id(current.inspection_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("report", id))?;
    let facts = advance_facts(db, who, std::slice::from_ref(&current))
        .await?
        .remove(&id)
        .ok_or_else(|| AppError::not_found("report", id))?;
    decide_advance(who, &current, &facts, to)?;
    let now = who.now();
    let mut update = report::Entity::update_many()
        .col_expr(report::Column::Status, Expr::value(to.as_str()))
        .filter(report::Column::Id.eq(id))
        .filter(report::Column::Status.eq(ReportStatus::Draft));
    update = match to {
        ReportStatus::Submitted => update
            .col_expr(report::Column::SubmittedAt, Expr::value(now))
            .col_expr(
                report::Column::SubmittedBy,
                Expr::value(who.sub().to_owned()),
            ),
        _ => update.col_expr(report::Column::PublishedAt, Expr::value(now)),
    };
    if update.exec(db).await?.rows_affected == 0 {
        return Err(AppError::Conflict(t!("report-changed", id = id)));
    }
    let updated = report::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("report", id))?;
    let action = format!("report.{to}");
    let status = |r: &report::Model| serde_json::json!({"status": r.status, "submitted_at": r.submitted_at, "published_at": r.published_at});
    let record = Record {
        kind: "report",
        id,
        department_id: Some(inspection.unit_id),
    };
    audited(
        db,
        who,
        &action,
        record,
        Some(&status(&current)),
        Some(&status(&updated)),
    )
    .await?;
    Ok(updated)
}

/// What deciding a report's move needs: whether the caller may write its unit, and the report
/// already submitted for the same day, if any.
#[derive(Debug, Clone, Default)]
pub struct AdvanceFacts {
    pub unit_writable: bool,
    pub submitted_already: Option<i32>,
}

/// The facts of each of `reports` (which the caller has read), in two statements.
pub async fn advance_facts(
    db: &impl ConnectionTrait,
    who: &Acting,
    reports: &[report::Model],
) -> AppResult<HashMap<i32, AdvanceFacts>> {
    let found =
        crate::domain::reads::relations::inspections(db, reports.iter().map(|r| r.inspection_id))
            .await?;
    let units =
        crate::domain::reads::relations::departments(db, found.iter().map(|i| i.unit_id)).await?;
    let submitted = report::Entity::find()
        .filter(report::Column::InspectionId.is_in(reports.iter().map(|r| r.inspection_id)))
        .filter(report::Column::Kind.eq(ReportKind::SemiMonthly))
        .filter(report::Column::Status.eq(ReportStatus::Submitted))
        .all(db)
        .await?;
    Ok(reports
        .iter()
        .map(|r| {
            let unit = found
                .iter()
                .find(|i| i.id == r.inspection_id)
                .and_then(|i| units.get(&i.unit_id))
                .map(|d| d.path.as_str());
            let facts = AdvanceFacts {
                unit_writable: scope::writable_path(&who.caller, unit).is_ok(),
                submitted_already: submitted
                    .iter()
                    .find(|s| {
                        s.inspection_id == r.inspection_id
                            && s.period_end == r.period_end
                            && s.id != r.id
                    })
                    .map(|s| s.id),
            };
            (r.id, facts)
        })
        .collect())
}

/// Whether the caller may move `current` to `to`: submit a semi-monthly draft, or publish a
/// bulletin draft. The rule `submitReport`/`publishBulletin` enforce and `viewerCan` reports.
pub fn decide_advance(
    who: &Acting,
    current: &report::Model,
    facts: &AdvanceFacts,
    to: ReportStatus,
) -> AppResult<()> {
    who.require(Permission::ManageReports)?;
    if !facts.unit_writable {
        return Err(scope::outside());
    }
    let expected = match current.kind {
        ReportKind::SemiMonthly => ReportStatus::Submitted,
        ReportKind::Bulletin => ReportStatus::Published,
    };
    if to != expected {
        return Err(AppError::InvalidTransition(match current.kind {
            ReportKind::SemiMonthly => t!("report-is-submitted"),
            ReportKind::Bulletin => t!("bulletin-is-published"),
        }));
    }
    if current.status != ReportStatus::Draft {
        return Err(AppError::InvalidTransition(t!(
            "report-not-draft",
            id = current.id,
            status = current.status
        )));
    }
    if let Some(other) = facts
        .submitted_already
        .filter(|_| to == ReportStatus::Submitted)
    {
        return Err(AppError::Conflict(t!(
            "report-submitted-already",
            other = other,
            day = current.period_end
        )));
    }
    Ok(())
}

/// The document a stored report renders as.
pub fn document<'a>(report: &report::Model, snapshot: &'a Snapshot) -> Document<'a> {
    match report.kind {
        ReportKind::Bulletin => Document::Bulletin(snapshot),
        ReportKind::SemiMonthly => Document::Report(snapshot),
    }
}

/// The stored snapshot of a report.
pub fn snapshot_of(report: &report::Model) -> AppResult<Snapshot> {
    serde_json::from_value(report.snapshot.clone()).map_err(AppError::internal)
}
