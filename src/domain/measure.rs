//! Measures (整改措施): status moves PLANNED → IN_PROGRESS → DONE, and back from DONE only
//! with a reason; each status change is written into the finding's ledger.

use chrono::{NaiveDate, Utc};
use entity::enums::{MeasureStatus, ProgressKind};
use entity::{finding, measure, progress_entry};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, Set,
};
use serde_json::json;

use crate::audit::Actor;
use crate::auth::{Caller, Permission};
use crate::db;
use crate::domain::change::{
    Record, Versioned, archive_audited, commit_audited, record_audited, versioned_update,
};
use crate::domain::ordinal::{self, Numbering};
use crate::domain::{department, scope, text, workflow};
use crate::error::{AppError, AppResult};

const COLUMNS: Versioned<measure::Column> = Versioned {
    what: "measure",
    id: measure::Column::Id,
    version: measure::Column::Version,
    updated_at: measure::Column::UpdatedAt,
    archived_at: measure::Column::ArchivedAt,
};

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
            "moving a measure back from DONE needs a reason",
        )),
        (InProgress, Planned) => Err(AppError::bad_input(
            "status",
            "a measure in progress cannot go back to PLANNED",
        )),
        _ => Err(AppError::bad_input(
            "status",
            format!("a measure cannot move from {from} to {to}"),
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

/// Adds a measure to a finding (managers for their subtree, admins).
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    input: NewMeasure,
) -> AppResult<measure::Model> {
    caller.require(Permission::ManageFindings)?;
    let content = text::required("content", &input.content, 5_000)?;
    let responsible = input
        .responsible_person
        .map(|p| text::optional("responsiblePerson", &p, 100))
        .transpose()?
        .flatten();
    let txn = db::begin_write(db).await?;
    let finding = scope::finding(&txn, caller, input.finding_id).await?;
    scope::require_writable(&txn, caller, finding.department_id).await?;
    let department_id = match &input.department_code {
        Some(code) => Some(department::assignable(&txn, caller, "departmentCode", code).await?),
        None => None,
    };
    let numbering = Numbering {
        parent: "finding",
        child: "measure",
        parent_column: measure::Column::FindingId,
        ordinal_column: measure::Column::Ordinal,
    };
    let ordinal =
        ordinal::assign::<measure::Entity>(&txn, numbering, finding.id, input.ordinal).await?;
    let now = Utc::now();
    let created = measure::ActiveModel {
        finding_id: Set(finding.id),
        ordinal: Set(ordinal),
        content: Set(content),
        department_id: Set(department_id),
        responsible_person: Set(responsible),
        deadline: Set(input.deadline),
        status: Set(MeasureStatus::Planned),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    commit_audited(
        txn,
        &caller.actor(request_id),
        "measure.create",
        Record {
            kind: "measure",
            id: created.id,
            department_id: Some(department_id.unwrap_or(finding.department_id)),
        },
        None,
        Some(&created),
    )
    .await?;
    Ok(created)
}

/// Edits a measure the caller may write, if it is still at `version`.
pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    id: i32,
    version: i32,
    patch: MeasurePatch,
) -> AppResult<measure::Model> {
    let txn = db::begin_write(db).await?;
    let updated = update_in(&txn, caller, &caller.actor(request_id), id, version, patch).await?;
    txn.commit().await?;
    Ok(updated)
}

/// [`update`] inside a transaction the caller owns (bulk updates run many in one).
pub async fn update_in(
    txn: &DatabaseTransaction,
    caller: &Caller,
    actor: &Actor,
    id: i32,
    version: i32,
    patch: MeasurePatch,
) -> AppResult<measure::Model> {
    caller.require(Permission::UpdateMeasures)?;
    let (current, finding, governing) = load(txn, caller, id).await?;
    scope::require_writable(txn, caller, governing).await?;

    let now = Utc::now();
    let mut update = measure::Entity::update_many();
    if let Some(content) = &patch.content {
        update = update.col_expr(
            measure::Column::Content,
            Expr::value(text::required("content", content, 5_000)?),
        );
    }
    if let Some(deadline) = patch.deadline {
        update = update.col_expr(measure::Column::Deadline, Expr::value(deadline));
    }
    if let Some(person) = patch.responsible_person {
        let person = person
            .map(|p| text::optional("responsiblePerson", &p, 100))
            .transpose()?
            .flatten();
        update = update.col_expr(measure::Column::ResponsiblePerson, Expr::value(person));
    }
    if let Some(code) = patch.department_code {
        // Reassigning a measure is the manager's, as for findings.
        caller.require(Permission::ManageFindings)?;
        let id = match code {
            Some(code) => Some(department::assignable(txn, caller, "departmentCode", &code).await?),
            None => None,
        };
        update = update.col_expr(measure::Column::DepartmentId, Expr::value(id));
    }
    let status_change = patch.status.filter(|s| *s != current.status);
    if let Some(to) = status_change {
        check_move(current.status, to, patch.reason.as_deref())?;
        let completed_on = (to == MeasureStatus::Done)
            .then(|| patch.completed_on.unwrap_or_else(|| now.date_naive()));
        update = update
            .col_expr(measure::Column::Status, Expr::value(to.as_str()))
            .col_expr(measure::Column::CompletedOn, Expr::value(completed_on));
    }
    let updated = versioned_update(txn, update, COLUMNS, id, version).await?;
    if let Some(to) = status_change {
        let reason = patch
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let content = match reason {
            Some(reason) => format!(
                "措施{}：{} → {}（{reason}）",
                current.ordinal, current.status, to
            ),
            None => format!("措施{}：{} → {}", current.ordinal, current.status, to),
        };
        progress_entry::ActiveModel {
            finding_id: Set(current.finding_id),
            measure_id: Set(Some(id)),
            entry_date: Set(now.date_naive()),
            kind: Set(ProgressKind::StatusChange),
            content: Set(content),
            author_sub: Set(actor.sub.clone()),
            author_name: Set(caller.identity().and_then(|i| i.name.clone())),
            author_role: Set(Some(actor.role.clone())),
            details: Set(Some(
                json!({"measure_id": id, "from": current.status, "to": to, "reason": reason}),
            )),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        workflow::start_on_first_work(txn, &finding, now).await?;
    }
    record_audited(
        txn,
        actor,
        "measure.update",
        Record {
            kind: "measure",
            id,
            department_id: Some(governing),
        },
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

/// Archives a measure (soft delete), keeping its ledger entries.
pub async fn archive(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    id: i32,
    version: i32,
) -> AppResult<measure::Model> {
    caller.require(Permission::ManageFindings)?;
    let txn = db::begin_write(db).await?;
    let (current, _, governing) = load(&txn, caller, id).await?;
    scope::require_writable(&txn, caller, governing).await?;
    archive_audited::<measure::Entity>(
        txn,
        &caller.actor(request_id),
        COLUMNS,
        Record {
            kind: "measure",
            id,
            department_id: Some(governing),
        },
        &current,
        current.archived_at.is_some(),
        version,
    )
    .await
}

/// One measure the caller may read.
pub async fn get(db: &impl ConnectionTrait, caller: &Caller, id: i32) -> AppResult<measure::Model> {
    caller.require_identity()?;
    load(db, caller, id).await.map(|(m, _, _)| m)
}
