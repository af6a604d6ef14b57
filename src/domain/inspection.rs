//! Inspections (巡察): created by the inspection office.

use chrono::{NaiveDate, Utc};
use entity::inspection;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::json;

use crate::audit::{self, Change};
use crate::auth::{Caller, Permission};
use crate::db;
use crate::domain::{department, text};
use crate::error::{AppError, AppResult};

pub struct NewInspection {
    pub title: String,
    pub inspection_group: String,
    pub unit_code: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub feedback_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
}

pub fn snapshot(i: &inspection::Model) -> serde_json::Value {
    json!({
        "title": i.title,
        "inspection_group": i.inspection_group,
        "unit_id": i.unit_id,
        "started_on": i.started_on,
        "ended_on": i.ended_on,
        "feedback_on": i.feedback_on,
        "due_on": i.due_on,
        "version": i.version,
    })
}

/// Checks that the dates are in order: started ≤ ended ≤ feedback ≤ due.
fn check_dates(input: &NewInspection) -> AppResult<()> {
    let order = [
        ("endedOn", input.ended_on),
        ("feedbackOn", input.feedback_on),
        ("dueOn", input.due_on),
    ];
    let mut previous = ("startedOn", input.started_on);
    for (field, date) in order {
        if let Some(date) = date {
            if date < previous.1 {
                return Err(AppError::bad_input(
                    field,
                    format!(
                        "{field} ({date}) may not be before {} ({})",
                        previous.0, previous.1
                    ),
                ));
            }
            previous = (field, date);
        }
    }
    Ok(())
}

pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    input: NewInspection,
) -> AppResult<inspection::Model> {
    caller.require(Permission::ManageInspections)?;
    let title = text::required("title", &input.title, 300)?;
    let group = text::required("inspectionGroup", &input.inspection_group, 200)?;
    check_dates(&input)?;
    let txn = db::begin_write(db).await?;
    let unit = department::find_by_code(&txn, input.unit_code.trim())
        .await?
        .filter(|d| d.archived_at.is_none())
        .ok_or_else(|| {
            AppError::bad_input(
                "unitCode",
                format!("no department with code '{}'", input.unit_code),
            )
        })?;
    let now = Utc::now();
    let created = inspection::ActiveModel {
        title: Set(title),
        inspection_group: Set(group),
        unit_id: Set(unit.id),
        started_on: Set(input.started_on),
        ended_on: Set(input.ended_on),
        feedback_on: Set(input.feedback_on),
        due_on: Set(input.due_on),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &caller.actor(request_id),
        Change {
            action: "inspection.create",
            entity_type: "inspection",
            entity_id: created.id.to_string(),
            before: None,
            after: Some(snapshot(&created)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}
