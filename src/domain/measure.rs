//! Measures (整改措施): status moves PLANNED → IN_PROGRESS → DONE, and back from DONE only
//! with a reason; each status change is written into the finding's ledger.

use chrono::{NaiveDate, Utc};
use entity::enums::{MeasureStatus, ProgressKind};
use entity::{measure, progress_entry};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::audit::{self, Change};
use crate::auth::{Caller, Permission};
use crate::db;
use crate::domain::{scope, text};
use crate::error::{AppError, AppResult};

#[derive(Default)]
pub struct MeasurePatch {
    pub content: Option<String>,
    pub status: Option<MeasureStatus>,
    /// Required when moving back from DONE.
    pub reason: Option<String>,
    pub completed_on: Option<NaiveDate>,
    pub deadline: Option<Option<NaiveDate>>,
    pub responsible_person: Option<Option<String>>,
}

pub fn snapshot(m: &measure::Model) -> serde_json::Value {
    json!({
        "finding_id": m.finding_id,
        "ordinal": m.ordinal,
        "content": m.content,
        "department_id": m.department_id,
        "responsible_person": m.responsible_person,
        "deadline": m.deadline,
        "status": m.status,
        "completed_on": m.completed_on,
        "version": m.version,
        "archived_at": m.archived_at,
    })
}

/// Whether a measure may move from `from` to `to`, and whether the move needs a reason.
fn check_move(from: MeasureStatus, to: MeasureStatus, reason: Option<&str>) -> AppResult<()> {
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

/// Edits a measure the caller may write, if it is still at `version`.
pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    id: i32,
    version: i32,
    patch: MeasurePatch,
) -> AppResult<measure::Model> {
    caller.require(Permission::UpdateMeasures)?;
    let txn = db::begin_write(db).await?;
    let current = measure::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("measure", id))?;
    // Visible only through its finding.
    let finding = scope::finding(&txn, caller, current.finding_id)
        .await
        .map_err(|_| AppError::not_found("measure", id))?;
    scope::require_writable(
        &txn,
        caller,
        current.department_id.unwrap_or(finding.department_id),
    )
    .await?;

    let now = Utc::now();
    let mut update = measure::Entity::update_many()
        .col_expr(measure::Column::Version, Expr::value(version + 1))
        .col_expr(measure::Column::UpdatedAt, Expr::value(now))
        .filter(measure::Column::Id.eq(id))
        .filter(measure::Column::Version.eq(version));
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
    let status_change = patch.status.filter(|s| *s != current.status);
    if let Some(to) = status_change {
        check_move(current.status, to, patch.reason.as_deref())?;
        let completed_on = (to == MeasureStatus::Done)
            .then(|| patch.completed_on.unwrap_or_else(|| now.date_naive()));
        update = update
            .col_expr(measure::Column::Status, Expr::value(to.as_str()))
            .col_expr(measure::Column::CompletedOn, Expr::value(completed_on));
    }
    if update.exec(&txn).await?.rows_affected == 0 {
        return Err(AppError::Conflict(format!(
            "measure {id} changed since version {version} was read (now version {})",
            current.version
        )));
    }
    let updated = measure::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("measure", id))?;
    let actor = caller.actor(request_id);
    if let Some(to) = status_change {
        let reason = patch
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        progress_entry::ActiveModel {
            finding_id: Set(current.finding_id),
            measure_id: Set(Some(id)),
            entry_date: Set(now.date_naive()),
            kind: Set(ProgressKind::StatusChange),
            content: Set(match reason {
                Some(reason) => format!(
                    "措施{}状态：{} → {}（{reason}）",
                    current.ordinal, current.status, to
                ),
                None => format!("措施{}状态：{} → {}", current.ordinal, current.status, to),
            }),
            author_sub: Set(actor.sub.clone()),
            author_name: Set(caller.identity().and_then(|i| i.name.clone())),
            author_role: Set(Some(actor.role.clone())),
            details: Set(Some(
                json!({"measure_id": id, "from": current.status, "to": to, "reason": reason}),
            )),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        &actor,
        Change {
            action: "measure.update",
            entity_type: "measure",
            entity_id: id.to_string(),
            before: Some(snapshot(&current)),
            after: Some(snapshot(&updated)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
