//! Categories: the feedback headings (方面) findings are grouped under. Managed with the
//! findings, by managers of the inspected unit and admins.

use chrono::{DateTime, Utc};
use entity::{category, inspection};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::auth::Permission;
use crate::domain::records::change::{self, Kind, Record, Versioned, audited, versioned_update};
use crate::domain::records::ordinal::{self, Numbering};
use crate::domain::{Acting, reads::scope, records::inspection as inspections, records::text};
use crate::error::{AppError, AppResult};

/// The inspection, visible to the caller, whose unit the caller may write.
pub async fn writable_inspection(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
) -> AppResult<inspection::Model> {
    let inspection = inspections::get(db, &who.caller, id).await?;
    scope::require_writable(db, &who.caller, inspection.unit_id).await?;
    Ok(inspection)
}

impl Kind for category::Entity {
    const NAME: &'static str = "category";
    const COLUMNS: Versioned<category::Column> = Versioned {
        id: category::Column::Id,
        version: category::Column::Version,
        updated_at: category::Column::UpdatedAt,
        archived_at: category::Column::ArchivedAt,
    };
    const MANAGE: Permission = Permission::ManageFindings;

    async fn readable(
        db: &impl ConnectionTrait,
        who: &Acting,
        id: i32,
    ) -> AppResult<category::Model> {
        let current = category::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("category", id))?;
        inspections::get(db, &who.caller, current.inspection_id)
            .await
            .map_err(|_| AppError::not_found("category", id))?;
        Ok(current)
    }

    /// A heading belongs to the inspected unit.
    async fn governing(
        db: &impl ConnectionTrait,
        models: &[category::Model],
    ) -> AppResult<Vec<Option<i32>>> {
        let found = crate::domain::reads::relations::inspections(
            db,
            models.iter().map(|c| c.inspection_id),
        )
        .await?;
        Ok(models
            .iter()
            .map(|c| {
                found
                    .iter()
                    .find(|i| i.id == c.inspection_id)
                    .map(|i| i.unit_id)
            })
            .collect())
    }

    fn archived(model: &category::Model) -> bool {
        model.archived_at.is_some()
    }
}

/// What every new heading starts as, whichever road creates it: version 1, created and
/// updated `now`, not archived. Callers set its own fields over it.
pub fn new_row(now: DateTime<Utc>) -> category::ActiveModel {
    category::ActiveModel {
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        ..Default::default()
    }
}

/// A heading's title.
pub fn title(value: &str) -> AppResult<String> {
    text::required("title", value, 300)
}

pub async fn create(
    db: &impl ConnectionTrait,
    who: &Acting,
    inspection_id: i32,
    ordinal: Option<i32>,
    title_text: &str,
) -> AppResult<category::Model> {
    who.require(Permission::ManageFindings)?;
    let title = title(title_text)?;
    let inspection = writable_inspection(db, who, inspection_id).await?;
    let numbering = Numbering {
        parent: "inspection",
        child: "category",
        parent_column: category::Column::InspectionId,
        ordinal_column: category::Column::Ordinal,
    };
    let ordinal =
        ordinal::assign::<category::Entity>(db, numbering, inspection.id, ordinal).await?;
    let created = category::ActiveModel {
        inspection_id: Set(inspection.id),
        ordinal: Set(ordinal),
        title: Set(title),
        ..new_row(who.now())
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "category",
        id: created.id,
        department_id: Some(inspection.unit_id),
    };
    audited(db, who, "category.create", record, None, Some(&created)).await?;
    Ok(created)
}

/// The inspection's heading with this title, created (next number) when there is none.
pub async fn find_or_create(
    db: &impl ConnectionTrait,
    who: &Acting,
    inspection_id: i32,
    title_text: &str,
) -> AppResult<category::Model> {
    let title = title(title_text)?;
    let existing = category::Entity::find()
        .filter(category::Column::InspectionId.eq(inspection_id))
        .filter(category::Column::Title.eq(title.as_str()))
        .filter(category::Column::ArchivedAt.is_null())
        .one(db)
        .await?;
    match existing {
        Some(found) => Ok(found),
        None => create(db, who, inspection_id, None, &title).await,
    }
}

pub async fn update(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
    title_text: &str,
) -> AppResult<category::Model> {
    who.require(Permission::ManageFindings)?;
    let title = title(title_text)?;
    let (current, unit_id) = change::writable::<category::Entity>(db, who, id).await?;
    let update =
        category::Entity::update_many().col_expr(category::Column::Title, Expr::value(title));
    let updated = versioned_update::<category::Entity>(db, update, id, version).await?;
    let record = Record {
        kind: "category",
        id,
        department_id: unit_id,
    };
    audited(
        db,
        who,
        "category.update",
        record,
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}
