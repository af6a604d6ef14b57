//! The close-out procedure (销号) of a finding:
//!
//! ```text
//! NOT_STARTED ──start / first progress──▶ IN_PROGRESS ──submit──▶ PENDING_REVIEW ──approve──▶ CLOSED
//!                                              ▲                        │                         │
//!                                              └────────return──────────┘                         │
//!                                              └──────────────reopen (after a look-back)──────────┘
//! ```
//!
//! Every move is checked here, written into the finding's ledger as a status change with its
//! actor, time and before/after, and audited, in one transaction. A move raced by another
//! (the status or version changed since it was read) is a `CONFLICT`; a move the procedure
//! does not allow is an `INVALID_TRANSITION` naming the current status and the allowed moves.

use std::collections::HashMap;

use entity::enums::{FindingStatus, MeasureStatus, ProgressKind, RectificationType, RelapseKind};
use entity::{evidence, finding, measure, progress_entry};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::auth::Permission;
use crate::domain::records::change::{Record, audited};
use crate::domain::records::ledger::{self, Note};
use crate::domain::{Acting, reads::scope, records::text, workflow::look_back};
use crate::error::{AppError, AppResult};

pub use super::moves::{MOVES, Move};

/// The moves the procedure allows from `status`, as people name them.
pub fn allowed_from(status: FindingStatus) -> Vec<String> {
    MOVES
        .iter()
        .filter(|m| m.edge().0 == status)
        .map(|m| m.label())
        .collect()
}

fn invalid(current: FindingStatus, attempted: Move) -> AppError {
    let allowed = allowed_from(current);
    let allowed = if allowed.is_empty() {
        t!("none")
    } else {
        allowed.join(t!("list-separator").as_str())
    };
    AppError::InvalidTransition(t!(
        "move-not-allowed",
        attempted = attempted.label(),
        status = crate::i18n::finding_status(current),
        allowed = allowed
    ))
}

/// What a move carries.
#[derive(Default)]
pub struct MoveInput {
    /// The version the caller read; a different current version is a conflict.
    pub version: Option<i32>,
    /// The summary (submit), comment (approve) or reason (return, reopen).
    pub text: Option<String>,
    /// Why no evidence applies to a done measure (submit).
    pub no_evidence_reason: Option<String>,
}

/// Makes `step` on finding `id` for the acting caller.
pub async fn transition(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    step: Move,
    input: MoveInput,
) -> AppResult<finding::Model> {
    who.require(step.permission())?;
    let (from, to) = step.edge();
    let text = input
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| text::required("text", t, 5_000))
        .transpose()?;
    match step {
        Move::Return | Move::Reopen if text.is_none() => {
            return Err(AppError::bad_input("reason", t!("move-needs-reason")));
        }
        Move::Submit if text.is_none() => {
            return Err(AppError::bad_input("summary", t!("submit-needs-summary")));
        }
        _ => {}
    }
    let current = scope::finding(db, &who.caller, id).await?;
    let facts = facts(db, who, std::slice::from_ref(&current))
        .await?
        .remove(&id)
        .ok_or_else(|| AppError::not_found("finding", id))?;
    if let Some(version) = input.version
        && version != current.version
    {
        return Err(AppError::Conflict(t!(
            "finding-stale",
            id = id,
            version = version,
            now = current.version,
            status = crate::i18n::finding_status(current.status)
        )));
    }
    if let Err(err) = decide(who, &facts, step) {
        // A caller who read the current version asks for a move that is not possible from
        // here: a misuse. Without a version, the same move just made by someone else is a race.
        let raced = current.status != from
            && input.version.is_none()
            && last_move_by_other(db, who, id, from, to).await?;
        return Err(if raced {
            AppError::Conflict(t!(
                "move-raced",
                id = id,
                status = crate::i18n::finding_status(to)
            ))
        } else {
            err
        });
    }
    let mut details = json!({"from": from, "to": to, "move": step.name()});
    if step == Move::Submit {
        let reason = text::maybe(
            "noEvidenceReason",
            input.no_evidence_reason.as_deref(),
            5_000,
        )?;
        check_evidence(db, &current, reason.as_deref(), &mut details).await?;
    }
    if let Some(text) = &text {
        details["text"] = json!(text);
    }
    apply(db, who, &current, step, text.as_deref(), details).await
}

/// Moves `current` along `step` (checked by the caller of this function), guarded by its
/// status and version, and writes the move into the ledger and the audit trail.
async fn apply(
    db: &impl ConnectionTrait,
    who: &Acting,
    current: &finding::Model,
    step: Move,
    text: Option<&str>,
    details: serde_json::Value,
) -> AppResult<finding::Model> {
    let (from, to) = step.edge();
    let id = current.id;
    let now = who.now();
    let mut update = finding::Entity::update_many()
        .col_expr(finding::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            finding::Column::Version,
            Expr::col(finding::Column::Version).add(1),
        )
        .col_expr(finding::Column::UpdatedAt, Expr::value(now))
        .filter(finding::Column::Id.eq(id))
        // Guards against a concurrent move on PostgreSQL, where the read above does not lock.
        .filter(finding::Column::Status.eq(from))
        .filter(finding::Column::Version.eq(current.version));
    update = match to {
        FindingStatus::Closed => update.col_expr(finding::Column::ClosedAt, Expr::value(now)),
        _ => update.col_expr(
            finding::Column::ClosedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        ),
    };
    if update.exec(db).await?.rows_affected == 0 {
        return Err(AppError::Conflict(t!("move-interrupted", id = id)));
    }
    let updated = finding::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("finding", id))?;
    let label = match step {
        Move::Start => "开始整改",
        Move::Submit => "申请销号",
        Move::Approve => "审核通过，予以销号",
        Move::Return => "退回整改",
        Move::Reopen => "回头看发现问题反弹，重新整改",
    };
    // A unit's finding kept under its origin: the office's review becomes a decision carried
    // to the unit, whose own close-out command writes the move into the finding's ledger.
    let kept = crate::domain::integration::decisions::record(db, who, current, step, text).await?;
    let record = Record {
        kind: "finding",
        id,
        department_id: Some(updated.department_id),
    };
    if kept {
        let action = format!("finding.{}", step.name());
        audited(db, who, &action, record, Some(current), Some(&updated)).await?;
        return Ok(updated);
    }
    let note = Note {
        finding_id: id,
        measure_id: None,
        entry_date: who.today(),
        kind: ProgressKind::StatusChange,
        content: match text {
            Some(text) => format!("{label}：{text}"),
            None => label.to_owned(),
        },
        details: Some(details),
    };
    let entry = ledger::note(db, who, note).await?;
    if step == Move::Reopen {
        look_back::relapse(db, who, current, RelapseKind::Reopen, Some(entry.id)).await?;
    }
    let action = format!("finding.{}", step.name());
    audited(db, who, &action, record, Some(current), Some(&updated)).await?;
    Ok(updated)
}

/// NOT_STARTED → IN_PROGRESS the first time work on a finding is recorded (a progress entry,
/// or a measure's progress), inside the transaction that records it; other statuses stay.
/// The move is the workflow's own `start`, in the ledger and the audit trail like any other.
pub async fn start_on_first_work(
    db: &impl ConnectionTrait,
    who: &Acting,
    finding: &finding::Model,
) -> AppResult<()> {
    if finding.status == FindingStatus::NotStarted {
        // Read again: the work being recorded may have raised the version already.
        let current = finding::Entity::find_by_id(finding.id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("finding", finding.id))?;
        if current.status == FindingStatus::NotStarted {
            let details = json!({"from": FindingStatus::NotStarted, "to": FindingStatus::InProgress, "move": Move::Start.name(), "first_work": true});
            apply(db, who, &current, Move::Start, None, details).await?;
        }
    }
    Ok(())
}

/// Whether the finding's latest move went from `from` to `to`, made by another caller.
async fn last_move_by_other(
    db: &impl ConnectionTrait,
    who: &Acting,
    finding_id: i32,
    from: FindingStatus,
    to: FindingStatus,
) -> AppResult<bool> {
    let last = progress_entry::Entity::find()
        .filter(progress_entry::Column::FindingId.eq(finding_id))
        .filter(progress_entry::Column::Kind.eq(ProgressKind::StatusChange))
        // Measures' status changes share the kind; theirs name the measure.
        .filter(progress_entry::Column::MeasureId.is_null())
        .order_by_desc(progress_entry::Column::Id)
        .one(db)
        .await?;
    let Some(last) = last else {
        return Ok(false);
    };
    let edge = |key: &str| {
        last.details
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    Ok(last.author_sub != who.sub()
        && edge("from").as_deref() == Some(from.as_str())
        && edge("to").as_deref() == Some(to.as_str()))
}

/// What the workflow's rules need to know of a finding to decide a move, read for many
/// findings at once (the `viewerCan` flags of a page) or for one (a move being made).
#[derive(Debug, Clone)]
pub struct Facts {
    pub status: FindingStatus,
    pub rectification_type: RectificationType,
    pub archived: bool,
    /// Whether the caller may write the finding's department (the write rule of the scope).
    pub writable: bool,
    /// Who submitted the close-out now pending review, if it is.
    pub submitted_by: Option<String>,
    /// The numbers of the measures not done yet (archived ones left out).
    pub open_measures: Vec<i32>,
}

/// The facts of each of `findings` (which the caller has read), in three statements whatever
/// their number: departments, measures, and the ledger's submissions.
pub async fn facts(
    db: &impl ConnectionTrait,
    who: &Acting,
    findings: &[finding::Model],
) -> AppResult<HashMap<i32, Facts>> {
    let ids: Vec<i32> = findings.iter().map(|f| f.id).collect();
    let paths =
        crate::domain::reads::relations::departments(db, findings.iter().map(|f| f.department_id))
            .await?;
    let mut open: HashMap<i32, Vec<i32>> = HashMap::new();
    for m in measure::Entity::find()
        .filter(measure::Column::FindingId.is_in(ids.iter().copied()))
        .filter(measure::Column::ArchivedAt.is_null())
        .filter(measure::Column::Status.ne(MeasureStatus::Done))
        .order_by_asc(measure::Column::Ordinal)
        .all(db)
        .await?
    {
        open.entry(m.finding_id).or_default().push(m.ordinal);
    }
    let pending: Vec<i32> = findings
        .iter()
        .filter(|f| f.status == FindingStatus::PendingReview)
        .map(|f| f.id)
        .collect();
    let mut submitted_by: HashMap<i32, String> = HashMap::new();
    if !pending.is_empty() {
        // The latest move to PENDING_REVIEW of each: the submission now under review.
        for entry in progress_entry::Entity::find()
            .filter(progress_entry::Column::FindingId.is_in(pending))
            .filter(progress_entry::Column::Kind.eq(ProgressKind::StatusChange))
            .filter(progress_entry::Column::MeasureId.is_null())
            .order_by_asc(progress_entry::Column::Id)
            .all(db)
            .await?
        {
            let to = entry
                .details
                .as_ref()
                .and_then(|d| d.get("to"))
                .and_then(|v| v.as_str());
            if to == Some(FindingStatus::PendingReview.as_str()) {
                submitted_by.insert(entry.finding_id, entry.author_sub);
            }
        }
    }
    Ok(findings
        .iter()
        .map(|f| {
            let path = paths.get(&f.department_id).map(|d| d.path.as_str());
            let facts = Facts {
                status: f.status,
                rectification_type: f.rectification_type,
                archived: f.archived_at.is_some(),
                writable: scope::writable_path(&who.caller, path).is_ok(),
                submitted_by: submitted_by.remove(&f.id),
                open_measures: open.remove(&f.id).unwrap_or_default(),
            };
            (f.id, facts)
        })
        .collect())
}

/// Whether the caller may make `step`: the one rule that the move enforces and that
/// `viewerCan` and `allowedTransitions` report. (Evidence for a submission is checked when it
/// is made: a stated reason may stand in for it.)
pub fn decide(who: &Acting, facts: &Facts, step: Move) -> AppResult<()> {
    who.require(step.permission())?;
    // Inspectors review every unit's findings; the others act within their own subtree.
    let needs_reach = !who.can(Permission::ReadAll) || step == Move::Submit || step == Move::Start;
    if needs_reach && !facts.writable {
        return Err(scope::outside());
    }
    if facts.status != step.edge().0 {
        return Err(invalid(facts.status, step));
    }
    match step {
        Move::Submit
            if facts.rectification_type != RectificationType::LongTerm
                && !facts.open_measures.is_empty() =>
        {
            let open: Vec<String> = facts.open_measures.iter().map(i32::to_string).collect();
            Err(AppError::bad_input(
                "findingId",
                t!("submit-measures-open", measures = open.join("、")),
            ))
        }
        Move::Approve if facts.submitted_by.as_deref() == Some(who.sub()) => {
            Err(AppError::Forbidden(t!("approve-own-submission")))
        }
        _ => Ok(()),
    }
}

/// The moves the caller may make now.
pub fn allowed_moves(who: &Acting, facts: &Facts) -> Vec<Move> {
    MOVES
        .into_iter()
        .filter(|m| decide(who, facts, *m).is_ok())
        .collect()
}

/// Whether the caller may record a look-back re-check.
pub fn decide_recheck(who: &Acting, facts: &Facts, id: i32) -> AppResult<()> {
    look_back::require_rechecker(who)?;
    if !who.can(Permission::ReadAll) && !facts.writable {
        return Err(scope::outside());
    }
    look_back::require_closed(facts.status, id)
}

/// Each done measure needs evidence in the ledger unless the submitter says why none applies
/// (kept in the ledger).
async fn check_evidence(
    db: &impl ConnectionTrait,
    finding: &finding::Model,
    no_evidence_reason: Option<&str>,
    details: &mut serde_json::Value,
) -> AppResult<()> {
    let measures = measure::Entity::find()
        .filter(measure::Column::FindingId.eq(finding.id))
        .filter(measure::Column::ArchivedAt.is_null())
        .filter(measure::Column::Status.eq(MeasureStatus::Done))
        .order_by_asc(measure::Column::Ordinal)
        .all(db)
        .await?;
    let mut without_evidence = Vec::new();
    for m in &measures {
        let entries_with_evidence = Query::select()
            .column(evidence::Column::ProgressEntryId)
            .from(evidence::Entity)
            .to_owned();
        let proven = progress_entry::Entity::find()
            .filter(progress_entry::Column::MeasureId.eq(m.id))
            .filter(progress_entry::Column::Id.in_subquery(entries_with_evidence))
            .count(db)
            .await?;
        if proven == 0 {
            without_evidence.push(m.ordinal.to_string());
        }
    }
    let reason = no_evidence_reason.map(str::trim).filter(|r| !r.is_empty());
    match (without_evidence.is_empty(), reason) {
        (true, _) => Ok(()),
        (false, Some(reason)) => {
            details["no_evidence_reason"] = json!(reason);
            details["measures_without_evidence"] = json!(without_evidence);
            Ok(())
        }
        (false, None) => Err(AppError::bad_input(
            "noEvidenceReason",
            t!(
                "submit-needs-evidence",
                measures = without_evidence.join("、")
            ),
        )),
    }
}

/// Records a look-back re-check (回头看) of a closed finding, passed or not, in its ledger, and
/// marks its scheduled re-check done. A failed re-check is a relapse; it does not reopen the
/// finding by itself: `reopenFinding` does, with a reason.
pub async fn record_recheck(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    passed: bool,
    note_text: &str,
) -> AppResult<progress_entry::Model> {
    look_back::require_rechecker(who)?;
    let note_text = text::required("note", note_text, 5_000)?;
    let current = scope::finding(db, &who.caller, id).await?;
    let facts = facts(db, who, std::slice::from_ref(&current))
        .await?
        .remove(&id)
        .ok_or_else(|| AppError::not_found("finding", id))?;
    decide_recheck(who, &facts, id)?;
    let entry = ledger::note(
        db,
        who,
        Note {
            finding_id: id,
            measure_id: None,
            entry_date: who.today(),
            kind: ProgressKind::Recheck,
            content: format!(
                "回头看{}：{note_text}",
                if passed { "通过" } else { "未通过" }
            ),
            details: Some(json!({"passed": passed, "status": current.status})),
        },
    )
    .await?;
    let record = Record {
        kind: "progress_entry",
        id: entry.id,
        department_id: Some(current.department_id),
    };
    audited(db, who, "finding.recheck", record, None, Some(&entry)).await?;
    look_back::complete(db, who, &current, passed, entry.id).await?;
    if !passed {
        look_back::relapse(
            db,
            who,
            &current,
            RelapseKind::FailedRecheck,
            Some(entry.id),
        )
        .await?;
    }
    Ok(entry)
}
