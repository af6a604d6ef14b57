//! The ledger (一问题一台账): appending progress entries. Entries are never edited or deleted.

use chrono::{NaiveDate, Utc};
use entity::enums::ProgressKind;
use entity::{measure, progress_entry};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use serde_json::json;

use crate::audit::{self, Change};
use crate::auth::{Caller, Permission};
use crate::db;
use crate::domain::{scope, text};
use crate::error::{AppError, AppResult};

pub struct NewEntry {
    pub finding_id: i32,
    pub measure_id: Option<i32>,
    pub entry_date: Option<NaiveDate>,
    pub kind: ProgressKind,
    pub content: String,
}

/// Appends an entry to a finding's ledger, for a caller who may add progress there.
pub async fn add(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    input: NewEntry,
) -> AppResult<progress_entry::Model> {
    caller.require(Permission::AddProgress)?;
    if matches!(
        input.kind,
        ProgressKind::StatusChange | ProgressKind::Correction
    ) {
        return Err(AppError::bad_input(
            "kind",
            "status changes are written by the workflow, and corrections point at an entry",
        ));
    }
    let content = text::required("content", &input.content, 10_000)?;
    let now = Utc::now();
    let entry_date = input.entry_date.unwrap_or_else(|| now.date_naive());
    if entry_date > now.date_naive() + chrono::Days::new(1) {
        return Err(AppError::bad_input(
            "entryDate",
            "a progress entry cannot be dated in the future",
        ));
    }
    let txn = db::begin_write(db).await?;
    let finding = scope::finding(&txn, caller, input.finding_id).await?;
    let department_id = match input.measure_id {
        None => finding.department_id,
        Some(measure_id) => {
            let m = measure::Entity::find_by_id(measure_id)
                .one(&txn)
                .await?
                .filter(|m| m.finding_id == finding.id)
                .ok_or_else(|| {
                    AppError::bad_input(
                        "measureId",
                        format!("finding {} has no measure {measure_id}", finding.id),
                    )
                })?;
            m.department_id.unwrap_or(finding.department_id)
        }
    };
    scope::require_writable(&txn, caller, department_id).await?;
    let actor = caller.actor(request_id);
    let entry = progress_entry::ActiveModel {
        finding_id: Set(finding.id),
        measure_id: Set(input.measure_id),
        entry_date: Set(entry_date),
        kind: Set(input.kind),
        content: Set(content),
        author_sub: Set(actor.sub.clone()),
        author_name: Set(caller.identity().and_then(|i| i.name.clone())),
        author_role: Set(Some(actor.role.clone())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &actor,
        Change {
            action: "progress_entry.create",
            entity_type: "progress_entry",
            entity_id: entry.id.to_string(),
            before: None,
            after: Some(json!({
                "finding_id": entry.finding_id,
                "measure_id": entry.measure_id,
                "entry_date": entry.entry_date,
                "kind": entry.kind,
                "content": entry.content,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(entry)
}

/// One entry by id (no scoping: callers check the finding first).
pub async fn find(db: &DatabaseConnection, id: i32) -> AppResult<Option<progress_entry::Model>> {
    Ok(progress_entry::Entity::find_by_id(id).one(db).await?)
}
