//! Findings (问题): reading within scope and editing with optimistic concurrency.

use chrono::{NaiveDate, Utc};
use entity::enums::RectificationType;
use entity::finding;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use crate::audit::{self, Change};
use crate::auth::{Caller, Permission};
use crate::db;
use crate::domain::{department, scope, text};
use crate::error::{AppError, AppResult};

/// Changes to a finding; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Default)]
pub struct FindingPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub rectification_type: Option<RectificationType>,
    pub deadline: Option<Option<NaiveDate>>,
    pub responsible_leader: Option<Option<String>>,
    pub responsible_person: Option<Option<String>>,
    pub department_code: Option<String>,
}

pub fn snapshot(f: &finding::Model) -> serde_json::Value {
    json!({
        "inspection_id": f.inspection_id,
        "category_id": f.category_id,
        "ordinal": f.ordinal,
        "title": f.title,
        "description": f.description,
        "rectification_type": f.rectification_type,
        "status": f.status,
        "deadline": f.deadline,
        "responsible_leader": f.responsible_leader,
        "department_id": f.department_id,
        "responsible_person": f.responsible_person,
        "version": f.version,
        "archived_at": f.archived_at,
    })
}

/// Edits a finding the caller may write, if it is still at `version`.
pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    id: i32,
    version: i32,
    patch: FindingPatch,
) -> AppResult<finding::Model> {
    caller.require(Permission::ManageFindings)?;
    let txn = db::begin_write(db).await?;
    let current = scope::finding(&txn, caller, id).await?;
    scope::require_writable(&txn, caller, current.department_id).await?;

    let mut update = finding::Entity::update_many()
        .col_expr(finding::Column::Version, Expr::value(version + 1))
        .col_expr(finding::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(finding::Column::Id.eq(id))
        .filter(finding::Column::Version.eq(version));
    if let Some(title) = patch.title {
        update = update.col_expr(
            finding::Column::Title,
            Expr::value(text::required("title", &title, 500)?),
        );
    }
    if let Some(description) = patch.description {
        update = update.col_expr(
            finding::Column::Description,
            Expr::value(text::optional("description", &description, 20_000)?.unwrap_or_default()),
        );
    }
    if let Some(kind) = patch.rectification_type {
        update = update.col_expr(
            finding::Column::RectificationType,
            Expr::value(kind.as_str()),
        );
    }
    if let Some(deadline) = patch.deadline {
        update = update.col_expr(finding::Column::Deadline, Expr::value(deadline));
    }
    if let Some(leader) = patch.responsible_leader {
        let leader = leader
            .map(|l| text::optional("responsibleLeader", &l, 100))
            .transpose()?
            .flatten();
        update = update.col_expr(finding::Column::ResponsibleLeader, Expr::value(leader));
    }
    if let Some(person) = patch.responsible_person {
        let person = person
            .map(|p| text::optional("responsiblePerson", &p, 100))
            .transpose()?
            .flatten();
        update = update.col_expr(finding::Column::ResponsiblePerson, Expr::value(person));
    }
    if let Some(code) = patch.department_code {
        let dept = department::find_by_code(&txn, code.trim())
            .await?
            .filter(|d| d.archived_at.is_none())
            .ok_or_else(|| {
                AppError::bad_input(
                    "departmentCode",
                    format!("no department with code '{code}'"),
                )
            })?;
        // Handing a finding to a department outside one's own would lose it from view.
        scope::require_writable(&txn, caller, dept.id).await?;
        update = update.col_expr(finding::Column::DepartmentId, Expr::value(dept.id));
    }
    let result = update.exec(&txn).await?;
    if result.rows_affected == 0 {
        return Err(AppError::Conflict(format!(
            "finding {id} changed since version {version} was read (now version {})",
            current.version
        )));
    }
    let updated = finding::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("finding", id))?;
    audit::record(
        &txn,
        &caller.actor(request_id),
        Change {
            action: "finding.update",
            entity_type: "finding",
            entity_id: id.to_string(),
            before: Some(snapshot(&current)),
            after: Some(snapshot(&updated)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
