//! The look-back (回头看) that remembers: relapses of closed findings and the re-check schedule.
//!
//! A relapse (问题反弹) is a closed finding found back: a failed re-check, or a reopen. One
//! closing relapses at most once: the reopen that follows a failed re-check is the same relapse.
//! Re-checks are of closed findings only; a schedule says which are due by when and by whom,
//! and recording a re-check marks the scheduled one done.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::enums::{FindingStatus, RelapseKind};
use entity::{finding, recheck, relapse};
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::auth::{Caller, Permission};
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::records::change::{Record, audited};
use crate::domain::{Acting, reads::scope, records::inspection as inspections, records::text};
use crate::error::{AppError, AppResult};

/// Who may record and schedule re-checks: the inspection office, and the unit's managers
/// within their subtree (the rule `recordRecheck` and `scheduleRechecks` share).
pub fn require_rechecker(who: &Acting) -> AppResult<()> {
    if !(who.can(Permission::ReviewCloseOut) || who.can(Permission::SubmitCloseOut)) {
        who.require(Permission::ReviewCloseOut)?;
    }
    Ok(())
}

/// A re-check is of a closed finding: there is nothing to look back on before it is closed.
pub fn require_closed(status: FindingStatus, id: i32) -> AppResult<()> {
    if status == FindingStatus::Closed {
        Ok(())
    } else {
        Err(AppError::InvalidTransition(t!(
            "recheck-not-closed",
            id = id,
            status = crate::i18n::finding_status(status)
        )))
    }
}

/// Writes the relapse of `finding` (as it stood before the move that found it), unless its
/// current closing already relapsed. Runs inside the caller's transaction.
pub async fn relapse(
    db: &impl ConnectionTrait,
    who: &Acting,
    finding: &finding::Model,
    kind: RelapseKind,
    entry_id: Option<i32>,
) -> AppResult<Option<relapse::Model>> {
    let mut counted = relapse::Entity::find().filter(relapse::Column::FindingId.eq(finding.id));
    if let Some(closed_at) = finding.closed_at {
        counted = counted.filter(relapse::Column::OccurredAt.gte(closed_at));
    }
    if counted.one(db).await?.is_some() {
        return Ok(None);
    }
    let created = relapse::ActiveModel {
        finding_id: Set(finding.id),
        kind: Set(kind),
        occurred_on: Set(who.today()),
        occurred_at: Set(who.now()),
        progress_entry_id: Set(entry_id),
        actor_sub: Set(who.sub().to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "relapse",
        id: created.id,
        department_id: Some(finding.department_id),
    };
    audited(db, who, "finding.relapse", record, None, Some(&created)).await?;
    Ok(Some(created))
}

/// Marks the open scheduled re-checks of a finding done by the re-check just recorded, each
/// audited.
pub async fn complete(
    db: &impl ConnectionTrait,
    who: &Acting,
    finding: &finding::Model,
    passed: bool,
    entry_id: i32,
) -> AppResult<()> {
    let open = recheck::Entity::find()
        .filter(recheck::Column::FindingId.eq(finding.id))
        .filter(recheck::Column::DoneAt.is_null())
        .all(db)
        .await?;
    for before in open {
        let mut row: recheck::ActiveModel = before.clone().into();
        row.done_at = Set(Some(who.now()));
        row.passed = Set(Some(passed));
        row.progress_entry_id = Set(Some(entry_id));
        let after = row.update(db).await?;
        let record = Record {
            kind: "recheck",
            id: after.id,
            department_id: Some(finding.department_id),
        };
        audited(
            db,
            who,
            "recheck.complete",
            record,
            Some(&before),
            Some(&after),
        )
        .await?;
    }
    Ok(())
}

/// What the look-back knows of a finding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LookBack {
    pub relapses: i64,
    pub last_relapsed_on: Option<NaiveDate>,
    /// The scheduled re-check not done yet, the earliest due first.
    pub next_recheck: Option<recheck::Model>,
}

/// The look-back of each of `findings` (which the caller has read), in two statements.
pub async fn of_findings(
    db: &impl ConnectionTrait,
    findings: &[i32],
) -> AppResult<HashMap<i32, LookBack>> {
    let ids = crate::domain::reads::page::padded(findings.iter().copied());
    let mut out: HashMap<i32, LookBack> = findings
        .iter()
        .map(|id| (*id, LookBack::default()))
        .collect();
    for r in relapse::Entity::find()
        .filter(relapse::Column::FindingId.is_in(ids.clone()))
        .all(db)
        .await?
    {
        let entry = out.entry(r.finding_id).or_default();
        entry.relapses += 1;
        entry.last_relapsed_on = entry.last_relapsed_on.max(Some(r.occurred_on));
    }
    for r in recheck::Entity::find()
        .filter(recheck::Column::FindingId.is_in(ids))
        .filter(recheck::Column::DoneAt.is_null())
        .order_by_desc(recheck::Column::DueOn)
        .order_by_desc(recheck::Column::Id)
        .all(db)
        .await?
    {
        // Descending, so the earliest due is written last.
        let finding_id = r.finding_id;
        out.entry(finding_id).or_default().next_recheck = Some(r);
    }
    Ok(out)
}

/// The ids of findings that ever relapsed (a subquery for the `relapsed` filter).
pub fn relapsed_findings() -> SelectStatement {
    Query::select()
        .column(relapse::Column::FindingId)
        .from(relapse::Entity)
        .to_owned()
}

/// The ids of findings with a scheduled re-check due on or before `today` and not done (a
/// subquery for the `recheckDue` filter).
pub fn due_findings(today: NaiveDate) -> SelectStatement {
    Query::select()
        .column(recheck::Column::FindingId)
        .from(recheck::Entity)
        .and_where(recheck::Column::DoneAt.is_null())
        .and_where(recheck::Column::DueOn.lte(today))
        .to_owned()
}

/// What scheduling re-checks asks for.
pub struct NewRechecks {
    pub inspection_id: i32,
    /// These findings (each must be closed); none given: every closed finding of the
    /// inspection within the caller's write reach that has no re-check scheduled yet.
    pub finding_ids: Vec<i32>,
    pub due_on: NaiveDate,
    pub assignee: String,
}

/// Schedules re-checks; returns those created, by finding number.
pub async fn schedule(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewRechecks,
) -> AppResult<Vec<recheck::Model>> {
    require_rechecker(who)?;
    let due_on = text::date("dueOn", input.due_on)?;
    if due_on < who.today() {
        return Err(AppError::bad_input("dueOn", t!("recheck-due-past")));
    }
    let assignee = text::required("assignee", &input.assignee, 200)?;
    let inspection = inspections::get(db, &who.caller, input.inspection_id).await?;
    let named = !input.finding_ids.is_empty();
    let mut select = scope::findings(&who.caller)
        .filter(finding::Column::InspectionId.eq(inspection.id))
        .filter(finding::Column::ArchivedAt.is_null());
    select = if named {
        select.filter(finding::Column::Id.is_in(input.finding_ids.iter().copied()))
    } else {
        select.filter(finding::Column::Status.eq(FindingStatus::Closed))
    };
    let found = select
        .order_by_asc(finding::Column::Ordinal)
        .all(db)
        .await?;
    if let Some(missing) = input
        .finding_ids
        .iter()
        .find(|id| !found.iter().any(|f| f.id == **id))
    {
        return Err(AppError::not_found("finding", *missing));
    }
    let open: Vec<i32> = recheck::Entity::find()
        .filter(recheck::Column::FindingId.is_in(found.iter().map(|f| f.id)))
        .filter(recheck::Column::DoneAt.is_null())
        .select_only()
        .column(recheck::Column::FindingId)
        .into_tuple()
        .all(db)
        .await?;
    let writable =
        crate::domain::records::change::within_reach::<finding::Entity>(db, who, &found).await?;
    let mut created = Vec::new();
    for (f, writable) in found.iter().zip(writable) {
        if named {
            require_closed(f.status, f.id)?;
            if open.contains(&f.id) {
                return Err(AppError::Conflict(t!("recheck-scheduled", id = f.id)));
            }
            if !writable && !who.can(Permission::ReadAll) {
                return Err(scope::outside());
            }
        } else if open.contains(&f.id) || (!writable && !who.can(Permission::ReadAll)) {
            continue;
        }
        let row = recheck::ActiveModel {
            inspection_id: Set(inspection.id),
            finding_id: Set(f.id),
            due_on: Set(due_on),
            assignee: Set(assignee.clone()),
            scheduled_by: Set(who.sub().to_owned()),
            created_at: Set(who.now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let record = Record {
            kind: "recheck",
            id: row.id,
            department_id: Some(f.department_id),
        };
        audited(db, who, "recheck.schedule", record, None, Some(&row)).await?;
        created.push(row);
    }
    Ok(created)
}

/// Which scheduled re-checks to list.
#[derive(Debug, Default, Clone, Copy)]
pub struct RecheckFilter {
    /// Only those not done (true) or only those done (false).
    pub open: Option<bool>,
    /// Only those due on or before this day.
    pub due_by: Option<NaiveDate>,
}

/// The re-check schedule of an inspection, of findings the caller may read, by due date.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    inspection_id: i32,
    filter: RecheckFilter,
    args: &PageArgs,
) -> AppResult<Page<recheck::Model>> {
    inspections::get(db, caller, inspection_id).await?;
    let mut select = recheck::Entity::find()
        .filter(recheck::Column::InspectionId.eq(inspection_id))
        .filter(scope::readable_finding(recheck::Column::FindingId, caller));
    match filter.open {
        Some(true) => select = select.filter(recheck::Column::DoneAt.is_null()),
        Some(false) => select = select.filter(recheck::Column::DoneAt.is_not_null()),
        None => {}
    }
    if let Some(day) = filter.due_by {
        select = select.filter(recheck::Column::DueOn.lte(day));
    }
    let order = Order {
        name: "recheck.due_on",
        exprs: vec![
            Expr::col(recheck::Column::DueOn),
            Expr::col(recheck::Column::Id),
        ],
        keys: |r: &recheck::Model| vec![Key::D(r.due_on), Key::I(r.id.into())],
        descending: false,
    };
    page::fetch(db, select, &order, args).await
}
