//! Categories: the feedback headings (方面) findings are grouped under. Managed with the
//! findings, by managers of the inspected unit and admins.

use chrono::Utc;
use entity::{category, inspection};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};

use crate::auth::{Caller, Permission};
use crate::db;
use crate::domain::change::{Record, Versioned, archive_audited, commit_audited, versioned_update};
use crate::domain::ordinal::{self, Numbering};
use crate::domain::{inspection as inspections, scope, text};
use crate::error::{AppError, AppResult};

const COLUMNS: Versioned<category::Column> = Versioned {
    what: "category",
    id: category::Column::Id,
    version: category::Column::Version,
    updated_at: category::Column::UpdatedAt,
    archived_at: category::Column::ArchivedAt,
};

/// The inspection, visible to the caller, whose unit the caller may write.
async fn writable_inspection(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<inspection::Model> {
    let inspection = inspections::get(db, caller, id).await?;
    scope::require_writable(db, caller, inspection.unit_id).await?;
    Ok(inspection)
}

pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    inspection_id: i32,
    ordinal: Option<i32>,
    title: &str,
) -> AppResult<category::Model> {
    caller.require(Permission::ManageFindings)?;
    let title = text::required("title", title, 300)?;
    let txn = db::begin_write(db).await?;
    let inspection = writable_inspection(&txn, caller, inspection_id).await?;
    let numbering = Numbering {
        parent: "inspection",
        child: "category",
        parent_column: category::Column::InspectionId,
        ordinal_column: category::Column::Ordinal,
    };
    let ordinal =
        ordinal::assign::<category::Entity>(&txn, numbering, inspection.id, ordinal).await?;
    let now = Utc::now();
    let created = category::ActiveModel {
        inspection_id: Set(inspection.id),
        ordinal: Set(ordinal),
        title: Set(title),
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
        "category.create",
        Record {
            kind: "category",
            id: created.id,
            department_id: Some(inspection.unit_id),
        },
        None,
        Some(&created),
    )
    .await?;
    Ok(created)
}

/// A category the caller may change, with the inspected unit it belongs to.
async fn load(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<(category::Model, i32)> {
    let current = category::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("category", id))?;
    let inspection = writable_inspection(db, caller, current.inspection_id)
        .await
        .map_err(|err| match err {
            AppError::NotFound(_) => AppError::not_found("category", id),
            other => other,
        })?;
    Ok((current, inspection.unit_id))
}

pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    id: i32,
    version: i32,
    title: &str,
) -> AppResult<category::Model> {
    caller.require(Permission::ManageFindings)?;
    let title = text::required("title", title, 300)?;
    let txn = db::begin_write(db).await?;
    let (current, unit_id) = load(&txn, caller, id).await?;
    let update =
        category::Entity::update_many().col_expr(category::Column::Title, Expr::value(title));
    let updated = versioned_update(&txn, update, COLUMNS, id, version).await?;
    commit_audited(
        txn,
        &caller.actor(request_id),
        "category.update",
        Record {
            kind: "category",
            id,
            department_id: Some(unit_id),
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
) -> AppResult<category::Model> {
    caller.require(Permission::ManageFindings)?;
    let txn = db::begin_write(db).await?;
    let (current, unit_id) = load(&txn, caller, id).await?;
    archive_audited::<category::Entity>(
        txn,
        &caller.actor(request_id),
        COLUMNS,
        Record {
            kind: "category",
            id,
            department_id: Some(unit_id),
        },
        &current,
        current.archived_at.is_some(),
        version,
    )
    .await
}
