//! Measures (整改措施): status moves PLANNED → IN_PROGRESS → DONE, and back from DONE only
//! with a reason; each status change is written into the finding's ledger.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{MeasureStatus, ProgressKind};
use entity::{finding, measure};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;

use crate::auth::{Caller, Permission};
use crate::domain::records::change::{self, Kind, Record, Versioned, audited, versioned_update};
use crate::domain::records::ledger::{self, Note};
use crate::domain::records::ordinal::{self, Numbering};
use crate::domain::{
    Acting, reads::scope, records::department, records::text, workflow::close_out,
};
use crate::error::{AppError, AppResult};

pub struct NewMeasure {
    pub finding_id: i32,
    pub ordinal: Option<i32>,
    pub content: String,
    pub department_code: Option<String>,
    pub responsible_person: Option<String>,
    pub deadline: Option<NaiveDate>,
}

#[derive(Default)]
pub struct MeasurePatch {
    pub content: Option<String>,
    pub status: Option<MeasureStatus>,
    /// Required when moving back from DONE.
    pub reason: Option<String>,
    pub completed_on: Option<NaiveDate>,
    pub deadline: Option<Option<NaiveDate>>,
    pub responsible_person: Option<Option<String>>,
    pub department_code: Option<Option<String>>,
}

/// Whether a measure may move from `from` to `to`.
pub(crate) fn check_move(
    from: MeasureStatus,
    to: MeasureStatus,
    reason: Option<&str>,
) -> AppResult<()> {
    use MeasureStatus::*;
    match (from, to) {
        (a, b) if a == b => Ok(()),
        (Planned, InProgress) | (InProgress, Done) | (Planned, Done) => Ok(()),
        (Done, _) if reason.is_some_and(|r| !r.trim().is_empty()) => Ok(()),
        (Done, _) => Err(AppError::bad_input(
            "reason",
            t!("measure-back-needs-reason"),
        )),
        (InProgress, Planned) => Err(AppError::bad_input(
            "status",
            t!("measure-not-back-to-planned"),
        )),
        _ => Err(AppError::bad_input(
            "status",
            t!(
                "measure-move",
                from = crate::i18n::measure_status(from),
                to = crate::i18n::measure_status(to)
            ),
        )),
    }
}

/// A measure with the finding it belongs to, both within the caller's reach, and the
/// department whose write permission governs it (its own, or else the finding's).
async fn load(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<(measure::Model, finding::Model, i32)> {
    let current = measure::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("measure", id))?;
    let finding = scope::finding(db, caller, current.finding_id)
        .await
        .map_err(|err| match err {
            AppError::NotFound(_) => AppError::not_found("measure", id),
            other => other,
        })?;
    let governing = current.department_id.unwrap_or(finding.department_id);
    Ok((current, finding, governing))
}

impl Kind for measure::Entity {
    const NAME: &'static str = "measure";
    const COLUMNS: Versioned<measure::Column> = Versioned {
        id: measure::Column::Id,
        version: measure::Column::Version,
        updated_at: measure::Column::UpdatedAt,
        archived_at: measure::Column::ArchivedAt,
    };
    const MANAGE: Permission = Permission::ManageFindings;

    async fn readable(
        db: &impl ConnectionTrait,
        who: &Acting,
        id: i32,
    ) -> AppResult<measure::Model> {
        load(db, &who.caller, id).await.map(|(m, _, _)| m)
    }

    /// A measure's own department, or else its finding's.
    async fn governing(
        db: &impl ConnectionTrait,
        models: &[measure::Model],
    ) -> AppResult<Vec<Option<i32>>> {
        let findings = crate::domain::reads::relations::findings(
            db,
            models
                .iter()
                .filter(|m| m.department_id.is_none())
                .map(|m| m.finding_id),
        )
        .await?;
        Ok(models
            .iter()
            .map(|m| {
                m.department_id.or_else(|| {
                    findings
                        .iter()
                        .find(|f| f.id == m.finding_id)
                        .map(|f| f.department_id)
                })
            })
            .collect())
    }

    fn archived(model: &measure::Model) -> bool {
        model.archived_at.is_some()
    }
}

/// What is to be done (整改措施).
pub fn content(value: &str) -> AppResult<String> {
    text::required("content", value, 5_000)
}

/// A measure's responsible person (责任人).
pub fn person(value: Option<&str>) -> AppResult<Option<String>> {
    text::maybe("responsiblePerson", value, 100)
}

/// A measure's deadline.
pub fn deadline(value: Option<NaiveDate>) -> AppResult<Option<NaiveDate>> {
    text::maybe_date("deadline", value)
}

/// What every new measure starts as, whichever road creates it: version 1, created and
/// updated `now`, PLANNED, not completed, not archived. Callers set its own fields over it.
pub fn new_row(now: DateTime<Utc>) -> measure::ActiveModel {
    measure::ActiveModel {
        status: Set(MeasureStatus::Planned),
        completed_on: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        ..Default::default()
    }
}

/// Adds a measure to a finding (managers for their subtree, admins).
pub async fn create(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewMeasure,
) -> AppResult<measure::Model> {
    insert(db, who, input, MeasureStatus::Planned, None).await
}

/// Adds a measure as a published document records it (the demo's bulletin), with the status
/// it had there and the day it was completed (today when a done one has none), admins only:
/// the status is one a new measure could reach by its procedure, and, as for
/// [`crate::domain::records::finding::create_recorded`], no status change is written into the ledger,
/// whose entries are the document's.
pub async fn create_recorded(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewMeasure,
    status: MeasureStatus,
    completed_on: Option<NaiveDate>,
) -> AppResult<measure::Model> {
    who.require(Permission::ImportHistory)?;
    check_move(MeasureStatus::Planned, status, None)?;
    let completed_on = match status {
        MeasureStatus::Done => {
            Some(text::maybe_date("completedOn", completed_on)?.unwrap_or_else(|| who.today()))
        }
        _ => None,
    };
    insert(db, who, input, status, completed_on).await
}

async fn insert(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewMeasure,
    status: MeasureStatus,
    completed_on: Option<NaiveDate>,
) -> AppResult<measure::Model> {
    who.require(Permission::ManageFindings)?;
    let content = content(&input.content)?;
    let responsible = person(input.responsible_person.as_deref())?;
    let deadline = deadline(input.deadline)?;
    let (finding, _) = change::writable::<finding::Entity>(db, who, input.finding_id).await?;
    crate::domain::records::inspection::check_deadline_of(
        db,
        finding.inspection_id,
        "deadline",
        deadline,
    )
    .await?;
    let department_id = match &input.department_code {
        Some(code) => Some(department::assignable(db, &who.caller, "departmentCode", code).await?),
        None => None,
    };
    let numbering = Numbering {
        parent: "finding",
        child: "measure",
        parent_column: measure::Column::FindingId,
        ordinal_column: measure::Column::Ordinal,
    };
    let ordinal =
        ordinal::assign::<measure::Entity>(db, numbering, finding.id, input.ordinal).await?;
    let created = measure::ActiveModel {
        finding_id: Set(finding.id),
        ordinal: Set(ordinal),
        content: Set(content),
        department_id: Set(department_id),
        responsible_person: Set(responsible),
        deadline: Set(deadline),
        status: Set(status),
        completed_on: Set(completed_on),
        ..new_row(who.now())
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "measure",
        id: created.id,
        department_id: Some(department_id.unwrap_or(finding.department_id)),
    };
    audited(db, who, "measure.create", record, None, Some(&created)).await?;
    Ok(created)
}

/// Edits a measure the caller may write, if it is still at `version`. A status change is
/// checked against the measure's procedure, written into the finding's ledger, and starts a
/// finding that had not started.
pub async fn update(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
    patch: MeasurePatch,
) -> AppResult<measure::Model> {
    who.require(Permission::UpdateMeasures)?;
    let (current, finding, governing) = load(db, &who.caller, id).await?;
    scope::require_writable(db, &who.caller, governing).await?;
    crate::domain::integration::origin::require_own(db, "measure", id).await?;
    // The reason goes into the ledger: the one text rule applies.
    let patch = MeasurePatch {
        reason: text::maybe("reason", patch.reason.as_deref(), 5_000)?,
        ..patch
    };

    let mut update = measure::Entity::update_many();
    if let Some(value) = &patch.content {
        update = update.col_expr(measure::Column::Content, Expr::value(content(value)?));
    }
    if let Some(value) = patch.deadline {
        let value = deadline(value)?;
        crate::domain::records::inspection::check_deadline_of(
            db,
            finding.inspection_id,
            "deadline",
            value,
        )
        .await?;
        update = update.col_expr(measure::Column::Deadline, Expr::value(value));
    }
    if let Some(value) = patch.responsible_person {
        let value = person(value.as_deref())?;
        update = update.col_expr(measure::Column::ResponsiblePerson, Expr::value(value));
    }
    if let Some(code) = patch.department_code {
        // Reassigning a measure is the manager's, as for findings.
        who.require(Permission::ManageFindings)?;
        let id = match code {
            Some(code) => {
                Some(department::assignable(db, &who.caller, "departmentCode", &code).await?)
            }
            None => None,
        };
        update = update.col_expr(measure::Column::DepartmentId, Expr::value(id));
    }
    let status_change = patch.status.filter(|s| *s != current.status);
    if let Some(to) = status_change {
        check_move(current.status, to, patch.reason.as_deref())?;
        let completed_on = match to {
            MeasureStatus::Done => Some(
                text::maybe_date("completedOn", patch.completed_on)?.unwrap_or_else(|| who.today()),
            ),
            _ => None,
        };
        update = update
            .col_expr(measure::Column::Status, Expr::value(to.as_str()))
            .col_expr(measure::Column::CompletedOn, Expr::value(completed_on));
    } else if let Some(on) = patch.completed_on
        && current.status == MeasureStatus::Done
    {
        update = update.col_expr(
            measure::Column::CompletedOn,
            Expr::value(text::date("completedOn", on)?),
        );
    }
    let updated = versioned_update::<measure::Entity>(db, update, id, version).await?;
    if let Some(to) = status_change {
        let reason = patch
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        // A ledger text: written in the domain's Chinese terms whatever the caller reads.
        let (from, to_term) = (
            crate::report::measure_status_zh(current.status.as_str()),
            crate::report::measure_status_zh(to.as_str()),
        );
        let content = match reason {
            Some(reason) => format!("措施{}：{from} → {to_term}（{reason}）", current.ordinal),
            None => format!("措施{}：{from} → {to_term}", current.ordinal),
        };
        let note = Note {
            finding_id: current.finding_id,
            measure_id: Some(id),
            entry_date: who.today(),
            kind: ProgressKind::StatusChange,
            content,
            details: Some(
                json!({"measure_id": id, "from": current.status, "to": to, "reason": reason}),
            ),
        };
        ledger::note(db, who, note).await?;
        close_out::start_on_first_work(db, who, &finding).await?;
    }
    let record = Record {
        kind: "measure",
        id,
        department_id: Some(governing),
    };
    audited(
        db,
        who,
        "measure.update",
        record,
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

/// Something worth telling about a record that is not wrong enough to refuse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// A stable code for machines.
    pub code: &'static str,
    pub message: String,
}

pub const DUE_AFTER_FINDING: &str = "MEASURE_DUE_AFTER_FINDING";

/// What a measure's dates say against its finding's: a measure due after the finding's own
/// deadline cannot be finished in time for it.
pub fn notices(
    measure_deadline: Option<NaiveDate>,
    finding_deadline: Option<NaiveDate>,
) -> Vec<Notice> {
    match (measure_deadline, finding_deadline) {
        (Some(m), Some(f)) if m > f => vec![Notice {
            code: DUE_AFTER_FINDING,
            message: t!("measure-due-after-finding", measure = m, finding = f),
        }],
        _ => Vec::new(),
    }
}

/// One measure the caller may read.
pub async fn get(db: &impl ConnectionTrait, caller: &Caller, id: i32) -> AppResult<measure::Model> {
    caller.require_identity()?;
    load(db, caller, id).await.map(|(m, _, _)| m)
}
