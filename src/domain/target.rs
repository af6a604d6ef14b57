//! Measurable targets of a finding (e.g. 12% of departments against a required 25%). A change
//! of the current value is written into the finding's ledger.

use chrono::{NaiveDate, Utc};
use entity::enums::ProgressKind;
use entity::{progress_entry, target};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use serde_json::json;

use crate::auth::{Caller, Permission};
use crate::db;
use crate::domain::change::{Record, Versioned, archive_audited, commit_audited, versioned_update};
use crate::domain::{scope, text};
use crate::error::{AppError, AppResult};

const COLUMNS: Versioned<target::Column> = Versioned {
    what: "target",
    id: target::Column::Id,
    version: target::Column::Version,
    updated_at: target::Column::UpdatedAt,
    archived_at: target::Column::ArchivedAt,
};

pub struct NewTarget {
    pub finding_id: i32,
    pub name: String,
    pub unit: String,
    pub baseline: Option<f64>,
    pub required_value: Option<f64>,
    pub current_value: Option<f64>,
    pub as_of: Option<NaiveDate>,
}

#[derive(Default)]
pub struct TargetPatch {
    pub name: Option<String>,
    pub unit: Option<String>,
    pub baseline: Option<Option<f64>>,
    pub required_value: Option<Option<f64>>,
    pub current_value: Option<Option<f64>>,
    pub as_of: Option<Option<NaiveDate>>,
}

fn finite(field: &str, value: Option<f64>) -> AppResult<Option<f64>> {
    match value {
        Some(v) if !v.is_finite() => Err(AppError::bad_input(
            field,
            format!("{field} must be a finite number"),
        )),
        other => Ok(other),
    }
}

async fn load(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<(target::Model, i32)> {
    let current = target::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("target", id))?;
    let finding = scope::finding(db, caller, current.finding_id)
        .await
        .map_err(|_| AppError::not_found("target", id))?;
    Ok((current, finding.department_id))
}

pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    input: NewTarget,
) -> AppResult<target::Model> {
    caller.require(Permission::ManageFindings)?;
    let name = text::required("name", &input.name, 300)?;
    let unit = text::optional("unit", &input.unit, 20)?.unwrap_or_default();
    let txn = db::begin_write(db).await?;
    let finding = scope::finding(&txn, caller, input.finding_id).await?;
    scope::require_writable(&txn, caller, finding.department_id).await?;
    let now = Utc::now();
    let created = target::ActiveModel {
        finding_id: Set(finding.id),
        name: Set(name),
        unit: Set(unit),
        baseline: Set(finite("baseline", input.baseline)?),
        required_value: Set(finite("requiredValue", input.required_value)?),
        current_value: Set(finite("currentValue", input.current_value)?),
        as_of: Set(input.as_of),
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
        "target.create",
        Record {
            kind: "target",
            id: created.id,
            department_id: Some(finding.department_id),
        },
        None,
        Some(&created),
    )
    .await?;
    Ok(created)
}

pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    id: i32,
    version: i32,
    patch: TargetPatch,
) -> AppResult<target::Model> {
    caller.require(Permission::ManageFindings)?;
    let txn = db::begin_write(db).await?;
    let (current, department_id) = load(&txn, caller, id).await?;
    scope::require_writable(&txn, caller, department_id).await?;
    let mut update = target::Entity::update_many();
    if let Some(name) = &patch.name {
        update = update.col_expr(
            target::Column::Name,
            Expr::value(text::required("name", name, 300)?),
        );
    }
    if let Some(unit) = &patch.unit {
        update = update.col_expr(
            target::Column::Unit,
            Expr::value(text::optional("unit", unit, 20)?.unwrap_or_default()),
        );
    }
    if let Some(v) = patch.baseline {
        update = update.col_expr(
            target::Column::Baseline,
            Expr::value(finite("baseline", v)?),
        );
    }
    if let Some(v) = patch.required_value {
        update = update.col_expr(
            target::Column::RequiredValue,
            Expr::value(finite("requiredValue", v)?),
        );
    }
    if let Some(v) = patch.current_value {
        update = update.col_expr(
            target::Column::CurrentValue,
            Expr::value(finite("currentValue", v)?),
        );
    }
    let now = Utc::now();
    let as_of = match (patch.as_of, patch.current_value) {
        (Some(as_of), _) => Some(as_of),
        // A new current value without a date is as of today.
        (None, Some(_)) => Some(Some(now.date_naive())),
        (None, None) => None,
    };
    if let Some(as_of) = as_of {
        update = update.col_expr(target::Column::AsOf, Expr::value(as_of));
    }
    let updated = versioned_update(&txn, update, COLUMNS, id, version).await?;
    let actor = caller.actor(request_id);
    if updated.current_value != current.current_value {
        let show = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v}{}", updated.unit));
        progress_entry::ActiveModel {
            finding_id: Set(updated.finding_id),
            entry_date: Set(updated.as_of.unwrap_or_else(|| now.date_naive())),
            kind: Set(ProgressKind::Progress),
            content: Set(format!(
                "目标“{}”当前值：{} → {}",
                updated.name,
                show(current.current_value),
                show(updated.current_value)
            )),
            author_sub: Set(actor.sub.clone()),
            author_name: Set(caller.identity().and_then(|i| i.name.clone())),
            author_role: Set(Some(actor.role.clone())),
            details: Set(Some(json!({"target_id": id, "from": current.current_value, "to": updated.current_value}))),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    commit_audited(
        txn,
        &actor,
        "target.update",
        Record {
            kind: "target",
            id,
            department_id: Some(department_id),
        },
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

pub async fn archive(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    id: i32,
    version: i32,
) -> AppResult<target::Model> {
    caller.require(Permission::ManageFindings)?;
    let txn = db::begin_write(db).await?;
    let (current, department_id) = load(&txn, caller, id).await?;
    scope::require_writable(&txn, caller, department_id).await?;
    archive_audited::<target::Entity>(
        txn,
        &caller.actor(request_id),
        COLUMNS,
        Record {
            kind: "target",
            id,
            department_id: Some(department_id),
        },
        &current,
        current.archived_at.is_some(),
        version,
    )
    .await
}
