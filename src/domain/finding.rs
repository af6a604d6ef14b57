//! Findings (问题): creating, editing and archiving, within the caller's scope.

use chrono::{NaiveDate, Utc};
use entity::enums::{FindingStatus, RectificationType};
use entity::{category, finding, inspection};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};

use crate::auth::{Caller, Permission};
use crate::db;
use crate::domain::change::{Record, Versioned, archive_audited, commit_audited, versioned_update};
use crate::domain::ordinal::{self, Numbering};
use crate::domain::{department, scope, text};
use crate::error::{AppError, AppResult};

const COLUMNS: Versioned<finding::Column> = Versioned {
    what: "finding",
    id: finding::Column::Id,
    version: finding::Column::Version,
    updated_at: finding::Column::UpdatedAt,
    archived_at: finding::Column::ArchivedAt,
};

pub struct NewFinding {
    pub inspection_id: i32,
    pub category_id: Option<i32>,
    /// Next free number when not given.
    pub ordinal: Option<i32>,
    pub title: String,
    pub description: String,
    pub rectification_type: RectificationType,
    pub deadline: Option<NaiveDate>,
    pub responsible_leader: Option<String>,
    pub department_code: String,
    pub responsible_person: Option<String>,
}

/// Changes to a finding; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Default)]
pub struct FindingPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub rectification_type: Option<RectificationType>,
    pub category_id: Option<Option<i32>>,
    pub deadline: Option<Option<NaiveDate>>,
    pub responsible_leader: Option<Option<String>>,
    pub responsible_person: Option<Option<String>>,
    pub department_code: Option<String>,
}

fn person(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    value
        .map(|v| text::optional(field, &v, 100))
        .transpose()
        .map(Option::flatten)
}

/// Checks that a category belongs to the inspection.
async fn check_category(
    db: &impl sea_orm::ConnectionTrait,
    inspection_id: i32,
    category_id: i32,
) -> AppResult<()> {
    let found = category::Entity::find_by_id(category_id)
        .one(db)
        .await?
        .filter(|c| c.inspection_id == inspection_id && c.archived_at.is_none());
    match found {
        Some(_) => Ok(()),
        None => Err(AppError::bad_input(
            "categoryId",
            format!("inspection {inspection_id} has no category {category_id}"),
        )),
    }
}

/// Adds a finding to an inspection (managers for their subtree, admins).
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    input: NewFinding,
) -> AppResult<finding::Model> {
    caller.require(Permission::ManageFindings)?;
    let title = text::required("title", &input.title, 500)?;
    let description =
        text::optional("description", &input.description, 20_000)?.unwrap_or_default();
    let leader = person("responsibleLeader", input.responsible_leader)?;
    let responsible = person("responsiblePerson", input.responsible_person)?;
    let txn = db::begin_write(db).await?;
    let inspection = inspection::Entity::find_by_id(input.inspection_id)
        .one(&txn)
        .await?
        .filter(|i| i.archived_at.is_none())
        .ok_or_else(|| {
            AppError::bad_input(
                "inspectionId",
                format!("no inspection {}", input.inspection_id),
            )
        })?;
    if let Some(category_id) = input.category_id {
        check_category(&txn, inspection.id, category_id).await?;
    }
    let department_id =
        department::assignable(&txn, caller, "departmentCode", &input.department_code).await?;
    let numbering = Numbering {
        parent: "inspection",
        child: "finding",
        parent_column: finding::Column::InspectionId,
        ordinal_column: finding::Column::Ordinal,
    };
    let ordinal =
        ordinal::assign::<finding::Entity>(&txn, numbering, inspection.id, input.ordinal).await?;
    let now = Utc::now();
    let created = finding::ActiveModel {
        inspection_id: Set(inspection.id),
        category_id: Set(input.category_id),
        ordinal: Set(ordinal),
        title: Set(title),
        description: Set(description),
        rectification_type: Set(input.rectification_type),
        status: Set(FindingStatus::NotStarted),
        deadline: Set(input.deadline),
        responsible_leader: Set(leader),
        department_id: Set(department_id),
        responsible_person: Set(responsible),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    commit_audited(
        txn,
        &caller.actor(request_id),
        "finding.create",
        Record {
            kind: "finding",
            id: created.id,
            department_id: Some(created.department_id),
        },
        None,
        Some(&created),
    )
    .await?;
    Ok(created)
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

    let mut update = finding::Entity::update_many();
    if let Some(title) = patch.title {
        update = update.col_expr(
            finding::Column::Title,
            Expr::value(text::required("title", &title, 500)?),
        );
    }
    if let Some(description) = patch.description {
        let description = text::optional("description", &description, 20_000)?.unwrap_or_default();
        update = update.col_expr(finding::Column::Description, Expr::value(description));
    }
    if let Some(kind) = patch.rectification_type {
        update = update.col_expr(
            finding::Column::RectificationType,
            Expr::value(kind.as_str()),
        );
    }
    if let Some(category_id) = patch.category_id {
        if let Some(category_id) = category_id {
            check_category(&txn, current.inspection_id, category_id).await?;
        }
        update = update.col_expr(finding::Column::CategoryId, Expr::value(category_id));
    }
    if let Some(deadline) = patch.deadline {
        update = update.col_expr(finding::Column::Deadline, Expr::value(deadline));
    }
    if let Some(leader) = patch.responsible_leader {
        update = update.col_expr(
            finding::Column::ResponsibleLeader,
            Expr::value(person("responsibleLeader", leader)?),
        );
    }
    if let Some(responsible) = patch.responsible_person {
        update = update.col_expr(
            finding::Column::ResponsiblePerson,
            Expr::value(person("responsiblePerson", responsible)?),
        );
    }
    if let Some(code) = patch.department_code {
        let department_id = department::assignable(&txn, caller, "departmentCode", &code).await?;
        update = update.col_expr(finding::Column::DepartmentId, Expr::value(department_id));
    }
    let updated = versioned_update(&txn, update, COLUMNS, id, version).await?;
    commit_audited(
        txn,
        &caller.actor(request_id),
        "finding.update",
        Record {
            kind: "finding",
            id,
            department_id: Some(updated.department_id),
        },
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

/// Archives a finding (soft delete): it leaves the lists, and keeps its ledger and history.
pub async fn archive(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    id: i32,
    version: i32,
) -> AppResult<finding::Model> {
    caller.require(Permission::ManageFindings)?;
    let txn = db::begin_write(db).await?;
    let current = scope::finding(&txn, caller, id).await?;
    scope::require_writable(&txn, caller, current.department_id).await?;
    archive_audited::<finding::Entity>(
        txn,
        &caller.actor(request_id),
        COLUMNS,
        Record {
            kind: "finding",
            id,
            department_id: Some(current.department_id),
        },
        &current,
        current.archived_at.is_some(),
        version,
    )
    .await
}
